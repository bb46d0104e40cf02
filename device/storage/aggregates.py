"""Read-only aggregate queries for the dashboard: a year in one query, not 365.

They read the tables of device.storage.schema and use its expression indexes
on julianday(wall). Times come back as Unix seconds; days are local calendar
days (SQLite's 'localtime', the same clock Python's astimezone() uses).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from device.storage.database import Connection

# Unix seconds of a wall label: julianday counts days from 4714 BC noon.
_UNIX = "((julianday({col}) - 2440587.5) * 86400.0)"

_EVENT_TOTALS = """
SELECT date(wall, 'localtime') AS day, type,
       CASE type WHEN 'prompt' THEN json_extract(data, '$.kind')
                 WHEN 'lean' THEN json_extract(data, '$.side')
                 WHEN 'twist' THEN json_extract(data, '$.side') END AS sub,
       COUNT(*) AS n,
       SUM(CASE WHEN type IN ('lean', 'perch', 'slump')
                THEN json_extract(data, '$.end') - json_extract(data, '$.start') END) AS seconds
FROM events
WHERE julianday(wall) >= julianday(:a) AND julianday(wall) < julianday(:b)
  AND type IN ('lean', 'twist', 'fidget', 'perch', 'slump', 'prompt', 'fault')
GROUP BY day, type, sub
"""

_SESSION_SPANS = f"""
SELECT id, {_UNIX.format(col="start_wall")} AS start,
       {_UNIX.format(col="COALESCE(end_wall, last_heartbeat_wall)")} AS end,
       end_wall IS NULL AS open, prompts
FROM sessions
WHERE julianday(start_wall) < julianday(:b)
  AND julianday(COALESCE(end_wall, last_heartbeat_wall)) >= julianday(:a)
ORDER BY julianday(start_wall), id
"""

_MOVEMENTS = f"""
SELECT {_UNIX.format(col="wall")} AS ts, type,
       CASE type WHEN 'prompt' THEN json_extract(data, '$.kind') ELSE json_extract(data, '$.side') END AS sub,
       CASE WHEN type = 'lean' THEN json_extract(data, '$.end') - json_extract(data, '$.start') END AS seconds,
       session_id
FROM events
WHERE julianday(wall) >= julianday(:a) AND julianday(wall) < julianday(:b) AND type IN ({{types}})
ORDER BY julianday(wall), id
"""


class Aggregates(Connection):
    """Totals and spans over many days, for the Trends and Day pages."""

    def event_totals(self, a: datetime, b: datetime) -> list[tuple]:
        """Per local day, event type and sub-kind (prompt kind, lean/twist side) in [a, b):
        (day "YYYY-MM-DD", type, sub, count, seconds of leans/perches/slumps)."""
        with self._errors("read the history database"):
            return self.db.execute(_EVENT_TOTALS, {"a": _local(a), "b": _local(b)}).fetchall()

    def session_spans(self, a: datetime, b: datetime) -> list[tuple]:
        """Sessions overlapping [a, b): (id, start, end, open, prompts JSON); an open one ends at its last heartbeat."""
        with self._errors("read the history database"):
            return self.db.execute(_SESSION_SPANS, {"a": _local(a), "b": _local(b)}).fetchall()

    def movements(self, a: datetime, b: datetime, types: Sequence[str]) -> list[tuple]:
        """Events of these types in [a, b), in time order: (ts, type, sub, lean seconds, session_id)."""
        names = {f"t{i}": t for i, t in enumerate(types)}
        sql = _MOVEMENTS.format(types=", ".join(f":{name}" for name in names))
        with self._errors("read the history database"):
            return self.db.execute(sql, {"a": _local(a), "b": _local(b), **names}).fetchall()


def _local(value: datetime) -> str:
    return value.astimezone().isoformat(timespec="milliseconds")
