"""The `cushion` command line.

What a user sees when something goes wrong:

- a mistake they can fix (a bad config, option, recording or path) is one
  line, "cushion: error: ...", naming the file, line or key, and exit
  status 2; a bad option shows the usage of the command it was given to;
- Ctrl-C ends a command quietly with 130 (`run` and `record` stop cleanly
  with 0: they flush what they have first); SIGTERM stops `dashboard`
  cleanly with 0;
- output to a closed pipe (`cushion replay day.csv | head -1`) ends quietly
  with 0; output that cannot be written (`> /dev/full`) is an error.

Nothing is imported at module level beyond `sys` and device.errors, so
that the console script reaches main() at once and a Ctrl-C right after
starting is caught there too, not as a traceback from an import.
"""

from __future__ import annotations

import sys

from device import version
from device.errors import CushionError


class Terminated(KeyboardInterrupt):
    """SIGTERM, for the commands that stop on it as on Ctrl-C (dashboard): exit 0."""


def _cmd_replay(args) -> int:
    import json

    from device.cli.replay import format_summary, replay
    from device.config import Calibration, find_config

    path, config = find_config(args.config)
    if config.calibration == Calibration():
        # Uncalibrated counts make up kilograms: every finding would be a guess.
        why = "no such file" if not path.exists() else "no [calibration] in it"
        _warn(
            f"{path}: {why}; using the default config (uncalibrated): loads, and everything found from them, "
            "are guesses; give the config that `cushion calibrate` wrote"
        )
    report = replay(args.recording, config, warn=_warn)
    if args.json:
        text = json.dumps(report, separators=(",", ":"), allow_nan=False)
    else:
        text = format_summary(report)
    _emit(text + "\n")
    return 0


def _cmd_simulate(args) -> int:
    from pathlib import Path

    from device.sim.sitter import DEMO_CALIBRATION, Simulation, random_day, write_recording
    from device.storage.files import replaced_atomically
    from device.storage.recording import WriteError, check_output

    output = Path(args.output)
    exists = check_output(output, force=args.force)
    sim = Simulation(
        random_day(args.seed, hours=args.hours), calibration=DEMO_CALIBRATION, rate_hz=args.rate, seed=args.seed
    )
    # Written next to its place and renamed over it when complete, so a full
    # disk or a Ctrl-C never leaves half a recording (or half of the one
    # --force replaces). A device or pipe is written directly.
    try:
        if exists and not output.is_file():
            write_recording(sim, output)
        else:
            with replaced_atomically(output) as temporary:
                write_recording(sim, temporary)
                if output.exists() and not args.force:
                    raise CushionError(f"{output}: already exists; nothing written (--force replaces it)")
    except WriteError as exc:
        raise CushionError(f"{output}: cannot write: {exc.reason}; nothing written") from None
    except OSError as exc:
        raise CushionError(f"{output}: cannot write: {exc.strerror or exc}; nothing written") from None
    print(f"wrote {output}: {sim.duration_s / 3600:.1f} h at {args.rate} Hz", file=sys.stderr)
    return 0


def _cmd_run(args) -> int:
    from pathlib import Path

    from device.daemon.service import run, setup_logging

    setup_logging(args.verbose)
    return run(
        Path(args.config) if args.config else None,
        Path(args.db) if args.db else None,
        sim=args.sim,
        speed=args.speed,
        seconds=args.seconds,
        seed=args.seed,
        hours=args.hours,
        alerts_on=not args.no_alerts,
    )


