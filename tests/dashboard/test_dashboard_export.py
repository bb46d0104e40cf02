"""The CSV/JSON export: a CSV a person can read, a JSON with the history's own keys, both streamed."""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
import time
from datetime import UTC, date, datetime, timedelta

import pytest

from device.storage.store import Store
from tests.dashboard_support import DAY, MIDNIGHT, at, post, text, write_day

ONE_DAY = "from=2024-05-01&to=2024-05-01"


def rows_of(response) -> list[dict]:
    """The CSV as a spreadsheet reads it: UTF-8 with its byte-order mark, one dict per row."""
    return list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def header_of(response) -> list[str]:
    return next(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))


@contextlib.contextmanager
def local_zone(name: str):
    """This process's local time zone set to `name` for a while (the dashboard's "local time")."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = name
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before
        time.tzset()


def machine_words(body: str) -> list[str]:
    """What only a program would write: snake_case keys (break_due, start_wall...) and ISO times with a T."""
    return re.findall(r"\b[a-z]+_[a-z_]+\b|\d{4}-\d\d-\d\dT\d", body)


def local(hh: int, mm: int = 0, day: date = DAY) -> str:
    """A time of DAY as the CSV writes it, with the offset this machine's clock has then."""
    moment = datetime(day.year, day.month, day.day, hh, mm).astimezone()
    offset = moment.strftime("%z")
    return f"{moment:%Y-%m-%d %H:%M:%S} {offset[:3]}:{offset[3:]}"


# ---- CSV: what a person sees in a spreadsheet -----------------------------------------------


def test_sessions_csv_has_plain_headers_local_times_and_minutes(client, day_db):
    response = client.get(f"/api/export/sessions.csv?{ONE_DAY}")
    assert response.mimetype == "text/csv"
    assert 'filename="cushion-sessions-2024-05-01-to-2024-05-01.csv"' in response.headers["Content-Disposition"]
    assert header_of(response) == [
        "Session no.",
        "Start (local time)",
        "End (local time)",
        "Duration (min)",
        "Reminders from the cushion",
        "Note",
    ]
    rows = rows_of(response)
    assert [r["Duration (min)"] for r in rows] == ["50.0", "70.0", "20.0"]
    assert (rows[1]["Start (local time)"], rows[1]["End (local time)"]) == (local(10), local(11, 10))
    assert rows[1]["Reminders from the cushion"] == "Break reminder; Overdue break reminder"
    assert rows[2]["Reminders from the cushion"] == "Move nudge"
    assert machine_words(text(response)) == []


def test_a_session_not_over_yet_ends_at_the_last_reading_and_says_so(client, store):
    from device.core.events import Session, Sit

    store.write_batch(
        at(9, 30),
        MIDNIGHT + timedelta(hours=9, minutes=30),
        events=[Sit(at(9), at(9, 0, 1.5))],
        sessions=[Session(at(9), None, ())],
    )
    (row,) = rows_of(client.get(f"/api/export/sessions.csv?{ONE_DAY}"))
    assert (row["End (local time)"], row["Duration (min)"]) == (local(9, 30), "30.0")
    assert row["Note"].startswith("Not over yet")


def test_events_csv_says_what_happened_in_words(client, day_db):
    response = client.get(f"/api/export/events.csv?{ONE_DAY}")
    assert header_of(response) == ["When (local time)", "What happened", "Duration (min)", "Details", "Session no."]
    rows = rows_of(response)
    assert len(rows) == 19
    said = {r["What happened"]: r for r in rows}
    assert set(said) == {
        "Sat down",
        "Stood up",
        "Fidget",
        "Leaned left for 1 min",
        "Leaned right for 30 s",
        "Twist to the right",
        "Perched forward for 45 s",
        "Slumped back for 40 s",
        "Sensor fault on front-right",
        "Break reminder",
        "Overdue break reminder",
        "Move nudge",
    }
    lean = said["Leaned right for 30 s"]
    assert (lean["When (local time)"], lean["Duration (min)"], lean["Session no."]) == (local(10, 20), "0.5", "2")
    assert lean["Details"] == "at most 62% of your weight on the right"  # a peak lat of 0.25: a 62/38 split
    assert said["Sensor fault on front-right"]["Details"] == "stuck on one value"
    assert said["Overdue break reminder"]["When (local time)"] == local(11)
    assert said["Fidget"]["Duration (min)"] == "" and "mm" in said["Fidget"]["Details"]
    assert machine_words(text(response)) == []


