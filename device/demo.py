"""`make demo`: a simulated office day on the cushion, replayed and summarised.

No hardware needed: the simulated sitter writes a SPEC recording of an
8-hour day (80 frames/s, with sensor noise, drift, spikes, dropped frames and
a few faults), which is replayed through the same pipeline as the live
daemon. The summary is shown next to what really happened in the simulation.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from device.config import Config
from device.replay import format_summary, replay
from device.sitter import DEMO_CALIBRATION, Simulation, random_day, write_recording

DAY_STARTS_AT_H = 9.0  # the demo's day starts at 09:00


def clock(t: float) -> str:
    minutes = int((DAY_STARTS_AT_H * 3600 + t) // 60)
    return f"{minutes // 60 % 24:02d}:{minutes % 60:02d}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="demo", description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--hours", type=float, default=8.0)
    parser.add_argument("--rate", type=int, choices=(10, 80), default=80)
    args = parser.parse_args(argv)

    sim = Simulation(random_day(args.seed, hours=args.hours), calibration=DEMO_CALIBRATION,
                     rate_hz=args.rate, seed=args.seed)
    with tempfile.TemporaryDirectory(prefix="cushion-demo-") as folder:
        path = Path(folder) / "day.csv"
        print(f"Simulating {args.hours:g} hours on the cushion at {args.rate} frames/s ...", flush=True)
        started = time.perf_counter()
        write_recording(sim, path, {"rate_hz": str(args.rate), "device": "simulated cushion"})
        written = time.perf_counter() - started
        size_mb = path.stat().st_size / 1e6
        started = time.perf_counter()
        report = replay(path, Config(calibration=DEMO_CALIBRATION))
        replayed = time.perf_counter() - started
    print(f"Recorded {report['frames']:,} frames ({size_mb:.0f} MB) in {written:.1f} s; "
          f"replayed in {replayed:.1f} s ({report['frames'] / replayed:,.0f} frames/s).\n")

    print("What the cushion saw")
    print("--------------------")
    print(format_summary(report))
    print("\nSessions (the day starts at 09:00)")
    for session in report["sessions"]:
        end = session["end"]
        until = clock(end) if end is not None else "still seated"
        length = ((end if end is not None else report["duration_s"]) - session["start"]) / 60
        prompts = ", ".join(session["prompts"]) or "no prompts"
        print(f"  {clock(session['start'])} - {until:<12}  {length:4.0f} min  {prompts}")

    truth = sim.truth
    print("\nWhat really happened in the simulation")
    print("--------------------------------------")
    print(f"  sessions {len(truth.sessions)}, leans {len(truth.leans)}, twists {len(truth.twists)}, "
          f"perches {len(truth.perches)}, slumps {len(truth.slumps)}, fidgets {len(truth.fidgets)}, "
          f"sensor faults {len(truth.faults)}")
    counts = {}
    for event in report["events"]:
        counts[event["type"]] = counts.get(event["type"], 0) + 1
    print(f"  detected: sessions {len(report['sessions'])}, leans {counts.get('lean', 0)}, "
          f"twists {counts.get('twist', 0)}, perches {counts.get('perch', 0)}, slumps {counts.get('slump', 0)}, "
          f"fidgets {counts.get('fidget', 0)}, faults {counts.get('fault', 0)}")
    print("\nTry it on a recording of your own:  .venv/bin/cushion replay RECORDING --config CONFIG")
    return 0


if __name__ == "__main__":
    sys.exit(main())
