"""Settings saved by the dashboard and what the daemon records about the device."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from device.storage.database import Connection, _as_datetime, _label, _short


class Settings(Connection):
    """`section.key` settings (JSON values, validated by the daemon) and device information."""

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
                    self.db.table("settings").insert(
                        {"key": key, "value": json.dumps(value), "updated_wall": label}, replace=True
                    )
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

    def meta(self, key: str) -> int | None:
        """A whole number the software keeps about itself (the MQTT outbox's mark, say), or None."""
        rows = self._select("meta", "key = ?", [key], None)
        return int(rows[0]["value"]) if rows else None

    def set_meta(self, key: str, value: int) -> None:
        with self._transaction("write to the history database"):
            self.db.table("meta").insert({"key": key, "value": int(value)}, replace=True)

    def set_device_info(self, values: Mapping[str, Any]) -> None:
        """Record facts about the device (JSON values), e.g. {"calibrated_on": "2024-05-01"}."""
        with self._transaction("write device information"):
            self.db.table("device_info").insert_all(
                [{"key": key, "value": json.dumps(value)} for key, value in values.items()], replace=True
            )

    def device_info(self) -> dict[str, Any]:
        return {row["key"]: json.loads(row["value"]) for row in self._select("device_info", None, [], "key")}
