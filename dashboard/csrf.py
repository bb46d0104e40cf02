"""CSRF protection: every form carries a per-session token; a POST without the right one gets 400.

Another site can make a browser POST to the dashboard with its cookie, but it
cannot read the token, which only appears in the dashboard's own pages.
Templates put it in each form with `{{ csrf_field() }}`.
"""

from __future__ import annotations

import hmac
import secrets

from flask import Flask, abort, request, session
from markupsafe import Markup

FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def csrf_token() -> str:
    """This session's token (created on first use)."""
    token = session.get(FIELD)
    if not token:
        token = session[FIELD] = secrets.token_urlsafe(32)
    return token


def csrf_field() -> Markup:
    return Markup('<input type="hidden" name="{}" value="{}">').format(FIELD, csrf_token())


def _check() -> None:
    if request.method not in _UNSAFE:
        return
    sent = request.form.get(FIELD) or request.headers.get(HEADER) or ""
    expected = session.get(FIELD) or ""
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        abort(
            400,
            "The form's security token is missing or out of date (CSRF check): "
            "go back, reload the page and send it again.",
        )


def init_app(app: Flask) -> None:
    app.before_request(_check)
    app.jinja_env.globals.update(csrf_token=csrf_token, csrf_field=csrf_field)
