"""smart-cushion dashboard: the history and the live state of the cushion, in a browser.

A small Flask app in the shape of Flask's tutorial (flaskr)::

    app = create_app({"DATABASE": "/var/lib/cushion/history.db"})
    serve("/var/lib/cushion/history.db")                  # http://127.0.0.1:8080/
    set_password("/var/lib/cushion/history.db", "...")    # then serve(..., host="0.0.0.0")

One blueprint per page (`dashboard/views/`), the history database opened per
request and closed on teardown (`db.py`), templates that extend `base.html`.
Everything it shows comes from the database the daemon writes; it never makes
a request to anywhere else (the Content-Security-Policy forbids it too).

Security: it listens on 127.0.0.1 unless told otherwise; listening on the
network needs a password (`set_password`), and then every page and API needs
a login. Every form carries a CSRF token. Debug mode is never on.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Any

from flask import Flask, request

from device.config import load_config
from device.errors import CushionError
from device.storage.fleet import is_fleet
from device.storage.store import Store

__all__ = ["create_app", "serve", "set_password"]

OUTPUT_BUFFER_BYTES = 1024 * 1024  # what waitress holds of a response the client has not taken yet


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the dashboard app.

    Config keys (test_config overrides them): DATABASE, the history database
    (default $CUSHION_DB or the instance folder's history.db); CUSHION_CONFIG,
    the cushion's TOML config file or None for the defaults (the settings page
    validates over it); LISTEN_ON_NETWORK, true when served on a non-loopback
    address: every page then needs a login, and a password must be set.
    SECRET_KEY defaults to one generated once and kept in the database.
    """
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(
        DATABASE=os.environ.get("CUSHION_DB") or str(Path(app.instance_path) / "history.db"),
        CUSHION_CONFIG=None,
        LISTEN_ON_NETWORK=False,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=30 * 24 * 3600,
        MAX_CONTENT_LENGTH=64 * 1024,  # forms are small; refuse anything big
        LIVE_STALE_S=5.0,  # the live row is stale (daemon not running) once older than this
    )
    if test_config is not None:
        app.config.from_mapping(test_config)
    app.debug = False  # never: the debugger would run code for anyone who can reach the page
    app.config["DEBUG"] = False

    # Read once: a broken config file is a clear error at start-up, not on a page.
    app.config["BASE_CONFIG"] = load_config(app.config["CUSHION_CONFIG"])
    # A hub's database (device.mqtt.hub): the fleet page, and each cushion's pages from its own file.
    app.config.setdefault("FLEET", is_fleet(app.config["DATABASE"]))

    from dashboard import auth, csrf, db, error_pages, formatting

    db.init_app(app)
    with Store(app.config["DATABASE"]) as store:
        if not app.config.get("SECRET_KEY"):
            app.config["SECRET_KEY"] = auth.secret_key(store)
        if app.config["LISTEN_ON_NETWORK"] and auth.password_hash(store) is None:
            raise CushionError(
                "dashboard: a password is needed to listen on the network; set one with `cushion set-password`"
            )
    csrf.init_app(app)
    auth.init_app(app)
    error_pages.init_app(app)
    formatting.init_app(app)

    from dashboard.views import advice, day, device, diary, export, fleet, now, report, settings, trends

    for module in (fleet, now, day, trends, advice, diary, settings, device, export, report):
        app.register_blueprint(module.bp)
    app.register_blueprint(auth.bp)

    @app.after_request
    def security_headers(response):
        # Every page but the static files shows or carries personal data (health data, in the
        # diary): no browser or proxy may keep a copy, for the back button after logging out either.
        if request.endpoint != "static":
            response.headers.setdefault("Cache-Control", "no-store")
        # Nothing is loaded from or sent to anywhere but this dashboard.
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response

    return app


def is_loopback(host: str) -> bool:
    """True if `host` is only reachable from this machine (127.x.x.x, ::1, localhost)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name or "": assume it is on the network


def serve(
    db_path: str | Path,
    host: str = "127.0.0.1",
    port: int = 8080,
    *,
    config_path: str | Path | None = None,
    threads: int = 4,
) -> None:
    """Run the dashboard under waitress until interrupted.

    db_path: the history database; host, port: where to listen (127.0.0.1 is
    this machine only; 0.0.0.0 is every network interface). A non-loopback
    host is refused with CushionError unless a password was set with
    `set_password`, and then every page needs a login. config_path: the
    cushion's config file, if any (the settings page validates over it).
    """
    if not isinstance(port, int) or not 0 < port < 65536:
        raise CushionError(f"dashboard: port must be 1-65535, got {port!r}")
    network = not is_loopback(host)
    if network:
        from dashboard import auth

        with Store(db_path) as store:
            if auth.password_hash(store) is None:
                raise CushionError(
                    f"dashboard: refusing to listen on {host or 'all interfaces'} without a "
                    "password; set one with `cushion set-password` or use 127.0.0.1"
                )
    app = create_app({"DATABASE": str(db_path), "CUSHION_CONFIG": config_path, "LISTEN_ON_NETWORK": network})

    from waitress import create_server

    try:
        # outbuf_high_watermark: a streamed export pauses once 1 MB waits for the network (waitress's
        # default, 16 MB, let each of eight exports at once run 16 MB ahead: 140 MB instead of 76).
        server = create_server(
            app, host=host, port=port, threads=threads, ident="smart-cushion", outbuf_high_watermark=OUTPUT_BUFFER_BYTES
        )
    except OSError as exc:
        raise CushionError(f"dashboard: cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    shown = f"[{host}]" if ":" in host else host
    print(f"smart-cushion dashboard on http://{shown}:{port}/ (Ctrl-C to stop)", flush=True)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


def set_password(db_path: str | Path, password: str) -> None:
    """Set (or change) the dashboard password, stored hashed in the history database.

    Changing it logs out every browser that was logged in. Raises CushionError
    for a password shorter than 8 characters.
    """
    from dashboard import auth

    with Store(db_path) as store:
        auth.store_password(store, password)
