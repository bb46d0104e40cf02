"""Snooze, Mute and Resume asked for on the dashboard, on their way to the daemon.

The dashboard writes a request; the daemon takes the requests not taken yet
each time it polls the settings (once a second), applies them to the same
state the hardware button sets, and marks each taken with the time the buzzer
may sound again. A request nobody takes (the daemon not running) stays
pending, and the page says so.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from device.storage.database import Connection, _as_datetime, _label
from device.storage.schema import SILENCE_ACTIONS


class Silence(Connection):
    def request_silence(self, action: str, minutes: float | None = None, wall: datetime | None = None) -> int:
        """Ask the daemon to snooze (for `minutes`), mute until midnight ("mute_day") or "resume"."""
        if action not in SILENCE_ACTIONS:
            raise ValueError(f"action must be one of {', '.join(SILENCE_ACTIONS)}, not {action!r}")
        if action == "snooze" and (minutes is None or not minutes > 0):
            raise ValueError("a snooze needs a positive number of minutes")
        with self._transaction("ask the cushion to snooze"):
            row = self.db.table("silence_requests").insert(
                {"wall": _label(_as_datetime(wall)), "action": action, "minutes": minutes}
            )
        assert isinstance(row.last_pk, int)
        return row.last_pk

    def pending_silence_requests(self) -> list[dict[str, Any]]:
        """Requests the daemon has not taken yet, oldest first."""
        return self._select("silence_requests", "taken_wall IS NULL", [], "id")

    def silence_request_taken(self, request_id: int, until: datetime | None, wall: datetime | None = None) -> None:
        """The daemon took the request: the buzzer is silent `until` then (None: it may sound now)."""
        with self._transaction("mark a snooze request taken"):
            self.db.table("silence_requests").update(
                request_id,
                {"taken_wall": _label(_as_datetime(wall)), "until_wall": None if until is None else _label(until)},
            )

    def last_silence_request(self) -> dict[str, Any] | None:
        rows = self._select("silence_requests", None, [], "id DESC", limit=1)
        return rows[0] if rows else None
