"""`make demo` as a newcomer meets it: a port already taken is one line that says what to do."""

import socket
import subprocess
import sys
import time

from tests.paths import ROOT


def test_a_port_in_use_is_one_line_naming_it_and_how_to_pick_another(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-m", "device.cli.demo", "--port", str(port)],
            cwd=tmp_path,
            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"demo: port {port} is in use (another demo, or another program); pick another: make demo PORT={port + 10}"
    ]
    assert time.monotonic() - started < 20  # said at once, before a week of history is made
    assert not (tmp_path / ".demo").exists()


def test_make_demo_passes_port_on():
    result = subprocess.run(["make", "-n", "demo", "PORT=8090"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "-m device.cli.demo --port 8090" in result.stdout
