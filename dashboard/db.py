"""The history database, opened once per request and closed on teardown (as in flaskr)."""

from __future__ import annotations

from flask import Flask, current_app, g

from device.config import Config, config_with_settings
from device.errors import CushionError
from device.storage.store import Store


def get_store() -> Store:
    """This request's Store on the app's DATABASE (opened on first use)."""
    if "store" not in g:
        g.store = Store(current_app.config["DATABASE"])
    return g.store


def close_store(exc: BaseException | None = None) -> None:
    store = g.pop("store", None)
    if store is not None:
        store.close()


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
