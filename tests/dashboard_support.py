"""What the dashboard tests share: one known day of history, and helpers for forms and pages.

The fixtures built on them (`app`, `client`, `day_db`) are in conftest.py. `day_db` holds one known day written through
Store.write_batch with real device.core.events records, so the tests can assert
exact totals:

    09:00-09:50  session 1: fidgets at 09:05 and 09:06, lean left 09:10 (60 s),
                 twist right 09:30, break_due 09:45, stands up 09:50
    10:00-11:10  session 2 (70 min): lean right 10:20 (30 s), fidget 10:30,
                 perch 10:40 (45 s), break_due 10:45, break_overdue 11:00
    13:00-13:20  session 3: slump 13:05 (40 s), fault fr 13:10 (4 s), move 13:15
"""

from __future__ import annotations

from datetime import date, datetime

from device.core.events import Fault, Fidget, Lean, Posture, Prompt, Session, Sit, Stand, Twist
from device.storage.store import Store

DAY = date(2024, 5, 1)  # a Wednesday
MIDNIGHT = datetime(2024, 5, 1)  # naive: local time, like the daemon's labels


def at(hh: int, mm: int = 0, ss: float = 0.0) -> float:
    """Frame time of a wall time on DAY: the day's fixture writes with frame time 0 at midnight."""
    return hh * 3600 + mm * 60 + ss


def write_day(store: Store) -> None:
    s1, s2, s3 = (at(9), at(9, 50)), (at(10), at(11, 10)), (at(13), at(13, 20))
    events = [
        Sit(s1[0], s1[0] + 1.5),
        Fidget(at(9, 5), 22.0, at(9, 5, 2)),
        Fidget(at(9, 6), 31.0, at(9, 6, 2)),
        Lean("left", at(9, 10), at(9, 11), 0.28, at(9, 10, 10)),
        Twist("right", at(9, 30), at(9, 30, 3), 0.41, at(9, 30, 5)),
        Prompt("break_due", at(9, 45), at(9, 45)),
        Stand(s1[1], s1[1] + 1.5),
        Sit(s2[0], s2[0] + 1.5),
        Lean("right", at(10, 20), at(10, 20, 30), 0.25, at(10, 20, 10)),
        Fidget(at(10, 30), 18.0, at(10, 30, 3)),
        Posture("perch", at(10, 40), at(10, 40, 45), at(10, 40, 30)),
        Prompt("break_due", at(10, 45), at(10, 45)),
        Prompt("break_overdue", at(11), at(11)),
        Stand(s2[1], s2[1] + 1.5),
        Sit(s3[0], s3[0] + 1.5),
        Posture("slump", at(13, 5), at(13, 5, 40), at(13, 5, 30)),
        Fault("fr", at(13, 10), at(13, 10, 4), at(13, 10, 0.5), "stuck"),
        Prompt("move", at(13, 15), at(13, 15)),
        Stand(s3[1], s3[1] + 1.5),
    ]
    sessions = [Session(*s1, ("break_due",)), Session(*s2, ("break_due", "break_overdue")), Session(*s3, ("move",))]
    store.write_batch(0.0, MIDNIGHT, events=events, sessions=sessions)


def set_token(client, token: str = "test-token") -> str:
    """Give the client's session a CSRF token, as rendering any form would."""
    with client.session_transaction() as session:
        session["csrf_token"] = token
    return token


def post(client, url: str, data: dict | None = None, **kwargs):
    """POST a form with the session's CSRF token (as a browser does from the page)."""
    data = dict(data or {})
    data.setdefault("csrf_token", set_token(client))
    return client.post(url, data=data, **kwargs)


def text(response) -> str:
    return response.get_data(as_text=True)


def visible(response_or_html) -> str:
    """The page as a person reads it: tags, scripts and styles gone, entities decoded, spaces collapsed."""
    import html
    import re

    page = response_or_html if isinstance(response_or_html, str) else text(response_or_html)
    page = re.sub(r"<(script|style|title)\b.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r"<[^>]+>", " ", page)
    return re.sub(r"\s+", " ", html.unescape(page)).strip()
