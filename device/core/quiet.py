"""When the buzzer may sound: quiet hours, snooze, mute, and a rate guard.

Pure logic, no GPIO and no clock: every wall-clock time and every frame time
comes in as an argument. The daemon asks :meth:`SnoozeState.buzzer_allowed`
before it sounds a prompt and :meth:`PromptGate.allow` before it sounds or
shows one; the prompt is recorded either way (SPEC section 3: quiet hours
mute the buzzer but still record the prompt).

Wall-clock times are ``datetime`` objects in local time, naive or aware (but
the same kind throughout: Python cannot compare the two). Quiet hours and the
end of a day's mute are read off the wall clock (``when.time()``,
``when.date()``), so a daylight-saving change moves them with the clock on
the wall, as a person would expect.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from device.config import Breaks, QuietRange, check_value, key

PROMPT_KINDS = ("break_due", "break_overdue", "move")


class QuietHours:
    """The wall-clock stretches in which the buzzer stays silent.

    :param ranges: QuietRange values (``Breaks.quiet_hours``) or "HH:MM-HH:MM"
        strings, checked as the config's key is (a ConfigError naming it);
        each may wrap midnight, several may be given, none means never
        quiet. The start minute is quiet, the end minute is not:
        "22:00-07:00" is quiet from 22:00:00 up to 06:59:59.
    """

    __slots__ = ("ranges",)

    def __init__(self, ranges: Iterable[QuietRange | str] = ()):
        self.ranges: tuple[QuietRange, ...] = check_value("quiet hours", key("breaks", "quiet_hours"), list(ranges))

    @classmethod
    def from_breaks(cls, breaks: Breaks) -> QuietHours:
        return cls(breaks.quiet_hours)

    def is_quiet(self, when: datetime) -> bool:
        """Is the wall-clock time `when` inside any quiet range?"""
        clock = when.time()
        seconds = clock.hour * 3600 + clock.minute * 60 + clock.second + clock.microsecond / 1e6
        weekday = when.weekday()
        return any(r.contains(seconds, weekday) for r in self.ranges)

    def quiet_until(self, when: datetime, step_min: int = 1, horizon_h: int = 8 * 24) -> datetime | None:
        """When the quiet stretch holding `when` ends (to the minute), or None if `when` is not quiet.

        Found by stepping forward a minute at a time (ranges are whole minutes),
        so ranges that touch or overlap ("Mon-Fri 18:00-08:00" then Saturday,
        all day) read as one stretch; at most `horizon_h` ahead (every day quiet:
        the end of that horizon)."""
        if not self.is_quiet(when):
            return None
        moment = when.replace(second=0, microsecond=0)
        for _ in range(horizon_h * 60 // step_min):
            moment += timedelta(minutes=step_min)
            if not self.is_quiet(moment):
                return moment
        return moment

    def __bool__(self) -> bool:
        return bool(self.ranges)

    def __repr__(self) -> str:
        return f"QuietHours({[str(r) for r in self.ranges]!r})"


class SnoozeState:
    """What the person asked for with the button: a snooze, or silence for the day.

    A snooze (short press) silences the buzzer for a number of minutes; a
    mute (long press) silences it until the next local midnight. Neither
    touches the LED or the record of prompts. The state lives only in memory:
    a restart forgets it, which errs on the side of nudging.
    """

    __slots__ = ("snoozed_until", "muted_on")

    def __init__(self) -> None:
        self.snoozed_until: datetime | None = None  # wall time the snooze ends
        self.muted_on: date | None = None  # local date silenced until its end

    def snooze(self, now: datetime, minutes: float) -> datetime:
        """Silence the buzzer for `minutes` from `now`; returns when it ends.

        Pressing again restarts the snooze from now; it never shortens one
        that already runs longer.
        """
        if minutes <= 0:
            raise ValueError(f"snooze minutes must be positive, got {minutes}")
        until = now + timedelta(minutes=minutes)
        if self.snoozed_until is None or until > self.snoozed_until:
            self.snoozed_until = until
        return self.snoozed_until

    def mute_day(self, now: datetime) -> datetime:
        """Silence the buzzer for the rest of `now`'s local day; returns the midnight it ends."""
        self.muted_on = now.date()
        return self.muted_until  # type: ignore[return-value]

    def clear(self) -> None:
        """Forget any snooze and mute (an "unmute" from the dashboard)."""
        self.snoozed_until = None
        self.muted_on = None

    @property
    def muted_until(self) -> datetime | None:
        """The local midnight at which the day's mute ends (naive), or None."""
        if self.muted_on is None:
            return None
        return datetime.combine(self.muted_on + timedelta(days=1), time(0))

    def is_snoozed(self, now: datetime) -> bool:
        return self.snoozed_until is not None and now < self.snoozed_until

    def is_muted(self, now: datetime) -> bool:
        # Compared by local date, so DST changes and aware/naive times agree.
        return self.muted_on is not None and now.date() <= self.muted_on

    def silenced_by(
        self, now: datetime, quiet_hours: QuietHours | Iterable[str] = (), buzzer_enabled: bool = True
    ) -> str | None:
        """Why the buzzer must stay silent at `now`, or None if it may sound.

        The reasons, first match wins: "disabled" (config), "muted" (rest of
        the day), "snoozed", "quiet hours".
        """
        if not buzzer_enabled:
            return "disabled"
        if self.is_muted(now):
            return "muted"
        if self.is_snoozed(now):
            return "snoozed"
        if not isinstance(quiet_hours, QuietHours):
            quiet_hours = QuietHours(quiet_hours)
        if quiet_hours.is_quiet(now):
            return "quiet hours"
        return None

    def buzzer_allowed(
        self, now: datetime, quiet_hours: QuietHours | Iterable[str] = (), buzzer_enabled: bool = True
    ) -> bool:
        """May a prompt sound at wall time `now`? (See :meth:`silenced_by`.)"""
        return self.silenced_by(now, quiet_hours, buzzer_enabled) is None

    def __repr__(self) -> str:
        return f"SnoozeState(snoozed_until={self.snoozed_until!r}, muted_on={self.muted_on!r})"


