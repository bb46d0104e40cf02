"""The pain diary (/diary): log an episode in two taps and see what the cushion saw before it.

Two taps: how bad (0-10), then where it hurts (neck, upper, middle or lower
back, buttock, hip or leg, and the side); each "where" button saves the form.
The kind of pain (spasm, ache, sharp, numbness or tingling), when, a note and
red flags are optional; an entry without a time is stamped with the moment it
is saved (never the moment the page was loaded). For each episode the page
puts the hours before it next to the person's usual figures for the same
hours, marking those well above usual.
A ticked red flag gets its plain instruction to seek medical attention;
recent ones are summed up in one banner above the form. Deleting takes a
confirmation. Nothing here is ever sent anywhere.

Numbness or tingling in a leg is the guide's first red flag ("spasms with
leg numbness or weakness", under "requiring immediate attention"; also in
its list of signs to seek medical attention for): an entry of that kind in
the leg counts as having the `leg_numbness` flag wherever flags are shown
(on the entry, in the recent banner, in /api/diary's red_flag_actions),
ticked or not. It is derived, not stored: the entry keeps what the person
entered. Numbness elsewhere is not one of the guide's red flags and gets no
such message.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from dashboard import params
from dashboard.advice import ADVICE_FOR_EVENT, RED_FLAGS
from dashboard.db import get_store
from dashboard.formatting import count, duration, number, when
from dashboard.history import EpisodeContext, episode_contexts, local_midnight, today
from device.storage.schema import (
    DIARY_KIND_NAMES,
    DIARY_KINDS,
    DIARY_REGION_NAMES,
    DIARY_REGION_SIDES,
    DIARY_REGIONS,
    DIARY_SIDES,
)

bp = Blueprint("diary", __name__)

HOURS_BEFORE = 4.0
BASELINE_DAYS = 14
SHOWN = 50
MAX_NOTE = 2000
RED_FLAG_RECENT_DAYS = 7
FLAGS = {flag.key: flag for flag in RED_FLAGS}
# The words for the stored values are device.storage.schema's; here only how they are put together.
REGION_NAMES = {region: name.capitalize() for region, name in DIARY_REGION_NAMES.items()}
SIDE_NAMES = {side: side for side in DIARY_SIDES}


def where_label(region: str, side: str) -> str:
    """'Lower back, left': where an episode was, in plain words."""
    return f"{REGION_NAMES.get(region, region)}, {SIDE_NAMES.get(side, side)}"


def kind_label(kind: str | None) -> str:
    """'spasm', 'numbness or tingling'; '' when not given (entries before the kind was asked)."""
    return DIARY_KIND_NAMES.get(kind, kind) if kind else ""


def episode_label(entry: dict) -> str:
    """'Lower back, left, spasm': where, and the kind of pain when given (an old entry reads as it did)."""
    kind = kind_label(entry.get("kind"))
    return where_label(entry["region"], entry["side"]) + (f", {kind}" if kind else "")


# An episode of this kind in this region is one of the guide's red flags (see the module's docstring).
IMPLIED_FLAGS = {("leg", "numbness"): "leg_numbness"}


def red_flags_of(entry: dict) -> list[str]:
    """The red flags an entry has: those ticked, and the one its kind in its region is (numbness in a leg)."""
    implied = IMPLIED_FLAGS.get((entry["region"], entry.get("kind") or ""))
    return [key for key in FLAGS if key in entry["red_flags"] or key == implied]


def flag_messages(keys) -> list[dict]:
    """The red flags ticked, most urgent first (the order of RED_FLAGS), with what to do."""
    return [{"key": f.key, "label": f.label, "action": f.action} for f in RED_FLAGS if f.key in set(keys)]


# The rows of the "hours before" table: (figure, name, advice it links to, format, how much more than
# usual is worth marking: at least this many times the usual, and at least this much more).
COMPARED = (
    ("seated_s", "Time seated", ADVICE_FOR_EVENT["long_session"].section, duration, 1.25, 30 * 60.0),
    ("longest_s", "Longest session", ADVICE_FOR_EVENT["long_session"].section, duration, 1.25, 15 * 60.0),
    ("breaks_skipped", "Break prompts skipped", ADVICE_FOR_EVENT["break_overdue"].section, count, 1.0, 1.0),
    ("lean_s", "Leaning", ADVICE_FOR_EVENT["lean"].section, duration, 1.5, 3 * 60.0),
    ("fidgets_per_hour", "Fidgets per hour", ADVICE_FOR_EVENT["fidget"].section, number, 1.5, 2.0),
)


def comparisons(context: EpisodeContext) -> list[dict]:
    """The table's rows: each figure before the episode and usually, and whether it was well above usual."""
    rows = []
    for key, name, advice, fmt, ratio, least in COMPARED:
        before = getattr(context.before, key)
        usual = None if context.usual is None else getattr(context.usual, key)
        worse = before is not None and usual is not None and before - usual >= least and before >= usual * ratio
        if key == "longest_s" and before is not None and before > 3600:
            worse = worse or usual is not None and usual <= 3600  # over the guide's hour, when that is unusual
        rows.append(
            {
                "name": name,
                "advice": advice,
                "before": fmt(before),
                "usual": fmt(usual) if context.usual is not None else "—",
                "worse": bool(worse),
            }
        )
    return rows


