"""The Now page and /api/live: what a person sees at a glance, in the words and units they would use."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from dashboard.advice import ADVICE_FOR_EVENT, JUST_SAT
from dashboard.live import live_view
from device.config import Config
from device.core.events import Session, Sit, Stand
from tests.dashboard_support import text, visible
from tests.sample_history import live_values


def view_of(client):
    return client.get("/api/live").get_json()["view"]


def test_now_without_live_data_says_so(client):
    page = text(client.get("/"))
    assert "No live data yet" in page
    assert "has not written anything yet" in page


def test_now_shows_sitting_time_the_break_and_the_centre_of_pressure(client, store):
    store.set_live(live_values(sitting_s=1234.0, next_prompt_in_s=45 * 60 - 1234.0, cop_x_mm=-32.0, cop_y_mm=18.0))
    page = text(client.get("/"))
    assert ">Seated<" in page
    assert re.search(r'id="sitting-timer"[^>]*>20 min<', page)
    assert "Break due in 25 min" in page  # 45 min - 20 min 34 s, rounded up
    # x right, y forward = up on the screen: the dot's SVG y is minus y_mm.
    assert re.search(r'id="cop-dot"[^>]*cx="-32.0" cy="-18.0"', page)
    assert "3 small shifts of your weight in the last 10 min" in page
    assert 'data-show="stale" role="status" hidden' in page  # fresh: no stale banner


@pytest.mark.parametrize(
    "seconds,shown",
    [
        (10, "10 s"),
        (59, "59 s"),
        (60, "1 min"),
        (47 * 60 + 50, "47 min"),
        (95 * 60 + 20, "1 h 35 min"),
        (3 * 3600 + 25 * 60, "3 h 25 min"),
    ],
)
def test_the_timer_says_its_unit(client, store, seconds, shown):
    """'0:10' reads as ten minutes: the timer says seconds, minutes or hours in so many words."""
    store.set_live(live_values(sitting_s=float(seconds)))
    assert view_of(client)["sitting_text"] == shown
    assert re.search(rf'id="sitting-timer"[^>]*>{shown}<', text(client.get("/")))


def test_just_after_sitting_down_the_advice_is_about_settling_in(client, store):
    store.set_live(live_values(sitting_s=10.0, next_prompt_kind="move", next_prompt_in_s=1190.0))
    view = view_of(client)
    assert view["advice"]["text"] == JUST_SAT.text
    assert "on your feet" not in view["advice"]["text"] and "stand" not in view["advice"]["text"].lower()


def test_the_move_nudge_and_the_break_each_have_their_own_line(client, store):
    """The daemon's next prompt is a move nudge in 19:48; the break is still 35 minutes off."""
    store.set_live(live_values(sitting_s=600.0, next_prompt_kind="move", next_prompt_in_s=1188.0))
    view = view_of(client)
    assert view["move_text"] == "Move nudge in 20 min if you keep still"
    assert view["break_text"] == "Break due in 35 min"
    assert view["progress_label"] == "Sitting time towards the 45-minute break"
    assert view["progress"] == pytest.approx(600 / 2700, abs=1e-3)
    page = visible(client.get("/"))
    assert "Move nudge in 20 min if you keep still" in page and "Break due in 35 min" in page
    assert 'aria-label="Sitting time towards the 45-minute break"' in text(client.get("/"))


def test_break_due_then_overdue_escalates(client, store):
    store.set_live(
        live_values(sitting_s=47 * 60, break_due=True, next_prompt_kind="break_overdue", next_prompt_in_s=13 * 60)
    )
    due = view_of(client)
    assert due["break_state"] == "due" and due["break_text"] == "Break due now; overdue in 13 min"
    assert due["banner_text"].startswith("Break due")
    assert 'class="banner due"' in text(client.get("/"))

    for sitting, shown in ((95 * 60, "1 h 35 min"), (3 * 3600 + 25 * 60, "3 h 25 min")):
        store.set_live(
            live_values(
                sitting_s=float(sitting), break_due=True, next_prompt_kind="break_overdue", next_prompt_in_s=600.0
            )
        )
        view = view_of(client)
        assert view["break_state"] == "overdue"
        assert (
            view["banner_text"] == f"Break overdue: you've been sitting {shown}. Stand up now: walk for a few minutes."
        )
        assert view["break_text"] == f"Break overdue: {shown} without a break; next reminder in 10 min"
        assert "Break due" not in view["banner_text"] + view["break_text"]
        page = text(client.get("/"))
        assert 'class="banner overdue"' in page and 'id="sit-progress" class="overdue"' in page
        assert view["advice"]["text"].startswith(f"You've been sitting {'95 minutes' if sitting < 7200 else shown}")


