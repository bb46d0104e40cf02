"""The pages with data and without: Now, Day, Trends, Advice, Device."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from markupsafe import escape

from dashboard.advice import ADVICE_FOR_EVENT, RED_FLAGS, SECTIONS
from dashboard.sample_history import live_values
from device.store import Store
from tests.dashboard_support import DAY, text


# ---- Now ---------------------------------------------------------------------


def test_now_without_live_data_says_so(client):
    page = text(client.get("/"))
    assert "No live data yet" in page
    assert "has not written anything yet" in page


def test_now_shows_sitting_time_next_prompt_and_the_centre_of_pressure(client, store):
    store.set_live(live_values(sitting_s=1234.0, next_prompt_in_s=300.0, cop_x_mm=-32.0, cop_y_mm=18.0))
    page = text(client.get("/"))
    assert ">Seated<" in page
    assert 'id="sitting-timer" data-live="sitting_text" aria-live="off">20:34<' in page
    assert "Break due in 5:00" in page
    # x right, y forward = up on the screen: the dot's SVG y is minus y_mm.
    assert re.search(r'id="cop-dot"[^>]*cx="-32.0" cy="-18.0"', page)
    assert "3 in the last 10 min" in page
    assert 'data-show="stale" role="status" hidden' in page  # fresh: no stale banner


def test_now_says_when_the_live_row_is_stale(client, store):
    store.set_live(live_values(), wall=datetime.now() - timedelta(seconds=30))
    page = text(client.get("/"))
    assert "Not live." in page and "is its daemon running?" in page
    assert 'data-show="stale" role="status" hidden' not in page


def test_now_shows_leaning_posture_faults_and_matching_advice(client, store):
    store.set_live(live_values(lat=-0.3, sag=0.35, faults=["fr"]))
    view = client.get("/api/live").get_json()["view"]
    assert view["lean"] == "left" and view["lean_text"].startswith("Leaning left (65/35)")
    assert view["posture"] == "perch"
    assert view["fault_text"] == "Sensor fault: front-right (fr)"
    assert view["advice"]["section"] == "desk" and "leaning to the left" in view["advice"]["text"]
    page = text(client.get("/"))
    assert "Sensor fault: front-right (fr)" in page and "/advice#cushion-faults" in page


def test_now_break_due_banner_and_overdue_advice(client, store):
    store.set_live(live_values(sitting_s=65 * 60, break_due=True, next_prompt_kind="break_overdue",
                               next_prompt_in_s=600.0))
    view = client.get("/api/live").get_json()["view"]
    assert view["break_due"] and view["next_prompt_text"] == "Break due now; next reminder in 10:00"
    assert view["advice"]["text"].startswith("You've been sitting 65 minutes")
    page = text(client.get("/"))
    assert 'class="banner due" data-show="break_due">' in page


def test_now_away(client, store):
    store.set_live({"seated": False, "sitting_s": 0.0})  # as the daemon writes it: no session open
    view = client.get("/api/live").get_json()["view"]
    assert view["status_text"] == "Away from the cushion" and view["sitting_text"] == "—" and view["dot"] is None
    assert view["advice"]["section"] == "hydration"


def test_now_up_for_a_moment_keeps_the_session_clock(client, store):
    """A short absence does not end the session: the daemon's sitting_s goes on, and so does the timer."""
    store.set_live({"seated": False, "sitting_s": 1500.0, "next_prompt_kind": "break_due",
                    "next_prompt_in_s": 1200.0})
    view = client.get("/api/live").get_json()["view"]
    assert view["status_text"] == "Up for a moment" and view["sitting_text"] == "25:00"
    assert view["next_prompt_text"] == "Stay up 1 min and it counts as a break"


def test_api_live_has_the_row_and_the_view(client, store):
    store.set_live(live_values(sitting_s=100.0))
    response = client.get("/api/live")
    assert response.headers["Cache-Control"] == "no-store"
    data = response.get_json()
    assert data["live"]["sitting_s"] == 100.0 and data["view"]["sitting_text"] == "1:40"
    assert data["view"]["stale"] is False
    assert client.get("/api/live").get_json()["view"]["today_seated"] == "0 min"


def test_api_live_without_a_row(client):
    data = client.get("/api/live").get_json()
    assert data["live"] is None and data["view"]["has_live"] is False and data["view"]["stale"] is True


# ---- Day -----------------------------------------------------------------------


