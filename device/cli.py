"""The `cushion` command line."""

from __future__ import annotations

import argparse
import json
import sys

from device.config import load_config
from device.errors import CushionError


def _cmd_replay(args: argparse.Namespace) -> int:
    from device.replay import format_summary, replay

    report = replay(args.recording, load_config(args.config))
    if args.json:
        json.dump(report, sys.stdout, separators=(",", ":"))
        sys.stdout.write("\n")
    else:
        print(format_summary(report))
    return 0


def _cmd_simulate(args: argparse.Namespace) -> int:
    from device.sitter import DEMO_CALIBRATION, Simulation, random_day, write_recording

    sim = Simulation(random_day(args.seed, hours=args.hours), calibration=DEMO_CALIBRATION,
                     rate_hz=args.rate, seed=args.seed)
    write_recording(sim, args.output)
    print(f"wrote {args.output}: {sim.duration_s / 3600:.1f} h at {args.rate} Hz", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cushion", description="Smart cushion: sitting habits from four load cells.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = commands.add_parser("replay", help="run a recording through the pipeline and report what it found")
    p.add_argument("recording", help="a recording (CSV, SPEC section 4)")
    p.add_argument("--config", help="config file (TOML); defaults apply when omitted")
    p.add_argument("--json", action="store_true", help="print the full JSON report")
    p.set_defaults(func=_cmd_replay)

    p = commands.add_parser("simulate", help="write a recording of a simulated working day")
    p.add_argument("output", help="recording to write")
    p.add_argument("--hours", type=float, default=8.0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--rate", type=int, choices=(10, 80), default=80)
    p.set_defaults(func=_cmd_simulate)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except CushionError as exc:
        print(f"cushion: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
