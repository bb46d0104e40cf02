"""The Device page: honest channel states, plain words for what the daemon recorded, warnings that matter."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from dashboard.sample_history import live_values
from device.events import Fault
from device.store import Store
from tests.dashboard_support import text, visible

DAEMON_INFO = {  # what device/service.py records when the daemon starts
    "source": "HX711", "rate_hz": 80,
    "calibration": {"offset": [0.0, 0.0, 0.0, 0.0], "counts_per_kg": [21000.0, 21000.0, 21000.0, 21000.0]},
    "config_path": "/home/pi/.config/smart-cushion/config.toml",
}


def test_a_fresh_database_says_no_reading_yet_not_working(client):
    page = visible(client.get("/device"))
    assert "No live data yet" in page and "No faults in the last 30 days" in page
    assert page.count("no reading yet") == 4
    assert "working" not in page


def test_live_channels_working_and_at_fault(client, day_db):
    with Store(day_db) as store:
        store.set_live(live_values(faults=["bl"], sample_rate_hz=79.6, dropped_frames=42))
        store.set_device_info({"calibrated_on": "2024-04-30", "firmware": "0.1.0"})
    page = text(client.get("/device"))
    assert "79.6 frames a second (configured: 80)" in page
    assert "Tuesday 30 April 2024" in page and "Firmware" in page and "0.1.0" in page
    assert re.search(r'class="bad">.*back-left \(bl\)</strong>\s*FAULT', page, re.S)
    assert re.search(r'class="ok">.*front-left \(fl\)</strong>\s*working', page, re.S)
    assert "Check the sensor" not in page


def test_a_silent_daemon_makes_the_channels_last_known(client, store):
    store.set_live(live_values(), wall=datetime.now() - timedelta(minutes=5))
    page = visible(client.get("/device"))
    assert page.count("working when last heard from") == 4


def test_about_is_in_words_not_keys_dicts_or_timestamps(client, store):
    started = (datetime.now() - timedelta(minutes=15)).astimezone()
    store.set_device_info(DAEMON_INFO | {"started_wall": started.isoformat(timespec="seconds")})
    store.set_live(live_values())
    page = visible(client.get("/device"))
    about = page[page.index("About"):]
    assert "Readings from the HX711 load-cell boards" in about
    assert "Configured sample rate 80 frames a second" in about
    assert "Calibration not done yet: no zero (tare) and the default 21,000 counts per kilogram" in about
    assert f"Daemon started {started:%a} {started.day} {started:%b %Y}, {started:%H:%M}" in about
    for raw in ("{", "'offset'", "rate hz", "rate_hz", "started wall", "started_wall", "config path",
                started.isoformat(timespec="seconds")):
        assert raw not in page, raw


def test_a_calibrated_cushion_says_so(client, store):
    store.set_device_info({"calibration": {"offset": [812.0, -1500.0, 92.5, 4.0],
                                           "counts_per_kg": [21350.0, 20980.0, 21010.0, 20875.0]}})
    page = visible(client.get("/device"))
    assert "zeroed (tared); counts per kilogram front-left 21,350, front-right 20,980" in page


def device_page(client, store, running_for: timedelta, **live) -> str:
    """The Device page of a daemon started `running_for` ago whose live row has `live`."""
    started = (datetime.now() - running_for).astimezone()
    store.set_device_info(DAEMON_INFO | {"started_wall": started.isoformat(timespec="seconds")})
    store.set_live(live_values(**live))
    return visible(client.get("/device"))


def test_a_slow_sample_rate_and_dropped_frames_are_warned_about(client, store):
    page = device_page(client, store, timedelta(minutes=15), sample_rate_hz=62.0, dropped_frames=3316)
    assert "Only 62 frames a second arrive, well below the configured 80" in page
    assert re.search(r"4\.\d% of the frames are being dropped \(3,316 in the 15 min since", page)
    assert "3,316 since the daemon started" in page


def test_a_few_dropped_frames_are_not_a_warning(client, store):
    page = device_page(client, store, timedelta(hours=2), sample_rate_hz=79.8, dropped_frames=12)
    assert "Check the sensor" not in page and "12 since the daemon started" in page and "0.0% of the frames" in page


def test_recent_faults_with_full_dates_and_how_long_they_lasted(client, store):
    now = datetime.now()
    if now.hour == 0 and now.minute < 5:    # keep the fault's start and end on one day
        now -= timedelta(minutes=10)
    store.write_batch(1000.0, now, events=[Fault("fr", 900.0, 905.0, 900.5, "stuck"),
                                           Fault("bl", 950.0, None, 950.5, "no_data")])
    store.set_live(live_values(faults=["bl"]))
    page = visible(client.get("/device"))
    began, ended = now - timedelta(seconds=100), now - timedelta(seconds=95)
    assert "Channel Began Ended Lasted Why" in page
    assert (f"front-right (fr) {began:%a} {began.day} {began:%b %Y}, {began:%H:%M:%S} {ended:%H:%M:%S} 5 s "
            "stuck on one value") in page
    assert re.search(r"back-left \(bl\) \w{3} \d+ \w{3} \d{4}, [\d:]{8} still going \d+ s so far no data", page)
    assert "back-left (bl) FAULT since" in page
