"""MQTT's cost on the cushion: the daemon's CPU with MQTT on, and a loop that never waits for the network.

The hub's figures (many cushions into one hub) are bench.bench_hub's.

Every figure goes through a real Mosquitto on a loopback port
(device.cli.local_broker); where Debian's mosquitto is missing this says so
on a `# bench_mqtt: skipped` line and exits 0. Mosquitto's own CPU is never
counted in anyone's figure.

- daemon_cpu_percent_mqtt_off, daemon_cpu_percent_mqtt_on: bench_daemon's
  daemon_cpu_percent (the daemon in real time at 80 frames/s fed a seated
  sitter's frames made beforehand; CPU time of this process, all threads,
  over wall time), without MQTT and with a real Publisher connected to the
  broker (built as `cushion run` builds it: its thread and paho's are in this
  process and count; measured from once it has connected). ROUNDS pairs of
  BENCH_MQTT_DAEMON_S seconds each (default 3 x 2 x 20 s), interleaved, the
  order alternating (off/on, on/off, off/on) so a neighbour's load that comes
  and goes falls on both; each figure is the median of its three runs. Both
  runs of a pair have the same frames, pair r the seated sitter's seconds
  [20 r, 20 r + 20) (a daemon started then), so the three cover the day's
  first minute and its events: sit, fidget, twist, and a sit as each starts.
- mqtt_daemon_cpu_overhead_percent: the median of the three pairs'
  differences (on less off), in percent of one core.
- mqtt_frame_late_max_ms_off, _broker_down, _wrong_password, _broker_hung:
  nothing waits for the network. The same daemon for BENCH_MQTT_DAEMON_S in
  real time, MQTT off, then on against nothing listening, a broker that
  refuses the password, and a TCP server that takes the connection and never
  answers (a hung broker): how late, at most, the loop took a block of frames
  after its last frame fell due (the median and p99 in a comment).
"""

from __future__ import annotations

import logging
import os
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.bench_daemon import PrecomputedSource
from device.config import Config, Mqtt
from device.sim.sitter import DEMO_CALIBRATION

ROUNDS = 3
USERS = {"cushion": "cushion-bench", "hub": "hub-bench"}  # the local broker's users and passwords


# ---- the daemon with MQTT off and on ----------------------------------------------


class _Source(PrecomputedSource):
    """Precomputed frames, each block's lateness noted: how long after its last frame fell due the
    daemon took it (a loop held up by anything, the network included, shows here)."""

    late_s: list[float]

    def start_clock(self) -> None:
        """Frames fall due from now (the publisher has connected meanwhile)."""
        self._started = time.monotonic()
        self._start_wall = datetime.now().astimezone()
        self.late_s = []

    def read(self):
        block = super().read()
        if len(block) and hasattr(self, "late_s"):
            self.late_s.append(time.monotonic() - (self._started + float(block.t[-1])))
        return block


def daemon_cpu(
    blocks: list, seconds: float, mqtt: Mqtt | None, wait_connected: bool = True, lateness: list | None = None
) -> tuple[float, int]:
    """CPU % of this process while the daemon runs `seconds` in real time; events published.
    wait_connected: measure once the publisher is connected (False: a broker it cannot have).
    lateness: gets each block's lateness (s)."""
    from device.daemon.loop import Daemon
    from device.daemon.service import _use_mock_pins
    from device.hardware.alerts import Alerts
    from device.mqtt.publisher import Publisher
    from device.storage.store import Store

    config = Config(calibration=DEMO_CALIBRATION)
    if mqtt is not None:
        config = replace(config, mqtt=mqtt)
    _use_mock_pins(config)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "history.db"
        store = Store.open(path)
        alerts = Alerts(config.alerts)
        source = _Source(blocks, datetime.now().astimezone())
        holder: list[Daemon] = []
        publisher = None
        if mqtt is not None:
            open_store = lambda: Store.open(path, busy_timeout_s=1.0)  # noqa: E731  (as service._open_publisher)
            publisher = Publisher(
                config, open_store, mqtt.cushion_id, on_command=lambda command: holder and holder[0].on_command(command)
            )
        daemon = Daemon(config, store, source, alerts, mqtt=publisher)
        holder.append(daemon)
        if publisher is not None:
            publisher.start()
            if wait_connected and not publisher.link.connected.wait(10.0):
                raise SystemExit("bench_mqtt: the publisher did not connect to the local broker within 10 s")
            time.sleep(0.5)  # discovery and availability are out: measure the steady state
        source.start_clock()
        cpu, wall = time.process_time(), time.monotonic()
        daemon.run(threading.Event(), max_seconds=seconds)
        cpu, wall = time.process_time() - cpu, time.monotonic() - wall
        if lateness is not None:
            lateness.extend(source.late_s)
        events = 0
        if publisher is not None:
            publisher.stop()
            events = publisher.published_events
        alerts.close()
        source.close()
        store.close()
    return 100.0 * cpu / wall, events


