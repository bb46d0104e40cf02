"""Fills a history database with simulated days (for `make demo` and benchmarks).

Each day is a simulated office day run through the daemon itself (pipeline,
minute summaries, store) as fast as it goes: no buzzer, no live row.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from device.config import Config
from device.daemon.loop import Daemon
from device.daemon.sources import SimulatedSource
from device.sim.sitter import DEMO_CALIBRATION, Simulation, random_day
from device.storage.store import Store


def fill_history(
    store: Store,
    first_day: date,
    days: int,
    *,
    seed: int = 1,
    hours: float = 8.0,
    config: Config | None = None,
    rate_hz: int = 10,
    progress: Callable[[date], None] | None = None,
) -> None:
    """Simulate `days` office days from `first_day`, each starting between 08:00 and 09:30."""
    config = config or Config(calibration=DEMO_CALIBRATION)
    for index in range(days):
        day = first_day + timedelta(days=index)
        day_seed = seed * 1000 + index
        start = datetime.combine(day, time(8, 0)).astimezone() + timedelta(minutes=(day_seed * 37) % 90)
        sim = Simulation(
            random_day(day_seed, hours=hours), calibration=config.calibration, rate_hz=rate_hz, seed=day_seed
        )
        source = SimulatedSource(sim, speed=0, start_wall=start, batch_s=60.0)
        daemon = Daemon(config, store, source, None, flush_s=60.0, live_s=math.inf, settings_poll_s=math.inf)
        while daemon.step():
            pass
        daemon.finish()
        store.end_run()  # the next day is the next morning's run
        if progress is not None:
            progress(day)
