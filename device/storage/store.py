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

from device.core.minutes import Minute, merge_minutes, minute_key
from device.storage.aggregates import Aggregates
from device.storage.database import StoreError
from device.storage.diary import Diary
from device.storage.history import History
from device.storage.received import Received
from device.storage.schema import (
    DIARY_REGIONS,
    DIARY_SIDES,
    LIVE_COLUMNS,
    MIGRATIONS,
    SCHEMA_VERSION,
    SILENCE_ACTIONS,
    SNOOZE_ACTIONS,
    Snooze,
)
from device.storage.settings import Settings
from device.storage.silence import Silence

__all__ = [
    "DIARY_REGIONS",
    "DIARY_SIDES",
    "LIVE_COLUMNS",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "SILENCE_ACTIONS",
    "SNOOZE_ACTIONS",
    "Minute",
    "Snooze",
    "Store",
    "StoreError",
    "merge_minutes",
    "minute_key",
]


class Store(History, Settings, Diary, Aggregates, Received, Silence):
    """The history database at `path` (created with its folders if missing).

    busy_timeout_s: how long a write waits for another process's write to
    finish before giving up with StoreError. Close it with `close()` or use it
    as a context manager; use it from the thread that opened it (the daemon
    and each dashboard request open their own).

    Its verbs come in groups (history, settings, diary, aggregates, received, silence), each a
    module of device.storage over one connection (device.storage.database).
    """
