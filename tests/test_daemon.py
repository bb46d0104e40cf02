"""The daemon on scripted scenarios: history in the database, buzzer and LED pin histories."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory

from device.alerts import Alerts
from device.config import Alerts as AlertsConfig
from device.config import Breaks, Config
from device.daemon import Daemon
from device.sitter import DEMO_CALIBRATION, Person, Scenario, Simulation
from device.sources import SimulatedSource
from device.store import Store

START = datetime(2026, 3, 2, 9, 0, 0).astimezone()
CONFIG = Config(calibration=DEMO_CALIBRATION)


@pytest.fixture
def mock_factory():
    Device.pin_factory = MockFactory()
    yield Device.pin_factory
    Device.pin_factory.reset()
    Device.pin_factory = None


def working_morning() -> Scenario:
    """Sits 5 s in; a lean at 10 min, a twist at 20 min; stands at 50 min for 2 min; sits 5 min more."""
    s = Scenario(Person(mass_kg=80)).away(5).sit_down().hold(600)
    s.lean("left", 0.3, 30).hold(540).twist("right", 0.4, 3).hold(1820)
    s.stand_up().away(120).sit_down().hold(300)
    return s


def make_daemon(tmp_path, scenario, config=CONFIG, alerts=True, db="history.db"):
    sim = Simulation(scenario, calibration=DEMO_CALIBRATION, rate_hz=80, seed=3)
    source = SimulatedSource(sim, speed=0, start_wall=START)
    store = Store.open(tmp_path / db)
    holder = []
    out = Alerts(config.alerts, on_snooze=lambda: holder[0].on_snooze(),
                 on_mute=lambda: holder[0].on_mute()) if alerts else None
    daemon = Daemon(config, store, source, out, settings_poll_s=0)
    holder.append(daemon)
    return daemon, sim, store, out


def run_to_end(daemon, until_t=None):
    while daemon.step():
        if until_t is not None and daemon._last_t is not None and daemon._last_t >= until_t:
            return
    daemon.finish()


def wait_quiet(alerts, timeout=3.0):
    end = time.monotonic() + timeout
    while alerts.sounding is not None and time.monotonic() < end:
        time.sleep(0.02)


def rises(pin):
    states = [s.state for s in pin.states]
    return sum(1 for a, b in zip(states, states[1:]) if not a and b)


def test_scripted_morning_fills_the_history_and_drives_buzzer_and_led(tmp_path, mock_factory):
    daemon, sim, store, alerts = make_daemon(tmp_path, working_morning())
    buzzer = mock_factory.pin(17)
    led = mock_factory.pin(27)
    led_on_at_break_due = None
    while daemon.step():
        if daemon.pipeline.prompts.break_due_active and led_on_at_break_due is None:
            wait_quiet(alerts)
            led_on_at_break_due = led.state
    daemon.finish()
    wait_quiet(alerts)

    sessions = store.sessions_between(START, START + timedelta(days=1))
    truth = sim.truth.sessions
    assert len(sessions) == len(truth) == 2
    for row, expected in zip(sessions, truth):
        start = datetime.fromisoformat(row["start_wall"])
        assert abs((start - (START + timedelta(seconds=expected.start))).total_seconds()) < 4
    assert "break_due" in sessions[0]["prompts"] and "move" in sessions[0]["prompts"]

    events = store.events_between(START, START + timedelta(days=1))
    types = [e["type"] for e in events]
    assert types.count("lean") == 1 and types.count("twist") == 1
    assert [e["data"]["kind"] for e in events if e["type"] == "prompt"] == sessions[0]["prompts"]

    minutes = store.minutes_between(START, START + timedelta(days=1))
    seated = sum(m["seated_s"] for m in minutes)
    truth_seated = sum(s.end - s.start for s in truth if s.end) + (sim.duration_s - truth[-1].start if truth[-1].end is None else 0)
    assert seated == pytest.approx(truth_seated, rel=0.01)  # the 2-minute break lies between the sessions
    (lean,) = sim.truth.leans
    assert sum(m["lean_left_s"] for m in minutes) == pytest.approx(lean.end - lean.start, abs=1.5)

    # Buzzer: a move chirp (1 beep) and break_due (2 beeps) at least; LED on while the break was due, off after.
    assert rises(buzzer) >= 3
    assert led_on_at_break_due is True
    assert led.state is False


def test_settings_changed_in_the_database_apply_while_running(tmp_path, mock_factory):
    daemon, sim, store, _ = make_daemon(tmp_path, working_morning(), alerts=False)
    run_to_end(daemon, until_t=120)
    store.set_settings({"breaks.break_after_min": 5})
    run_to_end(daemon)
    prompts = [e for e in store.events_between(START, START + timedelta(days=1)) if e["type"] == "prompt"]
    due = [e for e in prompts if e["data"]["kind"] == "break_due"]
    sit = sim.truth.sits[0].t
    assert due and due[0]["data"]["t"] == pytest.approx(sit + 300, abs=3)


def test_quiet_hours_record_the_prompt_but_keep_the_buzzer_silent(tmp_path, mock_factory):
    config = Config(calibration=DEMO_CALIBRATION, breaks=Breaks(quiet_hours=("08:00-18:00",)))
    daemon, _, store, alerts = make_daemon(tmp_path, working_morning(), config=config)
    run_to_end(daemon)
    wait_quiet(alerts)
    prompts = [e for e in store.events_between(START, START + timedelta(days=1)) if e["type"] == "prompt"]
    assert len(prompts) >= 2
    assert rises(mock_factory.pin(17)) == 0


def test_button_press_snoozes_and_is_recorded(tmp_path, mock_factory):
    config = Config(calibration=DEMO_CALIBRATION, alerts=AlertsConfig(snooze_min=120))
    daemon, _, store, alerts = make_daemon(tmp_path, working_morning(), config=config)
    button = mock_factory.pin(22)
    run_to_end(daemon, until_t=60)
    button.drive_low()
    time.sleep(0.05)
    button.drive_high()
    time.sleep(0.05)
    run_to_end(daemon)
    wait_quiet(alerts)
    (snooze,) = store.snoozes_between(START, START + timedelta(days=1))
    assert snooze["action"] == "snooze"
    assert rises(mock_factory.pin(17)) == 0  # every prompt fell inside the two-hour snooze
    assert [e for e in store.events_between(START, START + timedelta(days=1)) if e["type"] == "prompt"]


def test_unplugged_channel_is_a_fault_with_a_blinking_led_and_no_false_stand(tmp_path, mock_factory):
    s = Scenario(Person(mass_kg=75)).away(5).sit_down().hold(60)
    s.fault("fr", "unplugged", 20).hold(120)
    daemon, _, store, alerts = make_daemon(tmp_path, s)
    led = mock_factory.pin(27)
    saw_blink = False
    while daemon.step():
        if alerts.led_mode == "blink":
            saw_blink = True
    daemon.finish()
    assert saw_blink
    events = store.events_between(START, START + timedelta(days=1))
    faults = [e for e in events if e["type"] == "fault"]
    assert len(faults) == 1 and faults[0]["data"]["channel"] == "fr"
    assert [e["type"] for e in events if e["type"] in ("sit", "stand")] == ["sit"]
    assert alerts.led_mode == "off" or led.state is False or alerts.away


def test_disk_error_keeps_prompting_and_saves_once_the_disk_is_back(tmp_path, mock_factory, caplog):
    daemon, _, store, alerts = make_daemon(tmp_path, working_morning())
    run_to_end(daemon, until_t=30)
    store.db.execute("PRAGMA query_only = ON")  # the database refuses writes, as a read-only disk does
    run_to_end(daemon, until_t=47 * 60)
    assert "history not saved" in caplog.text
    assert daemon.counters.failed_writes > 0
    wait_quiet(alerts)
    assert rises(mock_factory.pin(17)) >= 3  # the move chirp and the break_due beeps still sounded
    assert [e["type"] for e in store.events_between(START, START + timedelta(days=1))] == ["sit"]  # saved before
    store.db.execute("PRAGMA query_only = OFF")
    run_to_end(daemon)
    events = store.events_between(START, START + timedelta(days=1))
    kinds = [e["data"]["kind"] for e in events if e["type"] == "prompt"]
    assert kinds[:2] == ["move", "break_due"]  # written after the disk came back
    assert [e["type"] for e in events].count("lean") == 1


CHILD = """
import sys, time
from datetime import datetime
from device.config import Config
from device.daemon import Daemon
from device.sitter import DEMO_CALIBRATION, Person, Scenario, Simulation
from device.sources import SimulatedSource
from device.store import Store
start = datetime.fromisoformat(sys.argv[2])
scenario = Scenario(Person(mass_kg=80)).away(5).sit_down().hold(3600)
sim = Simulation(scenario, calibration=DEMO_CALIBRATION, rate_hz=10, seed=1)
daemon = Daemon(Config(calibration=DEMO_CALIBRATION), Store.open(sys.argv[1]), SimulatedSource(sim, speed=100, start_wall=start))
print("started", flush=True)
while daemon.step():
    pass
