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
