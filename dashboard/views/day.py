"""The Day page (/day/YYYY-MM-DD): a timeline of sessions, breaks and events, and the day's totals.

The episodes of pain logged in the diary that day are drawn on the timeline
too (a star each, linked to the entry) and listed under it in words.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, jsonify, redirect, render_template, url_for

from dashboard import charts, params
from dashboard.advice import ADVICE_FOR_EVENT
from dashboard.db import get_store
from dashboard.history import day_detail, today

bp = Blueprint("day", __name__)

# The legend under the timeline: what each mark is, linked to its advice.
LEGEND = (
    ("session", "Sitting session", "long_session"),
    ("session long", "Session over an hour", "long_session"),
    ("break", "Break (between two sittings)", "break_due"),
    ("shape break-due", "Break due", "break_due"),
    ("shape break-overdue", "Break overdue", "break_overdue"),
    ("shape move", "Move nudge", "move"),
    ("lean-left", "Lean left", "lean"),
    ("lean-right", "Lean right", "lean"),
    ("shape twist", "Twist or reach", "twist"),
    ("perch", "Perch (front edge)", "perch"),
    ("slump", "Slump (sunk back)", "slump"),
    ("fidget", "Fidget", "fidget"),
    ("fault", "Sensor fault", "fault"),
)


@bp.route("/day")
def pick():
    """/day and /day?date=YYYY-MM-DD (the date picker's form) go to the day's own address."""
    day = params.optional_date("date", today())
    return redirect(url_for("day.show", day_text=day.isoformat()))


@bp.route("/day/<day_text>")
def show(day_text: str):
    day = params.parse_date(day_text, "date")
    now = datetime.now().timestamp()
    detail = day_detail(get_store(), day, now=now)
    legend = [
        (css, label, ADVICE_FOR_EVENT[key])
        for css, label, key in LEGEND
        if css != "fault" or any(s.kind == "fault" for s in detail.spans)
    ]
    cuts = [] if detail.empty else charts.timeline_axis(detail, now).cuts
    return render_template(
        "day.html",
        detail=detail,
        totals=detail.totals,
        legend=legend,
        cuts=cuts,
        long_sessions=sum(row["long"] for row in detail.session_rows),
        timeline=None if detail.empty else charts.timeline(detail, now=now),
        episodes=[(e.id, charts.episode_title(e)) for e in sorted(detail.episodes, key=lambda e: e.t)],
        previous=day - timedelta(days=1),
        next=day + timedelta(days=1) if day < today() else None,
        is_today=day == today(),
    )


@bp.route("/api/day/<day_text>")
def api_day(day_text: str):
    day = params.parse_date(day_text, "date")
    detail = day_detail(get_store(), day)
    sessions = [
        {
            "id": r["id"],
            "start_wall": r["start_wall"],
            "end_wall": r["end_wall"],
            "duration_s": round(r["duration_s"], 1),
            "open": r["open"],
            "prompts": r["prompts"],
        }
        for r in detail.session_rows
    ]
    return jsonify(
        date=day.isoformat(),
        totals=detail.totals.to_dict(),
        sessions=sessions,
        events=detail.events,
        previous=(day - timedelta(days=1)).isoformat(),
        next=(day + timedelta(days=1)).isoformat(),
    )
