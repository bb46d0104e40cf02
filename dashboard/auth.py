"""Login for a dashboard on the network: one password, a session cookie, sessions the server can end.

On 127.0.0.1 nobody else can reach the dashboard and no login is asked for.
Listening on the network (LISTEN_ON_NETWORK) needs a password set with
`set_password`; then every page and API needs a login, except the login page
and the static CSS/JS. The password is stored hashed (werkzeug.security) in
the database's device_info under keys starting with "dashboard.", which the
device page never shows; the session cookie's secret key lives there too,
generated once.

A signed cookie alone cannot be taken back: a copy of it would open the
dashboard for as long as it lasts. So each login gets a random session id,
kept (hashed, with its expiry) in device_info and checked on every request:
logging out ends this one, a new password ends them all.

After logging in, the browser goes back to the page it came from (`next`):
only a path on this dashboard, checked against an allow-list; anything else
is a 400, never a redirect to another site.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from collections import deque
from urllib.parse import unquote, urlsplit

from flask import Blueprint, Flask, abort, current_app, jsonify, redirect, render_template, request, session, url_for
from werkzeug.security import check_password_hash, generate_password_hash

from dashboard.db import get_own_store
from device.errors import CushionError
from device.storage.store import Store, StoreError

bp = Blueprint("auth", __name__)

PASSWORD_KEY = "dashboard.password_hash"
SECRET_KEY = "dashboard.secret_key"
SESSIONS_KEY = "dashboard.sessions"  # {sha256 of a session id: when it expires, Unix seconds}
PRIVATE_PREFIX = "dashboard."  # device_info keys that are the dashboard's own, never shown
MIN_PASSWORD = 8
MAX_SESSIONS = 50  # browsers logged in at once; past that, the oldest login ends
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
    """Hash and store the password, ending every session; raises CushionError if it is too short."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise CushionError(f"password: must be at least {MIN_PASSWORD} characters")
    store.set_device_info({PASSWORD_KEY: generate_password_hash(password), SESSIONS_KEY: {}})


def _fingerprint(hashed: str) -> str:
    """Changes when the password changes, so old sessions stop working (also when another
    process, `cushion set-password`, changed it)."""
    return hashlib.sha256(hashed.encode()).hexdigest()[:16]


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class _Sessions:
    """The open logins: ids handed to browsers in their cookie, kept hashed in device_info.

    A database that cannot be written (read-only disk or file) still lets
    people log in and out: what it cannot record is kept in this process's
    memory instead, as the secret key is.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()  # one read-change-write of the stored logins at a time
        self._here: dict[str, float] = {}  # logins the database could not record
        self._ended: set[str] = set()  # logouts the database could not record

    @staticmethod
    def _stored(info: dict, now: float) -> dict[str, float]:
        stored = info.get(SESSIONS_KEY)
        if not isinstance(stored, dict):
            return {}
        return {k: v for k, v in stored.items() if isinstance(v, (int, float)) and v > now}

    def valid(self, info: dict, session_id: object) -> bool:
        """Is this id (from a cookie) an open login? info: the store's device_info()."""
        if not isinstance(session_id, str) or not session_id:
            return False
        key, now = _digest(session_id), time.time()
        if key in self._ended:
            return False
        return key in self._stored(info, now) or self._here.get(key, 0.0) > now

    def start(self, store: Store, lifetime_s: float) -> str:
        """A new login, open for lifetime_s; returns its id (for the cookie)."""
        session_id = secrets.token_urlsafe(32)
        self._write(store, _digest(session_id), time.time() + lifetime_s)
        return session_id

    def renew(self, store: Store, session_id: str, lifetime_s: float) -> None:
        """Keep a login in use open for lifetime_s from now (as the cookie is), writing only once
        half of it has gone: a write a fortnight, not one a request, for the SD card's sake."""
        key, now = _digest(session_id), time.time()
        expires = self._stored(store.device_info(), now).get(key) or self._here.get(key, now)
        if expires - now < lifetime_s / 2:
            self._write(store, key, now + lifetime_s)

    def end(self, store: Store, session_id: object) -> None:
        """Log this id out; the other logins stay."""
        if isinstance(session_id, str) and session_id:
            self._write(store, _digest(session_id), None)

    def _write(self, store: Store, key: str, expires: float | None) -> None:
        with self._lock:
            sessions = self._stored(store.device_info(), time.time())
            if expires is None:
                sessions.pop(key, None)
                self._here.pop(key, None)
            else:
                sessions[key] = expires
            newest = dict(sorted(sessions.items(), key=lambda item: item[1])[-MAX_SESSIONS:])
            try:
                store.set_device_info({SESSIONS_KEY: newest})
            except StoreError:
                if expires is None:
                    self._ended.add(key)
                else:
                    self._here[key] = expires


