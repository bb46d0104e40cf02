"""The Device page (/device): sample rate, dropped frames, channel health, calibration, faults.

Everything is said in words: a channel that never sent a reading is "no
reading yet", not "working"; the daemon's device_info facts get a label and
a readable value each (no key names, no Python dicts, no ISO timestamps).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import Blueprint, current_app, render_template

from dashboard.auth import PRIVATE_PREFIX
from dashboard.db import effective_config, get_store
from dashboard.formatting import CHANNEL_NAMES, duration, long_date, time_of_day, when
from dashboard.history import ts_of
from dashboard.live import live_view
from device.config import CHANNELS, Calibration

bp = Blueprint("device", __name__)

RECENT_DAYS = 30
SHOWN_FAULTS = 50
SLOW_RATE_SHARE = 0.9  # a sample rate below 90% of the configured one is worth a warning
DROPPED_WARN_SHARE = 0.01  # so is losing more than 1% of the frames, over the recent window
MIN_RECENT_S = 60.0  # a window shorter than this (a daemon just started) is too short to judge
REASONS = {
    "no_data": "no data",
    "rail": "reads a rail value (wire or power)",
    "stuck": "stuck on one value",
    "erratic": "erratic readings",
}
# device_info keys the daemon writes -> what they are called on the page.
INFO_LABELS = {
    "source": "Readings from",
    "rate_hz": "Configured sample rate",
    "calibration": "Calibration",
    "config_path": "Config file",
    "started_wall": "Daemon started",
}


def _is_timestamp(value) -> bool:
    if not isinstance(value, str) or len(value) < 16 or value[4:5] != "-" or "T" not in value:
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _calibration_text(value) -> str:
    if not isinstance(value, dict):
        return _plain(value)
    offset = value.get("offset") or []
    cpk = value.get("counts_per_kg") or []
    default = Calibration()
    tared = list(offset) != list(default.offset)
    weighed = list(cpk) != list(default.counts_per_kg)
    if not tared and not weighed:
        return "not done yet: no zero (tare) and the default 21,000 counts per kilogram"
    parts = ["zeroed (tared)" if tared else "not zeroed (no tare)"]
    if weighed and len(cpk) == 4:
        parts.append("counts per kilogram " + ", ".join(f"{CHANNEL_NAMES[c]} {v:,.0f}" for c, v in zip(CHANNELS, cpk)))
    else:
        parts.append("the default 21,000 counts per kilogram")
    return "; ".join(parts)


def _plain(value) -> str:
    """Any other stored fact as text a person can read."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return "; ".join(f"{str(k).replace('_', ' ')}: {_plain(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(_plain(v) for v in value)
    if _is_timestamp(value):
        return when(value)
    if isinstance(value, str) and len(value) == 10:
        try:
            return long_date(date.fromisoformat(value))
        except ValueError:
            pass
    return str(value)


def about_facts(info: dict) -> list[tuple[str, str, bool]]:
    """(label, text, is a path) for each fact the daemon recorded."""
    facts = []
    order = list(INFO_LABELS)
    for key, value in sorted(
        info.items(), key=lambda item: (order.index(item[0]) if item[0] in order else len(order), item[0])
    ):
        if key in ("calibrated_on", "calibration_date"):
            continue  # shown under Sensor
        label = INFO_LABELS.get(key) or key.replace("_", " ").replace(".", " ").strip().capitalize()
        if key == "rate_hz":
            text = f"{value} frames a second"
        elif key == "calibration":
            text = _calibration_text(value)
        elif key == "source":
            text = "the HX711 load-cell boards" if value == "HX711" else _plain(value)
        else:
            text = _plain(value)
        facts.append((label, text, key == "config_path"))
    return facts


def _channels(faults: list[dict], view: dict, recent_days: int) -> list[dict]:
    live_bad = set(view["faults"])
    out = []
    for name in CHANNELS:
        mine = [f for f in faults if f["channel"] == name]
        current = next((f for f in reversed(mine) if f["end_wall"] is None), None)
        if not view["has_live"]:
            state, text = "unknown", "no reading yet"
        elif name in live_bad:
            state = "bad"
            text = "FAULT"
            if current is not None:
                text += (
                    f" since {time_of_day(current['start_wall'])}: {REASONS.get(current['reason'], current['reason'])}"
                )
        elif view["stale"]:
            state, text = "stale", f"working when last heard from ({view['updated']})"
        else:
            state, text = "ok", "working"
        history = ""
        if mine:
            history = (
                f"{len(mine)} fault{'s' if len(mine) != 1 else ''} in {recent_days} days, "
                f"last {when(mine[-1]['start_wall'])}"
            )
        out.append({"name": name, "state": state, "text": text, "history": history})
    return out


def _rate_notes(live: dict | None, info: dict, configured: int) -> tuple[str | None, str | None, list[str]]:
    """The sample rate and dropped frames as text, and warnings about them."""
    if not live:
        return None, None, []
    warnings = []
    rate = live.get("sample_rate_hz")
    rate_text = None
    if rate is not None:
        rate_text = f"{rate:.1f} frames a second (configured: {configured})"
        if rate < configured * SLOW_RATE_SHARE:
            warnings.append(
                f"Only {rate:.0f} frames a second arrive, well below the configured {configured}: "
                'the Pi may be busy or its GPIO path slow (troubleshooting guide, "Slow reads").'
            )
    recent = _recent_loss(live)
    dropped_text, warning = recent if recent is not None else _loss_since_start(live, info, configured)
    if warning:
        warnings.append(
            warning + " A few are normal; this many point to a busy Pi or a wiring problem "
            '(troubleshooting guide, "The chip powers down").'
        )
    return rate_text, dropped_text, warnings


def _recent_loss(live: dict) -> tuple[str, str | None] | None:
    """Frames lost over the daemon's recent window (up to 10 minutes), as text and a warning;
    None for a live row without those figures (a daemon older than schema version 4)."""
    span, read, lost = live.get("recent_s"), live.get("frames_recent"), live.get("dropped_recent")
    if span is None or read is None or lost is None:
        return None
    since_start = live.get("dropped_frames")
    total = f"; {since_start:,} since the daemon started" if since_start is not None else ""
    last = f"in the last {duration(span)}"
    if read + lost <= 0:
        return f"no frames read {last} yet{total}", None
    share = lost / (read + lost)
    text = f"{share:.1%} {last} ({lost:,} of {read + lost:,} frames){total}"
    warning = None
    if share >= DROPPED_WARN_SHARE and span >= MIN_RECENT_S:
        warning = f"{share:.1%} of the frames were lost {last} ({lost:,} of {read + lost:,})."
    return text, warning


def _loss_since_start(live: dict, info: dict, configured: int) -> tuple[str | None, str | None]:
    """An older daemon counts lost frames only since it started: judged over that time, and said so."""
    dropped = live.get("dropped_frames")
    if dropped is None:
        return None, None
    started = info.get("started_wall")
    if not isinstance(started, str) or not _is_timestamp(started):
        return f"{dropped:,} since the daemon started", None
    elapsed = ts_of(live["updated_wall"]) - ts_of(started)
    text = f"{dropped:,} since the daemon started ({when(started)})"
    expected = elapsed * configured
    if expected <= 0:
        return text, None
    share = dropped / (expected + dropped) if dropped else 0.0
    text += f": {share:.1%} of the frames"
    warning = None
    if share >= DROPPED_WARN_SHARE:
        warning = (
            f"{share:.1%} of the frames were lost since the daemon started ({dropped:,} in the "
            f"{duration(elapsed)} since {time_of_day(started)}; this version of the daemon does not say "
            "how many lately)."
        )
    return text, warning


@bp.route("/device")
def show():
    store = get_store()
    now = datetime.now().astimezone()
    live = store.live()
    config = effective_config()
    view = live_view(store, config, current_app.config["LIVE_STALE_S"], now=now)
    faults = store.faults_between(now - timedelta(days=RECENT_DAYS), now + timedelta(seconds=1))
    info = {k: v for k, v in store.device_info().items() if not k.startswith(PRIVATE_PREFIX)}
    calibrated = info.get("calibrated_on") or info.get("calibration_date")
    rate = info.get("rate_hz")
    configured = rate if isinstance(rate, int) else config.sensor.rate_hz
    rate_text, dropped_text, warnings = _rate_notes(live, info, configured)
    rows = []
    for f in reversed(faults[-SHOWN_FAULTS:]):
        end = f["end_wall"]
        lasted = (
            ts_of(end) if end else min(now.timestamp(), ts_of(live["updated_wall"]) if live else now.timestamp())
        ) - ts_of(f["start_wall"])
        same_day = end and end[:10] == f["start_wall"][:10]
        rows.append(
            {
                "channel": f["channel"],
                "began": when(f["start_wall"], seconds=True),
                "ended": (
                    "still going"
                    if not end
                    else (f"{datetime.fromtimestamp(ts_of(end)):%H:%M:%S}" if same_day else when(end, seconds=True))
                ),
                "lasted": duration(lasted) + ("" if end else " so far"),
                "why": REASONS.get(f["reason"], f["reason"]),
            }
        )
    return render_template(
        "device.html",
        live=live,
        view=view,
        channels=_channels(faults, view, RECENT_DAYS),
        faults=rows,
        fault_count=len(faults),
        facts=about_facts(info),
        calibrated=_plain(calibrated) if calibrated else None,
        recent_days=RECENT_DAYS,
        rate_text=rate_text,
        dropped_text=dropped_text,
        warnings=warnings,
        schema_version=store.schema_version,
        settings_version=store.settings_version(),
        database=current_app.config["DATABASE"],
    )
