"""The cushion on a real Mosquitto (SPEC section 8): `cushion run --sim` in a subprocess, watched by a client.

Simulated day seed 3 sits down 39 s in and has about 50 events in its first
hour; at --speed 120 that hour takes 30 s.
"""

from __future__ import annotations

import json

import pytest

from device.config import key
from device.storage.store import Store
from tests.mqtt.conftest import write_config

BASE = "smart-cushion/desk-1"
STATE_KEYS = {
    "seated",
    "sitting_s",
    "seated_today_s",
    "sessions_today",
    "breaks_today",
    "break_due",
    "next_prompt",
    "lean",
    "posture",
    "fidgets_per_10min",
    "silenced",
    "faults",
    "wall",
}


def run_args(config, db, *, speed=120, seconds=None, hours=1):
    args = [
        "run",
        "--sim",
        "--seed",
        "3",
        "--hours",
        str(hours),
        "--speed",
        str(speed),
        "--config",
        str(config),
        "--db",
        str(db),
    ]
    return args + (["--seconds", str(seconds)] if seconds else [])


def uids(db) -> list[str]:
    with Store.open(db, read_only=True) as store:
        return [row["uid"] for row in store.events_after(0, limit=100_000)]


def test_availability_state_and_discovery_are_retained_and_come_back_after_a_restart(
    tmp_path, broker, watcher_for, processes
):
    config = write_config(tmp_path / "cushion.toml", broker)
    db = tmp_path / "history.db"
    daemon = processes(run_args(config, db, speed=20), tmp_path / "run1.log")
    live = watcher_for(broker)
    live.wait_for(lambda ms: (f"{BASE}/availability", "online", False) in ms, says="online")
    state = live.last_json(f"{BASE}/state")
    assert STATE_KEYS <= set(state)
    assert "load_kg" not in state  # publish_load is off: the weight is health data
    assert daemon.stop() == 0

    later = watcher_for(broker)  # connects after the daemon is gone: only what is retained
    later.wait_for(lambda ms: (f"{BASE}/availability", "offline", True) in ms, says="retained offline")
    retained_state = later.last_json(f"{BASE}/state")
    assert retained_state["wall"] == state["wall"] or set(retained_state) == set(state)
    discovery = later.last_json("homeassistant/device/desk-1/config")
    assert discovery["avty_t"] == f"{BASE}/availability"
    assert [r for t, _, r in later.messages if t == f"{BASE}/state"] == [True]

    again = processes(run_args(config, db, speed=20), tmp_path / "run2.log")
    later.wait_for(lambda ms: (f"{BASE}/availability", "online", False) in ms, says="online again")
    assert again.stop() == 0


def test_the_broker_publishes_the_last_will_when_the_daemon_is_killed(tmp_path, broker, watcher_for, processes):
    config = write_config(tmp_path / "cushion.toml", broker)
    daemon = processes(run_args(config, tmp_path / "history.db", speed=20), tmp_path / "run.log")
    watcher = watcher_for(broker)
    watcher.wait_for(lambda ms: (f"{BASE}/availability", "online", False) in ms, says="online")
    daemon.kill()  # SIGKILL: no farewell; the broker sees the socket close
    watcher.wait_for(lambda ms: watcher.on(f"{BASE}/availability")[-1:] == ["offline"], timeout=10, says="will")
    late = watcher_for(broker)
    late.wait_for(lambda ms: (f"{BASE}/availability", "offline", True) in ms, says="the will, retained")


