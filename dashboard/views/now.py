"""The Now page (/) and its live feed (/api/live)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template

from dashboard.db import effective_config, get_store
from dashboard.live import cushion_box, live_view

bp = Blueprint("now", __name__)


def _view() -> dict:
    return live_view(get_store(), effective_config(), stale_after_s=current_app.config["LIVE_STALE_S"])


@bp.route("/")
def index():
    return render_template("now.html", view=_view(), box=cushion_box(effective_config()))


@bp.route("/api/live")
def api_live():
    view = _view()
    row = get_store().live()
    response = jsonify(view=view, live=row)
    response.headers["Cache-Control"] = "no-store"
    return response
