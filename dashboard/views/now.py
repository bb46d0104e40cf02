"""The Now page (/), its live feed (/api/live), and Snooze / Mute / Resume (POST /silence).

A snooze from the page is the same state the cushion's button sets: the
request goes into the database and the daemon takes it within a second
(device.storage.silence); the page shows the result from the live row.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for

from dashboard.db import effective_config, fleet_mode, get_store
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


SNOOZE_CHOICES = (15, 30, 60)


@bp.route("/silence", methods=("POST",))
def silence():
    if fleet_mode():
        abort(404, "Snoozing is done on the cushion's own dashboard (or with MQTT's cmd/snooze).")
    snooze = request.form.get("snooze")
    action = request.form.get("action")
    if snooze is not None:
        if not snooze.isdigit() or int(snooze) not in SNOOZE_CHOICES:
            abort(400, f"Snooze for {', '.join(map(str, SNOOZE_CHOICES))} minutes.")
        get_store().request_silence("snooze", int(snooze))
        flash(f"Snoozed for {snooze} minutes: the cushion takes it within a second.", "ok")
    elif action == "mute_day":
        get_store().request_silence("mute_day")
        flash("Muted until tomorrow: the cushion takes it within a second.", "ok")
    elif action == "resume":
        get_store().request_silence("resume")
        flash("Reminders will sound again: the cushion takes it within a second.", "ok")
    else:
        abort(400, "Choose Snooze, Mute until tomorrow or Resume.")
    return redirect(url_for("now.index"))
