"""The present moment, from the live row the daemon rewrites every second or so.

`live_view` turns the row into what the Now page shows; the page renders it
once and /api/live sends the same dict every second for the page's script,
so the wording lives in one place.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from device.config import Config
from device.store import Store

from dashboard.advice import ADVICE_FOR_EVENT, advice_for_now
from dashboard.formatting import channel, clock, count, duration, time_of_day
from dashboard.history import totals_for_days, ts_of

NEXT_PROMPT_TEXT = {"break_due": "Break due in", "break_overdue": "Next break reminder in",
                    "move": "Move nudge in"}
# Events that restart the stillness clock (SPEC section 3: stillness nudge).
_MOVEMENTS = ("sit", "fidget", "lean", "twist", "perch", "slump", "prompt")
TWIST_RECENT_S = 300.0


def cushion_box(config: Config) -> dict:
    """The top view's geometry, in mm: the four corners and the viewBox around them."""
    half_w = config.geometry.width_mm / 2
    half_d = config.geometry.depth_mm / 2
    margin = max(half_w, half_d) * 0.25
    return {
        "half_w": half_w, "half_d": half_d,
        "view_box": f"{-half_w - margin:g} {-half_d - margin:g} {2 * (half_w + margin):g} {2 * (half_d + margin):g}",
        # Screen y grows downwards; forward (+y) is up on the screen.
        "corners": [{"name": "fl", "x": -half_w, "y": -half_d}, {"name": "fr", "x": half_w, "y": -half_d},
                    {"name": "bl", "x": -half_w, "y": half_d}, {"name": "br", "x": half_w, "y": half_d}],
        "label_offset": margin * 0.55,
        "front_label_y": -half_d - margin * 0.42,   # text baselines, in the margin clear of the corners
        "back_label_y": half_d + margin * 0.85,
    }


def _faults(value) -> list[str]:
    channels = []
    for item in value or []:
        name = item.get("channel") if isinstance(item, dict) else item
        if name:
            channels.append(str(name))
    return channels


def _still_minutes(store: Store, now: datetime, sitting_s: float) -> tuple[float, bool]:
    """Minutes since the last movement in this session, and whether a twist came lately."""
    since = now.timestamp() - sitting_s
    twisted = False
    for row in store.events_between(now - timedelta(hours=2), now + timedelta(seconds=1), types=_MOVEMENTS):
        t = ts_of(row["wall"])
        if row["type"] == "twist" and now.timestamp() - t <= TWIST_RECENT_S:
            twisted = True
        if row["type"] == "prompt" and row["data"].get("kind") != "move":
            continue
        end = row["data"].get("end")
        start = row["data"].get("start")
        if isinstance(end, (int, float)) and isinstance(start, (int, float)):
            t += end - start  # the end of a lean, perch or slump restarts the clock too
        since = max(since, t)
    return max(0.0, (now.timestamp() - since) / 60), twisted


