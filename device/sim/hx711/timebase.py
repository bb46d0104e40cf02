"""The time a simulated chip lives by: the machine's own, or a virtual one the tests move.

RealTime is what a Pi-less run uses (the chips convert and power down in
real time, so a preempted machine's stalls are real); VirtualTime passes
only in sleeps and in stalls a test injects, so timing tests hold on any
machine, however loaded.
"""

from __future__ import annotations

import time


def _spin(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


class RealTime:
    """The machine's own time, as the time module gives it: what a simulated
    chip lives by unless told otherwise. ``stall`` busy-waits, as a preempted
    writer does (it is not asleep: it holds the line where it is)."""

    monotonic = staticmethod(time.monotonic)
    perf_counter = staticmethod(time.perf_counter)
    sleep = staticmethod(time.sleep)
    stall = staticmethod(_spin)


REAL_TIME = RealTime()


class VirtualTime:
    """Simulated seconds for tests: time passes only when someone sleeps or
    stalls in it. Chips, pins and the driver sharing one never see a pulse
    longer than the stalls a test injects, however loaded the machine is.

    Has what the model and the driver use of the time module: ``monotonic()``
    and ``perf_counter()`` (one clock, starting at ``start`` seconds) and
    ``sleep(seconds)``; plus ``stall(seconds)`` (a writer held up) and
    ``oversleep_s``, how late every sleep ends (an operating system wakes a
    sleeping thread late: tens of microseconds on Linux). A pin write or read
    takes no time. Meant for one thread at a time.
    """

    def __init__(self, start: float = 1000.0, oversleep_s: float = 0.0):
        self.now = start
        self.oversleep_s = oversleep_s

    def monotonic(self) -> float:
        return self.now

    perf_counter = monotonic

    def sleep(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        self.now += seconds + self.oversleep_s

    def stall(self, seconds: float) -> None:
        self.now += seconds