def _parse_form(form) -> tuple[dict, dict[str, str]]:
    """The entry from the form, and messages per field for what is wrong."""
    errors: dict[str, str] = {}
    entry: dict = {}
    text = (form.get("when") or "").strip()
    if text:
        try:
            moment = datetime.strptime(text, "%Y-%m-%dT%H:%M")
        except ValueError:
            errors["when"] = f"Give the time as date and time (YYYY-MM-DDTHH:MM), not {text!r}."
        else:
            if moment > datetime.now() + timedelta(minutes=5):
                errors["when"] = "That time is in the future."
            elif moment.year < 1970:
                errors["when"] = "That time is too far back."
            entry["wall"] = moment
    else:
        entry["wall"] = datetime.now()
    severity = form.get("severity", "")
    if severity not in {str(i) for i in range(11)}:
        errors["severity"] = "Choose how bad it is, from 0 (no pain) to 10 (the worst)."
    else:
        entry["severity"] = int(severity)
    where = form.get("where") or "-".join(filter(None, (form.get("region"), form.get("side"))))
    region, _, side = where.partition("-")
    if region not in DIARY_REGIONS or side not in DIARY_REGION_SIDES[region]:
        errors["where"] = "Choose where it hurts: tap one of the buttons below."
    else:
        entry["region"], entry["side"] = region, side
    kind = form.get("kind") or ""
    if kind and kind not in DIARY_KINDS:
        names = ", ".join(DIARY_KIND_NAMES.values())
        errors["kind"] = f"Choose the kind of pain from the list ({names}), or “not sure”."
    entry["kind"] = kind or None
    flags = form.getlist("red_flags")
    unknown = [key for key in flags if key not in FLAGS]
    if unknown:
        errors["red_flags"] = f"Unknown red flag: {', '.join(unknown)}."
    entry["red_flags"] = [key for key in FLAGS if key in flags]
    note = (form.get("note") or "").strip()
    if len(note) > MAX_NOTE:
        errors["note"] = f"Keep the note under {MAX_NOTE} characters (it has {len(note)})."
    entry["note"] = note
    return entry, errors


def recent_red_flags(entries: list[dict], days: int = RED_FLAG_RECENT_DAYS) -> list[str]:
    """The red flags noted in the last `days` days, each once in a few words, in the guide's order."""
    cutoff = datetime.now().astimezone() - timedelta(days=days)
    keys = {key for e in entries if datetime.fromisoformat(e["wall"]) >= cutoff for key in red_flags_of(e)}
    return [flag.short for flag in RED_FLAGS if flag.key in keys]


