"""The JSON API and the CSV/JSON export."""

from __future__ import annotations

import csv
import io

import pytest

from device.storage.store import Store
from tests.dashboard_support import DAY, post, text


def test_api_day(client, day_db):
    data = client.get(f"/api/day/{DAY}").get_json()
    assert data["date"] == "2024-05-01" and data["previous"] == "2024-04-30" and data["next"] == "2024-05-02"
    totals = data["totals"]
    assert totals["seated_s"] == 8400.0 and totals["longest_s"] == 4200.0
    # Two breaks: between the three sessions; the afternoon after the last one is not a break.
    assert (totals["breaks"], totals["break_prompts"], totals["breaks_skipped"]) == (2, 3, 1)
    assert totals["fidgets_per_hour"] == pytest.approx(1.29, abs=0.01)
    assert [s["duration_s"] for s in data["sessions"]] == [3000.0, 4200.0, 1200.0]
    assert len(data["events"]) == 19
    lean = next(e for e in data["events"] if e["type"] == "lean")
    assert lean["data"] == {
        "type": "lean",
        "side": "left",
        "start": 33000.0,
        "end": 33060.0,
        "peak": 0.28,
        "detected_at": 33010.0,
    }


def test_api_day_empty(client):
    data = client.get(f"/api/day/{DAY}").get_json()
    assert data["sessions"] == [] and data["events"] == [] and data["totals"]["seated_s"] == 0


@pytest.mark.parametrize("days", [7, 30, 365])
def test_api_trends(client, day_db, days):
    data = client.get(f"/api/trends?days={days}&end=2024-05-02").get_json()
    assert data["days"] == days and data["last"] == "2024-05-02" and len(data["per_day"]) == days
    day = next(d for d in data["per_day"] if d["day"] == "2024-05-01")
    assert day["sessions"] == 3 and day["lean_left_s"] == 60.0 and day["lean_right_s"] == 30.0
    assert sum(d["sessions"] for d in data["per_day"]) == 3


def test_api_trends_defaults_to_seven_days_to_today(client):
    assert len(client.get("/api/trends").get_json()["per_day"]) == 7


def rows_of(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text(response))))


def test_export_sessions_csv_and_json(client, day_db):
    response = client.get("/api/export/sessions.csv?from=2024-05-01&to=2024-05-01")
    assert response.mimetype == "text/csv"
    assert 'filename="cushion-sessions-2024-05-01-to-2024-05-01.csv"' in response.headers["Content-Disposition"]
    rows = rows_of(response)
    assert [r["duration_s"] for r in rows] == ["3000.0", "4200.0", "1200.0"]
    assert rows[1]["prompts"] == "break_due;break_overdue"
    data = client.get("/api/export/sessions.json?from=2024-05-01&to=2024-05-01").get_json()
    assert data["kind"] == "sessions" and [r["prompts"] for r in data["rows"]][1] == ["break_due", "break_overdue"]


def test_export_events_csv_flattens_their_fields(client, day_db):
    rows = rows_of(client.get("/api/export/events.csv?from=2024-05-01&to=2024-05-01"))
    assert len(rows) == 19
    lean = next(r for r in rows if r["type"] == "lean" and r["side"] == "right")
    assert lean["duration_s"] == "30.0" and lean["peak"] == "0.25" and lean["wall"].startswith("2024-05-01T10:20")
    fault = next(r for r in rows if r["type"] == "fault")
    assert (fault["channel"], fault["reason"]) == ("fr", "stuck")
    overdue = next(r for r in rows if r["kind"] == "break_overdue")
    assert overdue["wall"].startswith("2024-05-01T11:00")


def test_export_range_excludes_other_days(client, day_db):
    assert rows_of(client.get("/api/export/events.csv?from=2024-05-02&to=2024-05-09")) == []
    assert client.get("/api/export/events.json?from=2024-04-01&to=2024-04-30").get_json()["rows"] == []


def test_export_diary_csv_and_json(client, db_path):
    post(
        client,
        "/diary",
        {
            "severity": "5",
            "where": "lower-left",
            "when": "2024-05-01T10:00",
            "note": '=HYPERLINK("http://x")',
            "red_flags": ["fever", "after_trauma"],
        },
    )
    rows = rows_of(client.get("/api/export/diary.csv?from=2024-05-01&to=2024-05-01"))
    (row,) = rows
    assert (row["region"], row["side"], row["severity"]) == ("lower", "left", "5")
    assert row["red_flags"] == "after_trauma;fever"
    assert row["note"].startswith("'=")  # a spreadsheet must not run it as a formula
    data = client.get("/api/export/diary.json?from=2024-05-01&to=2024-05-01").get_json()
    assert data["rows"][0]["note"] == '=HYPERLINK("http://x")'