def _cmd_dashboard(args) -> int:
    import signal
    import socket
    from pathlib import Path

    from dashboard import serve
    from device.config import default_db_path

    db = Path(args.db) if args.db else default_db_path()
    if not db.exists():
        raise CushionError(f"{db}: no such history database; `cushion run` creates it (is --db right?)")
    config_path, _ = _config(args.config)  # checked now: a broken file is one line, not a traceback
    try:
        if args.host:  # "" is every interface, as 0.0.0.0
            socket.getaddrinfo(args.host, args.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as exc:
        reason = getattr(exc, "strerror", None) or "not a valid host name"
        raise CushionError(f"dashboard: --host {args.host}: not an address to listen on ({reason})") from None

    def terminate(*_):
        raise Terminated()

    signal.signal(signal.SIGTERM, terminate)
    serve(db, host=args.host, port=args.port, config_path=str(config_path))
    return 0


def _cmd_hub(args) -> int:
    from pathlib import Path

    from device.cli.hub import run_hub
    from device.daemon.service import setup_logging

    setup_logging(args.verbose)
    config_path, config = _config(args.config)
    return run_hub(Path(config_path), config, Path(args.db), seconds=args.seconds)


def _cmd_set_password(args) -> int:
    from pathlib import Path

    from dashboard import set_password
    from device.config import default_db_path

    db = Path(args.db) if args.db else default_db_path()
    # The default place is the daemon's: created if need be. A --db naming a
    # folder that does not exist is taken for a typo.
    if args.db and not db.exists() and not db.parent.is_dir():
        raise CushionError(f"{db}: no such folder {db.parent}; nothing created (is --db right?)")
    set_password(db, _read_password())
    print("dashboard password set", file=sys.stderr)
    return 0


MAX_PASSWORD_BYTES = 1024


def _read_password() -> str:
    """The new password from the terminal (asked twice) or one line of stdin.

    Only the line ending (LF or CRLF) is removed; a password that is empty
    or only spaces, or not UTF-8 text, is refused.
    """
    import getpass

    if sys.stdin.isatty():
        try:
            password = getpass.getpass("New dashboard password: ")
            again = getpass.getpass("Again: ")
        except EOFError:
            raise CushionError("set-password: no password given (end of input); nothing changed") from None
        if again != password:
            raise CushionError("set-password: the two passwords differ; nothing changed")
        try:
            password.encode("utf-8")
        except UnicodeEncodeError:
            raise CushionError("set-password: the password is not valid UTF-8 text; nothing changed") from None
    else:
        line = sys.stdin.buffer.readline(MAX_PASSWORD_BYTES + 2)
        if not line:
            raise CushionError("set-password: no password on standard input; nothing changed")
        if line.endswith(b"\n"):
            line = line[:-1]
        if line.endswith(b"\r"):
            line = line[:-1]
        if len(line) > MAX_PASSWORD_BYTES:
            raise CushionError(f"set-password: the password is longer than {MAX_PASSWORD_BYTES} bytes; nothing changed")
        try:
            password = line.decode("utf-8")
        except UnicodeDecodeError:
            raise CushionError("set-password: the password is not valid UTF-8 text; nothing changed") from None
    if not password.strip():
        raise CushionError("set-password: the password is empty or only spaces; nothing changed")
    return password


def _cmd_check(args) -> int:
    from device.cli.sensor import check

    return check(args.config, sim=args.sim, seconds=args.seconds)


def _cmd_tare(args) -> int:
    from device.cli.sensor import tare

    return tare(args.config, sim=args.sim, seconds=args.seconds, force=args.force)


def _cmd_calibrate(args) -> int:
    from device.cli.sensor import calibrate

    return calibrate(args.config, weight_kg=args.weight, sim=args.sim, yes=args.yes, seconds=args.seconds)


def _cmd_record(args) -> int:
    from device.cli.record import record

    return record(args.recording, args.config, sim=args.sim, seconds=args.seconds, force=args.force)


def _config(path):
    """The config file of --config, or the default one (device.config.find_config), and its Config."""
    from device.config import find_config

    return find_config(path, warn=_warn)


def _warn(text: str) -> None:
    print(f"cushion: warning: {text}", file=sys.stderr)


MAX_HOURS = 168.0  # --hours: a simulated week at most


def build_parser():
    """The parser; each subparser is also in ``parser.commands`` (name -> parser)."""
    import argparse

    parser = argparse.ArgumentParser(prog="cushion", description="Smart cushion: sitting habits from four load cells.")
    parser.add_argument("--version", action="version", version=f"cushion {version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    parser.commands = commands.choices  # type: ignore[attr-defined]  # for _parse: a bad option shows its command's usage

    p = commands.add_parser("replay", help="run a recording through the pipeline and report what it found")
    p.add_argument("recording", help="a recording (CSV, SPEC section 4)")
    p.add_argument("--config", help="config file (default: ~/.config/smart-cushion/config.toml, as every command)")
    p.add_argument("--json", action="store_true", help="print the full JSON report")
    p.set_defaults(func=_cmd_replay)

    p = commands.add_parser("simulate", help="write a recording of a simulated working day")
    p.add_argument("output", help="recording to write (an existing file is refused without --force)")
    p.add_argument("--hours", type=_hours, default=8.0, help=f"length of the day (default 8, at most {MAX_HOURS:g})")
    p.add_argument("--seed", type=_seed, default=1, help="which simulated day (a whole number, 0 or more)")
    p.add_argument("--rate", type=int, choices=(10, 80), default=80)
    p.add_argument("--force", action="store_true", help="replace OUTPUT if it exists")
    p.set_defaults(func=_cmd_simulate)

    p = commands.add_parser("run", help="the live loop: sample, detect, prompt, keep the history")
    p.add_argument("--config", help="config file (default: ~/.config/smart-cushion/config.toml, created on first run)")
    p.add_argument("--db", help="history database (default: ~/.local/share/smart-cushion/history.db)")
    p.add_argument("--sim", action="store_true", help="a simulated sitter instead of the HX711s (mock GPIO pins)")
    p.add_argument(
        "--speed",
        type=_positive,
        default=None,
        help="with --sim: run N times faster than real time (default 1: through the bit-level HX711 model)",
    )
    p.add_argument("--seconds", type=_positive, help="stop after this many seconds of sensor time")
    p.add_argument("--seed", type=_seed, default=None, help="with --sim: which simulated day (default 1)")
    p.add_argument("--hours", type=_hours, default=None, help="with --sim: length of the simulated day (default 8)")
    p.add_argument("--no-alerts", action="store_true", help="no buzzer or LED")
    p.add_argument("-v", "--verbose", action="store_true")
    p.set_defaults(func=_cmd_run)

    # The sensor commands (hardware/calibration.md).
    config_help = "config file (default: ~/.config/smart-cushion/config.toml)"
    sim_help = "a simulated cushion on mock GPIO pins instead of the HX711s"
    p = commands.add_parser(
        "check", help="read the HX711s for a few seconds: answers, rate, noise, direction per channel"
    )
    p.add_argument("--config", help=config_help)
    p.add_argument("--sim", action="store_true", help=sim_help)
    p.add_argument("--seconds", type=_positive, default=3.0, help="how long to read (default 3)")
    p.set_defaults(func=_cmd_check)

    p = commands.add_parser("tare", help="zero: write the empty cushion's readings to [calibration] offset")
    p.add_argument("--config", help=config_help)
    p.add_argument("--sim", action="store_true", help=sim_help)
    p.add_argument("--seconds", type=_positive, default=3.0, help="how long to average (default 3)")
    p.add_argument(
        "--force",
        action="store_true",
        help="tare even if the cushion reads much heavier than at the last tare (the setup changed)",
    )
    p.set_defaults(func=_cmd_tare)

    p = commands.add_parser("calibrate", help="guided calibration with a known weight on each corner in turn")
    p.add_argument(
        "--weight", type=_positive, required=True, metavar="KG", help="the weight's mass in kg (5-20 kg is best)"
    )
    p.add_argument("--config", help=config_help)
    p.add_argument("--sim", action="store_true", help=sim_help + " (the simulated rig places the weight)")
    p.add_argument("--yes", action="store_true", help="with --sim: do not wait for Enter at each step")
    p.add_argument("--seconds", type=_positive, default=2.0, help="steady seconds averaged at each step (default 2)")
    p.set_defaults(func=_cmd_calibrate)

    p = commands.add_parser("record", help="write the raw sensor frames to a recording (SPEC section 4)")
    p.add_argument("recording", help="recording to write (CSV; an existing file is refused without --force)")
    p.add_argument("--config", help=config_help)
    p.add_argument("--sim", action="store_true", help=sim_help)
    p.add_argument("--seconds", type=_positive, help="stop after this many seconds (default: at Ctrl-C or SIGTERM)")
    p.add_argument("--force", action="store_true", help="replace RECORDING if it exists")
    p.set_defaults(func=_cmd_record)

    p = commands.add_parser("dashboard", help="serve the web dashboard (127.0.0.1 unless a password is set)")
    p.add_argument(
        "--db",
        help="history database (default: ~/.local/share/smart-cushion/history.db; "
        "it must exist: `cushion run` creates it)",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on; 0.0.0.0 needs `cushion set-password`")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument(
        "--config", help="config file the settings apply over (default: ~/.config/smart-cushion/config.toml)"
    )
    p.set_defaults(func=_cmd_dashboard)

    p = commands.add_parser("hub", help="keep the history of every cushion under the MQTT topic prefix (docs/mqtt.md)")
    p.add_argument("--config", help="config file with the [mqtt] broker (default: ~/.config/smart-cushion/config.toml)")
    p.add_argument("--db", required=True, help="the hub's database (each cushion's history goes beside it)")
    p.add_argument("--seconds", type=_positive, help="stop after this many seconds (default: at Ctrl-C or SIGTERM)")
    p.add_argument("-v", "--verbose", action="store_true")
    p.set_defaults(func=_cmd_hub)

    p = commands.add_parser("set-password", help="set the dashboard password (read from the terminal or stdin)")
    p.add_argument(
        "--db",
        help="history database (default: ~/.local/share/smart-cushion/history.db; "
        "a --db in a folder that does not exist is refused)",
    )
    p.set_defaults(func=_cmd_set_password)
    return parser


def _parse(parser, argv):
    """Parse; a bad option is reported with the usage of its command, not the top level's."""
    args, extra = parser.parse_known_args(argv)
    command = parser.commands[args.command]
    if extra:
        command.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.command == "run":
        given = [name for name in ("speed", "seed", "hours") if getattr(args, name) is not None]
        if given and not args.sim:
            command.error(f"--{given[0]} needs --sim")
        args.speed = 1.0 if args.speed is None else args.speed
        args.seed = 1 if args.seed is None else args.seed
        args.hours = 8.0 if args.hours is None else args.hours
    return args


def _positive(text: str) -> float:
    import argparse
    import math

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0 or math.isinf(value):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def _hours(text: str) -> float:
    import argparse

    value = _positive(text)
    if value > MAX_HOURS:
        raise argparse.ArgumentTypeError(f"at most {MAX_HOURS:g} hours (a week), got {text}")
    return value


def _seed(text: str) -> int:
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def _emit(text: str) -> None:
    """Write to stdout now, so that a stdout that cannot take it is this command's error."""
    sys.stdout.write(text)
    sys.stdout.flush()


class _StdoutError(CushionError):
    """Standard output could not be written (`> /dev/full`)."""


class _Stdout:
    """sys.stdout while a command runs: a write that fails (but for a closed
    pipe) becomes a _StdoutError, which the CLI prints as one line."""

    def __init__(self, stream):
        self._stream = stream

    def _guard(self, method, *args):
        try:
            return method(*args)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise _StdoutError(f"cannot write to standard output: {exc.strerror or exc}") from None

    def write(self, text):
        return self._guard(self._stream.write, text)

    def flush(self):
        return self._guard(self._stream.flush)

    def __getattr__(self, name):
        return getattr(self._stream, name)


def _forget_stdout(stream) -> None:
    """Point stdout at /dev/null, so the interpreter's last flush of what is
    still buffered cannot fail (and print a traceback) after we are done."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def main(argv: list[str] | None = None) -> int:
    stdout = sys.stdout
    try:
        args = _parse(build_parser(), argv)
        sys.stdout = _Stdout(stdout)
        try:
            status = args.func(args)
            sys.stdout.flush()
            return status
        except CushionError as exc:
            if isinstance(exc, _StdoutError):
                _forget_stdout(stdout)
            print(f"cushion: error: {exc}", file=sys.stderr)
            return 2
        except BrokenPipeError:
            _forget_stdout(stdout)
            return 0
        finally:
            sys.stdout = stdout
    except Terminated:
        return 0
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
