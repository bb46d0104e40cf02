"""What the cushion says on MQTT and what it takes (SPEC section 8): topics, payloads, discovery.

Pure: plain data in, plain data out; the link to a broker is device.mqtt.link.

With P = {topic_prefix}/{cushion_id}:

- P/availability (retained, QoS 1): "online", the last will "offline";
- P/state (retained, QoS 1): the state JSON, published when a field other
  than the times changes and at most every STATE_EVERY_S otherwise;
- P/event (QoS 1): one message per event of SPEC section 5, the same keys
  plus `id` (stable, 16 hex digits) and `wall`;
- P/cmd/snooze, P/cmd/set: commands to the cushion; P/cmd/result: their outcome;
- {discovery_prefix}/device/{cushion_id}/config (retained): Home Assistant's
  device discovery, every entity in `cmps`; again whenever Home Assistant
  says "online" on {discovery_prefix}/status.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from typing import Any

from device.config import Config, key

STATE_EVERY_S = 5.0
# State fields that change with time alone: a change of these is no reason to publish.
TIME_FIELDS = ("sitting_s", "seated_today_s", "next_prompt", "wall", "load_kg", "fidgets_per_10min")
EVENT_TYPES_FOR_HOME_ASSISTANT = ("prompt", "lean", "twist", "perch", "slump")
_EVENT_TEMPLATE = (
    "{% if value_json.type in " + repr(list(EVENT_TYPES_FOR_HOME_ASSISTANT)) + " %}"
    "{{ {'event_type': value_json.type} | to_json }}{% endif %}"
)


@dataclass(frozen=True, slots=True)
class Topics:
    """Every topic of one cushion."""

    base: str
    discovery: str
    ha_status: str

    @classmethod
    def of(cls, topic_prefix: str, cushion_id: str, discovery_prefix: str) -> Topics:
        return cls(
            f"{topic_prefix}/{cushion_id}",
            f"{discovery_prefix}/device/{cushion_id}/config",
            f"{discovery_prefix}/status",
        )

    @property
    def availability(self) -> str:
        return f"{self.base}/availability"

    @property
    def state(self) -> str:
        return f"{self.base}/state"

    @property
    def event(self) -> str:
        return f"{self.base}/event"

    @property
    def cmd_snooze(self) -> str:
        return f"{self.base}/cmd/snooze"

    @property
    def cmd_set(self) -> str:
        return f"{self.base}/cmd/set"

    @property
    def cmd_result(self) -> str:
        return f"{self.base}/cmd/result"


def cushion_id_of(machine_id: str) -> str:
    """A cushion id derived from the machine's id (/etc/machine-id): "cushion-" and 8 hex digits."""
    return "cushion-" + hashlib.sha256(machine_id.strip().encode()).hexdigest()[:8]


@dataclass(frozen=True, slots=True)
class Today:
    """Today's totals so far (local day): seconds seated, sessions, breaks taken."""

    seated_s: float = 0.0
    sessions: int = 0
    breaks: int = 0


def state_payload(live: dict[str, Any], today: Today, config: Config, wall: str) -> dict[str, Any]:
    """The state message from the daemon's live values (device.daemon.live_row plus lean,
    posture, silenced, and the settings in effect: reminders (buzzer on) and
    break_after_min, which the Home Assistant switch and number show; `config`'s
    where the live values lack them) and today's totals."""
    nxt = live.get("next_prompt_kind")
    state: dict[str, Any] = {
        "seated": bool(live.get("seated")),
        "sitting_s": round(float(live.get("sitting_s") or 0.0), 1),
        "seated_today_s": round(today.seated_s, 1),
        "sessions_today": today.sessions,
        "breaks_today": today.breaks,
        "break_due": bool(live.get("break_due")),
        "next_prompt": {"kind": nxt, "in_s": round(float(live.get("next_prompt_in_s") or 0.0), 1)} if nxt else None,
        "lean": live.get("lean"),
        "posture": live.get("posture"),
        "fidgets_per_10min": live.get("fidgets_per_10min") or 0,
        "silenced": live.get("silenced"),
        "faults": list(live.get("faults") or []),
        "reminders": bool(live.get("reminders", config.alerts.buzzer_enabled)),
        "break_after_min": live.get("break_after_min", config.breaks.break_after_min),
        "wall": wall,
    }
    if config.mqtt.publish_load and live.get("total_kg") is not None:
        state["load_kg"] = round(float(live["total_kg"]), 1)
    return state


def changed_beyond_time(old: dict[str, Any] | None, new: dict[str, Any]) -> bool:
    """Did a field other than the times change (SPEC: publish on every such change)?"""
    if old is None:
        return True
    return any(old.get(k) != v for k, v in new.items() if k not in TIME_FIELDS) or (
        (old.get("next_prompt") or {}).get("kind") != (new.get("next_prompt") or {}).get("kind")
    )


def event_payload(row: dict[str, Any]) -> dict[str, Any]:
    """The event message of a stored event row: its SPEC section 5 keys, `id` and `wall`."""
    return {**row["data"], "id": row["uid"], "wall": row["wall"]}


class CommandError(ValueError):
    """A command the cushion refuses, in words for cmd/result."""


