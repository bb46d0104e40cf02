"""The daemon on scripted scenarios: history in the database, buzzer and LED pin histories."""

from __future__ import annotations

import logging
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta

import numpy as np
import pytest

from device.config import Alerts as AlertsConfig
from device.config import Breaks, Config
from device.core.events import Session
from device.core.frames import FrameBlock
from device.daemon.loop import BUSY_TIMEOUT_S, Daemon
from device.daemon.sources import SimulatedSource
from device.hardware.alerts import Alerts
from device.sim.sitter import DEMO_CALIBRATION, Person, Scenario, Simulation
from device.storage.store import Store, StoreError

START = datetime(2026, 3, 2, 9, 0, 0).astimezone()
CONFIG = Config(calibration=DEMO_CALIBRATION)


def working_morning() -> Scenario:
    """Sits 5 s in; a lean at 10 min, a twist at 20 min; stands at 50 min for 2 min; sits 5 min more."""
    s = Scenario(Person(mass_kg=80)).away(5).sit_down().hold(600)
    s.lean("left", 0.3, 30).hold(540).twist("right", 0.4, 3).hold(1820)
    s.stand_up().away(120).sit_down().hold(300)
    return s


def make_daemon(tmp_path, scenario, config=CONFIG, alerts=True, db="history.db", **options):
    sim = Simulation(scenario, calibration=DEMO_CALIBRATION, rate_hz=80, seed=3)
    source = SimulatedSource(sim, speed=0, start_wall=START)
    store = Store.open(tmp_path / db)
    holder = []
    out = (
        Alerts(config.alerts, on_snooze=lambda: holder[0].on_snooze(), on_mute=lambda: holder[0].on_mute())
        if alerts
        else None
    )
    daemon = Daemon(config, store, source, out, settings_poll_s=0, **options)
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
    truth_seated = sum(s.end - s.start for s in truth if s.end) + (
        sim.duration_s - truth[-1].start if truth[-1].end is None else 0
    )
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


def read_only_disk(store, monkeypatch):
    """The database refuses writes, as a read-only disk does, also after the
    daemon reopens it (chmod would not stop root, who runs the tests in CI).
    Returns what makes the disk writable again."""
    reconnect = Store.reconnect
    state = {"read_only": True}

    def reconnect_read_only(self):
        reconnect(self)
        if state["read_only"]:
            self.db.execute("PRAGMA query_only = ON")

    monkeypatch.setattr(Store, "reconnect", reconnect_read_only)
    store.db.execute("PRAGMA query_only = ON")

    def writable_again():
        state["read_only"] = False
        store.db.execute("PRAGMA query_only = OFF")

    return writable_again


def test_disk_error_keeps_prompting_and_saves_once_the_disk_is_back(tmp_path, mock_factory, caplog, monkeypatch):
    caplog.set_level(logging.INFO, logger="cushion")
    # Retried at every batch (every 5 s of frame time) rather than every 5 s of real time.
    daemon, _, store, alerts = make_daemon(tmp_path, working_morning(), retry_s=0)
    run_to_end(daemon, until_t=30)
    writable_again = read_only_disk(store, monkeypatch)
    run_to_end(daemon, until_t=47 * 60)
    assert "history not saved" in caplog.text
    assert daemon.counters.failed_writes > 0
    wait_quiet(alerts)
    assert rises(mock_factory.pin(17)) >= 3  # the move chirp and the break_due beeps still sounded
    assert [e["type"] for e in store.events_between(START, START + timedelta(days=1))] == ["sit"]  # saved before
    writable_again()
    run_to_end(daemon)
    assert "history saved again" in caplog.text
    events = store.events_between(START, START + timedelta(days=1))
    kinds = [e["data"]["kind"] for e in events if e["type"] == "prompt"]
    assert kinds[:2] == ["move", "break_due"]  # written after the disk came back
    assert [e["type"] for e in events].count("lean") == 1


