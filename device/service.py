"""Builds and runs the daemon for `cushion run`: paths, config, pins, frame source, signals.

--sim without --speed (or --speed 1) runs the simulated sitter through the
bit-level HX711 model on gpiozero mock pins, read by the real driver in real
time: the whole sensor path end to end. --speed N > 1 cannot bit-bang N
times faster than the chip's microsecond timing allows, so it takes the
sitter's frames directly (same pipeline, alerts and store, only the sensor
edge differs). The simulated chips sit on mock pins of their own; the
buzzer, LED and button use gpiozero's pin factory: mock pins too, unless
GPIOZERO_PIN_FACTORY names another (so a simulated sitter can drive a real
buzzer on a Pi).

Start-up never depends on the disk: a history database that cannot be
opened or written is the daemon's to retry (device.daemon), while sampling
and prompting go on. What does stop it is what the user must fix first: a
bad config file, GPIO pins that cannot be opened.

Exit status of `run`: 0 after a clean stop (SIGTERM, SIGINT, --seconds, the
end of the simulated day); 1 if the last history could not be saved at
shutdown (the log says what was lost); 2 for a CushionError (the CLI).
"""

from __future__ import annotations

import logging
import os
import stat
import sys
import threading
import time
import warnings
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from device.config import Config, load_config
from device.errors import CushionError
from device.shutdown import stop_on_signals

log = logging.getLogger("cushion")

CONFIG_TEMPLATE = """\
# smart-cushion configuration (README.md, "Config", describes every key).
# Every key has a default (shown); uncomment what you need to change.
# Mistakes are reported on one line naming the key, and nothing starts.

# [calibration]                 # written by `cushion tare` and `cushion calibrate`
# offset = [0.0, 0.0, 0.0, 0.0]          # raw counts of each corner (fl, fr, bl, br) with nothing on it
# counts_per_kg = [21000.0, 21000.0, 21000.0, 21000.0]   # negative for a cell mounted upside down

# [geometry]
# width_mm = 400.0              # load cell spacing, left to right
# depth_mm = 400.0              # load cell spacing, back to front

# [sensor]                      # BCM GPIO numbers (hardware/wiring.md)
# clock_pin = 5                 # PD_SCK, shared by the four HX711s
# data_pins = [6, 13, 19, 26]   # DOUT of fl, fr, bl, br
# rate_hz = 80                  # the boards' RATE setting: 80 or 10
# clock_pins = [5, 12, 16, 20]  # instead of clock_pin: one PD_SCK per chip

# [detect]                      # loads in kg, times in seconds
# seated_kg = 15.0              # seated at this total load ...
# seated_hold_s = 1.5           # ... held this long
# away_kg = 10.0                # away below this load ...
# away_hold_s = 1.5             # ... held this long
# lean_start = 0.2              # sideways balance (0..1) where a lean or twist starts
# lean_end = 0.14               # ... and below which it ends
# lean_end_hold_s = 2.0
# lean_min_s = 10.0             # held this long it is a lean; shorter and peaking at twist_peak, a twist
# twist_peak = 0.3
# fidget_mm = 15.0              # a fidget: the centre of pressure moves this far ...
# fidget_window_s = 1.5         # ... within this time ...
# fidget_speed_mm_s = 40.0      # ... this fast
# fidget_merge_s = 1.0
# fidget_guard_s = 3.0          # no fidgets this close to sitting down or standing up
# perch_sag = 0.3               # forward balance (0..1) of perching on the front edge
# slump_sag = -0.3              # ... and of slumping back
# posture_min_s = 30.0
# posture_end_hold_s = 2.0
# fault_no_data_s = 0.5         # a channel silent this long is at fault
# fault_stuck_s = 2.0           # ... and one frozen this long while the others move
# fault_session_s = 30.0        # all four at fault this long ends a session
# spike_kg = 5.0
# corner_max_kg = 250.0
# corner_min_kg = -50.0
# zero_track_tau_s = 300.0      # how fast the zero follows drift on an empty cushion
# zero_track_max_kg = 1.5

# [breaks]                      # times in minutes unless _s
# break_min_s = 60.0            # an absence this long is a break
# break_after_min = 45.0        # the buzzer asks for a break after this much sitting ...
# overdue_after_min = 60.0      # ... and more insistently after this much
# repeat_min = 15.0             # ... and again this often
# still_min = 20.0              # a nudge to move after this long without moving
# quiet_hours = []              # e.g. ["22:00-07:00"]: the buzzer stays silent then

# [alerts]
# buzzer = "active"             # "active", "passive" (tones) or "none"
# buzzer_pin = 17
# buzzer_enabled = true         # false: prompts are recorded and shown, never sounded
# led = "plain"                 # "plain" or "pwm" (fades)
# led_pin = 27
# button_pin = 22               # -1: no button; press to snooze, hold to mute for the day
# snooze_min = 10.0
# hold_s = 2.0                  # a press this long is a hold
"""


