"""Benchmark: the HX711 driver against the naive use of adafruit_hx711.

Four simulated HX711s (device.sim.hx711) on gpiozero mock pins, sharing one
clock as SPEC section 7 wires them, convert at 80 samples/s in real time and
power down when PD_SCK stays high over 60 us, as the datasheet says. Measured:

- driver_frames_per_s: frames of all four channels per second from
  HX711Array.read_frame() (the chips' limit is 80);
- naive_frames_per_s: the same from adafruit_hx711's HX711.read() on each chip
  in turn, through PinValue adapters, with only what Blinka on Linux lacks
  (microcontroller.disable_interrupts / enable_interrupts) shimmed to run;
- pin_ops_per_frame: the driver's pin operations (clock writes and DOUT
  reads, waiting included) per frame. The physical minimum with a shared
  clock is 25 pulses (50 writes) and 24 x 4 DOUT samples plus the check
  after the 25th pulse; on lgpio the four DOUTs are one group read;
- train_us: the driver's own Python in one 25-pulse train on its lgpio path
  (the Pi's), with the lgpio calls stubbed out to return at once: what the
  driver adds to every clock pulse beyond the system calls (best of 7 runs
  of 2,000 trains). It decides how long PD_SCK stays high on a Pi.

It also probes the machine (no pins): how often a thread is stalled over
60 us in the first 0.5 ms after waking from a frame's sleep, against a
thread that never sleeps. A stall inside a clock pulse powers the chips down
and costs ~5 conversions of settling, so this rate, not the driver's code,
is what separates driver_frames_per_s from 80 on a given machine.

Each figure is printed on its own line as ``name: value unit``; details
follow. Run: ``python -m bench.bench_driver [--seconds 8] [--naive-seconds 6]``
(or via ``python -m bench``, which calls main()).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import sys
import threading
import time
from time import perf_counter

from gpiozero.pins.mock import MockFactory

from device.config import Sensor
from device.hardware.hx711 import (
    PULSES,
    HX711Array,
    HX711Stats,
    _LgpioBus,
)
from device.hardware.hx711.datasheet import AdafruitHX711
from device.sim.hx711 import attach_array
from tests.hx711_support import PinValue

SENSOR = Sensor()
SOURCES = (123_456, -7, 0, -8_000_000)  # fl, fr, bl, br in counts
PHASES = (0.0, 0.0031, 0.0062, 0.0093)  # each chip ready at its own moment


def bench_driver(seconds: float) -> dict:
    factory = MockFactory()
    chips = attach_array(factory, SENSOR, SOURCES, phases_s=PHASES, history=0)  # as the daemon on --sim
    with HX711Array(SENSOR, pin_factory=factory) as array:
        array.read_frame()  # opened: reset and settled
        s = array.stats
        before = (
            s.frames,
            s.pin_reads,
            s.pin_writes,
            s.clock_pulses,
            s.resyncs,
            sum(s.dropped.values()),
            s.dropped["power_down"],
            chips[0].power_downs,
        )
        dropped_before = s.dropped.copy()  # (the 4 settling frames after opening)
        frames = correct = 0
        start = time.monotonic()
        while time.monotonic() - start < seconds:
            frame = array.read_frame()
            frames += 1
            correct += frame.raw == SOURCES
        elapsed = time.monotonic() - start
        n = s.frames - before[0]
        result = {
            "frames_per_s": frames / elapsed,
            "frames": frames,
            "correct": correct,
            "pin_ops_per_frame": (s.pin_reads - before[1] + s.pin_writes - before[2]) / n,
            "pin_reads_per_frame": (s.pin_reads - before[1]) / n,
            "pin_writes_per_frame": (s.pin_writes - before[2]) / n,
            "clock_pulses_per_frame": (s.clock_pulses - before[3]) / n,
            "resyncs": s.resyncs - before[4],
            "dropped": sum(s.dropped.values()) - before[5],
            "dropped_by_reason": dict(s.dropped - dropped_before),
            "worst_high_us": s.worst_high_s * 1e6,
            "over_60": s.dropped["power_down"] - before[6],
            # each resync powers the chips down once; any more were caused by
            # a pulse really held high over 60 us (edge to edge, as the chip saw it)
            "real_power_downs": chips[0].power_downs - before[7] - (s.resyncs - before[4]),
            "path": array.path,
        }
    return result


class _CountingPin(PinValue):
    """PinValue that counts its reads and writes."""

    __slots__ = ("ops",)

    def __init__(self, pin):
        super().__init__(pin)
        self.ops = 0

    @property
    def value(self) -> bool:
        self.ops += 1
        return bool(self.pin.state)

    @value.setter
    def value(self, level) -> None:
        self.ops += 1
        self.pin.state = bool(level)


@contextlib.contextmanager
def _blinka_shims():
    """Add what adafruit_hx711's read_fast calls and Blinka on Linux lacks;
    nothing else (delay_us stays Blinka's time.sleep)."""
    import microcontroller

    added = [name for name in ("disable_interrupts", "enable_interrupts") if not hasattr(microcontroller, name)]
    for name in added:
        setattr(microcontroller, name, lambda: None)
    try:
        yield
    finally:
        for name in added:
            delattr(microcontroller, name)


def bench_naive(seconds: float) -> dict:
    factory = MockFactory()
    chips = attach_array(factory, SENSOR, SOURCES, phases_s=PHASES, history=0)  # as the daemon on --sim
    clock_pin = factory.pin(SENSOR.clock_pin)
    clock_pin.output_with_state(False)
    clock = _CountingPin(clock_pin)
    douts = []
    for pin in SENSOR.data_pins:
        dout = factory.pin(pin)
        dout.input_with_pull("up")  # a pull-up, as the boards should have
        douts.append(_CountingPin(dout))
    result = {"frames": 0, "correct": 0, "values": []}
    stop = threading.Event()

    def run():
        with _blinka_shims():
            sensors = [AdafruitHX711(dout, clock) for dout in douts]
            start = time.monotonic()
            while not stop.is_set() and time.monotonic() - start < seconds:
                raw = tuple(sensor.read() for sensor in sensors)
                result["frames"] += 1
                result["correct"] += raw == SOURCES
                result["values"].append(raw)
            result["elapsed"] = time.monotonic() - start

    downs = chips[0].power_downs
    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds + 5)
    stop.set()
    if worker.is_alive():  # `while self.is_busy: pass` never ended
        result["hung"] = True
        result["elapsed"] = seconds + 5
    ops = clock.ops + sum(d.ops for d in douts)
    result["frames_per_s"] = result["frames"] / result["elapsed"]
    result["pin_ops_per_frame"] = ops / max(result["frames"], 1)
    result["chip_power_downs"] = chips[0].power_downs - downs
    result["max_high_us"] = chips[0].max_high_s * 1e6
    return result


