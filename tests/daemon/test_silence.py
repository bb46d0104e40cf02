"""The buzzer's silence as the dashboard asks for it and as the Now page reads it (live row, v7)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from device.config import Breaks, Config
from device.sim.sitter import DEMO_CALIBRATION, Person, Scenario
from tests.daemon.test_daemon import START, make_daemon


def seated_then_up() -> Scenario:
    """Seated for 10 minutes from 5 s in, then up for 3 minutes, then seated again."""
    return Scenario(Person(mass_kg=80)).away(5).sit_down().hold(600).stand_up().away(180).sit_down().hold(300)


def run_until(daemon, t):
    while daemon.step():
        if daemon._last_t is not None and daemon._last_t >= t:
            return


def test_snooze_mute_and_resume_from_the_dashboard_are_taken_and_shown(tmp_path, mock_factory):
    daemon, _, store, _ = make_daemon(tmp_path, seated_then_up())
    run_until(daemon, 60)
    store.request_silence("snooze", 30)
    run_until(daemon, 61)  # the next settings poll (every step here) takes it
    assert store.pending_silence_requests() == []
    live = store.live()
    until = datetime.fromisoformat(live["silenced_until_wall"])
    assert live["silenced"] == "snoozed"
    assert abs((until - (START + timedelta(seconds=60 + 30 * 60))).total_seconds()) < 2
    (row,) = store.snoozes_between(START, START + timedelta(hours=1))
    assert row["action"] == "snooze"

    store.request_silence("mute_day")
    run_until(daemon, 70)
    live = store.live()
    assert live["silenced"] == "muted" and live["silenced_until_wall"].startswith(
        (START + timedelta(days=1)).date().isoformat()
    )

    store.request_silence("resume")
    run_until(daemon, 80)
    assert store.live()["silenced"] is None and store.live()["silenced_until_wall"] is None
    assert store.last_silence_request()["until_wall"] is None  # taken: may sound now
    daemon.finish()


def test_quiet_hours_say_until_when_and_a_break_says_how_long_so_far(tmp_path, mock_factory):
    start_hhmm = START.strftime("%H:%M")
    end_hhmm = (START + timedelta(hours=2)).strftime("%H:%M")
    config = Config(calibration=DEMO_CALIBRATION, breaks=Breaks(quiet_hours=(f"{start_hhmm}-{end_hhmm}",)))
    daemon, _, store, _ = make_daemon(tmp_path, seated_then_up(), config=config)
    run_until(daemon, 300)
    daemon._write_live(daemon._last_t)
    live = store.live()
    assert live["silenced"] == "quiet_hours"
    assert datetime.fromisoformat(live["silenced_until_wall"]) == START + timedelta(hours=2)
    assert live["away_s"] is None  # seated
    run_until(daemon, 700)  # stood up about 606 s in
    daemon._write_live(daemon._last_t)
    away = store.live()["away_s"]
    assert 80 <= away <= 100
    run_until(daemon, 1000)  # seated again
    daemon._write_live(daemon._last_t)
    assert store.live()["away_s"] is None
    daemon.finish()


def test_every_way_of_asking_changes_the_one_silence_state():
    """The button, the dashboard and MQTT go through BuzzerSilence.ask: a snooze ended by MQTT
    (0 minutes) leaves a mute for the day in place; the dashboard's Resume ends both."""
    from device.daemon.silence import BuzzerSilence

    silence = BuzzerSilence(Breaks())
    now = datetime(2026, 12, 7, 14, 0).astimezone()
    assert silence.ask("snooze", now, 20) == now + timedelta(minutes=20)
    assert silence.why(now, True) == ("snoozed", now + timedelta(minutes=20))
    muted_until = silence.ask("mute_day", now, 0)
    assert silence.ask("end_snooze", now, 0) is None
    assert silence.why(now, True) == ("muted", muted_until)
    assert silence.ask("resume", now, 0) is None
    assert silence.why(now, True) == (None, None)
    assert silence.why(now, False) == ("disabled", None)
    with pytest.raises(ValueError, match="louder"):
        silence.ask("louder", now, 0)
