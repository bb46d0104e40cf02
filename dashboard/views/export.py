"""Export (/api/export/<sessions|events|diary>.<csv|json>?from=YYYY-MM-DD&to=YYYY-MM-DD).

/export?what=&format=&from=&to= is where the pages' export form goes (a plain
GET form, no JavaScript): it checks the choices and redirects to the file.

Both days are included; without them, the last 30 days. The file is made
here and downloaded by the browser; nothing is sent anywhere else. It is
streamed: written as the rows are read from the database, a page at a time,
so the memory an export takes does not grow with its range (a Pi with 512 MB
may be asked for three years, several times at once).

Two readers, two formats. The CSV is for a person with a spreadsheet: plain
headers, local times with their offset, durations in minutes, events and red
flags in words. The JSON is for programs: the history's own keys (SPEC
section 5's `type`, `t`, `start`, `end`..., the `_wall` labels), unchanged,
with a few readable fields added beside them (`label`, `duration_min`...).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta

from flask import Blueprint, Response, abort, current_app, redirect, request, url_for

from dashboard import params
from dashboard.advice import RED_FLAGS
from dashboard.formatting import CHANNEL_NAMES
from dashboard.history import local_midnight, today, ts_of
from dashboard.views.device import REASONS
from dashboard.views.diary import kind_label, red_flags_of, where_label
from device.storage.store import Store

bp = Blueprint("export", __name__)

KINDS = ("sessions", "events", "diary")
FORMATS = ("csv", "json")
CHUNK = 64 * 1024  # characters written at a time
DIARY_KEYS = ("id", "wall", "logged_wall", "region", "side", "kind", "severity", "note", "red_flags")

# ---- words for people ----------------------------------------------------------------------

PROMPT_LABELS = {"break_due": "Break reminder", "break_overdue": "Overdue break reminder", "move": "Move nudge"}
POSTURE_LABELS = {"perch": "Perched forward", "slump": "Slumped back"}
RED_FLAG_LABELS = {flag.key: flag.label for flag in RED_FLAGS}  # as the diary page shows them


def red_flag_labels(keys: Iterable[str]) -> list[str]:
    """The red flags' words, in the guide's order (the diary page's); a key it doesn't know stays as it is."""
    keys = list(keys)
    return [RED_FLAG_LABELS[key] for key in RED_FLAG_LABELS if key in keys] + [
        key for key in keys if key not in RED_FLAG_LABELS
    ]


def local_time(label: str | None) -> str:
    """'2024-05-01 09:30:12 +02:00': a stored wall label in local time, with its UTC offset."""
    if not label:
        return ""
    moment = datetime.fromisoformat(label).astimezone()
    offset = moment.strftime("%z")
    return f"{moment:%Y-%m-%d %H:%M:%S} {offset[:3]}:{offset[3:]}"


def minutes(seconds: float | None) -> float | None:
    """Seconds as minutes, to a tenth."""
    return None if seconds is None else round(seconds / 60, 1)


def _how_long(seconds: float) -> str:
    """'30 s', '2.5 min', '12 min': for a label ("Leaned left for 2.5 min")."""
    if seconds < 59.5:
        return f"{max(seconds, 0):.0f} s"
    return f"{round(seconds / 60, 1):g} min"


def prompt_label(kind: str) -> str:
    return PROMPT_LABELS.get(kind, kind)


def event_label(kind: str, data: dict, duration_s: float | None) -> str:
    """What happened, in words: 'Leaned left for 2.5 min', 'Twist to the right', 'Sensor fault on front-left'."""
    held = f" for {_how_long(duration_s)}" if duration_s is not None else ""
    if kind == "lean":
        return f"Leaned {data.get('side', '')}{held}"
    if kind == "twist":
        return f"Twist to the {data.get('side', '')}"
    if kind in POSTURE_LABELS:
        return POSTURE_LABELS[kind] + held
    if kind == "prompt":
        return prompt_label(data.get("kind", ""))
    if kind == "fault":
        channel = data.get("channel", "")
        return f"Sensor fault on {CHANNEL_NAMES.get(channel, channel)}"
    return {"fidget": "Fidget", "sit": "Sat down", "stand": "Stood up"}.get(kind, kind.replace("_", " ").capitalize())


def event_details(kind: str, data: dict) -> str:
    """The rest of what the cushion measured, in words ('at most 64% of your weight on the left')."""
    if kind in ("lean", "twist") and isinstance(data.get("peak"), (int, float)):
        return f"at most {round((1 + abs(data['peak'])) / 2 * 100)}% of your weight on the {data.get('side', '')}"
    if kind == "fidget" and isinstance(data.get("size_mm"), (int, float)):
        return f"your weight moved {data['size_mm']:.0f} mm"
    if kind == "fault":
        reason = REASONS.get(data.get("reason") or "", data.get("reason") or "")
        still = "still going when last heard from" if data.get("end") is None else ""
        return "; ".join(filter(None, (reason, still)))
    return ""


# ---- the rows: the JSON's, from which the CSV takes its columns ----------------------------------


def _sessions(store: Store, a, b) -> Iterator[dict]:
    for row in store.iter_sessions_between(a, b):
        yield session_row(row)


def session_row(row: dict) -> dict:
    end = row["end_wall"] or row["last_heartbeat_wall"]
    duration = round(ts_of(end) - ts_of(row["start_wall"]), 1)
    return {
        "id": row["id"],
        "start_wall": row["start_wall"],
        "end_wall": row["end_wall"],
        "duration_s": duration,
        "prompts": row["prompts"],
        "last_heartbeat_wall": row["last_heartbeat_wall"],
        "duration_min": minutes(duration),
        "prompt_labels": [prompt_label(kind) for kind in row["prompts"]],
    }


def _events(store: Store, a, b) -> Iterator[dict]:
    for row in store.iter_events_between(a, b):
        yield event_row(row)


def event_row(row: dict) -> dict:
    data = row["data"]
    start, end = data.get("start"), data.get("end")
    duration = round(end - start, 3) if isinstance(start, (int, float)) and isinstance(end, (int, float)) else None
    return {
        "id": row["id"],
        "type": row["type"],
        "wall": row["wall"],
        "detected_wall": row["detected_wall"],
        "session_id": row["session_id"],
        "duration_s": duration,
        "data": data,
        "label": event_label(row["type"], data, duration),
        "duration_min": minutes(duration),
    }


def _diary(store: Store, a, b) -> Iterator[dict]:
    # A person's own entries: a few a week, never many enough to need paging.
    for row in store.diary_between(a, b):
        yield diary_row(row)


def diary_row(row: dict) -> dict:
    return {key: row.get(key) for key in DIARY_KEYS} | {
        "where_label": where_label(row["region"], row["side"]),
        "kind_label": kind_label(row.get("kind")),
        # The flags the diary page shows: those ticked, and numbness in a leg (the guide's first red flag).
        "red_flag_labels": red_flag_labels(red_flags_of(row)),
    }


ROWS = {"sessions": _sessions, "events": _events, "diary": _diary}

# The CSV's columns: (header, the cell from a row above).
Column = tuple[str, Callable[[dict], object]]
COLUMNS: dict[str, tuple[Column, ...]] = {
    "sessions": (
        ("Session no.", lambda r: r["id"]),
        ("Start (local time)", lambda r: local_time(r["start_wall"])),
        ("End (local time)", lambda r: local_time(r["end_wall"] or r["last_heartbeat_wall"])),
        ("Duration (min)", lambda r: r["duration_min"]),
        ("Reminders from the cushion", lambda r: r["prompt_labels"]),
        ("Note", lambda r: "" if r["end_wall"] else "Not over yet: it ends where the cushion was last heard from"),
    ),
    "events": (
        ("When (local time)", lambda r: local_time(r["wall"])),
        ("What happened", lambda r: r["label"]),
        ("Duration (min)", lambda r: r["duration_min"]),
        ("Details", lambda r: event_details(r["type"], r["data"])),
        ("Session no.", lambda r: r["session_id"]),
    ),
    "diary": (
        ("When (local time)", lambda r: local_time(r["wall"])),
        ("Written down (local time)", lambda r: local_time(r["logged_wall"])),
        ("Where", lambda r: r["where_label"]),
        ("Kind of pain", lambda r: r["kind_label"]),
        ("How bad (0-10)", lambda r: r["severity"]),
        ("Note", lambda r: r["note"]),
        ("Red flags", lambda r: r["red_flag_labels"]),
    ),
}


def _cell(value) -> str:
    """One CSV cell. Text that a spreadsheet would run as a formula is quoted with a leading '."""
    if value is None:
        return ""
    if isinstance(value, list):
        value = "; ".join(map(str, value))
    text = str(value)
    if isinstance(value, str) and text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        text = "'" + text
    return text


def _csv(kind: str, rows: Iterable[dict]) -> Iterator[str]:
    buffer = io.StringIO()
    # A byte-order mark first: without it, Excel reads UTF-8 (a note's "é", "°") as another encoding.
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    columns = COLUMNS[kind]
    writer.writerow([header for header, _ in columns])
    for row in rows:
        writer.writerow([_cell(cell(row)) for _, cell in columns])
        if buffer.tell() > CHUNK:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _json(head: dict, rows: Iterable[dict], dumps: Callable[..., str]) -> Iterator[str]:
    """`{**head, "rows": [...]}` as jsonify writes it (keys sorted, no spaces, a newline at the
    end), written row by row. "rows" sorts after every key of head, so it comes last."""
    parts = [dumps(head, separators=(",", ":"))[:-1] + ("," if head else "") + '"rows":[']
    size = 0
    for i, row in enumerate(rows):
        text = dumps(row, separators=(",", ":"))
        parts.append("," + text if i else text)
        size += len(text)
        if size > CHUNK:
            yield "".join(parts)
            parts, size = [], 0
    parts.append("]}\n")
    yield "".join(parts)


@bp.route("/export")
def choose():
    """The export form (what, format, from, to) as a download address; works without JavaScript."""
    kind = request.args.get("what", "")
    fmt = request.args.get("format", "csv")
    if kind not in KINDS:
        abort(400, f"what: choose one of {', '.join(KINDS)}, not {kind!r}")
    if fmt not in FORMATS:
        abort(400, f"format: choose csv or json, not {fmt!r}")
    first, last = params.date_range(today())
    return redirect(
        url_for("export.export", name=f"{kind}.{fmt}", **{"from": first.isoformat(), "to": last.isoformat()})  # type: ignore[arg-type]  # "from" is a keyword
    )


@bp.route("/api/export/<name>")
def export(name: str):
    kind, dot, fmt = name.rpartition(".")
    if not dot or kind not in KINDS or fmt not in FORMATS:
        abort(
            404,
            f"No export called {name!r}: try sessions, events or diary, as .csv or .json "
            "(e.g. /api/export/events.csv?from=2024-05-01&to=2024-05-31).",
        )
    first, last = params.date_range(today())
    a, b = local_midnight(first), local_midnight(last + timedelta(days=1))
    # A Store of its own: the file is written after this function returns, as the rows are read
    # (three years of events would take 150 MB in memory at once); it closes when the download ends.
    store = Store(current_app.config["DATABASE"])
    rows = ROWS[kind](store, a, b)
    filename = f"cushion-{kind}-{first.isoformat()}-to-{last.isoformat()}.{fmt}"
    if fmt == "json":
        head = {"kind": kind, "first": first.isoformat(), "last": last.isoformat()}
        response = Response(_json(head, rows, current_app.json.dumps), mimetype="application/json")
    else:
        response = Response(_csv(kind, rows), mimetype="text/csv")
        response.charset = "utf-8"  # type: ignore[attr-defined]  # werkzeug's Response has it; its stubs do not
    response.call_on_close(store.close)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
