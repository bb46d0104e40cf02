"""The buzzer, LED and button the daemon drives, kept in step with the [alerts] settings.

A setting that needs no other pin (buzzer on or off, the hold time) is
applied to the devices in place; a new device type or pin releases the old
pins and claims the new ones. A change that cannot be applied (a pin in use)
keeps the previous devices and says why in `problem`, for the Settings page.
New devices are shown the state the old ones showed (away, break due, fault).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Any

from device.config import Alerts as AlertsConfig
from device.errors import CushionError
from device.hardware.alerts import PIN_SETTINGS

log = logging.getLogger("cushion")


class AlertDevices:
    """alerts: a device.hardware.alerts.Alerts already open, or None. open_alerts:
    builds one for an [alerts] config, raising CushionError when a pin cannot
    be had (None: the devices can be changed in place only)."""

    def __init__(self, alerts: Any = None, open_alerts: Callable[[AlertsConfig], Any] | None = None):
        self.alerts = alerts
        self._open = open_alerts
        self.problem: str | None = None
        self._shown: dict[str, bool] | None = None  # what the light shows now; None: not yet, or new devices

    def show(self, *, away: bool, break_due: bool, fault: bool) -> None:
        """Show this state on the light (and the buzzer's break-due state), changing only what changed."""
        alerts = self.alerts
        state = {"away": away, "break_due": break_due, "fault": fault}
        if alerts is None or state == self._shown:
            return
        shown = self._shown or {}
        if break_due != shown.get("break_due"):
            alerts.set_break_due(break_due)
        if fault != shown.get("fault"):
            alerts.set_fault(fault)
        if away != shown.get("away"):
            alerts.set_away(away)
        self._shown = state

    def open_first(self, wanted: AlertsConfig, fallback: AlertsConfig) -> AlertsConfig:
        """Open the devices of `wanted` (the merged config's); if its pins cannot
        be had and `fallback` (the config file's) differs, those (an error there
        is the caller's: nothing can start). Returns the [alerts] in effect."""
        assert self._open is not None
        try:
            self.alerts = self._open(wanted)
            return wanted
        except CushionError as exc:
            if wanted == fallback:
                raise
            effective = self._refused(exc, wanted, fallback)
        self.alerts = self._open(fallback)
        return effective

    def apply(self, wanted: AlertsConfig) -> tuple[AlertsConfig, bool]:
        """Bring the devices to `wanted`: returns the [alerts] in effect, and
        whether the devices were replaced (the caller shows its state on them)."""
        self.problem = None
        alerts = self.alerts
        if alerts is None or alerts.config == wanted:
            return wanted, False
        if alerts.same_pins(wanted):
            alerts.apply(wanted)
            return wanted, False
        if self._open is None:
            return self._refused(
                CushionError("the daemon was started without a way to open other pins"), wanted, alerts.config
            ), False
        previous = alerts.config
        alerts.close()
        self.alerts = None
        try:
            self.alerts = self._open(wanted)
            log.info("buzzer, light and button now on %s", pins_in_words(wanted))
            self._shown = None
            return wanted, True
        except CushionError as exc:
            effective = self._refused(exc, wanted, previous)
        self._shown = None
        try:
            self.alerts = self._open(previous)
        except CushionError as again:
            log.error(
                "cannot take the previous buzzer, light and button back either: %s; "
                "prompts are recorded and shown on the dashboard only",
                again,
            )
        return effective, True

    def close(self) -> None:
        if self.alerts is not None:
            self.alerts.close()

    def _refused(self, exc: CushionError, wanted: AlertsConfig, kept: AlertsConfig) -> AlertsConfig:
        """Say why `wanted` could not be had; the [alerts] in effect: `wanted`
        with the devices and pins of `kept`."""
        self.problem = (
            f"the buzzer, light and button settings could not be applied: {exc}; "
            f"the cushion keeps {pins_in_words(kept)}"
        )
        log.error("%s", self.problem)
        return dataclasses.replace(wanted, **{name: getattr(kept, name) for name in PIN_SETTINGS})


def pins_in_words(alerts: AlertsConfig) -> str:
    """ "an active buzzer on GPIO17, a plain LED on GPIO27, a button on GPIO22"."""
    parts = []
    if alerts.buzzer != "none":
        parts.append(f"an {alerts.buzzer} buzzer on GPIO{alerts.buzzer_pin}")
    parts.append(f"a {alerts.led} LED on GPIO{alerts.led_pin}")
    parts.append(f"a button on GPIO{alerts.button_pin}" if alerts.button_pin != -1 else "no button")
    return ", ".join(parts)
