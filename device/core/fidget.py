"""Fidgets (SPEC section 3): quick in-chair shifts of the centre of pressure.

A movement starts when the centre of pressure (0.1 s bins) moves at
fidget_speed_mm_s or faster, measured over the last 0.2 s, and ends once it
has been slower than that for fidget_merge_s, so movements closer together
than that are one. It is a
fidget when it carried the centre of pressure fidget_mm or more from where it
started within fidget_window_s. Its t is when it started, size_mm how far.

A movement is only reported once it can be told apart from what else it
could be: fidget_guard_s after it started (so within 4 s at the defaults).
Rejected meanwhile: movements within fidget_guard_s of sitting down or
standing up, movements that start or end a lateral excursion (they belong to
the lean or twist; deciding which can take longer than the report may wait,
so both are excluded), and movements overlapping a channel fault.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from device.config import Detect
from device.core.events import Fidget

_GAP_S = 0.5  # a data gap longer than this breaks speed estimation
_LEAD_S = 0.25  # measure displacement from where the CoP was this long before the speed crossing
_TRANSITION_SLACK_S = 0.5
_SPEED_BINS = 2  # speed = distance over this many bins / their time


class FidgetDetector:
    __slots__ = (
        "_speed",
        "_size",
        "_window",
        "_merge",
        "_guard",
        "_prev_t",
        "_prev_x",
        "_prev_y",
        "_trail",
        "_moving",
        "_reported",
        "_move_t",
        "_start_x",
        "_start_y",
        "_max_disp",
        "_last_fast",
        "pending",
        "not_before",
    )

    def __init__(self, detect: Detect):
        self.configure(detect)
        self._trail: list[tuple[float, float, float]] = []
        self.pending: list[tuple[float, float, float]] = []  # (t, size_mm, end) awaiting confirmation
        self.not_before = -math.inf  # no movement starting before this counts (after sitting down)
        self.restart()

    def configure(self, detect: Detect) -> None:
        """Take new thresholds; motion state and pending candidates are kept."""
        self._speed = detect.fidget_speed_mm_s
        self._size = detect.fidget_mm
        self._window = detect.fidget_window_s
        self._merge = detect.fidget_merge_s
        self._guard = detect.fidget_guard_s

    @property
    def deciding(self) -> bool:
        """A movement is under way or waiting to be told apart from a twist or a stand-up."""
        return self._moving or bool(self.pending)

    def restart(self) -> None:
        """Forget the motion state (data gap, fault, not seated); pending candidates stay."""
        self._prev_t: float | None = None
        self._prev_x = self._prev_y = 0.0
        self._trail = []
        self._moving = False
        self._reported = False

    def drop_pending_since(self, t: float) -> None:
        """Drop candidates that started at or after t (a stand-up or fault explains them)."""
        self.pending = [c for c in self.pending if c[0] < t]
        if self._moving and self._move_t >= t:
            self._moving = False

    def update(self, t: float, x: float, y: float, now: float, transitions: Sequence[float]) -> Fidget | None:
        """Feed the smoothed centre of pressure (mm) at t; returns a confirmed fidget."""
        prev_t = self._prev_t
        trail = self._trail
        self._prev_t, self._prev_x, self._prev_y = t, x, y
        trail.append((t, x, y))
        if len(trail) > 6:
            del trail[0]
        if prev_t is None:
            return None
        dt = t - prev_t
        if dt > _GAP_S or dt <= 0.0:
            self._moving = False
            return self._confirm(t, now, transitions) if self.pending else None
        return self._step(t, x, y, dt, now, transitions)

    def _step(self, t: float, x: float, y: float, dt: float, now: float, transitions: Sequence[float]) -> Fidget | None:
        trail = self._trail
        # Speed over the last _SPEED_BINS bins (0.2 s): one bin's difference
        # at 10 Hz carries +-2.5 mm/s of noise and sway, enough to lift a slow
        # 35 mm/s shift over 40 now and then; two halve it.
        base = trail[-1 - _SPEED_BINS] if len(trail) > _SPEED_BINS else trail[0]
        speed = math.hypot(x - base[1], y - base[2]) / (t - base[0])
        fast = speed >= self._speed
        if not self._moving:
            if fast:
                self._moving = True
                self._reported = False
                move_t = trail[-2][0]
                origin = trail[-2]
                for point in trail[:-1]:
                    if point[0] >= move_t - _LEAD_S:
                        origin = point
                        break
                self._move_t = move_t
                self._start_x, self._start_y = origin[1], origin[2]
                self._max_disp = math.hypot(x - origin[1], y - origin[2])
                self._last_fast = t
        else:
            if t - self._move_t <= self._window:
                disp = math.hypot(x - self._start_x, y - self._start_y)
                if disp > self._max_disp:
                    self._max_disp = disp
            if fast:
                self._last_fast = t
            if t - self._last_fast >= self._merge:
                self._moving = False
                if not self._reported:
                    self._add_candidate(self._last_fast)
            elif not self._reported and t - self._move_t >= self._guard:
                # Still moving: decide now so the report stays within the guard time.
                self._reported = True
                self._add_candidate(t)
        if self.pending:
            return self._confirm(t, now, transitions)
        return None

    def _add_candidate(self, end: float) -> None:
        if self._max_disp >= self._size and self._move_t >= self.not_before:
            self.pending.append((self._move_t, self._max_disp, end))

    def _confirm(self, t: float, now: float, transitions: Sequence[float]) -> Fidget | None:
        move_t, size, end = self.pending[0]
        if t - move_t < self._guard:
            return None
        del self.pending[0]
        for moment in transitions:
            if move_t - _TRANSITION_SLACK_S <= moment <= end + _TRANSITION_SLACK_S:
                return None
        return Fidget(move_t, round(size, 1), now)
