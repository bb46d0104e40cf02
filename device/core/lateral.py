"""Lateral excursions (SPEC section 3): sustained leans and brief twists / reaches.

An excursion starts when |lat| >= lean_start and ends when |lat| < lean_end
has held lean_end_hold_s: its end is the moment that hold is complete (as
the SPEC's example report has it: a twist is known at its end), so it lasts
from the start to lean_end_hold_s after |lat| fell back. It also ends when
the weight swings straight to the other side (|lat| >= lean_start with the
opposite sign, without that hold): a new excursion starts there, on the
other side. The swung-from one ends where |lat| last fell under lean_end,
or at the swing if it never did (a swing within one frame).

Lasting lean_min_s or more an excursion is a lean, on the side it started
on; shorter with a peak of twist_peak or more on that side it is a twist. A
shorter one that never reached twist_peak is neither, but it was a movement
all the same: `ended` tells the caller its span, so the stillness clock
restarts at its start and end as at every excursion's (SPEC: "every lateral
excursion").
"""

from __future__ import annotations

from device.config import Detect
from device.core.events import Lean, Twist


class LateralDetector:
    """Feed smoothed lat while the seated data is usable; returns finished leans and twists.

    `lean_detected_at` is set once the running excursion has become a lean, so
    a caller can act on a lean while it lasts.
    """

    __slots__ = (
        "_start_at",
        "_end_below",
        "_end_hold",
        "_lean_min",
        "_twist_peak",
        "start",
        "side",
        "peak",
        "_below_since",
        "lean_detected_at",
        "transitions",
        "ended",
    )

    def __init__(self, detect: Detect):
        self.configure(detect)
        self.start: float | None = None
        self.side = 1.0  # +1 right, -1 left: where the running excursion started
        self.peak = 0.0  # its furthest |lat| on that side
        self._below_since: float | None = None
        self.lean_detected_at: float | None = None
        # Times the excursion state changed (starts, and returns below lean_end),
        # so movements that belong to an excursion are not counted as fidgets.
        self.transitions: list[float] = []
        # (start, end) of the excursion the last update or cut finished, whatever it was.
        self.ended: tuple[float, float] | None = None

    def configure(self, detect: Detect) -> None:
        """Take new thresholds; a running excursion is kept."""
        self._start_at = detect.lean_start
        self._end_below = detect.lean_end
        self._end_hold = detect.lean_end_hold_s
        self._lean_min = detect.lean_min_s
        self._twist_peak = detect.twist_peak

    @property
    def active(self) -> bool:
        return self.start is not None

    @property
    def undecided(self) -> bool:
        """An excursion is running that may yet be a twist, a lean or nothing,
        or a lean whose end is being confirmed."""
        return self.start is not None and (self.lean_detected_at is None or self._below_since is not None)

    def update(self, t: float, lat: float, now: float) -> Lean | Twist | None:
        self.ended = None
        size = lat if lat >= 0.0 else -lat
        start = self.start
        if start is None:
            if size >= self._start_at:
                self._begin(t, lat, size)
            return None
        if size >= self._start_at and lat * self.side < 0.0:
            # Straight to the other side: this excursion ends, another begins.
            end = self._below_since if self._below_since is not None else t
            finished = self._finish(end, now)
            self._begin(t, lat, size)
            return finished
        if size >= self._end_below:
            if self._below_since is not None:
                self._below_since = None
                self._note_transition(t)
            if lat * self.side > self.peak:
                self.peak = lat * self.side
        elif self._below_since is None:
            self._below_since = t
            self._note_transition(t)
        elif t - self._below_since >= self._end_hold:
            return self._finish(self._below_since + self._end_hold, now)
        if self.lean_detected_at is None and t - start >= self._lean_min:
            # It has lasted lean_min_s and has not ended: a lean, whatever follows.
            self.lean_detected_at = now
        return None

    def _begin(self, t: float, lat: float, size: float) -> None:
        self.start = t
        self.side = 1.0 if lat >= 0.0 else -1.0
        self.peak = size
        self._below_since = None
        self.lean_detected_at = None
        self._note_transition(t)

    def cut(self, t: float, now: float) -> Lean | Twist | None:
        """The person stood up at t: a lean ends there; a shorter excursion was part of standing up."""
        if self.start is None:
            return None
        end = t if self._below_since is None else min(t, self._below_since + self._end_hold)
        if end - self.start >= self._lean_min:
            return self._finish(end, now)
        self.discard()
        return None

    def discard(self) -> None:
        """Forget the running excursion (it was an artefact of a fault)."""
        self.start = None
        self._below_since = None
        self.lean_detected_at = None

    def discard_since(self, t: float) -> None:
        """Forget the running excursion if it started at or after t."""
        if self.start is not None and self.start >= t:
            self.discard()

    def _note_transition(self, t: float) -> None:
        transitions = self.transitions
        transitions.append(t)
        if len(transitions) > 8:
            del transitions[0]

    def _finish(self, end: float, now: float) -> Lean | Twist | None:
        start = self.start
        assert start is not None
        side = "right" if self.side > 0.0 else "left"
        peak = round(self.peak, 3)
        self.start = None
        self._below_since = None
        self.ended = (start, end)
        detected_at, self.lean_detected_at = self.lean_detected_at, None
        if end - start >= self._lean_min:
            return Lean(side, start, end, peak, detected_at if detected_at is not None else now)
        if self.peak >= self._twist_peak:
            return Twist(side, start, end, peak, now)
        return None
