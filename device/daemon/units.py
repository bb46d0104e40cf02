"""systemd units for the daemon and the dashboard (`make install` writes them).

The daemon runs as Type=notify: it tells systemd when it is ready and pings
the watchdog from its loop, so a hung loop (a wedged GPIO read, say) is
restarted. Both restart on failure. They run as the installing user, who is
put in the gpio group for /dev/gpiochip*.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DAEMON = """\
[Unit]
Description=smart-cushion daemon: samples the cushion, prompts breaks, keeps the history
After=local-fs.target

[Service]
Type=notify
NotifyAccess=main
User={user}
Group={user}
SupplementaryGroups=gpio
ExecStart={prefix}/bin/cushion run --config {config} --db {db}
Restart=on-failure
RestartSec=3
WatchdogSec=30
TimeoutStopSec=15
# SIGTERM: the daemon flushes its history and exits.
KillSignal=SIGTERM
Nice=-5

[Install]
WantedBy=multi-user.target
"""

DASHBOARD = """\
[Unit]
Description=smart-cushion dashboard (local web pages)
After=network.target cushion.service

[Service]
Type=simple
User={user}
Group={user}
ExecStart={prefix}/bin/cushion dashboard --db {db} --host {host} --port {port}
Restart=on-failure
RestartSec=3

[Install]
WantedBy=multi-user.target
"""


def render_units(prefix: str, user: str, home: str, host: str = "127.0.0.1", port: int = 8080) -> dict[str, str]:
    """Unit file name -> text, for a project installed in `prefix` run by `user` (home dir `home`)."""
    config = f"{home}/.config/smart-cushion/config.toml"
    db = f"{home}/.local/share/smart-cushion/history.db"
    values = dict(prefix=prefix, user=user, config=config, db=db, host=host, port=port)
    return {"cushion.service": DAEMON.format(**values), "cushion-dashboard.service": DASHBOARD.format(**values)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="write the systemd units")
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--home", required=True)
    parser.add_argument("--dest", default="/etc/systemd/system")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args(argv)
    for name, text in render_units(args.prefix, args.user, args.home, args.host, args.port).items():
        path = Path(args.dest) / name
        path.write_text(text)
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
