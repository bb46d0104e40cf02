"""The dashboard app: factory, security (CSRF, login on a network bind, headers), bad parameters, serve()."""

from __future__ import annotations

import re

import pytest

import dashboard
from dashboard import create_app, is_loopback, serve, set_password
from dashboard.auth import same_site_path
from device.errors import CushionError
from device.storage.store import Store, StoreError
from tests.dashboard_support import DAY, post, set_token, text
from tests.paths import ROOT

PAGES = [
    "/",
    f"/day/{DAY}",
    "/trends",
    "/trends?days=30",
    "/trends?days=365",
    "/advice",
    "/diary",
    "/settings",
    "/device",
]
APIS = ["/api/live", f"/api/day/{DAY}", "/api/trends?days=7", "/api/diary", "/api/export/events.csv"]


def test_debug_is_never_on(db_path):
    assert not create_app({"DATABASE": str(db_path), "DEBUG": True}).debug


def test_secret_key_is_generated_once_and_kept_in_the_database(db_path):
    first = create_app({"DATABASE": str(db_path)}).secret_key
    second = create_app({"DATABASE": str(db_path)}).secret_key
    assert first == second and len(first) >= 32
    with Store(db_path) as store:
        assert store.device_info()["dashboard.secret_key"] == first


def test_a_broken_config_file_is_a_clear_error_at_start(db_path, tmp_path):
    config = tmp_path / "cushion.toml"
    config.write_text("[breaks]\nbreak_after_min = 'soon'\n")
    with pytest.raises(CushionError, match="break_after_min"):
        create_app({"DATABASE": str(db_path), "CUSHION_CONFIG": str(config)})


@pytest.mark.parametrize("url", PAGES)
def test_every_page_renders_on_an_empty_database(client, url):
    response = client.get(url)
    assert response.status_code == 200
    assert "<nav" in text(response)


@pytest.mark.parametrize("url", PAGES)
def test_pages_load_nothing_from_anywhere_else(client, day_db, url):
    page = text(client.get(url))
    assert not re.search(r'(src|href|action)="(https?:)?//', page), "a link or resource off this dashboard"
    assert "<script" not in page or 'src="/static/live.js"' in page