"""


def test_kill_9_mid_session_loses_only_the_last_seconds_and_the_session_goes_on(tmp_path):
    db = tmp_path / "history.db"
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(db), START.isoformat()],
                             stdout=subprocess.PIPE, env=env)
    assert child.stdout.readline().strip() == b"started"
    time.sleep(4.0)  # ~400 s of simulated sitting at speed 100
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)

    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    store = Store.open(db)
    (left,) = store.left_open()
    heartbeat = datetime.fromisoformat(left["last_heartbeat_wall"])
    reached = (heartbeat - START).total_seconds()
    assert reached > 100  # the run got going before it was killed
    minutes_before = sum(m["seated_s"] for m in store.minutes_between(START, START + timedelta(days=1)))
    # Everything up to the last batch (5 s of frame time) is there.
    assert minutes_before == pytest.approx(reached - 5 - 1.0, abs=7)

    # Restart 20 s later with the person still seated: the session goes on, its start unchanged.
    restart_wall = heartbeat + timedelta(seconds=20)
    scenario = Scenario(Person(mass_kg=80), seated=True).hold(300)
    sim = Simulation(scenario, calibration=DEMO_CALIBRATION, rate_hz=10, seed=2)
    daemon = Daemon(CONFIG, store, SimulatedSource(sim, speed=0, start_wall=restart_wall), settings_poll_s=0)
    run_to_end(daemon)
    (session,) = store.sessions_between(START, START + timedelta(days=1))
    assert session["start_wall"] == left["start_wall"] and session["end_wall"] is None
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_restart_after_a_long_gap_closes_the_session_at_its_last_heartbeat(tmp_path):
    daemon, _, store, _ = make_daemon(tmp_path, Scenario(Person(mass_kg=80)).away(5).sit_down().hold(600), alerts=False)
    run_to_end(daemon, until_t=300)  # then the "power is cut": no finish()
    store.close()
    store = Store.open(tmp_path / "history.db")
    (left,) = store.left_open()
    later = START + timedelta(hours=2)
    sim = Simulation(Scenario(Person(mass_kg=80)).away(30), calibration=DEMO_CALIBRATION, rate_hz=10, seed=2)
    daemon = Daemon(CONFIG, store, SimulatedSource(sim, speed=0, start_wall=later), settings_poll_s=0)
    run_to_end(daemon)
    (session,) = store.sessions_between(START, START + timedelta(days=1))
    assert session["end_wall"] == left["last_heartbeat_wall"]
