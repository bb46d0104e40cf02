"""The connection under every Store verb: opening, reopening, transactions, errors.

Disk problems (read-only, full, I/O error, locked too long, damaged file)
become StoreError, a CushionError whose message names the file and the
likely cause, so the daemon can log it and keep prompting.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Self

from sqlite_utils import Database

from device.errors import CushionError
from device.storage.schema import _JSON_COLUMNS, MIGRATIONS, SCHEMA_VERSION


class StoreError(CushionError):
    """The history database could not be read or written (disk full, read-only, damaged...)."""


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


class Connection:
    """One connection to the history database at `path`; device.storage.store.Store adds the verbs.

    It keeps what this run wrote of its sessions (`_sessions`) across
    reconnects, so a batch retried on a new connection updates the same rows.
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
        self._identity: tuple[int, int] | None = None  # (device, inode) of the file opened read-write
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
                raise StoreError(
                    f"{self.path}: cannot open the history database for writing: the file or the disk is read-only"
                )
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
                    raise StoreError(
                        f"{self.path}: the history database has schema version {found} and needs "
                        f"an upgrade to version {SCHEMA_VERSION}, which a read-only file cannot have; "
                        "run `cushion run` once where it can write the file"
                    )
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
    def open(cls, path: str | Path, *, busy_timeout_s: float = 5.0, read_only: bool | None = None) -> Self:
        """The same as `Store(path, ...)`."""
        return cls(path, busy_timeout_s=busy_timeout_s, read_only=read_only)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        """The file's PRAGMA user_version: how many MIGRATIONS it has had."""
        return _schema_version(self.db.conn)

    def _pages(self, table: str, where: str, args: Sequence[Any], time_column: str, page_size: int) -> Iterator[dict]:
        """Rows of `table` in order of julianday(time_column), id, one query per page: each page
        starts after the last row of the one before (keyset), so none is skipped or repeated."""
        if page_size < 1:
            raise ValueError(f"page_size must be at least 1, got {page_size!r}")
        order = f"julianday({time_column}), id"
        after = (
            f" AND (julianday({time_column}) > julianday(?) OR (julianday({time_column}) = julianday(?) AND id > ?))"
        )
        last: tuple[str, int] | None = None
        while True:
            page_where, page_args = where, list(args)
            if last is not None:
                page_where += after
                page_args += [last[0], last[0], last[1]]
            with self._errors("read the history database"):
                rows = list(self.db.table(table).rows_where(page_where, page_args, order_by=order, limit=page_size))
            if rows:
                last = (rows[-1][time_column], rows[-1]["id"])
            for row in rows:
                for key in _JSON_COLUMNS.get(table, ()):
                    if row.get(key) is not None:
                        row[key] = json.loads(row[key])
                yield row
            if len(rows) < page_size:
                return

    # ---- inside --------------------------------------------------------

    def _migrate(self, db: Database) -> None:
        with self._transaction("create or upgrade the history database's tables", db=db):
            # Re-read inside the write lock: another process may have upgraded it meanwhile.
            for migration in MIGRATIONS[_schema_version(db.conn) :]:
                migration(db)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _select(
        self, table: str, where: str | None, args: Sequence[Any], order_by: str | None, limit: int | None = None
    ) -> list[dict]:
        with self._errors("read the history database"):
            rows = list(self.db.table(table).rows_where(where, args, order_by=order_by, limit=limit))
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
    return name.startswith(
        ("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_FULL", "SQLITE_IOERR", "SQLITE_BUSY")
    )


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