def test_security_headers_forbid_other_origins(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "connect-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"


# ---- CSRF ----------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/diary", "/settings", "/settings/reset", "/diary/1/delete", "/logout"])
def test_a_post_without_the_csrf_token_is_refused(client, url):
    response = client.post(url, data={"severity": "3", "where": "lower-left"})
    assert response.status_code == 400
    assert "security token" in text(response)


def test_a_post_with_a_wrong_csrf_token_is_refused(client, db_path):
    set_token(client, "the-right-one")
    response = client.post("/diary", data={"csrf_token": "a-forged-one", "severity": "3", "where": "lower-left"})
    assert response.status_code == 400
    with Store(db_path) as store:
        assert store.diary_latest() == []


def test_forms_carry_the_sessions_token(client):
    page = text(client.get("/diary"))
    tokens = set(re.findall(r'name="csrf_token" value="([^"]+)"', page))
    assert len(tokens) == 1
    with client.session_transaction() as session:
        assert session["csrf_token"] in tokens


# ---- login on a network bind ---------------------------------------------------------


@pytest.fixture
def network_app(db_path):
    set_password(db_path, "correct horse")
    return create_app({"TESTING": True, "DATABASE": str(db_path), "LISTEN_ON_NETWORK": True})


def login(client, password="correct horse", next_url="/"):
    return post(client, "/login", {"password": password, "next": next_url})


def test_network_bind_without_a_password_is_refused(db_path):
    with pytest.raises(CushionError, match="set-password"):
        create_app({"DATABASE": str(db_path), "LISTEN_ON_NETWORK": True})


@pytest.mark.parametrize("url", PAGES)
def test_on_the_network_every_page_needs_a_login(network_app, url):
    response = network_app.test_client().get(url)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize("url", APIS)
def test_on_the_network_every_api_needs_a_login(network_app, url):
    response = network_app.test_client().get(url)
    assert response.status_code == 401
    assert "log in" in response.get_json()["error"]


def test_login_then_pages_then_logout(network_app):
    client = network_app.test_client()
    assert login(client, "wrong password").status_code == 401
    assert client.get("/").status_code == 302
    response = login(client, next_url="/trends?days=30")
    assert response.status_code == 302 and response.headers["Location"] == "/trends?days=30"
    for url in PAGES + APIS:
        assert client.get(url).status_code == 200, url
    assert post(client, "/logout").status_code == 302
    assert client.get("/").status_code == 302


# Every way a `next` could send the browser to another site (or break the response), and encoded forms.
ELSEWHERE = [
    "//evil.example",
    "//evil.example/",
    "///evil.example",
    "/\\evil.example",
    "\\/evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "\t//evil.example",
    "/x\r\nSet-Cookie: stolen=1",
    "/\r/evil.example",
    " //evil.example",
    "https://evil.example/",
    "https:evil.example",
    "http:/evil.example",
    "javascript:alert(1)",
    "evil.example",
    "./evil",
    "/%2F%2Fevil.example",
    "/%2f/evil.example",
    "/%5Cevil.example",
    "/%09/evil.example",
    "/%0d%0aSet-Cookie:stolen=1",
    "/x\x00",
    "/x\x7f",
    "/\u3000/evil.example",
    "\uff0f/evil.example",
    "/\u0085/evil.example",
]
SAME_SITE = [
    "/",
    "/trends?days=30",
    "/day/2024-05-01",
    "/api/export/events.csv?from=2024-05-01&to=2024-05-31",
    "/diary#entry-3",
    "/trends?days=7&end=2024-05-03",
]


@pytest.mark.parametrize("target", ELSEWHERE)
def test_login_refuses_a_next_that_is_not_a_page_here_with_a_400(network_app, target):
    """Before: "/\t/evil.example" logged in and answered 302 Location: //evil.example (browsers drop the
    tab), and a CR/LF in next was a 500 with a traceback (a newline in a header)."""
    client = network_app.test_client()
    assert client.get("/login", query_string={"next": target}).status_code == 400
    response = login(client, next_url=target)
    assert response.status_code == 400 and "Location" not in response.headers
    assert "only goes to one of its own pages" in text(response)
    assert client.get("/").status_code == 302  # and nobody was logged in


def test_the_tab_trick_from_the_report_is_a_400(network_app):
    client = network_app.test_client()
    response = login(client, next_url="/\t/evil.example")  # what /login?next=/%09/evil.example puts in the form
    assert "evil" not in response.headers.get("Location", "") and response.status_code == 400
    assert client.get("/login?next=/%09/evil.example").status_code == 400


def test_a_newline_in_next_is_a_400_not_a_500(db_path):
    set_password(db_path, "correct horse")
    app = create_app({"DATABASE": str(db_path), "LISTEN_ON_NETWORK": True})  # not TESTING: errors are pages, as served
    for target in ("/x\r\nSet-Cookie: stolen=1", "/x\nLocation: //evil.example"):
        response = login(app.test_client(), next_url=target)
        assert response.status_code == 400 and "stolen" not in str(response.headers)


@pytest.mark.parametrize("target", SAME_SITE)
def test_login_goes_back_to_the_page_asked_for(network_app, target):
    client = network_app.test_client()
    page = text(client.get("/login", query_string={"next": target}))
    assert 'name="next" value="' in page
    response = login(client, next_url=target)
    assert response.status_code == 302 and response.headers["Location"] == target


def test_a_login_without_next_goes_to_now(network_app):
    assert login(network_app.test_client(), next_url="").headers["Location"] == "/"


@pytest.mark.parametrize("target", ELSEWHERE)
def test_same_site_path_refuses_every_way_to_another_site(target):
    assert not same_site_path(target)


@pytest.mark.parametrize("target", SAME_SITE)
def test_same_site_path_takes_the_pages_paths(target):
    assert same_site_path(target)


def test_a_page_asked_for_before_login_is_kept_as_next(network_app):
    response = network_app.test_client().get("/trends?days=30")
    assert response.headers["Location"] == "/login?next=/trends?days%3D30"


def test_changing_the_password_logs_everyone_out(network_app, db_path):
    client = network_app.test_client()
    login(client)
    assert client.get("/").status_code == 200
    set_password(db_path, "battery staple")
    assert client.get("/").status_code == 302


def session_cookie(client) -> str:
    return client.get_cookie("session").value


def with_cookie(app, cookie: str):
    """Another browser holding a copy of that session cookie."""
    other = app.test_client()
    other.set_cookie("session", cookie)
    return other


def test_logout_ends_the_session_on_the_server_so_a_copy_of_the_cookie_opens_nothing(network_app):
    """Before: the cookie kept from before logging out still opened /settings (for 30 days)."""
    client = network_app.test_client()
    login(client)
    copied = session_cookie(client)
    assert with_cookie(network_app, copied).get("/settings").status_code == 200  # the copy works while logged in
    assert post(client, "/logout").status_code == 302
    assert client.get("/settings").status_code == 302
    replayed = with_cookie(network_app, copied)
    assert replayed.get("/settings").status_code == 302
    assert replayed.get("/api/export/diary.json").status_code == 401
    assert replayed.get("/api/live").status_code == 401


def test_logging_out_in_one_browser_leaves_the_others_logged_in(network_app):
    phone, laptop = network_app.test_client(), network_app.test_client()
    login(phone)
    login(laptop)
    post(phone, "/logout")
    assert phone.get("/").status_code == 302
    assert laptop.get("/").status_code == 200


def test_a_password_change_ends_every_session_on_the_server(network_app, db_path):
    phone, laptop = network_app.test_client(), network_app.test_client()
    login(phone)
    login(laptop)
    copied = session_cookie(laptop)
    set_password(db_path, "battery staple")
    with Store(db_path) as store:
        assert store.device_info()["dashboard.sessions"] == {}
    for client in (phone, laptop, with_cookie(network_app, copied)):
        assert client.get("/settings").status_code == 302
    login(phone, "battery staple")
    assert phone.get("/settings").status_code == 200


def test_the_session_ids_are_stored_hashed(network_app, db_path):
    client = network_app.test_client()
    login(client)
    with client.session_transaction() as session:
        session_id = session["sid"]
    with Store(db_path) as store:
        stored = store.device_info()["dashboard.sessions"]
    assert len(stored) == 1 and session_id not in str(stored)


def test_a_database_that_cannot_be_written_still_logs_in_and_out(network_app, monkeypatch):
    """A read-only SD card: logins and logouts are kept in the dashboard's memory instead."""

    def read_only(self, values):
        raise StoreError(f"{self.path}: cannot write device information: the file or the disk is read-only")

    monkeypatch.setattr(Store, "set_device_info", read_only)
    client = network_app.test_client()
    assert login(client).status_code == 302
    copied = session_cookie(client)
    assert client.get("/settings").status_code == 200
    post(client, "/logout")
    assert with_cookie(network_app, copied).get("/settings").status_code == 302


@pytest.mark.parametrize("url", PAGES + APIS + ["/api/export/sessions.json", "/api/export/diary.csv", "/nowhere"])
def test_pages_and_exports_are_never_kept_by_a_browser_or_proxy(client, day_db, url):
    """Before: only /api/live said no-store; the back button after logging out showed the diary."""
    assert client.get(url).headers["Cache-Control"] == "no-store"


def test_the_static_files_may_be_cached(client):
    assert "no-store" not in client.get("/static/style.css").headers.get("Cache-Control", "")


def test_pages_on_the_network_are_never_kept_either(network_app):
    client = network_app.test_client()
    login(client)
    for url in ("/diary", "/settings", "/api/export/diary.json", "/login"):
        assert client.get(url).headers["Cache-Control"] == "no-store", url


def test_repeated_wrong_passwords_are_slowed_down(network_app):
    client = network_app.test_client()
    for _ in range(5):
        assert login(client, "guess").status_code == 401
    response = login(client)  # even the right one waits now
    assert response.status_code == 429 and "wait a minute" in text(response)


def test_static_files_and_the_login_page_need_no_login(network_app):
    client = network_app.test_client()
    assert client.get("/static/style.css").status_code == 200
    assert client.get("/login").status_code == 200


def test_on_loopback_there_is_no_login(client):
    assert client.get("/").status_code == 200
    assert client.get("/login").status_code == 302


def test_set_password_stores_only_a_hash(db_path):
    set_password(db_path, "correct horse")
    with Store(db_path) as store:
        stored = store.device_info()["dashboard.password_hash"]
    assert "correct horse" not in stored and stored.startswith(("scrypt:", "pbkdf2:"))
    with pytest.raises(CushionError, match="at least 8"):
        set_password(db_path, "short")


def test_the_device_page_never_shows_the_dashboards_secrets(client, db_path):
    set_password(db_path, "correct horse")
    page = text(client.get("/device"))
    assert "dashboard." not in page and "scrypt" not in page and "pbkdf2" not in page


# ---- serve() ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host,loopback",
    [
        ("127.0.0.1", True),
        ("127.0.1.1", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("", False),
        ("192.168.1.20", False),
        ("cushion.local", False),
    ],
)
def test_loopback_hosts(host, loopback):
    assert is_loopback(host) is loopback


def test_serve_refuses_the_network_without_a_password(db_path):
    with pytest.raises(CushionError) as caught:
        serve(db_path, host="0.0.0.0", port=8080)
    message = str(caught.value)
    assert "\n" not in message and "password" in message and "set-password" in message


class FakeServer:
    def __init__(self, app, **kwargs):
        self.app, self.kwargs, self.ran, self.closed = app, kwargs, False, False

    def run(self):
        self.ran = True

    def close(self):
        self.closed = True


@pytest.fixture
def fake_waitress(monkeypatch):
    made = []

    def create_server(app, **kwargs):
        made.append(FakeServer(app, **kwargs))
        return made[-1]

    import waitress

    monkeypatch.setattr(waitress, "create_server", create_server)
    return made


def test_serve_runs_waitress_on_loopback_without_login(db_path, fake_waitress, capsys):
    serve(db_path)
    (server,) = fake_waitress
    assert server.kwargs["host"] == "127.0.0.1" and server.kwargs["port"] == 8080
    assert server.ran and server.closed
    assert not server.app.config["LISTEN_ON_NETWORK"] and not server.app.debug
    # A streamed export waits for the network instead of piling up in memory (waitress's default: 16 MB).
    assert server.kwargs["outbuf_high_watermark"] <= 1024 * 1024
    assert "http://127.0.0.1:8080/" in capsys.readouterr().out


def test_serve_on_the_network_with_a_password_needs_login(db_path, fake_waitress):
    set_password(db_path, "correct horse")
    serve(db_path, host="0.0.0.0", port=8081)
    (server,) = fake_waitress
    assert server.app.config["LISTEN_ON_NETWORK"]
    assert server.app.test_client().get("/").status_code == 302


def test_serve_reports_a_port_in_use_on_one_line(db_path, monkeypatch):
    import waitress

    def busy(app, **kwargs):
        raise OSError(98, "Address already in use")

    monkeypatch.setattr(waitress, "create_server", busy)
    with pytest.raises(CushionError, match="cannot listen on 127.0.0.1:8080: Address already in use"):
        serve(db_path)
    with pytest.raises(CushionError, match="port"):
        serve(db_path, port=70000)


def test_the_package_exposes_the_owners_entry_points():
    assert callable(dashboard.serve) and callable(dashboard.set_password) and callable(dashboard.create_app)


# ---- bad parameters ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "url,message",
    [
        ("/day/2024-13-01", "not a real date"),
        ("/day/2024-5-1", "YYYY-MM-DD"),
        ("/day/yesterday", "YYYY-MM-DD"),
        ("/day/20240501", "YYYY-MM-DD"),
        ("/day/0001-01-01", "out of range"),
        ("/day?date=2024-02-30", "not a real date"),
        ("/trends?days=14", "must be one of 7, 30, 365"),
        ("/trends?days=seven", "must be one of 7, 30, 365"),
        ("/trends?days=7&end=2024-99-01", "end"),
        ("/api/day/2024-02-30", "not a real date"),
        ("/api/trends?days=0", "must be one of"),
        ("/api/export/events.csv?from=2024-05-10&to=2024-05-01", "after"),
        ("/api/export/events.csv?from=May", "from"),
        ("/api/diary?to=2024-05-32", "to"),
    ],
)
def test_bad_parameters_get_a_400_that_says_why(client, url, message):
    response = client.get(url)
    assert response.status_code == 400
    body = response.get_json()["error"] if url.startswith("/api/") else text(response)
    assert message in body


