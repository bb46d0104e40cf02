"""`make demo`: the product on a simulated cushion, no hardware needed.

1. A fresh demo database (.demo/history.db) is filled with a simulated week
   of history, so the dashboard has something to show from the first minute.
2. The daemon runs live on a simulated sitter, through the bit-level HX711
   model on gpiozero mock pins and the real driver (`cushion run --sim`).
3. The dashboard serves http://127.0.0.1:8080 from the same database.
Ctrl-C stops both.

`python -m device.cli.demo --replay` instead simulates one day, writes it as a
SPEC recording, replays it and prints the summary next to the truth.
"""

from __future__ import annotations

import argparse
import errno
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from device.cli.replay import format_summary, replay
from device.config import Config
from device.sim.sitter import DEMO_CALIBRATION, Simulation, random_day, write_recording

DEMO_DIR = Path(".demo")
DAY_STARTS_AT_H = 9.0  # the --replay day starts at 09:00


def demo_config_text() -> str:
    return (
        "# The demo cushion's calibration (the simulated board's cells; fr is mounted upside down).\n"
        "[calibration]\n"
        f"offset = {list(DEMO_CALIBRATION.offset)}\n"
        f"counts_per_kg = {list(DEMO_CALIBRATION.counts_per_kg)}\n"
    )


LIVE_HOURS = 12.0


def seated_seed(start: int = 1, hours: float = LIVE_HOURS) -> int:
    """A simulated day whose person is already seated, so the live view shows something at once."""
    seed = start
    while random_day(seed, hours=hours).load.evaluate(np.array([2.0]))[0] < 30.0:
        seed += 1
    return seed


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """Is another program listening on ``port``? (A port a stopped demo left
    in TIME_WAIT is free: the dashboard's server reuses it too.)"""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return True
            raise
    return False


def live(port: int, days: int) -> int:
    from device.cli.demo_week import fill_history
    from device.storage.store import Store

    if port_in_use(port):
        # Before the week of history is made, not after a minute of it.
        print(
            f"demo: port {port} is in use (another demo, or another program); pick another: make demo PORT={port + 10}",
            file=sys.stderr,
        )
        return 2
    DEMO_DIR.mkdir(exist_ok=True)
    db = DEMO_DIR / "history.db"
    for path in DEMO_DIR.glob("history.db*"):
        path.unlink()
    config = DEMO_DIR / "config.toml"
    config.write_text(demo_config_text())

    print(f"Filling {db} with a simulated week of history ...", flush=True)
    logging.getLogger("cushion").setLevel(logging.ERROR)
    with Store.open(db) as store:
        first = date.today() - timedelta(days=days)
        fill_history(store, first, days, progress=lambda d: print(f"  {d:%a %d %b} done", flush=True))

    cushion = [sys.executable, "-m", "device.cli"]
    seed = seated_seed()
    daemon = subprocess.Popen(
        cushion
        + ["run", "--sim", "--config", str(config), "--db", str(db), "--seed", str(seed), "--hours", str(LIVE_HOURS)]
    )
    dashboard = subprocess.Popen(cushion + ["dashboard", "--db", str(db), "--port", str(port)])
    print(f"\nThe simulated cushion is live. Open http://127.0.0.1:{port}/ (Ctrl-C stops the demo)\n", flush=True)
    try:
        while daemon.poll() is None and dashboard.poll() is None:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for process in (daemon, dashboard):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in (daemon, dashboard):
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
    failed = [p.returncode for p in (daemon, dashboard) if p.returncode not in (0, -signal.SIGTERM, None)]
    return failed[0] if failed else 0


def clock(t: float) -> str:
    minutes = int((DAY_STARTS_AT_H * 3600 + t) // 60)
    return f"{minutes // 60 % 24:02d}:{minutes % 60:02d}"


def replay_day(seed: int, hours: float, rate: int) -> int:
    sim = Simulation(random_day(seed, hours=hours), calibration=DEMO_CALIBRATION, rate_hz=rate, seed=seed)
    with tempfile.TemporaryDirectory(prefix="cushion-demo-") as folder:
        path = Path(folder) / "day.csv"
        print(f"Simulating {hours:g} hours on the cushion at {rate} frames/s ...", flush=True)
        started = time.perf_counter()
        write_recording(sim, path, {"rate_hz": str(rate), "device": "simulated cushion"})
        written = time.perf_counter() - started
        size_mb = path.stat().st_size / 1e6
        started = time.perf_counter()
        report = replay(path, Config(calibration=DEMO_CALIBRATION))
        replayed = time.perf_counter() - started
    print(
        f"Recorded {report['frames']:,} frames ({size_mb:.0f} MB) in {written:.1f} s; "
        f"replayed in {replayed:.1f} s ({report['frames'] / replayed:,.0f} frames/s).\n"
    )
    print("What the cushion saw\n--------------------")
    print(format_summary(report))
    print("\nSessions (the day starts at 09:00)")
    for session in report["sessions"]:
        end = session["end"]
        until = clock(end) if end is not None else "still seated"
        length = ((end if end is not None else report["duration_s"]) - session["start"]) / 60
        prompts = ", ".join(session["prompts"]) or "no prompts"
        print(f"  {clock(session['start'])} - {until:<12}  {length:4.0f} min  {prompts}")
    truth = sim.truth
    counts: dict[str, int] = {}
    for event in report["events"]:
        counts[event["type"]] = counts.get(event["type"], 0) + 1
    print("\nWhat really happened in the simulation, and what was detected")
    for name, real, found in (
        ("sessions", len(truth.sessions), len(report["sessions"])),
        ("leans", len(truth.leans), counts.get("lean", 0)),
        ("twists", len(truth.twists), counts.get("twist", 0)),
        ("perches", len(truth.perches), counts.get("perch", 0)),
        ("slumps", len(truth.slumps), counts.get("slump", 0)),
        ("fidgets", len(truth.fidgets), counts.get("fidget", 0)),
        ("sensor faults", len(truth.faults), counts.get("fault", 0)),
    ):
        print(f"  {name:<14} {real:4d} real  {found:4d} detected")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="demo", description=__doc__.splitlines()[0])
    parser.add_argument("--replay", action="store_true", help="replay one simulated day and print its summary")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--hours", type=float, default=8.0)
    parser.add_argument("--rate", type=int, choices=(10, 80), default=80)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8080")))
    parser.add_argument("--days", type=int, default=7, help="days of simulated history for the dashboard")
    args = parser.parse_args(argv)
    if args.replay:
        return replay_day(args.seed, args.hours, args.rate)
    return live(args.port, args.days)


if __name__ == "__main__":
    sys.exit(main())
