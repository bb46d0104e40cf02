"""When the next conversion will be ready: the boards' conversion period, learnt as frames come."""

from __future__ import annotations

import logging

log = logging.getLogger("device.hardware.hx711")

FAST_RATE_MARGIN = 1.25  # "80 SPS" boards measure up to ~92
GUARD_POLLS = 2  # wake this many poll intervals before the predicted ready


class ReadyCadence:
    """When to look at DOUT again: the chips' conversion period, learned.

    A board's rate is set by its own oscillator ("80 SPS" boards run at
    80-92), so the reader cannot know to the millisecond when the next
    conversion is ready. Polling through the whole uncertainty costs about 10
    looks a frame (and as many wake-ups of a sleeping process); learning the
    period from when the chips are seen to become ready costs about 3, and
    the sleep before them is longer.

    Pure: times in, times out. ``ready(last_busy, seen)`` notes a wait that
    saw the chips busy at ``last_busy`` (None: already ready at the first
    look) and ready at ``seen``, and returns when to look next (None: at
    once). The estimate starts at the fastest a board runs, so the first
    waits never sleep past a conversion, and it only moves on gaps that are
    one conversion long; a wait that finds the chips already ready shortens
    it, so a too-long estimate cannot make each read later than the last,
    and keeps the phase, so one late wake-up costs a few looks, not a
    period of polling.
    """

    SMOOTHING = 0.25

    def __init__(self, period_s: float, poll_s: float):
        self.nominal_s = period_s
        self.period_s = period_s / FAST_RATE_MARGIN
        self.guard_s = GUARD_POLLS * poll_s
        self._shortest = period_s / 1.5
        self._longest = period_s * 1.5
        self._last_mid: float | None = None  # when the last conversion came (estimated)
        self._phase_only = False  # _last_mid is a guess, not a bracket's middle

    def ready(self, last_busy: float | None, seen: float) -> float | None:
        if last_busy is None:
            # It became ready some time before we looked: no bracket, and we
            # may have overslept. Shorten the estimate. The conversion came a
            # period after the last one, or by `seen` at the latest: keep that
            # phase (polling a whole period instead costs ~30 looks, and a
            # wake-up a guard late is common on a loaded machine), but learn
            # no period from it.
            self.period_s = max(self.period_s - self.guard_s, self._shortest)
            if self._last_mid is None:
                return None
            self._last_mid = min(self._last_mid + self.period_s, seen)
            self._phase_only = True
            return self._last_mid + self.period_s - self.guard_s
        mid = (last_busy + seen) / 2
        if self._phase_only:
            self._phase_only = False
        elif self._last_mid is not None:
            gap = mid - self._last_mid
            if 0.6 * self.period_s < gap < 1.4 * self.period_s:  # one conversion apart
                period = self.period_s + self.SMOOTHING * (gap - self.period_s)
                self.period_s = min(max(period, self._shortest), self._longest)
        self._last_mid = mid
        return last_busy + self.period_s - self.guard_s

    def forget(self) -> None:
        """The chips were reset: their conversions start afresh."""
        self._last_mid = None
        self._phase_only = False
