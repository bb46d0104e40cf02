"""The daemon's history: what it writes in batches, and the reads the pages make of it.

Two clocks meet here. `_t` columns are the daemon's frame clock (monotonic
seconds): they order things within one run and mean nothing across runs.
`_wall` columns are ISO-8601 local times with their UTC offset: labels for
people and for the dashboard's day and week views. `write_batch` turns frame
times into wall labels from one (frame time, wall time) pair taken at the
moment of writing.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from device.core.events import Event, Fault, Session, time_of
from device.core.minutes import Minute, minute_key
from device.core.report import event_to_dict
from device.storage.database import Connection, _as_datetime, _label
from device.storage.schema import LIVE_COLUMNS, SNOOZE_ACTIONS, Snooze

_EPS = 1e-6  # s: frame times equal up to float noise belong together
_MINUTE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d\Z")


class History(Connection):
    """Writes (the daemon's batches, the live row, sessions left open) and reads of the history."""

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
        event_uids: Sequence[str] | None = None,
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
        event_uids: the events' stable ids, one each (a hub storing what a
        cushion sent); None gives each a new random one.
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
                        self.db.table("sessions").update(sid, {"last_heartbeat_wall": now_label})
                uids = iter(event_uids) if event_uids is not None else (secrets.token_hex(8) for _ in event_rows)
                rows = []
                faults = []
                for event, data in event_rows:
                    t = time_of(event)
                    rows.append(
                        {
                            "uid": next(uids),
                            "type": event.type,
                            "wall": wall_at(t),
                            "detected_wall": wall_at(event.detected_at),
                            "session_id": self._session_at(t),
                            "data": json.dumps(data),
                        }
                    )
                    if isinstance(event, Fault):
                        faults.append(
                            {
                                "channel": event.channel,
                                "start_wall": wall_at(event.start),
                                "end_wall": None if event.end is None else wall_at(event.end),
                                "reason": event.reason,
                            }
                        )
                if rows:
                    self.db.table("events").insert_all(rows)
                if faults:
                    self.db.table("faults").insert_all(faults)
                for row in minute_rows:
                    self.db.execute(_ADD_MINUTE, row)
                if snooze_rows:
                    self.db.table("snoozes").insert_all(snooze_rows)
                if live_row is not None:
                    self.db.table("live").insert(live_row, replace=True)
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
            self.db.table("live").insert(row, replace=True)

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
        closed: list[dict[str, Any]] = []
        rows = self.left_open()
        if not rows:
            return closed
        with self._transaction("close sessions left open"):
            for row in rows:
                end = _as_datetime(row["last_heartbeat_wall"])
                end_t = row["start_t"] + (end - _as_datetime(row["start_wall"])).total_seconds()
                self.db.table("sessions").update(row["id"], {"end_wall": row["last_heartbeat_wall"], "end_t": end_t})
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

    # ---- reading the history ---------------------------------------------
    # a, b: datetimes (naive = local) or ISO-8601 strings; the range is [a, b).
    # Rows come back as dicts, JSON columns decoded.

    def sessions_between(self, a: datetime | str, b: datetime | str) -> list[dict]:
        """Sessions that overlap [a, b) (an open one runs to its last heartbeat), by start."""
        return self._select(
            "sessions",
            "julianday(start_wall) < julianday(?) "
            "AND julianday(COALESCE(end_wall, last_heartbeat_wall)) >= julianday(?)",
            [_label(_as_datetime(b)), _label(_as_datetime(a))],
            "julianday(start_wall), id",
        )

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
            [_label(_as_datetime(b)), _label(_as_datetime(a))],
            "start_wall",
            page_size,
        )

    def iter_events_between(
        self, a: datetime | str, b: datetime | str, types: Sequence[str] | None = None, page_size: int = 1000
    ) -> Iterator[dict]:
        """The rows of `events_between`, one at a time, read `page_size` at a time (see iter_sessions_between)."""
        where = "julianday(wall) >= julianday(?) AND julianday(wall) < julianday(?)"
        args: list[Any] = [_label(_as_datetime(a)), _label(_as_datetime(b))]
        if types is not None:
            where += f" AND type IN ({', '.join('?' * len(types))})"
            args.extend(types)
        return self._pages("events", where, args, "wall", page_size)

    def events_after(self, row_id: int, limit: int = 500) -> list[dict[str, Any]]:
        """Events stored after row `row_id`, in the order they were stored (the MQTT outbox)."""
        return self._select("events", "id > ?", [row_id], "id", limit=limit)

    def last_event_id(self) -> int:
        """The row id of the newest event (0 if none)."""
        with self._errors("read the history database"):
            row = self.db.execute("SELECT COALESCE(MAX(id), 0) FROM events").fetchone()
        return int(row[0])

    def known_uids(self, uids: Sequence[str]) -> set[str]:
        """Which of these event ids are stored already."""
        if not uids:
            return set()
        found: set[str] = set()
        for start in range(0, len(uids), 500):
            chunk = list(uids[start : start + 500])
            with self._errors("read the history database"):
                cursor = self.db.execute(f"SELECT uid FROM events WHERE uid IN ({', '.join('?' * len(chunk))})", chunk)
            found.update(row[0] for row in cursor)
        return found

    def minutes_between(self, a: datetime | str, b: datetime | str) -> list[dict]:
        """Minute summaries from a's minute up to (not including) b's, in order."""
        return self._select("minutes", "minute >= ? AND minute < ?", [minute_key(a), minute_key(b)], "minute")

    def snoozes_between(self, a: datetime | str, b: datetime | str) -> list[dict]:
        """Button presses in [a, b), in order."""
        return self._select(
            "snoozes",
            "julianday(wall) >= julianday(?) AND julianday(wall) < julianday(?)",
            [_label(_as_datetime(a)), _label(_as_datetime(b))],
            "julianday(wall), id",
        )

    def faults_between(self, a: datetime | str, b: datetime | str) -> list[dict]:
        """Channel faults that overlap [a, b) (end_wall NULL: still running when last seen)."""
        return self._select(
            "faults",
            "julianday(start_wall) < julianday(?) AND (end_wall IS NULL OR julianday(end_wall) >= julianday(?))",
            [_label(_as_datetime(b)), _label(_as_datetime(a))],
            "julianday(start_wall), id",
        )

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

    def _write_session(self, session: Session, wall_at: Callable[[float], str], now_label: str) -> int:
        end_wall = None if session.end is None else wall_at(session.end)
        known = self._sessions.get(session.start)
        if known is None:
            sid = (
                self.db.table("sessions")
                .insert(
                    {
                        "start_wall": wall_at(session.start),
                        "start_t": session.start,
                        "end_wall": end_wall,
                        "end_t": session.end,
                        "prompts": json.dumps(list(session.prompts)),
                        "last_heartbeat_wall": now_label,
                    }
                )
                .last_pk
            )
            assert isinstance(sid, int)
            carried: tuple[str, ...] = ()
        else:
            sid, _, carried = known
            self.db.table("sessions").update(
                sid,
                {
                    "end_wall": end_wall,
                    "end_t": session.end,
                    "prompts": json.dumps(list(carried + tuple(session.prompts))),
                    "last_heartbeat_wall": now_label,
                },
            )
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