def test_overdue_follows_the_settings(client, store):
    store.set_settings({"breaks.break_after_min": 30.0, "breaks.overdue_after_min": 40.0})
    store.set_live(
        live_values(sitting_s=41 * 60, break_due=True, next_prompt_kind="break_overdue", next_prompt_in_s=14 * 60)
    )
    view = view_of(client)
    assert view["break_state"] == "overdue" and view["progress_label"].endswith("30-minute break")


def test_now_shows_leaning_posture_faults_and_matching_advice(client, store):
    store.set_live(live_values(sitting_s=1800.0, lat=-0.3, sag=0.35, faults=["fr"]))
    view = view_of(client)
    assert view["lean"] == "left" and view["lean_text"] == "Leaning left: 65% left, 35% right of your weight"
    assert view["posture"] == "perch" and view["posture_text"] == "Perching on the front edge"
    assert view["fault_text"] == "Sensor fault: front-right (fr)"
    assert view["advice"]["section"] == "desk" and "leaning to the left" in view["advice"]["text"]
    page = text(client.get("/"))
    assert "Sensor fault: front-right (fr)" in page and "/advice#cushion-faults" in page


def test_balance_posture_and_fidgets_link_to_their_advice(client, store):
    store.set_live(live_values(sitting_s=1800.0))
    page = text(client.get("/"))
    for kind, name in (("lean", "Balance"), ("perch", "Posture"), ("fidget", "Fidgets")):
        assert f'<a href="/advice#{ADVICE_FOR_EVENT[kind].section}">{name}</a>' in page, name


def test_the_today_line_says_what_its_numbers_are(client, day_db, store):
    store.set_live(live_values())
    view = view_of(client)
    assert view["today_breaks"].endswith(("break", "breaks")) and view["today_prompts"].endswith(
        ("break reminder", "break reminders")
    )
    page = visible(client.get("/"))
    assert re.search(
        r"Today: \S+ min seated longest sitting \S+ min \d+ breaks? taken \d+ break reminders? "
        r"from the cushion",
        page,
    ), page
    assert "breaks / prompts" not in page


def test_now_says_when_the_live_row_is_stale(client, store):
    store.set_live(live_values(), wall=datetime.now() - timedelta(seconds=30))
    page = text(client.get("/"))
    assert "Not live." in page and "is its daemon running?" in page
    assert 'data-show="stale" role="status" hidden' not in page


def test_now_away(client, store):
    store.set_live({"seated": False, "sitting_s": 0.0})  # as the daemon writes it: no session open
    view = view_of(client)
    assert view["status_text"] == "Away from the cushion" and view["sitting_text"] == "—" and view["dot"] is None
    assert view["advice"]["section"] == "hydration" and view["move_text"] == ""


def test_now_up_for_a_moment_keeps_the_session_clock(client, store):
    """A short absence does not end the session: the daemon's sitting_s goes on, and so does the timer."""
    store.set_live({"seated": False, "sitting_s": 1500.0, "next_prompt_kind": "break_due", "next_prompt_in_s": 1200.0})
    view = view_of(client)
    assert view["status_text"] == "Up for a moment" and view["sitting_text"] == "25 min"
    assert view["break_text"] == "Stay up 1 min and it counts as a break"
    assert "break" in view["advice"]["text"]


