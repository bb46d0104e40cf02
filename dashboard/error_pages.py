"""Errors as a page (or as JSON under /api/) that says what went wrong in plain words."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request, url_for
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.routing import BuildError

from device.storage.store import StoreError

_TITLES = {
    400: "That request isn't right",
    404: "Not found",
    405: "Not allowed",
    413: "Too much data",
    429: "Slow down",
    500: "Something went wrong",
    503: "The history database is not available",
}


def _respond(status: int, message: str):
    if request.path.startswith("/api/"):
        response = jsonify(error=message)
        response.status_code = status
        return response
    back = None
    if request.blueprint and request.blueprint not in ("now", "auth") and status < 500:
        try:  # the page's own start: /trends after a bad /trends?end=, /diary after a bad form...
            back = url_for(f"{request.blueprint}.show")
        except BuildError:
            back = None
    return render_template(
        "error.html", status=status, title=_TITLES.get(status, "Error"), message=message, back=back
    ), status


def _http_error(exc: HTTPException):
    if exc.code is None or exc.code < 400:
        return exc
    return _respond(exc.code, exc.description or exc.name)


def _store_error(exc: StoreError):
    return _respond(503, str(exc))


def _server_error(exc: InternalServerError):
    return _respond(
        500,
        "The dashboard hit an unexpected error; the cushion itself is not affected. "
        "Reload the page; if it keeps happening, check the dashboard's log.",
    )


def init_app(app: Flask) -> None:
    app.register_error_handler(StoreError, _store_error)
    app.register_error_handler(InternalServerError, _server_error)
    app.register_error_handler(HTTPException, _http_error)
