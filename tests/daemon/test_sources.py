"""Where the daemon's frames come from (device/daemon/sources.py): the HX711s, or a simulated sitter."""

from datetime import datetime, timedelta

import numpy as np
import pytest

from device.core.frames import MISSING
from device.daemon import sources
from device.daemon.sources import SensorSource, SimulatedSource
from device.hardware.hx711 import Frame, HX711Stats
from device.sim.sitter import DEMO_CALIBRATION, Person, Scenario, Simulation


class FakeArray:
    """An HX711Array's surface: frames 12.5 ms apart on a clock the test moves."""

    def __init__(self, clock):
        self.clock = clock
        self.stats = HX711Stats()
        self.closed = False
        self.frames = 0

    def read_frame(self):
        self.clock.now += 0.0125
        self.frames += 1
        raw = (100, None, 300, 400) if self.frames % 4 == 0 else (100, 200, 300, 400)
        return Frame(self.clock.now, raw)

    def close(self):
        self.closed = True


class Clock:
    now = 1000.0

    def __call__(self):
        return self.now


def test_a_sensor_source_reads_for_about_a_tenth_of_a_second_and_marks_missing_readings(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(sources.time, "monotonic", clock)
    array = FakeArray(clock)
    closed = []
    source = SensorSource(array, batch_s=0.1, on_close=lambda: closed.append(True))
    block = source.read()
    assert len(block) == 8 and np.allclose(np.diff(block.t), 0.0125)
    assert (block.raw[:, 1] == MISSING).sum() == 2 and source.missing == 2 and source.frames == 8
    array.stats.dropped["sck_high"] = 3
    assert source.dropped == 3
    source.close()
    assert array.closed and closed == [True]


def test_a_sensor_source_labels_frame_times_with_the_wall_clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(sources.time, "monotonic", clock)
    source = SensorSource(FakeArray(clock))
    wall = source.wall_of(clock.now - 30)
    assert abs((datetime.now().astimezone() - wall) - timedelta(seconds=30)) < timedelta(seconds=1)


def scenario():
    return Scenario(Person(mass_kg=70)).away(2).sit_down().hold(8)


def test_a_simulated_source_at_speed_zero_gives_every_frame_once_then_finishes():
    sim = Simulation(scenario(), calibration=DEMO_CALIBRATION, rate_hz=80, seed=2)
    source = SimulatedSource(sim, speed=0, start_wall=datetime(2026, 3, 2, 9, 0).astimezone())
    blocks = []
    while not source.finished:
        blocks.append(source.read())
    t = np.concatenate([b.t for b in blocks])
    expected = np.concatenate([b.t for b in sim.blocks(frames_per_block=8)])
    assert np.array_equal(t, expected) and source.frames == len(t)
    assert len(source.read()) == 0
    assert source.wall_of(1.5) == datetime(2026, 3, 2, 9, 0, 1, 500000).astimezone()


def test_a_simulated_source_in_real_time_waits_for_each_block_and_never_blocks_long():
    sim = Simulation(scenario(), calibration=DEMO_CALIBRATION, rate_hz=10, seed=2)
    now = [0.0]
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds

    source = SimulatedSource(sim, speed=1.0, clock=lambda: now[0], sleep=sleep)
    got = [source.read() for _ in range(40)]  # each block is given when its last frame is due
    given = [b for b in got if len(b)]
    assert float(given[-1].t[-1]) == pytest.approx(now[0], abs=0.1001)
    assert len(given) < len(got) and max(slept) <= source.batch_s  # waited, never longer than a batch
    later = SimulatedSource(sim, speed=10.0, clock=lambda: now[0], sleep=sleep)
    start = now[0]
    read = 0
    while read < 50:
        read += len(later.read())
    assert now[0] - start == pytest.approx(50 / 10 / 10, abs=0.11)  # ten times faster than real time
