"""What the daemon notices about its clocks: frames that stopped coming, a wall clock that stepped.

Both are logged once each: a stall (SIGSTOP, a debugger, a process starved
of CPU) with the frames it cost, and a step of the wall clock (NTP setting a
Pi without a real-time clock, a person changing it), which labels stored rows
and, stepping back, makes wall minutes come round twice (each holds at most 60 s).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

import numpy as np

log = logging.getLogger("cushion")

STALL_S = 1.0  # frames stopping this long is the daemon stopped or starved: logged
WALL_STEP_S = 2.0  # the wall clock moving this much against the frame clock is logged


class ClockWatch:
    """Stalls between frames and steps of the wall clock against the frame clock."""

    def __init__(self, frame_period: float, wall_of: Callable[[float], datetime]) -> None:
        self.frame_period = frame_period
        self.wall_of = wall_of
        self._wall_anchor: tuple[float, datetime] | None = None

    def stalled(self, last_t: float, t: np.ndarray) -> bool:
        """Whether frames stopped for more than STALL_S somewhere between last_t and the end of block times t."""
        return float(t[-1]) - last_t > len(t) * self.frame_period + STALL_S

    def missed_frames(self, last_t: float, t: np.ndarray) -> int:
        """Log each stall over STALL_S between last_t and block times t; the frames they cost."""
        times = np.concatenate(([last_t], t))
        gaps = np.diff(times)
        missed_total = 0
        for index in np.flatnonzero(gaps > STALL_S):
            gap = float(gaps[index])
            missed = max(0, round(gap / self.frame_period) - 1)
            missed_total += missed
            log.warning(
                "no frames for %.1f s from %s (the daemon was stopped or starved of CPU): about %d frames missed",
                gap,
                self.wall_of(float(times[index])).strftime("%H:%M:%S"),
                missed,
            )
        return missed_total

    def check_wall_clock(self, t: float) -> None:
        """Log a step of the wall clock since the last check, at frame time t."""
        wall = self.wall_of(t)
        anchor = self._wall_anchor
        self._wall_anchor = (t, wall)
        if anchor is None:
            return
        step = (wall - anchor[1]).total_seconds() - (t - anchor[0])
        if abs(step) >= WALL_STEP_S:
            log.warning(
                "the wall clock stepped %s by %.0f s (now %s); stored times follow it",
                "back" if step < 0 else "forward",
                abs(step),
                wall.isoformat(timespec="seconds"),
            )