def default_config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "smart-cushion" / "config.toml"


def default_db_path() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "smart-cushion" / "history.db"


def load_config_file(path: str | Path, warn: Callable[[str], object] | None = None) -> Config:
    """The config at ``path``, validated (device.config.load_config).

    A missing file means the defaults (uncalibrated); ``warn`` is told so in
    one line (None: say nothing, for `tare` and `calibrate`, which create
    it). Anything that is not a regular file (a folder, a FIFO that would
    hang the read, a device) is a CushionError.
    """
    path = Path(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        if warn is not None:
            warn(f"{path}: no such file; using the default config (uncalibrated)")
        return Config()
    except OSError as exc:
        raise CushionError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise CushionError(f"{path}: {kind}; give the config file (TOML) itself")
    return load_config(path)


def prepare_config(path: Path | None) -> tuple[Path, Config]:
    """The config to use; on first run the default file is created from a commented template.

    An explicit path that does not exist means the defaults, with a warning.
    """
    if path is None:
        path = default_config_path()
        if not path.exists() and not path.is_symlink():
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(CONFIG_TEMPLATE)
            except OSError as exc:
                raise CushionError(f"{path}: cannot create the config file: {exc.strerror}") from None
    return path, load_config_file(path, warn=log.warning)


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
    """gpiozero's mock pins for the buzzer, LED and button of --sim, unless
    GPIOZERO_PIN_FACTORY names a factory."""
    from gpiozero import Device
    from gpiozero.pins.mock import MockFactory, MockPWMPin

    if os.environ.get("GPIOZERO_PIN_FACTORY"):
        return
    pwm = config.alerts.led == "pwm" or config.alerts.buzzer == "passive"
    Device.pin_factory = MockFactory(pin_class=MockPWMPin) if pwm else MockFactory()


def open_gpio(what: str, opener: Callable[[], object], warn: Callable[[str], object] | None = None):
    """``opener()`` (which opens gpiozero devices), with what goes wrong as one line.

    gpiozero warns (two lines each) when it falls back from one pin factory
    to the next: those become one line through ``warn`` (default: the log)
    if the pins open, or the reason appended to the error if they do not.
    Errors are CushionError "``what``: reason", without Python's names.
    """
    from gpiozero.exc import BadPinFactory, PinFactoryFallback

    warn = warn or log.warning
    error = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PinFactoryFallback)
        try:
            result = opener()
        except CushionError as exc:
            error = str(exc)
        except BadPinFactory:
            # No pin factory loads: this is not a Raspberry Pi (or its GPIO
            # library is missing). The fallbacks' reasons would only confuse.
            raise CushionError("no GPIO that gpiozero can use on this machine (not a Raspberry Pi, or lgpio "
                               "is not installed); add --sim to try a simulated cushion") from None
        except PermissionError as exc:
            error = (f"{what}: no permission to use the GPIO ({exc.strerror or exc}); "
                     "add the user to the gpio group: sudo usermod -aG gpio $USER")
        except Exception as exc:  # gpiozero's BadPinFactory, PinInvalidPin, GPIOPinInUse, ValueError...
            error = f"{what}: {' '.join(str(exc).split()) or 'gpiozero gave no reason'}"
    fallbacks = [w for w in caught if issubclass(w.category, PinFactoryFallback)]
    for other in caught:
        if other not in fallbacks:
            warnings.warn_explicit(other.message, other.category, other.filename, other.lineno)
    if error is not None:
        if fallbacks:
            error += f" ({fallbacks[0].message})"
        if any(word in error.lower() for word in ("busy", "in use", "inuse")):
            error += "; is the cushion service running? Stop it first: sudo systemctl stop cushion"
        raise CushionError(error)
    for fallback in fallbacks:
        warn(str(fallback.message))
    return result


def open_hx711(config: Config, pin_factory=None, warn: Callable[[str], object] | None = None):
    """The HX711 array on the configured pins, with GPIO problems as one-line errors."""
    from device.hx711 import HX711Array

    sensor = config.sensor
    clocks = list(sensor.clock_pins) if sensor.clock_pins else sensor.clock_pin
    where = f"[sensor] clock_pin{'s' if sensor.clock_pins else ''}={clocks} data_pins={list(sensor.data_pins)}"
    return open_gpio(f"{where}: cannot open the HX711 pins",
                     lambda: HX711Array(sensor, pin_factory=pin_factory), warn)