def parse_snooze(payload: bytes) -> float | None:
    """Minutes to snooze from a cmd/snooze payload: a number; None (empty payload): the
    configured snooze_min; 0 ends a snooze."""
    text = payload.decode("utf-8", "replace").strip()
    if not text:
        return None
    try:
        minutes = float(text)
    except ValueError:
        raise CommandError(f"snooze: expected minutes as a number, got {text[:40]!r}") from None
    spec = key("alerts", "snooze_min").spec
    assert spec.low is not None and spec.high is not None
    if not math.isfinite(minutes) or minutes != 0 and not spec.low <= minutes <= spec.high:
        raise CommandError(f"snooze: minutes must be 0 (end the snooze) or from {spec.range_text()}, got {text[:40]}")
    return minutes


def parse_set(payload: bytes) -> dict[str, Any]:
    """The settings of a cmd/set payload: a JSON object {"section.key": value, ...}."""
    try:
        data = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise CommandError(f"set: not JSON ({exc})") from None
    if not isinstance(data, dict) or not data:
        raise CommandError('set: expected an object such as {"breaks.break_after_min": 40}')
    return data


def discovery_payload(topics: Topics, cushion_id: str, config: Config, version: str) -> dict[str, Any]:
    """Home Assistant's device discovery: the device, and every entity in `cmps` (SPEC section 8)."""
    state, avail = topics.state, topics.availability
    after = key("breaks", "break_after_min").spec

    def entity(platform: str, name: str, object_id: str, **extra: Any) -> dict[str, Any]:
        return {
            "p": platform,
            "name": name,
            "unique_id": f"{cushion_id}_{object_id}",
            # Home Assistant's entity id (object_id is deprecated since 2025.10): only [a-z0-9_] after the dot.
            "default_entity_id": f"{platform}.{cushion_id.replace('-', '_')}_{object_id}",
            **extra,
        }

    cmps = {
        "occupancy": entity(
            "binary_sensor",
            "Seated",
            "occupancy",
            device_class="occupancy",
            state_topic=state,
            value_template="{{ 'ON' if value_json.seated else 'OFF' }}",
        ),
        "break_due": entity(
            "binary_sensor",
            "Break due",
            "break_due",
            state_topic=state,
            icon="mdi:walk",
            value_template="{{ 'ON' if value_json.break_due else 'OFF' }}",
        ),
        "sitting_time": entity(
            "sensor",
            "Sitting time",
            "sitting_time",
            device_class="duration",
            unit_of_measurement="s",
            state_class="measurement",
            state_topic=state,
            value_template="{{ value_json.sitting_s }}",
        ),
        "seated_today": entity(
            "sensor",
            "Seated today",
            "seated_today",
            device_class="duration",
            unit_of_measurement="s",
            state_class="total_increasing",
            state_topic=state,
            value_template="{{ value_json.seated_today_s }}",
        ),
        "breaks_today": entity(
            "sensor",
            "Breaks today",
            "breaks_today",
            state_class="total_increasing",
            state_topic=state,
            icon="mdi:coffee",
            value_template="{{ value_json.breaks_today }}",
        ),
        "lean": entity(
            "sensor",
            "Lean",
            "lean",
            device_class="enum",
            options=["left", "right", "none"],
            state_topic=state,
            value_template="{{ value_json.lean or 'none' }}",
        ),
        "posture": entity(
            "sensor",
            "Posture",
            "posture",
            device_class="enum",
            options=["perch", "slump", "none"],
            state_topic=state,
            value_template="{{ value_json.posture or 'none' }}",
        ),
        "fidgets": entity(
            "sensor",
            "Fidgets per 10 min",
            "fidgets",
            state_class="measurement",
            state_topic=state,
            unit_of_measurement="/10 min",
            value_template="{{ value_json.fidgets_per_10min }}",
        ),
        "events": entity(
            "event",
            "Cushion event",
            "events",
            state_topic=topics.event,
            event_types=list(EVENT_TYPES_FOR_HOME_ASSISTANT),
            # Home Assistant ignores an empty value: the other events (sit, stand...) pass by.
            value_template=_EVENT_TEMPLATE,
        ),
        "snooze": entity(
            "button",
            "Snooze reminders",
            "snooze",
            command_topic=topics.cmd_snooze,
            payload_press="",
            icon="mdi:alarm-snooze",
        ),
        "reminders": entity(
            "switch",
            "Reminders",
            "reminders",
            command_topic=topics.cmd_set,
            state_topic=state,
            payload_on='{"alerts.buzzer_enabled": true}',
            payload_off='{"alerts.buzzer_enabled": false}',
            state_on="ON",
            state_off="OFF",
            value_template="{{ 'ON' if value_json.reminders else 'OFF' }}",
            icon="mdi:bell-ring",
        ),
        "break_interval": entity(
            "number",
            "Break reminder after",
            "break_interval",
            command_topic=topics.cmd_set,
            state_topic=state,
            value_template="{{ value_json.break_after_min }}",
            command_template='{"breaks.break_after_min": {{ value }}}',
            min=after.low,
            max=after.high,
            step=1,
            unit_of_measurement="min",
            mode="box",
            icon="mdi:timer",
        ),
    }
    return {
        "dev": {
            "ids": [cushion_id],
            "name": f"Smart cushion {cushion_id}",
            "mf": "smart-cushion",
            "mdl": "Load-cell seat cushion",
            "sw": version,
        },
        "o": {"name": "smart-cushion", "sw": version},
        "avty_t": avail,
        "pl_avail": "online",
        "pl_not_avail": "offline",
        "qos": 1,
        "cmps": cmps,
    }
