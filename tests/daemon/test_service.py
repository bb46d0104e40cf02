"""`cushion run` as device/daemon/service.py builds it.

Start-up whatever the disk, exit statuses, GPIO errors, config.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
import tomllib
import warnings
from pathlib import Path

import pytest
from gpiozero.exc import BadPinFactory, PinFactoryFallback

from device.config import Config, Sensor, config_from_dict, prepare_config, render_template
from device.daemon import service
from device.errors import CushionError
from device.hardware import gpio
from device.storage.store import Store
from tests.paths import ROOT

ON_A_PI = Path("/proc/device-tree/model").exists()


@pytest.fixture
def log(caplog):
    caplog.set_level(logging.INFO, logger="cushion")
    return caplog


def test_run_starts_without_its_database_keeps_going_and_says_what_it_could_not_save(tmp_path, log):
    blocked = tmp_path / "file"
    blocked.write_text("a file where the database's folder should be\n")
    # A simulated 10 minutes at 1000 times real time: the sitter sits down after ~4 minutes.
    status = service.run(None, blocked / "history.db", sim=True, speed=1000, seconds=600, alerts_on=False)
    assert status == 1
    text = log.text
    assert "history not saved (sampling and prompting go on" in text and "cannot create its folder" in text
    assert re.search(r"history NOT saved at shutdown: \d+ events, 1 sessions, \d+ minute rows", text)
    assert "sit at" in text and "stopped:" in text


def test_run_exits_0_once_everything_is_saved(tmp_path, log):
    db = tmp_path / "history.db"
    assert service.run(tmp_path / "c.toml", db, sim=True, speed=1000, seconds=600, alerts_on=False) == 0
    assert f"{tmp_path / 'c.toml'}: no such file; using the default config (uncalibrated)" in log.text
    with Store(db) as store:
        assert store.device_info()["source"] == "simulated sitter"
        assert store.db["sessions"].count == 1


def test_a_fifo_as_config_is_refused(tmp_path):
    fifo = tmp_path / "config.toml"
    os.mkfifo(fifo)

    def hung(*_):
        raise TimeoutError("reading the FIFO hung")

    saved = signal.signal(signal.SIGALRM, hung)
    signal.alarm(10)
    try:
        with pytest.raises(CushionError, match="not a regular file"):
            prepare_config(fifo)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, saved)


def test_gpio_fallback_warnings_fold_into_one_line():
    def no_gpio():
        warnings.warn(PinFactoryFallback("Falling back from lgpio: No module named 'lgpio'"), stacklevel=1)
        warnings.warn(PinFactoryFallback("Falling back from native: unable to locate Pi revision"), stacklevel=1)
        raise BadPinFactory("Unable to load any default pin factory!")

    with warnings.catch_warnings(record=True) as escaped:
        warnings.simplefilter("always")
        with pytest.raises(CushionError) as caught:
            gpio.open_gpio("[sensor] pins: cannot open the HX711 pins", no_gpio)
        told = []

        def fallback_then_pins():
            warnings.warn(PinFactoryFallback("Falling back from lgpio: No module named 'lgpio'"), stacklevel=1)
            return "pins"

        assert gpio.open_gpio("x", fallback_then_pins, warn=told.append) == "pins"
    assert escaped == []
    assert str(caught.value) == (
        "no GPIO that gpiozero can use on this machine (not a Raspberry Pi, or lgpio "
        "is not installed); add --sim to try a simulated cushion"
    )
    assert told == ["Falling back from lgpio: No module named 'lgpio'"]


def test_gpio_errors_name_no_python_exception():
    def twice():
        raise ValueError("a pin is used twice: clocks (5,), data (6, 6, 19, 26)")

    with pytest.raises(CushionError) as caught:
        gpio.open_gpio("[sensor] clock_pin=5: cannot open the HX711 pins", twice)
    assert (
        str(caught.value)
        == "[sensor] clock_pin=5: cannot open the HX711 pins: a pin is used twice: clocks (5,), data (6, 6, 19, 26)"
    )


def cushion(*args, env=None):
    environment = {k: v for k, v in os.environ.items() if k != "GPIOZERO_PIN_FACTORY"} | (env or {})
    return subprocess.run(
        [sys.executable, "-m", "device.cli", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.skipif(ON_A_PI, reason="a Pi has GPIO")
@pytest.mark.parametrize("command", ["run", "check", "tare", "record"])
def test_a_sensor_command_without_gpio_is_one_line_pointing_to_sim(tmp_path, command):
    args = [str(tmp_path / "r.csv")] if command == "record" else []
    args += ["--db", str(tmp_path / "h.db")] if command == "run" else []
    result = cushion(command, *args, "--config", str(tmp_path / "c.toml"))
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if "ARNING" not in line.upper()]  # the missing config
    assert lines == [
        "cushion: error: no GPIO that gpiozero can use on this machine (not a Raspberry Pi, "
        "or lgpio is not installed); add --sim to try a simulated cushion"
    ]
    assert "Unable to load any default pin factory" not in result.stderr


def test_version_is_the_projects():
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    result = cushion("--version")
    assert (result.returncode, result.stdout) == (0, f"cushion {version}\n")


@pytest.mark.skipif(ON_A_PI, reason="a Pi has GPIO")
def test_run_sim_with_a_pin_factory_that_cannot_work_here_is_one_line(tmp_path):
    result = cushion(
        "run",
        "--sim",
        "--seconds",
        "2",
        "--db",
        str(tmp_path / "h.db"),
        env={"GPIOZERO_PIN_FACTORY": "native", "XDG_CONFIG_HOME": str(tmp_path)},
    )
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("cushion: error: [alerts] buzzer_pin = 17: ") and "Traceback" not in result.stderr
    # Without the buzzer and LED, the simulated chips need no pins but their own mock ones.
    result = cushion(
        "run",
        "--sim",
        "--seconds",
        "2",
        "--no-alerts",
        "--db",
        str(tmp_path / "h.db"),
        env={"GPIOZERO_PIN_FACTORY": "native", "XDG_CONFIG_HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr


def test_the_config_template_describes_every_key_and_uncommented_gives_the_defaults():
    text = render_template()
    assert "SPEC" not in text and "docs/config.md" in text
    assert tomllib.loads(text) == {}
    uncommented = "\n".join(re.sub(r"^# (\[\w+\]|\w+ = )", r"\1", line) for line in text.splitlines())
    data = tomllib.loads(uncommented)
    assert config_from_dict(data, "template") == Config(sensor=Sensor(clock_pins=(5, 12, 16, 20)))
    for section in ("calibration", "geometry", "detect", "breaks", "sensor", "alerts"):
        assert set(data[section]) == set(getattr(Config(), section).__slots__), section
