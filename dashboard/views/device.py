"""The Device page (/device): sample rate, dropped frames, channel health, calibration, faults."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, current_app, render_template

from device.config import CHANNELS

from dashboard.auth import PRIVATE_PREFIX
from dashboard.db import effective_config, get_store
from dashboard.live import live_view

bp = Blueprint("device", __name__)

RECENT_DAYS = 30
SHOWN_FAULTS = 50


@bp.route("/device")
def show():
    store = get_store()
    now = datetime.now().astimezone()
    live = store.live()
    view = live_view(store, effective_config(), current_app.config["LIVE_STALE_S"], now=now)
    faults = store.faults_between(now - timedelta(days=RECENT_DAYS), now + timedelta(seconds=1))
    open_channels = {f["channel"] for f in faults if f["end_wall"] is None}
    live_channels = set(view["faults"])
    channels = []
    for name in CHANNELS:
        last = next((f for f in reversed(faults) if f["channel"] == name), None)
        bad = name in live_channels or (name in open_channels and not view["has_live"])
        channels.append({"name": name, "ok": not bad, "last_fault": last,
                         "count": sum(f["channel"] == name for f in faults)})
    info = {k: v for k, v in store.device_info().items() if not k.startswith(PRIVATE_PREFIX)}
    calibrated = info.pop("calibrated_on", None) or info.pop("calibration_date", None)
    return render_template(
        "device.html", live=live, view=view, channels=channels, faults=list(reversed(faults))[:SHOWN_FAULTS],
        fault_count=len(faults), info=info, calibrated=calibrated, recent_days=RECENT_DAYS,
        schema_version=store.schema_version, settings_version=store.settings_version(),
        database=current_app.config["DATABASE"],
    )
