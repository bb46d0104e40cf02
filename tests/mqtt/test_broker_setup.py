"""The fleet broker of docs/mqtt.md on a real Mosquitto: its ACL, taken from the document itself.

Each cushion logs in with its cushion id as user name; the ACL's `pattern`
lines (%u) let it write only its own topics and read only its own commands.
Mosquitto acknowledges a publish the ACL denies and drops it without a word
(MQTT 3.1.1), so every test of absence first waits for a permitted message
sent after the denied one (same client, same order), then a moment more;
Mosquitto's own log (debug level) must also say it denied it.
"""

from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from device.cli.local_broker import INSTALL_HINT, LocalBroker, mosquitto_path
from device.storage.fleet import FleetStore
from tests.mqtt.conftest import _skipped, write_config
from tests.mqtt.test_cushion_mqtt import run_args, uids
from tests.mqtt.test_hub import hub_args, wait_until_hub_has
from tests.paths import ROOT

DOC = ROOT / "docs" / "mqtt.md"
MARKER = "<!-- acl-for-test -->"
USERS = {
    "desk-1": "desk-1-secret",
    "desk-2": "desk-2-secret",
    "hub": "hub-secret",
    "homeassistant": "homeassistant-secret",
}
SETTLE_S = 0.5  # after a later permitted message has arrived, a denied one would have too


def documented_acl() -> str:
    """The fenced block right after the line `<!-- acl-for-test -->` in docs/mqtt.md."""
    text = DOC.read_text(encoding="utf-8")
    blocks = re.findall(rf"^{re.escape(MARKER)}[ \t]*\n\s*^(```|~~~)[^\n]*\n(.*?)^\1[ \t]*$", text, flags=re.M | re.S)
    assert text.count(MARKER) == 1 and len(blocks) == 1, (
        f"{DOC.relative_to(ROOT)} needs exactly one line {MARKER} followed by the ACL's fenced block"
    )
    return blocks[0][1]


class Login:
    """A paho client logged in as `user`, subscribed to `topics`, keeping every message (topic, payload)."""

    def __init__(self, broker: LocalBroker, user: str, topics: tuple[str, ...] = ()):
        self.user = user
        self.messages: list[tuple[str, str]] = []
        self._cond = threading.Condition()
        self._ready = threading.Event()
        self._refused: str | None = None
        self.client = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv311)
        self.client.username_pw_set(user, USERS[user])
        self.client.on_message = self._got
        self.client.on_subscribe = lambda client, userdata, mid, reasons, properties: self._ready.set()

        def connected(client, userdata, flags, reason, properties):
            if reason.is_failure:
                self._refused = str(reason)
                self._ready.set()
            elif topics:
                client.subscribe([(topic, 1) for topic in topics])
            else:
                self._ready.set()

        self.client.on_connect = connected
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()
        assert self._ready.wait(5), f"{user}: no connection and subscription within 5 s"
        assert self._refused is None, f"{user}: the broker refused the login: {self._refused}"

    def _got(self, client, userdata, message):
        with self._cond:
            self.messages.append((message.topic, message.payload.decode(errors="replace")))
            self._cond.notify_all()

    def publish(self, topic: str, payload: str, retain: bool = False) -> None:
        """Publish with QoS 1 and wait for the broker's acknowledgement (which a denied publish gets too)."""
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        info.wait_for_publish(5)
        assert info.is_published(), f"{self.user}: the broker did not acknowledge {topic}"

    def wait_for(self, topic: str, payload: str | None = None, timeout: float = 5.0) -> str:
        """The first payload on `topic` (equal to `payload` if given), waiting up to `timeout` s."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [p for t, p in self.messages if t == topic and payload in (None, p)]
                if found:
                    return found[0]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{self.user} got nothing on {topic} within {timeout:g} s: {self.messages}")
                self._cond.wait(left)

    def got(self, topic: str) -> list[str]:
        with self._cond:
            return [p for t, p in self.messages if t == topic]

    def close(self) -> None:
        self.client.disconnect()  # first: the network thread then ends at once
        self.client.loop_stop()


@pytest.fixture()
def fleet(tmp_path, request):
    """Mosquitto with the users above and the ACL of docs/mqtt.md, logging denials (debug level)."""
    if mosquitto_path() is None:
        _skipped.append(request.node.nodeid)
        pytest.skip(f"MOSQUITTO NOT INSTALLED: {INSTALL_HINT} (the fleet set-up of docs/mqtt.md needs a real broker)")
    server = LocalBroker(tmp_path / "broker", USERS, acl=documented_acl())
    with server.conf.open("a") as conf:
        conf.write("log_type debug\n")
    server.start()
    yield server
    server.stop()


@pytest.fixture()
def login(fleet):
    made: list[Login] = []

    def make(user: str, *topics: str) -> Login:
        client = Login(fleet, user, topics)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def broker_log(broker: LocalBroker) -> list[str]:
    path = Path(broker.folder) / "mosquitto.log"
    return path.read_text(errors="replace").splitlines() if path.exists() else []


def denied_in_log(broker: LocalBroker, topic: str, timeout: float = 3.0) -> bool:
    """Mosquitto's log says it denied a publish on `topic`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any("Denied PUBLISH" in line and f"'{topic}'" in line for line in broker_log(broker)):
            return True
        time.sleep(0.05)
    return False