def live_view(store: Store, config: Config, stale_after_s: float = 5.0, now: datetime | None = None) -> dict:
    """What the Now page shows, as plain JSON-able values."""
    now = now or datetime.now().astimezone()
    row = store.live()
    (today,) = totals_for_days(store, now.date(), now.date())
    view: dict = {
        "has_live": row is not None, "stale": True, "age_s": None, "updated": "never",
        "status": "unknown", "status_text": "No live data yet",
        "sitting_s": None, "sitting_text": "—", "next_prompt_kind": None, "next_prompt_text": "",
        "progress": 0.0, "break_due": False, "dot": None, "lean": None, "lean_text": "—",
        "posture": None, "posture_text": "—", "fidget_text": "—", "faults": [], "fault_text": "", "muted_text": "",
        "total_kg": None,
        "today_seated": duration(today.seated_s), "today_longest": duration(today.longest_s),
        "today_breaks": f"{today.breaks} / {today.break_prompts}",
    }
    if row is None:
        view["stale_text"] = ("The cushion's daemon has not written anything yet. "
                              "Once it runs, this page shows the live state.")
        view["advice"] = _advice(advice_for_now(seated=False, tip=now.timetuple().tm_yday))
        view["advice"]["text"] = "Nothing to say yet: no live data."
        return view

    updated = datetime.fromisoformat(row["updated_wall"])
    age = (now - updated).total_seconds()
    view["age_s"] = round(age, 1)
    view["updated"] = time_of_day(row["updated_wall"])
    view["stale"] = age > stale_after_s
    view["stale_text"] = (f"No news from the cushion for {duration(age)} (last at {time_of_day(row['updated_wall'])}): "
                          "is its daemon running? These figures may be out of date." if view["stale"] else "")

    seated = bool(row["seated"])
    sitting = float(row["sitting_s"] or 0.0)
    # Up for less than break_min_s, the session (and its clock) goes on: the daemon keeps counting.
    in_session = seated or sitting > 0
    view["status"] = "seated" if seated else ("up" if in_session else "away")
    view["status_text"] = {"seated": "Seated", "up": "Up for a moment",
                           "away": "Away from the cushion"}[view["status"]]
    view["sitting_s"] = sitting if in_session else None
    view["sitting_text"] = clock(sitting) if in_session else "—"
    view["break_due"] = bool(row["break_due"])

    breaks = config.breaks
    kind = row["next_prompt_kind"]
    in_s = row["next_prompt_in_s"]
    if view["status"] == "up":
        view["next_prompt_text"] = f"Stay up {duration(breaks.break_min_s)} and it counts as a break"
    elif view["break_due"]:
        view["next_prompt_text"] = "Break due now"
        if kind in NEXT_PROMPT_TEXT and in_s is not None:
            view["next_prompt_text"] += f"; next reminder in {clock(in_s)}"
    elif seated and kind in NEXT_PROMPT_TEXT and in_s is not None:
        view["next_prompt_kind"] = kind
        view["next_prompt_text"] = f"{NEXT_PROMPT_TEXT[kind]} {clock(in_s)}"
    elif not seated:
        view["next_prompt_text"] = "The break clock restarts when you sit down"
    if in_session:
        if kind in ("break_due", "break_overdue") and in_s is not None and sitting + in_s > 0:
            view["progress"] = min(1.0, sitting / (sitting + max(0.0, in_s)))
        else:
            view["progress"] = min(1.0, sitting / (breaks.break_after_min * 60))

    detect = config.detect
    lat, sag = row["lat"], row["sag"]
    if seated and row["cop_x_mm"] is not None and row["cop_y_mm"] is not None:
        box = cushion_box(config)
        x = max(-box["half_w"] * 1.15, min(box["half_w"] * 1.15, row["cop_x_mm"]))
        y = max(-box["half_d"] * 1.15, min(box["half_d"] * 1.15, row["cop_y_mm"]))
        view["dot"] = {"cx": round(x, 1), "cy": round(-y, 1)}
    if seated and lat is not None:
        if abs(lat) >= detect.lean_start:
            view["lean"] = "right" if lat > 0 else "left"
            view["lean_text"] = f"Leaning {view['lean']} ({abs(lat) * 50 + 50:.0f}/{50 - abs(lat) * 50:.0f})"
        else:
            view["lean_text"] = "Centred"
    if seated and sag is not None:
        if sag >= detect.perch_sag:
            view["posture"] = "perch"
        elif sag <= detect.slump_sag:
            view["posture"] = "slump"
        if view["posture"] and view["lean_text"] == "Centred":
            view["lean_text"] = "Centred side to side"
    view["posture_text"] = {"perch": "On the front edge", "slump": "Sunk back"}.get(view["posture"], "—")
    rate = row["fidgets_per_10min"]
    view["fidget_text"] = "—" if rate is None or not seated else f"{count(rate)} in the last 10 min"
    view["total_kg"] = row["total_kg"]

    view["faults"] = _faults(row["faults"])
    if view["faults"]:
        view["fault_text"] = "Sensor fault: " + ", ".join(channel(c) for c in view["faults"])
    if row["muted_until_wall"] and ts_of(row["muted_until_wall"]) > now.timestamp():
        view["muted_text"] = f"Prompts snoozed until {time_of_day(row['muted_until_wall'])}"

    if view["faults"] and not seated:
        view["advice"] = _advice(ADVICE_FOR_EVENT["fault"])
        return view
    still, twisted = _still_minutes(store, now, sitting) if seated else (0.0, False)
    overdue = view["break_due"] and sitting >= breaks.overdue_after_min * 60
    advice = advice_for_now(
        seated=seated, break_due=view["break_due"] and not overdue, break_overdue=overdue,
        leaning=view["lean"], twisted_recently=twisted, posture=view["posture"],
        still_minutes=still, sitting_minutes=sitting / 60,
        still_after_min=breaks.still_min, tip=now.timetuple().tm_yday)
    view["advice"] = _advice(advice)
    return view


def _advice(advice) -> dict:
    return {"text": advice.text, "section": advice.section, "href": f"/advice#{advice.section}"}
