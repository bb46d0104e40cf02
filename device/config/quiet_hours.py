"""Quiet hours as typed values: parsed once, when the config is read.

A range is "HH:MM-HH:MM" (every day), optionally after the days it is for
("Mon-Fri 18:00-08:00": weekday evenings until the next morning; "Sat-Sun"
alone: those whole days). So a work-hours schedule is two entries:
["Mon-Fri 18:00-08:00", "Sat-Sun"]. Days are English three-letter names, one
day or one span of days per entry ("Fri-Mon" wraps the weekend); more days
take more entries. The days say on which days those clock times are quiet,
also for a range over midnight: "Mon-Fri 18:00-08:00" is quiet on each
weekday before 08:00 and from 18:00 (so Monday from midnight, and Friday
until midnight), which with "Sat-Sun" leaves exactly Mon-Fri 08:00-18:00
for reminders to sound.

The config file, the dashboard's settings form and anything else that sets
`[breaks] quiet_hours` use this one parser; a range that does not parse is
a QuietRangeError whose `problem` says what is wrong ("form", "clock",
"empty", "day"), so each of them can say it in its own words.
"""

from __future__ import annotations

from dataclasses import dataclass

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
WHOLE_DAY_S = 24 * 3600
PROBLEMS = {
    "form": 'expected "HH:MM-HH:MM", optionally after days ("Mon-Fri 18:00-08:00"), or days alone ("Sat-Sun")',
    "clock": "hours run from 00 to 23 and minutes from 00 to 59",
    # Empty or the whole day? Neither reading is safe to guess.
    "empty": "starts and ends at the same time; to silence the buzzer all day set [alerts] buzzer_enabled = false",
    "day": "days are Mon, Tue, Wed, Thu, Fri, Sat and Sun: one day or one span such as Mon-Fri",
}


class QuietRangeError(ValueError):
    """A quiet-hours range that does not parse; `problem` is a key of PROBLEMS."""

    def __init__(self, text: str, problem: str):
        super().__init__(f"{text!r}: {PROBLEMS[problem]}")
        self.text = text
        self.problem = problem


@dataclass(frozen=True, slots=True)
class QuietRange:
    """One quiet stretch, ``start <= t < end`` in seconds after midnight, on `days` (0 = Monday; empty: every day).

    ``end < start`` means the range wraps midnight ("22:00-07:00"); start 0 and
    end WHOLE_DAY_S is the whole of each of its days.
    """

    start_s: int
    end_s: int
    days: tuple[int, ...] = ()

    @classmethod
    def parse(cls, text: str) -> QuietRange:
        """ "[DAYS ]HH:MM-HH:MM" or "DAYS" (spaces around the times allowed); QuietRangeError otherwise."""
        stripped = text.strip()
        head, _, rest = stripped.partition(" ")
        days: tuple[int, ...] = ()
        if head[:1].isalpha():
            if not rest.strip() and not _looks_like_days(head):
                raise QuietRangeError(text, "form")  # a word, not days: "late"
            days = _days(text, head)
            stripped = rest.strip()
            if not stripped:
                return cls(0, WHOLE_DAY_S, days)
        parts = stripped.split("-")
        if len(parts) != 2:
            raise QuietRangeError(text, "form")
        start_s, end_s = (_seconds(text, part.strip()) for part in parts)
        if start_s == end_s:
            raise QuietRangeError(text, "empty")
        return cls(start_s, end_s, days)

    @property
    def wraps(self) -> bool:
        """True when the range runs over midnight."""
        return self.end_s < self.start_s

    def contains(self, seconds: float, weekday: int | None = None) -> bool:
        """Is this time of day (seconds after midnight) on this weekday (0 = Monday) inside the range?

        weekday None: any day (only for ranges without days)."""
        if self.days and weekday not in self.days:
            return False
        if self.wraps:
            return seconds >= self.start_s or seconds < self.end_s
        return self.start_s <= seconds < self.end_s

    def __str__(self) -> str:
        days = _days_text(self.days)
        if self.start_s == 0 and self.end_s == WHOLE_DAY_S:
            return days
        times = f"{_hhmm(self.start_s)}-{_hhmm(self.end_s)}"
        return f"{days} {times}" if days else times


def _looks_like_days(spec: str) -> bool:
    names = {name.lower() for name in DAY_NAMES}
    return all(part.lower()[:3] in names for part in spec.split("-"))


def _days(text: str, spec: str) -> tuple[int, ...]:
    first, dash, last = spec.partition("-")
    names = {name.lower(): index for index, name in enumerate(DAY_NAMES)}
    if first.lower() not in names or (dash and last.lower() not in names):
        raise QuietRangeError(text, "day")
    a = names[first.lower()]
    b = names[last.lower()] if dash else a
    return tuple(sorted({(a + i) % 7 for i in range((b - a) % 7 + 1)}))


def _days_text(days: tuple[int, ...]) -> str:
    if not days:
        return ""
    if len(days) == 1:
        return DAY_NAMES[days[0]]
    if len(days) == 7:
        return "Mon-Sun"
    # One span (parse makes only spans): find where it starts, going round the week.
    start = next(d for d in days if (d - 1) % 7 not in days)
    end = next(d for d in days if (d + 1) % 7 not in days)
    return f"{DAY_NAMES[start]}-{DAY_NAMES[end]}"


def _seconds(text: str, part: str) -> int:
    hours, colon, minutes = part.partition(":")
    if (
        not colon
        or len(minutes) != 2
        or not (1 <= len(hours) <= 2)
        or not (hours + minutes).isascii()
        or not hours.isdigit()
        or not minutes.isdigit()
    ):
        raise QuietRangeError(text, "form")
    h, m = int(hours), int(minutes)
    if not (0 <= h <= 23 and 0 <= m <= 59):
        raise QuietRangeError(text, "clock")
    return h * 3600 + m * 60


def _hhmm(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"