def open_source(config: Config, sim: bool, speed: float, seed: int, hours: float, start_wall: datetime | None = None):
    from device.sources import SensorSource, SimulatedSource

    if not sim:
        return SensorSource(open_hx711(config))
    from device.sitter import Simulation, random_day

    simulation = Simulation(random_day(seed, hours=hours), calibration=config.calibration,
                            rate_hz=config.sensor.rate_hz, seed=seed)
    if speed != 1:
        return SimulatedSource(simulation, speed=speed, start_wall=start_wall)
    from gpiozero.pins.mock import MockFactory

    from device.hx711_model import attach_array

    # The simulated chips on mock pins of their own, whatever factory the alerts use.
    factory = MockFactory()
    signal_in = SitterSignal(simulation)
    try:
        # history=0: the daemon never reads the pins' histories, and a run lasts for days.
        attach_array(factory, config.sensor, [signal_in.channel(i) for i in range(4)], seed=seed, history=0)
        array = open_hx711(config, factory)
    except BaseException:
        factory.reset()
        raise
    return SensorSource(array, on_close=factory.reset)


def run(config_path: Path | None, db_path: Path | None, *, sim: bool = False, speed: float = 1.0,
        seconds: float | None = None, seed: int = 1, hours: float = 8.0, alerts_on: bool = True,
        start_wall: datetime | None = None) -> int:
    """`cushion run`: returns the exit status (module docstring)."""
    from device.daemon import BUSY_TIMEOUT_S, Daemon
    from device.store import Store

    # From the start: a SIGTERM while the pins settle is a clean stop too.
    stop = threading.Event()
    restore = stop_on_signals(stop)
    source = alerts = daemon = None
    try:
        config_path, config = prepare_config(config_path)
        db_path = db_path or default_db_path()
        if sim:
            _use_mock_pins(config)
        source = open_source(config, sim, speed, seed, hours, start_wall)
        daemon_holder: list = []
        if alerts_on:
            alerts = _open_alerts(config, daemon_holder)
        info = {
            "source": "simulated sitter" + (" through the HX711 model" if sim and speed == 1 else "") if sim else "HX711",
            "rate_hz": config.sensor.rate_hz,
            "calibration": {"offset": list(config.calibration.offset),
                            "counts_per_kg": list(config.calibration.counts_per_kg)},
            "config_path": str(config_path),
            "started_wall": datetime.now().astimezone().isoformat(timespec="seconds"),
        }
        daemon = Daemon(config, None, source, alerts, device_info=info,
                        open_store=lambda: Store.open(db_path, busy_timeout_s=BUSY_TIMEOUT_S))
        daemon_holder.append(daemon)
        log.info("running: config %s, history %s, %s", config_path, db_path,
                 "simulated" if sim else f"HX711 at {config.sensor.rate_hz} Hz")
        started = time.monotonic()
        daemon.run(stop, max_seconds=seconds)
        elapsed = max(time.monotonic() - started, 1e-9)
        log.info("stopped: %d frames in %.1f s (%.1f frames/s), %d dropped, %d history batches, %d live writes",
                 daemon.counters.frames, elapsed, daemon.counters.frames / elapsed,
                 int(getattr(source, "dropped", 0)), daemon.counters.batches, daemon.counters.live_writes)
        return 1 if daemon.lost else 0
    finally:
        try:
            if alerts is not None:
                alerts.close()
            if source is not None:
                source.close()
            if daemon is not None and daemon.store is not None:
                daemon.store.close()
        finally:
            restore()


def _open_alerts(config: Config, daemon_holder: list):
    from device.alerts import Alerts

    a = config.alerts
    return open_gpio(f"[alerts] buzzer_pin={a.buzzer_pin} led_pin={a.led_pin} button_pin={a.button_pin}: "
                     "cannot open the buzzer, LED and button",
                     lambda: Alerts(a, on_snooze=lambda: daemon_holder and daemon_holder[0].on_snooze(),
                                    on_mute=lambda: daemon_holder and daemon_holder[0].on_mute()))


def setup_logging(verbose: bool = False) -> None:
    # Under systemd, journald adds its own timestamps.
    fmt = "%(levelname)s %(message)s" if os.environ.get("JOURNAL_STREAM") else "%(asctime)s %(levelname)s %(message)s"
    logging.basicConfig(stream=sys.stderr, level=logging.DEBUG if verbose else logging.INFO, format=fmt)
