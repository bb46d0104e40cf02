"""How numbers and times read on the pages (also registered as Jinja filters)."""

from __future__ import annotations

import math
from datetime import date, datetime

from flask import Flask

from dashboard.advice import ADVICE_FOR_EVENT
from dashboard.history import ts_of

CHANNEL_NAMES = {"fl": "front-left", "fr": "front-right", "bl": "back-left", "br": "back-right"}
PROMPT_NAMES = {"break_due": "break due", "break_overdue": "break overdue", "move": "move nudge"}


def duration(seconds: float | None) -> str:
    """'1 h 05 min', '12 min', '40 s'; '—' for nothing known."""
    if seconds is None:
        return "—"
    seconds = max(0.0, float(seconds))
    if seconds < 0.5:
        return "0 min"
    if seconds < 59.5:
        return f"{seconds:.0f} s"
    minutes = int(round(seconds / 60))
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def timer(seconds: float | None) -> str:
    """A running time that cannot be misread: '10 s', '47 min', '1 h 35 min' (never rounded up)."""
    if seconds is None:
        return "—"
    # Stored times are labels to the millisecond, and their differences carry float noise:
    # 4199.9999998 s is 70 minutes, not 1 h 09 min.
    total = int(max(0.0, float(seconds)) + 1e-3)
    if total < 60:
        return f"{total} s"
    minutes = total // 60
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def countdown(seconds: float | None) -> str:
    """Time left until something: '45 s', '20 min', '1 h 05 min' (whole minutes rounded up,
    so it never says 0 min while something is still to come)."""
    if seconds is None:
        return "—"
    seconds = max(0.0, float(seconds))
    if seconds < 60:
        return f"{math.ceil(seconds)} s"
    minutes = math.ceil(seconds / 60 - 1e-9)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def clock(seconds: float | None) -> str:
    """A stopwatch reading: '7:05', '1:02:09' (kept for exports and tooltips)."""
    if seconds is None:
        return "—"
    total = int(max(0.0, float(seconds)))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _local(value: str | float | datetime) -> datetime:
    if isinstance(value, str):
        value = ts_of(value)
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value)
    return value.astimezone().replace(tzinfo=None) if value.tzinfo else value


def time_of_day(value: str | float | datetime | None) -> str:
    """'09:05' (local time) from a wall label, Unix seconds or a datetime."""
    if value is None:
        return "—"
    return _local(value).strftime("%H:%M")


def when(value: str | float | datetime | None, seconds: bool = False) -> str:
    """'Wed 1 May 2024, 09:05' (with seconds: '09:05:12') from a wall label, Unix seconds or a datetime."""
    if value is None or value == "":
        return "—"
    moment = _local(value)
    return (
        f"{moment:%a} {moment.day} {moment:%b %Y}, {moment:%H:%M:%S}"
        if seconds
        else f"{moment:%a} {moment.day} {moment:%b %Y}, {moment:%H:%M}"
    )


def long_date(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def short_date(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b}"


def number(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def count(value: float | None) -> str:
    """A count or a median of counts: '2', '1.5'."""
    if value is None:
        return "—"
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def plural(n: float, singular: str, many: str | None = None) -> str:
    """'1 perch', '2 perches', '0 twists': the number and the word that goes with it."""
    word = singular if n == 1 else (many or singular + "s")
    return f"{count(n)} {word}"


def channel(name: str) -> str:
    return f"{CHANNEL_NAMES.get(name, name)} ({name})" if name in CHANNEL_NAMES else str(name)


def init_app(app: Flask) -> None:
    for func in (
        duration,
        timer,
        countdown,
        clock,
        time_of_day,
        when,
        long_date,
        short_date,
        number,
        count,
        plural,
        channel,
    ):
        app.jinja_env.filters[func.__name__] = func
    app.jinja_env.globals["PROMPT_NAMES"] = PROMPT_NAMES
    app.jinja_env.globals["ADVICE_FOR_EVENT"] = ADVICE_FOR_EVENT
