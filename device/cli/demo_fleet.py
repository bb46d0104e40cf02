"""`make demo-fleet`: three simulated cushions, a broker, a hub and the hub's dashboard, on this machine.

1. Debian's mosquitto on a loopback port of its own (device.cli.local_broker),
   with a password per cushion, for the hub and nothing for anyone else;
2. three `cushion run --sim` daemons (desk-1, desk-2, desk-3), each with its
   own history in .demo-fleet/, publishing to it (SPEC section 8);
3. `cushion hub` keeping every cushion's history in .demo-fleet/hub.db;
4. `cushion dashboard --db .demo-fleet/hub.db`: http://127.0.0.1:8080/fleet.
Ctrl-C stops them all. Where mosquitto is not installed, it says what to install.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from device.cli.demo import demo_config_text, port_in_use, seated_seed
from device.cli.local_broker import INSTALL_HINT, LocalBroker, mosquitto_path
from device.errors import CushionError

FLEET_DIR = Path(".demo-fleet")
CUSHIONS = ("desk-1", "desk-2", "desk-3")
LIVE_HOURS = 12.0


def _mqtt_section(broker: LocalBroker, user: str, password_file: Path) -> str:
    return (
        f'\n[mqtt]\nhost = "127.0.0.1"\nport = {broker.port}\nusername = "{user}"\n'
        f'password_file = "{password_file.absolute()}"\ncushion_id = "{user}"\n'
    )


def run(port: int, seconds: float | None) -> int:
    if mosquitto_path() is None:
        print(
            f"demo-fleet: needs an MQTT broker: {INSTALL_HINT}; it runs on a loopback port of its own "
            "and nothing else on this machine changes. (`make demo` needs none.)",
            file=sys.stderr,
        )
        return 2
    if port_in_use(port):
        print(f"demo-fleet: port {port} is in use; pick another: make demo-fleet PORT={port + 10}", file=sys.stderr)
        return 2
    shutil.rmtree(FLEET_DIR, ignore_errors=True)
    FLEET_DIR.mkdir()
    users = {name: secrets.token_urlsafe(12) for name in (*CUSHIONS, "hub")}
    try:
        broker = LocalBroker(FLEET_DIR / "broker", users)
        broker.start()
    except CushionError as exc:
        print(f"demo-fleet: {exc}", file=sys.stderr)
        return 2
    processes: list[subprocess.Popen[bytes]] = []
    cushion = [sys.executable, "-m", "device.cli"]
    try:
        seed = 0
        for name in (*CUSHIONS, "hub"):
            secret = FLEET_DIR / f"{name}.password"
            secret.write_text(users[name] + "\n")
            secret.chmod(0o600)
            (FLEET_DIR / f"{name}.toml").write_text(demo_config_text() + _mqtt_section(broker, name, secret))
        hub_db = FLEET_DIR / "hub.db"
        processes.append(
            subprocess.Popen(cushion + ["hub", "--config", str(FLEET_DIR / "hub.toml"), "--db", str(hub_db)])
        )
        for name in CUSHIONS:
            seed = seated_seed(seed + 1, hours=LIVE_HOURS)
            processes.append(
                subprocess.Popen(
                    cushion
                    + [
                        "run",
                        "--sim",
                        "--no-alerts",
                        "--config",
                        str(FLEET_DIR / f"{name}.toml"),
                        "--db",
                        str(FLEET_DIR / f"{name}.db"),
                        "--seed",
                        str(seed),
                        "--hours",
                        str(LIVE_HOURS),
                    ]
                )
            )
        deadline = time.monotonic() + 15
        while not hub_db.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        processes.append(
            subprocess.Popen(
                cushion
                + ["dashboard", "--db", str(hub_db), "--port", str(port), "--config", str(FLEET_DIR / "hub.toml")]
            )
        )
        print(
            f"\nThree simulated cushions publish to a broker on 127.0.0.1:{broker.port}; the hub keeps them.\n"
            f"Open http://127.0.0.1:{port}/fleet (Ctrl-C stops the demo)\n",
            flush=True,
        )
        started = time.monotonic()
        while all(p.poll() is None for p in processes):
            if seconds is not None and time.monotonic() - started >= seconds:
                break
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for process in reversed(processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        broker.stop()
    failed = [p.returncode for p in processes if p.returncode not in (0, -signal.SIGTERM, None)]
    return failed[0] if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="demo-fleet", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8080")))
    parser.add_argument("--seconds", type=float, help="stop after this many seconds (default: at Ctrl-C)")
    args = parser.parse_args(argv)

    def stop(*_: object) -> None:
        raise KeyboardInterrupt  # SIGTERM stops the demo as Ctrl-C does: every process, then the broker

    signal.signal(signal.SIGTERM, stop)
    return run(args.port, args.seconds)


if __name__ == "__main__":
    sys.exit(main())
