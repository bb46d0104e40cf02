"""The history database: one SQLite file the daemon writes and the dashboard reads.

A thin edge over sqlite-utils. All SQL of the project lives here; the rest of
the code calls a few verbs::

    store = Store("/var/lib/cushion/history.db")
    store.write_batch(now_t, now_wall, events=events, sessions=[open_session])
    store.events_between(day_start, day_end, types=["lean", "twist"])

Two clocks meet here. `_t` columns are the daemon's frame clock (monotonic
seconds, SPEC section 3): they order things within one run of the daemon and
mean nothing across runs. `_wall` columns are ISO-8601 local times with their
UTC offset ("2024-05-01T09:30:12.345+02:00"): labels for people and for the
dashboard's day and week views. `write_batch` turns frame times into wall
labels from one (frame time, wall time) pair taken at the moment of writing.

Decisions:
- WAL journal, synchronous=NORMAL: the dashboard reads while the daemon
  writes; a commit costs no fsync (only checkpoints do), which spares the SD
  card. A killed process loses nothing it committed; a power cut may lose the
  last commits but never corrupts the file.
- The daemon batches its writes (`write_batch`, one transaction every few
  seconds); `transactions` counts committed write transactions so the
  benchmark can report database writes per hour.
- Sessions are passed as the pipeline's own `Session` records and recognised
  within one run by their start time; events are attached to the session
  whose span holds their time. A session left open by a crash is found by
  `left_open` and closed at its last heartbeat or continued.
- Disk problems (read-only, full, I/O error, locked too long, damaged file)
  raise `StoreError`, a CushionError whose message names the file and the
  likely cause, so the daemon can log it and keep prompting.
- A database that cannot be written (a read-only file, folder or disk) is
  opened read-only rather than refused (`read_only=None`, the default):
  everything can be read, every write raises StoreError saying it is
  read-only. `reconnect()` tries read-write again (the daemon does, when it
  retries a failed batch), keeping what it knows of this run's sessions.
- A settings row whose value is not JSON (written by something else) is
  skipped by `settings()`, never an exception; `on_invalid` hears about it.
- The schema is versioned with PRAGMA user_version; `MIGRATIONS` upgrade an
  old file on open. A file from a newer version of the software is refused.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from device.errors import CushionError
from device.core.events import Event, Fault, Session
from device.core.minutes import MINUTE_S, Minute, merge_minutes, minute_key
from device.core.report import event_to_dict


class StoreError(CushionError):
    """The history database could not be read or written (disk full, read-only, damaged...)."""


# ---- records passed in -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Snooze:
    """A press of the button: `action` "snooze" (for snooze_min) or "mute_day" (until midnight).

    `kind` is the prompt that was showing ("break_due", "break_overdue",
    "move") or "" if none; `wall` when it was pressed, `until_wall` when the
    prompts come back (datetimes; naive ones are local time).
    """

    wall: datetime
    kind: str
    until_wall: datetime
    action: str


SNOOZE_ACTIONS = ("snooze", "mute_day")
DIARY_REGIONS = ("lower", "middle", "upper")   # where in the back, bottom to top
DIARY_SIDES = ("left", "centre", "right")

# The live row: column -> what it holds. Missing keys are stored as NULL.
LIVE_COLUMNS = {
    "seated": "bool: someone is sitting",
    "sitting_s": "seconds since the current session started",
    "next_prompt_kind": "the prompt due next: break_due, break_overdue or move",
    "next_prompt_in_s": "seconds until that prompt",
    "cop_x_mm": "centre of pressure, mm right of centre",
    "cop_y_mm": "centre of pressure, mm forward of centre",
    "lat": "lateral balance, -1..1, positive = right",
    "sag": "sagittal balance, -1..1, positive = forward",
    "total_kg": "seated load, kg",
    "fidgets_per_10min": "fidget rate over the last 10 minutes",
    "faults": "JSON list of channels at fault (or fault objects)",
    "sample_rate_hz": "frames per second actually read",
    "dropped_frames": "frames lost since the daemon started",
    "recent_s": "the span of the recent window (up to 10 minutes) that the next two count over, seconds",
    "frames_recent": "frames read in the recent window",
    "dropped_recent": "frames lost in the recent window",
    "break_due": "bool: the break LED is on",
    "muted_until_wall": "prompts are snoozed or muted until this time",
}


# ---- the schema --------------------------------------------------------------
# A migration, once released, never changes: an old file is upgraded by
# running the ones it has not seen, in order. Add new ones at the end.


def _v1_tables(db: Database) -> None:
    """The tables, and indexes on the wall times the `*_between` queries compare."""
    db["sessions"].create(
        {"id": int, "start_wall": str, "end_wall": str, "start_t": float, "end_t": float,
         "prompts": str, "last_heartbeat_wall": str},
        pk="id", not_null={"start_wall", "start_t", "prompts", "last_heartbeat_wall"},
    )
    db["events"].create(
        {"id": int, "type": str, "wall": str, "detected_wall": str, "data": str},
        pk="id", not_null={"type", "wall", "detected_wall", "data"},
    )
    db["minutes"].create(
        {"minute": str, "seated_s": float, "lat_mean": float, "sag_mean": float, "fidgets": int,
         "lean_left_s": float, "lean_right_s": float, "twists": int, "prompts": int},
        pk="minute",
        not_null={"seated_s", "fidgets", "lean_left_s", "lean_right_s", "twists", "prompts"},
    )
    db["snoozes"].create(
        {"id": int, "wall": str, "kind": str, "until_wall": str, "action": str},
        pk="id", not_null={"wall", "kind", "until_wall", "action"},
    )
    db["faults"].create(
        {"id": int, "channel": str, "start_wall": str, "end_wall": str, "reason": str},
        pk="id", not_null={"channel", "start_wall", "reason"},
    )
    db["settings"].create({"key": str, "value": str, "updated_wall": str}, pk="key",
                          not_null={"value", "updated_wall"})
    live: dict[str, Any] = {"id": int, "updated_wall": str}
    live.update({"seated": int, "sitting_s": float, "next_prompt_kind": str, "next_prompt_in_s": float,
                 "cop_x_mm": float, "cop_y_mm": float, "lat": float, "sag": float, "total_kg": float,
                 "fidgets_per_10min": float, "faults": str, "sample_rate_hz": float,
                 "dropped_frames": int, "break_due": int, "muted_until_wall": str})
    db["live"].create(live, pk="id", not_null={"updated_wall"})
    db["device_info"].create({"key": str, "value": str}, pk="key", not_null={"value"})
    db["meta"].create({"key": str, "value": int}, pk="key", not_null={"value"})
    # julianday() compares instants even when offsets differ (summer / winter time).
    for table, column in (("sessions", "start_wall"), ("events", "wall"),
                          ("snoozes", "wall"), ("faults", "start_wall")):
        db.execute(f"CREATE INDEX {table}_{column} ON {table} (julianday({column}))")


def _v2_event_sessions(db: Database) -> None:
    """events.session_id: the session an event belongs to (NULL outside sessions).

    Events already stored are matched to the session whose wall-time span holds
    them (an open session's span runs to its last heartbeat).
    """
    db["events"].add_column("session_id", int)
    db.execute(
        """
        UPDATE events SET session_id = (
            SELECT s.id FROM sessions AS s
            WHERE julianday(s.start_wall) <= julianday(events.wall)
              AND julianday(events.wall) <= julianday(COALESCE(s.end_wall, s.last_heartbeat_wall))
            ORDER BY julianday(s.start_wall) DESC LIMIT 1)
        """
    )
    db["events"].create_index(["session_id"], index_name="events_session_id")


def _v3_diary(db: Database) -> None:
    """diary: episodes of back pain the person logs on the dashboard.

    wall: when it happened (ISO-8601 local time with offset); logged_wall: when
    it was written down. region "lower", "middle" or "upper"; side "left",
    "centre" or "right"; severity 0-10; red_flags a JSON list of the keys of
    the warning signs ticked (dashboard.advice.RED_FLAGS).
    """
    db["diary"].create(
        {"id": int, "wall": str, "logged_wall": str, "region": str, "side": str, "severity": int,
         "note": str, "red_flags": str},
        pk="id", not_null={"wall", "logged_wall", "region", "side", "severity", "note", "red_flags"},
    )
    db.execute("CREATE INDEX diary_wall ON diary (julianday(wall))")


def _v4_live_recent_loss(db: Database) -> None:
    """live.recent_s, frames_recent, dropped_recent: frames read and lost over
    the last minutes, so that a lasting loss is judged on what happens now,
    not on a count since the daemon started."""
    db["live"].add_column("recent_s", float)
    db["live"].add_column("frames_recent", int)
    db["live"].add_column("dropped_recent", int)


MIGRATIONS: list[Callable[[Database], None]] = [_v1_tables, _v2_event_sessions, _v3_diary, _v4_live_recent_loss]
SCHEMA_VERSION = len(MIGRATIONS)

_EPS = 1e-6  # s: frame times equal up to float noise belong together
_MINUTE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d\Z")
_HINTS = {
    "SQLITE_READONLY": "the file or the disk is read-only",
    "SQLITE_FULL": "the disk is full",
    "SQLITE_IOERR": "disk I/O error (a failing SD card?)",
    "SQLITE_CORRUPT": "the file is damaged",
    "SQLITE_NOTADB": "the file is not a SQLite database",
    "SQLITE_CANTOPEN": "the file cannot be opened",
    "SQLITE_BUSY": "another process kept the database locked too long",
    "SQLITE_LOCKED": "another process kept the database locked too long",
}


class Store:
    """The history database at `path` (created with its folders if missing).

    busy_timeout_s: how long a write waits for another process's write to
    finish before giving up with StoreError. Close it with `close()` or use it
    as a context manager; use it from the thread that opened it (the daemon
    and each dashboard request open their own).
    """

    def __init__(self, path: str | Path, *, busy_timeout_s: float = 5.0, read_only: bool | None = None):
        """read_only: False opens read-write (creating the file, its folders
        and the schema if missing) or raises StoreError, also for a file the
        OS will not let this process write; True opens an
        existing file read-only; None (the default) read-write if possible,
        else read-only when the file exists but cannot be written."""
        self.path = Path(path)
        self.transactions = 0  # committed write transactions, creating or upgrading the schema included
        self._busy_timeout_s = busy_timeout_s
        self._mode = read_only
        # This run's sessions: start on the frame clock -> (row id, end or None,
        # prompts carried over from a continued session). Ordered by start.
        self._sessions: dict[float, tuple[int, float | None, tuple[str, ...]]] = {}
        self._identity: tuple[int, int] | None = None   # (device, inode) of the file opened read-write
        self.db, self.read_only = self._connect()

    @property
    def read_only(self) -> bool:
        """True when writes cannot succeed: opened read-only, or (sqlite opens
        a file it may not write read-only without a word) the file is not
        writable."""
        return self._read_only or not os.access(self.path, os.W_OK)

    @read_only.setter
    def read_only(self, value: bool) -> None:
        self._read_only = value

    def _connect(self) -> tuple[Database, bool]:
        """A new connection as `read_only` asks: (database, opened read-only)."""
        if self._mode is True:
            return self._open_read_only(), True
        try:
            db = self._open_read_write()
            if self._mode is False and not os.access(self.path, os.W_OK):
                db.close()
                raise StoreError(f"{self.path}: cannot open the history database for writing: "
                                 "the file or the disk is read-only")
            return db, False
        except StoreError as exc:
            if self._mode is False or not _cannot_write(exc) or not self.path.is_file():
                raise
            try:
                return self._open_read_only(), True
            except StoreError:
                raise exc from None

    def _open_read_write(self) -> Database:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"{self.path}: cannot create its folder: {exc.strerror or exc}") from None
        created = not self.path.exists()
        with self._errors("open the history database"):
            conn = sqlite3.connect(self.path, timeout=self._busy_timeout_s)
        try:
            with self._errors("open the history database"):
                db = Database(conn, execute_plugins=False)
                conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_s * 1000)}")
                found = _schema_version(conn)
                self._refuse_newer(found)
                db.enable_wal()
                conn.execute("PRAGMA synchronous = NORMAL")
                if found < SCHEMA_VERSION:
                    self._migrate(db)
        except BaseException:
            conn.close()
            if created:
                # A file this call made and could not give its tables (a full
                # disk): no 0-byte database is left to puzzle anyone.
                for suffix in ("", "-wal", "-shm", "-journal"):
                    with contextlib.suppress(OSError):
                        os.unlink(f"{self.path}{suffix}")
            raise
        self._identity = _identity(self.path)
        return db

    def _open_read_only(self) -> Database:
        if not self.path.is_file():
            raise StoreError(f"{self.path}: cannot open the history database: no such file")
        uri = self.path.absolute().as_uri()
        last: StoreError | None = None
        # immutable=1 as a last resort: a WAL file in a folder where its -shm
        # cannot be created (nobody can be writing it there either).
        for query in ("?mode=ro", "?mode=ro&immutable=1"):
            conn = None
            try:
                with self._errors("open the history database read-only"):
                    conn = sqlite3.connect(uri + query, uri=True, timeout=self._busy_timeout_s)
                    conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_s * 1000)}")
                    found = _schema_version(conn)
            except StoreError as exc:
                if conn is not None:
                    conn.close()
                last = exc
                continue
            try:
                self._refuse_newer(found)
                if found < SCHEMA_VERSION:
                    raise StoreError(f"{self.path}: the history database has schema version {found} and needs "
                                     f"an upgrade to version {SCHEMA_VERSION}, which a read-only file cannot have; "
                                     "run `cushion run` once where it can write the file")
            except BaseException:
                conn.close()
                raise
            return Database(conn, execute_plugins=False)
        assert last is not None
        raise last

    def _refuse_newer(self, found: int) -> None:
        if found > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: the history database has schema version {found}, newer than "
                f"version {SCHEMA_VERSION} that this software knows; update the software"
            )

    def replaced(self) -> bool:
        """Is the file at `path` no longer the one this Store has open (deleted,
        or another file moved there)? Writes would then go to a file nobody can
        see. One stat; the daemon asks before every write."""
        if self._identity is None:
            return False
        return _identity(self.path) != self._identity

    def start_afresh(self) -> None:
        """Open whatever file is at `path` now (a new one if none), forgetting
        this run's session rows of the old file: the next batch writes the
        open session anew. StoreError if it cannot be opened."""
        self.reconnect()
        self._sessions = {}

    def reconnect(self) -> None:
        """Open the file again (read-write if it can be written now), keeping
        what this Store knows of this run's sessions; on StoreError the old
        connection stays in use."""
        db, read_only = self._connect()
        old = self.db
        self.db, self.read_only = db, read_only
        try:
            old.close()
        except sqlite3.Error:
            pass

    def set_busy_timeout(self, seconds: float) -> None:
        """How long a statement waits for another process's lock before StoreError."""
        self._busy_timeout_s = seconds
        self.db.conn.execute(f"PRAGMA busy_timeout = {int(seconds * 1000)}")

    @classmethod
    def open(cls, path: str | Path, *, busy_timeout_s: float = 5.0, read_only: bool | None = None) -> Store:
        """The same as `Store(path, ...)`."""
        return cls(path, busy_timeout_s=busy_timeout_s, read_only=read_only)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        """The file's PRAGMA user_version: how many MIGRATIONS it has had."""
        return _schema_version(self.db.conn)

    # ---- the daemon's writes ---------------------------------------------

    def write_batch(
        self,
        now_t: float,
        now_wall: datetime,
        *,
        events: Iterable[Event] = (),
        sessions: Iterable[Session] = (),
        minutes: Iterable[Minute] = (),
        snoozes: Iterable[Snooze] = (),
        live: Mapping[str, Any] | None = None,
        durable: bool = False,
    ) -> None:
        """Write everything gathered since the last batch in one transaction.

        durable: fsync the commit (synchronous=FULL for this transaction), so
        a power cut cannot take it back; the daemon does this for its history
        batches every few seconds and leaves the once-a-second live row cheap.

        now_t (s, frame clock) and now_wall (datetime; naive is local) are the
        same moment on both clocks: a frame time t is labelled
        now_wall + (t - now_t).

        events: the pipeline's events; each is stored with its SPEC fields
        (`report.event_to_dict`) and attached to the session holding its time
        (t, or start for spans). Fault events also go to the faults table.
        sessions: the pipeline's Session records of this run, new or changed
        (the open one with end None, and each as it ends); a session is
        recognised by its start, so passing one again only updates it.
        Every batch also stamps last_heartbeat_wall on this run's open sessions,
        so a batch with nothing else in it is a heartbeat.
        minutes: per-minute summaries, added to a minute already stored.
        snoozes: button presses. live: the live row (see `set_live`).

        Either all of it is written or none: on StoreError (disk read-only,
        full...) nothing was written and the same items can be passed again.
        """
        now = _as_datetime(now_wall)
        now_label = _label(now)

        def wall_at(t: float) -> str:
            return _label(now + timedelta(seconds=t - now_t))

        sessions = list(sessions)
        event_rows = [(event, event_to_dict(event)) for event in events]
        minute_rows = [_minute_row(m) for m in minutes]
        snooze_rows = [_snooze_row(s) for s in snoozes]
        live_row = None if live is None else _live_row(live, now_label)
        open_ids = [sid for sid, end, _ in self._sessions.values() if end is None]
        if not (sessions or event_rows or minute_rows or snooze_rows or live_row or open_ids):
            return

        before = dict(self._sessions)
        try:
            with self._transaction("write to the history database", durable=durable):
                written = {self._write_session(s, wall_at, now_label) for s in sessions}
                for sid, end, _ in self._sessions.values():
                    if end is None and sid not in written:
                        self.db["sessions"].update(sid, {"last_heartbeat_wall": now_label})
                rows = []
                faults = []
                for event, data in event_rows:
                    t = getattr(event, "t", None)
                    t = event.start if t is None else t
                    rows.append({"type": event.type, "wall": wall_at(t),
                                 "detected_wall": wall_at(event.detected_at),
                                 "session_id": self._session_at(t), "data": json.dumps(data)})
                    if isinstance(event, Fault):
                        faults.append({"channel": event.channel, "start_wall": wall_at(event.start),
                                       "end_wall": None if event.end is None else wall_at(event.end),
                                       "reason": event.reason})
                if rows:
                    self.db["events"].insert_all(rows)
                if faults:
                    self.db["faults"].insert_all(faults)
                for row in minute_rows:
                    self.db.execute(_ADD_MINUTE, row)
                if snooze_rows:
                    self.db["snoozes"].insert_all(snooze_rows)
                if live_row is not None:
                    self.db["live"].insert(live_row, replace=True)
        except BaseException:
            self._sessions = before
            raise

    def set_live(self, values: Mapping[str, Any], wall: datetime | None = None) -> None:
        """Replace the live row with `values` (keys from LIVE_COLUMNS; missing ones become NULL).

        Its own transaction; the daemon can instead pass live= to write_batch.
        wall: when these values were true (default: now).
        """
        row = _live_row(values, _label(_as_datetime(wall)))
        with self._transaction("write the live state"):
            self.db["live"].insert(row, replace=True)

    def end_run(self) -> None:
        """This run (one daemon's sessions) is over: what it left open counts
        from now on as left open by an earlier run, as after a shutdown, for
        the next run to carry on or close at its last heartbeat. Without
        this, a store kept across runs (a simulated week) would stamp every
        later batch's heartbeat on an earlier day's open session."""
        self._sessions = {}

    def left_open(self) -> list[dict]:
        """Sessions an earlier run left open (a crash or power cut), oldest first."""
        mine = [sid for sid, _, _ in self._sessions.values()]
        where = "end_wall IS NULL"
        if mine:
            where += f" AND id NOT IN ({', '.join('?' * len(mine))})"
        return self._select("sessions", where, mine, "julianday(start_wall), id")

    def close_left_open(self) -> list[dict]:
        """Close the sessions an earlier run left open at their last heartbeat; returns them closed.

        end_t is estimated on that run's frame clock from the wall times.
        """
        closed = []
        rows = self.left_open()
        if not rows:
            return closed
        with self._transaction("close sessions left open"):
            for row in rows:
                end = _as_datetime(row["last_heartbeat_wall"])
                end_t = row["start_t"] + (end - _as_datetime(row["start_wall"])).total_seconds()
                self.db["sessions"].update(row["id"], {"end_wall": row["last_heartbeat_wall"], "end_t": end_t})
                closed.append(dict(row, end_wall=row["last_heartbeat_wall"], end_t=end_t))
        return closed

    def continue_session(self, session_id: int, start_t: float) -> None:
        """Carry a session an earlier run left open on into this run.

        The Session record of this run that starts at start_t (frame clock)
        will then be written into that row: its wall start and earlier
        prompts stay, its end and later prompts come from this run. Nothing
        is written until the next batch.
        """
        rows = [row for row in self.left_open() if row["id"] == session_id]
        if not rows:
            raise ValueError(f"session {session_id} is not a session left open by an earlier run")
        self._sessions[start_t] = (session_id, None, tuple(rows[0]["prompts"]))
        self._sessions = dict(sorted(self._sessions.items()))

    # ---- settings and device information ---------------------------------

    def set_settings(self, values: Mapping[str, Any], wall: datetime | None = None) -> None:
        """Set settings (JSON values) in one transaction; a value of None removes the key.

        Keys are free-form ("breaks.break_after_min"); the daemon validates
        them. Every call moves `settings_version` on.
        """
        label = _label(_as_datetime(wall))
        with self._transaction("write settings"):
            for key, value in values.items():
                if value is None:
                    self.db.execute("DELETE FROM settings WHERE key = ?", [key])
                else:
                    self.db["settings"].insert(
                        {"key": key, "value": json.dumps(value), "updated_wall": label}, replace=True)
            self.db.execute(
                "INSERT INTO meta (key, value) VALUES ('settings_version', 1) "
                "ON CONFLICT (key) DO UPDATE SET value = value + 1"
            )

    def settings(self, on_invalid: Callable[[str, str], object] | None = None) -> dict[str, Any]:
        """All settings: key -> value.

        A row whose value is not JSON (written by something else) is left
        out; on_invalid(key, problem) is called for each such row.
        """
        values: dict[str, Any] = {}
        for row in self._select("settings", None, [], "key"):
            try:
                values[row["key"]] = json.loads(row["value"])
            except (TypeError, ValueError) as exc:
                if on_invalid is not None:
                    on_invalid(str(row["key"]), f"the stored value {_short(row['value'])} is not JSON ({exc})")
        return values

    def settings_version(self) -> int:
        """A counter moved on by every settings write (0 before the first): cheap to poll."""
        rows = self._select("meta", "key = 'settings_version'", [], None)
        return rows[0]["value"] if rows else 0

    def set_device_info(self, values: Mapping[str, Any]) -> None:
        """Record facts about the device (JSON values), e.g. {"calibrated_on": "2024-05-01"}."""
        with self._transaction("write device information"):
            self.db["device_info"].insert_all(
                [{"key": key, "value": json.dumps(value)} for key, value in values.items()], replace=True)

    def device_info(self) -> dict[str, Any]:
        return {row["key"]: json.loads(row["value"]) for row in self._select("device_info", None, [], "key")}

    # ---- reading the history ---------------------------------------------
    # a, b: datetimes (naive = local) or ISO-8601 strings; the range is [a, b).
    # Rows come back as dicts, JSON columns decoded.

    def sessions_between(self, a: datetime | str, b: datetime | str) -> list[dict]:
        """Sessions that overlap [a, b) (an open one runs to its last heartbeat), by start."""
        return self._select(
            "sessions",
            "julianday(start_wall) < julianday(?) "
            "AND julianday(COALESCE(end_wall, last_heartbeat_wall)) >= julianday(?)",
            [_label(_as_datetime(b)), _label(_as_datetime(a))], "julianday(start_wall), id")

    def events_between(self, a: datetime | str, b: datetime | str, types: Sequence[str] | None = None) -> list[dict]:
        """Events whose time (t, or start) is in [a, b), optionally only these types, in time order."""
        where = "julianday(wall) >= julianday(?) AND julianday(wall) < julianday(?)"
        args: list[Any] = [_label(_as_datetime(a)), _label(_as_datetime(b))]
        if types is not None:
            where += f" AND type IN ({', '.join('?' * len(types))})"
            args.extend(types)
        return self._select("events", where, args, "julianday(wall), id")

    def iter_sessions_between(self, a: datetime | str, b: datetime | str, page_size: int = 1000) -> Iterator[dict]:
        """The rows of `sessions_between`, one at a time, read `page_size` at a time.

        For exports of any length: memory holds one page, and no read stays
        open between pages, so a slow download never holds up the daemon's
        WAL checkpoints.
        """
        return self._pages(
            "sessions",
            "julianday(start_wall) < julianday(?) "
            "AND julianday(COALESCE(end_wall, last_heartbeat_wall)) >= julianday(?)",
            [_label(_as_datetime(b)), _label(_as_datetime(a))], "start_wall", page_size)

    def iter_events_between(self, a: datetime | str, b: datetime | str, types: Sequence[str] | None = None,
                            page_size: int = 1000) -> Iterator[dict]:
        """The rows of `events_between`, one at a time, read `page_size` at a time (see iter_sessions_between)."""
        where = "julianday(wall) >= julianday(?) AND julianday(wall) < julianday(?)"
        args: list[Any] = [_label(_as_datetime(a)), _label(_as_datetime(b))]
        if types is not None:
            where += f" AND type IN ({', '.join('?' * len(types))})"
            args.extend(types)
        return self._pages("events", where, args, "wall", page_size)

    def _pages(self, table: str, where: str, args: Sequence[Any], time_column: str,
               page_size: int) -> Iterator[dict]:
        """Rows of `table` in order of julianday(time_column), id, one query per page: each page
        starts after the last row of the one before (keyset), so none is skipped or repeated."""
        if page_size < 1:
            raise ValueError(f"page_size must be at least 1, got {page_size!r}")
        order = f"julianday({time_column}), id"
        after = (f" AND (julianday({time_column}) > julianday(?) "
                 f"OR (julianday({time_column}) = julianday(?) AND id > ?))")
        last: tuple[str, int] | None = None
        while True:
            page_where, page_args = where, list(args)
            if last is not None:
                page_where += after
                page_args += [last[0], last[0], last[1]]
            with self._errors("read the history database"):
                rows = list(self.db[table].rows_where(page_where, page_args, order_by=order, limit=page_size))
            if rows:
                last = (rows[-1][time_column], rows[-1]["id"])
            for row in rows:
                for key in _JSON_COLUMNS.get(table, ()):
                    if row.get(key) is not None:
                        row[key] = json.loads(row[key])
                yield row
            if len(rows) < page_size:
                return

    def minutes_between(self, a: datetime | str, b: datetime | str) -> list[dict]:
        """Minute summaries from a's minute up to (not including) b's, in order."""
        return self._select("minutes", "minute >= ? AND minute < ?", [minute_key(a), minute_key(b)], "minute")

    def snoozes_between(self, a: datetime | str, b: datetime | str) -> list[dict]:
        """Button presses in [a, b), in order."""
        return self._select("snoozes", "julianday(wall) >= julianday(?) AND julianday(wall) < julianday(?)",
                            [_label(_as_datetime(a)), _label(_as_datetime(b))], "julianday(wall), id")

    def faults_between(self, a: datetime | str, b: datetime | str) -> list[dict]:
        """Channel faults that overlap [a, b) (end_wall NULL: still running when last seen)."""
        return self._select(
            "faults",
            "julianday(start_wall) < julianday(?) AND (end_wall IS NULL OR julianday(end_wall) >= julianday(?))",
            [_label(_as_datetime(b)), _label(_as_datetime(a))], "julianday(start_wall), id")

    def live(self) -> dict | None:
        """The live row (seated and break_due as bools), or None before the daemon wrote one."""
        rows = self._select("live", "id = 1", [], None)
        if not rows:
            return None
        row = rows[0]
        del row["id"]
        for key in ("seated", "break_due"):
            if row[key] is not None:
                row[key] = bool(row[key])
        return row

    # ---- the pain diary --------------------------------------------------

    def add_diary_entry(
        self,
        wall: datetime | str,
        *,
        region: str,
        side: str,
        severity: int,
        note: str = "",
        red_flags: Iterable[str] = (),
        logged_wall: datetime | None = None,
    ) -> int:
        """Log an episode of back pain; returns its id.

        wall: when it happened (naive = local). region: one of DIARY_REGIONS;
        side: one of DIARY_SIDES; severity: 0 (none) to 10 (worst); red_flags:
        keys of the warning signs ticked. logged_wall: when it was written down
        (default now). Bad values raise ValueError.
        """
        if region not in DIARY_REGIONS:
            raise ValueError(f"region must be one of {DIARY_REGIONS}, got {region!r}")
        if side not in DIARY_SIDES:
            raise ValueError(f"side must be one of {DIARY_SIDES}, got {side!r}")
        if isinstance(severity, bool) or not isinstance(severity, int) or not 0 <= severity <= 10:
            raise ValueError(f"severity must be a whole number from 0 to 10, got {severity!r}")
        flags = list(red_flags)
        if not all(isinstance(flag, str) and flag for flag in flags):
            raise ValueError(f"red_flags must be keys (non-empty strings), got {flags!r}")
        row = {"wall": _label(_as_datetime(wall)), "logged_wall": _label(_as_datetime(logged_wall)),
               "region": region, "side": side, "severity": severity, "note": str(note),
               "red_flags": json.dumps(flags)}
        with self._transaction("write to the diary"):
            return self.db["diary"].insert(row).last_pk

    def diary_between(self, a: datetime | str, b: datetime | str) -> list[dict]:
        """Diary entries whose time is in [a, b), oldest first (red_flags decoded)."""
        return self._select("diary", "julianday(wall) >= julianday(?) AND julianday(wall) < julianday(?)",
                            [_label(_as_datetime(a)), _label(_as_datetime(b))], "julianday(wall), id")

    def diary_latest(self, limit: int = 50) -> list[dict]:
        """The `limit` most recent diary entries, newest first."""
        with self._errors("read the history database"):
            rows = list(self.db["diary"].rows_where(order_by="julianday(wall) DESC, id DESC", limit=int(limit)))
        for row in rows:
            row["red_flags"] = json.loads(row["red_flags"])
        return rows

    def diary_entry(self, entry_id: int) -> dict | None:
        """One diary entry by id, or None."""
        rows = self._select("diary", "id = ?", [entry_id], None)
        return rows[0] if rows else None

    def delete_diary_entry(self, entry_id: int) -> bool:
        """Delete a diary entry; False if there was none with this id."""
        with self._transaction("delete from the diary"):
            cursor = self.db.execute("DELETE FROM diary WHERE id = ?", [entry_id])
            return cursor.rowcount > 0

    # ---- inside --------------------------------------------------------

    def _write_session(self, session: Session, wall_at: Callable[[float], str], now_label: str) -> int:
        end_wall = None if session.end is None else wall_at(session.end)
        known = self._sessions.get(session.start)
        if known is None:
            sid = self.db["sessions"].insert({
                "start_wall": wall_at(session.start), "start_t": session.start,
                "end_wall": end_wall, "end_t": session.end, "prompts": json.dumps(list(session.prompts)),
                "last_heartbeat_wall": now_label,
            }).last_pk
            carried: tuple[str, ...] = ()
        else:
            sid, _, carried = known
            self.db["sessions"].update(sid, {
                "end_wall": end_wall, "end_t": session.end,
                "prompts": json.dumps(list(carried + tuple(session.prompts))),
                "last_heartbeat_wall": now_label,
            })
        self._sessions[session.start] = (sid, session.end, carried)
        if len(self._sessions) > 1 and next(reversed(self._sessions)) != session.start:
            self._sessions = dict(sorted(self._sessions.items()))
        return sid

    def _session_at(self, t: float) -> int | None:
        """This run's session whose span holds frame time t."""
        for start, (sid, end, _) in reversed(self._sessions.items()):
            if start <= t + _EPS:
                return sid if end is None or t <= end + _EPS else None
        return None

    def _migrate(self, db: Database) -> None:
        with self._transaction("create or upgrade the history database's tables", db=db):
            # Re-read inside the write lock: another process may have upgraded it meanwhile.
            for migration in MIGRATIONS[_schema_version(db.conn):]:
                migration(db)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _select(self, table: str, where: str | None, args: Sequence[Any], order_by: str | None) -> list[dict]:
        with self._errors("read the history database"):
            rows = list(self.db[table].rows_where(where, args, order_by=order_by))
        for row in rows:
            for key in _JSON_COLUMNS.get(table, ()):
                if row.get(key) is not None:
                    row[key] = json.loads(row[key])
        return rows

    @contextmanager
    def _transaction(self, action: str, durable: bool = False, db: Database | None = None) -> Iterator[None]:
        """One write transaction; the write lock is taken up front (BEGIN IMMEDIATE).

        durable: synchronous=FULL for this commit (the WAL is fsynced), NORMAL otherwise.
        """
        conn = (db or self.db).conn
        with self._errors(action):
            conn.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    try:
                        conn.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass  # the original error says more
                raise
        self.transactions += 1

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        """Turn SQLite's disk and file errors into StoreError naming the file and the cause.

        Constraint errors and API misuse are bugs and pass through unchanged.
        """
        try:
            yield
        except (sqlite3.IntegrityError, sqlite3.ProgrammingError, sqlite3.InterfaceError):
            raise
        except sqlite3.DatabaseError as exc:
            name = getattr(exc, "sqlite_errorname", "") or ""
            hint = _HINTS.get("_".join(name.split("_")[:2]))
            cause = f"{hint} ({exc})" if hint else str(exc)
            raise StoreError(f"{self.path}: cannot {action}: {cause}") from exc


_JSON_COLUMNS = {"sessions": ("prompts",), "events": ("data",), "live": ("faults",),
                 "diary": ("red_flags",)}

# Adds a minute to the one already stored; the means are weighted by seated time.
# A minute holds at most 60 s: when the wall clock steps back (NTP correcting
# a Pi without a real-time clock), the same wall minute comes round twice.
_ADD_MINUTE = """
INSERT INTO minutes (minute, seated_s, lat_mean, sag_mean, fidgets, lean_left_s, lean_right_s, twists, prompts)
VALUES (:minute, :seated_s, :lat_mean, :sag_mean, :fidgets, :lean_left_s, :lean_right_s, :twists, :prompts)
ON CONFLICT (minute) DO UPDATE SET
    seated_s = MIN(60.0, seated_s + excluded.seated_s),
    lat_mean = CASE WHEN excluded.lat_mean IS NULL THEN lat_mean WHEN lat_mean IS NULL THEN excluded.lat_mean
        ELSE COALESCE((lat_mean * seated_s + excluded.lat_mean * excluded.seated_s)
                      / NULLIF(seated_s + excluded.seated_s, 0), excluded.lat_mean) END,
    sag_mean = CASE WHEN excluded.sag_mean IS NULL THEN sag_mean WHEN sag_mean IS NULL THEN excluded.sag_mean
        ELSE COALESCE((sag_mean * seated_s + excluded.sag_mean * excluded.seated_s)
                      / NULLIF(seated_s + excluded.seated_s, 0), excluded.sag_mean) END,
    fidgets = fidgets + excluded.fidgets,
    lean_left_s = MIN(60.0, lean_left_s + excluded.lean_left_s),
    lean_right_s = MIN(60.0, lean_right_s + excluded.lean_right_s),
    twists = twists + excluded.twists,
    prompts = prompts + excluded.prompts
"""


def _identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of the file at `path`, None if there is none."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino


def _schema_version(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


def _cannot_write(exc: StoreError) -> bool:
    """The error says the file, its folder or the disk cannot be written (so reading may work)."""
    name = getattr(exc.__cause__, "sqlite_errorname", "") or ""
    return name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_FULL",
                            "SQLITE_IOERR", "SQLITE_BUSY"))


