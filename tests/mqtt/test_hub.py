"""`cushion hub` on a real Mosquitto: every event of every cushion kept once, whatever the broker, hub or cushion do."""

from __future__ import annotations

import json
import time
from pathlib import Path

from device.storage.fleet import FleetStore
from device.storage.store import Store, StoreError
from tests.mqtt.conftest import write_config
from tests.mqtt.test_cushion_mqtt import run_args, uids


def hub_args(config: Path, hub_db: Path) -> list[str]:
    return ["hub", "--config", str(config), "--db", str(hub_db)]


def hub_uids(hub_db: Path, cushion_id: str = "desk-1") -> list[str]:
    path = FleetStore.history_path_of(hub_db, cushion_id)
    if not path.exists():
        return []
    try:
        with Store.open(path, read_only=True) as store:
            return [row["uid"] for row in store.events_after(0, limit=100_000)]
    except StoreError:  # the hub is creating it this very moment
        return []


def wait_until_hub_has(hub_db: Path, wanted: list[str], cushion_id: str = "desk-1", timeout: float = 30.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while True:
        got = hub_uids(hub_db, cushion_id)
        if set(got) >= set(wanted) or time.monotonic() > deadline:
            return got
        time.sleep(0.2)


def test_the_broker_stopped_mid_session_and_started_again_the_hub_ends_with_exactly_the_cushions_events(
    tmp_path, broker, processes
):
    hub_db = tmp_path / "hub.db"
    hub = processes(hub_args(write_config(tmp_path / "hub.toml", broker, user="hub"), hub_db), tmp_path / "hub.log")
    hub.wait_log("connected to")
    db = tmp_path / "history.db"
    cushion = processes(run_args(write_config(tmp_path / "cushion.toml", broker), db, speed=120), tmp_path / "run.log")
    cushion.wait_log("connected to")
    time.sleep(6)
    broker.stop()  # ~12 simulated minutes of events while it is away
    time.sleep(6)
    broker.start()
    assert cushion.wait(timeout=90) == 0
    mine = uids(db)
    assert len(mine) > 30
    got = wait_until_hub_has(hub_db, mine)
    assert sorted(got) == sorted(mine)  # every one, none twice, nothing else
    assert len(got) == len(set(got))
    log = cushion.text()
    assert log.count("lost the connection") + log.count("cannot reach") == 1, log  # said once...
    assert log.count("MQTT: connected to") == 2, log  # ...and once that it is back
    assert hub.stop() == 0


def test_a_cushion_killed_while_the_broker_is_away_loses_nothing_after_its_restart(tmp_path, broker, processes):
    hub_db = tmp_path / "hub.db"
    hub = processes(hub_args(write_config(tmp_path / "hub.toml", broker, user="hub"), hub_db), tmp_path / "hub.log")
    hub.wait_log("connected to")
    db = tmp_path / "history.db"
    config = write_config(tmp_path / "cushion.toml", broker)
    cushion = processes(run_args(config, db, speed=120), tmp_path / "run1.log")
    cushion.wait_log("connected to")
    time.sleep(3)
    broker.stop()
    time.sleep(6)
    cushion.kill()  # SIGKILL while offline: what waits to be published is in its history only
    waiting = uids(db)
    broker.start()
    again = processes(run_args(config, db, speed=120, seconds=120), tmp_path / "run2.log")
    assert again.wait(timeout=60) == 0
    mine = uids(db)
    assert set(waiting) < set(mine)
    got = wait_until_hub_has(hub_db, mine)
    assert sorted(got) == sorted(mine)
    assert hub.stop() == 0


def test_a_hub_that_was_down_catches_up_from_the_broker(tmp_path, broker, processes):
    hub_db = tmp_path / "hub.db"
    hub_config = write_config(tmp_path / "hub.toml", broker, user="hub")
    hub = processes(hub_args(hub_config, hub_db), tmp_path / "hub1.log")
    hub.wait_log("connected to")
    assert hub.stop() == 0  # its session (subscriptions, queue) stays with the broker
    db = tmp_path / "history.db"
    cushion = processes(run_args(write_config(tmp_path / "cushion.toml", broker), db, speed=240), tmp_path / "run.log")
    assert cushion.wait(timeout=60) == 0
    mine = uids(db)
    assert mine and hub_uids(hub_db) == []
    back = processes(hub_args(hub_config, hub_db), tmp_path / "hub2.log")
    got = wait_until_hub_has(hub_db, mine)
    assert sorted(got) == sorted(mine)
    with FleetStore(hub_db, read_only=True) as fleet:
        (row,) = fleet.cushions()
    assert row["id"] == "desk-1" and row["online"] is False and row["state"]["sessions_today"] >= 0
    with Store.open(FleetStore.history_path_of(hub_db, "desk-1"), read_only=True) as store:
        sessions = store.sessions_between("2000-01-01T00:00", "2100-01-01T00:00")
    assert sessions and sessions[0]["start_wall"]  # rebuilt from the sit and stand events
    assert back.stop() == 0


def test_an_event_sent_twice_is_kept_once_and_a_bad_message_is_ignored(tmp_path, broker, processes, watcher_for):
    hub_db = tmp_path / "hub.db"
    hub = processes(hub_args(write_config(tmp_path / "hub.toml", broker, user="hub"), hub_db), tmp_path / "hub.log")
    hub.wait_log("connected to")
    sender = watcher_for(broker)
    event = {
        "type": "fidget",
        "t": 100.0,
        "size_mm": 30.0,
        "detected_at": 100.5,
        "id": "00aa11bb22cc33dd",
        "wall": "2026-12-01T10:00:00.000+00:00",
    }
    for _ in range(3):
        sender.publish("smart-cushion/desk-9/event", json.dumps(event))
    sender.publish("smart-cushion/desk-9/event", "not json")
    sender.publish("smart-cushion/Bad Id/event", json.dumps(event))
    second = dict(event, id="00aa11bb22cc33de", t=200.0, detected_at=200.5)
    sender.publish("smart-cushion/desk-9/event", json.dumps(second))
    got = wait_until_hub_has(hub_db, [event["id"], second["id"]], cushion_id="desk-9")
    time.sleep(0.5)
    assert sorted(hub_uids(hub_db, "desk-9")) == ["00aa11bb22cc33dd", "00aa11bb22cc33de"], got
    assert hub.stop() == 0
    assert "ignoring a message on smart-cushion/desk-9/event" in hub.text()
    assert "2 new events, 2 seen twice (kept once)" in hub.text()