def test_export_defaults_to_the_last_30_days(client, db_path):
    from datetime import datetime, timedelta

    with Store(db_path) as store:
        store.add_diary_entry(datetime.now() - timedelta(days=2), region="upper", side="left", severity=1)
        store.add_diary_entry(datetime.now() - timedelta(days=40), region="upper", side="left", severity=2)
    data = client.get("/api/export/diary.json").get_json()
    assert [r["severity"] for r in data["rows"]] == [1]


def test_the_export_form_goes_to_the_file_for_any_range(client, day_db):
    response = client.get("/export?what=events&format=json&from=2024-04-28&to=2024-05-01")
    assert response.status_code == 302
    assert response.headers["Location"] == "/api/export/events.json?from=2024-04-28&to=2024-05-01"
    rows = client.get(response.headers["Location"]).get_json()["rows"]
    assert len(rows) == 19


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


def export_before_streaming(app, kind: str, fmt: str, first: str, last: str) -> bytes:
    """The export as the dashboard made it before it streamed: every row in a list, then jsonify
    (JSON) or the CSV writer over the list. The reference the streamed file must equal, byte for byte."""
    from datetime import date, timedelta

    from flask import jsonify

    from dashboard.history import local_midnight, ts_of
    from dashboard.views.export import COLUMNS, _csv

    a, b = local_midnight(date.fromisoformat(first)), local_midnight(date.fromisoformat(last) + timedelta(days=1))
    with Store(app.config["DATABASE"]) as store:
        if kind == "sessions":
            rows = [
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
        elif kind == "events":
            rows = []
            for r in store.events_between(a, b):
                start, end = r["data"].get("start"), r["data"].get("end")
                duration = (
                    round(end - start, 3) if isinstance(start, (int, float)) and isinstance(end, (int, float)) else None
                )
                rows.append(
                    {
                        "id": r["id"],
                        "type": r["type"],
                        "wall": r["wall"],
                        "detected_wall": r["detected_wall"],
                        "session_id": r["session_id"],
                        "duration_s": duration,
                        "data": r["data"],
                    }
                )
        else:
            rows = [{key: r[key] for key in COLUMNS["diary"]} for r in store.diary_between(a, b)]
    if fmt == "csv":
        return "".join(_csv(kind, rows)).encode()
    with app.app_context():
        return jsonify(kind=kind, first=first, last=last, rows=rows).get_data()


@pytest.fixture(scope="module")
def weeks_of_history(tmp_path_factory):
    """Five weeks of sample history up to now (today's session still open) and a few diary entries."""
    from datetime import date, datetime, timedelta

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
def test_a_streamed_export_is_the_same_file_as_before(weeks_of_history, kind, fmt):
    from datetime import date, timedelta

    from dashboard import create_app

    app = create_app({"TESTING": True, "DATABASE": str(weeks_of_history)})
    first, last = (date.today() - timedelta(days=40)).isoformat(), date.today().isoformat()
    response = app.test_client().get(f"/api/export/{kind}.{fmt}?from={first}&to={last}")
    assert response.is_streamed
    body = response.get_data()
    assert body == export_before_streaming(app, kind, fmt, first, last)
    if fmt == "json":
        data = response.get_json()
        assert data["kind"] == kind and len(data["rows"]) > (2 if kind == "diary" else 100)


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
    from datetime import date

    from tests.sample_history import fill_history

    first = date(2025, 1, 1)
    with Store(db_path) as store:
        fill_history(store, first, 200, seed=5)
    client.get("/api/export/events.json?from=2025-01-01&to=2025-01-07")  # warm-up: imports, templates, caches
    week, _ = peak_memory_of_export(client, "/api/export/events.json?from=2025-01-01&to=2025-01-07")
    for fmt in ("json", "csv"):
        months, size = peak_memory_of_export(client, f"/api/export/events.{fmt}?from=2025-01-01&to=2025-07-19")
        assert size > 1_500_000
        assert months < max(2 * week, 3.0), f"{fmt}: {months:.1f} MB for 200 days, {week:.1f} MB for a week"


def test_the_export_reads_events_page_by_page_without_skipping_or_repeating(store):
    """Events with the same time on a page boundary: the next page starts after the last one read."""
    from datetime import datetime

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
