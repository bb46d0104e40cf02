"""A real Mosquitto for the MQTT tests (device.cli.local_broker), a watching client, cushion configs.

Where Debian's `mosquitto` is missing, every test here skips, says why, and
the end of the run says so again in capitals: no mock broker stands in.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from device.cli.local_broker import INSTALL_HINT, LocalBroker, mosquitto_path
from tests.paths import ROOT
from tests.signals import CAL

USERS = {"cushion": "cushion-secret", "hub": "hub-secret", "watcher": "watcher-secret"}
_skipped: list[str] = []


def pytest_terminal_summary(terminalreporter):
    if _skipped:
        terminalreporter.write_line(
            f"MQTT TESTS SKIPPED ({len(_skipped)}): mosquitto is not installed; {INSTALL_HINT}", red=True, bold=True
        )


@pytest.fixture()
def broker(tmp_path, request):
    if mosquitto_path() is None:
        _skipped.append(request.node.nodeid)
        pytest.skip(f"MOSQUITTO NOT INSTALLED: {INSTALL_HINT} (the MQTT tests need a real broker)")
    server = LocalBroker(tmp_path / "broker", USERS)
    server.start()
    yield server
    server.stop()


def write_config(
    path: Path,
    broker: LocalBroker,
    *,
    user: str = "cushion",
    password: str | None = None,
    cushion_id: str = "desk-1",
    extra: str = "",
    port: int | None = None,
) -> Path:
    """A calibrated config with an [mqtt] section for `broker` (password from a file of its own)."""
    secret = path.parent / f"{path.stem}.password"
    secret.write_text((password if password is not None else USERS[user]) + "\n")
    path.write_text(
        f"[calibration]\noffset = {list(CAL.offset)}\ncounts_per_kg = {list(CAL.counts_per_kg)}\n\n"
        f'[mqtt]\nhost = "127.0.0.1"\nport = {port or broker.port}\nusername = "{user}"\n'
        f'password_file = "{secret}"\ncushion_id = "{cushion_id}"\n{extra}'
    )
    return path


class Watcher:
    """A client subscribed to everything, keeping each message (topic, payload text, retained)."""

    def __init__(self, broker: LocalBroker, topics: tuple[str, ...] = ("#",), ca_file: Path | None = None):
        self.messages: list[tuple[str, str, bool]] = []
        self._cond = threading.Condition()
        self.client = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv311)
        self.client.username_pw_set("watcher", USERS["watcher"])
        self.client.on_message = self._got
        self.client.on_connect = lambda c, u, f, r, p: c.subscribe([(t, 1) for t in topics])
        if ca_file is not None:  # a broker that listens with TLS only
            self.client.tls_set(ca_certs=str(ca_file))
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()

    def _got(self, client, userdata, message):
        with self._cond:
            self.messages.append((message.topic, message.payload.decode(errors="replace"), bool(message.retain)))
            self._cond.notify_all()

    def on(self, topic: str) -> list[str]:
        with self._cond:
            return [payload for t, payload, _ in self.messages if t == topic]

    def wait_for(
        self, what: Callable[[list[tuple[str, str, bool]]], object], timeout: float = 20.0, says: str = ""
    ) -> object:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = what(list(self.messages))
                if found:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    topics = sorted({t for t, _, _ in self.messages})
                    raise AssertionError(f"waited {timeout:g} s for {says or what}; topics seen: {topics}")
                self._cond.wait(left)

    def last_json(self, topic: str, timeout: float = 20.0) -> dict:
        payload = self.wait_for(lambda ms: [p for t, p, _ in ms if t == topic], timeout, says=topic)
        return json.loads(payload[-1])  # type: ignore[index]

    def publish(self, topic: str, payload: str, retain: bool = False) -> None:
        self.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture()
def watcher_for():
    made: list[Watcher] = []

    def make(broker: LocalBroker, topics: tuple[str, ...] = ("#",), ca_file: Path | None = None) -> Watcher:
        w = Watcher(broker, topics, ca_file)
        made.append(w)
        return w

    yield make
    for w in made:
        w.close()


class Process:
    """`cushion ...` in a subprocess, its log (stderr) in a file."""

    def __init__(self, args: list[str], log: Path):
        self.log = log
        env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
        self._log_file = open(log, "ab")
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "device.cli", *args],
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=ROOT,
        )

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_log(self, needle: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.text():
            if self.popen.poll() is not None:
                raise AssertionError(f"exited {self.popen.returncode} before saying {needle!r}:\n{self.text()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{needle!r} not said within {timeout:g} s:\n{self.text()}")
            time.sleep(0.05)

    def stop(self, timeout: float = 20.0) -> int:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
        try:
            return self.popen.wait(timeout=timeout)
        finally:
            self._log_file.close()

    def kill(self) -> None:
        self.popen.kill()
        self.popen.wait(timeout=10)
        self._log_file.close()

    def wait(self, timeout: float = 60.0) -> int:
        try:
            return self.popen.wait(timeout=timeout)
        finally:
            self._log_file.close()


@pytest.fixture()
def processes():
    started: list[Process] = []

    def start(args: list[str], log: Path) -> Process:
        p = Process(args, log)
        started.append(p)
        return p

    yield start
    for p in started:
        if p.popen.poll() is None:
            p.popen.kill()
            p.popen.wait(timeout=10)
        if not p._log_file.closed:
            p._log_file.close()
