"""Sagittal posture (SPEC section 3): perching forward and slumping back.

sag >= perch_sag held posture_min_s is a perch; sag <= slump_sag held as long
is a slump. The SPEC gives no end rule: a posture ends when sag has been back
out of range for posture_end_hold_s (so a breath or a brief shift does not
split one perch in two), and its end is when it first left the range.
"""

from __future__ import annotations

from device.config import Detect
from device.core.events import Posture


class PostureDetector:
    """Feed smoothed sag while the seated data is usable; returns finished perches and slumps."""

    __slots__ = ("_perch", "_slump", "_min", "_end_hold", "kind", "start", "_out_since", "detected_at")

    def __init__(self, detect: Detect):
        self.configure(detect)
        self.kind: str | None = None  # "perch" or "slump" while in range
        self.start = 0.0
        self._out_since: float | None = None
        self.detected_at: float | None = None  # set once the running posture has lasted posture_min_s

    def configure(self, detect: Detect) -> None:
        """Take new thresholds; a running posture is kept."""
        self._perch = detect.perch_sag
        self._slump = detect.slump_sag
        self._min = detect.posture_min_s
        self._end_hold = detect.posture_end_hold_s

    def update(self, t: float, sag: float, now: float) -> Posture | None:
        kind = self.kind
        if kind is None:
            if sag >= self._perch:
                self._begin("perch", t)
            elif sag <= self._slump:
                self._begin("slump", t)
            return None
        inside = sag >= self._perch if kind == "perch" else sag <= self._slump
        if inside:
            self._out_since = None
            if self.detected_at is None and t - self.start >= self._min:
                self.detected_at = now
            return None
        if self._out_since is None:
            self._out_since = t
            if self.detected_at is None and t - self.start >= self._min:
                self.detected_at = now
            return None
        if t - self._out_since >= self._end_hold:
            return self._finish(self._out_since, now)
        return None

    def cut(self, t: float, now: float) -> Posture | None:
        """The person stood up at t: a posture held long enough ends there."""
        if self.kind is None:
            return None
        end = self._out_since if self._out_since is not None else t
        if end - self.start >= self._min:
            return self._finish(end, now)
        self.kind = None
        return None

    def discard_since(self, t: float) -> None:
        if self.kind is not None and self.start >= t:
            self.kind = None

    def _begin(self, kind: str, t: float) -> None:
        self.kind = kind
        self.start = t
        self._out_since = None
        self.detected_at = None

    def _finish(self, end: float, now: float) -> Posture | None:
        kind, start, detected_at = self.kind, self.start, self.detected_at
        self.kind = None
        if kind is None or end - start < self._min:
            return None
        return Posture(kind, start, end, detected_at if detected_at is not None else now)