def test_a_fault_still_going_says_so(client, store):
    from device.core.events import Fault

    store.write_batch(at(9, 5), MIDNIGHT + timedelta(hours=9, minutes=5), events=[Fault("bl", at(9), None, at(9))])
    (row,) = rows_of(client.get(f"/api/export/events.csv?{ONE_DAY}"))
    assert row["What happened"] == "Sensor fault on back-left" and row["Duration (min)"] == ""
    assert "still going" in row["Details"]


def add_diary_entry(client) -> None:
    post(
        client,
        "/diary",
        {
            "severity": "5",
            "where": "lower-left",
            "when": "2024-05-01T10:00",
            "note": '=HYPERLINK("http://x") après la réunion',
            "red_flags": ["fever", "after_trauma"],
        },
    )


def test_diary_csv_has_the_words_of_the_diary_page(client, db_path):
    add_diary_entry(client)
    response = client.get(f"/api/export/diary.csv?{ONE_DAY}")
    assert header_of(response) == [
        "When (local time)",
        "Written down (local time)",
        "Where",
        "Kind of pain",
        "How bad (0-10)",
        "Note",
        "Red flags",
    ]
    (row,) = rows_of(response)
    assert (row["When (local time)"], row["Where"], row["How bad (0-10)"]) == (local(10), "Lower back, left", "5")
    # As the diary page lists them: the guide's order, its words.
    assert row["Red flags"] == "Spasms that began after a fall, crash or hard blow; A fever together with back spasms"
    assert row["Note"].startswith("'=")  # a spreadsheet must not run it as a formula
    assert row["Note"].endswith("après la réunion")
    assert machine_words(text(response)) == []


def test_the_kind_of_pain_and_the_red_flag_it_implies_are_in_the_export(client, db_path):
    from device.storage.store import Store

    with Store(db_path) as store:
        store.add_diary_entry(datetime(2024, 5, 1, 11, 0), region="leg", side="right", severity=6, kind="numbness")
    (row,) = rows_of(client.get(f"/api/export/diary.csv?{ONE_DAY}"))
    assert (row["Where"], row["Kind of pain"]) == ("Leg, right", "numbness or tingling")
    assert "numbness" in row["Red flags"].lower()  # the guide's first red flag, as the diary page shows it
    (entry,) = client.get(f"/api/export/diary.json?{ONE_DAY}").get_json()["rows"]
    assert entry["kind"] == "numbness" and entry["red_flags"] == []  # stored as entered


def test_the_csv_starts_with_a_byte_order_mark_so_spreadsheets_read_utf8(client, db_path):
    add_diary_entry(client)
    body = client.get(f"/api/export/diary.csv?{ONE_DAY}").get_data()
    assert body.startswith(b"\xef\xbb\xbfWhen (local time),")
    assert "après".encode() in body


def test_csv_times_are_in_local_time_with_the_offset_of_their_own_date(tmp_path):
    """Stored in UTC, read in Paris: 09:00 UTC is 11:00 +02:00 in May, and 09:00 UTC is 10:00 +01:00 in January."""
    from dashboard import create_app

    path = tmp_path / "history.db"
    with local_zone("UTC"), Store(path) as store:
        write_day(store)
        store.add_diary_entry(datetime(2024, 1, 15, 9, tzinfo=UTC), region="upper", side="centre", severity=2)
    client = create_app({"TESTING": True, "DATABASE": str(path)}).test_client()
    with local_zone("Europe/Paris"):
        sessions = rows_of(client.get(f"/api/export/sessions.csv?{ONE_DAY}"))
        (entry,) = rows_of(client.get("/api/export/diary.csv?from=2024-01-15&to=2024-01-15"))
    assert sessions[0]["Start (local time)"] == "2024-05-01 11:00:00 +02:00"
    assert entry["When (local time)"] == "2024-01-15 10:00:00 +01:00"


