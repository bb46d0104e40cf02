"""Why the buzzer stays silent and until when, and the requests that change it.

Three places ask for a snooze, a mute for the day or a resume: the button,
the dashboard (silence requests in the database) and MQTT (cmd/snooze).
They all change the one SnoozeState here, so the Now page, the MQTT state
and the buzzer agree whoever asked.
"""

from __future__ import annotations

from datetime import datetime

from device.config import Breaks
from device.core.quiet import QuietHours, SnoozeState

# silenced_by's reasons as the live row names them.
SILENCED = {"quiet hours": "quiet_hours", "snoozed": "snoozed", "muted": "muted", "disabled": "disabled"}
ACTIONS = ("snooze", "mute_day", "resume", "end_snooze")


class BuzzerSilence:
    """The snooze and mute state, the quiet hours, and the end of the quiet stretch (cached)."""

    def __init__(self, breaks: Breaks) -> None:
        self.snooze = SnoozeState()
        self.quiet = QuietHours.from_breaks(breaks)
        self._quiet_until: tuple[datetime, datetime] | None = None  # (asked at, quiet until) while quiet

    def reconfigure(self, breaks: Breaks) -> None:
        self.quiet = QuietHours.from_breaks(breaks)
        self._quiet_until = None

    def silenced_by(self, wall: datetime, buzzer_enabled: bool) -> str | None:
        """Why a prompt at `wall` makes no sound ("quiet hours", "snoozed", ...), or None: it sounds."""
        return self.snooze.silenced_by(wall, self.quiet, buzzer_enabled)

    def ask(self, action: str, now: datetime, minutes: float) -> datetime | None:
        """Carry out one of ACTIONS at `now`; the time the silence ends (None for a resume).

        end_snooze ends a snooze and leaves a mute (MQTT's cmd/snooze with 0 minutes);
        resume ends both (the dashboard's Resume).
        """
        if action == "snooze":
            return self.snooze.snooze(now, minutes)
        if action == "mute_day":
            return self.snooze.mute_day(now)
        if action == "end_snooze":
            self.snooze.snoozed_until = None
            return None
        if action == "resume":
            self.snooze.clear()
            return None
        raise ValueError(f"unknown silence action {action!r}, expected one of {', '.join(ACTIONS)}")

    def why(self, wall: datetime, buzzer_enabled: bool) -> tuple[str | None, datetime | None]:
        """Why the buzzer stays silent at `wall` (quiet_hours, snoozed, muted, disabled) and until when."""
        reason = self.silenced_by(wall, buzzer_enabled)
        if reason is None:
            self._quiet_until = None
            return None, None
        name = SILENCED[reason]
        if name == "snoozed":
            return name, self.snooze.snoozed_until
        if name == "muted":
            return name, self.snooze.muted_until
        if name == "quiet_hours":
            # Stepping through the quiet stretch costs: once per stretch (or after a settings change).
            cached = self._quiet_until
            if cached is None or not cached[0] <= wall < cached[1]:
                end = self.quiet.quiet_until(wall)
                self._quiet_until = (wall, end) if end is not None else None
            return name, self._quiet_until[1] if self._quiet_until else None
        return name, None
