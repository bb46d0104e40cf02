"""The Advice page (/advice): every section of the guide, red flags first."""

from __future__ import annotations

from flask import Blueprint, render_template

from dashboard.advice import DISCLAIMER, RED_FLAGS, SECTIONS

bp = Blueprint("advice", __name__)


@bp.route("/advice")
def show():
    urgent = [s for s in SECTIONS if s.urgent]
    others = [s for s in SECTIONS if not s.urgent]
    return render_template(
        "advice.html",
        urgent=urgent,
        sections=others,
        all_sections=urgent + others,
        red_flags=RED_FLAGS,
        disclaimer=DISCLAIMER,
    )
