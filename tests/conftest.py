"""The fixtures the tests share (flaskr and sqlite-utils style), one place for all of them.

- `factory` (also `mock_factory`): gpiozero's mock pin factory as Device.pin_factory for one test;
- `fresh_store`: a history database of the test's own; `db_path` / `store` / `day_db`: the
  dashboard's database, empty or holding one known day (tests/dashboard_support.py);
- `app` / `client`: the dashboard on that database;
- `sitter`: a simulated person's frames for a scenario;
- every test gets config and data folders of its own (`own_config_and_data_folders`), and
  `calibrated_home` puts a calibrated config where `cushion calibrate` leaves it.
"""

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory

from dashboard import create_app
from device.storage.store import Store
from tests.dashboard_support import write_day


@pytest.fixture()
def factory():
    """gpiozero's mock pin factory as Device.pin_factory for one test (HX711 tests plug chips into it)."""
    saved = Device.pin_factory
    Device.pin_factory = MockFactory()
    try:
        yield Device.pin_factory
    finally:
        if Device.pin_factory is not None:
            Device.pin_factory.reset()
        Device.pin_factory = saved


@pytest.fixture()
def mock_factory(factory):
    """The same mock pin factory, by the name the buzzer, LED and daemon tests use."""
    return factory


@pytest.fixture()
def fresh_store(tmp_path):
    """A history database of this test's own, open."""
    with Store(tmp_path / "history.db") as store:
        yield store


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "history.db"


@pytest.fixture
def store(db_path):
    with Store(db_path) as opened:
        yield opened


@pytest.fixture
def app(db_path):
    return create_app({"TESTING": True, "DATABASE": str(db_path)})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def day_db(db_path):
    """The database with one known day's history in it (tests/dashboard_support.py)."""
    with Store(db_path) as store:
        write_day(store)
    return db_path


@pytest.fixture
def sitter():
    """Frames of a simulated person: sitter(scenario, rate_hz=80, seed=1) -> (Simulation, t, raw)."""
    import numpy as np

    from device.sim.sitter import DEMO_CALIBRATION, Simulation

    def frames(scenario, rate_hz: int = 80, seed: int = 1):
        sim = Simulation(scenario, calibration=DEMO_CALIBRATION, rate_hz=rate_hz, seed=seed)
        blocks = list(sim.blocks())
        return sim, np.concatenate([b.t for b in blocks]), np.concatenate([b.raw for b in blocks])

    return frames


@pytest.fixture(autouse=True)
def own_config_and_data_folders(tmp_path_factory, monkeypatch):
    """Commands default to ~/.config/smart-cushion and ~/.local/share/smart-cushion:
    every test gets empty ones of its own (subprocesses inherit them), so no test
    reads or writes the real ones of whoever runs the suite."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))


@pytest.fixture()
def calibrated_home():
    """The default config file (in the test's own folder) holds a calibration,
    as `cushion calibrate` leaves it: commands run without --config find it."""
    from device.config import default_config_path
    from tests.signals import CAL

    path = default_config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"[calibration]\noffset = {list(CAL.offset)}\ncounts_per_kg = {list(CAL.counts_per_kg)}\n")
    return path