def _page(form=None, errors=None, status=200):
    store = get_store()
    entries = store.diary_latest(SHOWN)
    contexts = episode_contexts(store, entries, HOURS_BEFORE, BASELINE_DAYS)
    saved = request.args.get("saved", "")
    first_day = min((datetime.fromisoformat(e["wall"]).date() for e in entries), default=today())
    return render_template(
        "diary.html",
        entries=entries,
        contexts=contexts,
        form=form or MultiDict(),
        errors=errors or {},
        regions=DIARY_REGIONS,
        sides=DIARY_SIDES,
        region_sides=DIARY_REGION_SIDES,
        region_names=REGION_NAMES,
        kinds=DIARY_KIND_NAMES,
        red_flags=RED_FLAGS,
        where_label=where_label,
        episode_label=episode_label,
        red_flags_of=red_flags_of,
        flag_messages=flag_messages,
        recent_flags=recent_red_flags(entries),
        recent_days=RED_FLAG_RECENT_DAYS,
        hours=HOURS_BEFORE,
        baseline_days=BASELINE_DAYS,
        comparisons=comparisons,
        saved_id=int(saved) if saved.isdigit() else None,
        first_entry_day=first_day,
        today=today(),
    ), status


@bp.route("/diary")
def show():
    return _page()


@bp.route("/diary", methods=("POST",))
def add():
    entry, errors = _parse_form(request.form)
    if errors:
        return _page(request.form, errors, 400)
    entry_id = get_store().add_diary_entry(
        entry["wall"],
        region=entry["region"],
        side=entry["side"],
        severity=entry["severity"],
        kind=entry["kind"],
        note=entry["note"],
        red_flags=entry["red_flags"],
    )
    flash(
        f"Saved: {episode_label(entry).lower()}, {entry['severity']}/10, {when(entry['wall'].astimezone())}.",
        "ok",
    )
    # Back to the top of the page, where the message is (the red-flag banner too, if one was ticked).
    return redirect(url_for("diary.show", saved=entry_id))


@bp.route("/diary/<int:entry_id>/delete", methods=("POST",))
def delete(entry_id: int):
    """Delete with the confirmation's confirm=yes; without it (an old form, a stray POST) ask first."""
    store = get_store()
    entry = store.diary_entry(entry_id)
    if entry is None:
        abort(404, f"There is no diary entry {entry_id}.")
    if request.form.get("confirm") != "yes":
        return render_template(
            "confirm.html",
            title="Delete this entry?",
            question=f"Delete the entry of {when(entry['wall'])} "
            f"({entry['severity']}/10, {episode_label(entry).lower()}) "
            "for good? It cannot be brought back.",
            items=[entry["note"]] if entry["note"] else [],
            action=url_for("diary.delete", entry_id=entry_id),
            button="Yes, delete it",
            back=url_for("diary.show", _anchor=f"entry-{entry_id}"),
            back_text="No, keep it",
        )
    store.delete_diary_entry(entry_id)
    flash(f"Deleted the entry of {when(entry['wall'])}.", "ok")
    return redirect(url_for("diary.show"))


def entry_to_dict(entry: dict, context=None) -> dict:
    data = {key: entry[key] for key in ("id", "wall", "logged_wall", "region", "side", "severity", "note", "red_flags")}
    data["kind"] = entry.get("kind")
    data["label"] = episode_label(entry)
    data["red_flag_actions"] = flag_messages(red_flags_of(entry))
    if context is not None:
        data["before"] = context.to_dict()
    return data


@bp.route("/api/diary")
def api_diary():
    first, last = params.date_range(today(), default_days=365)
    store = get_store()
    entries = store.diary_between(local_midnight(first), local_midnight(last + timedelta(days=1)))
    contexts = episode_contexts(store, entries, HOURS_BEFORE, BASELINE_DAYS)
    return jsonify(
        first=first.isoformat(),
        last=last.isoformat(),
        entries=[entry_to_dict(e, contexts.get(e["id"])) for e in entries],
    )
