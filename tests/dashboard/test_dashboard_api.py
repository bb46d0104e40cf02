"""The JSON API (the CSV/JSON export: test_dashboard_export.py)."""

from __future__ import annotations

import pytest

from tests.dashboard_support import DAY


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
