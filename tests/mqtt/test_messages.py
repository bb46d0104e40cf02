"""What the cushion says on MQTT and what it takes, as plain data (device.mqtt.messages): no broker needed."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest

from device.config import Config, Mqtt
from device.mqtt.messages import (
    CommandError,
    Today,
    Topics,
    changed_beyond_time,
    cushion_id_of,
    discovery_payload,
    event_payload,
    parse_set,
    parse_snooze,
    state_payload,
)

LIVE = {
    "seated": True,
    "sitting_s": 1234.56,
    "next_prompt_kind": "break_due",
    "next_prompt_in_s": 60.04,
    "total_kg": 71.26,
    "fidgets_per_10min": 3,
    "faults": ["fl"],
    "break_due": False,
    "lean": "left",
    "posture": None,
    "silenced": "quiet_hours",
}
TOPICS = Topics.of("smart-cushion", "desk-1", "homeassistant")


def test_the_state_has_every_key_of_the_spec_and_the_load_only_when_asked():
    state = state_payload(LIVE, Today(3600.0, 2, 1), Config(), "2026-03-02T09:00:00+01:00")
    assert state["seated"] is True and state["sitting_s"] == 1234.6 and state["seated_today_s"] == 3600.0
    assert state["next_prompt"] == {"kind": "break_due", "in_s": 60.0}
    assert (state["sessions_today"], state["breaks_today"], state["faults"]) == (2, 1, ["fl"])
    assert state["lean"] == "left" and state["silenced"] == "quiet_hours" and state["wall"].endswith("+01:00")
    assert "load_kg" not in state
    sharing = Config(mqtt=Mqtt(host="broker", publish_load=True))
    assert state_payload(LIVE, Today(), sharing, "x")["load_kg"] == 71.3
    assert state_payload({**LIVE, "next_prompt_kind": None}, Today(), Config(), "x")["next_prompt"] is None


def test_the_state_is_sent_again_for_a_change_but_not_for_time_passing():
    before = state_payload(LIVE, Today(100.0, 1, 0), Config(), "a")
    later = state_payload({**LIVE, "sitting_s": 1300.0, "next_prompt_in_s": 5.0}, Today(160.0, 1, 0), Config(), "b")
    assert not changed_beyond_time(before, later)
    assert changed_beyond_time(before, {**later, "seated": False})
    assert changed_beyond_time(before, {**later, "break_due": True})
    assert changed_beyond_time(before, {**later, "next_prompt": {"kind": "move", "in_s": 1.0}})
    assert changed_beyond_time(None, later)


def test_an_event_message_is_the_report_keys_with_its_id_and_wall():
    row = {
        "uid": "0123456789abcdef",
        "wall": "2026-03-02T09:10:00.000+01:00",
        "data": {"type": "twist", "side": "right", "start": 600.0, "end": 601.5, "peak": 0.4, "detected_at": 602},
    }
    assert event_payload(row) == {**row["data"], "id": "0123456789abcdef", "wall": row["wall"]}


def test_a_cushion_id_from_the_machine_is_stable_and_fits_a_topic():
    one = cushion_id_of("4f1c0de5ab\n")
    assert one == cushion_id_of("4f1c0de5ab") and one != cushion_id_of("another")
    assert one.startswith("cushion-") and len(one) == 16 and one.replace("-", "").isalnum()


@pytest.mark.parametrize(("payload", "minutes"), [(b"", None), (b"30", 30.0), (b" 0 ", 0.0), (b"7.5", 7.5)])
def test_snooze_takes_minutes_or_nothing(payload, minutes):
    assert parse_snooze(payload) == minutes


@pytest.mark.parametrize("payload", [b"soon", b"-5", b"100000", b"nan", b"inf"])
def test_snooze_refuses_what_is_not_a_sensible_number_of_minutes(payload):
    with pytest.raises(CommandError, match="snooze"):
        parse_snooze(payload)


@pytest.mark.parametrize("payload", [b"{nope", b"[1, 2]", b"{}", b"\xff"])
def test_set_refuses_what_is_not_an_object_of_settings(payload):
    with pytest.raises(CommandError, match="set"):
        parse_set(payload)


def test_discovery_names_every_entity_with_a_unique_id_and_the_availability():
    found = discovery_payload(TOPICS, "desk-1", Config(), "1.2.3")
    assert json.loads(json.dumps(found)) == found  # plain JSON
    cmps = found["cmps"]
    assert {c["p"] for c in cmps.values()} == {"binary_sensor", "sensor", "event", "button", "switch", "number"}
    assert len({c["unique_id"] for c in cmps.values()}) == len(cmps)
    entity_ids = [c["default_entity_id"] for c in cmps.values()]
    assert all(re.fullmatch(rf"{c['p']}\.desk_1_[a-z0-9_]+", c["default_entity_id"]) for c in cmps.values())
    assert len(set(entity_ids)) == len(cmps) and not any("object_id" in c for c in cmps.values())
    assert cmps["occupancy"]["device_class"] == "occupancy"
    assert cmps["sitting_time"]["device_class"] == cmps["seated_today"]["device_class"] == "duration"
    assert cmps["lean"]["device_class"] == cmps["posture"]["device_class"] == "enum"
    assert cmps["reminders"]["command_topic"] == TOPICS.cmd_set
    assert json.loads(cmps["reminders"]["payload_off"]) == {"alerts.buzzer_enabled": False}
    assert found["avty_t"] == "smart-cushion/desk-1/availability" and found["dev"]["sw"] == "1.2.3"
    assert TOPICS.discovery == "homeassistant/device/desk-1/config" and TOPICS.ha_status == "homeassistant/status"


def test_mqtt_is_off_until_a_host_is_set():
    assert not Config().mqtt.enabled
    assert dataclasses.replace(Config().mqtt, host="10.0.0.2").enabled
