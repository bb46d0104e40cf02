"""Quiet hours as typed values: parsed once, from "HH:MM-HH:MM", when the config is read.

The config file, the dashboard's settings form and anything else that sets
`[breaks] quiet_hours` use this one parser; a range that does not parse is
a QuietRangeError whose `problem` says what is wrong ("form", "clock",
"empty"), so each of them can say it in its own words.
"""

from __future__ import annotations

from dataclasses import dataclass

PROBLEMS = {
    "form": 'expected "HH:MM-HH:MM"',
    "clock": "hours run from 00 to 23 and minutes from 00 to 59",
    # Empty or the whole day? Neither reading is safe to guess.
    "empty": "starts and ends at the same time; to silence the buzzer all day set [alerts] buzzer_enabled = false",
}


class QuietRangeError(ValueError):
    """A quiet-hours range that does not parse; `problem` is a key of PROBLEMS."""

    def __init__(self, text: str, problem: str):
        super().__init__(f"{text!r}: {PROBLEMS[problem]}")
        self.text = text
        self.problem = problem


@dataclass(frozen=True, slots=True)
class QuietRange:
    """One quiet stretch of the day, ``start <= t < end`` in seconds after midnight.

    ``end < start`` means the range wraps midnight ("22:00-07:00").
    """

    start_s: int
    end_s: int

    @classmethod
    def parse(cls, text: str) -> QuietRange:
        """ "HH:MM-HH:MM" (spaces around the times allowed); QuietRangeError otherwise."""
        parts = text.strip().split("-")
        if len(parts) != 2:
            raise QuietRangeError(text, "form")
        start_s, end_s = (_seconds(text, part.strip()) for part in parts)
        if start_s == end_s:
            raise QuietRangeError(text, "empty")
        return cls(start_s, end_s)

    @property
    def wraps(self) -> bool:
        """True when the range runs over midnight."""
        return self.end_s < self.start_s

    def contains(self, seconds: float) -> bool:
        """Is this time of day (seconds after midnight) inside the range?"""
        if self.wraps:
            return seconds >= self.start_s or seconds < self.end_s
        return self.start_s <= seconds < self.end_s

    def __str__(self) -> str:
        return f"{_hhmm(self.start_s)}-{_hhmm(self.end_s)}"


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
