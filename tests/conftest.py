"""Fixtures shared across test files."""

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory

# The dashboard's app / client / runner / database fixtures (flaskr style).
from tests.dashboard_support import app, client, day_db, db_path, runner, store  # noqa: F401


@pytest.fixture()
def factory():
    """gpiozero's mock pin factory as Device.pin_factory for one test (HX711 tests plug chips into it)."""
    saved = Device.pin_factory
    Device.pin_factory = MockFactory()
    try:
        yield Device.pin_factory
    finally:
        Device.pin_factory.reset()
        Device.pin_factory = saved


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
