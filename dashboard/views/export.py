"""Export (/api/export/<sessions|events|diary>.<csv|json>?from=YYYY-MM-DD&to=YYYY-MM-DD).

/export?what=&format=&from=&to= is where the pages' export form goes (a plain
GET form, no JavaScript): it checks the choices and redirects to the file.

Both days are included; without them, the last 30 days. The file is made
here and downloaded by the browser; nothing is sent anywhere else. It is
streamed: written as the rows are read from the database, a page at a time,
so the memory an export takes does not grow with its range (a Pi with 512 MB
may be asked for three years, several times at once).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta

from flask import Blueprint, Response, abort, current_app, redirect, request, url_for

from dashboard import params
from dashboard.history import local_midnight, today, ts_of
from device.storage.store import Store

bp = Blueprint("export", __name__)

KINDS = ("sessions", "events", "diary")
FORMATS = ("csv", "json")
CHUNK = 64 * 1024  # characters written at a time
EVENT_FIELDS = ("side", "kind", "start", "end", "peak", "size_mm", "channel", "reason", "t", "detected_at")
COLUMNS = {
    "sessions": ("id", "start_wall", "end_wall", "duration_s", "prompts", "last_heartbeat_wall"),
    "events": ("id", "type", "wall", "detected_wall", "session_id", "duration_s") + EVENT_FIELDS,
    "diary": ("id", "wall", "logged_wall", "region", "side", "severity", "note", "red_flags"),
}


def _sessions(store: Store, a, b) -> Iterator[dict]:
    for row in store.iter_sessions_between(a, b):
        end = row["end_wall"] or row["last_heartbeat_wall"]
        yield {
            "id": row["id"],
            "start_wall": row["start_wall"],
            "end_wall": row["end_wall"],
            "duration_s": round(ts_of(end) - ts_of(row["start_wall"]), 1),
            "prompts": row["prompts"],
            "last_heartbeat_wall": row["last_heartbeat_wall"],
        }


def _events(store: Store, a, b) -> Iterator[dict]:
    for row in store.iter_events_between(a, b):
        data = row["data"]
        start, end = data.get("start"), data.get("end")
        duration = round(end - start, 3) if isinstance(start, (int, float)) and isinstance(end, (int, float)) else None
        yield {
            "id": row["id"],
            "type": row["type"],
            "wall": row["wall"],
            "detected_wall": row["detected_wall"],
            "session_id": row["session_id"],
            "duration_s": duration,
            "data": data,
        }


def _diary(store: Store, a, b) -> Iterator[dict]:
    # A person's own entries: a few a week, never many enough to need paging.
    for row in store.diary_between(a, b):
        yield {key: row[key] for key in COLUMNS["diary"]}


ROWS = {"sessions": _sessions, "events": _events, "diary": _diary}


def _cell(value) -> str:
    """One CSV cell. Text that a spreadsheet would run as a formula is quoted with a leading '."""
    if value is None:
        return ""
    if isinstance(value, list):
        value = ";".join(map(str, value))
    text = str(value)
    if isinstance(value, str) and text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        text = "'" + text
    return text


def _csv(kind: str, rows: Iterable[dict]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    columns = COLUMNS[kind]
    writer.writerow(columns)
    for row in rows:
        flat = dict(row)
        if kind == "events":
            flat.update({key: row["data"].get(key) for key in EVENT_FIELDS})
        writer.writerow([_cell(flat.get(column)) for column in columns])
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
