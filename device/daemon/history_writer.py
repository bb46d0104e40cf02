"""The daemon's history on the disk: written in batches, kept in memory while it cannot be.

Writes: the live row once a second, the history (events, sessions, minute
rows, snoozes) once every few seconds in one transaction. SQLite runs in WAL
mode with synchronous=NORMAL, so a live-row commit costs no fsync; a history
batch is fsynced (synchronous=FULL for that transaction), so a power cut
loses at most the last batch and a kill -9 nothing committed.

The database never stops the loop (disk read-only or full, the file locked
by another process, damaged, missing, not even openable at start-up):

- a statement waits at most BUSY_TIMEOUT_S (50 ms) for another process's
  lock, then fails like any other write; a frame read meanwhile is late,
  never lost for long;
- a failed write keeps everything in memory and is retried every `retry_s`
  (5 s), reopening the database first (read-write if it can be written
  again); meanwhile the live row is not written and sampling, detection,
  buzzer and LED go on;
- the problem is logged at once and then once a minute, with what is kept;
  the first batch that goes in again is logged too;
- what is kept is bounded: MAX_PENDING_EVENTS events (weeks of sitting),
  MAX_PENDING_MINUTES minute rows (a week; rows of one minute are merged),
  MAX_PENDING_SESSIONS sessions and MAX_PENDING_SNOOZES button presses; past
  that the oldest go, and that is logged;
- the file deleted or replaced while the daemon runs is noticed before the
  next write, logged, and the history goes on in the file at the path;
- at shutdown the last batch may wait FINAL_BUSY_TIMEOUT_S for a lock.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from device.core.events import Event, Session
from device.core.minutes import Minute, merge_minutes
from device.storage.store import Snooze, Store, StoreError

log = logging.getLogger("cushion")

BUSY_TIMEOUT_S = 0.05  # the loop waits this long at most for another process's lock
FINAL_BUSY_TIMEOUT_S = 3.0  # the last batch at shutdown may wait longer (systemd allows 15 s)
RETRY_S = 5.0  # after a failed write, retry (reopening the database) this often
ERROR_LOG_S = 60.0  # a lasting disk problem is logged this often
# Kept in memory across failed writes; beyond this the oldest go (logged).
MAX_PENDING_EVENTS = 50_000
MAX_PENDING_MINUTES = 7 * 24 * 60
MAX_PENDING_SESSIONS = 1_000
MAX_PENDING_SNOOZES = 1_000


@dataclass(slots=True)
class WriteCounters:
    batches: int = 0
    live_writes: int = 0
    failed_writes: int = 0


class HistoryWriter:
    """What the daemon keeps, on its way to the history database.

    store: the database, or None to open it with `open_store` (a callable
    returning a Store), which is also how it is opened again after a failure.
    device_info: facts for the database's device_info, written once it can be
    (and again into a new file). on_reopened(store): called once the database
    is open again after a failure; False means it is not usable yet (the
    daemon could not read what it needs from it). on_new_file(): the file
    was replaced by a new one (its settings are gone, say). counters: where
    to count batches, live writes and failed writes (the daemon's own).
    """

    def __init__(
        self,
        store: Store | None,
        *,
        open_store: Callable[[], Store] | None = None,
        device_info: Mapping[str, Any] | None = None,
        retry_s: float = RETRY_S,
        on_reopened: Callable[[Store], bool] | None = None,
        on_new_file: Callable[[], object] | None = None,
        counters: WriteCounters | None = None,
    ):
        self.store = store
        self.retry_s = retry_s
        self.counters = counters if counters is not None else WriteCounters()
        self._open_store = open_store
        self._on_reopened = on_reopened
        self._on_new_file = on_new_file
        self._device_info_given = dict(device_info) if device_info else None
        self._device_info = self._device_info_given
        self.trouble: StoreError | None = None  # the last write error, until a batch goes in again
        self._trouble_since: datetime | None = None
        self._next_retry = 0.0
        self._disk_error_logged_at = -1e9
        self._events: list[Event] = []
        self._sessions: dict[float, Session] = {}
        self._snoozes: list[Snooze] = []
        self._minutes: dict[str, Minute] = {}
        if self.store is None and open_store is not None:
            try:
                self.store = open_store()
            except StoreError as exc:
                self.write_failed(exc)

    # ---- what is kept ---------------------------------------------------------

    def add_event(self, event: Event) -> None:
        self._events.append(event)

    def add_session(self, session: Session) -> None:
        """A session of this run, new or changed (recognised by its start)."""
        self._sessions[session.start] = session

    def add_snooze(self, snooze: Snooze) -> None:
        self._snoozes.append(snooze)

    def add_minutes(self, rows: Iterable[Minute]) -> None:
        for row in merge_minutes(list(self._minutes.values()) + list(rows)):
            self._minutes[row.minute] = row

    def has_events(self) -> bool:
        return bool(self._events)

    def has_history(self) -> bool:
        return bool(self._events or self._sessions or self._snoozes or self._minutes)

    def pending_summary(self) -> str:
        return (
            f"{len(self._events)} events, {len(self._sessions)} sessions, "
            f"{len(self._minutes)} minute rows and {len(self._snoozes)} button presses"
        )

    # ---- writing --------------------------------------------------------------

    def write_live(self, values: Callable[[], dict], wall: datetime) -> None:
        """Replace the live row (values() makes it, only if it will be written)."""
        if self.trouble is not None or self.store is None:
            return  # the batch's retries find out when the database is back
        if self.replaced():
            return
        try:
            self._write_device_info()
            self.store.set_live(values(), wall=wall)
            self.counters.live_writes += 1
        except StoreError as exc:
            self.write_failed(exc)

    def flush(self, now_t: float, now_wall: datetime, live: Callable[[], dict], final: bool = False) -> None:
        """Write what is kept in one durable transaction.

        After a failed write it is retried here, every retry_s (at once when
        final), together with the live row (live() makes it).
        """
        history = self.has_history()
        if not history and self.trouble is None:
            return
        if self.trouble is None:
            self.replaced()
        store = self._usable_store(final)
        if store is None:
            self._bound()
            return
        try:
            if final:
                store.set_busy_timeout(FINAL_BUSY_TIMEOUT_S)
            self._write_device_info()
            store.write_batch(
                now_t,
                now_wall,
                events=self._events,
                sessions=list(self._sessions.values()),
                minutes=list(self._minutes.values()),
                snoozes=self._snoozes,
                live=live() if self.trouble is not None else None,
                durable=True,
            )
        except StoreError as exc:
            self.write_failed(exc)
            self.counters.failed_writes += 1
            self._bound()
            return
        if history:
            self.counters.batches += 1
        self._events, self._snoozes, self._sessions, self._minutes = [], [], {}, {}
        if self.trouble is not None:
            since = self._trouble_since.strftime("%Y-%m-%d %H:%M:%S") if self._trouble_since else "?"
            log.info("history saved again: %s can be written again (writes had failed since %s)", store.path, since)
            self.trouble = self._trouble_since = None

    def replaced(self) -> bool:
        """The history file was deleted (or another moved to its path) while we
        ran: say so, and carry on in the file now at the path (a new one if
        none), so nothing more goes into a file nobody can see. True if it was."""
        store = self.store
        if store is None or not store.replaced():
            return False
        log.error(
            "the history database %s was deleted or replaced while the daemon ran: what it held is gone; "
            "carrying on in a new file at that path",
            store.path,
        )
        try:
            store.start_afresh()
        except StoreError as exc:
            self.write_failed(exc)
            return True
        self._device_info = self._device_info_given
        if self._on_new_file is not None:
            self._on_new_file()
        return True

    def lost(self) -> str | None:
        """After the last flush: what could not be saved and why, or None."""
        if not self.has_history():
            return None
        reason = str(self.trouble) if self.trouble is not None else "the history database is not open"
        return f"{self.pending_summary()} not saved: {reason}"

    # ---- trouble --------------------------------------------------------------

    def write_failed(self, exc: StoreError) -> None:
        if self.trouble is None:
            self._trouble_since = datetime.now().astimezone()
            self._next_retry = time.monotonic() + self.retry_s
        self.trouble = exc
        self.disk_error(exc)

    def disk_error(self, exc: Exception) -> None:
        """Log a disk problem, at once and then once a minute at most."""
        if time.monotonic() - self._disk_error_logged_at >= ERROR_LOG_S:
            log.error(
                "history not saved (sampling and prompting go on; %s kept in memory, retrying every %g s): %s",
                self.pending_summary(),
                self.retry_s,
                exc,
            )
            self._disk_error_logged_at = time.monotonic()

    def _write_device_info(self) -> None:
        if self._device_info is not None and self.store is not None:
            self.store.set_device_info(self._device_info)
            self._device_info = None

    def _usable_store(self, now: bool = False) -> Store | None:
        """The store to write to; while writes fail, only every retry_s (or when
        ``now``), after opening the database again."""
        if self.trouble is None:
            return self.store
        if not now and time.monotonic() < self._next_retry:
            return None
        self._next_retry = time.monotonic() + self.retry_s
        try:
            if self.store is None:
                if self._open_store is None:
                    return None
                self.store = self._open_store()
            else:
                self.store.reconnect()
        except StoreError as exc:
            self.write_failed(exc)
            return None
        if self._on_reopened is not None and not self._on_reopened(self.store):
            return None
        return self.store

    def _bound(self) -> None:
        """Keep what waits for the disk within the MAX_PENDING_* bounds, dropping the oldest."""
        dropped = []
        if len(self._events) > MAX_PENDING_EVENTS:
            n = len(self._events) - MAX_PENDING_EVENTS
            del self._events[:n]
            dropped.append(f"{n} events")
        if len(self._minutes) > MAX_PENDING_MINUTES:
            keys = sorted(self._minutes)[: len(self._minutes) - MAX_PENDING_MINUTES]
            for key in keys:
                del self._minutes[key]
            dropped.append(f"{len(keys)} minute rows")
        if len(self._sessions) > MAX_PENDING_SESSIONS:
            starts = sorted(self._sessions)[: len(self._sessions) - MAX_PENDING_SESSIONS]
            for start in starts:
                del self._sessions[start]
            dropped.append(f"{len(starts)} sessions")
        if len(self._snoozes) > MAX_PENDING_SNOOZES:
            n = len(self._snoozes) - MAX_PENDING_SNOOZES
            del self._snoozes[:n]
            dropped.append(f"{n} button presses")
        if dropped:
            log.error(
                "dropped the oldest unsaved history (%s): more than the memory keeps while the disk is unavailable",
                ", ".join(dropped),
            )
