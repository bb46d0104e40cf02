"""Snooze / Mute / Resume requests from the dashboard to the daemon (device.storage.silence), and v7."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta

import pytest

from device.storage.store import SCHEMA_VERSION, Store
from tests.storage.older_files import undo_after

NOON = datetime(2026, 3, 2, 12, 0).astimezone()


def test_a_request_waits_until_the_daemon_takes_it(fresh_store):
    first = fresh_store.request_silence("snooze", 30, wall=NOON)
    second = fresh_store.request_silence("resume", wall=NOON + timedelta(seconds=5))
    assert [r["id"] for r in fresh_store.pending_silence_requests()] == [first, second]
    fresh_store.silence_request_taken(first, NOON + timedelta(minutes=30), wall=NOON + timedelta(seconds=1))
    assert [r["id"] for r in fresh_store.pending_silence_requests()] == [second]
    taken = fresh_store._select("silence_requests", "id = ?", [first], None)[0]
    assert taken["until_wall"].startswith("2026-03-02T12:30:00") and taken["taken_wall"]
    assert fresh_store.last_silence_request()["id"] == second


@pytest.mark.parametrize(("action", "minutes"), [("snooze", None), ("snooze", 0), ("sleep", 10)])
def test_a_request_that_makes_no_sense_is_refused(fresh_store, action, minutes):
    with pytest.raises(ValueError):
        fresh_store.request_silence(action, minutes)
    assert fresh_store.pending_silence_requests() == []


def test_v7_adds_the_silence_to_a_v6_file_keeping_its_live_row(tmp_path):
    path = tmp_path / "v6.db"
    with Store(path) as store:
        store.set_live({"seated": True, "sitting_s": 60.0})
    conn = sqlite3.connect(path)
    undo_after(conn, 6)
    conn.execute("PRAGMA user_version = 6")
    conn.commit()
    conn.close()
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION >= 7
        live = store.live()
        assert live["seated"] and live["silenced"] is None and live["away_s"] is None
        store.request_silence("mute_day")
        assert len(store.pending_silence_requests()) == 1