def hub_row_when(hub_db: Path, ready, cushion_id: str = "desk-1", timeout: float = 10.0) -> dict:
    """The hub's row for `cushion_id` once `ready(row)` holds (AssertionError after `timeout` s)."""
    deadline = time.monotonic() + timeout
    while True:
        with FleetStore(hub_db, read_only=True) as store:
            rows = [row for row in store.cushions() if row["id"] == cushion_id]
        if rows and ready(rows[0]):
            return rows[0]
        if time.monotonic() > deadline:
            raise AssertionError(f"the hub's row for {cushion_id} after {timeout:g} s: {rows}")
        time.sleep(0.1)


def test_the_document_has_the_acl_for_this_test():
    acl = documented_acl()
    assert "pattern write smart-cushion/%u/event" in acl
    assert "user hub" in acl and "user homeassistant" in acl


def test_a_cushion_writes_its_own_topics_and_the_hub_gets_them(login):
    hub = login("hub", "smart-cushion/#")
    desk = login("desk-1")
    for kind in ("availability", "state", "event", "cmd/result"):
        desk.publish(f"smart-cushion/desk-1/{kind}", f"{kind} of desk-1")
    for kind in ("availability", "state", "event", "cmd/result"):
        assert hub.wait_for(f"smart-cushion/desk-1/{kind}") == f"{kind} of desk-1"


def test_a_cushion_cannot_publish_as_another(fleet, login):
    hub = login("hub", "smart-cushion/#")
    desk_2 = login("desk-2", "smart-cushion/desk-2/cmd/#")
    desk_1 = login("desk-1")
    desk_1.publish("smart-cushion/desk-2/event", "forged by desk-1")  # acknowledged, and dropped
    desk_1.publish("smart-cushion/desk-2/cmd/set", '{"alerts.buzzer_enabled": false}')
    desk_1.publish("smart-cushion/desk-1/event", "genuine")
    hub.wait_for("smart-cushion/desk-1/event", "genuine")
    time.sleep(SETTLE_S)
    assert hub.got("smart-cushion/desk-2/event") == []
    assert desk_2.got("smart-cushion/desk-2/cmd/set") == []
    assert hub.got("smart-cushion/desk-2/cmd/set") == []
    assert denied_in_log(fleet, "smart-cushion/desk-2/event")
    assert denied_in_log(fleet, "smart-cushion/desk-2/cmd/set")
    desk_2.publish("smart-cushion/desk-2/event", "desk-2's own")  # desk-2 itself may
    assert hub.wait_for("smart-cushion/desk-2/event") == "desk-2's own"


def test_a_cushion_reads_its_own_commands_and_not_another_cushions(login):
    desk_1 = login("desk-1", "smart-cushion/+/cmd/#", "smart-cushion/desk-2/cmd/set")
    home_assistant = login("homeassistant")
    home_assistant.publish("smart-cushion/desk-2/cmd/set", '{"breaks.break_after_min": 30}')
    home_assistant.publish("smart-cushion/desk-2/cmd/snooze", "10")
    home_assistant.publish("smart-cushion/desk-1/cmd/set", '{"breaks.break_after_min": 40}')
    home_assistant.publish("smart-cushion/desk-1/cmd/snooze", "15")
    assert desk_1.wait_for("smart-cushion/desk-1/cmd/snooze") == "15"
    assert desk_1.wait_for("smart-cushion/desk-1/cmd/set") == '{"breaks.break_after_min": 40}'
    time.sleep(SETTLE_S)
    assert [t for t, _ in desk_1.messages] == ["smart-cushion/desk-1/cmd/set", "smart-cushion/desk-1/cmd/snooze"]


