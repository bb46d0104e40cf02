"""The settings the dashboard (or MQTT's cmd/set) stored, over the config file's.

Settings that do not validate (or are not even JSON) are logged and ignored
one by one: the config file's value applies for those and the rest still do.
Settings from MQTT are validated as the dashboard's are, all together over
the stored ones, and stored as the dashboard stores them, so the daemon's
settings poll applies them whoever sent them.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

from device.config import Config, ConfigError, config_with_settings, config_with_valid_settings
from device.daemon.history_writer import HistoryWriter
from device.storage.store import Store, StoreError

log = logging.getLogger("cushion")


class SettingsWatch:
    """The stored settings' version as last read, and the config they make.

    history: the daemon's HistoryWriter: its store (None while the database
    cannot be opened) and where a failing read or write is reported.
    """

    def __init__(self, history: HistoryWriter, file_config: Config) -> None:
        self.history = history
        self.file_config = file_config
        self.version: int | None = None  # None: not read yet (or the file was replaced): read again

    def merged(self) -> Config | None:
        """The config file with the stored settings over it (reading their version); None if unreadable."""
        store = self.history.store
        if store is None:
            return None
        try:
            self.version = store.settings_version()
            return merged_config(store, self.file_config)
        except StoreError as exc:
            self.history.disk_error(exc)
            return None

    def changed(self, current: Config) -> Config | None:
        """The new config if the stored settings changed since last read and make a config other than current."""
        store = self.history.store
        if store is None:
            return None
        try:
            version = store.settings_version()
        except StoreError as exc:
            self.history.disk_error(exc)
            return None
        if version == self.version:
            return None
        config = self.merged()
        return None if config is None or config == current else config

    def report_problem(self, problem: str | None) -> None:
        """device_info "settings_problem": what the last settings version could not apply (None: all of it)."""
        store = self.history.store
        if store is None:
            return
        row = None
        if problem is not None:
            wall = datetime.now().astimezone().isoformat(timespec="seconds")
            row = {"version": self.version, "problem": problem, "wall": wall}
        try:
            store.set_device_info({"settings_problem": row})
        except StoreError as exc:
            self.history.disk_error(exc)

    def store_wanted(self, wanted: dict[str, Any]) -> tuple[bool, str]:
        """Settings from MQTT's cmd/set, validated over the stored ones and stored: (saved, what to answer)."""
        store = self.history.store
        if store is None:
            return False, "the history database, where settings are kept, cannot be written now"
        try:
            stored = store.settings()
            merged = {k: v for k, v in {**stored, **wanted}.items() if v is not None}
            config_with_settings(self.file_config, merged)
            store.set_settings(wanted)
        except ConfigError as exc:
            return False, str(exc)
        except StoreError as exc:
            self.history.disk_error(exc)
            return False, f"not saved: {exc}"
        log.info("settings changed by MQTT: %s", ", ".join(f"{k} = {short_json(v)}" for k, v in wanted.items()))
        return True, "saved; in effect within a second or two"


def merged_config(store: Store, file_config: Config) -> Config:
    """The config file with the stored settings over it. Raises StoreError."""
    settings = store.settings(
        on_invalid=lambda key, problem: log.error(
            "ignoring the setting %s stored by the dashboard: %s; the config file's value applies", key, problem
        )
    )
    if not settings:
        return file_config
    return config_with_valid_settings(
        file_config,
        settings,
        lambda key, value, exc: log.error(
            "ignoring the setting %s = %s stored by the dashboard: %s; the config file's value applies",
            key,
            short_json(value),
            exc,
        ),
    )


def short_json(value: Any, limit: int = 60) -> str:
    text = json.dumps(value)
    return text if len(text) <= limit else text[:limit] + "..."
