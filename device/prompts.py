"""Break and movement prompts (SPEC section 3): pure scheduling on the frame clock.

Continuous sitting time is time since the session started. break_due comes
at break_after_min, break_overdue at overdue_after_min and every repeat_min
after it. move comes after still_min without movement; the stillness clock
restarts at sitting down, at every movement the detectors report (fidget,
start and end of a lean or twist, of a perch or slump) and at each move
prompt.

Decisions where the SPEC is silent: a prompt that falls due during a short
absence is given when the person is seated again (never while away); a move
prompt that falls due while a movement is still being told apart (a pending
fidget, a lateral excursion that may yet become a lean or twist) waits until
that is settled, at most a few seconds; after a gap in the data, a prompt
kind that fell due several times is given once.
"""

from __future__ import annotations

from device.config import Breaks


class PromptScheduler:
    """Decides when to prompt; knows nothing of buzzers or LEDs."""

    __slots__ = (
        "_break_after", "_overdue_after", "_repeat", "_still",
        "_session_start", "_break_due_given", "_next_overdue", "_still_since",
        "break_due_active",
    )

    def __init__(self, breaks: Breaks):
        self._session_start: float | None = None
        self._break_due_given = False
        self._next_overdue = 0.0
        self._still_since = 0.0
        self.break_due_active = False  # a break prompt was given and the break not yet taken
        self.configure(breaks)

    def configure(self, breaks: Breaks) -> None:
        """Take new timings; a running session keeps its start, the next overdue moves to the new schedule."""
        self._break_after = breaks.break_after_min * 60.0
        self._overdue_after = breaks.overdue_after_min * 60.0
        self._repeat = breaks.repeat_min * 60.0
        self._still = breaks.still_min * 60.0
        start = self._session_start
        if start is not None:
            first = start + self._overdue_after
            if self._next_overdue <= first:
                self._next_overdue = first
            else:  # already past the first overdue: next step of the new repeat
                steps = -(-(self._next_overdue - first) // self._repeat)
                self._next_overdue = first + steps * self._repeat

    def session_started(self, t: float) -> None:
        self._session_start = t
        self._break_due_given = False
        self._next_overdue = t + self._overdue_after
        self._still_since = t
        self.break_due_active = False

    def resume(self, given: tuple[str, ...]) -> None:
        """The session was resumed after a restart: these prompts were already given in it."""
        if "break_due" in given or "break_overdue" in given:
            self._break_due_given = True
            self.break_due_active = True
        self._next_overdue += self._repeat * given.count("break_overdue")

    def session_ended(self) -> None:
        """A break was taken (or the session abandoned): everything clears."""
        self._session_start = None
        self.break_due_active = False

    def sat_down(self, t: float) -> None:
        """Back from a short absence: the stillness clock restarts."""
        self.movement(t)

    def movement(self, t: float) -> None:
        """A movement happened at signal time t (possibly learnt a few seconds later)."""
        if t > self._still_since:
            self._still_since = t

    def next_due(self) -> tuple[str, float] | None:
        """The next prompt kind and the frame time it falls due, for a live display."""
        if self._session_start is None:
            return None
        candidates = [("move", self._still_since + self._still)]
        if not self._break_due_given:
            candidates.append(("break_due", self._session_start + self._break_after))
        candidates.append(("break_overdue", self._next_overdue))
        return min(candidates, key=lambda item: item[1])

    def due(self, t: float, movement_pending: bool) -> list[str]:
        """Prompt kinds to give at time t while seated (call only when seated)."""
        start = self._session_start
        if start is None:
            return []
        kinds: list[str] = []
        if not self._break_due_given and t - start >= self._break_after:
            self._break_due_given = True
            self.break_due_active = True
            if t < self._next_overdue:
                kinds.append("break_due")
        if t >= self._next_overdue:
            kinds.append("break_overdue")
            self.break_due_active = True
            self._break_due_given = True
            while self._next_overdue <= t:
                self._next_overdue += self._repeat
        if not movement_pending and t - self._still_since >= self._still:
            kinds.append("move")
            self._still_since = t
        return kinds
