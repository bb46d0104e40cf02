"""Query parameters and path parts checked once; anything malformed is a 400 that says why."""

from __future__ import annotations

import re
from datetime import date, timedelta

from flask import abort, request

TREND_DAYS = (7, 30, 365)
EXPORT_DEFAULT_DAYS = 30
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_FIRST = date(1970, 1, 1)
_LAST = date(9998, 12, 31)  # leaves room for "the day after"


def parse_date(text: str | None, name: str = "date") -> date:
    """A YYYY-MM-DD date, or abort(400) naming the parameter and the expected form."""
    if text is None or not _DATE.match(text):
        abort(400, f"{name}: expected a date as YYYY-MM-DD, got {text!r}")
    try:
        value = date.fromisoformat(text)
    except ValueError:
        abort(400, f"{name}: {text!r} is not a real date")
    if not _FIRST <= value <= _LAST:
        abort(400, f"{name}: {text} is out of range")
    return value


def optional_date(name: str, default: date) -> date:
    text = request.args.get(name)
    return default if text is None or text == "" else parse_date(text, name)


def trend_days(default: int = 7) -> int:
    """?days= : one of TREND_DAYS."""
    text = request.args.get("days")
    if text is None or text == "":
        return default
    if text not in {str(d) for d in TREND_DAYS}:
        abort(400, f"days: must be one of {', '.join(map(str, TREND_DAYS))}, got {text!r}")
    return int(text)


def date_range(today: date, default_days: int = EXPORT_DEFAULT_DAYS) -> tuple[date, date]:
    """?from=YYYY-MM-DD&to=YYYY-MM-DD, both days included (default: the last `default_days` days)."""
    last = optional_date("to", today)
    first = optional_date("from", last - timedelta(days=default_days - 1))
    if first > last:
        abort(400, f"from ({first}) is after to ({last})")
    return first, last
