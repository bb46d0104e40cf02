"""Seated / away (SPEC section 3): hysteresis on the seated load with hold times."""

from __future__ import annotations

from device.config import Detect
from device.core.events import Sit, Stand

# A channel frozen from this soon after the load crossed seated_kg may be
# what carried it over: the bin of a jump still changes, the next does not.
_FROZEN_SLACK_S = 0.25


class Presence:
    """Seated once T >= seated_kg has held seated_hold_s; away once T < away_kg has held away_hold_s.

    The event's t is when the load crossed the threshold, not when the hold
    ended. A bag or laptop (a few kg) never reaches seated_kg.

    A sit is not confirmed while a channel has been frozen on one value
    since (about) the crossing: a channel stuck at a high value on an empty
    cushion would otherwise lift T over seated_kg for the 1.5 s hold before
    its stuck fault (2 s) is known. Once the fault is known the load is
    judged without it; a live channel's noise never freezes it that long.
    """

    __slots__ = ("seated", "_seated_kg", "_away_kg", "_seated_hold", "_away_hold", "_crossed_at")

    def __init__(self, detect: Detect):
        self.seated = False
        self._crossed_at: float | None = None  # start of the current hold, if any
        self.configure(detect)

    def configure(self, detect: Detect) -> None:
        """Take new thresholds; the seated state and a running hold are kept."""
        self._seated_kg = detect.seated_kg
        self._away_kg = detect.away_kg
        self._seated_hold = detect.seated_hold_s
        self._away_hold = detect.away_hold_s

    @property
    def arriving_since(self) -> float | None:
        """Away, but the load has reached seated_kg at this time and the hold is running."""
        return self._crossed_at if not self.seated else None

    @property
    def leaving(self) -> bool:
        """Seated, but the load has dropped below away_kg and the hold is running."""
        return self.seated and self._crossed_at is not None

    def update(
        self, t_first: float, t: float, total_kg: float, now: float, frozen_since: float | None = None
    ) -> Sit | Stand | None:
        """Feed the seated load T (kg) of a bin spanning t_first..t; returns a Sit or Stand once confirmed.

        frozen_since: when a channel began repeating one value (see above), if one is."""
        if self.seated:
            if total_kg < self._away_kg:
                if self._crossed_at is None:
                    self._crossed_at = t_first
                if t - self._crossed_at >= self._away_hold:
                    self.seated = False
                    crossed, self._crossed_at = self._crossed_at, None
                    return Stand(crossed, now)
            else:
                self._crossed_at = None
        else:
            if total_kg >= self._seated_kg:
                if self._crossed_at is None:
                    self._crossed_at = t_first
                if t - self._crossed_at >= self._seated_hold and not (
                    frozen_since is not None and frozen_since <= self._crossed_at + _FROZEN_SLACK_S
                ):
                    self.seated = True
                    crossed, self._crossed_at = self._crossed_at, None
                    return Sit(crossed, now)
            else:
                self._crossed_at = None
        return None

    def reset(self) -> None:
        """Forget everything (no usable data for a long time): back to away, no hold."""
        self.seated = False
        self._crossed_at = None