CHILD = """
import sys, time
from datetime import datetime
from device.config import Config
from device.daemon.loop import BUSY_TIMEOUT_S, Daemon
from device.core.events import Session
from device.sim.sitter import DEMO_CALIBRATION, Person, Scenario, Simulation
from device.daemon.sources import SimulatedSource
from device.storage.store import Store, StoreError
start = datetime.fromisoformat(sys.argv[2])
scenario = Scenario(Person(mass_kg=80)).away(5).sit_down().hold(3600)
sim = Simulation(scenario, calibration=DEMO_CALIBRATION, rate_hz=10, seed=1)
source = SimulatedSource(sim, speed=100, start_wall=start)
daemon = Daemon(Config(calibration=DEMO_CALIBRATION), Store.open(sys.argv[1]), source)
print("started", flush=True)
while daemon.step():
    pass
"""


def test_kill_9_mid_session_loses_only_the_last_seconds_and_the_session_goes_on(tmp_path):
    db = tmp_path / "history.db"
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(db), START.isoformat()], stdout=subprocess.PIPE, env=env)
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


# -- the database never stops the loop ---------------------------------------------


def short_sit(minutes=25):
    """Sits 5 s in and stays, still: a move prompt at 20 min (still_min)."""
    return Scenario(Person(mass_kg=80)).away(5).sit_down().hold(minutes * 60)


def test_daemon_starts_without_its_database_prompts_and_saves_once_it_opens(tmp_path, mock_factory, caplog):
    caplog.set_level(logging.INFO, logger="cushion")
    path = tmp_path / "history.db"
    with Store.open(path) as earlier:  # an earlier run left a session open
        earlier.write_batch(100.0, START - timedelta(hours=3), sessions=[Session(50.0, None, ())])
    attempts = []

    def open_store():
        attempts.append(time.monotonic())
        if len(attempts) <= 2:
            raise StoreError(f"{path}: cannot open the history database: the file or the disk is read-only")
        return Store.open(path, busy_timeout_s=BUSY_TIMEOUT_S)

    sim = Simulation(short_sit(), calibration=DEMO_CALIBRATION, rate_hz=10, seed=3)
    holder = []
    alerts = Alerts(CONFIG.alerts, on_snooze=lambda: holder[0].on_snooze(), on_mute=lambda: holder[0].on_mute())
    daemon = Daemon(
        CONFIG,
        None,
        SimulatedSource(sim, speed=0, start_wall=START),
        alerts,
        settings_poll_s=0,
        open_store=open_store,
        device_info={"source": "test"},
        retry_s=0,
    )
    holder.append(daemon)
    assert daemon.store is None
    run_to_end(daemon, until_t=22 * 60)  # the database opened meanwhile (third try)
    wait_quiet(alerts)
    assert rises(mock_factory.pin(17)) >= 1  # the move prompt sounded
    run_to_end(daemon)
    assert len(attempts) == 3 and daemon.lost is None
    assert "history not saved" in caplog.text and "read-only" in caplog.text
    assert "history saved again" in caplog.text
    store = daemon.store
    old, new = store.sessions_between(START - timedelta(days=1), START + timedelta(days=1))
    assert old["end_wall"] == old["last_heartbeat_wall"]  # closed once the database opened
    assert datetime.fromisoformat(new["start_wall"]) >= START and new["prompts"] == ["move"]
    events = store.events_between(START, START + timedelta(days=1))
    assert [e["type"] for e in events] == ["sit", "prompt"]  # kept in memory, then written
    assert store.device_info()["source"] == "test"
    assert sum(m["seated_s"] for m in store.minutes_between(START, START + timedelta(days=1))) > 24 * 60
    store.close()


