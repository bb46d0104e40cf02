"""Fleet mode (`cushion dashboard --db HUB_DB`): /fleet lists every cushion; the other pages show the one picked.

A cushion is picked with `?cushion=ID` on any page (the /fleet page links
so), kept in the browser's session, and shown in the header's picker. The
history pages (Now, Day, Trends, Device) then read that cushion's database.
Settings are each cushion's own (its own dashboard, or MQTT's cmd/set) and
the diary never leaves a cushion's Pi: those pages are not on a hub.

Online or offline is the cushion's availability (its last will says offline
when it vanishes); "no news" is a state older than STALE_S, as a cushion
that is online sends one at least every 5 s.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, current_app, g, jsonify, redirect, render_template, request, session, url_for

from dashboard.db import fleet_mode
from dashboard.formatting import channel, duration
from dashboard.history import ts_of
from device.storage.fleet import FleetStore

bp = Blueprint("fleet", __name__)

STALE_S = 30.0
NEEDS_NO_CUSHION = ("fleet", "auth", "advice")
NOT_ON_A_HUB = {
    "settings": "Settings are each cushion's own: change them on that cushion's dashboard "
    "(or with MQTT's cmd/set). The hub only shows what the cushions publish.",
    "diary": "The pain diary never leaves a cushion's Pi: it is on that cushion's own dashboard, not on the hub.",
}


def _cushions() -> list[dict[str, Any]]:
    with FleetStore(Path(current_app.config["DATABASE"]), read_only=True) as fleet:
        return fleet.cushions()


@bp.before_app_request
def pick_cushion():
    if not fleet_mode() or request.endpoint == "static":
        return None
    known = {row["id"] for row in _cushions()}
    asked = request.args.get("cushion")
    if asked is not None:
        if asked not in known:
            abort(404, f"No cushion called {asked[:64]!r} has been heard of by this hub.")
        session["cushion"] = asked
    g.cushion = session.get("cushion") if session.get("cushion") in known else None
    g.cushions = sorted(known)
    if request.blueprint in NEEDS_NO_CUSHION:
        return None
    if request.blueprint in NOT_ON_A_HUB:
        abort(404, NOT_ON_A_HUB[request.blueprint])
    if g.cushion is None:
        if request.path.startswith("/api/"):
            abort(404, "pick a cushion first: /fleet lists them")
        return redirect(url_for("fleet.show"))
    return None


@bp.app_context_processor
def fleet_globals():
    if not fleet_mode():
        return {"fleet": False}
    return {"fleet": True, "cushion": g.get("cushion"), "cushion_ids": g.get("cushions", [])}


def _row(item: dict[str, Any], now: float) -> dict[str, Any]:
    state = item["state"] or {}
    heard = ts_of(item["state_wall"]) if item["state_wall"] else None
    age = None if heard is None else max(0.0, now - heard)
    online = item["online"] and age is not None and age <= STALE_S
    seated = bool(state.get("seated")) and online
    sitting = float(state.get("sitting_s") or 0.0) + (age or 0.0) if seated else None
    faults = [channel(name) for name in state.get("faults") or []]
    if not item["online"]:
        status = "offline"
        status_text = "Offline" + (f" (last news {duration(age)} ago)" if age is not None else "")
    elif not online:
        status = "stale"
        status_text = f"No news for {duration(age)}" if age is not None else "No state yet"
    else:
        status = "online"
        status_text = "Online"
    return {
        "id": item["id"],
        "status": status,
        "status_text": status_text,
        "seated": seated,
        "place": "Seated" if seated else ("Away" if online else "—"),
        "sitting": duration(sitting) if sitting is not None else "",
        "break_due": bool(state.get("break_due")) and seated,
        "faults": faults,
        "seated_today": duration(float(state.get("seated_today_s") or 0.0)) if state else "—",
        "sessions_today": int(state.get("sessions_today") or 0),
        "breaks_today": int(state.get("breaks_today") or 0),
        "last_heard": item["last_seen_wall"],
    }


def _rows() -> list[dict[str, Any]]:
    now = datetime.now().astimezone().timestamp()
    return [_row(item, now) for item in _cushions()]


@bp.route("/fleet")
def show():
    if not fleet_mode():
        abort(404, "This dashboard shows one cushion; /fleet is on a hub's dashboard (docs/mqtt.md).")
    rows = _rows()
    summary = {
        "total": len(rows),
        "online": sum(r["status"] == "online" for r in rows),
        "seated": sum(r["seated"] for r in rows),
        "break_due": sum(r["break_due"] for r in rows),
        "faults": sum(bool(r["faults"]) for r in rows),
    }
    return render_template("fleet.html", rows=rows, summary=summary)


@bp.route("/api/fleet")
def api():
    if not fleet_mode():
        abort(404, "not a hub's dashboard")
    return jsonify(cushions=_rows())
