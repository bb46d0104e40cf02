"""`cushion hub --config CONFIG --db HUB_DB`: keep every cushion's history from the broker (device.mqtt.hub)."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from device.config import Config
from device.daemon.shutdown import stop_on_signals
from device.errors import CushionError
from device.mqtt.hub import Hub
from device.storage.store import StoreError

log = logging.getLogger("cushion")


def run_hub(config_path: Path, config: Config, db_path: Path, seconds: float | None = None) -> int:
    """Run the hub until SIGTERM or Ctrl-C (or `seconds`); 0 after a clean stop."""
    if not config.mqtt.enabled:
        raise CushionError(f"{config_path}: [mqtt] host is not set: the hub needs a broker to subscribe to")
    stop = threading.Event()
    restore = stop_on_signals(stop)
    try:
        hub = Hub(config, db_path)
        log.info(
            "hub: keeping every cushion under %s/ from %s:%d in %s (and %s.cushions/)",
            config.mqtt.topic_prefix,
            config.mqtt.host,
            config.mqtt.port,
            db_path,
            db_path.name,
        )
        try:
            hub.run(stop, max_seconds=seconds)
        except StoreError as exc:
            raise CushionError(str(exc)) from None
        c = hub.counters
        log.info(
            "hub stopped: %d messages, %d new events, %d seen twice (kept once), %d refused",
            c.messages,
            c.events_new,
            c.events_twice,
            c.refused,
        )
        return 0
    finally:
        restore()