# ---- JSON: the machine keys stay, with readable fields beside them ------------------------------


def machine_rows(store: Store, kind: str, a, b) -> list[dict]:
    """The rows as the export wrote them before it had readable fields: the keys programs rely on."""
    from dashboard.history import ts_of

    if kind == "sessions":
        return [
            {
                "id": r["id"],
                "start_wall": r["start_wall"],
                "end_wall": r["end_wall"],
                "duration_s": round(ts_of(r["end_wall"] or r["last_heartbeat_wall"]) - ts_of(r["start_wall"]), 1),
                "prompts": r["prompts"],
                "last_heartbeat_wall": r["last_heartbeat_wall"],
            }
            for r in store.sessions_between(a, b)
        ]
    if kind == "events":
        rows = []
        for r in store.events_between(a, b):
            start, end = r["data"].get("start"), r["data"].get("end")
            spans = isinstance(start, (int, float)) and isinstance(end, (int, float))
            rows.append(
                {
                    "id": r["id"],
                    "type": r["type"],
                    "wall": r["wall"],
                    "detected_wall": r["detected_wall"],
                    "session_id": r["session_id"],
                    "duration_s": round(end - start, 3) if spans else None,
                    "data": r["data"],
                }
            )
        return rows
    keys = ("id", "wall", "logged_wall", "region", "side", "severity", "note", "red_flags")
    return [{key: r[key] for key in keys} for r in store.diary_between(a, b)]


ADDED = {
    "sessions": {"duration_min", "prompt_labels"},
    "events": {"label", "duration_min"},
    "diary": {"kind", "kind_label", "where_label", "red_flag_labels"},  # kind: stored since schema v6
}


@pytest.mark.parametrize("kind", ["sessions", "events", "diary"])
def test_json_keeps_every_machine_key_and_value(client, day_db, kind):
    from dashboard.history import local_midnight

    add_diary_entry(client)
    data = client.get(f"/api/export/{kind}.json?{ONE_DAY}").get_json()
    assert (data["kind"], data["first"], data["last"]) == (kind, "2024-05-01", "2024-05-01")
    with Store(day_db) as store:
        before = machine_rows(store, kind, local_midnight(DAY), local_midnight(DAY + timedelta(days=1)))
    assert before and len(data["rows"]) == len(before)
    for row, old in zip(data["rows"], before):
        assert set(row) == set(old) | ADDED[kind]
        assert {key: row[key] for key in old} == old


def test_sessions_json_adds_minutes_and_reminders_in_words(client, day_db):
    rows = client.get(f"/api/export/sessions.json?{ONE_DAY}").get_json()["rows"]
    assert [r["duration_min"] for r in rows] == [50.0, 70.0, 20.0]
    assert rows[1]["prompts"] == ["break_due", "break_overdue"]
    assert rows[1]["prompt_labels"] == ["Break reminder", "Overdue break reminder"]
    assert rows[1]["start_wall"].startswith("2024-05-01T10:00")


def test_events_json_keeps_the_spec_keys_and_adds_a_label(client, day_db):
    rows = client.get(f"/api/export/events.json?{ONE_DAY}").get_json()["rows"]
    lean = next(r for r in rows if r["type"] == "lean" and r["data"]["side"] == "left")
    assert lean["data"] == {
        "type": "lean",
        "side": "left",
        "start": at(9, 10),
        "end": at(9, 11),
        "peak": 0.28,
        "detected_at": at(9, 10, 10),
    }
    assert (lean["duration_s"], lean["duration_min"], lean["label"]) == (60.0, 1.0, "Leaned left for 1 min")
    prompt = next(r for r in rows if r["type"] == "prompt" and r["data"]["kind"] == "move")
    assert prompt["label"] == "Move nudge" and prompt["duration_min"] is None
    assert prompt["wall"].startswith("2024-05-01T13:15")


