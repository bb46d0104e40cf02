"""`cushion hub`: every cushion under the topic prefix, each one's history kept in one place.

The hub is a subscriber, not a broker: the broker distributes, the hub keeps.
It connects with a fixed client id and a persistent session (clean_session
off), so while it is down the broker keeps the events for it; it subscribes
with QoS 1 to `{topic_prefix}/+/event` and `{topic_prefix}/+/availability`.
`{topic_prefix}/+/state` is subscribed with QoS 0: the state is retained and
the newest comes with every (re)subscription, while states queued for a hub
that was away would only delay its catching up with the events.

Messages are stored in batches (whatever has arrived while the last batch
was stored, up to BATCH_MAX; when idle, the first message waits no longer)
and acknowledged to the broker only once their batch is committed: a hub
killed in between gets them again. Storing at once matters: a broker sends a
client only so many unacknowledged messages (Mosquitto: 20 by default), so
waiting to fill a batch would cap the hub at a few hundred messages a
second. Each cushion's database stays open (the hub raises its limit of open
files to what the system allows: three descriptors per cushion); closing and
opening them per batch cost seconds a batch with 500 cushions. An event whose `id` is stored already is kept
once (device.storage.received). Per-cushion writes are not fsynced (WAL,
synchronous=NORMAL): a crash of the hub loses nothing, a power cut of its
machine may lose the last second, which the cushions still hold.

What goes where (device.storage.fleet): HUB_DB has one row per cushion (online
or not, its latest state); each cushion's history is in
``HUB_DB.cushions/<cushion_id>.db`` with a cushion's own schema, so
`cushion dashboard --db HUB_DB` shows every page for each of them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import queue
import resource
import socket
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from device.config import Config
from device.mqtt.link import BrokerLink
from device.storage.fleet import FleetStore, valid_cushion_id
from device.storage.received import ReceivedEvent
from device.storage.store import Store, StoreError

log = logging.getLogger("cushion")

IDLE_WAIT_S = 0.2  # with nothing to store, look at the stop flag this often
BATCH_MAX = 5000
FILES_PER_HISTORY = 3  # a database in WAL mode: the file, its -wal and its -shm
SPARE_FILES = 100
RETRY_S = 5.0
MAX_RETRY_MESSAGES = 100_000


@dataclass(slots=True)
class HubCounters:
    messages: int = 0
    events_new: int = 0
    events_twice: int = 0
    refused: int = 0
    batches: int = 0
    latencies_s: deque[float] = field(default_factory=lambda: deque(maxlen=200_000))  # detected -> stored


@dataclass(frozen=True, slots=True)
class _Message:
    topic: str
    payload: bytes
    ack: Callable[[], None]


def open_histories_allowed() -> int:
    """How many cushion databases may stay open: the soft limit of open files raised to the
    hard one (systemd's default hard limit is 524288), three descriptors each."""
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
        if wanted > soft:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
    except (ValueError, OSError):
        soft = 1024
    return max(16, (int(soft) - SPARE_FILES) // FILES_PER_HISTORY)


def hub_client_id(db_path: Path) -> str:
    """A fixed client id for the hub keeping `db_path` on this machine: its session survives restarts."""
    where = f"{socket.gethostname()}:{db_path.absolute()}"
    return "smart-cushion-hub-" + hashlib.sha256(where.encode()).hexdigest()[:10]


def live_of_state(state: dict[str, Any]) -> dict[str, Any]:
    """A cushion's live row (device.storage LIVE_COLUMNS) from its state message."""
    nxt = state.get("next_prompt") or {}
    return {
        "seated": bool(state.get("seated")),
        "sitting_s": state.get("sitting_s"),
        "next_prompt_kind": nxt.get("kind"),
        "next_prompt_in_s": nxt.get("in_s"),
        "total_kg": state.get("load_kg"),
        "fidgets_per_10min": state.get("fidgets_per_10min"),
        "faults": list(state.get("faults") or []),
        "break_due": bool(state.get("break_due")),
    }


class Hub:
    """Subscribes to every cushion under [mqtt] topic_prefix and keeps what they say in `db_path`."""

    def __init__(self, config: Config, db_path: Path, *, client_id: str | None = None):
        self.config = config
        self.db_path = Path(db_path)
        self.prefix = config.mqtt.topic_prefix
        self.counters = HubCounters()
        self._queue: queue.SimpleQueue[_Message] = queue.SimpleQueue()
        self._retry: list[_Message] = []
        self._next_retry = 0.0
        self._histories: OrderedDict[str, Store] = OrderedDict()
        self._refused_said: set[str] = set()
        self.open_histories = 64
        self.link = BrokerLink(
            config.mqtt,
            client_id=client_id or hub_client_id(self.db_path),
            clean_session=False,
            on_connected=self._connected,
            on_message=lambda topic, payload, ack: self._queue.put(_Message(topic, payload, ack)),
            manual_ack=True,
        )

    def _connected(self, link: BrokerLink) -> None:
        link.subscribe([f"{self.prefix}/+/event", f"{self.prefix}/+/availability"], qos=1)
        link.subscribe([f"{self.prefix}/+/state"], qos=0)

    def run(self, stop: threading.Event, max_seconds: float | None = None) -> None:
        """Receive and store until `stop` is set (or max_seconds have passed)."""
        self.open_histories = open_histories_allowed()
        fleet = FleetStore(self.db_path)
        self.link.start()
        started = time.monotonic()
        try:
            while not stop.is_set():
                if max_seconds is not None and time.monotonic() - started >= max_seconds:
                    break
                batch = self._take_batch()
                if self._retry and time.monotonic() >= self._next_retry:
                    batch, self._retry = self._retry + batch, []
                if batch:
                    self._store(fleet, batch)
            # What arrived and is stored gets acknowledged; the rest the broker keeps for next time.
            self._store(fleet, self._take_batch(wait_s=0.0))
        finally:
            self.link.stop()
            for store in self._histories.values():
                store.close()
            self._histories.clear()
            fleet.close()

    def _take_batch(self, wait_s: float = IDLE_WAIT_S) -> list[_Message]:
        """What has arrived (waiting up to wait_s for a first message), up to BATCH_MAX."""
        batch: list[_Message] = []
        try:
            batch.append(self._queue.get(timeout=wait_s) if wait_s > 0 else self._queue.get_nowait())
        except queue.Empty:
            return batch
        while len(batch) < BATCH_MAX:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    # ---- storing a batch --------------------------------------------------------

    def _store(self, fleet: FleetStore, batch: list[_Message]) -> None:
        now = datetime.now().astimezone()
        events: dict[str, list[ReceivedEvent]] = {}
        states: dict[str, dict[str, Any]] = {}
        by_cushion: dict[str, list[_Message]] = {}
        acks: list[Callable[[], None]] = []
        for message in batch:
            self.counters.messages += 1
            parsed = self._parse(message)
            if parsed is None:
                acks.append(message.ack)  # nothing to keep: the broker need not send it again
                continue
            cushion_id, kind, value = parsed
            by_cushion.setdefault(cushion_id, []).append(message)
            if kind == "event":
                events.setdefault(cushion_id, []).append(value)
            elif kind == "state":
                fleet.heard(cushion_id, now, state=value)
                states[cushion_id] = value
            else:
                fleet.heard(cushion_id, now, online=value)
        failed: set[str] = set()
        for cushion_id in by_cushion:
            try:
                self._store_cushion(cushion_id, events.get(cushion_id, []), states.get(cushion_id), now)
            except StoreError as exc:
                log.error(
                    "hub: cannot store cushion %s's messages (kept, retrying every %g s): %s", cushion_id, RETRY_S, exc
                )
                self._forget(cushion_id)
                failed.add(cushion_id)
        try:
            fleet.commit()
        except StoreError as exc:
            log.error("hub: %s (the messages are kept and tried again)", exc)
            failed.update(by_cushion)
        for cushion_id, messages in by_cushion.items():
            if cushion_id in failed:
                self._retry.extend(messages)
            else:
                acks.extend(m.ack for m in messages)
        if len(self._retry) > MAX_RETRY_MESSAGES:  # the broker keeps them: it sends them again after a reconnect
            del self._retry[: len(self._retry) - MAX_RETRY_MESSAGES]
        if self._retry:
            self._next_retry = time.monotonic() + RETRY_S
        for ack in acks:
            ack()
        self.counters.batches += 1

    def _store_cushion(
        self, cushion_id: str, events: list[ReceivedEvent], state: dict[str, Any] | None, now: datetime
    ) -> None:
        store = self._history(cushion_id)
        live = heartbeat = None
        if state is not None:
            wall = _wall(state.get("wall")) or now
            live = (live_of_state(state), wall)
            heartbeat = wall if state.get("seated") else None
        new = store.add_received(events, self.config.breaks.break_min_s, heartbeat=heartbeat, live=live)
        self.counters.events_new += new
        self.counters.events_twice += len(events) - new
        stored_at = time.time()
        for event in events:
            detected = event.wall_of(event.data.get("detected_at")) or event.wall
            self.counters.latencies_s.append(stored_at - detected.timestamp())

    def _history(self, cushion_id: str) -> Store:
        store = self._histories.get(cushion_id)
        if store is not None:
            self._histories.move_to_end(cushion_id)
            return store
        path = FleetStore.history_path_of(self.db_path, cushion_id)
        store = Store.open(path, read_only=False)
        self._histories[cushion_id] = store
        if len(self._histories) > self.open_histories:
            _, oldest = self._histories.popitem(last=False)
            oldest.close()
        return store

    def _forget(self, cushion_id: str) -> None:
        store = self._histories.pop(cushion_id, None)
        if store is not None:
            store.close()

    def _parse(self, message: _Message) -> tuple[str, str, Any] | None:
        """(cushion id, "event" | "state" | "availability", its value), or None (logged once per topic)."""
        rest = message.topic[len(self.prefix) + 1 :] if message.topic.startswith(self.prefix + "/") else ""
        cushion_id, _, kind = rest.partition("/")
        try:
            if not valid_cushion_id(cushion_id) or kind not in ("event", "state", "availability"):
                raise ValueError("not a cushion's topic")
            if kind == "availability":
                text = message.payload.decode("utf-8").strip()
                if text not in ("online", "offline"):
                    raise ValueError(f"availability must be online or offline, got {text[:20]!r}")
                return cushion_id, kind, text == "online"
            value = json.loads(message.payload.decode("utf-8"))
            if not isinstance(value, dict):
                raise ValueError("not a JSON object")
            if kind == "state":
                return cushion_id, kind, value
            return cushion_id, kind, _received_event(value)
        except (ValueError, UnicodeDecodeError, KeyError, TypeError) as exc:
            self.counters.refused += 1
            if message.topic not in self._refused_said and len(self._refused_said) < 1000:
                self._refused_said.add(message.topic)
                log.warning("hub: ignoring a message on %s: %s", message.topic, exc)
            return None


def _received_event(value: dict[str, Any]) -> ReceivedEvent:
    data = dict(value)
    uid = data.pop("id")
    wall = _wall(data.pop("wall"))
    if not isinstance(uid, str) or not 1 <= len(uid) <= 64 or wall is None:
        raise ValueError("an event needs an id (text) and a wall time")
    if not isinstance(data.get("type"), str) or not isinstance(data.get("t", data.get("start")), int | float):
        raise ValueError("an event needs a type and its t or start")
    return ReceivedEvent(uid, data, wall)


def _wall(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo else value.astimezone()
