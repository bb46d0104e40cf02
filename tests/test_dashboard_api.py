"""The JSON API and the CSV/JSON export."""

from __future__ import annotations

import csv
import io

import pytest

from device.store import Store
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
    assert lean["data"] == {"type": "lean", "side": "left", "start": 33000.0, "end": 33060.0, "peak": 0.28,
                            "detected_at": 33010.0}


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
    post(client, "/diary", {"severity": "5", "where": "lower-left", "when": "2024-05-01T10:00",
                            "note": "=HYPERLINK(\"http://x\")", "red_flags": ["fever", "after_trauma"]})
    rows = rows_of(client.get("/api/export/diary.csv?from=2024-05-01&to=2024-05-01"))
    (row,) = rows
    assert (row["region"], row["side"], row["severity"]) == ("lower", "left", "5")
    assert row["red_flags"] == "after_trauma;fever"
    assert row["note"].startswith("'=")  # a spreadsheet must not run it as a formula
    data = client.get("/api/export/diary.json?from=2024-05-01&to=2024-05-01").get_json()
    assert data["rows"][0]["note"] == "=HYPERLINK(\"http://x\")"


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


@pytest.mark.parametrize("query,message", [
    ("what=passwords&format=csv", "what: choose one of sessions, events, diary"),
    ("what=events&format=xls", "format: choose csv or json"),
    ("what=events&format=csv&from=2024-05-10&to=2024-05-01", "after"),
    ("what=events&format=csv&from=May", "from"),
])
def test_a_wrong_export_choice_gets_a_400_that_says_why(client, query, message):
    response = client.get(f"/export?{query}")
    assert response.status_code == 400 and message in text(response)