def test_diary_json_keeps_the_note_as_written_and_adds_words(client, db_path):
    add_diary_entry(client)
    (row,) = client.get(f"/api/export/diary.json?{ONE_DAY}").get_json()["rows"]
    assert row["note"].startswith('=HYPERLINK("http://x")')  # unquoted: a program reads it, not a spreadsheet
    assert (row["region"], row["side"], row["where_label"]) == ("lower", "left", "Lower back, left")
    assert row["red_flags"] == ["after_trauma", "fever"]
    assert row["red_flag_labels"] == [
        "Spasms that began after a fall, crash or hard blow",
        "A fever together with back spasms",
    ]


# ---- ranges and the form ----------------------------------------------------------------------


def test_export_range_excludes_other_days(client, day_db):
    assert rows_of(client.get("/api/export/events.csv?from=2024-05-02&to=2024-05-09")) == []
    assert client.get("/api/export/events.json?from=2024-04-01&to=2024-04-30").get_json()["rows"] == []


def test_export_defaults_to_the_last_30_days(client, db_path):
    with Store(db_path) as store:
        store.add_diary_entry(datetime.now() - timedelta(days=2), region="upper", side="left", severity=1)
        store.add_diary_entry(datetime.now() - timedelta(days=40), region="upper", side="left", severity=2)
    data = client.get("/api/export/diary.json").get_json()
    assert [r["severity"] for r in data["rows"]] == [1]
    assert [r["How bad (0-10)"] for r in rows_of(client.get("/api/export/diary.csv"))] == ["1"]


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_the_export_form_goes_to_the_file_for_any_range(client, day_db, fmt):
    response = client.get(f"/export?what=events&format={fmt}&from=2024-04-28&to=2024-05-01")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/api/export/events.{fmt}?from=2024-04-28&to=2024-05-01"
    download = client.get(response.headers["Location"])
    if fmt == "json":
        assert len(download.get_json()["rows"]) == 19
    else:
        assert "Twist to the right" in [r["What happened"] for r in rows_of(download)]


def test_the_export_form_says_what_each_format_is_for(client, day_db):
    page = text(client.get(f"/day/{DAY}"))
    form = page[page.index('<form class="card export"') :]
    form = form[: form.index("</form>")]
    assert "CSV (for a spreadsheet)" in form and "JSON (for programs)" in form
    assert "local times with their offset" in form and "durations in minutes" in form


@pytest.mark.parametrize(
    "query,message",
    [
        ("what=passwords&format=csv", "what: choose one of sessions, events, diary"),
        ("what=events&format=xls", "format: choose csv or json"),
        ("what=events&format=csv&from=2024-05-10&to=2024-05-01", "after"),
        ("what=events&format=csv&from=May", "from"),
    ],
)
def test_a_wrong_export_choice_gets_a_400_that_says_why(client, query, message):
    response = client.get(f"/export?{query}")
    assert response.status_code == 400 and message in text(response)


# ---- exports are streamed ------------------------------------------------------------------


def export_in_one_go(app, kind: str, fmt: str, first: str, last: str) -> bytes:
    """The export made from every row in a list (the whole-range reads, not the pages), then jsonify
    (JSON) or the CSV writer over the list: the reference the streamed file must equal, byte for byte."""
    from flask import jsonify

    from dashboard.history import local_midnight
    from dashboard.views.export import _csv, diary_row, event_row, session_row

    a, b = local_midnight(date.fromisoformat(first)), local_midnight(date.fromisoformat(last) + timedelta(days=1))
    with Store(app.config["DATABASE"]) as store:
        if kind == "sessions":
            rows = [session_row(r) for r in store.sessions_between(a, b)]
        elif kind == "events":
            rows = [event_row(r) for r in store.events_between(a, b)]
        else:
            rows = [diary_row(r) for r in store.diary_between(a, b)]
        # Whatever the readable fields, the machine keys are the ones the export always had.
        old = machine_rows(store, kind, a, b)
    assert [{key: row[key] for key in before} for row, before in zip(rows, old)] == old
    if fmt == "csv":
        return "".join(_csv(kind, rows)).encode()
    with app.app_context():
        return jsonify(kind=kind, first=first, last=last, rows=rows).get_data()


