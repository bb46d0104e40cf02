"""Sitting sessions and breaks (SPEC section 3).

A session runs from sitting down to standing up. An absence shorter than
break_min_s does not end it (and is not a break); one of break_min_s or more
is a break, and the session ended when the person stood up.
"""

from __future__ import annotations

from device.config import Breaks
from device.core.events import Session


class SessionTracker:
    """Groups sit / stand transitions into sessions; counts breaks."""

    __slots__ = ("start", "away_since", "prompts", "breaks", "_break_min_s")

    def __init__(self, breaks: Breaks):
        self.start: float | None = None  # start of the open session
        self.away_since: float | None = None  # stand time of a running absence
        self.prompts: list[str] = []
        self.breaks = 0
        self.configure(breaks)

    def configure(self, breaks: Breaks) -> None:
        self._break_min_s = breaks.break_min_s

    @property
    def open(self) -> bool:
        return self.start is not None

    def sat_down(self, t: float) -> bool:
        """The person sat down at t; True when this starts a new session."""
        self.away_since = None
        if self.start is None:
            self.start = t
            self.prompts = []
            return True
        return False

    def stood_up(self, t: float) -> None:
        self.away_since = t

    def check_break(self, t: float, returning_at: float | None = None) -> Session | None:
        """At time t: if the absence has lasted break_min_s, end the session and return it.

        returning_at: the load reached seated_kg again at this time and the
        sit hold is still running. If that was within break_min_s of standing
        up, the absence may yet be a short one (it is measured from stand to
        sit, crossing to crossing): the decision waits for the hold.
        """
        if (
            returning_at is not None
            and self.away_since is not None
            and returning_at - self.away_since < self._break_min_s
        ):
            return None
        if self.away_since is not None and self.start is not None and t - self.away_since >= self._break_min_s:
            session = Session(self.start, self.away_since, tuple(self.prompts))
            self.breaks += 1
            self.start = None
            self.away_since = None
            return session
        return None

    def abandon(self, t: float) -> Session | None:
        """No usable data for too long: end an open session at t without counting a break."""
        if self.start is None:
            return None
        end = self.away_since if self.away_since is not None else t
        session = Session(self.start, end, tuple(self.prompts))
        self.start = None
        self.away_since = None
        return session

    def at_end(self) -> Session | None:
        """End of the recording: the open session, if any.

        Seated at the end: end is None. Away for less than break_min_s at the
        end: the session ended when the person stood up (no break is counted:
        the recording stopped before it could be one).
        """
        if self.start is None:
            return None
        return Session(self.start, self.away_since, tuple(self.prompts))
