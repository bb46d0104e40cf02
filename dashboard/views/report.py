"""The report for a physiotherapist (/report?from=YYYY-MM-DD&to=YYYY-MM-DD): one printable page.

A week or a month of the cushion's records on one page that prints, or saves
as a PDF from the browser's Print, on A4: per day the time seated, the
sessions, the longest against the guide's 60 minutes, breaks taken against
the cushion's break prompts, stand hours, leaning per side, perching,
slumping and the fidget rate; an average day and the whole period under
them; then each episode from the diary next to what the cushion saw in the
hours before it and the person's usual figures for those hours.

The figures are the other pages' (device.storage.day_totals for a day, time
seated, a break, a skipped prompt; dashboard.history and the Diary page for
the hours before an episode): a day here reads as on the Day and Trends
pages. This page adds two definitions:

- The 60-minute limit is the guide's: it names "sitting for more than 60
  minutes without moving" as a trigger of back spasms (and says to walk at
  least once an hour). It is also the cushion's default for a break to be
  overdue (`overdue_after_min`), but the report keeps the guide's 60 minutes
  whatever the settings: a session is over it when it lasts more than an
  hour, as on the Day and Trends pages.
- Stand hours: see `stand_hours`.

The period: `from` and `to`, both days included; by default the last 7 whole
days (yesterday and the 6 before it); `from` or `to` alone gives the 7 days
from or to it. At most MAX_DAYS days. A malformed date, `from` after `to`, a
`to` in the future or too long a period is a 400 that says so.
"""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask import Blueprint, abort, render_template, request, url_for

from dashboard import params
from dashboard.db import effective_config, get_store
from dashboard.formatting import duration, long_date
from dashboard.history import (
    DayTotals,
    days_between,
    episode_contexts,
    local_date,
    local_midnight,
    per_hour,
    today,
    totals_for_days,
)
from dashboard.views.diary import (
    BASELINE_DAYS,
    HOURS_BEFORE,
    comparisons,
    episode_label,
    flag_messages,
    red_flags_of,
)
from dashboard.views.trends import whole_days
from device.storage.store import Store

bp = Blueprint("report", __name__)

DEFAULT_DAYS = 7
MAX_DAYS = 92  # a quarter: three months of rows still print on a few pages
LIMIT_S = 60 * 60.0  # the guide's limit: more than 60 minutes sitting without moving
_HOUR = timedelta(hours=1)


# ---- the period ------------------------------------------------------------------


def period(now: date) -> tuple[date, date]:
    """The report's days from ?from= and ?to= (see the module's docstring), or abort(400)."""
    given_from = request.args.get("from") or None
    given_to = request.args.get("to") or None
    yesterday = now - timedelta(days=1)
    if given_from is None:
        last = params.optional_date("to", yesterday)
        first = last - timedelta(days=DEFAULT_DAYS - 1)
    else:
        first = params.parse_date(given_from, "from")
        if first > now:
            abort(400, f"from: {first.isoformat()} is in the future; today is {now.isoformat()}.")
        last = (
            params.parse_date(given_to, "to")
            if given_to is not None
            else min(first + timedelta(days=DEFAULT_DAYS - 1), now)
        )
    if last > now:
        abort(
            400,
            f"to: {last.isoformat()} is in the future; a report ends today ({now.isoformat()}) at the latest. "
            "Leave to out for the last 7 whole days.",
        )
    if first > last:
        abort(400, f"from ({first.isoformat()}) is after to ({last.isoformat()})")
    days = (last - first).days + 1
    if days > MAX_DAYS:
        abort(
            400,
            f"from {first.isoformat()} to {last.isoformat()} is {days} days; a report covers at most "
            f"{MAX_DAYS} days (about three months). Choose a shorter period.",
        )
    return first, last


def _month_end(day: date) -> date:
    following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


def is_month(first: date, last: date) -> bool:
    """A whole calendar month."""
    return first.day == 1 and last == _month_end(first)


def period_name(first: date, last: date) -> str:
    """'June 2024', 'Week of Monday 3 June 2024', '3 June to 16 June 2024 (14 days)'."""
    if is_month(first, last):
        return f"{first:%B %Y}"
    if first.weekday() == 0 and last == first + timedelta(days=6):
        return f"Week of {long_date(first)}"
    if first == last:
        return long_date(first)
    start = f"{first.day} {first:%B}" + (f" {first.year}" if first.year != last.year else "")
    return f"{start} to {last.day} {last:%B %Y} ({(last - first).days + 1} days)"


def _link(first: date, last: date) -> str:
    query: dict[str, Any] = {"from": first.isoformat(), "to": last.isoformat()}  # `from` is a Python keyword
    return url_for("report.show", **query)


