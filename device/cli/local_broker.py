"""A Mosquitto broker of our own on a loopback port: for `make demo-fleet`, the tests and the benchmarks.

It runs Debian's `mosquitto` with a config written into a folder of its own:
a free port on 127.0.0.1, no anonymous clients, a password file (made with
`mosquitto_passwd`), persistence in that folder (so a restart keeps retained
messages and the hub's session) and `user root` when started as root (else
it would drop to the `mosquitto` user, who cannot read the folder).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from device.errors import CushionError

MOSQUITTO_PATHS = ("/usr/sbin/mosquitto", "/usr/bin/mosquitto")
INSTALL_HINT = "install Debian's mosquitto (sudo apt-get install mosquitto)"


def mosquitto_path() -> str | None:
    """The mosquitto program, or None when it is not installed."""
    found = shutil.which("mosquitto")
    if found:
        return found
    return next((p for p in MOSQUITTO_PATHS if os.access(p, os.X_OK)), None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LocalBroker:
    """mosquitto on 127.0.0.1:`port` with users {name: password}; folder holds its config and data."""

    def __init__(
        self,
        folder: Path,
        users: dict[str, str],
        port: int | None = None,
        acl: str | None = None,
        tls: tuple[Path, Path] | None = None,
    ):
        """tls: (certificate, key) files in PEM to listen with TLS only (no plain connections)."""
        program = mosquitto_path()
        if program is None:
            raise CushionError(f"mosquitto is not installed: {INSTALL_HINT}")
        self.program = program
        self.folder = Path(folder)
        self.port = port or free_port()
        self.users = dict(users)
        self.process: subprocess.Popen[bytes] | None = None
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "data").mkdir(exist_ok=True)
        self.passwd = self.folder / "passwd"
        self.passwd.write_text("")
        self.passwd.chmod(0o600)
        passwd_program = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"
        for name, password in self.users.items():
            subprocess.run([passwd_program, "-b", str(self.passwd), name, password], check=True, capture_output=True)
        lines = [
            f"listener {self.port} 127.0.0.1",
            *([f"certfile {tls[0]}", f"keyfile {tls[1]}"] if tls is not None else []),
            "allow_anonymous false",
            f"password_file {self.passwd}",
            "persistence true",
            f"persistence_location {self.folder / 'data'}/",
            "autosave_interval 60",
            "max_queued_messages 1000000",  # a hub away for a while gets everything when it is back
            "log_type error",
            "log_type warning",
            "log_type notice",
            f"log_dest file {self.folder / 'mosquitto.log'}",
        ]
        if acl is not None:
            (self.folder / "acl").write_text(acl)
            lines.append(f"acl_file {self.folder / 'acl'}")
        if os.geteuid() == 0:
            lines.append("user root")
        self.conf = self.folder / "mosquitto.conf"
        self.conf.write_text("\n".join(lines) + "\n")

    def start(self, timeout_s: float = 10.0) -> None:
        """Start it and wait until it takes connections."""
        self.process = subprocess.Popen(
            [self.program, "-c", str(self.conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
                raise CushionError(f"mosquitto did not start: {err.strip() or self.log_tail()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise CushionError(f"mosquitto did not listen on port {self.port} within {timeout_s:g} s")

    def stop(self) -> None:
        """Stop it cleanly (it saves its persistence file)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def log_tail(self, lines: int = 5) -> str:
        path = self.folder / "mosquitto.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def __enter__(self) -> LocalBroker:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
