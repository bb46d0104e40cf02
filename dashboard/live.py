"""The present moment, from the live row the daemon rewrites every second or so.

`live_view` turns the row into what the Now page shows; the page renders it
once and /api/live sends the same dict every second for the page's script,
so the wording lives in one place.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from dashboard.advice import ADVICE_FOR_EVENT, advice_for_now
from dashboard.companion import SPASM_RECENT_H, BreakProgress, move_for
from dashboard.formatting import channel, countdown, duration, plural, time_of_day, timer
from dashboard.history import totals_for_days, ts_of
from device.config import Config
from device.storage.store import Store

# Events that restart the stillness clock (SPEC section 3: stillness nudge).
_MOVEMENTS = ("sit", "fidget", "lean", "twist", "perch", "slump", "prompt")
TWIST_RECENT_S = 300.0
COMPANION_AWAY_MAX_S = 30 * 60.0  # away longer than this is not a break any more: no companion
REQUEST_SLOW_S = 5.0  # a snooze asked for and not taken this long after: say so


def cushion_box(config: Config) -> dict:
    """The top view's geometry, in mm: the four corners and the viewBox around them."""
    half_w = config.geometry.width_mm / 2
    half_d = config.geometry.depth_mm / 2
    margin = max(half_w, half_d) * 0.25
    return {
        "half_w": half_w,
        "half_d": half_d,
        "view_box": f"{-half_w - margin:g} {-half_d - margin:g} {2 * (half_w + margin):g} {2 * (half_d + margin):g}",
        # Screen y grows downwards; forward (+y) is up on the screen.
        "corners": [
            {"name": "fl", "x": -half_w, "y": -half_d},
            {"name": "fr", "x": half_w, "y": -half_d},
            {"name": "bl", "x": -half_w, "y": half_d},
            {"name": "br", "x": half_w, "y": half_d},
        ],
        "label_offset": margin * 0.55,
        "front_label_y": -half_d - margin * 0.42,  # text baselines, in the margin clear of the corners
        "back_label_y": half_d + margin * 0.85,
    }


def _faults(value) -> list[str]:
    channels = []
    for item in value or []:
        name = item.get("channel") if isinstance(item, dict) else item
        if name:
            channels.append(str(name))
    return channels


def _still_seconds(store: Store, now: datetime, sitting_s: float) -> tuple[float, bool]:
    """Seconds since the last movement in this session, and whether a twist came lately."""
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
    return max(0.0, now.timestamp() - since), twisted


def _break_state(sitting: float, break_due_flag: bool, breaks) -> str:
    """'none', 'due' or 'overdue': where this much continuous sitting stands against the break timings."""
    if sitting >= breaks.overdue_after_min * 60:
        return "overdue"
    if break_due_flag or sitting >= breaks.break_after_min * 60:
        return "due"
    return "none"


