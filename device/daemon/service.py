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
opened or written is the daemon's to retry (device.daemon.loop), while sampling
and prompting go on. What does stop it is what the user must fix first: a
bad config file, GPIO pins that cannot be opened.

With an [mqtt] host in the config, a device.mqtt.publisher.Publisher runs
beside the loop (started after the daemon, stopped after its last batch so
the last events go out); a broker that cannot be reached is only logged.

Exit status of `run`: 0 after a clean stop (SIGTERM, SIGINT, --seconds, the
end of the simulated day); 1 if the last history could not be saved at
shutdown (the log says what was lost); 2 for a CushionError (the CLI).
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

from device.config import Alerts as AlertsConfig
from device.config import Config, default_db_path, prepare_config
from device.daemon.shutdown import stop_on_signals
from device.hardware.gpio import open_gpio, open_hx711

log = logging.getLogger("cushion")


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
    # PWM-capable mock pins whatever [alerts] says now: a setting may switch to
    # a PWM LED or a passive buzzer while the daemon runs.
    Device.pin_factory = MockFactory(pin_class=MockPWMPin)


def open_source(config: Config, sim: bool, speed: float, seed: int, hours: float, start_wall: datetime | None = None):
    from device.daemon.sources import SensorSource, SimulatedSource

    if not sim:
        return SensorSource(open_hx711(config))
    from device.sim.sitter import Simulation, random_day

    simulation = Simulation(
        random_day(seed, hours=hours), calibration=config.calibration, rate_hz=config.sensor.rate_hz, seed=seed
    )
    if speed != 1:
        return SimulatedSource(simulation, speed=speed, start_wall=start_wall)
    from gpiozero.pins.mock import MockFactory

    from device.sim.hx711 import attach_array

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


def run(
    config_path: Path | None,
    db_path: Path | None,
    *,
    sim: bool = False,
    speed: float = 1.0,
    seconds: float | None = None,
    seed: int = 1,
    hours: float = 8.0,
    alerts_on: bool = True,
    start_wall: datetime | None = None,
) -> int:
    """`cushion run`: returns the exit status (module docstring)."""
    from device.daemon.loop import BUSY_TIMEOUT_S, Daemon
    from device.storage.store import Store

    # From the start: a SIGTERM while the pins settle is a clean stop too.
    stop = threading.Event()
    restore = stop_on_signals(stop)
    source = daemon = publisher = None
    try:
        config_path, config = prepare_config(config_path, warn=log.warning)
        db_path = db_path or default_db_path()
        if sim:
            _use_mock_pins(config)
        source = open_source(config, sim, speed, seed, hours, start_wall)
        daemon_holder: list = []
        open_store = lambda: Store.open(db_path, busy_timeout_s=BUSY_TIMEOUT_S)  # noqa: E731
        if config.mqtt.enabled:
            publisher = _open_publisher(config, db_path, daemon_holder)
        info = {
            "source": "simulated sitter" + (" through the HX711 model" if sim and speed == 1 else "")
            if sim
            else "HX711",
            "rate_hz": config.sensor.rate_hz,
            "calibration": {
                "offset": list(config.calibration.offset),
                "counts_per_kg": list(config.calibration.counts_per_kg),
            },
            "config_path": str(config_path),
            "started_wall": datetime.now().astimezone().isoformat(timespec="seconds"),
        }
        daemon = Daemon(
            config,
            None,
            source,
            None,
            device_info=info,
            open_store=open_store,
            open_alerts=(lambda alerts_config: _open_alerts(alerts_config, daemon_holder)) if alerts_on else None,
            mqtt=publisher,
        )
        daemon_holder.append(daemon)
        if publisher is not None:
            publisher.start()
            log.info(
                "MQTT: publishing as %s to %s:%d (%s)",
                publisher.cushion_id,
                config.mqtt.host,
                config.mqtt.port,
                "TLS" if config.mqtt.tls else "no TLS",
            )
            if config.mqtt.username and config.mqtt.username != publisher.cushion_id:
                # MQTT 3.1.1 brokers drop a publish their ACL denies without a word to the client.
                log.info(
                    "MQTT: user name %s is not the cushion id %s: fine unless the broker's ACL keys topics "
                    "by user name (the fleet set-up of docs/mqtt.md does), which would drop this cushion's messages",
                    config.mqtt.username,
                    publisher.cushion_id,
                )
        log.info(
            "running: config %s, history %s, %s",
            config_path,
            db_path,
            "simulated" if sim else f"HX711 at {config.sensor.rate_hz} Hz",
        )
        started = time.monotonic()
        daemon.run(stop, max_seconds=seconds)
        elapsed = max(time.monotonic() - started, 1e-9)
        log.info(
            "stopped: %d frames in %.1f s (%.1f frames/s), %d dropped, %d history batches, %d live writes",
            daemon.counters.frames,
            elapsed,
            daemon.counters.frames / elapsed,
            int(getattr(source, "dropped", 0)),
            daemon.counters.batches,
            daemon.counters.live_writes,
        )
        return 1 if daemon.lost else 0
    finally:
        try:
            if publisher is not None:
                publisher.stop()
            if daemon is not None and daemon.alerts is not None:
                daemon.alerts.close()
            if source is not None:
                source.close()
            if daemon is not None and daemon.store is not None:
                daemon.store.close()
        finally:
            restore()


def _open_publisher(config: Config, db_path: Path, daemon_holder: list):
    """The MQTT publisher for [mqtt], its commands going to the daemon (once there is one)."""
    from device.mqtt.publisher import Publisher, cushion_id_for
    from device.storage.store import Store

    # The publisher's thread reads the outbox with a connection of its own; it may wait for the loop's writes.
    open_store = lambda: Store.open(db_path, busy_timeout_s=1.0)  # noqa: E731
    return Publisher(
        config,
        open_store,
        cushion_id_for(config, open_store),
        on_command=lambda command: daemon_holder and daemon_holder[0].on_command(command),
    )


def _open_alerts(a: AlertsConfig, daemon_holder: list):
    """The buzzer, LED and button of [alerts] `a`, their button wired to the daemon."""
    from device.hardware.alerts import Alerts

    return open_gpio(
        f"[alerts] buzzer_pin={a.buzzer_pin} led_pin={a.led_pin} button_pin={a.button_pin}: "
        "cannot open the buzzer, LED and button",
        lambda: Alerts(
            a,
            on_snooze=lambda: daemon_holder and daemon_holder[0].on_snooze(),
            on_mute=lambda: daemon_holder and daemon_holder[0].on_mute(),
        ),
    )


def setup_logging(verbose: bool = False) -> None:
    # Under systemd, journald adds its own timestamps.
    fmt = "%(levelname)s %(message)s" if os.environ.get("JOURNAL_STREAM") else "%(asctime)s %(levelname)s %(message)s"
    logging.basicConfig(stream=sys.stderr, level=logging.DEBUG if verbose else logging.INFO, format=fmt)