def choices(now: date) -> list[tuple[str, date, date]]:
    """The periods offered: (label, first, last)."""
    yesterday = now - timedelta(days=1)
    monday = now - timedelta(days=now.weekday())
    month_start = now.replace(day=1)
    last_month_end = month_start - timedelta(days=1)
    return [
        ("Last 7 days", yesterday - timedelta(days=DEFAULT_DAYS - 1), yesterday),
        ("Last week (Mon to Sun)", monday - timedelta(days=7), monday - timedelta(days=1)),
        ("Last 4 weeks", yesterday - timedelta(days=27), yesterday),
        (f"Last month ({last_month_end:%B})", last_month_end.replace(day=1), last_month_end),
    ]


def neighbours(first: date, last: date, now: date) -> tuple[tuple[date, date], tuple[date, date] | None]:
    """The period before this one and the one after (None when it would start after today), of the
    same length; a calendar month's are the months either side."""
    if is_month(first, last):
        before_end = first - timedelta(days=1)
        before = (before_end.replace(day=1), before_end)
        after_first = last + timedelta(days=1)
        after = (after_first, min(_month_end(after_first), now))
    else:
        length = last - first + timedelta(days=1)
        before = (first - length, last - length)
        after = (first + length, min(last + length, now))
    return before, (after if after[0] <= now else None)


# ---- the figures ----------------------------------------------------------------


def _hour_of(ts: float) -> datetime:
    """The local clock hour holding this moment (naive local time, minutes cut off)."""
    # Stored times are labels to the millisecond, read back with float noise: 09:59:59.99998 is 10:00.
    return datetime.fromtimestamp(round(ts, 3)).replace(minute=0, second=0, microsecond=0)


def _hours_over(start: float, end: float) -> Iterator[datetime]:
    """The clock hours that some of [start, end) falls in."""
    start, end = round(start, 3), round(end, 3)
    if end <= start:
        return
    hour = _hour_of(start)
    while hour.timestamp() < end:
        yield hour
        hour += _HOUR


def stand_hours(
    spans: Sequence[tuple], stand_times: Iterable[float], first: date, last: date
) -> dict[date, tuple[int, int]]:
    """Per day from first to last: (stand hours, hours seated in).

    An hour is a clock hour of the local day (10:00 to 10:59). The hours
    seated in are those some session took part of. A *stand hour* is one of
    those in which the person was off the cushion at least once: a stand-up
    (the cushion's `stand` event, for a moment shorter than a break too), the
    end of a session, or part of a break (an absence between two sessions of
    the same day, as in device.storage.day_totals) falls in it. So, like a
    watch's stand hours, but counted only over the hours seated in: the
    cushion cannot see the person before they first sit down or after they
    leave. An open session's last heartbeat is not a stand-up.

    spans: `Store.session_spans` rows (id, start, end, open, prompts) by
    start; stand_times: Unix seconds of the stand-ups.
    """
    seated: set[datetime] = set()
    up: set[datetime] = set()
    previous_end = None
    for _sid, start, end, is_open, _prompts in spans:
        seated.update(_hours_over(start, end))
        if previous_end is not None and start > previous_end and local_date(previous_end) == local_date(start):
            up.update(_hours_over(previous_end, start))
        if not is_open:
            up.add(_hour_of(end))
        previous_end = None if is_open else end
    up.update(_hour_of(t) for t in stand_times)
    counts = {day: [0, 0] for day in days_between(first, last)}
    for hour in seated:
        found = counts.get(hour.date())
        if found is not None:
            found[0] += hour in up
            found[1] += 1
    return {day: (stood, sat) for day, (stood, sat) in counts.items()}


def sessions_over_limit(spans: Sequence[tuple], first: date, last: date, limit_s: float = LIMIT_S) -> dict[date, int]:
    """Per day: the sessions that started that day and lasted more than limit_s (an open one to its
    last heartbeat, as for the longest session)."""
    counts = dict.fromkeys(days_between(first, last), 0)
    for _sid, start, end, _open, _prompts in spans:
        day = local_date(start)
        if day in counts and end - start > limit_s:
            counts[day] += 1
    return counts