def test_a_locked_database_never_holds_up_the_loop(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="cushion")
    path = tmp_path / "history.db"
    sim = Simulation(short_sit(5), calibration=DEMO_CALIBRATION, rate_hz=80, seed=3)
    daemon = Daemon(
        CONFIG,
        None,
        SimulatedSource(sim, speed=0, start_wall=START),
        None,
        settings_poll_s=0,
        open_store=lambda: Store.open(path, busy_timeout_s=BUSY_TIMEOUT_S),
        retry_s=0,
    )
    run_to_end(daemon, until_t=30)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another process holds the write lock ...
    slowest = 0.0
    while daemon._last_t < 180:  # ... for 150 s of frames, 30 batches
        started = time.monotonic()
        daemon.step()
        slowest = max(slowest, time.monotonic() - started)
    assert daemon.counters.failed_writes >= 25
    assert slowest < 0.5  # the busy timeout was 5 s a try
    assert "locked" in caplog.text
    other.execute("ROLLBACK")
    other.close()
    run_to_end(daemon)
    assert "history saved again" in caplog.text
    seated = sum(m["seated_s"] for m in daemon.store.minutes_between(START, START + timedelta(days=1)))
    assert seated == pytest.approx(sim.duration_s - 5 - 1.5, abs=3)  # nothing of the locked minutes lost
    daemon.store.close()


def test_history_not_saved_at_shutdown_is_said_and_counted(tmp_path, caplog, monkeypatch):
    caplog.set_level(logging.INFO, logger="cushion")
    daemon, _, store, _ = make_daemon(tmp_path, short_sit(5), alerts=False)
    run_to_end(daemon, until_t=120)

    def disk_full(self, *args, **kwargs):
        raise StoreError(f"{self.path}: cannot write to the history database: the disk is full")

    monkeypatch.setattr(Store, "write_batch", disk_full)
    run_to_end(daemon)  # finish() included
    assert daemon.lost is not None and "disk is full" in daemon.lost
    (line,) = [r.getMessage() for r in caplog.records if "NOT saved at shutdown" in r.getMessage()]
    assert re.search(r"\d+ events, 1 sessions, \d+ minute rows and 0 button presses not saved: .*disk is full", line)


def test_unsaved_history_in_memory_is_bounded(tmp_path, monkeypatch, caplog):
    from device.daemon import history_writer as daemon_module

    monkeypatch.setattr(daemon_module, "MAX_PENDING_MINUTES", 3)
    monkeypatch.setattr(daemon_module, "MAX_PENDING_EVENTS", 1)
    daemon, _, store, _ = make_daemon(tmp_path, working_morning(), alerts=False, retry_s=0)
    run_to_end(daemon, until_t=30)
    read_only_disk(store, monkeypatch)
    run_to_end(daemon, until_t=30 * 60)
    assert len(daemon.history._minutes) <= 3 and len(daemon.history._events) <= 1
    assert "dropped the oldest unsaved history" in caplog.text


def test_invalid_stored_settings_are_logged_and_ignored_one_by_one(tmp_path, caplog):
    path = tmp_path / "history.db"
    with Store.open(path) as dashboard:
        dashboard.set_settings({"breaks.still_min": 10, "detect.seated_kg": -3})
        dashboard.db["settings"].insert(
            {"key": "breaks.break_after_min", "value": "{not json", "updated_wall": START.isoformat()}
        )
    daemon, _, store, _ = make_daemon(tmp_path, short_sit(1), alerts=False)
    assert daemon.config.breaks.still_min == 10  # the good one applies
    assert daemon.config.breaks.break_after_min == CONFIG.breaks.break_after_min
    assert daemon.config.detect.seated_kg == CONFIG.detect.seated_kg
    assert "breaks.break_after_min" in caplog.text and "not JSON" in caplog.text
    assert "detect.seated_kg = -3" in caplog.text
    run_to_end(daemon)
    store.close()


def test_restart_with_the_clock_behind_the_last_heartbeat_does_not_carry_the_session_on(tmp_path, caplog):
    daemon, _, store, _ = make_daemon(tmp_path, short_sit(10), alerts=False)
    run_to_end(daemon, until_t=300)  # then the power is cut
    store.close()
    store = Store.open(tmp_path / "history.db")
    (left,) = store.left_open()
    # No real-time clock: the Pi boots with the clock an hour behind, the person seated.
    behind = datetime.fromisoformat(left["last_heartbeat_wall"]) - timedelta(hours=1)
    sim = Simulation(
        Scenario(Person(mass_kg=80), seated=True).hold(120), calibration=DEMO_CALIBRATION, rate_hz=10, seed=2
    )
    daemon = Daemon(CONFIG, store, SimulatedSource(sim, speed=0, start_wall=behind), settings_poll_s=0)
    run_to_end(daemon)
    old = store.db["sessions"].get(left["id"])
    assert old["end_wall"] == left["last_heartbeat_wall"]  # closed, not carried on
    assert store.db["sessions"].count == 2
    assert "earlier than the last heartbeat" in caplog.text
    store.close()


