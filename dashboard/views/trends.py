"""The Trends page (/trends?days=7|30|365): the Day page's totals per day, as charts."""

from __future__ import annotations

import statistics
from datetime import timedelta

from flask import Blueprint, jsonify, render_template

from dashboard import charts, params
from dashboard.charts import Series, Target
from dashboard.db import get_store
from dashboard.history import DayTotals, today, totals_for_days

bp = Blueprint("trends", __name__)


def _period():
    days = params.trend_days()
    last = params.optional_date("end", today())
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


def build_charts(totals: list[DayTotals]) -> list[dict]:
    """The charts of the page: title, what it shows, the SVG."""
    days = [t.day for t in totals]
    seen = [t.has_data for t in totals]

    def per_day(func):
        return [func(t) if has else None for t, has in zip(totals, seen)]

    return [
        {"id": "seated", "title": "Time seated",
         "about": "Hours on the cushion per day, short absences included.",
         "svg": charts.bar_chart(days, [Series("seated", per_day(lambda t: t.seated_s / 3600), "seated")],
                                 label="Hours seated per day", fmt=_hours)},
        {"id": "longest", "title": "Longest session",
         "about": "The longest spell in the chair each day. The guide: stand every 30-45 minutes "
                  "and never sit more than 60 minutes without moving.",
         "advice": "movement",
         "legend": [("line target", "45 min: stand by now"), ("line limit", "60 min: the limit")],
         "svg": charts.bar_chart(days, [Series("longest", per_day(lambda t: t.longest_s / 60), "longest")],
                                 label="Longest session per day, minutes", fmt=_minutes,
                                 targets=[Target(45, "45 min: stand by now", "target"),
                                          Target(60, "60 min: the limit", "limit")])},
        {"id": "breaks", "title": "Breaks taken and break prompts",
         "about": "Breaks are standing up for a minute or more; a break prompt skipped is one followed "
                  "by another reminder instead of a break.",
         "advice": "movement",
         "legend": [("breaks", "breaks taken"), ("break-due", "break prompts")],
         "svg": charts.bar_chart(days, [Series("breaks", per_day(lambda t: t.breaks), "breaks"),
                                        Series("break prompts", per_day(lambda t: t.break_prompts), "prompts")],
                                 label="Breaks and break prompts per day", fmt=_count)},
        {"id": "lean", "title": "Lean time per side",
         "about": "Minutes spent leaning to one side (stacked). Mostly one side? Check what pulls you that way.",
         "advice": "desk",
         "legend": [("lean-left", "left"), ("lean-right", "right")],
         "svg": charts.bar_chart(days, [Series("left", per_day(lambda t: t.lean_left_s / 60), "lean-left"),
                                        Series("right", per_day(lambda t: t.lean_right_s / 60), "lean-right")],
                                 label="Lean minutes per day by side", fmt=_minutes, stacked=True)},
        {"id": "fidgets", "title": "Fidgets per hour seated",
         "about": "Frequent shifting can be a sign of discomfort.",
         "advice": "posture",
         "svg": charts.bar_chart(days, [Series("fidgets/h", [t.fidgets_per_hour for t in totals], "fidgets")],
                                 label="Fidgets per hour seated, per day", fmt=_count)},
    ]


def summary(totals: list[DayTotals]) -> dict:
    used = [t for t in totals if t.has_data]
    return {
        "days_with_data": len(used),
        "seated_s": _mean(t.seated_s for t in used),
        "longest_s": _mean(t.longest_s for t in used),
        "over_hour_days": sum(t.longest_s > 3600 for t in used),
        "breaks": _mean(t.breaks for t in used),
        "break_prompts": _mean(t.break_prompts for t in used),
        "breaks_skipped": _mean(t.breaks_skipped for t in used),
        "lean_left_s": _mean(t.lean_left_s for t in used),
        "lean_right_s": _mean(t.lean_right_s for t in used),
        "fidgets_per_hour": _mean(t.fidgets_per_hour for t in used),
    }


@bp.route("/trends")
def show():
    days, first, last = _period()
    totals = totals_for_days(get_store(), first, last)
    return render_template("trends.html", days=days, first=first, last=last, totals=totals,
                           charts=build_charts(totals), summary=summary(totals), choices=params.TREND_DAYS,
                           end_given=last != today())


@bp.route("/api/trends")
def api_trends():
    days, first, last = _period()
    totals = totals_for_days(get_store(), first, last)
    return jsonify(days=days, first=first.isoformat(), last=last.isoformat(),
                   per_day=[t.to_dict() for t in totals])