def live_view(store: Store, config: Config, stale_after_s: float = 5.0, now: datetime | None = None) -> dict:
    """What the Now page shows, as plain JSON-able values."""
    now = now or datetime.now().astimezone()
    row = store.live()
    (today,) = totals_for_days(store, now.date(), now.date(), running=_running_session(row))
    breaks = config.breaks
    view: dict = {
        "has_live": row is not None,
        "stale": True,
        "age_s": None,
        "updated": "never",
        "status": "unknown",
        "status_text": "No live data yet",
        "sitting_s": None,
        "sitting_text": "—",
        "next_prompt_kind": None,
        "break_state": "none",
        "break_text": "",
        "move_text": "",
        "banner_text": "",
        "progress": 0.0,
        "progress_label": f"Sitting time towards the {breaks.break_after_min:g}-minute break",
        "break_due": False,
        "dot": None,
        "lean": None,
        "lean_text": "—",
        "posture": None,
        "posture_text": "—",
        "fidget_text": "—",
        "faults": [],
        "fault_text": "",
        "silence": "unknown",
        "silence_text": "",
        "silence_pending": "",
        "can_resume": False,
        "companion": None,
        "total_kg": None,
        # Counted and rounded as the sitting timer is (the running session up to the live row's
        # time, never rounded up), so one session reads the same on both lines.
        "today_seated": _so_far(today.seated_s),
        "today_longest": _so_far(today.longest_s),
        "today_breaks": plural(today.breaks, "break"),
        "today_prompts": plural(today.break_prompts, "break reminder"),
    }
    if row is None:
        view["stale_text"] = (
            "The cushion's daemon has not written anything yet. Once it runs, this page shows the live state."
        )
        view["advice"] = _advice(advice_for_now(seated=False))
        view["advice"]["text"] = "Nothing to say yet: no live data."
        return view

    updated = datetime.fromisoformat(row["updated_wall"])
    age = (now - updated).total_seconds()
    view["age_s"] = round(age, 1)
    view["updated"] = time_of_day(row["updated_wall"])
    view["stale"] = age > stale_after_s
    view["stale_text"] = (
        f"No news from the cushion for {duration(age)} (last at {time_of_day(row['updated_wall'])}): "
        "is its daemon running? These figures may be out of date."
        if view["stale"]
        else ""
    )

    seated = bool(row["seated"])
    sitting = float(row["sitting_s"] or 0.0)
    # Up for less than break_min_s, the session (and its clock) goes on: the daemon keeps counting.
    in_session = seated or sitting > 0
    view["status"] = "seated" if seated else ("up" if in_session else "away")
    view["status_text"] = {"seated": "Seated", "up": "Up for a moment", "away": "Away from the cushion"}[view["status"]]
    view["sitting_s"] = sitting if in_session else None
    view["sitting_text"] = timer(sitting) if in_session else "—"
    view["break_due"] = bool(row["break_due"])

    kind = row["next_prompt_kind"]
    in_s = row["next_prompt_in_s"]
    # The move for the coming break: the same from the prompt through the break (today's
    # breaks count it only once the person sits down again), another for the next one.
    move = move_for(today.breaks, _spasm_recently(store, now))
    view["move"] = move.title
    view["next_prompt_kind"] = kind
    state = _break_state(sitting, view["break_due"], breaks) if in_session else "none"
    view["break_state"] = state
    still_s, twisted = _still_seconds(store, now, sitting) if seated else (0.0, False)
    if view["status"] == "up":
        view["break_text"] = f"Stay up {duration(breaks.break_min_s)} and it counts as a break"
    elif not in_session:
        view["break_text"] = "The break clock starts when you sit down"
    elif state == "overdue":
        view["break_text"] = f"Break overdue: {timer(sitting)} without a break"
        if kind == "break_overdue" and in_s is not None:
            view["break_text"] += f"; next reminder in {countdown(in_s)}"
        view["banner_text"] = (
            f"Break overdue: you've been sitting {timer(sitting)}. Stand up now: {_lower(move.title)}."
        )
    elif state == "due":
        overdue_in = breaks.overdue_after_min * 60 - sitting
        view["break_text"] = f"Break due now; overdue in {countdown(overdue_in)}"
        view["banner_text"] = f"Break due: stand up and {_lower(move.title)}."
    else:
        due_in = in_s if kind == "break_due" and in_s is not None else breaks.break_after_min * 60 - sitting
        view["break_text"] = f"Break due in {countdown(due_in)}"
    if seated and state == "none":  # with a break due, standing up is the message
        move_in = in_s if kind == "move" and in_s is not None else breaks.still_min * 60 - still_s
        if kind in ("break_due", "break_overdue") and in_s is not None:
            move_in = max(move_in, in_s)  # the daemon's next prompt is the break: the nudge is no sooner
        view["move_text"] = (
            f"Move nudge in {countdown(move_in)} if you keep still"
            if move_in > 0
            else "Move nudge due: shift your weight"
        )
    if in_session:
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
            view["lean_text"] = f"Leaning {view['lean']}: {_split(lat)}"
        else:
            view["lean_text"] = f"Centred: {_split(lat)}"
    if seated and sag is not None:
        if sag >= detect.perch_sag:
            view["posture"] = "perch"
        elif sag <= detect.slump_sag:
            view["posture"] = "slump"
    if seated and sag is not None:
        view["posture_text"] = {"perch": "Perching on the front edge", "slump": "Slumped, sunk back"}.get(
            view["posture"], "Sitting back: neither perched nor slumped"
        )
    rate = row["fidgets_per_10min"]
    view["fidget_text"] = (
        "—" if rate is None or not seated else f"{plural(rate, 'small shift')} of your weight in the last 10 min"
    )
    view["total_kg"] = row["total_kg"]

    view["faults"] = _faults(row["faults"])
    if view["faults"]:
        view["fault_text"] = "Sensor fault: " + ", ".join(channel(c) for c in view["faults"])
    view.update(_silence(store, row, now))
    view["companion"] = _companion(row, view["status"], breaks.break_min_s, move)

    if view["faults"] and not seated:
        view["advice"] = _advice(ADVICE_FOR_EVENT["fault"])
        return view
    advice = advice_for_now(
        seated=seated,
        up=view["status"] == "up",
        break_due=state == "due",
        break_overdue=state == "overdue",
        leaning=view["lean"],
        twisted_recently=twisted,
        posture=view["posture"],
        still_minutes=still_s / 60,
        sitting_minutes=sitting / 60,
        still_after_min=breaks.still_min,
    )
    view["advice"] = _advice(advice)
    return view