@pytest.fixture(scope="module")
def weeks_of_history(tmp_path_factory):
    """Five weeks of sample history up to now (today's session still open) and a few diary entries."""
    from tests.sample_history import fill_history

    path = tmp_path_factory.mktemp("weeks") / "history.db"
    with Store(path) as store:
        fill_history(store, date.today() - timedelta(days=34), 35, seed=11, until=datetime.now())
        for back, note in ((3, "after the long meeting"), (10, "=SUM(A1)"), (20, "")):
            store.add_diary_entry(
                datetime.now() - timedelta(days=back),
                region="lower",
                side="left",
                severity=4,
                note=note,
                red_flags=["fever"] if back == 10 else [],
            )
    return path


@pytest.mark.parametrize("kind", ["sessions", "events", "diary"])
@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_a_streamed_export_is_the_same_file_as_one_made_in_one_go(weeks_of_history, kind, fmt):
    from dashboard import create_app

    app = create_app({"TESTING": True, "DATABASE": str(weeks_of_history)})
    first, last = (date.today() - timedelta(days=40)).isoformat(), date.today().isoformat()
    response = app.test_client().get(f"/api/export/{kind}.{fmt}?from={first}&to={last}")
    assert response.is_streamed
    body = response.get_data()
    assert body == export_in_one_go(app, kind, fmt, first, last)
    if fmt == "json":
        data = response.get_json()
        assert data["kind"] == kind and len(data["rows"]) > (2 if kind == "diary" else 100)
    else:
        assert len(rows_of(response)) > (2 if kind == "diary" else 100)


def test_a_streamed_export_of_an_empty_range_is_valid_json(client, day_db):
    response = client.get("/api/export/events.json?from=2024-04-01&to=2024-04-30")
    assert response.get_data(as_text=True) == '{"first":"2024-04-01","kind":"events","last":"2024-04-30","rows":[]}\n'


def peak_memory_of_export(client, url: str) -> tuple[float, int]:
    """(MB of Python memory at the peak, bytes downloaded) while the export is read, chunk by chunk."""
    import tracemalloc

    tracemalloc.start()
    try:
        response = client.get(url, buffered=False)
        size = sum(len(chunk) for chunk in response.response)
        response.close()
        return tracemalloc.get_traced_memory()[1] / 1e6, size
    finally:
        tracemalloc.stop()


def test_an_export_takes_the_same_memory_whatever_its_range(client, db_path):
    """Before: every row was in a list, then the whole file in one string: a year of events took
    tens of MB (three years, 160 MB on the Pi). Now a page of rows and a chunk of text at a time."""
    from tests.sample_history import fill_history

    first = date(2025, 1, 1)
    with Store(db_path) as store:
        fill_history(store, first, 200, seed=5)
    client.get("/api/export/events.json?from=2025-01-01&to=2025-01-07")  # warm-up: imports, templates, caches
    week, _ = peak_memory_of_export(client, "/api/export/events.json?from=2025-01-01&to=2025-01-07")
    for fmt in ("json", "csv"):
        months, size = peak_memory_of_export(client, f"/api/export/events.{fmt}?from=2025-01-01&to=2025-07-19")
        assert size > 900_000  # a file of thousands of rows (the CSV has fewer columns than the JSON has keys)
        assert months < max(2 * week, 3.0), f"{fmt}: {months:.1f} MB for 200 days, {week:.1f} MB for a week"


def test_the_export_reads_events_page_by_page_without_skipping_or_repeating(store):
    """Events with the same time on a page boundary: the next page starts after the last one read."""
    from device.core.events import Fidget

    store.write_batch(0.0, datetime(2024, 5, 1, 9), events=[Fidget(60.0 * (i // 3), 20.0, 1.0) for i in range(10)])
    everything = [row["id"] for row in store.events_between("2024-05-01T00:00", "2024-05-02T00:00")]
    for page_size in (1, 2, 3, 4, 10, 11):
        paged = [
            row["id"] for row in store.iter_events_between("2024-05-01T00:00", "2024-05-02T00:00", page_size=page_size)
        ]
        assert paged == everything and len(paged) == 10, page_size
    sessions = [row["id"] for row in store.iter_sessions_between("2024-05-01T00:00", "2024-05-02T00:00", page_size=1)]
    assert sessions == [row["id"] for row in store.sessions_between("2024-05-01T00:00", "2024-05-02T00:00")]
