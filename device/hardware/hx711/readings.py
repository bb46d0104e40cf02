"""What the driver hands out and counts: frames, statistics, and the glitch filter."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

from device.hardware.hx711.datasheet import (
    trailing_ones,
)

log = logging.getLogger("device.hardware.hx711")


@dataclass(frozen=True, slots=True)
class Frame:
    """One reading of every chip.

    ``t`` is the array's ``timebase.monotonic()`` (time.monotonic() unless
    told otherwise) when the clock train began; ``raw`` holds signed
    24-bit counts in channel order, None where a channel gave no reading;
    ``faults`` names the channels that are not answering (or answer again but
    have not settled yet); ``rails`` the ones reading a rail value (passed
    on: the pipeline decides); ``glitches`` the ones whose reading was
    rejected as a mid-read glitch (None in ``raw``).
    """

    t: float
    raw: tuple[int | None, ...]
    faults: tuple[str, ...] = ()
    rails: tuple[str, ...] = ()
    glitches: tuple[str, ...] = ()


@dataclass(slots=True)
class HX711Stats:
    """Counters since the array was opened.

    ``dropped`` counts frames read but not passed on, by reason: ``sck_high``
    (a clock pulse over ``max_high_s`` but not over ``power_down_s``, so no
    chip can have powered down), ``power_down`` (one over 60 us: the chips
    were resynchronised), ``dout_not_high`` (a DOUT still low after the 25th
    pulse), ``slow_read`` (the train took over half a conversion period),
    ``settling`` (a chip read had not settled since a reset: one of its 4
    settling conversions).
    """

    frames: int = 0
    dropped: Counter = field(default_factory=Counter)
    discarded: int = 0  # settling conversions read and thrown away (one per chip)
    resyncs: int = 0  # power cycles
    faults: int = 0  # a chip stopped answering
    glitches: int = 0  # readings rejected as glitches
    rails: int = 0  # rail readings passed on
    clock_pulses: int = 0
    pin_writes: int = 0
    pin_reads: int = 0  # one per DOUT sampled (one per group read on lgpio)
    worst_high_s: float = 0.0

    @property
    def pin_ops(self) -> int:
        return self.pin_writes + self.pin_reads

    @property
    def frames_dropped(self) -> int:
        return sum(self.dropped.values())


class GlitchFilter:
    """Rejects single readings that look like DOUT went high mid-read.

    Such a reading has its low ``min_run`` or more bits all ones (a small
    value turns into 2**n - 1, e.g. 4194303). It is rejected only if it also
    jumps more than ``min_jump`` counts from the channel's last accepted value
    and is not a repeat of the reading before, so a genuine -1 (0xFFFFFF) near
    zero, a genuine 0 (no run of ones) and a chip that really sits at a rail
    all pass.
    """

    def __init__(self, channels: int, min_run: int = 12, min_jump: int = 4096):
        self.min_run = min_run
        self.min_jump = min_jump
        self._last: list[int | None] = [None] * channels
        self._prev: list[int | None] = [None] * channels

    def accept(self, channel: int, value: int) -> bool:
        prev = self._prev[channel]
        self._prev[channel] = value
        last = self._last[channel]
        if (
            last is not None
            and value != prev
            and trailing_ones(value) >= self.min_run
            and abs(value - last) > self.min_jump
        ):
            return False
        self._last[channel] = value
        return True