def test_discovery_lists_every_entity_of_the_spec_and_is_sent_again_when_home_assistant_comes_online(
    tmp_path, broker, watcher_for, processes
):
    config = write_config(tmp_path / "cushion.toml", broker)
    daemon = processes(run_args(config, tmp_path / "history.db", speed=10), tmp_path / "run.log")
    watcher = watcher_for(broker)
    topic = "homeassistant/device/desk-1/config"
    discovery = watcher.last_json(topic)
    cmps = discovery["cmps"]
    kinds = {(c["p"], c.get("device_class")) for c in cmps.values()}
    assert {
        ("binary_sensor", "occupancy"),
        ("sensor", "duration"),
        ("sensor", "enum"),
        ("event", None),
        ("button", None),
        ("switch", None),
        ("number", None),
    } <= kinds
    names = {c["name"] for c in cmps.values()}
    assert {
        "Seated",
        "Break due",
        "Sitting time",
        "Seated today",
        "Breaks today",
        "Lean",
        "Posture",
        "Fidgets per 10 min",
        "Cushion event",
        "Snooze reminders",
        "Reminders",
        "Break reminder after",
    } <= names
    assert set(cmps["events"]["event_types"]) == {"prompt", "lean", "twist", "perch", "slump"}
    for component in cmps.values():  # every entity reads the state (or its own topic) and the availability
        assert component["unique_id"].startswith("desk-1_")
        assert component.get("state_topic", BASE + "/state").startswith(BASE) or "command_topic" in component
    assert discovery["avty_t"] == f"{BASE}/availability" and discovery["dev"]["ids"] == ["desk-1"]
    assert cmps["snooze"]["command_topic"] == f"{BASE}/cmd/snooze"
    assert cmps["break_interval"]["min"] == key("breaks", "break_after_min").spec.low

    before = len(watcher.on(topic))
    watcher.publish("homeassistant/status", "online")
    watcher.wait_for(lambda ms: len(watcher.on(topic)) > before, timeout=10, says="discovery again")
    assert daemon.stop() == 0


def test_commands_snooze_and_set_are_taken_validated_and_answered(tmp_path, broker, watcher_for, processes):
    config = write_config(tmp_path / "cushion.toml", broker)
    db = tmp_path / "history.db"
    daemon = processes(run_args(config, db, speed=5), tmp_path / "run.log")
    watcher = watcher_for(broker)
    watcher.wait_for(lambda ms: (f"{BASE}/availability", "online", False) in ms, says="online")
    results = f"{BASE}/cmd/result"

    def answer(topic: str, payload: str) -> dict:
        count = len(watcher.on(results))
        watcher.publish(f"{BASE}/cmd/{topic}", payload)
        watcher.wait_for(lambda ms: len(watcher.on(results)) > count, timeout=10, says=f"an answer to {topic}")
        return json.loads(watcher.on(results)[count])

    snoozed = answer("snooze", "15")
    assert snoozed["ok"] and snoozed["command"] == "snooze" and snoozed["snoozed_until"]
    watcher.wait_for(
        lambda ms: any(json.loads(p).get("silenced") == "snoozed" for p in watcher.on(f"{BASE}/state")),
        timeout=10,
        says="state silenced: snoozed",
    )
    assert answer("snooze", "0")["ok"]
    refused = answer("snooze", "soon")
    assert not refused["ok"] and "number" in refused["detail"]

    saved = answer("set", json.dumps({"breaks.break_after_min": 40}))
    assert saved["ok"], saved
    watcher.wait_for(
        lambda ms: any(json.loads(p).get("break_after_min") == 40 for p in watcher.on(f"{BASE}/state")),
        timeout=10,
        says="state break_after_min 40",
    )
    too_big = answer("set", json.dumps({"breaks.break_after_min": 100000}))
    assert not too_big["ok"] and "break_after_min" in too_big["detail"]
    not_a_setting = answer("set", json.dumps({"mqtt.host": "elsewhere"}))
    assert not not_a_setting["ok"] and "mqtt" in not_a_setting["detail"]
    assert not answer("set", "{nope")["ok"]
    assert daemon.stop() == 0
    with Store.open(db, read_only=True) as store:
        assert store.settings() == {"breaks.break_after_min": 40}  # what was refused was not stored


@pytest.mark.parametrize("trouble", ["wrong password", "nothing listening"])
def test_a_broker_that_refuses_or_is_not_there_is_logged_once_and_sampling_goes_on(
    tmp_path, broker, processes, trouble
):
    if trouble == "wrong password":
        config = write_config(tmp_path / "cushion.toml", broker, password="not-the-password")
    else:
        config = write_config(tmp_path / "cushion.toml", broker, port=broker.port)
        broker.stop()
    db = tmp_path / "history.db"
    daemon = processes(run_args(config, db, speed=120, seconds=1200), tmp_path / "run.log")
    assert daemon.wait(timeout=60) == 0
    log = daemon.text()
    said = [line for line in log.splitlines() if "MQTT:" in line and "WARNING" in line]
    assert len(said) == 1, log
    assert ("check [mqtt] username and password_file" in said[0]) == (trouble == "wrong password")
    frames = int(log.split("stopped: ")[1].split(" frames")[0])
    assert frames >= 1200 * 80 * 0.99  # every frame of the 20 simulated minutes was read
    assert len(uids(db)) > 5  # and the history kept: detection never waited for the network
