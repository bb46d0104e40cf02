"""The daemon's cost: CPU at 80 Hz in real time, database writes, database size.

- daemon_cpu_percent: 60 s of the daemon in real time at 80 frames/s (the
  pipeline, the alerts on mock pins, the store), fed by a frame source that
  costs nothing: a simulated sitter's frames made beforehand, handed over as
  they fall due. CPU time of this process (all threads) over wall time: what
  the product costs, whatever the sensor.
- sim_chips_cpu_percent: what `cushion run --sim` costs on top of that: the
  bit-level HX711 model on gpiozero mock pins and the driver reading it (the
  whole --sim path, measured the same way, less daemon_cpu_percent).
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

import numpy as np

from device.config import Config
from device.sim.sitter import DEMO_CALIBRATION


class PrecomputedSource:
    """Frames made beforehand, each block handed over when its last frame is due (real time)."""

    def __init__(self, blocks, start_wall):
        self._blocks = list(blocks)
        self._started = time.monotonic()
        self._start_wall = start_wall
        self.frames = self.missing = self.dropped = 0
        self.finished = False

    def read(self):
        from device.core.frames import FrameBlock

        if not self._blocks:
            self.finished = True
            return FrameBlock(np.empty(0), np.empty((0, 4), dtype=np.int64))
        block = self._blocks[0]
        wait = self._started + float(block.t[-1]) - time.monotonic()
        if wait > 0:
            time.sleep(min(wait, 0.1))
            return FrameBlock(np.empty(0), np.empty((0, 4), dtype=np.int64))
        self._blocks.pop(0)
        self.frames += len(block)
        return block

    def wall_of(self, t):
        from datetime import timedelta

        return self._start_wall + timedelta(seconds=t)

    def close(self):
        self.finished = True


def cpu_at_80hz(seconds: float = 60.0, through_the_model: bool = False) -> tuple[float, float]:
    from datetime import datetime

    from device.cli.demo import seated_seed
    from device.daemon.loop import Daemon
    from device.daemon.service import _use_mock_pins, open_source
    from device.hardware.alerts import Alerts
    from device.sim.sitter import Simulation, random_day
    from device.storage.store import Store

    config = Config(calibration=DEMO_CALIBRATION)
    _use_mock_pins(config)
    seed = seated_seed(hours=2.0)
    with tempfile.TemporaryDirectory() as folder:
        store = Store.open(Path(folder) / "history.db")
        if through_the_model:
            source = open_source(config, sim=True, speed=1, seed=seed, hours=2.0)
        else:
            sim = Simulation(random_day(seed, hours=2.0), calibration=DEMO_CALIBRATION, rate_hz=80, seed=seed)
            blocks = [b for b in sim.blocks(frames_per_block=8) if b.t[0] < seconds + 1]
            source = PrecomputedSource(blocks, datetime.now().astimezone())
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
    seconds = float(os.environ.get("BENCH_DAEMON_S", "60"))
    cpu, rate = cpu_at_80hz(seconds)
    print(f"daemon_cpu_percent: {cpu:.2f} %")
    print(f"# {rate:.1f} frames/s handed over in real time by a source that costs nothing")
    whole, rate = cpu_at_80hz(seconds, through_the_model=True)
    print(f"sim_chips_cpu_percent: {whole - cpu:.1f} %")
    print(f"# the whole --sim path: {whole:.1f} % at {rate:.1f} frames/s read through the bit-level model")
    writes, mb, wall = simulated_day()
    print(f"db_writes_per_hour: {writes:.0f} writes/h")
    print(f"db_mb_per_day: {mb:.2f} MB")
    print(f"# the 8-hour day at --speed 500 took {wall:.1f} s")


if __name__ == "__main__":
    main()
