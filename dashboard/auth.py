"""Login for a dashboard on the network: one password, a session cookie.

On 127.0.0.1 nobody else can reach the dashboard and no login is asked for.
Listening on the network (LISTEN_ON_NETWORK) needs a password set with
`set_password`; then every page and API needs a login, except the login page
and the static CSS/JS. The password is stored hashed (werkzeug.security) in
the database's device_info under keys starting with "dashboard.", which the
device page never shows; the session cookie's secret key lives there too,
generated once.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import deque

import click
from flask import Blueprint, Flask, current_app, jsonify, redirect, render_template, request, session, url_for
from werkzeug.security import check_password_hash, generate_password_hash

from device.errors import CushionError
from device.store import Store, StoreError

from dashboard.db import get_store

bp = Blueprint("auth", __name__)

PASSWORD_KEY = "dashboard.password_hash"
SECRET_KEY = "dashboard.secret_key"
PRIVATE_PREFIX = "dashboard."  # device_info keys that are the dashboard's own, never shown
MIN_PASSWORD = 8
# Failed logins allowed per address per minute before it has to wait.
MAX_FAILURES = 5
FAILURE_WINDOW_S = 60.0


def secret_key(store: Store) -> str:
    """The session cookie's signing key: generated on first use, then read from the database.

    A database that cannot be written (read-only disk or file) still gets a
    dashboard: the key then lives as long as this process, so a sign-in does
    not survive a restart of the dashboard.
    """
    key = store.device_info().get(SECRET_KEY)
    if not key:
        key = secrets.token_hex(32)
        try:
            store.set_device_info({SECRET_KEY: key})
        except StoreError:
            pass
    return key


def password_hash(store: Store) -> str | None:
    """The stored password hash, or None if no password was set."""
    return store.device_info().get(PASSWORD_KEY) or None


def store_password(store: Store, password: str) -> None:
    """Hash and store the password; raises CushionError if it is too short."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise CushionError(f"password: must be at least {MIN_PASSWORD} characters")
    store.set_device_info({PASSWORD_KEY: generate_password_hash(password)})


def _fingerprint(hashed: str) -> str:
    """Changes when the password changes, so old sessions stop working."""
    return hashlib.sha256(hashed.encode()).hexdigest()[:16]


def login_required() -> bool:
    return bool(current_app.config["LISTEN_ON_NETWORK"])


def logged_in() -> bool:
    if not login_required():
        return True
    hashed = password_hash(get_store())
    return hashed is not None and session.get("login") == _fingerprint(hashed)


class _Throttle:
    """Failed logins per client address in the last minute (guessing a password takes long)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: dict[str, deque[float]] = {}

    def blocked(self, address: str) -> bool:
        with self._lock:
            recent = self._recent(address)
            return len(recent) >= MAX_FAILURES

    def fail(self, address: str) -> None:
        with self._lock:
            self._recent(address).append(time.monotonic())

    def _recent(self, address: str) -> deque[float]:
        recent = self._failures.setdefault(address, deque())
        while recent and time.monotonic() - recent[0] > FAILURE_WINDOW_S:
            recent.popleft()
        return recent


def _check_login():
    if request.endpoint in ("auth.login", "auth.logout", "static") or logged_in():
        return None
    if request.path.startswith("/api/"):
        response = jsonify(error="log in first: this dashboard is on the network and needs its password")
        response.status_code = 401
        return response
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def _safe_next(target: str | None) -> str:
    """Only a path on this dashboard (never another site) to go back to after login."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("now.index")


@bp.route("/login", methods=("GET", "POST"))
def login():
    if not login_required():
        return redirect(url_for("now.index"))
    error = None
    status = 200
    target = _safe_next(request.values.get("next"))
    if request.method == "POST":
        throttle: _Throttle = current_app.extensions["cushion_login_throttle"]
        address = request.remote_addr or "?"
        hashed = password_hash(get_store())
        if throttle.blocked(address):
            error, status = "Too many wrong passwords: wait a minute and try again.", 429
        elif hashed is not None and check_password_hash(hashed, request.form.get("password", "")):
            session.clear()  # a fresh session (and a fresh CSRF token) after logging in
            session.permanent = True
            session["login"] = _fingerprint(hashed)
            return redirect(target)
        else:
            throttle.fail(address)
            error, status = "Wrong password.", 401
    return render_template("login.html", error=error, next=target), status


@bp.route("/logout", methods=("POST",))
def logout():
    session.clear()
    return redirect(url_for("auth.login") if login_required() else url_for("now.index"))


def init_app(app: Flask) -> None:
    app.extensions["cushion_login_throttle"] = _Throttle()
    app.before_request(_check_login)

    @app.cli.command("set-password")
    @click.password_option(help="The new password (asked for, hidden, when not given).")
    def set_password_command(password: str) -> None:
        """Set the password the dashboard asks for when it listens on the network."""
        with Store(app.config["DATABASE"]) as store:
            try:
                store_password(store, password)
            except CushionError as exc:
                raise click.ClickException(str(exc)) from None
        click.echo("Password set; browsers logged in before must log in again.")

    @app.context_processor
    def login_state():
        return {"login_required": login_required()}

