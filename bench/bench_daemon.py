"""The daemon's cost: CPU at 80 Hz in real time on --sim, database writes, database size.

- daemon_cpu_percent: 60 s of `cushion run --sim` in real time: the simulated
  sitter through the bit-level HX711 model on gpiozero mock pins, read by the
  real driver, the pipeline, alerts on mock pins and the store. CPU time of
  this process (all threads) over wall time. The model's own work is counted
  too, so the figure is an upper bound for the daemon on real pins.
- db_writes_per_hour: write transactions per hour of a simulated 8-hour day
  (--speed 500), history batches and live rows together.
- db_mb_per_day: the database size that day leaves.
"""

from __future__ import annotations

import math
import os
import tempfile
import threading
import time
from pathlib import Path

from device.config import Config
from device.sim.sitter import DEMO_CALIBRATION


def cpu_at_80hz(seconds: float = 60.0) -> tuple[float, float]:
    from device.cli.demo import seated_seed
    from device.daemon.loop import Daemon
    from device.daemon.service import _use_mock_pins, open_source
    from device.hardware.alerts import Alerts
    from device.storage.store import Store

    config = Config(calibration=DEMO_CALIBRATION)
    _use_mock_pins(config)
    with tempfile.TemporaryDirectory() as folder:
        store = Store.open(Path(folder) / "history.db")
        source = open_source(config, sim=True, speed=1, seed=seated_seed(hours=2.0), hours=2.0)
        alerts = Alerts(config.alerts)
        daemon = Daemon(config, store, source, alerts)
        cpu, wall = time.process_time(), time.monotonic()
        daemon.run(threading.Event(), max_seconds=seconds)
        cpu, wall = time.process_time() - cpu, time.monotonic() - wall
        rate = daemon.counters.frames / wall
        alerts.close()
        source.close()
        store.close()
    return 100.0 * cpu / wall, rate


def simulated_day(hours: float = 8.0, speed: float = 500.0) -> tuple[float, float, float]:
    from device.daemon.loop import Daemon
    from device.daemon.sources import SimulatedSource
    from device.sim.sitter import Simulation, random_day
    from device.storage.store import Store

    config = Config(calibration=DEMO_CALIBRATION)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "history.db"
        store = Store.open(path)
        before = store.transactions
        sim = Simulation(random_day(1, hours=hours), calibration=DEMO_CALIBRATION, rate_hz=80, seed=1)
        daemon = Daemon(config, store, SimulatedSource(sim, speed=speed), None, settings_poll_s=math.inf)
        wall = time.monotonic()
        daemon.run(threading.Event())
        wall = time.monotonic() - wall
        writes = store.transactions - before
        store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        store.close()
        size = sum(p.stat().st_size for p in Path(folder).glob("history.db*"))
    return writes / hours, size / 1e6 * (8.0 / hours), wall


def main() -> None:
    import logging

    logging.getLogger("cushion").setLevel(logging.ERROR)
    cpu, rate = cpu_at_80hz(float(os.environ.get("BENCH_DAEMON_S", "60")))
    print(f"daemon_cpu_percent: {cpu:.1f} %")
    print(f"# {rate:.1f} frames/s read through the bit-level model in real time")
    writes, mb, wall = simulated_day()
    print(f"db_writes_per_hour: {writes:.0f} writes/h")
    print(f"db_mb_per_day: {mb:.2f} MB")
    print(f"# the 8-hour day at --speed 500 took {wall:.1f} s")


if __name__ == "__main__":
    main()