class _StubLgpio:
    """lgpio's group calls, returning at once: all four DOUTs high."""

    SET_PULL_UP = 32

    class error(Exception):
        pass

    def gpio_free(self, handle, gpio):
        pass

    def group_claim_output(self, handle, gpios, levels):
        pass

    def group_claim_input(self, handle, gpios, flags):
        pass

    def group_write(self, handle, leader, bits, mask=~0):
        return 0

    def group_read(self, handle, leader):
        return 4, 0b1111

    def group_free(self, handle, leader):
        pass


def bench_train(trains: int = 2000, runs: int = 7) -> dict:
    """Wall time of one 25-pulse train on the lgpio path with stubbed calls."""
    bus = _LgpioBus(_StubLgpio(), 0, (SENSOR.clock_pin,), SENSOR.data_pins, HX711Stats())
    best = float("inf")
    for _ in range(runs):
        gc.disable()
        try:
            start = perf_counter()
            for _ in range(trains):
                bus.train([0], [0, 1, 2, 3], PULSES, 60e-6)
            best = min(best, (perf_counter() - start) / trains)
        finally:
            gc.enable()
    return {"train_us": best * 1e6, "per_pulse_us": best * 1e6 / PULSES}


def probe_stalls(seconds: float, sleep_s: float = 0.012, window_s: float = 0.0005, stall_s: float = 60e-6) -> dict:
    """Stalls over ``stall_s`` per second of thread time, in the ``window_s``
    after each ``sleep_s`` sleep (where a frame's clock train runs) and in a
    loop that never sleeps. Each is a gap between two perf_counter() reads
    that should be well under a microsecond apart."""
    pc = perf_counter
    woken = {"stalls": 0, "spent": 0.0}
    end = time.monotonic() + seconds / 2
    while time.monotonic() < end:
        time.sleep(sleep_s)
        start = last = pc()
        while (now := pc()) - start < window_s:
            if now - last > stall_s:
                woken["stalls"] += 1
            last = now
        woken["spent"] += now - start
    hot = {"stalls": 0}
    start = last = pc()
    while (now := pc()) - start < seconds / 2:
        if now - last > stall_s:
            hot["stalls"] += 1
        last = now
    hot["spent"] = now - start
    return {"after_wake_per_s": woken["stalls"] / woken["spent"], "hot_per_s": hot["stalls"] / hot["spent"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="driver run length")
    parser.add_argument("--naive-seconds", type=float, default=6.0, help="naive run length")
    parser.add_argument("--probe-seconds", type=float, default=4.0, help="machine stall probe length")
    args = parser.parse_args([] if argv is None else argv)
    driver = bench_driver(args.seconds)
    naive = bench_naive(args.naive_seconds)
    train = bench_train()
    stalls = probe_stalls(args.probe_seconds)

    print(f"driver_frames_per_s: {driver['frames_per_s']:.1f} frames/s")
    print(f"naive_frames_per_s: {naive['frames_per_s']:.1f} frames/s")
    print(f"pin_ops_per_frame: {driver['pin_ops_per_frame']:.1f} ops")
    print(f"train_us: {train['train_us']:.1f} us")
    print()
    speedup = driver["frames_per_s"] / naive["frames_per_s"] if naive["frames_per_s"] else float("inf")
    print(
        f"# driver: {driver['frames']} frames in {args.seconds:g} s via {driver['path']}, "
        f"{driver['correct']} with all four values right; {speedup:.1f}x the naive rate"
    )
    print(
        f"# driver: {driver['dropped']} frames dropped {driver['dropped_by_reason']}, "
        f"{driver['resyncs']} resyncs (each costs ~5 conversions of settling); "
        f"longest SCK high measured {driver['worst_high_us']:.0f} us"
    )
    print(
        f"# driver: {driver['over_60']} trains had a pulse measured over 60 us (each stopped "
        f"there and resynced); by the chips' own edge times, {driver['real_power_downs']} "
        f"really powered down"
    )
    print(
        f"# driver train on the lgpio path, calls stubbed: {train['train_us']:.1f} us a train, "
        f"{train['per_pulse_us']:.2f} us a pulse of the driver's own Python"
    )
    print(
        f"# driver per frame: {driver['clock_pulses_per_frame']:.1f} clock pulses, "
        f"{driver['pin_writes_per_frame']:.1f} pin writes, {driver['pin_reads_per_frame']:.1f} "
        f"DOUT reads (minimum 25 pulses = 50 writes and 100 reads on gpiozero pins)"
    )
    print(
        f"# naive: {naive['frames']} frames in {naive['elapsed']:.1f} s, {naive['correct']} "
        f"with all four values right; the chips powered down {naive['chip_power_downs']} times "
        f"(longest SCK high {naive['max_high_us']:.0f} us: Blinka's delay_us(1) is a "
        f"time.sleep); {naive['pin_ops_per_frame']:.0f} pin ops per frame"
        + ("; HUNG in `while self.is_busy: pass`" if naive.get("hung") else "")
    )
    # Exposure: the chips are at risk only while PD_SCK is high, 25 short
    # highs a frame; the driver's measured window is this much thread time.
    print(
        f"# machine: stalls over 60 us, {stalls['after_wake_per_s']:.0f}/s of thread time in the "
        f"first 0.5 ms after a 12 ms sleep (where a frame's clock train runs), "
        f"{stalls['hot_per_s']:.1f}/s in a loop that never sleeps; each one inside a "
        f"clock pulse costs ~5 conversions"
    )
    if naive["values"]:
        print(f"# naive sample frame: {naive['values'][-1]} (true: {SOURCES})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
