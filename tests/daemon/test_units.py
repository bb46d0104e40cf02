"""The systemd units `make install` writes."""

from device.daemon.units import main, render_units


def test_daemon_unit_is_notify_with_watchdog_and_restart():
    units = render_units("/opt/smart-cushion", "pi", "/home/pi")
    daemon = units["cushion.service"]
    for line in (
        "Type=notify",
        "WatchdogSec=30",
        "Restart=on-failure",
        "User=pi",
        "SupplementaryGroups=gpio",
        "ExecStart=/opt/smart-cushion/bin/cushion run --config /home/pi/.config/smart-cushion/config.toml "
        "--db /home/pi/.local/share/smart-cushion/history.db",
    ):
        assert line in daemon.splitlines()
    dashboard = units["cushion-dashboard.service"]
    assert (
        "ExecStart=/opt/smart-cushion/bin/cushion dashboard --db /home/pi/.local/share/smart-cushion/history.db "
        "--host 127.0.0.1 --port 8080" in dashboard.splitlines()
    )


def test_units_are_written_where_asked(tmp_path):
    assert main(["--prefix", "/opt/x", "--user", "u", "--home", "/home/u", "--dest", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cushion-dashboard.service", "cushion.service"]
