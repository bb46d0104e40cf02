"""Where the daemon's frames come from: the HX711s, or a simulated sitter.

A source's `read()` returns the frames that arrived since the last call (a
FrameBlock, possibly empty) and never blocks for long, so the daemon's loop
stays responsive to signals, the button and settings.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import numpy as np

from device.core.frames import MISSING, FrameBlock


def _block(times: list[float], rows: list[list[int]]) -> FrameBlock:
    return FrameBlock(np.array(times, dtype=np.float64), np.array(rows, dtype=np.int64).reshape(-1, 4))


class SensorSource:
    """Frames read from an HX711Array for about `batch_s` per call; t is time.monotonic().

    on_close: called after the array is closed (e.g. resetting the mock pins
    a simulated array was plugged into).
    """

    def __init__(self, array, batch_s: float = 0.1, on_close: Callable[[], object] | None = None):
        self.array = array
        self.batch_s = batch_s
        self._on_close = on_close
        self.frames = 0
        self.missing = 0

    @property
    def dropped(self) -> int:
        """Frames the driver read but rejected (disturbed reads), since start."""
        return self.array.stats.frames_dropped

    def read(self) -> FrameBlock:
        times: list[float] = []
        rows: list[list[int]] = []
        until = time.monotonic() + self.batch_s
        while time.monotonic() < until:
            frame = self.array.read_frame()
            times.append(frame.t)
            row = [MISSING if v is None else v for v in frame.raw]
            self.missing += row.count(MISSING)
            rows.append(row)
        self.frames += len(times)
        return _block(times, rows)

    def wall_of(self, t: float) -> datetime:
        """Wall-clock label of a monotonic frame time (the wall clock may jump; labels only)."""
        return datetime.now().astimezone() - timedelta(seconds=time.monotonic() - t)

    def close(self) -> None:
        try:
            self.array.close()
        finally:
            if self._on_close is not None:
                self._on_close()
                self._on_close = None


class SimulatedSource:
    """Frames of a Simulation, released at `speed` times real time.

    Frame time t is the simulation's own clock; wall labels are `start_wall + t`,
    so a simulated day at --speed 500 fills the history as a real day would.
    `speed=0` releases frames as fast as they can be made.
    """

    def __init__(
        self,
        sim,
        speed: float = 1.0,
        start_wall: datetime | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        batch_s: float = 0.1,
    ):
        self.sim = sim
        self.speed = speed
        self.start_wall = start_wall or datetime.now().astimezone()
        self._clock = clock
        self._sleep = sleep
        self._started = clock()
        self._blocks: Iterator[FrameBlock] = sim.blocks(frames_per_block=max(1, int(sim.rate_hz * batch_s)))
        self._pending: FrameBlock | None = None
        self.batch_s = batch_s
        self.frames = 0
        self.missing = 0
        self.dropped = 0
        self.finished = False

    def read(self) -> FrameBlock:
        if self.finished:
            return _block([], [])
        if self._pending is None:
            self._pending = next(self._blocks, None)
            if self._pending is None:
                self.finished = True
                return _block([], [])
        block = self._pending
        if self.speed > 0:
            due = self._started + float(block.t[-1]) / self.speed
            wait = due - self._clock()
            if wait > 0:
                self._sleep(min(wait, self.batch_s))
                if due > self._clock():
                    return _block([], [])
        self._pending = None
        self.frames += len(block)
        self.missing += int((block.raw == MISSING).sum())
        return block

    def wall_of(self, t: float) -> datetime:
        return self.start_wall + timedelta(seconds=t)

    def close(self) -> None:
        self.finished = True