def _lower(title: str) -> str:
    return title[:1].lower() + title[1:]


def _silence(store: Store, row: dict, now: datetime) -> dict:
    """What the buzzer will do: silent and why (until when), or it sounds; a request not taken yet."""
    reason = row.get("silenced")
    until = row.get("silenced_until_wall")
    until_text = ""
    if until:
        until_at = datetime.fromisoformat(until)
        until_at = until_at if until_at.tzinfo else until_at.astimezone()
        day = until_at.date()
        if day == now.date():
            until_text = f" until {time_of_day(until)}"
        elif day == now.date() + timedelta(days=1) and until_at.hour == 0 and until_at.minute == 0:
            until_text = " until tomorrow"
        elif day == now.date() + timedelta(days=1):
            until_text = f" until tomorrow {time_of_day(until)}"
        else:
            until_text = f" until {until_at:%a} {time_of_day(until)}"
    texts = {
        None: "The buzzer sounds for reminders.",
        "quiet_hours": f"The buzzer is silent: quiet hours{until_text}.",
        "snoozed": f"The buzzer is silent: snoozed{until_text}.",
        "muted": f"The buzzer is silent: muted{until_text}.",
        "disabled": "The buzzer is off in Settings; the light still shows a break due.",
    }
    out = {
        "silence": reason or "sounding",
        "silence_text": texts.get(reason, texts[None]),
        "silence_pending": "",
        "can_resume": reason in ("snoozed", "muted"),  # what Resume ends; quiet hours and Settings' off are not
    }
    request = store.last_silence_request()
    if request is not None and request["taken_wall"] is None:
        age = (now - datetime.fromisoformat(request["wall"])).total_seconds()
        out["silence_pending"] = (
            "Waiting for the cushion to take it…"
            if age < REQUEST_SLOW_S
            else f"Asked {duration(age)} ago and not taken yet: is the cushion's daemon running?"
        )
    return out


def _spasm_recently(store: Store, now: datetime) -> bool:
    """A spasm logged in the diary in the last SPASM_RECENT_H hours (no stretching then)."""
    entries = store.diary_between(now - timedelta(hours=SPASM_RECENT_H), now + timedelta(minutes=1))
    return any(entry.get("kind") == "spasm" for entry in entries)


def _companion(row: dict, status: str, break_min_s: float, move) -> dict | None:
    """While up or away (not for the night): how long the break has lasted against the
    break_min_s that makes it count, and one move to do now."""
    away = row.get("away_s")
    if status not in ("up", "away") or away is None or away > COMPANION_AWAY_MAX_S:
        return None
    progress = BreakProgress(float(away), break_min_s)
    if progress.counts:
        text = f"Break taken: {duration(away)} so far. Every minute up helps."
    else:
        text = f"Up for {timer(away)}: it counts as a break after {duration(break_min_s)}."
    return {
        "text": text,
        "fraction": round(progress.fraction, 3),
        "counts": progress.counts,
        "title": move.title,
        "how": move.how,
        "href": f"/advice#{move.advice}",
    }


def _running_session(row: dict | None) -> tuple[float, float] | None:
    """(start, end), Unix seconds, of the session the live row says is going on (also while up for
    a moment), or None."""
    if row is None or not row.get("sitting_s") or row["sitting_s"] <= 0:
        return None
    end = ts_of(row["updated_wall"])
    return end - float(row["sitting_s"]), end


def _so_far(seconds: float) -> str:
    """A running total, as the timer reads: '0 min', '40 s', '47 min', '1 h 35 min' (never rounded up)."""
    return timer(seconds) if seconds >= 1 else "0 min"


def _split(lat: float) -> str:
    """How the weight divides between the sides: '31% left, 69% right' (lat -1..1, positive right)."""
    right = round(50 + lat * 50)
    return f"{100 - right}% left, {right}% right of your weight"


def _advice(advice) -> dict:
    return {"text": advice.text, "section": advice.section, "href": f"/advice#{advice.section}"}