def _short(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _as_datetime(value: datetime | str | None) -> datetime:
    """An aware datetime: naive ones are local time, strings are ISO-8601, None is now."""
    if value is None:
        return datetime.now().astimezone()
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"not an ISO-8601 time: {value!r}") from None
    if value.tzinfo is None:
        value = value.astimezone()
    return value


def _label(value: datetime) -> str:
    return value.isoformat(timespec="milliseconds")


def _minute_row(minute: Minute) -> dict[str, Any]:
    if not _MINUTE.match(minute.minute):
        raise ValueError(f"minute must be local \"YYYY-MM-DDTHH:MM\", got {minute.minute!r}")
    return {name: getattr(minute, name) for name in Minute.__slots__}


def _snooze_row(snooze: Snooze) -> dict[str, Any]:
    if snooze.action not in SNOOZE_ACTIONS:
        raise ValueError(f"snooze action must be one of {SNOOZE_ACTIONS}, got {snooze.action!r}")
    return {"wall": _label(_as_datetime(snooze.wall)), "kind": snooze.kind,
            "until_wall": _label(_as_datetime(snooze.until_wall)), "action": snooze.action}


def _live_row(values: Mapping[str, Any], updated_wall: str) -> dict[str, Any]:
    unknown = set(values) - set(LIVE_COLUMNS)
    if unknown:
        raise ValueError(f"unknown live keys: {', '.join(sorted(unknown))}")
    row: dict[str, Any] = {"id": 1, "updated_wall": updated_wall}
    for key in LIVE_COLUMNS:
        value = values.get(key)
        if key == "faults" and value is not None:
            value = json.dumps(list(value))
        elif key == "muted_until_wall" and value is not None:
            value = _label(_as_datetime(value))
        elif isinstance(value, bool):
            value = int(value)
        row[key] = value
    return row