def _sessions() -> _Sessions:
    return current_app.extensions["cushion_sessions"]


def _lifetime_s() -> float:
    return current_app.permanent_session_lifetime.total_seconds()


def login_required() -> bool:
    return bool(current_app.config["LISTEN_ON_NETWORK"])


def logged_in() -> bool:
    if not login_required():
        return True
    info = get_own_store().device_info()
    hashed = info.get(PASSWORD_KEY)
    if not isinstance(hashed, str) or not hashed:
        return False
    return session.get("login") == _fingerprint(hashed) and _sessions().valid(info, session.get("sid"))


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
    if request.endpoint in ("auth.login", "auth.logout", "static"):
        return None
    if logged_in():
        if login_required():
            _sessions().renew(get_own_store(), session["sid"], _lifetime_s())
        return None
    if request.path.startswith("/api/"):
        response = jsonify(error="log in first: this dashboard is on the network and needs its password")
        response.status_code = 401
        return response
    here = request.full_path.rstrip("?")
    return redirect(url_for("auth.login", next=here if same_site_path(here) else None))


# One "/" (not two, not a backslash after it), then printable ASCII: no space, no control character.
_PATH = re.compile(r"/(?![/\\])[!-~]*\Z")


def same_site_path(target: object) -> bool:
    """Is `target` a path on this dashboard, and nothing a browser could take for another site?

    An allow-list: a single leading "/", printable ASCII only, no backslash;
    the same once percent-decoded (a proxy or a lenient browser may decode
    it); neither a scheme nor a host in either form. So "//x", "/\\x",
    "\\/x", tabs and newlines anywhere (browsers drop them: "/\t/x" is
    "//x"), "https:x" and the encoded forms ("/%2F%2Fx", "/%5Cx", "/%09/x")
    are all refused.
    """
    if not isinstance(target, str) or not _PATH.match(target):
        return False
    decoded = unquote(target)
    if "\\" in decoded or decoded.startswith("//") or any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in decoded):
        return False
    return not any(urlsplit(form).scheme or urlsplit(form).netloc for form in (target, decoded))


def _next_path(target: str | None) -> str:
    """Where to go after logging in: the page asked for, or Now; a 400 for anything but a path here."""
    if target is None or target == "":
        return url_for("now.index")
    if not same_site_path(target):
        abort(
            400,
            "next: after logging in, the dashboard only goes to one of its own pages "
            "(a path such as /trends?days=30), never to this address.",
        )
    return target


@bp.route("/login", methods=("GET", "POST"))
def login():
    if not login_required():
        return redirect(url_for("now.index"))
    error = None
    status = 200
    target = _next_path(request.values.get("next"))
    if request.method == "POST":
        throttle: _Throttle = current_app.extensions["cushion_login_throttle"]
        address = request.remote_addr or "?"
        store = get_own_store()
        hashed = password_hash(store)
        if throttle.blocked(address):
            error, status = "Too many wrong passwords: wait a minute and try again.", 429
        elif hashed is not None and check_password_hash(hashed, request.form.get("password", "")):
            _sessions().end(store, session.get("sid"))  # logging in again ends the login it replaces
            session_id = _sessions().start(store, _lifetime_s())
            session.clear()  # a fresh session (and a fresh CSRF token) after logging in
            session.permanent = True
            session["login"] = _fingerprint(hashed)
            session["sid"] = session_id
            return redirect(target)
        else:
            throttle.fail(address)
            error, status = "Wrong password.", 401
    return render_template("login.html", error=error, next=target), status


@bp.route("/logout", methods=("POST",))
def logout():
    """Log out on the server too: a copy of the cookie kept from before opens nothing afterwards."""
    if login_required():
        _sessions().end(get_own_store(), session.get("sid"))
    session.clear()
    return redirect(url_for("auth.login") if login_required() else url_for("now.index"))


def init_app(app: Flask) -> None:
    app.extensions["cushion_login_throttle"] = _Throttle()
    app.extensions["cushion_sessions"] = _Sessions()
    app.before_request(_check_login)

    @app.context_processor
    def login_state():
        return {"login_required": login_required()}