def test_day_page_totals_timeline_and_links(client, day_db):
    page = text(client.get(f"/day/{DAY}"))
    assert "Wednesday 1 May 2024" in page
    assert "2 h 20 min" in page             # seated
    assert "1 h 10 min" in page             # longest session
    assert "3 <small>/</small> 3" in page   # breaks taken / break prompts
    assert "1 min <small>/</small> 30 s" in page  # lean left / right
    assert "1.3" in page                    # fidgets per hour seated
    assert '<svg class="chart timeline"' in page
    assert page.count('class="session') >= 3 and 'class="session long"' in page
    assert "Twist to the right at 09:30" in page and "Break overdue at 11:00" in page
    assert "Fault on fr" in page
    assert 'href="/day/2024-04-30"' in page and 'href="/day/2024-05-02"' in page
    for kind in ("lean", "twist", "perch", "slump", "fidget", "break_due", "move", "fault"):
        assert f'href="/advice#{ADVICE_FOR_EVENT[kind].section}"' in page, kind
    assert ADVICE_FOR_EVENT["twist"].text in page  # "What to try"


def test_day_page_sessions_table(client, day_db):
    page = text(client.get(f"/day/{DAY}"))
    rows = re.findall(r"<tr[^>]*>\s*<td>(\d\d:\d\d)</td>\s*<td>(\d\d:\d\d)</td>\s*<td>([^<]+)</td>", page)
    assert rows == [("09:00", "09:50", "50 min"), ("10:00", "11:10", "1 h 10 min"), ("13:00", "13:20", "20 min")]
    assert "break due, break overdue" in page


def test_empty_day_says_nothing_was_recorded(client):
    page = text(client.get(f"/day/{DAY}"))
    assert "Nothing recorded on this day." in page
    assert "<svg class=\"chart" not in page


def test_day_without_a_date_goes_to_today(client):
    response = client.get("/day")
    assert response.status_code == 302 and response.headers["Location"] == f"/day/{datetime.now().date()}"
    assert client.get("/day?date=2024-05-01").headers["Location"] == "/day/2024-05-01"


def test_today_has_no_link_to_tomorrow(client):
    page = text(client.get(f"/day/{datetime.now().date()}"))
    assert 'rel="next"' not in page and "today" in page


# ---- Trends ----------------------------------------------------------------------


@pytest.mark.parametrize("days", [7, 30, 365])
def test_trends_charts_with_the_guides_targets(client, day_db, days):
    page = text(client.get(f"/trends?days={days}&end=2024-05-03"))
    assert page.count('<svg class="chart bars"') == 5
    assert "45 min: stand by now" in page and "60 min: the limit" in page
    assert 'class="target"' in page and 'class="limit"' in page
    assert "Wed 1 May: longest 70 min" in page  # the bar's tooltip
    assert "Averages over the 1 day with data" in page


def test_trends_day_links_and_period_choice(client, day_db):
    page = text(client.get("/trends?days=7&end=2024-05-03"))
    assert 'href="/day/2024-05-01"' in page
    assert 'href="/trends?days=30&amp;end=2024-05-03"' in page
    assert re.search(r'aria-current="page">7 days<', page)


def test_trends_without_data_says_so(client):
    page = text(client.get("/trends"))
    assert "No data in this period yet." in page
    assert "<svg" not in page


# ---- Advice ------------------------------------------------------------------------


def test_advice_page_has_every_section_with_red_flags_first(client):
    page = text(client.get("/advice"))
    for section in SECTIONS:
        assert f'id="{section.id}"' in page and escape(section.title) in page
    for flag in RED_FLAGS:
        assert escape(flag.label) in page and escape(flag.action) in page
    urgent = page.index('class="card urgent" id="red-flags"')
    assert urgent < page.index('id="spasm-now"') and urgent < page.index("Contents")


# ---- Device --------------------------------------------------------------------------


def test_device_page_shows_rate_drops_channels_calibration_and_faults(client, day_db):
    with Store(day_db) as store:
        store.set_live(live_values(faults=["bl"], sample_rate_hz=79.6, dropped_frames=42))
        store.set_device_info({"calibrated_on": "2024-04-30", "firmware": "0.1.0"})
    page = text(client.get("/device"))
    assert "79.6 frames/s" in page and ">42<" not in page and "42 " in page
    assert "2024-04-30" in page and "firmware" in page
    assert re.search(r'class="bad">.*back-left \(bl\)</strong>\s*FAULT', page, re.S)
    assert re.search(r'class="ok">.*front-left \(fl\)</strong>\s*working', page, re.S)


def test_device_page_lists_recent_faults(client, store):
    from device.events import Fault

    now = datetime.now()
    store.write_batch(1000.0, now, events=[Fault("fr", 900.0, 905.0, 900.5, "stuck"),
                                           Fault("bl", 950.0, None, 950.5, "no_data")])
    page = text(client.get("/device"))
    assert "front-right (fr)" in page and "stuck" in page
    assert "still going" in page and "no data" in page


def test_device_page_without_live_data(client):
    page = text(client.get("/device"))
    assert "No live data yet" in page and "No faults in the last 30 days" in page
