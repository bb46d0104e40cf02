"""Totals per local day from the history: what the dashboard's pages and the MQTT state share.

Definitions (the pages and the MQTT state share them):

- A day is a local calendar day (midnight to midnight on the Pi's clock).
- Time seated: the length of the sessions, short absences included (SPEC
  section 5), the part of each session inside the day. An open session runs
  to its last heartbeat.
- Sessions and the longest session count by the day a session started.
- A break is an absence between two sessions of the same day (standing up
  for `break_min_s` or more, then sitting down again). The time before the
  day's first session and after its last (going home, the night) is not a
  break, however long; a gap that crosses midnight is the night.
- Break prompts: `break_due` and `break_overdue` prompts. A break prompt is
  skipped when another break prompt came later in the same session: the
  person sat on until the next reminder. The last one of a session that
  then ended was heeded. (Per day, skipped prompts count with the session's
  start day, from the session's own list of prompts.)
- Lean time: the length of the `lean` events, per side. Fidgets per hour:
  fidgets per hour seated (shown once there are 10 minutes seated).
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta

from device.storage.store import Store

BREAK_PROMPTS = ("break_due", "break_overdue")
MIN_SEATED_FOR_RATE_S = 600.0  # a fidget rate over less sitting than this says nothing


def local_midnight(day: date) -> datetime:
    """The start of a local calendar day, as an aware datetime."""
    return datetime(day.year, day.month, day.day).astimezone()


def today() -> date:
    return datetime.now().astimezone().date()


def ts_of(label: str) -> float:
    """Unix seconds of a stored wall label ("2024-05-01T09:30:12.345+02:00")."""
    return datetime.fromisoformat(label).timestamp()


def local_date(ts: float) -> date:
    return datetime.fromtimestamp(ts).date()


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def per_hour(count: float, seated_s: float) -> float | None:
    return count / (seated_s / 3600.0) if seated_s >= MIN_SEATED_FOR_RATE_S else None


# ---- totals per day ------------------------------------------------------------


@dataclass(slots=True)
class DayTotals:
    """One day's figures (times in seconds)."""

    day: date
    seated_s: float = 0.0
    sessions: int = 0
    longest_s: float = 0.0
    breaks: int = 0
    break_prompts: int = 0
    breaks_skipped: int = 0
    move_prompts: int = 0
    lean_left_s: float = 0.0
    lean_right_s: float = 0.0
    leans: int = 0
    twists: int = 0
    fidgets: int = 0
    perches: int = 0
    perch_s: float = 0.0
    slumps: int = 0
    slump_s: float = 0.0
    faults: int = 0

    @property
    def fidgets_per_hour(self) -> float | None:
        return per_hour(self.fidgets, self.seated_s)

    @property
    def lean_s(self) -> float:
        return self.lean_left_s + self.lean_right_s

    @property
    def has_data(self) -> bool:
        return self.seated_s > 0 or self.sessions > 0 or self.fidgets > 0 or self.faults > 0

    def to_dict(self) -> dict:
        data = {key: round(value, 1) if isinstance(value, float) else value for key, value in asdict(self).items()}
        data["day"] = self.day.isoformat()
        data["fidgets_per_hour"] = None if self.fidgets_per_hour is None else round(self.fidgets_per_hour, 2)
        return data


def totals_for_days(
    store: Store, first: date, last: date, running: tuple[float, float] | None = None
) -> list[DayTotals]:
    """DayTotals for every day from first to last (both included), in order.

    Two queries whatever the number of days: the sessions (clipped to each
    day here) and the events aggregated per day in SQL.

    running: (start, end), Unix seconds, of the session going on now as the
    live row tells it (its time minus sitting_s, and its time). It stands in
    for the history's record of that session, which lags by up to a batch:
    the Now page's totals then agree with its sitting timer.
    """
    days = days_between(first, last)
    totals = [DayTotals(d) for d in days]
    by_day = {d.isoformat(): t for d, t in zip(days, totals)}
    a, b = local_midnight(first), local_midnight(last + timedelta(days=1))
    edges = [local_midnight(d).timestamp() for d in days] + [b.timestamp()]
    spans = store.session_spans(a, b)
    if running is not None:
        spans = with_running_session(spans, *running, a.timestamp(), b.timestamp())

    previous_end = None
    for _sid, start, end, is_open, prompts in spans:
        if previous_end is not None and start > previous_end:
            k = bisect.bisect_right(edges, previous_end) - 1
            if 0 <= k < len(totals) and start < edges[k + 1]:
                totals[k].breaks += 1  # sat down again the same day: that absence was a break
        previous_end = None if is_open else end
        i = bisect.bisect_right(edges, start) - 1
        if 0 <= i < len(totals):
            day = totals[i]
            day.sessions += 1
            day.longest_s = max(day.longest_s, end - start)
            # Every break prompt but the session's last was followed by another reminder, not a break.
            day.breaks_skipped += max(0, sum(p in BREAK_PROMPTS for p in session_prompts(prompts)) - 1)
        j = max(i, 0)
        while j < len(totals) and edges[j] < end:
            day = totals[j]
            day.seated_s += max(0.0, min(end, edges[j + 1]) - max(start, edges[j]))
            j += 1

    for day_key, kind, sub, count, seconds in store.event_totals(a, b):
        found = by_day.get(day_key)
        if found is None:
            continue
        day = found
        seconds = seconds or 0.0
        if kind == "prompt":
            if sub in BREAK_PROMPTS:
                day.break_prompts += count
            elif sub == "move":
                day.move_prompts += count
        elif kind == "lean":
            day.leans += count
            if sub == "left":
                day.lean_left_s += seconds
            elif sub == "right":
                day.lean_right_s += seconds
        elif kind == "twist":
            day.twists += count
        elif kind == "fidget":
            day.fidgets += count
        elif kind == "perch":
            day.perches += count
            day.perch_s += seconds
        elif kind == "slump":
            day.slumps += count
            day.slump_s += seconds
        elif kind == "fault":
            day.faults += count
    return totals


# The history's record of the running session starts where the live row's does, give or take the
# two clocks' rounding; any other session is a break (a minute or more) away from it.
SAME_SESSION_S = 30.0


def with_running_session(spans: Sequence[tuple], start: float, end: float, a: float, b: float) -> list[tuple]:
    """Session spans (`Store.session_spans` rows, by start) with the running session [start, end]
    in place of the history's record of it (the row starting where it starts), if it overlaps [a, b)."""
    recorded = [row for row in spans if abs(row[1] - start) <= SAME_SESSION_S]
    others = [row for row in spans if abs(row[1] - start) > SAME_SESSION_S]
    if start < b and end >= a:
        sid, prompts = (recorded[0][0], recorded[0][4]) if recorded else (None, "[]")
        others.append((sid, start, end, True, prompts))
        others.sort(key=lambda row: row[1])
    return others


def session_prompts(prompts: str | list | None) -> list[str]:
    """A session row's prompts as a list (whether decoded already or JSON text)."""
    if prompts is None:
        return []
    return json.loads(prompts) if isinstance(prompts, str) else list(prompts)