def test_dropped_frames_are_judged_over_the_last_ten_minutes(tmp_path):
    """Losses early in a long run do not make the live row look lossy for ever."""
    daemon, sim, store, _ = make_daemon(
        tmp_path, Scenario(Person(mass_kg=70)).away(5).sit_down().hold(900), alerts=False
    )
    run_to_end(daemon, until_t=30)
    daemon.source.dropped += 400  # a bad minute at the start (a loose wire, say)
    run_to_end(daemon, until_t=60)
    early = daemon.live_status(daemon._last_t)
    assert early["dropped_recent"] == early["dropped_frames"] >= 400
    run_to_end(daemon, until_t=700)
    late = daemon.live_status(daemon._last_t)
    assert late["dropped_frames"] >= 400 and late["dropped_recent"] == 0
    assert 590 <= late["recent_s"] <= 600
    assert late["frames_recent"] == pytest.approx(late["recent_s"] * 80, rel=0.02)
    store.close()


def test_settings_out_of_range_stored_by_an_older_dashboard_cannot_stop_the_daemon(tmp_path, caplog):
    """The tester's 1e308-minute snooze (an OverflowError at the first press) and 1e-300-minute
    repeat: written straight into the database, they are logged, ignored, and the daemon runs on."""
    with Store.open(tmp_path / "history.db") as store:
        store.set_settings({"alerts.snooze_min": 1e308, "breaks.repeat_min": 1e-300, "breaks.still_min": 25})
    caplog.set_level(logging.ERROR, logger="cushion")
    daemon, sim, store, _ = make_daemon(
        tmp_path, Scenario(Person(mass_kg=70)).away(5).sit_down().hold(60), alerts=False
    )
    assert daemon.config.alerts.snooze_min == 10.0 and daemon.config.breaks.repeat_min == 15.0
    assert daemon.config.breaks.still_min == 25.0  # the valid one still applies
    run_to_end(daemon, until_t=20)
    daemon.on_snooze()  # the button press that used to overflow
    run_to_end(daemon)
    ignored = [r.getMessage() for r in caplog.records if "ignoring the setting" in r.getMessage()]
    assert any("alerts.snooze_min" in m and "must be from 1 to 720 min" in m for m in ignored)
    assert any("breaks.repeat_min" in m for m in ignored)
    assert store.snoozes_between("2026-03-01", "2026-03-03")  # the press was recorded
    store.close()


# -- buzzer, LED and button settings from the dashboard apply while running -------------------


def still_for(minutes: float) -> Scenario:
    return Scenario(Person(mass_kg=75)).away(5).sit_down().hold(minutes * 60)


def daemon_opening_alerts(tmp_path, scenario, config=CONFIG):
    """A daemon that opens its buzzer, LED and button itself, as `cushion run` does."""
    sim = Simulation(scenario, calibration=DEMO_CALIBRATION, rate_hz=80, seed=3)
    source = SimulatedSource(sim, speed=0, start_wall=START)
    store = Store.open(tmp_path / "history.db")
    daemon = Daemon(
        config, store, source, None, settings_poll_s=0, open_alerts=lambda alerts_config: Alerts(alerts_config)
    )
    return daemon, store


