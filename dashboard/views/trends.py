"""The Trends page (/trends?days=7|30|365): the Day page's totals per day (per week for a year), as charts."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, timedelta

from flask import Blueprint, abort, jsonify, render_template, url_for

from dashboard import charts, params
from dashboard.advice import ADVICE_FOR_EVENT
from dashboard.charts import Series, Target
from dashboard.db import get_store
from dashboard.history import MIN_SEATED_FOR_RATE_S, DayTotals, today, totals_for_days

bp = Blueprint("trends", __name__)

WEEKLY_FROM_DAYS = 365  # a year of daily bars would be slivers: one bar a week instead


def _period():
    days = params.trend_days()
    now = today()
    last = params.optional_date("end", now)
    if last > now:
        abort(
            400,
            f"end: {last.isoformat()} is in the future; the latest period ends today "
            f"({now.isoformat()}). Leave end out to see it.",
        )
    return days, last - timedelta(days=days - 1), last


def _hours(value: float) -> str:
    return f"{value:.1f} h" if value < 10 else f"{value:.0f} h"


def _minutes(value: float) -> str:
    return f"{value:.0f} min"


def _count(value: float) -> str:
    return f"{value:g}" if value == int(value) else f"{value:.1f}"


def _mean(values) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.fmean(values) if values else None


@dataclass(slots=True)
class Slot:
    """One bar of a chart and one row of the table: a day, or a week's average day (days with data)."""

    first: date
    days_with_data: int
    seated_s: float | None
    longest_s: float | None
    breaks: float | None
    break_prompts: float | None
    breaks_skipped: float | None
    lean_left_s: float | None
    lean_right_s: float | None
    fidgets_per_hour: float | None

    @property
    def has_data(self) -> bool:
        return self.days_with_data > 0


def day_slots(totals: list[DayTotals]) -> list[Slot]:
    out = []
    for t in totals:
        has = t.has_data
        figures: tuple[float | None, ...] = (
            (t.seated_s, t.longest_s, t.breaks, t.break_prompts, t.breaks_skipped, t.lean_left_s, t.lean_right_s)
            if has
            else (None,) * 7
        )
        seated, longest, breaks, prompts, skipped, left, right = figures
        out.append(Slot(t.day, int(has), seated, longest, breaks, prompts, skipped, left, right, t.fidgets_per_hour))
    return out


def whole_days(totals: list[DayTotals], now: date) -> list[DayTotals]:
    """The days with data that are over: an average over days leaves today out, half a day
    would pull it down (5 h 33 min by mid-afternoon among days of 6-7 hours)."""
    return [t for t in totals if t.has_data and t.day < now]


def week_slots(totals: list[DayTotals], now: date) -> list[Slot]:
    """Monday-to-Sunday weeks (the first and last may be cut by the period): the average whole day with data."""
    weeks: dict[date, list[DayTotals]] = {}
    for t in totals:
        weeks.setdefault(t.day - timedelta(days=t.day.weekday()), []).append(t)
    out = []
    for monday, members in weeks.items():
        used = whole_days(members, now)
        seated = sum(t.seated_s for t in used)
        fidgets = sum(t.fidgets for t in used)
        out.append(
            Slot(
                max(monday, members[0].day),
                len(used),
                _mean(t.seated_s for t in used),
                _mean(t.longest_s for t in used),
                _mean(t.breaks for t in used),
                _mean(t.break_prompts for t in used),
                _mean(t.breaks_skipped for t in used),
                _mean(t.lean_left_s for t in used),
                _mean(t.lean_right_s for t in used),
                fidgets / (seated / 3600) if seated >= MIN_SEATED_FOR_RATE_S else None,
            )
        )
    return out


def _scaled(values, factor: float):
    return [None if v is None else v / factor for v in values]