class PromptGate:
    """A guard that never lets one prompt kind sound more often than SPEC section 3 allows.

    The scheduler (``device.core.prompts``) already spaces prompts correctly; this
    gate makes sure a bug or a wrong call (every frame, twice for one tick,
    after a replayed block) cannot turn into a buzzer going off again and
    again. It decides whether to sound and show a prompt, not whether to
    record it.

    - ``break_due``: once per session.
    - ``break_overdue``: once per ``repeat_min``.
    - ``move``: once per ``still_min``.

    The overdue schedule is anchored to the session start, so a prompt that a
    short absence delayed (by less than ``break_min_s``) is followed by the
    next one on schedule, a little less than ``repeat_min`` later; the gate
    allows for that slack (never more than half the period).

    Times are seconds on a clock that never goes backwards (the frame clock
    or ``time.monotonic()``). Call :meth:`new_session` when a session starts.
    """

    __slots__ = ("_min_gap", "_last", "_break_due_given")

    def __init__(self, breaks: Breaks | None = None):
        breaks = breaks if breaks is not None else Breaks()
        slack = breaks.break_min_s
        self._min_gap: dict[str, float] = {}
        for kind, period in (("break_overdue", breaks.repeat_min * 60.0), ("move", breaks.still_min * 60.0)):
            self._min_gap[kind] = max(period - slack, period / 2) - 1e-6
        self._last: dict[str, float] = {}
        self._break_due_given = False

    def new_session(self) -> None:
        """A new sitting session began: everything may sound once more."""
        self._last.clear()
        self._break_due_given = False

    def allow(self, kind: str, t: float) -> bool:
        """May a prompt of `kind` sound at time `t` (seconds)? True also records it."""
        if kind == "break_due":
            if self._break_due_given:
                return False
            self._break_due_given = True
            return True
        try:
            gap = self._min_gap[kind]
        except KeyError:
            raise ValueError(f"unknown prompt kind {kind!r}; expected one of {PROMPT_KINDS}") from None
        last = self._last.get(kind)
        if last is not None and not t - last >= gap:  # also refuses a clock going back
            return False
        self._last[kind] = t
        return True
