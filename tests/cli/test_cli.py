"""The `cushion` command line (device/cli/cushion.py): options, one-line errors, exit statuses, stdout."""

from __future__ import annotations

import getpass
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from werkzeug.security import check_password_hash

from dashboard import auth
from device.cli import cushion as cli
from device.cli.cushion import main
from device.storage.recording import RecordingReader, WriteError
from device.storage.store import Store
from tests.paths import ROOT

# Commands find a calibrated config where `cushion calibrate` leaves it (replay warns without one).
pytestmark = pytest.mark.usefixtures("calibrated_home")

REC = "# rate_hz: 80\nt,fl,fr,bl,br\n" + "".join(f"{i / 80:.4f},1,2,3,4\n" for i in range(200))


def run_cli(*args, **kwargs):
    if "stdout" not in kwargs:
        kwargs.setdefault("capture_output", True)
    return subprocess.run([sys.executable, "-m", "device.cli", *args], cwd=ROOT, text=True, timeout=60, **kwargs)


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cushion: error: ") and "Traceback" not in err, err
    return lines[0]


@pytest.fixture
def recording(tmp_path):
    path = tmp_path / "rec.csv"
    path.write_text(REC)
    return path


def test_importing_the_cli_is_instant_so_an_early_ctrl_c_is_caught_in_main():
    code = (
        "import sys, device.cli.cushion; "
        "print(sorted(m for m in sys.modules if m.startswith(('device', 'numpy', 'tomllib'))))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "['device', 'device.cli', 'device.cli.cushion', 'device.errors']"


def test_ctrl_c_in_a_command_exits_130_quietly(monkeypatch, capsys):
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_cmd_replay", interrupted)
    assert main(["replay", "x.csv"]) == 130
    assert capsys.readouterr().err == ""


def test_a_bad_option_shows_the_usage_of_its_command(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--bogus"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: cushion run ") and "cushion run: error: unrecognized arguments: --bogus" in err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--seconds", "nan"], "--seconds: must be a positive number"),
        (["--seconds", "0"], "--seconds: must be a positive number"),
        (["--seconds", "-5"], "--seconds: must be a positive number"),
        (["--sim", "--speed", "0"], "--speed: must be a positive number"),
        (["--sim", "--speed", "-1"], "--speed: must be a positive number"),
        (["--sim", "--speed", "nan"], "--speed: must be a positive number"),
        (["--sim", "--hours", "-1"], "--hours: must be a positive number"),
        (["--sim", "--hours", "nan"], "--hours: must be a positive number"),
        (["--sim", "--hours", "1000"], "--hours: at most 168 hours"),
        (["--sim", "--seed", "-1"], "--seed: must be 0 or more"),
        (["--speed", "5"], "--speed needs --sim"),
    ],
)
def test_run_checks_its_options(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["run", *argv])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


# -- simulate ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--hours", "-1"], "--hours: must be a positive number"),
        (["--hours", "nan"], "--hours: must be a positive number"),
        (["--seed", "-1"], "--seed: must be 0 or more"),
    ],
)
def test_simulate_checks_its_options(tmp_path, argv, message, capsys):
    with pytest.raises(SystemExit):
        main(["simulate", str(tmp_path / "x.csv"), *argv])
    assert message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_simulate_refuses_to_replace_a_recording_unless_forced(tmp_path, capsys):
    path = tmp_path / "day.csv"
    path.write_text(REC)
    assert main(["simulate", str(path), "--hours", "0.01"]) == 2
    assert "already exists; nothing written (--force replaces it)" in one_error_line(capsys.readouterr().err)
    assert path.read_text() == REC
    assert main(["simulate", str(path), "--hours", "0.01", "--force"]) == 0
    assert sum(len(b) for b in RecordingReader(path)) == pytest.approx(0.01 * 3600 * 80, abs=80)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["day.csv"]


@pytest.mark.parametrize(
    "where, message",
    [
        ("nope/x.csv", "cannot write: no such folder"),
        (".", "is a folder"),
    ],
)
def test_simulate_into_a_place_it_cannot_write_is_one_line(tmp_path, where, message, capsys):
    assert main(["simulate", str(tmp_path / where), "--hours", "0.01"]) == 2
    assert message in one_error_line(capsys.readouterr().err)


