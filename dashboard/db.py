"""The databases a request reads, opened once per request and closed on teardown (as in flaskr).

For one cushion, DATABASE is its history and the dashboard's own (password,
logins) at once. On a hub's database (`cushion dashboard --db HUB_DB`, see
device.mqtt.hub) the dashboard is in fleet mode: DATABASE keeps only the
dashboard's own things and the fleet table, and every history page shows the
cushion picked on the /fleet page (dashboard.views.fleet), from that
cushion's own database beside it.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app, g

from device.config import Config, config_with_settings
from device.errors import CushionError
from device.storage.fleet import FleetStore
from device.storage.store import Store


def fleet_mode() -> bool:
    return bool(current_app.config.get("FLEET"))


def get_own_store() -> Store:
    """The dashboard's own database (DATABASE): its password and logins, and in fleet mode the fleet table."""
    if "own_store" not in g:
        g.own_store = Store(current_app.config["DATABASE"])
    return g.own_store


def get_store() -> Store:
    """This request's history: DATABASE, or in fleet mode the picked cushion's database (g.cushion)."""
    if "store" not in g:
        if fleet_mode():
            g.store = Store(FleetStore.history_path_of(Path(current_app.config["DATABASE"]), g.cushion))
        else:
            g.store = get_own_store()
    return g.store


def close_store(exc: BaseException | None = None) -> None:
    store = g.pop("store", None)
    own = g.pop("own_store", None)
    for item in {id(s): s for s in (store, own) if s is not None}.values():
        item.close()


def effective_config() -> Config:
    """The config the daemon runs with: the file (or defaults) with the saved settings over it.

    Settings that no longer validate (written by something else, or by an older
    version) are ignored here, as the daemon would refuse them too.
    """
    if "effective_config" not in g:
        base = current_app.config["BASE_CONFIG"]
        try:
            g.effective_config = config_with_settings(base, get_store().settings())
        except CushionError:
            g.effective_config = base
    return g.effective_config


def init_app(app: Flask) -> None:
    app.teardown_appcontext(close_store)
