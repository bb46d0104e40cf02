"""The daemon's side of MQTT (SPEC section 8): availability, state, events, discovery, commands.

It runs beside the sampling loop and never makes it wait: the daemon only
hands over a dict once a second (`offer`), says when a history batch went in
(`history_written`) and takes commands from a queue; everything that touches
the network happens in paho's thread and in this publisher's own thread.

Events go out through the history database, which is the outbox: every
stored event row after the mark "mqtt_published_id" (in the database's meta
table) is published, in the order stored, while the broker can be reached.
The mark moves on as the broker acknowledges them (QoS 1), and is saved at
most once a second, and at a clean stop. So events detected while the broker
is down, or while the daemon is stopped, go out afterwards, in order; a
power cut can make the last second's events go out twice, with the same `id`
(a consumer keeps one). When MQTT is first configured the mark starts at the
newest event: the history from before is not sent.

The cushion id, when [mqtt] cushion_id is empty, is derived once from
/etc/machine-id and kept in the history database's device_info
("mqtt_cushion_id"), so it stays the same when the machine id changes.
"""

from __future__ import annotations

import json
import logging
import queue
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from device import version
from device.config import Config
from device.mqtt.link import BrokerLink
from device.mqtt.messages import (
    STATE_EVERY_S,
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
from device.storage.day_totals import totals_for_days
from device.storage.store import Store, StoreError

log = logging.getLogger("cushion")

MARK_KEY = "mqtt_published_id"
CUSHION_ID_KEY = "mqtt_cushion_id"
MAX_IN_FLIGHT = 100  # events handed to paho and not yet acknowledged
MARK_SAVE_S = 1.0
TOTALS_EVERY_S = 5.0  # today's totals are read from the history this often
STUCK_S = 60.0  # no acknowledgement for this long while connected: send from the mark again
TICK_S = 0.2
MACHINE_ID = Path("/etc/machine-id")


@dataclass(frozen=True, slots=True)
class Command:
    """A command from the broker, parsed: snooze (minutes; 0 ends it; None: the configured
    snooze_min) or set (settings)."""

    kind: str
    minutes: float | None = None
    settings: dict[str, Any] | None = None


def cushion_id_for(config: Config, open_store: Callable[[], Store], machine_id: Path = MACHINE_ID) -> str:
    """[mqtt] cushion_id, or the one kept in the history database, or one derived from the machine and kept."""
    if config.mqtt.cushion_id:
        return config.mqtt.cushion_id
    try:
        with open_store() as store:
            kept = store.device_info().get(CUSHION_ID_KEY)
            if isinstance(kept, str) and kept:
                return kept
            cushion_id = _derived_id(machine_id)
            store.set_device_info({CUSHION_ID_KEY: cushion_id})
            return cushion_id
    except StoreError as exc:
        cushion_id = _derived_id(machine_id)
        log.warning("MQTT: cannot keep the cushion id %s in the history database (%s)", cushion_id, exc)
        return cushion_id


def _derived_id(machine_id: Path) -> str:
    try:
        text = machine_id.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        text = ""
    return cushion_id_of(text or secrets.token_hex(16))


class Publisher:
    """Publishes what the daemon knows and takes commands for it.

    open_store: opens the history database (a connection of the publisher's
    own, used only in its thread). on_command(command): a parsed command, called
    from paho's thread; the daemon queues it and answers with `result`.
    """

    def __init__(
        self,
        config: Config,
        open_store: Callable[[], Store],
        cushion_id: str,
        on_command: Callable[[Command], object],
    ):
        self.config = config
        self.cushion_id = cushion_id
        self.topics = Topics.of(config.mqtt.topic_prefix, cushion_id, config.mqtt.discovery_prefix)
        self._open_store = open_store
        self._on_command = on_command
        self.link = BrokerLink(
            config.mqtt,
            will=(self.topics.availability, "offline"),
            on_connected=self._connected,
            on_message=self._message,
            on_published=self._acks_put,
        )
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._offered: dict[str, Any] | None = None
        self._acks: queue.SimpleQueue[int] = queue.SimpleQueue()
        self._announce = threading.Event()  # (re)connected: state again at once
        self._thread = threading.Thread(target=self._run, name="mqtt-publisher", daemon=True)
        # The publisher thread's own:
        self._store: Store | None = None
        self._mark = 0  # every event up to this row id is acknowledged
        self._saved_mark = 0
        self._sent = 0  # every event up to this row id is handed to paho
        self._in_flight: dict[int, int] = {}  # paho's mid -> event row id
        self._last_ack = time.monotonic()
        self._mark_saved_at = 0.0
        self._today = Today()
        self._today_read_at = -1e9
        self._state: dict[str, Any] | None = None
        self._state_at = -1e9
        self._store_trouble: str | None = None
        self._status_said: bool | None = None  # the connection state last written to device_info
        self.published_events = 0

    # ---- the daemon's side ------------------------------------------------------

    def start(self) -> None:
        self.link.start()
        self._thread.start()

    def offer(self, live: dict[str, Any]) -> None:
        """The daemon's live values now (never blocks: the latest is kept)."""
        with self._lock:
            self._offered = live

    def history_written(self) -> None:
        """A history batch is stored: events may wait in the outbox."""
        self._wake.set()

    def result(self, command: str, ok: bool, detail: str, **extra: Any) -> None:
        """Publish a command's outcome on cmd/result."""
        payload = {
            "command": command,
            "ok": ok,
            "detail": detail,
            **extra,
            "wall": datetime.now().astimezone().isoformat(timespec="seconds"),
        }
        self.link.publish(self.topics.cmd_result, json.dumps(payload), qos=1)

    def stop(self) -> None:
        """Publish what is stored, save the mark, say "offline" and disconnect."""
        self._stopping.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5.0)
        self.link.stop(farewell=(self.topics.availability, "offline"))

    # ---- paho's thread ----------------------------------------------------------

    def _connected(self, link: BrokerLink) -> None:
        link.subscribe([self.topics.cmd_snooze, self.topics.cmd_set, self.topics.ha_status])
        self._publish_discovery()
        link.publish(self.topics.availability, "online", qos=1, retain=True)
        self._announce.set()
        self._wake.set()

    def _publish_discovery(self) -> None:
        payload = discovery_payload(self.topics, self.cushion_id, self.config, version())
        self.link.publish(self.topics.discovery, json.dumps(payload), qos=1, retain=True)

    def _message(self, topic: str, payload: bytes, ack: Callable[[], None]) -> None:
        if topic == self.topics.ha_status:
            if payload.strip() == b"online":  # Home Assistant restarted: it forgot non-retained state
                self._publish_discovery()
                self._announce.set()
                self._wake.set()
            return
        try:
            if topic == self.topics.cmd_snooze:
                command = Command("snooze", minutes=parse_snooze(payload))
            elif topic == self.topics.cmd_set:
                command = Command("set", settings=parse_set(payload))
            else:
                return
        except CommandError as exc:
            kind = "snooze" if topic == self.topics.cmd_snooze else "set"
            log.warning("MQTT: refused a command on %s: %s", topic, exc)
            self.result(kind, False, str(exc))
            return
        self._on_command(command)

    def _acks_put(self, mid: int) -> None:
        self._acks.put(mid)

    # ---- the publisher's thread ---------------------------------------------------

    def _run(self) -> None:
        while True:
            stopping = self._stopping.is_set()
            try:
                self._turn(stopping)
            except StoreError as exc:
                self._store_failed(exc)
            except Exception:  # the thread must go on: the daemon does not watch it
                log.exception("MQTT: the publisher failed; going on")
            if stopping:
                break
            self._wake.wait(TICK_S)
            self._wake.clear()
        if self._store is not None:
            self._store.close()

    def _turn(self, stopping: bool) -> None:
        store = self._usable_store()
        self._take_acks()
        if store is None:
            return
        self._say_status(store)
        if self.link.connected.is_set():
            self._send_events(store)
            self._send_state(store)
        if stopping:  # give the broker a moment to acknowledge what was just sent
            deadline = time.monotonic() + 1.0
            while self._in_flight and time.monotonic() < deadline and self.link.connected.is_set():
                time.sleep(0.02)
                self._take_acks()
        self._save_mark(store, force=stopping)

    def _usable_store(self) -> Store | None:
        if self._store is not None and self._store.replaced():
            # A new history file: its row ids start again, and its own mark (if any) says where.
            self._store.close()
            self._store = None
        if self._store is None:
            store = self._open_store()
            mark = store.meta(MARK_KEY)
            if mark is None or mark > store.last_event_id():
                mark = store.last_event_id()
                store.set_meta(MARK_KEY, mark)
            self._store = store
            self._mark = self._saved_mark = self._sent = mark
            self._in_flight.clear()
            if self._store_trouble is not None:
                log.info("MQTT: the history database can be read again; publishing from event %d", mark)
                self._store_trouble = None
        return self._store

    def _store_failed(self, exc: StoreError) -> None:
        if self._store_trouble is None:
            log.warning("MQTT: cannot read the history database (%s); events wait there until it can be", exc)
        self._store_trouble = str(exc)
        if self._store is not None:
            self._store.close()
            self._store = None

    def _send_events(self, store: Store) -> None:
        if self._in_flight and time.monotonic() - self._last_ack > STUCK_S:
            log.warning(
                "MQTT: no acknowledgement for %d events in %.0f s; sending them again", len(self._in_flight), STUCK_S
            )
            self._in_flight.clear()
            self._sent = self._mark
        room = MAX_IN_FLIGHT - len(self._in_flight)
        if room <= 0:
            return
        for row in store.events_after(self._sent, limit=room):
            message = json.dumps(event_payload(row))
            mid = self.link.publish(self.topics.event, message, qos=1)
            if mid is None:
                return  # paho refused it (disconnected meanwhile): from this row next time
            if not self._in_flight:
                self._last_ack = time.monotonic()
            self._in_flight[mid] = row["id"]
            self._sent = row["id"]
            self.published_events += 1

    def _take_acks(self) -> None:
        acked = False
        while True:
            try:
                mid = self._acks.get_nowait()
            except queue.Empty:
                break
            if self._in_flight.pop(mid, None) is not None:
                acked = True
        if acked:
            self._last_ack = time.monotonic()
            self._mark = min(self._in_flight.values()) - 1 if self._in_flight else self._sent

    def _say_status(self, store: Store) -> None:
        """device_info "mqtt_status" for the Settings page: the cushion id, the broker, connected or not since when."""
        connected = self.link.connected.is_set()
        if connected == self._status_said:
            return
        store.set_device_info(
            {
                "mqtt_status": {
                    "cushion_id": self.cushion_id,
                    "broker": f"{self.config.mqtt.host}:{self.config.mqtt.port}",
                    "connected": connected,
                    "since": datetime.now().astimezone().isoformat(timespec="seconds"),
                }
            }
        )
        self._status_said = connected

    def _save_mark(self, store: Store, force: bool = False) -> None:
        if self._mark != self._saved_mark and (force or time.monotonic() - self._mark_saved_at >= MARK_SAVE_S):
            store.set_meta(MARK_KEY, self._mark)
            self._saved_mark = self._mark
            self._mark_saved_at = time.monotonic()

    def _send_state(self, store: Store) -> None:
        with self._lock:
            live = self._offered
        if live is None:
            return
        now = time.monotonic()
        if now - self._today_read_at >= TOTALS_EVERY_S or self._announce.is_set():
            self._today = self._read_today(store, live)
            self._today_read_at = now
        wall = datetime.now().astimezone()
        state = state_payload(live, self._today, self.config, wall.isoformat(timespec="seconds"))
        if not (
            self._announce.is_set() or changed_beyond_time(self._state, state) or now - self._state_at >= STATE_EVERY_S
        ):
            return
        self._announce.clear()
        if self.link.publish(self.topics.state, json.dumps(state), qos=1, retain=True) is not None:
            self._state, self._state_at = state, now

    @staticmethod
    def _read_today(store: Store, live: dict[str, Any]) -> Today:
        now = datetime.now().astimezone()
        sitting_s = float(live.get("sitting_s") or 0.0)
        running = (now.timestamp() - sitting_s, now.timestamp()) if sitting_s > 0 else None
        (day,) = totals_for_days(store, now.date(), now.date(), running=running)
        return Today(seated_s=day.seated_s, sessions=day.sessions, breaks=day.breaks)
