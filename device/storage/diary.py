"""The pain diary: episodes of pain the person logs on the dashboard.

Where it hurts (a region and a side) and the kind of pain are stored as the
short words of device.storage.schema (DIARY_REGIONS, DIARY_REGION_SIDES,
DIARY_KINDS), which also holds their plain names for the pages.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime

from device.storage.database import Connection, _as_datetime, _label
from device.storage.schema import DIARY_KINDS, DIARY_REGION_SIDES, DIARY_REGIONS


class Diary(Connection):
    """Add, read and delete diary entries."""

    # ---- the pain diary --------------------------------------------------

    def add_diary_entry(
        self,
        wall: datetime | str,
        *,
        region: str,
        side: str,
        severity: int,
        kind: str | None = None,
        note: str = "",
        red_flags: Iterable[str] = (),
        logged_wall: datetime | None = None,
    ) -> int:
        """Log an episode of pain; returns its id.

        wall: when it happened (naive = local). region: one of DIARY_REGIONS;
        side: one of the region's DIARY_REGION_SIDES (a hip or a leg has no
        centre); severity: 0 (none) to 10 (worst); kind: one of DIARY_KINDS,
        or None when not given; red_flags: keys of the warning signs ticked.
        logged_wall: when it was written down (default now). Bad values raise
        ValueError and nothing is stored.
        """
        if region not in DIARY_REGIONS:
            raise ValueError(f"region must be one of {DIARY_REGIONS}, got {region!r}")
        if side not in DIARY_REGION_SIDES[region]:
            raise ValueError(f"side of the {region} must be one of {DIARY_REGION_SIDES[region]}, got {side!r}")
        if kind is not None and kind not in DIARY_KINDS:
            raise ValueError(f"kind must be one of {DIARY_KINDS} or None, got {kind!r}")
        if isinstance(severity, bool) or not isinstance(severity, int) or not 0 <= severity <= 10:
            raise ValueError(f"severity must be a whole number from 0 to 10, got {severity!r}")
        flags = list(red_flags)
        if not all(isinstance(flag, str) and flag for flag in flags):
            raise ValueError(f"red_flags must be keys (non-empty strings), got {flags!r}")
        row = {
            "wall": _label(_as_datetime(wall)),
            "logged_wall": _label(_as_datetime(logged_wall)),
            "region": region,
            "side": side,
            "severity": severity,
            "kind": kind,
            "note": str(note),
            "red_flags": json.dumps(flags),
        }
        with self._transaction("write to the diary"):
            entry_id = self.db.table("diary").insert(row).last_pk
        assert isinstance(entry_id, int)
        return entry_id

    def diary_between(self, a: datetime | str, b: datetime | str) -> list[dict]:
        """Diary entries whose time is in [a, b), oldest first (red_flags decoded; kind None when not given)."""
        return self._select(
            "diary",
            "julianday(wall) >= julianday(?) AND julianday(wall) < julianday(?)",
            [_label(_as_datetime(a)), _label(_as_datetime(b))],
            "julianday(wall), id",
        )

    def diary_latest(self, limit: int = 50) -> list[dict]:
        """The `limit` most recent diary entries, newest first."""
        with self._errors("read the history database"):
            rows = list(self.db.table("diary").rows_where(order_by="julianday(wall) DESC, id DESC", limit=int(limit)))
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
