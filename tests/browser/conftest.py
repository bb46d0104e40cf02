"""Real-browser fixtures: Debian's headless chromium driven by Selenium, the dashboard served in a thread.

Every test here skips, saying why, when chromium, chromedriver or selenium is
missing (`apt-get install chromium chromium-driver`; pip `selenium`). The
browser never downloads anything: the driver is /usr/bin/chromedriver and
background networking is off.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest

from dashboard import create_app
from device.storage.store import Store
from tests.sample_history import fill_history

CHROMIUM = os.environ.get("CUSHION_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CUSHION_CHROMEDRIVER", "/usr/bin/chromedriver")
PHONE = (390, 844)
DESKTOP = (1280, 900)


def _chromium() -> str | None:
    return CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")


def _missing() -> str | None:
    if _chromium() is None:
        return f"chromium is not installed ({CHROMIUM}); apt-get install chromium chromium-driver"
    if not Path(CHROMEDRIVER).exists():
        return f"chromedriver is not installed ({CHROMEDRIVER}); apt-get install chromium-driver"
    try:
        import selenium  # noqa: F401  (only whether it is there)
    except ImportError:
        return "selenium is not installed (pip install selenium, in the test extra)"
    return None


def _driver(javascript: bool = True):
    reason = _missing()
    if reason:
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = _chromium()
    for argument in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-extensions",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--window-size={DESKTOP[0]},{DESKTOP[1]}",
    ):
        options.add_argument(argument)
    if not javascript:
        options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(20)
    return driver


@pytest.fixture(scope="session")
def browser():
    driver = _driver()
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="session")
def browser_without_js():
    """The same browser with JavaScript switched off: every page but live updates must work like this."""
    driver = _driver(javascript=False)
    try:
        yield driver
    finally:
        driver.quit()


def set_viewport(driver, width: int, height: int, mobile: bool = False) -> None:
    """Emulate a screen of this CSS size (a phone: mobile=True, as its browser would lay out)."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile},
    )


class LiveServer:
    """The dashboard on 127.0.0.1 and a free port, in a thread (werkzeug's threaded server)."""

    def __init__(self, app):
        from werkzeug.serving import make_server

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="dashboard", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket (a second call does nothing)."""
        if self.thread.is_alive():
            self.server.shutdown()
            self.thread.join(timeout=5)
        self.server.server_close()


class SimulatedDaemon:
    """The real daemon (pipeline, minute rows, live row once a second) on a simulated sitter, in a thread.

    The sitter is seated from the start and stays, so the Now page's sitting
    timer must advance in step with real time.
    """

    def __init__(self, db_path: Path, scenario=None):
        self.db_path = db_path
        self.scenario = scenario  # a device.sim Scenario; None: seated from the start for an hour
        self.daemon = None
        self._stop = threading.Event()
        self._ready = threading.Event()
        self.thread = threading.Thread(target=self._run, name="simulated-daemon", daemon=True)
        self.thread.start()
        assert self._ready.wait(10), "the simulated daemon did not start"

    @property
    def writes(self) -> int:
        return self.daemon.counters.live_writes if self.daemon is not None else 0

    def _run(self) -> None:
        from device.config import Config
        from device.daemon.loop import Daemon
        from device.daemon.sources import SimulatedSource
        from device.sim.sitter import DEMO_CALIBRATION, Person, Scenario, Simulation

        scenario = self.scenario or Scenario(Person(mass_kg=75), seated=True).hold(3600)
        sim = Simulation(scenario, calibration=DEMO_CALIBRATION, rate_hz=80, seed=5)
        with Store(self.db_path) as store:  # a Store belongs to the thread that opened it
            source = SimulatedSource(sim, speed=1.0, start_wall=datetime.now().astimezone())
            self.daemon = Daemon(Config(calibration=DEMO_CALIBRATION), store, source, None)
            self._ready.set()
            self.daemon.run(self._stop)

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(timeout=10)


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "history.db"


@pytest.fixture
def served(db_path):
    """A served dashboard on a database with three weeks of history (through today)."""
    with Store(db_path) as store:
        first = date.today() - timedelta(days=21)
        fill_history(store, first, 22, seed=3, until=datetime.now())
        # Which days have sessions depends on the calendar (the sample
        # history skips most weekend days): tests take them from here.
        days = sorted(
            {
                datetime.fromisoformat(row["start_wall"]).date()
                for row in store.sessions_between(datetime.combine(first, time()), datetime.now())
            }
        )
    # Stale after 2 s instead of 5, so the stale test need not wait as long.
    app = create_app({"DATABASE": str(db_path), "LIVE_STALE_S": 2.0})
    server = LiveServer(app)
    server.days_with_sessions = days
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def served_on_network(db_path):
    """The dashboard as `cushion dashboard --host 0.0.0.0` runs it: a password, every page behind a login
    (served on 127.0.0.1 all the same: the login does not care where it listens)."""
    from dashboard import set_password

    set_password(db_path, PASSWORD)
    server = LiveServer(create_app({"DATABASE": str(db_path), "LISTEN_ON_NETWORK": True}))
    try:
        yield server
    finally:
        server.stop()


PASSWORD = "correct horse battery"


@pytest.fixture
def daemon(db_path, served):
    simulated = SimulatedDaemon(db_path)
    try:
        yield simulated
    finally:
        simulated.stop()
