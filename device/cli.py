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


def _cmd_run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from device.service import run, setup_logging

    setup_logging(args.verbose)
    return run(Path(args.config) if args.config else None, Path(args.db) if args.db else None,
               sim=args.sim, speed=args.speed, seconds=args.seconds, seed=args.seed, hours=args.hours,
               alerts_on=not args.no_alerts)


def _cmd_dashboard(args: argparse.Namespace) -> int:
    from dashboard import serve
    from device.service import default_db_path

    serve(args.db or default_db_path(), host=args.host, port=args.port, config_path=args.config)
    return 0


def _cmd_set_password(args: argparse.Namespace) -> int:
    import getpass

    from dashboard import set_password
    from device.errors import CushionError
    from device.service import default_db_path

    if sys.stdin.isatty():
        password = getpass.getpass("New dashboard password: ")
        if getpass.getpass("Again: ") != password:
            raise CushionError("set-password: the two passwords differ; nothing changed")
    else:
        password = sys.stdin.readline().rstrip("\n")
    set_password(args.db or default_db_path(), password)
    print("dashboard password set", file=sys.stderr)
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from device.commands import check

    return check(args.config, sim=args.sim, seconds=args.seconds)


def _cmd_tare(args: argparse.Namespace) -> int:
    from device.commands import tare

    return tare(args.config, sim=args.sim, seconds=args.seconds, force=args.force)


def _cmd_calibrate(args: argparse.Namespace) -> int:
    from device.commands import calibrate

    return calibrate(args.config, weight_kg=args.weight, sim=args.sim, yes=args.yes, seconds=args.seconds)


def _cmd_record(args: argparse.Namespace) -> int:
    from device.commands import record

    return record(args.recording, args.config, sim=args.sim, seconds=args.seconds)


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
    p = commands.add_parser("run", help="the live loop: sample, detect, prompt, keep the history")
    p.add_argument("--config", help="config file (default: ~/.config/smart-cushion/config.toml, created on first run)")
    p.add_argument("--db", help="history database (default: ~/.local/share/smart-cushion/history.db)")
    p.add_argument("--sim", action="store_true", help="a simulated sitter instead of the HX711s (mock GPIO pins)")
    p.add_argument("--speed", type=float, default=1.0,
                   help="with --sim: run N times faster than real time (1 = through the bit-level HX711 model)")
    p.add_argument("--seconds", type=float, help="stop after this many seconds of sensor time")
    p.add_argument("--seed", type=int, default=1, help="with --sim: which simulated day")
    p.add_argument("--hours", type=float, default=8.0, help="with --sim: length of the simulated day")
    p.add_argument("--no-alerts", action="store_true", help="no buzzer or LED")
    p.add_argument("-v", "--verbose", action="store_true")
    p.set_defaults(func=_cmd_run)

    # The sensor commands (hardware/calibration.md).
    config_help = "config file (default: ~/.config/smart-cushion/config.toml)"
    sim_help = "a simulated cushion on mock GPIO pins instead of the HX711s"
    p = commands.add_parser("check", help="read the HX711s for a few seconds: answers, rate, noise, direction per channel")
    p.add_argument("--config", help=config_help)
    p.add_argument("--sim", action="store_true", help=sim_help)
    p.add_argument("--seconds", type=_positive, default=3.0, help="how long to read (default 3)")
    p.set_defaults(func=_cmd_check)

    p = commands.add_parser("tare", help="zero: write the empty cushion's readings to [calibration] offset")
    p.add_argument("--config", help=config_help)
    p.add_argument("--sim", action="store_true", help=sim_help)
    p.add_argument("--seconds", type=_positive, default=3.0, help="how long to average (default 3)")
    p.add_argument("--force", action="store_true",
                   help="tare even if the cushion reads much heavier than at the last tare (the setup changed)")
    p.set_defaults(func=_cmd_tare)

    p = commands.add_parser("calibrate", help="guided calibration with a known weight on each corner in turn")
    p.add_argument("--weight", type=_positive, required=True, metavar="KG", help="the weight's mass in kg (5-20 kg is best)")
    p.add_argument("--config", help=config_help)
    p.add_argument("--sim", action="store_true", help=sim_help + " (the simulated rig places the weight)")
    p.add_argument("--yes", action="store_true", help="with --sim: do not wait for Enter at each step")
    p.add_argument("--seconds", type=_positive, default=2.0, help="steady seconds averaged at each step (default 2)")
    p.set_defaults(func=_cmd_calibrate)

    p = commands.add_parser("record", help="write the raw sensor frames to a recording (SPEC section 4)")
    p.add_argument("recording", help="recording to write (CSV)")
    p.add_argument("--config", help=config_help)
    p.add_argument("--sim", action="store_true", help=sim_help)
    p.add_argument("--seconds", type=_positive, help="stop after this many seconds (default: at Ctrl-C or SIGTERM)")
    p.set_defaults(func=_cmd_record)

    p = commands.add_parser("dashboard", help="serve the web dashboard (127.0.0.1 unless a password is set)")
    p.add_argument("--db", help="history database (default: ~/.local/share/smart-cushion/history.db)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on; 0.0.0.0 needs `cushion set-password`")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--config", help="config file, for validating settings")
    p.set_defaults(func=_cmd_dashboard)

    p = commands.add_parser("set-password", help="set the dashboard password (read from the terminal or stdin)")
    p.add_argument("--db", help="history database (default: ~/.local/share/smart-cushion/history.db)")
    p.set_defaults(func=_cmd_set_password)
    return parser


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


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
