"""A hub's database: every cushion it hears through the broker, and each one's history.

`cushion hub --db HUB_DB` keeps, in HUB_DB, one row per cushion: online or
offline (its availability), its latest state (SPEC section 8's state
message) and when each was heard. Each cushion's history (events, sessions,
the live row) goes to a database of its own beside it,
``HUB_DB.cushions/<cushion_id>.db``, with the schema of a cushion's own
(device.storage.store), so that every dashboard page works on any one of
them unchanged. HUB_DB itself also holds the dashboard's own things (its
password, its login sessions) in a cushion's schema, so its table leaves
PRAGMA user_version to that schema.
"""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any

from device.storage.database import StoreError, _as_datetime, _label

_CUSHION_ID = re.compile(r"[a-z0-9_-]{1,64}\Z")


def is_fleet(path: str | Path) -> bool:
    """Is the database at `path` a hub's (rather than one cushion's)?"""
    try:
        conn = sqlite3.connect(f"{Path(path).absolute().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return False
    try:
        row = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'fleet_cushions'").fetchone()
        return row is not None
    except sqlite3.Error:
        return False
    finally:
        conn.close()


def valid_cushion_id(text: str) -> bool:
    """A cushion id as SPEC section 8 allows it in topics ([a-z0-9_-])."""
    return bool(_CUSHION_ID.match(text))


class FleetStore:
    """The hub's own table of cushions (one connection; use it from the thread that opened it)."""

    def __init__(self, path: str | Path, *, read_only: bool = False, busy_timeout_s: float = 5.0):
        self.path = Path(path)
        try:
            if read_only:
                self.conn = sqlite3.connect(
                    f"{self.path.absolute().as_uri()}?mode=ro", uri=True, timeout=busy_timeout_s
                )
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.conn = sqlite3.connect(self.path, timeout=busy_timeout_s)
                self.conn.execute("PRAGMA journal_mode = WAL")
                self.conn.execute("PRAGMA synchronous = NORMAL")
                self.conn.execute(
                    "CREATE TABLE IF NOT EXISTS fleet_cushions (id TEXT PRIMARY KEY, online INTEGER NOT NULL DEFAULT 0,"
                    " availability_wall TEXT, state TEXT, state_wall TEXT, first_seen_wall TEXT NOT NULL,"
                    " last_seen_wall TEXT NOT NULL)"
                )
                self.conn.commit()
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"{self.path}: cannot open the hub's database: {exc}") from None

    def history_path(self, cushion_id: str) -> Path:
        """Where cushion `cushion_id`'s history is kept."""
        return self.history_path_of(self.path, cushion_id)

    @staticmethod
    def history_path_of(hub_db: Path, cushion_id: str) -> Path:
        """Where the hub keeping `hub_db` keeps cushion `cushion_id`'s history."""
        if not valid_cushion_id(cushion_id):
            raise ValueError(f"not a cushion id: {cushion_id!r}")
        return hub_db.with_name(hub_db.name + ".cushions") / f"{cushion_id}.db"

    def heard(
        self, cushion_id: str, wall: datetime, *, online: bool | None = None, state: dict[str, Any] | None = None
    ) -> None:
        """Note a message from a cushion: its availability, or its state (not committed: see commit)."""
        label = _label(_as_datetime(wall))
        self.conn.execute(
            "INSERT INTO fleet_cushions (id, first_seen_wall, last_seen_wall) VALUES (?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET last_seen_wall = excluded.last_seen_wall",
            [cushion_id, label, label],
        )
        if online is not None:
            self.conn.execute(
                "UPDATE fleet_cushions SET online = ?, availability_wall = ? WHERE id = ?",
                [int(online), label, cushion_id],
            )
        if state is not None:
            self.conn.execute(
                "UPDATE fleet_cushions SET state = ?, state_wall = ? WHERE id = ?",
                [json.dumps(state), label, cushion_id],
            )

    def commit(self) -> None:
        try:
            self.conn.commit()
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot write the hub's database: {exc}") from None

    def cushions(self) -> list[dict[str, Any]]:
        """Every cushion heard of, by id: online (bool), state (dict or None), and the walls."""
        try:
            rows = self.conn.execute(
                "SELECT id, online, availability_wall, state, state_wall, first_seen_wall, last_seen_wall "
                "FROM fleet_cushions ORDER BY id"
            ).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot read the hub's database: {exc}") from None
        keys = ("id", "online", "availability_wall", "state", "state_wall", "first_seen_wall", "last_seen_wall")
        out = []
        for row in rows:
            item = dict(zip(keys, row))
            item["online"] = bool(item["online"])
            item["state"] = json.loads(item["state"]) if item["state"] else None
            out.append(item)
        return out

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> FleetStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
