"""`make demo-fleet`: a broker, three cushions, a hub and its dashboard come up; without mosquitto, what to install."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request

import pytest

from device.cli import demo_fleet
from device.cli.demo import port_in_use
from device.cli.local_broker import free_port, mosquitto_path
from tests.paths import ROOT


def test_without_mosquitto_it_says_what_to_install(monkeypatch, capsys):
    monkeypatch.setattr(demo_fleet, "mosquitto_path", lambda: None)
    assert demo_fleet.main(["--port", str(free_port())]) == 2
    assert "sudo apt-get install mosquitto" in capsys.readouterr().err


@pytest.mark.skipif(mosquitto_path() is None, reason="MOSQUITTO NOT INSTALLED (apt-get install mosquitto)")
def test_three_cushions_reach_the_fleet_page(tmp_path):
    port = free_port()
    demo = subprocess.Popen(
        [sys.executable, "-m", "device.cli.demo_fleet", "--port", str(port), "--seconds", "40"],
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/sbin:/usr/bin:/bin"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        cushions = []
        deadline = time.monotonic() + 35
        while time.monotonic() < deadline:
            if port_in_use(port):
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/fleet", timeout=2) as response:
                        cushions = json.load(response)["cushions"]
                except OSError:
                    pass
                if len(cushions) == 3 and all(c["status"] == "online" for c in cushions):
                    break
            time.sleep(0.5)
        assert [c["id"] for c in cushions] == ["desk-1", "desk-2", "desk-3"]
        assert all(c["status"] == "online" for c in cushions)
    finally:
        demo.terminate()
        out = demo.communicate(timeout=30)[0].decode()
    assert f"Open http://127.0.0.1:{port}/fleet" in out
    assert demo.returncode == 0, out
