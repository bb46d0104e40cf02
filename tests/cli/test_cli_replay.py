"""`cushion replay`: the report's shape, and one-line errors with exit status 2."""

import json
import subprocess
import sys

import pytest

from device.cli.cushion import main
from device.storage.recording import RecordingWriter
from tests.signals import CAL, Signal

# Commands find a calibrated config where `cushion calibrate` leaves it (replay warns without one).
pytestmark = pytest.mark.usefixtures("calibrated_home")

CONFIG = f"""
[calibration]
offset = {list(CAL.offset)}
counts_per_kg = {list(CAL.counts_per_kg)}
"""


@pytest.fixture
def recording(tmp_path):
    s = Signal(10).hold(5).ramp(120, 60, ramp_s=0.5).ramp(15, 60, lat=-0.3).ramp(20, 60, lat=0).ramp(70, 0)
    t, raw = s.frames(noise_counts=150)
    path = tmp_path / "rec.csv"
    with RecordingWriter(path, {"rate_hz": "10"}) as writer:
        writer.write_block(t, raw)
    config = tmp_path / "cushion.toml"
    config.write_text(CONFIG)
    return path, config


def test_json_report_has_the_spec_keys(recording, capsys):
    path, config = recording
    assert main(["replay", str(path), "--config", str(config), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["frames"] == 2300 and report["duration_s"] == pytest.approx(230.0)
    assert set(report) >= {"frames", "duration_s", "sessions", "events", "summary"}
    assert set(report["summary"]) >= {"seated_s", "sessions", "breaks", "fidgets", "lean_s", "twists", "prompts"}
    (session,) = report["sessions"]
    assert session["start"] == pytest.approx(5.15, abs=0.15) and session["end"] == pytest.approx(160.0, abs=0.5)
    assert report["summary"]["seated_s"] == pytest.approx(155.0, abs=0.5)
    assert report["summary"]["breaks"] == 1
    assert report["summary"]["lean_s"]["left"] == pytest.approx(17.0, abs=1.0)  # 15 s and the 2 s end hold
    types = [e["type"] for e in report["events"]]
    assert types == ["sit", "lean", "stand"]
    lean = report["events"][1]
    assert set(lean) >= {"type", "side", "start", "end", "peak", "detected_at"} and lean["side"] == "left"
    detected = [e["detected_at"] for e in report["events"]]
    assert detected == sorted(detected)


def test_an_empty_cushion_reports_durations_as_numbers_with_decimals(tmp_path, capsys):
    """Nobody sat: seated_s is 0.0 like every other duration, not the integer 0."""
    t, raw = Signal(10).hold(30).frames(noise_counts=150)
    path = tmp_path / "empty.csv"
    with RecordingWriter(path, {"rate_hz": "10"}) as writer:
        writer.write_block(t, raw)
    assert main(["replay", str(path), "--json"]) == 0
    out = capsys.readouterr().out
    summary = json.loads(out)["summary"]
    assert summary["sessions"] == 0 and isinstance(summary["seated_s"], float)
    assert '"seated_s":0.0' in out


def test_human_summary(recording, capsys):
    path, config = recording
    assert main(["replay", str(path), "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "1 session(s)" in out and "Leaning: left" in out


def test_same_file_gives_the_same_report(recording, capsys):
    path, config = recording
    main(["replay", str(path), "--config", str(config), "--json"])
    first = capsys.readouterr().out
    main(["replay", str(path), "--config", str(config), "--json"])
    assert capsys.readouterr().out == first


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "device.cli", *args], capture_output=True, text=True)


@pytest.mark.parametrize(
    "recording_text, config_text, message",
    [
        ("t,fl,fr,bl,br\n0,1,2,3,4\n0.1,1,2\n", CONFIG, "line 3: expected 5 fields"),
        ("", CONFIG, "the recording is empty"),
        ("t,fl,fr,bl,br\n0,1,2,3,4\n", "[detect]\nlean_min = 3\n", "unknown key [detect] lean_min"),
        ("t,fl,fr,bl,br\n0,1,2,3,4\n", "[geometry\n", "TOML syntax error"),
    ],
)
def test_bad_input_is_one_line_exit_2_no_traceback(tmp_path, recording_text, config_text, message):
    rec = tmp_path / "in.csv"
    rec.write_text(recording_text)
    cfg = tmp_path / "c.toml"
    cfg.write_text(config_text)
    result = run_cli("replay", str(rec), "--config", str(cfg), "--json")
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in result.stderr


def test_missing_recording_is_a_clear_error(tmp_path):
    result = run_cli("replay", str(tmp_path / "nope.csv"))
    assert result.returncode == 2 and "nope.csv: cannot open" in result.stderr


# -- the config replay uses: the same default as every command ----------------------------------


def test_replay_without_config_uses_the_default_file_that_calibrate_writes(recording, calibrated_home):
    path, config = recording
    given = run_cli("replay", str(path), "--config", str(config), "--json")
    default = run_cli("replay", str(path), "--json")
    assert given.returncode == default.returncode == 0
    assert default.stderr == "" and json.loads(default.stdout) == json.loads(given.stdout)


@pytest.mark.parametrize("default_file", ["", "[breaks]\nbreak_after_min = 30\n", None])
def test_an_uncalibrated_replay_says_so_in_one_warning_line(recording, default_file):
    from device.config import default_config_path

    path, _ = recording
    if default_file is None:
        default_config_path().unlink()
    else:
        default_config_path().write_text(default_file)
    result = run_cli("replay", str(path))
    assert result.returncode == 0 and result.stdout.startswith("Recording:")
    (line,) = result.stderr.splitlines()
    why = "no such file" if default_file is None else "no [calibration] in it"
    assert line.startswith(
        f"cushion: warning: {default_config_path()}: {why}; using the default config "
        "(uncalibrated): loads, and everything found from them, are guesses"
    )