def _minute_row(minute: Minute) -> dict[str, Any]:
    if not _MINUTE.match(minute.minute):
        raise ValueError(f'minute must be local "YYYY-MM-DDTHH:MM", got {minute.minute!r}')
    return {name: getattr(minute, name) for name in Minute.__slots__}


def _snooze_row(snooze: Snooze) -> dict[str, Any]:
    if snooze.action not in SNOOZE_ACTIONS:
        raise ValueError(f"snooze action must be one of {SNOOZE_ACTIONS}, got {snooze.action!r}")
    return {
        "wall": _label(_as_datetime(snooze.wall)),
        "kind": snooze.kind,
        "until_wall": _label(_as_datetime(snooze.until_wall)),
        "action": snooze.action,
    }


def _live_row(values: Mapping[str, Any], updated_wall: str) -> dict[str, Any]:
    unknown = set(values) - set(LIVE_COLUMNS)
    if unknown:
        raise ValueError(f"unknown live keys: {', '.join(sorted(unknown))}")
    row: dict[str, Any] = {"id": 1, "updated_wall": updated_wall}
    for key in LIVE_COLUMNS:
        value = values.get(key)
        if key == "faults" and value is not None:
            value = json.dumps(list(value))
        elif key in ("muted_until_wall", "silenced_until_wall") and value is not None:
            value = _label(_as_datetime(value))
        elif isinstance(value, bool):
            value = int(value)
        row[key] = value
    return row