def test_unknown_pages_and_exports_are_404(client):
    assert client.get("/nowhere").status_code == 404
    response = client.get("/api/export/passwords.csv")
    assert response.status_code == 404 and "sessions, events or diary" in response.get_json()["error"]


def test_a_database_problem_is_a_503_naming_the_file(tmp_path):
    path = tmp_path / "history.db"
    app = create_app({"TESTING": True, "DATABASE": str(path)})
    path.unlink()
    (tmp_path / "history.db-wal").unlink(missing_ok=True)
    path.write_text("this is not a database " * 100)
    response = app.test_client().get("/")
    assert response.status_code == 503
    assert "not a SQLite database" in text(response)


def test_serve_really_serves_under_waitress_and_stops_on_ctrl_c(db_path):
    """The real thing: a process running serve() answers on 127.0.0.1, then stops cleanly on SIGINT."""
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    root = ROOT
    # As at a terminal, where Ctrl-C works: a runner that started the tests
    # in the background has SIGINT ignored, and a child inherits that.
    child = subprocess.Popen(
        [sys.executable, "-c", f"import dashboard; dashboard.serve({str(db_path)!r}, port={port})"],
        cwd=root,
        env=dict(os.environ, PYTHONPATH=str(root)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/live", timeout=2) as response:
                    assert response.status == 200
                    assert response.headers["Server"] == "smart-cushion"
                    break
            except OSError:
                assert child.poll() is None, child.stderr.read()
                assert time.monotonic() < deadline, "the dashboard never answered"
                time.sleep(0.1)
    finally:
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=10)
    assert child.returncode == 0, err
    assert f"http://127.0.0.1:{port}/" in out