def test_new_buzzer_and_led_pins_are_claimed_and_the_old_ones_released_while_running(tmp_path, mock_factory):
    from gpiozero.pins.mock import MockPWMPin

    mock_factory.pin_class = MockPWMPin  # a PWM LED, as lgpio drives one
    config = Config(calibration=DEMO_CALIBRATION, breaks=Breaks(still_min=1))
    daemon, store = daemon_opening_alerts(tmp_path, still_for(4), config)
    run_to_end(daemon, until_t=30)
    store.set_settings(
        {"alerts.buzzer_pin": 4, "alerts.led_pin": 23, "alerts.led": "pwm", "alerts.button_pin": 24, "alerts.hold_s": 3}
    )
    run_to_end(daemon, until_t=31)  # the next poll
    assert (daemon.alerts.buzzer.pin.info.name, daemon.alerts.led.pin.info.name) == ("GPIO4", "GPIO23")
    assert daemon.alerts.button.hold_time == 3
    from gpiozero import LED

    LED(17).close()  # the old buzzer pin is free again
    run_to_end(daemon)
    wait_quiet(daemon.alerts)
    assert rises(mock_factory.pin(4)) >= 2  # move chirps on the new buzzer
    problem = store.device_info().get("settings_problem")
    assert problem is None
    daemon.alerts.close()
    store.close()


def test_buzzer_on_from_the_dashboard_sounds_though_the_file_says_off(tmp_path, mock_factory):
    config = Config(calibration=DEMO_CALIBRATION, breaks=Breaks(still_min=1), alerts=AlertsConfig(buzzer_enabled=False))
    daemon, store = daemon_opening_alerts(tmp_path, still_for(3), config)
    store.set_settings({"alerts.buzzer_enabled": True})
    run_to_end(daemon)
    wait_quiet(daemon.alerts)
    assert rises(mock_factory.pin(17)) >= 1
    daemon.alerts.close()
    store.close()


def test_stored_pin_settings_apply_from_the_start(tmp_path, mock_factory):
    with Store.open(tmp_path / "history.db") as store:
        store.set_settings({"alerts.led_pin": 23})
    daemon, store = daemon_opening_alerts(tmp_path, still_for(1))
    assert daemon.alerts.led.pin.info.name == "GPIO23"
    daemon.alerts.close()
    store.close()


def test_a_pin_in_use_keeps_the_old_devices_and_the_settings_page_says_so(tmp_path, mock_factory):
    from gpiozero import LED

    from dashboard import create_app

    holder = LED(4)  # something else holds GPIO4
    config = Config(calibration=DEMO_CALIBRATION, breaks=Breaks(still_min=1))
    daemon, store = daemon_opening_alerts(tmp_path, still_for(3), config)
    run_to_end(daemon, until_t=20)
    store.set_settings({"alerts.led_pin": 4, "breaks.still_min": 2})
    run_to_end(daemon, until_t=21)
    assert daemon.alerts.led.pin.info.name == "GPIO27"  # the old LED, claimed back
    assert daemon.config.alerts.led_pin == 27 and daemon.config.breaks.still_min == 2  # the rest applied
    problem = store.device_info()["settings_problem"]
    assert problem["version"] == store.settings_version()
    assert "[alerts] led_pin = 4: GPIO4 is already in use" in problem["problem"]
    page = create_app({"TESTING": True, "DATABASE": str(tmp_path / "history.db")}).test_client().get("/settings")
    text = page.get_data(as_text=True)
    assert "Saved, but not all in effect." in text and "GPIO4 is already in use" in text
    # A later change that works clears it.
    store.set_settings({"alerts.led_pin": 23})
    run_to_end(daemon, until_t=22)
    assert daemon.alerts.led.pin.info.name == "GPIO23" and store.device_info()["settings_problem"] is None
    holder.close()
    daemon.alerts.close()
    store.close()


# -- a careful daemon: the history file deleted, a full disk at start, a stall, the clock stepping back ----


def test_history_file_deleted_while_running_is_said_and_the_rest_goes_to_a_new_file(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="cushion")
    daemon, sim, store, _ = make_daemon(tmp_path, working_morning(), alerts=False, device_info={"source": "test"})
    path = store.path
    run_to_end(daemon, until_t=900)
    for suffix in ("", "-wal", "-shm"):
        (tmp_path / f"history.db{suffix}").unlink(missing_ok=True)
    run_to_end(daemon)
    assert daemon.lost is None
    said = [r.getMessage() for r in caplog.records if "deleted or replaced" in r.getMessage()]
    assert len(said) == 1 and str(path) in said[0]
    with Store(path) as again:
        events = again.events_between(START, START + timedelta(days=1))
        sessions = again.sessions_between(START, START + timedelta(days=1))
        assert again.device_info()["source"] == "test"  # what the daemon says about itself, again
    # Everything after the deletion is in the new file: the twist at 20 min, the open session, the second one.
    assert [e["type"] for e in events].count("twist") == 1
    assert len(sessions) == 2
    first_start = datetime.fromisoformat(sessions[0]["start_wall"])
    assert abs((first_start - (START + timedelta(seconds=sim.truth.sessions[0].start))).total_seconds()) < 4
    store.close()