@dataclass(slots=True)
class Figures:
    """A row of the report's table: one day, the average day, or the whole period (times in seconds)."""

    seated_s: float
    sessions: float
    longest_s: float
    over_limit: float  # sessions longer than 60 minutes
    breaks: float
    break_prompts: float
    breaks_skipped: float
    stand_hours: float
    seated_hours: float
    lean_left_s: float
    lean_right_s: float
    perch_s: float
    slump_s: float
    fidgets_per_hour: float | None

    @classmethod
    def of_day(cls, t: DayTotals, over_limit: int, stood: int, sat: int) -> Figures:
        return cls(
            t.seated_s,
            t.sessions,
            t.longest_s,
            over_limit,
            t.breaks,
            t.break_prompts,
            t.breaks_skipped,
            stood,
            sat,
            t.lean_left_s,
            t.lean_right_s,
            t.perch_s,
            t.slump_s,
            t.fidgets_per_hour,
        )

    @classmethod
    def average(cls, rows: Sequence[Figures]) -> Figures | None:
        """The mean of each figure (the fidget rate: of the days that have one), as Trends averages."""
        if not rows:
            return None
        rates = [r.fidgets_per_hour for r in rows if r.fidgets_per_hour is not None]
        means = {name: statistics.fmean(getattr(r, name) for r in rows) for name in _SUMMED}
        return cls(**means, fidgets_per_hour=statistics.fmean(rates) if rates else None)

    @classmethod
    def total(cls, rows: Sequence[Figures], fidgets: int) -> Figures | None:
        """The sum of each figure, but the longest session of all and the fidgets over all hours seated."""
        if not rows:
            return None
        sums = {name: float(sum(getattr(r, name) for r in rows)) for name in _SUMMED}
        sums["longest_s"] = max(r.longest_s for r in rows)
        return cls(**sums, fidgets_per_hour=per_hour(fidgets, sums["seated_s"]))

    @property
    def over(self) -> bool:
        return self.longest_s > LIMIT_S

    @property
    def stand_share(self) -> float | None:
        return self.stand_hours / self.seated_hours if self.seated_hours else None

    @property
    def left_share(self) -> float | None:
        lean = self.lean_left_s + self.lean_right_s
        return self.lean_left_s / lean if lean else None


_SUMMED = tuple(f.name for f in dataclasses.fields(Figures) if f.name != "fidgets_per_hour")


@dataclass(slots=True)
class DayRow:
    day: date
    figures: Figures | None  # None: nothing recorded that day


@dataclass(slots=True)
class Report:
    first: date
    last: date
    rows: list[DayRow]
    average: Figures | None  # over the whole days with data
    total: Figures | None  # over every day with data
    days_with_data: int
    whole_days: int
    episodes: list[dict]

    @property
    def today_left_out(self) -> bool:
        return self.whole_days < self.days_with_data


def build(store: Store, first: date, last: date, now: date) -> Report:
    """The report's figures for the days first to last (both included)."""
    totals = totals_for_days(store, first, last)
    a, b = local_midnight(first), local_midnight(last + timedelta(days=1))
    spans = store.session_spans(a, b)
    stands = [row[0] for row in store.movements(a, b, ("stand",))]
    hours = stand_hours(spans, stands, first, last)
    over = sessions_over_limit(spans, first, last)
    rows = [DayRow(t.day, Figures.of_day(t, over[t.day], *hours[t.day]) if t.has_data else None) for t in totals]
    whole = {t.day for t in whole_days(totals, now)}  # the average day leaves today out until it is over
    day_figures = [row.figures for row in rows if row.figures is not None]
    whole_figures = [row.figures for row in rows if row.figures is not None and row.day in whole]

    entries = store.diary_between(a, b)
    contexts = episode_contexts(store, entries, HOURS_BEFORE, BASELINE_DAYS)
    episodes = []
    for entry in entries:
        context = contexts.get(entry["id"])
        episodes.append(
            {
                "entry": entry,
                "label": episode_label(entry),
                "flags": flag_messages(red_flags_of(entry)),
                "context": context,
                "rows": comparisons(context) if context is not None else [],
            }
        )
    return Report(
        first,
        last,
        rows,
        Figures.average(whole_figures),
        Figures.total(day_figures, sum(t.fidgets for t in totals if t.has_data)),
        len(day_figures),
        len(whole_figures),
        episodes,
    )


# ---- the page --------------------------------------------------------------------


def pair(first_s: float, second_s: float) -> str:
    """Two times side by side, short enough for one line of the table: '10 / 3 min', '1 min / 30 s',
    '1 h 05 min / 40 min' (the unit said once when both are whole minutes under an hour)."""
    a, b = duration(first_s), duration(second_s)
    if a.endswith(" min") and b.endswith(" min") and " h " not in a + b:
        return f"{a[:-4]} / {b}"
    return f"{a} / {b}"


@bp.route("/report")
def show():
    now = today()
    first, last = period(now)
    report = build(get_store(), first, last, now)
    before, after = neighbours(first, last, now)
    offered = [(label, _link(a, b), (a, b) == (first, last)) for label, a, b in choices(now)]
    return render_template(
        "report.html",
        report=report,
        name=period_name(first, last),
        made=datetime.now(),
        breaks=effective_config().breaks,
        detect=effective_config().detect,
        limit_min=int(LIMIT_S // 60),
        hours_before=HOURS_BEFORE,
        baseline_days=BASELINE_DAYS,
        choices=offered,
        earlier=_link(*before),
        later=None if after is None else _link(*after),
        max_days=MAX_DAYS,
        pair=pair,
    )