def build_charts(slots: list[Slot], week: bool) -> list[dict]:
    """The charts of the page: title, what it shows, the SVG, its legend and the advice it links to."""
    first = [s.first for s in slots]
    counts = [s.days_with_data for s in slots]
    per = "each week's average day" if week else "each day"

    def chart(series, **kwargs):
        return charts.bar_chart(first, series, week=week, counts=counts, **kwargs)

    prompts_style = "marker" if week else "bar"
    return [
        {
            "id": "seated",
            "title": "Time seated",
            "about": f"Hours on the cushion on {per}, short absences included.",
            "advice": "movement",
            "svg": chart(
                [Series("seated", _scaled([s.seated_s for s in slots], 3600), "seated")],
                label="Hours seated per day",
                fmt=_hours,
            ),
        },
        {
            "id": "longest",
            "title": "Longest session",
            "about": f"The longest spell in the chair on {per}. The guide: stand every 30-45 minutes "
            "and never sit more than 60 minutes without moving.",
            "advice": ADVICE_FOR_EVENT["long_session"].section,
            "legend": [("line target", "45 min: stand by now"), ("line limit", "60 min: the limit")],
            "svg": chart(
                [Series("longest", _scaled([s.longest_s for s in slots], 60), "longest")],
                label="Longest session per day, minutes",
                fmt=_minutes,
                targets=[Target(45, "45 min: stand by now", "target"), Target(60, "60 min: the limit", "limit")],
            ),
        },
        {
            "id": "breaks",
            "title": "Breaks taken and break prompts",
            "about": f"Breaks taken: times you stood up for a minute or more between two sittings, on {per}. "
            "Break prompts: the cushion's reminders to stand up (break due and overdue)"
            + ("; the dash marks how many came." if week else "."),
            "advice": ADVICE_FOR_EVENT["break_due"].section,
            "legend": [("breaks", "breaks taken"), ("marker prompts" if week else "prompts", "break prompts")],
            "svg": chart(
                [
                    Series("breaks", [s.breaks for s in slots], "breaks"),
                    Series("break prompts", [s.break_prompts for s in slots], "prompts", prompts_style),
                ],
                label="Breaks and break prompts per day",
                fmt=_count,
            ),
        },
        {
            "id": "lean",
            "title": "Lean time per side",
            "about": f"Minutes spent leaning to one side on {per} (stacked). Mostly one side? "
            "Check what pulls you that way.",
            "advice": ADVICE_FOR_EVENT["lean"].section,
            "legend": [("lean-left", "left"), ("lean-right", "right")],
            "svg": chart(
                [
                    Series("left", _scaled([s.lean_left_s for s in slots], 60), "lean-left"),
                    Series("right", _scaled([s.lean_right_s for s in slots], 60), "lean-right"),
                ],
                label="Lean minutes per day by side",
                fmt=_minutes,
                stacked=True,
            ),
        },
        {
            "id": "fidgets",
            "title": "Fidgets per hour seated",
            "about": "Small shifts of your weight per hour on the cushion"
            + (", over the week." if week else ".")
            + " Some are good for your back; a lot of them "
            "can be a sign of discomfort.",
            "advice": ADVICE_FOR_EVENT["fidget"].section,
            "svg": chart(
                [Series("fidgets/h", [s.fidgets_per_hour for s in slots], "fidgets")],
                label="Fidgets per hour seated, per day",
                fmt=_count,
            ),
        },
    ]


def summary(totals: list[DayTotals], now: date) -> dict:
    """The period at a glance: averages over its whole days with data (today left out until it
    is over), and counts over every day with data (today's session over an hour has happened)."""
    used = [t for t in totals if t.has_data]
    whole = whole_days(totals, now)
    return {
        "days": len(totals),
        "days_with_data": len(used),
        "whole_days": len(whole),
        "today_left_out": len(whole) < len(used),
        "seated_s": _mean(t.seated_s for t in whole),
        "longest_s": _mean(t.longest_s for t in whole),
        "breaks": _mean(t.breaks for t in whole),
        "break_prompts": _mean(t.break_prompts for t in whole),
        "breaks_skipped": _mean(t.breaks_skipped for t in whole),
        "lean_left_s": _mean(t.lean_left_s for t in whole),
        "lean_right_s": _mean(t.lean_right_s for t in whole),
        "fidgets_per_hour": _mean(t.fidgets_per_hour for t in whole),
        "over_hour_days": sum(t.longest_s > 3600 for t in used),
    }


def _period_url(days: int, last: date) -> str:
    return url_for("trends.show", days=days, end=None if last >= today() else last.isoformat())


@bp.route("/trends")
def show():
    days, first, last = _period()
    totals = totals_for_days(get_store(), first, last)
    week = days >= WEEKLY_FROM_DAYS
    now = today()
    slots = week_slots(totals, now) if week else day_slots(totals)
    earlier = _period_url(days, first - timedelta(days=1))
    later = _period_url(days, min(today(), last + timedelta(days=days))) if last < today() else None
    return render_template(
        "trends.html",
        days=days,
        first=first,
        last=last,
        slots=slots,
        week=week,
        charts=build_charts(slots, week),
        summary=summary(totals, now),
        choices=params.TREND_DAYS,
        end_given=last != today(),
        earlier=earlier,
        later=later,
        slot_name=charts.slot_name,
        week_link=lambda s: _period_url(7, min(s.first + timedelta(days=6 - s.first.weekday()), last)),
    )


@bp.route("/api/trends")
def api_trends():
    days, first, last = _period()
    totals = totals_for_days(get_store(), first, last)
    data = {
        "days": days,
        "first": first.isoformat(),
        "last": last.isoformat(),
        "per_day": [t.to_dict() for t in totals],
    }
    if days >= WEEKLY_FROM_DAYS:
        data["per_week"] = [
            {
                "week_of": s.first.isoformat(),
                "days_with_data": s.days_with_data,
                **{
                    k: (None if getattr(s, k) is None else round(getattr(s, k), 2))
                    for k in (
                        "seated_s",
                        "longest_s",
                        "breaks",
                        "break_prompts",
                        "breaks_skipped",
                        "lean_left_s",
                        "lean_right_s",
                        "fidgets_per_hour",
                    )
                },
            }
            for s in week_slots(totals, today())
        ]
    return jsonify(data)
