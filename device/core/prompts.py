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

import math

from device.config import Breaks


class PromptScheduler:
    """Decides when to prompt; knows nothing of buzzers or LEDs.

    The schedule is always the one the current settings give, counted from
    the session's start, whatever was configured before: break_due at
    start + break_after_min (once a session), break_overdue at
    start + overdue_after_min + k * repeat_min, the first of those after the
    last overdue given (so none is given twice and none skipped), move
    still_min after the stillness clock last restarted. A prompt whose time
    has already passed when the settings change is given at once. When
    break_due and break_overdue fall due together (after a gap, or settings
    lowered past both), only the overdue is given.
    """

    __slots__ = (
        "_break_after",
        "_overdue_after",
        "_repeat",
        "_still",
        "_session_start",
        "_break_due_given",
        "_last_overdue",
        "_next_overdue",
        "_still_since",
        "break_due_active",
    )

    def __init__(self, breaks: Breaks):
        self._session_start: float | None = None
        self._break_due_given = False
        self._last_overdue: float | None = None  # when the last break_overdue of the session was given
        self._next_overdue = math.inf
        self._still_since = 0.0
        self.break_due_active = False  # a break prompt was given and the break not yet taken
        self.configure(breaks)

    def configure(self, breaks: Breaks) -> None:
        """Take new timings; a running session keeps its start and what it was given."""
        self._break_after = breaks.break_after_min * 60.0
        self._overdue_after = breaks.overdue_after_min * 60.0
        self._repeat = breaks.repeat_min * 60.0
        self._still = breaks.still_min * 60.0
        self._schedule_overdue()

    def _schedule_overdue(self) -> None:
        """The next break_overdue: the first of the session's slots after the last one given."""
        start = self._session_start
        if start is None:
            self._next_overdue = math.inf
            return
        first = start + self._overdue_after
        last = self._last_overdue
        if last is None or last < first:
            self._next_overdue = first
            return
        steps = math.floor((last - first) / self._repeat) + 1
        while first + steps * self._repeat <= last:  # float rounding at an exact slot
            steps += 1
        self._next_overdue = first + steps * self._repeat

    def session_started(self, t: float) -> None:
        self._session_start = t
        self._break_due_given = False
        self._last_overdue = None
        self._still_since = t
        self.break_due_active = False
        self._schedule_overdue()

    def resume(self, given: tuple[str, ...]) -> None:
        """The session was resumed after a restart: these prompts were already given in it.

        When they were given is not kept; the overdue ones count as given at
        their slots, so the next comes at the slot after them.
        """
        if "break_due" in given or "break_overdue" in given:
            self._break_due_given = True
            self.break_due_active = True
        overdue = given.count("break_overdue")
        if overdue and self._session_start is not None:
            self._last_overdue = self._session_start + self._overdue_after + (overdue - 1) * self._repeat
        self._schedule_overdue()

    def session_ended(self) -> None:
        """A break was taken (or the session abandoned): everything clears."""
        self._session_start = None
        self.break_due_active = False
        self._next_overdue = math.inf

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
            self._last_overdue = t
            self._schedule_overdue()
        if not movement_pending and t - self._still_since >= self._still:
            kinds.append("move")
            self._still_since = t
        return kinds
