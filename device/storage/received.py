"""A cushion's history as a hub receives it: events by MQTT, the sessions rebuilt from them.

The hub (device.mqtt.hub) keeps each cushion's history in a database of the
cushion's own schema, so every dashboard page works on it. It receives events
(SPEC section 8: the section 5 keys, `id` and `wall`), not the cushion's
sessions, so it rebuilds them from the sit and stand events with the
cushion's own rule (SPEC section 3): a session starts at a sit; a stand ends
it unless the next sit comes within `break_min_s`, which carries it on. The
rows' start_t and end_t are Unix seconds here (a cushion's own are its frame
clock). Until the next sit, a session that saw a stand reads as ended at it;
an open one runs to its last heartbeat: its latest event or state message.

An event whose `id` is stored already is left out: the broker may deliver a
message twice (QoS 1), and a cushion re-sends what it could not confirm.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from device.storage.database import Connection, _as_datetime, _label
from device.storage.history import _live_row


@dataclass(frozen=True, slots=True)
class ReceivedEvent:
    """One event message: its id, its SPEC section 5 keys (`data`, times on the cushion's
    frame clock), and the wall time of its `t` or `start` as the cushion labelled it."""

    uid: str
    data: Mapping[str, Any]
    wall: datetime

    @property
    def type(self) -> str:
        return str(self.data["type"])

    def wall_of(self, frame_t: float | None) -> datetime | None:
        """The wall time of another of its frame-clock times (detected_at, end)."""
        if frame_t is None:
            return None
        own = self.data.get("t", self.data.get("start"))
        return self.wall + timedelta(seconds=float(frame_t) - float(own))


class Received(Connection):
    """Adds what a hub receives to one cushion's history."""

    def add_received(
        self,
        events: Iterable[ReceivedEvent],
        break_min_s: float,
        heartbeat: datetime | None = None,
        live: tuple[Mapping[str, Any], datetime] | None = None,
    ) -> int:
        """Store the events not stored yet (by id), in time order, with the sessions they
        make; returns how many were new. heartbeat: the cushion was seated then (its open
        session runs to it). live: (values, wall) for the live row. One transaction (WAL,
        not fsynced: see the hub), so a batch costs one commit per cushion."""
        ordered = sorted(events, key=lambda e: e.wall)
        new = 0
        with self._transaction("write a cushion's history"):
            known = self._known_uids_now([e.uid for e in ordered])
            for event in ordered:
                if event.uid in known:
                    continue
                known.add(event.uid)
                self._add_one(event, break_min_s)
                new += 1
            if heartbeat is not None:
                self._heartbeat(_label(_as_datetime(heartbeat)))
            if live is not None:
                row = _live_row(live[0], _label(_as_datetime(live[1])))
                self.db.execute(
                    f"INSERT OR REPLACE INTO live ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                    list(row.values()),
                )
        return new

    def received_heartbeat(self, wall: datetime) -> None:
        """The cushion is seated at `wall` (its state says so): its open session runs to then."""
        with self._transaction("write a cushion's history"):
            self._heartbeat(_label(_as_datetime(wall)))

    # ---- inside the transaction -----------------------------------------------

    def _known_uids_now(self, uids: list[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(uids), 500):
            chunk = uids[start : start + 500]
            cursor = self.db.execute(f"SELECT uid FROM events WHERE uid IN ({', '.join('?' * len(chunk))})", chunk)
            found.update(row[0] for row in cursor)
        return found

    def _add_one(self, event: ReceivedEvent, break_min_s: float) -> None:
        at = event.wall.timestamp()
        label = _label(event.wall)
        last = self.db.execute(
            "SELECT id, start_t, end_t, prompts FROM sessions ORDER BY start_t DESC, id DESC LIMIT 1"
        ).fetchone()
        if event.type == "sit":
            if last is not None and at >= last[1] and (last[2] is None or at - last[2] < break_min_s):
                self.db.execute("UPDATE sessions SET end_wall = NULL, end_t = NULL WHERE id = ?", [last[0]])
            else:
                self.db.execute(
                    "INSERT INTO sessions (start_wall, start_t, end_wall, end_t, prompts, last_heartbeat_wall) "
                    "VALUES (?, ?, NULL, NULL, '[]', ?)",
                    [label, at, label],
                )
        elif event.type == "stand" and last is not None and last[2] is None and at >= last[1]:
            self.db.execute("UPDATE sessions SET end_wall = ?, end_t = ? WHERE id = ?", [label, at, last[0]])
        session_id = self._session_holding(at)
        if event.type == "prompt" and session_id is not None:
            row = self.db.execute("SELECT prompts FROM sessions WHERE id = ?", [session_id]).fetchone()
            prompts = json.loads(row[0]) + [event.data.get("kind")]
            self.db.execute("UPDATE sessions SET prompts = ? WHERE id = ?", [json.dumps(prompts), session_id])
        detected = event.wall_of(event.data.get("detected_at")) or event.wall
        self.db.execute(
            "INSERT INTO events (uid, type, wall, detected_wall, session_id, data) VALUES (?, ?, ?, ?, ?, ?)",
            [event.uid, event.type, label, _label(detected), session_id, json.dumps(dict(event.data))],
        )
        if event.type == "fault":
            end = event.wall_of(event.data.get("end"))
            self.db.execute(
                "INSERT INTO faults (channel, start_wall, end_wall, reason) VALUES (?, ?, ?, ?)",
                [
                    event.data.get("channel", "?"),
                    label,
                    None if end is None else _label(end),
                    event.data.get("reason") or "",
                ],
            )
        self._heartbeat(label)

    def _session_holding(self, at: float) -> int | None:
        row = self.db.execute(
            "SELECT id, end_t FROM sessions WHERE start_t <= ? ORDER BY start_t DESC, id DESC LIMIT 1", [at + 1e-3]
        ).fetchone()
        if row is None or (row[1] is not None and at > row[1] + 1e-3):
            return None
        return int(row[0])

    def _heartbeat(self, label: str) -> None:
        self.db.execute(
            "UPDATE sessions SET last_heartbeat_wall = MAX(last_heartbeat_wall, ?) WHERE end_wall IS NULL", [label]
        )