def daemon_overhead(folder: Path, seconds: float, rounds: int) -> None:
    from device.cli.demo import seated_seed
    from device.cli.local_broker import LocalBroker
    from device.core.frames import FrameBlock
    from device.sim.sitter import Simulation, random_day

    seed = seated_seed(hours=2.0)
    sim = Simulation(random_day(seed, hours=2.0), calibration=DEMO_CALIBRATION, rate_hz=80, seed=seed)
    day = [b for b in sim.blocks(frames_per_block=8) if b.t[0] < rounds * seconds + 1]
    # Round r: the day's seconds [r * seconds, (r + 1) * seconds), on a clock from 0 (a daemon started then).
    slices = [
        [FrameBlock(b.t - r * seconds, b.raw) for b in day if r * seconds <= b.t[0] < (r + 1) * seconds + 1]
        for r in range(rounds)
    ]
    secret = folder / "cushion.password"
    secret.write_text(USERS["cushion"] + "\n")
    with LocalBroker(folder / "daemon-broker", USERS) as broker:
        mqtt = Mqtt(
            host="127.0.0.1", port=broker.port, username="cushion", password_file=str(secret), cushion_id="bench"
        )
        off: list[float] = []
        on: list[float] = []
        events: list[int] = []
        for round_ in range(rounds):
            for with_mqtt in (False, True) if round_ % 2 == 0 else (True, False):
                cpu, published = daemon_cpu(slices[round_], seconds, mqtt if with_mqtt else None)
                (on if with_mqtt else off).append(cpu)
                if with_mqtt:
                    events.append(published)
    overheads = [b - a for a, b in zip(off, on, strict=True)]
    print(f"daemon_cpu_percent_mqtt_off: {statistics.median(off):.2f} %")
    print(f"daemon_cpu_percent_mqtt_on: {statistics.median(on):.2f} %")
    print(f"mqtt_daemon_cpu_overhead_percent: {statistics.median(overheads):.2f} %")
    print(
        f"# {rounds} interleaved pairs of {seconds:g} s; off "
        + " ".join(f"{x:.2f}" for x in off)
        + ", on "
        + " ".join(f"{x:.2f}" for x in on)
        + f" (% of a core); events published per MQTT run: {' '.join(map(str, events))}"
    )


def _hung_broker() -> tuple[Any, int]:
    """A TCP server that takes connections and never answers: a broker hung or far too slow."""
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[Any] = []

    def take() -> None:
        while True:
            try:
                held.append(server.accept()[0])
            except OSError:
                return

    threading.Thread(target=take, daemon=True).start()
    return server, int(server.getsockname()[1])


def network_never_waits(folder: Path, seconds: float) -> None:
    """How late the daemon takes its frames with MQTT off, and on against a broker that is down,
    refuses the password, or hangs: the network must never hold the loop up."""
    from device.cli.demo import seated_seed
    from device.cli.local_broker import LocalBroker, free_port
    from device.sim.sitter import Simulation, random_day

    seed = seated_seed(hours=2.0)
    sim = Simulation(random_day(seed, hours=2.0), calibration=DEMO_CALIBRATION, rate_hz=80, seed=seed)
    blocks = [b for b in sim.blocks(frames_per_block=8) if b.t[0] < seconds + 1]
    wrong = folder / "wrong.password"
    wrong.write_text("not-the-password\n")
    hung, hung_port = _hung_broker()
    with LocalBroker(folder / "refusing-broker", USERS) as broker:
        cases = {
            "off": None,
            "broker_down": Mqtt(host="127.0.0.1", port=free_port(), cushion_id="bench"),
            "wrong_password": Mqtt(
                host="127.0.0.1", port=broker.port, username="cushion", password_file=str(wrong), cushion_id="bench"
            ),
            "broker_hung": Mqtt(host="127.0.0.1", port=hung_port, cushion_id="bench"),
        }
        for name, mqtt in cases.items():
            late: list[float] = []
            daemon_cpu(blocks, seconds, mqtt, wait_connected=False, lateness=late)
            late_ms = sorted(1000.0 * x for x in late)
            print(f"mqtt_frame_late_max_ms_{name}: {late_ms[-1]:.1f} ms")
            print(
                f"# {name}: {len(late)} blocks of 0.1 s over {seconds:g} s; "
                f"median {late_ms[len(late_ms) // 2]:.1f} ms, p99 {late_ms[int(0.99 * (len(late_ms) - 1))]:.1f} ms late"
            )
            sys.stdout.flush()
    hung.close()


def main() -> None:
    from device.cli.local_broker import INSTALL_HINT, mosquitto_path

    logging.getLogger("cushion").setLevel(logging.ERROR)
    if mosquitto_path() is None:
        print(f"# bench_mqtt: skipped: mosquitto is not installed; {INSTALL_HINT}")
        return
    seconds = float(os.environ.get("BENCH_MQTT_DAEMON_S", "20"))
    with tempfile.TemporaryDirectory() as folder:
        daemon_overhead(Path(folder), seconds, ROUNDS)
        sys.stdout.flush()
        network_never_waits(Path(folder), seconds)


if __name__ == "__main__":
    main()
