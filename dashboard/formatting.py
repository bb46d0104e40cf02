"""How numbers and times read on the pages (also registered as Jinja filters)."""

from __future__ import annotations

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
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = int(round(seconds / 60))
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def clock(seconds: float | None) -> str:
    """A running timer: '7:05', '1:02:09'."""
    if seconds is None:
        return "—"
    total = int(max(0.0, float(seconds)))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def time_of_day(value: str | float | datetime | None) -> str:
    """'09:05' (local time) from a wall label, Unix seconds or a datetime."""
    if value is None:
        return "—"
    if isinstance(value, str):
        value = ts_of(value)
    if isinstance(value, (int, float)):
        value = datetime.fromtimestamp(value)
    else:
        value = value.astimezone().replace(tzinfo=None)
    return value.strftime("%H:%M")


def when(value: str | None) -> str:
    """'Wed 1 May 2024, 09:05' from a wall label."""
    if not value:
        return "—"
    moment = datetime.fromtimestamp(ts_of(value))
    return f"{moment:%a} {moment.day} {moment:%b %Y}, {moment:%H:%M}"


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


def channel(name: str) -> str:
    return f"{CHANNEL_NAMES.get(name, name)} ({name})" if name in CHANNEL_NAMES else str(name)


def init_app(app: Flask) -> None:
    for func in (duration, clock, time_of_day, when, long_date, short_date, number, count, channel):
        app.jinja_env.filters[func.__name__] = func
    app.jinja_env.globals["PROMPT_NAMES"] = PROMPT_NAMES
    app.jinja_env.globals["ADVICE_FOR_EVENT"] = ADVICE_FOR_EVENT
