"""The Now page's buzzer (why it is silent, Snooze / Mute / Resume) and the break companion."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from dashboard import create_app
from dashboard.companion import GENTLE, MOVES, move_for
from tests.dashboard_support import post, text, visible
from tests.fleet_support import make_hub
from tests.sample_history import live_values


def view_of(client):
    return client.get("/api/live").get_json()["view"]


def now():
    return datetime.now().astimezone()


@pytest.mark.parametrize(
    ("button", "value", "action", "minutes"),
    [
        ("snooze", "15", "snooze", 15),
        ("snooze", "60", "snooze", 60),
        ("action", "mute_day", "mute_day", None),
        ("action", "resume", "resume", None),
    ],
)
def test_each_button_asks_the_cushion_and_says_it_will_take_it(client, store, button, value, action, minutes):
    response = post(client, "/silence", {button: value}, follow_redirects=True)
    assert response.status_code == 200 and "the cushion takes it within a second" in text(response)
    (request,) = store.pending_silence_requests()
    assert (request["action"], request["minutes"]) == (action, minutes)


@pytest.mark.parametrize("form", [{"snooze": "45"}, {"snooze": "-1"}, {"action": "sleep"}, {}])
def test_anything_else_is_refused_and_nothing_is_asked(client, store, form):
    assert post(client, "/silence", form).status_code == 400
    assert store.pending_silence_requests() == []


def test_a_snooze_needs_the_pages_token(client, store):
    assert client.post("/silence", data={"snooze": "15"}).status_code == 400
    assert store.pending_silence_requests() == []


@pytest.mark.parametrize(
    ("silenced", "until", "says"),
    [
        (None, None, "The buzzer sounds for reminders."),
        ("snoozed", timedelta(minutes=20), "The buzzer is silent: snoozed until "),
        ("muted", "midnight", "The buzzer is silent: muted until tomorrow."),
        ("quiet_hours", timedelta(days=2), "The buzzer is silent: quiet hours until "),
        ("disabled", None, "The buzzer is off in Settings"),
    ],
)
def test_the_page_says_what_the_buzzer_will_do_and_why(client, store, silenced, until, says):
    if until == "midnight":
        until_wall = datetime.combine(now().date() + timedelta(days=1), datetime.min.time()).astimezone()
    else:
        until_wall = None if until is None else now() + until
    store.set_live(live_values(silenced=silenced, silenced_until_wall=until_wall))
    view = view_of(client)
    assert view["silence"] == (silenced or "sounding")
    assert view["silence_text"].startswith(says)
    if isinstance(until, timedelta) and until < timedelta(hours=1):
        assert until_wall.strftime("%H:%M") in view["silence_text"]
    if until == timedelta(days=2):
        assert until_wall.strftime("%a") in view["silence_text"]  # another day: its name
    assert says in visible(client.get("/"))
    # Resume ends a snooze or a mute; quiet hours and the buzzer off in Settings are not its to end.
    assert view["can_resume"] == (silenced in ("snoozed", "muted"))
    page = client.get("/").get_data(as_text=True)
    resume = re.search(r"<button[^>]*value=\"resume\"[^>]*>", page)
    assert resume is not None and ("hidden" in resume.group(0)) == (silenced not in ("snoozed", "muted"))


def test_a_request_not_taken_says_so_and_then_asks_whether_the_daemon_runs(client, store):
    store.set_live(live_values())
    store.request_silence("snooze", 15)
    assert view_of(client)["silence_pending"] == "Waiting for the cushion to take it…"
    store.request_silence("resume", wall=now() - timedelta(seconds=40))
    store.db.execute("UPDATE silence_requests SET wall = ?", [(now() - timedelta(seconds=40)).isoformat()])
    store.db.conn.commit()
    assert "not taken yet: is the cushion's daemon running?" in view_of(client)["silence_pending"]
    for request in store.pending_silence_requests():
        store.silence_request_taken(request["id"], None)
    assert view_of(client)["silence_pending"] == ""


def test_the_companion_counts_the_break_against_the_minute_and_names_a_move(client, store):
    store.set_live(live_values(seated=False, sitting_s=1500.0, away_s=20.0))  # up, the session goes on
    companion = view_of(client)["companion"]
    assert companion["text"] == "Up for 20 s: it counts as a break after 1 min."
    assert companion["fraction"] == pytest.approx(20 / 60, abs=0.001) and not companion["counts"]
    assert companion["title"] == MOVES[0].title and companion["href"].startswith("/advice#")
    store.set_live(live_values(seated=False, sitting_s=0.0, away_s=150.0))  # the break counted
    companion = view_of(client)["companion"]
    assert companion["counts"] and companion["text"].startswith("Break taken: 2 min so far.")
    assert "On your break" in visible(client.get("/"))
    store.set_live(live_values(seated=False, sitting_s=0.0, away_s=3 * 3600.0))  # gone home
    assert view_of(client)["companion"] is None
    store.set_live(live_values())  # seated
    assert view_of(client)["companion"] is None


def test_a_due_break_names_the_move_and_a_recent_spasm_rules_out_stretches(client, store):
    store.set_live(
        live_values(sitting_s=50 * 60.0, break_due=True, next_prompt_kind="break_overdue", next_prompt_in_s=600.0)
    )
    view = view_of(client)
    assert view["banner_text"] == "Break due: stand up and walk for a few minutes."
    assert view["move"] == move_for(0).title
    store.add_diary_entry(now() - timedelta(hours=3), region="lower", side="centre", severity=7, kind="spasm")
    assert all(not move.stretch for move in GENTLE) and any(move.stretch for move in MOVES)
    for key in range(len(MOVES)):
        assert not move_for(key, spasm_recently=True).stretch
    assert view_of(client)["move"] in {move.title for move in GENTLE}


def test_a_hub_does_not_offer_a_snooze_it_could_not_deliver(tmp_path):
    client = create_app({"TESTING": True, "DATABASE": str(make_hub(tmp_path / "hub.db"))}).test_client()
    client.get("/?cushion=desk-1")
    page = text(client.get("/"))
    assert 'action="/silence"' not in page and "cmd/snooze" in page
    assert post(client, "/silence", {"snooze": "15"}).status_code == 404