def test_simulate_on_a_full_disk_keeps_the_file_it_would_replace(tmp_path, monkeypatch, capsys):
    from device.sim import sitter

    def disk_full(sim, path, metadata=None):
        Path(path).write_text("t,fl,fr,bl,br\n0,1,2")  # half written when the disk filled up
        raise WriteError(f"{path}: cannot write: No space left on device", "No space left on device")

    monkeypatch.setattr(sitter, "write_recording", disk_full)
    path = tmp_path / "day.csv"
    path.write_text(REC)
    assert main(["simulate", str(path), "--hours", "0.01", "--force"]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert line == f"cushion: error: {path}: cannot write: No space left on device; nothing written"
    assert path.read_text() == REC and sorted(p.name for p in tmp_path.iterdir()) == ["day.csv"]


# -- replay ------------------------------------------------------------------------


def test_replay_into_a_full_device_is_one_line(recording):
    with open("/dev/full", "w") as full:
        result = run_cli("replay", str(recording), "--json", stdout=full, stderr=subprocess.PIPE)
    assert result.returncode == 2
    assert one_error_line(result.stderr) == "cushion: error: cannot write to standard output: No space left on device"


def test_replay_into_a_closed_pipe_ends_quietly(recording):
    process = subprocess.Popen(
        [sys.executable, "-m", "device.cli", "replay", str(recording)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    process.stdout.close()  # `| head -0`: the reader is gone before anything is written
    err = process.stderr.read()
    assert process.wait(timeout=60) == 0 and err == ""


@pytest.mark.parametrize(
    "text, message",
    [
        ("# rate_hz: nan\nt,fl,fr,bl,br\n0,1,2,3,4\n", "line 1: rate_hz must be a number"),
        ("t,fl,fr,bl,br\n0,1,2,3,4\n1e308,1,2,3,4\n", "line 3: t = '1e308' is not a plausible time"),
    ],
)
def test_replay_of_absurd_numbers_is_one_line_with_or_without_json(tmp_path, text, message):
    path = tmp_path / "r.csv"
    path.write_text(text)
    for flags in ([], ["--json"]):
        result = run_cli("replay", str(path), *flags)
        assert result.returncode == 2 and result.stdout == ""
        assert message in one_error_line(result.stderr)


def test_replay_json_is_always_valid_json(recording, capsys):
    assert main(["replay", str(recording), "--json"]) == 0
    json.loads(capsys.readouterr().out, parse_constant=lambda name: pytest.fail(f"{name} in the JSON"))


# -- --config --------------------------------------------------------------------------


def test_a_missing_config_named_on_the_command_line_warns_and_runs_on_the_defaults(tmp_path, recording, capsys):
    missing = tmp_path / "typo.toml"
    assert main(["replay", str(recording), "--config", str(missing)]) == 0
    captured = capsys.readouterr()
    assert captured.err == (
        f"cushion: warning: {missing}: no such file; using the default config (uncalibrated): "
        "loads, and everything found from them, are guesses; give the config that "
        "`cushion calibrate` wrote\n"
    )
    assert captured.out.startswith("Recording: 200 frames")


def test_a_config_that_is_not_a_regular_file_is_refused_without_hanging(tmp_path, recording):
    fifo = tmp_path / "config.toml"
    os.mkfifo(fifo)
    for argv in (["replay", str(recording)], ["check", "--sim"], ["run", "--sim", "--seconds", "1"]):
        started = time.monotonic()
        result = (
            run_cli(*argv, "--config", str(fifo), "--db", str(tmp_path / "h.db"))
            if argv[0] == "run"
            else run_cli(*argv, "--config", str(fifo))
        )
        assert result.returncode == 2 and time.monotonic() - started < 30
        assert f"{fifo}: not a regular file" in one_error_line(result.stderr)


# -- set-password ------------------------------------------------------------------------


def piped(data: bytes):
    """Standard input from a pipe, as Python sets it up (no newline translation)."""
    return io.TextIOWrapper(io.BytesIO(data), newline="\n")


def set_password_with(monkeypatch, tmp_path, data: bytes, *argv):
    monkeypatch.setattr(sys, "stdin", piped(data))
    return main(["set-password", "--db", str(tmp_path / "history.db"), *argv])


def stored_hash(tmp_path):
    with Store(tmp_path / "history.db") as store:
        return auth.password_hash(store)


def test_set_password_strips_only_the_line_ending(tmp_path, monkeypatch, capsys):
    assert set_password_with(monkeypatch, tmp_path, b"longenough1\r\n") == 0
    assert check_password_hash(stored_hash(tmp_path), "longenough1")
    assert set_password_with(monkeypatch, tmp_path, b"  spaced out  \n") == 0
    assert check_password_hash(stored_hash(tmp_path), "  spaced out  ")


@pytest.mark.parametrize(
    "data, message",
    [
        (b"        \n", "the password is empty or only spaces"),
        (b"\t \r\n", "the password is empty or only spaces"),
        (b"\n", "the password is empty or only spaces"),
        (b"", "no password on standard input"),
        (b"\xff\xfelongenough\n", "the password is not valid UTF-8 text"),
    ],
)
def test_set_password_refuses_what_is_no_password(tmp_path, monkeypatch, capsys, data, message):
    assert set_password_with(monkeypatch, tmp_path, data) == 2
    assert message in one_error_line(capsys.readouterr().err)
    assert not (tmp_path / "history.db").exists() or stored_hash(tmp_path) is None


def test_set_password_at_a_terminal_handles_ctrl_d(tmp_path, monkeypatch, capsys):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    def ctrl_d(prompt):
        raise EOFError

    monkeypatch.setattr(sys, "stdin", Terminal())
    monkeypatch.setattr(getpass, "getpass", ctrl_d)
    assert main(["set-password", "--db", str(tmp_path / "history.db")]) == 2
    assert "no password given (end of input)" in one_error_line(capsys.readouterr().err)


def test_set_password_does_not_create_a_mistyped_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", piped(b"longenough1\n"))
    assert main(["set-password", "--db", str(tmp_path / "typo" / "history.db")]) == 2
    assert "no such folder" in one_error_line(capsys.readouterr().err)
    assert list(tmp_path.iterdir()) == []
    # The default place is the daemon's own: made if need be.
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setattr(sys, "stdin", piped(b"longenough1\n"))
    assert main(["set-password"]) == 0
    assert (tmp_path / "data" / "smart-cushion" / "history.db").is_file()


# -- dashboard ------------------------------------------------------------------------


def test_dashboard_refuses_a_database_that_does_not_exist(tmp_path, capsys, monkeypatch):
    import dashboard

    monkeypatch.setattr(dashboard, "serve", lambda *a, **k: pytest.fail("served"))
    assert main(["dashboard", "--db", str(tmp_path / "typo.db")]) == 2
    assert "no such history database; `cushion run` creates it" in one_error_line(capsys.readouterr().err)
    assert list(tmp_path.iterdir()) == []


def test_dashboard_refuses_a_host_it_cannot_listen_on(tmp_path, capsys, monkeypatch):
    import dashboard

    Store(tmp_path / "history.db").close()
    monkeypatch.setattr(dashboard, "serve", lambda *a, **k: pytest.fail("served"))
    assert main(["dashboard", "--db", str(tmp_path / "history.db"), "--host", "256.1.1.1"]) == 2
    assert "--host 256.1.1.1: not an address to listen on" in one_error_line(capsys.readouterr().err)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_dashboard_stops_cleanly_on_sigterm(tmp_path):
    Store(tmp_path / "history.db").close()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "device.cli",
            "dashboard",
            "--db",
            str(tmp_path / "history.db"),
            "--port",
            str(free_port()),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert "dashboard on http://" in process.stdout.readline()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
        assert process.stderr.read() == ""
    finally:
        if process.poll() is None:
            process.kill()