def test_api_live_has_the_row_and_the_view(client, store):
    store.set_live(live_values(sitting_s=100.0))
    response = client.get("/api/live")
    assert response.headers["Cache-Control"] == "no-store"
    data = response.get_json()
    assert data["live"]["sitting_s"] == 100.0 and data["view"]["sitting_text"] == "1 min"
    assert data["view"]["sitting_s"] == 100.0
    assert data["view"]["stale"] is False
    # The session going on counts today, as far as the live row has got (the history has none yet).
    assert data["view"]["today_seated"] == data["view"]["today_longest"] == "1 min"


def test_api_live_without_a_row(client):
    data = client.get("/api/live").get_json()
    assert data["live"] is None and data["view"]["has_live"] is False and data["view"]["stale"] is True


def test_the_move_nudge_is_never_said_sooner_than_the_daemons_next_prompt(client, store):
    """Next prompt: the break in 15 min. Without movement in the history the nudge would look due;
    the daemon knows better (it counted movements the history has not got yet)."""
    store.set_live(live_values(sitting_s=1800.0, next_prompt_kind="break_due", next_prompt_in_s=900.0))
    assert view_of(client)["move_text"] == "Move nudge in 15 min if you keep still"


# ---- one session, one figure: the timer and the Today line ------------------------------------------

NOW = datetime(2024, 5, 1, 15, 0).astimezone()


def sitting_since(store, seconds: float, now: datetime = NOW, batch_lag_s: float = 10.0) -> None:
    """A session open for `seconds` at `now`, as the daemon leaves it: the history's last batch
    `batch_lag_s` ago (its heartbeat), the live row (sitting_s) written at `now`."""
    start_t = 10_000.0
    store.write_batch(
        start_t + seconds - batch_lag_s,
        now - timedelta(seconds=batch_lag_s),
        sessions=[Session(start_t, None, ())],
        events=[Sit(start_t, start_t + 1.5)],
    )
    store.set_live(live_values(sitting_s=seconds), wall=now)


def test_the_timer_and_todays_figures_agree_for_one_session(store):
    """Before: "Sitting without a break 5 min" beside "Today: 6 min seated, longest sitting 6 min". The
    timer is the live row's 350 s, never rounded up; the Today line was the history's 340 s (to the last
    batch's heartbeat), rounded. Now both are the live row's, read the same way."""
    sitting_since(store, 350.0)
    view = live_view(store, Config(), now=NOW)
    assert view["sitting_text"] == "5 min"
    assert (view["today_seated"], view["today_longest"]) == ("5 min", "5 min")


def test_today_adds_the_running_session_to_the_days_earlier_ones(store):
    morning = (NOW - timedelta(hours=6)).replace(tzinfo=None)  # 09:00, 70 minutes
    store.write_batch(0.0, morning, sessions=[Session(0.0, 4200.0, ())], events=[Sit(0.0, 1.5), Stand(4200.0, 4201.5)])
    store.end_run()
    sitting_since(store, 350.0)
    view = live_view(store, Config(), now=NOW)
    assert view["today_seated"] == "1 h 15 min"  # 70 min + 5 min 50 s, never rounded up
    assert view["today_longest"] == "1 h 10 min"
    assert view["today_breaks"] == "1 break"  # between the morning and this session
    assert view["sitting_text"] == "5 min"


def test_a_session_from_before_midnight_counts_today_only_from_midnight(store):
    """Seated since 23:55: the timer says 10 min; today has 5 of them, and the session (and its
    length) belongs to yesterday, the day it started."""
    now = datetime(2024, 5, 2, 0, 5).astimezone()
    sitting_since(store, 600.0, now=now)
    view = live_view(store, Config(), now=now)
    assert view["sitting_text"] == "10 min"
    assert view["today_seated"] == "5 min" and view["today_longest"] == "0 min"


def test_away_today_is_the_history_alone(store):
    sitting_since(store, 350.0)
    store.set_live({"seated": False, "sitting_s": 0.0}, wall=NOW + timedelta(minutes=5))
    store.end_run()
    view = live_view(store, Config(), now=NOW + timedelta(minutes=5))
    assert view["today_seated"] == "5 min"  # its record in the history: 340 s to the last heartbeat, as a timer reads