def test_the_hub_only_reads(fleet, login):
    desk_1 = login("desk-1", "smart-cushion/desk-1/cmd/#")
    hub = login("hub")
    home_assistant = login("homeassistant")
    hub.publish("smart-cushion/desk-1/cmd/snooze", "from the hub")
    home_assistant.publish("smart-cushion/desk-1/cmd/snooze", "from Home Assistant")
    desk_1.wait_for("smart-cushion/desk-1/cmd/snooze", "from Home Assistant")
    time.sleep(SETTLE_S)
    assert desk_1.got("smart-cushion/desk-1/cmd/snooze") == ["from Home Assistant"]
    assert denied_in_log(fleet, "smart-cushion/desk-1/cmd/snooze")


def test_a_cushion_publishes_its_own_discovery_and_hears_home_assistant_come_online(fleet, login):
    home_assistant = login("homeassistant", "homeassistant/#")
    desk_1 = login("desk-1", "homeassistant/#")
    desk_2 = login("desk-2")
    desk_1.publish("homeassistant/device/desk-2/config", "forged by desk-1", retain=True)
    desk_2.publish("homeassistant/device/desk-2/config", "desk-2's own", retain=True)
    desk_1.publish("homeassistant/device/desk-1/config", "desk-1's own", retain=True)
    assert home_assistant.wait_for("homeassistant/device/desk-1/config") == "desk-1's own"
    assert home_assistant.wait_for("homeassistant/device/desk-2/config") == "desk-2's own"
    home_assistant.publish("homeassistant/status", "online")
    assert desk_1.wait_for("homeassistant/status") == "online"
    time.sleep(SETTLE_S)
    assert home_assistant.got("homeassistant/device/desk-2/config") == ["desk-2's own"]
    assert denied_in_log(fleet, "homeassistant/device/desk-2/config")
    # desk-1 reads its own discovery topic and Home Assistant's status, not another cushion's discovery
    assert {t for t, _ in desk_1.messages} == {"homeassistant/device/desk-1/config", "homeassistant/status"}
    late = login("homeassistant", "homeassistant/device/+/config")  # what is retained: each cushion's own
    assert late.wait_for("homeassistant/device/desk-1/config") == "desk-1's own"
    assert late.wait_for("homeassistant/device/desk-2/config") == "desk-2's own"


def test_a_daemon_and_the_hub_under_the_documented_acl(tmp_path, fleet, login, processes):
    hub_db = tmp_path / "hub.db"
    hub_config = write_config(tmp_path / "hub.toml", fleet, user="hub", password=USERS["hub"], cushion_id="hub")
    hub = processes(hub_args(hub_config, hub_db), tmp_path / "hub.log")
    hub.wait_log("connected to")
    home_assistant = login("homeassistant", "homeassistant/#", "smart-cushion/desk-1/#")
    db = tmp_path / "history.db"
    config = write_config(tmp_path / "desk-1.toml", fleet, user="desk-1", password=USERS["desk-1"], cushion_id="desk-1")
    cushion = processes(run_args(config, db, speed=120, seconds=900), tmp_path / "desk-1.log")

    home_assistant.wait_for("smart-cushion/desk-1/availability", "online", timeout=15)
    discovery = json.loads(home_assistant.wait_for("homeassistant/device/desk-1/config"))
    assert discovery["avty_t"] == "smart-cushion/desk-1/availability"
    home_assistant.publish("smart-cushion/desk-1/cmd/snooze", "15")
    answer = json.loads(home_assistant.wait_for("smart-cushion/desk-1/cmd/result"))
    assert answer["command"] == "snooze" and answer["ok"], answer

    assert cushion.wait(timeout=30) == 0
    mine = uids(db)
    assert len(mine) >= 5
    assert sorted(wait_until_hub_has(hub_db, mine, timeout=10)) == sorted(mine)  # every event, once
    row = hub_row_when(hub_db, lambda row: not row["online"])  # the farewell "offline" came through
    assert row["id"] == "desk-1" and row["state"] is not None
    trouble = [line for line in cushion.text().splitlines() if "WARNING" in line and "MQTT:" in line]
    assert trouble == [], cushion.text()
    assert hub.stop() == 0
    assert [line for line in broker_log(fleet) if "Denied" in line] == []
