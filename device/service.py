"""Builds and runs the daemon for `cushion run`: paths, pins, frame source, signals.

--sim without --speed (or --speed 1) runs the simulated sitter through the
bit-level HX711 model on gpiozero mock pins, read by the real driver in real
time: the whole sensor path end to end. --speed N > 1 cannot bit-bang N
times faster than the chip's microsecond timing allows, so it takes the
sitter's frames directly (same pipeline, alerts and store, only the sensor
edge differs).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

from device.config import Config, load_config
from device.errors import CushionError

log = logging.getLogger("cushion")

CONFIG_TEMPLATE = """\
# smart-cushion configuration (see README.md and ../shared/SPEC.md section 6).
# Every key has a default; uncomment what you need to change.

# [calibration]                 # written by `cushion tare` and `cushion calibrate`
# offset = [0, 0, 0, 0]
# counts_per_kg = [21000.0, 21000.0, 21000.0, 21000.0]

# [sensor]
# clock_pin = 5
# data_pins = [6, 13, 19, 26]
# rate_hz = 80

# [alerts]
# buzzer = "active"
# buzzer_pin = 17
# led_pin = 27
# button_pin = 22
"""


def default_config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "smart-cushion" / "config.toml"


def default_db_path() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "smart-cushion" / "history.db"


def prepare_config(path: Path | None) -> tuple[Path, Config]:
    """The config to use; on first run the default file is created from a commented template."""
    if path is None:
        path = default_config_path()
        if not path.exists():
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(CONFIG_TEMPLATE)
            except OSError as exc:
                raise CushionError(f"{path}: cannot create the config file: {exc.strerror}") from None
    return path, load_config(path)


class SitterSignal:
    """The simulated sitter as four HX711 analogue inputs (one computation per instant)."""

    def __init__(self, sim):
        self.sim = sim
        self._t = None
        self._counts = (0, 0, 0, 0)

    def channel(self, index: int):
        def source(t: float) -> int:
            if self._t is None or abs(t - self._t) > 0.001:
                self._t = t
                self._counts = self.sim.counts_at(min(max(t, 0.0), self.sim.duration_s))
            return int(self._counts[index])
        return source


def _use_mock_pins(config: Config) -> None:
    from gpiozero import Device
    from gpiozero.pins.mock import MockFactory, MockPWMPin

    if os.environ.get("GPIOZERO_PIN_FACTORY"):
        return
    pwm = config.alerts.led == "pwm" or config.alerts.buzzer == "passive"
    Device.pin_factory = MockFactory(pin_class=MockPWMPin) if pwm else MockFactory()


def open_hx711(config: Config, pin_factory=None):
    """The HX711 array on the configured pins, with GPIO problems as one-line errors."""
    from device.hx711 import HX711Array

    try:
        return HX711Array(config.sensor, pin_factory=pin_factory)
    except CushionError:
        raise
    except PermissionError as exc:
        raise CushionError(f"[sensor] pins: no permission to use the GPIO ({exc}); "
                           "add the user to the gpio group: sudo usermod -aG gpio $USER") from None
    except Exception as exc:  # gpiozero's BadPinFactory, PinInvalidPin, GPIOPinInUse...
        raise CushionError(f"[sensor] clock_pin={config.sensor.clock_pin} data_pins={list(config.sensor.data_pins)}: "
                           f"cannot open the HX711 pins: {type(exc).__name__}: {exc}") from None


def open_source(config: Config, sim: bool, speed: float, seed: int, hours: float, start_wall: datetime | None = None):
    from device.sources import SensorSource, SimulatedSource

    if not sim:
        return SensorSource(open_hx711(config))
    from device.sitter import Simulation, random_day

    simulation = Simulation(random_day(seed, hours=hours), calibration=config.calibration,
                            rate_hz=config.sensor.rate_hz, seed=seed)
    if speed != 1:
        return SimulatedSource(simulation, speed=speed, start_wall=start_wall)
    from gpiozero import Device
    from device.hx711_model import attach_array

    signal_in = SitterSignal(simulation)
    attach_array(Device.pin_factory, config.sensor, [signal_in.channel(i) for i in range(4)], seed=seed)
    return SensorSource(open_hx711(config, Device.pin_factory))


def run(config_path: Path | None, db_path: Path | None, *, sim: bool = False, speed: float = 1.0,
        seconds: float | None = None, seed: int = 1, hours: float = 8.0, alerts_on: bool = True,
        start_wall: datetime | None = None) -> int:
    """`cushion run`: returns the exit status."""
    from device.daemon import Daemon
    from device.store import Store

    config_path, config = prepare_config(config_path)
    db_path = db_path or default_db_path()
    if sim:
        _use_mock_pins(config)
    store = Store.open(db_path)
    source = alerts = None
    try:
        source = open_source(config, sim, speed, seed, hours, start_wall)
        daemon_holder: list = []
        if alerts_on:
            alerts = _open_alerts(config, daemon_holder)
        daemon = Daemon(config, store, source, alerts)
        daemon_holder.append(daemon)
        store.set_device_info({
            "source": "simulated sitter" + (" through the HX711 model" if sim and speed == 1 else "") if sim else "HX711",
            "rate_hz": config.sensor.rate_hz,
            "calibration": {"offset": list(config.calibration.offset),
                            "counts_per_kg": list(config.calibration.counts_per_kg)},
            "config_path": str(config_path),
            "started_wall": datetime.now().astimezone().isoformat(timespec="seconds"),
        })
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        log.info("running: config %s, history %s, %s", config_path, db_path,
                 "simulated" if sim else f"HX711 at {config.sensor.rate_hz} Hz")
        started = time.monotonic()
        daemon.run(stop, max_seconds=seconds)
        elapsed = max(time.monotonic() - started, 1e-9)
        log.info("stopped: %d frames in %.1f s (%.1f frames/s), %d dropped, %d history batches, %d live writes",
                 daemon.counters.frames, elapsed, daemon.counters.frames / elapsed,
                 int(getattr(source, "dropped", 0)), daemon.counters.batches, daemon.counters.live_writes)
        return 0
    finally:
        if alerts is not None:
            alerts.close()
        if source is not None:
            source.close()
        store.close()


def _open_alerts(config: Config, daemon_holder: list):
    from device.alerts import Alerts

    return Alerts(config.alerts,
                  on_snooze=lambda: daemon_holder and daemon_holder[0].on_snooze(),
                  on_mute=lambda: daemon_holder and daemon_holder[0].on_mute())


def setup_logging(verbose: bool = False) -> None:
    # Under systemd, journald adds its own timestamps.
    fmt = "%(levelname)s %(message)s" if os.environ.get("JOURNAL_STREAM") else "%(asctime)s %(levelname)s %(message)s"
    logging.basicConfig(stream=sys.stderr, level=logging.DEBUG if verbose else logging.INFO, format=fmt)