def stall_source(gap_s: float, rate: int = 80):
    """Frames of an empty cushion at `rate`, with no frames for `gap_s` from t = 5 s: a stopped process."""
    period = 1.0 / rate
    times = np.concatenate([np.arange(0, 5, period), np.arange(5 + gap_s, 10 + gap_s, period)])
    raw = np.tile(np.array(DEMO_CALIBRATION.offset, dtype=np.int64), (len(times), 1))

    class Source:
        dropped = missing = 0
        finished = False

        def __init__(self):
            self._at = 0

        def read(self):
            block = slice(self._at, self._at + 8)
            self._at += 8
            self.finished = self._at >= len(times)
            return FrameBlock(times[block], raw[block])

        def wall_of(self, t):
            return START + timedelta(seconds=t)

    return Source()


def test_a_stalled_daemon_says_so_once_and_counts_the_frames_it_missed(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="cushion")
    store = Store.open(tmp_path / "history.db")
    daemon = Daemon(CONFIG, store, stall_source(40.0), None, settings_poll_s=0)
    run_to_end(daemon)
    (said,) = [r.getMessage() for r in caplog.records if "no frames" in r.getMessage()]
    assert said.startswith("no frames for 40.0 s from 09:00:04 (the daemon was stopped or starved of CPU)")
    assert daemon.counters.missed_frames == 40 * 80  # the frames from 5.0 s to 44.9875 s
    assert daemon.live_status(daemon._last_t)["dropped_frames"] == 40 * 80
    store.close()


def test_a_sigstopped_run_logs_the_stall(tmp_path):
    """The real thing: `cushion run --sim` through the HX711 model, stopped for 2.5 s."""
    config = tmp_path / "c.toml"
    config.write_text("")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "device.cli",
            "run",
            "--sim",
            "--seconds",
            "7",
            "--no-alerts",
            "--config",
            str(config),
            "--db",
            str(tmp_path / "h.db"),
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(3.0)
    process.send_signal(signal.SIGSTOP)
    time.sleep(2.5)
    process.send_signal(signal.SIGCONT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    stalls = [line for line in err.splitlines() if "no frames for" in line]
    assert len(stalls) == 1 and re.search(r"no frames for 2\.[4-9] s", stalls[0]), err


def test_a_wall_clock_stepping_back_is_logged_and_no_minute_holds_more_than_sixty_seconds(
    tmp_path, caplog, monkeypatch
):
    caplog.set_level(logging.WARNING, logger="cushion")
    step = [0.0]
    monkeypatch.setattr(SimulatedSource, "wall_of", lambda self, t: self.start_wall + timedelta(seconds=t + step[0]))
    daemon, sim, store, _ = make_daemon(
        tmp_path, Scenario(Person(mass_kg=70)).away(5).sit_down().hold(400), alerts=False
    )
    run_to_end(daemon, until_t=200)
    step[0] = -120.0  # NTP puts the clock back two minutes at t = 200 s
    run_to_end(daemon)
    assert any("the wall clock stepped back by 120 s" in r.getMessage() for r in caplog.records)
    minutes = {
        m["minute"][-5:]: m["seated_s"]
        for m in store.minutes_between(START - timedelta(hours=1), START + timedelta(hours=1))
    }
    assert max(minutes.values()) <= 60.0
    # 09:01 to 09:03 came round twice (seated through 100 to 180 s of each): full, not more.
    assert [minutes[key] for key in ("09:01", "09:02", "09:03")] == [60.0, 60.0, 60.0]
    store.close()
