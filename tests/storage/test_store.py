"""The history database (device/storage/store.py): schema, migrations, verbs, robustness."""

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlite_utils import Database

from device.core.events import Fault, Fidget, Lean, Posture, Prompt, Session, Sit, Stand, Twist
from device.core.minutes import Minute
from device.core.report import event_to_dict
from device.errors import CushionError
from device.storage import store as store_module
from device.storage.store import MIGRATIONS, SCHEMA_VERSION, Snooze, Store, StoreError
from tests.paths import ROOT
from tests.storage.older_files import undo_after

TZ = timezone(timedelta(hours=2))
NOON = datetime(2024, 5, 1, 12, 0, tzinfo=TZ)  # wall time when the frame clock reads 1000.0 s
DAY = (datetime(2024, 5, 1, tzinfo=TZ), datetime(2024, 5, 2, tzinfo=TZ))


def at(t):
    """The wall time of frame time t (s) in these tests."""
    return NOON + timedelta(seconds=t - 1000.0)


def test_schema_is_created_with_folders(tmp_path):
    path = tmp_path / "var" / "cushion" / "history.db"
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION == len(MIGRATIONS)
        assert set(store.db.table_names()) >= {
            "sessions",
            "events",
            "minutes",
            "snoozes",
            "faults",
            "settings",
            "live",
            "device_info",
            "meta",
        }
        assert "session_id" in store.db["events"].columns_dict
    assert path.is_file()


def test_wal_mode_synchronous_normal_and_busy_timeout(fresh_store):
    assert fresh_store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert fresh_store.db.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert fresh_store.db.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
    # WAL is a property of the file: another process sees it too.
    other = sqlite3.connect(fresh_store.path)
    assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    other.close()


def test_migrations_upgrade_a_v1_file_keeping_its_rows(tmp_path):
    path = tmp_path / "old.db"
    db = Database(path)
    MIGRATIONS[0](db)
    db.execute("PRAGMA user_version = 1")
    db["sessions"].insert(
        {
            "start_wall": at(10).isoformat(),
            "start_t": 10.0,
            "end_wall": at(600).isoformat(),
            "end_t": 600.0,
            "prompts": '["move"]',
            "last_heartbeat_wall": at(600).isoformat(),
        }
    )
    db["events"].insert_all(
        [
            {
                "type": "sit",
                "wall": at(10).isoformat(),
                "detected_wall": at(11.5).isoformat(),
                "data": '{"type": "sit", "t": 10.0, "detected_at": 11.5}',
            },
            {
                "type": "fault",
                "wall": at(700).isoformat(),
                "detected_wall": at(701).isoformat(),
                "data": '{"type": "fault", "channel": "fr", "start": 700.0, "end": 705.0, "detected_at": 701.0}',
            },
        ]
    )
    db.close()

    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        (session,) = store.sessions_between(*DAY)
        assert session["prompts"] == ["move"]
        sit, fault = store.events_between(*DAY)
        assert sit["data"] == {"type": "sit", "t": 10.0, "detected_at": 11.5}
        assert sit["session_id"] == session["id"]  # v2 matched the old event to its session
        assert fault["session_id"] is None
    with Store(path) as again:  # an up-to-date file opens without writing
        assert again.transactions == 0


def test_newer_schema_is_refused_naming_file_and_versions(tmp_path):
    path = tmp_path / "future.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(CushionError) as caught:
        Store(path)
    message = str(caught.value)
    assert str(path) in message
    assert f"version {SCHEMA_VERSION + 1}" in message and f"version {SCHEMA_VERSION} " in message


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path):
    path = tmp_path / "history.db"
    path.write_text("t,fl,fr,bl,br\n" * 200)
    with pytest.raises(StoreError, match="not a SQLite database") as caught:
        Store(path)
    assert str(path) in str(caught.value)


def test_sessions_open_heartbeat_and_close(fresh_store):
    opened = fresh_store.transactions  # creating the schema was one
    fresh_store.write_batch(1000.0, NOON, sessions=[Session(900.0, None, ())], events=[Sit(900.0, 901.5)])
    (session,) = fresh_store.sessions_between(*DAY)
    assert session["start_wall"] == "2024-05-01T11:58:20.000+02:00"
    assert session["start_t"] == 900.0 and session["end_wall"] is None
    assert session["last_heartbeat_wall"] == "2024-05-01T12:00:00.000+02:00"

    fresh_store.write_batch(1005.0, at(1005))  # nothing new: a heartbeat
    assert fresh_store.sessions_between(*DAY)[0]["last_heartbeat_wall"] == "2024-05-01T12:00:05.000+02:00"

    closed = Session(900.0, 3000.0, ("move", "break_due"))
    fresh_store.write_batch(3060.0, at(3060), sessions=[closed], events=[Stand(3000.0, 3001.5)])
    (session,) = fresh_store.sessions_between(*DAY)
    assert session["end_wall"] == at(3000).isoformat(timespec="milliseconds")
    assert session["end_t"] == 3000.0 and session["prompts"] == ["move", "break_due"]
    assert [e["session_id"] for e in fresh_store.events_between(*DAY)] == [session["id"]] * 2
    assert fresh_store.transactions == opened + 3
    fresh_store.write_batch(3065.0, at(3065))  # nothing open, nothing to write: no transaction
    assert fresh_store.transactions == opened + 3


def test_session_left_open_by_a_crash_is_closed_at_its_last_heartbeat(tmp_path):
    path = tmp_path / "history.db"
    with Store(path) as crashed:
        crashed.write_batch(1000.0, NOON, sessions=[Session(900.0, None, ("move",))])
        crashed.write_batch(1300.0, at(1300))
    with Store(path) as store:
        (left,) = store.left_open()
        assert left["last_heartbeat_wall"] == at(1300).isoformat(timespec="milliseconds")
        (closed,) = store.close_left_open()
        assert closed["end_wall"] == left["last_heartbeat_wall"] and closed["end_t"] == pytest.approx(1300.0)
        assert store.left_open() == []
        assert store.sessions_between(*DAY)[0]["end_wall"] == left["last_heartbeat_wall"]


def test_session_left_open_can_be_continued(tmp_path):
    path = tmp_path / "history.db"
    with Store(path) as crashed:
        crashed.write_batch(1000.0, NOON, sessions=[Session(900.0, None, ("move",))])
    with Store(path) as store:  # the new run's frame clock starts again near 0
        (left,) = store.left_open()
        store.continue_session(left["id"], start_t=2.0)
        assert store.left_open() == []
        store.write_batch(62.0, at(1060), sessions=[Session(2.0, 50.0, ("break_due",))], events=[Stand(50.0, 51.5)])
        (session,) = store.sessions_between(*DAY)
        assert session["id"] == left["id"] and session["start_wall"] == left["start_wall"]
        assert session["prompts"] == ["move", "break_due"]
        assert session["end_wall"] == at(1048).isoformat(timespec="milliseconds")
        assert store.events_between(*DAY)[0]["session_id"] == left["id"]
        with pytest.raises(ValueError):
            store.continue_session(12345, start_t=0.0)


def test_events_round_trip_with_their_spec_fields(fresh_store):
    events = [
        Sit(100.0, 101.5),
        Lean("left", 200.2, 260.9, 0.31, 210.2),
        Twist("right", 300.0, 303.1, 0.42, 303.1),
        Fidget(412.5, 28.0, 413.1),
        Posture("slump", 500.0, 560.0, 530.0),
        Posture("perch", 600.0, 690.0, 630.0),
        Prompt("move", 700.0, 700.0),
        Fault("fr", 800.0, 804.0, 800.5, "stuck"),
        Stand(900.0, 901.5),
    ]
    fresh_store.write_batch(1000.0, NOON, events=events, sessions=[Session(100.0, None, ("move",))])
    rows = fresh_store.events_between(*DAY)
    assert [row["data"] for row in rows] == [event_to_dict(e) for e in events]
    assert [row["type"] for row in rows] == [e.type for e in events]
    assert rows[1]["wall"] == "2024-05-01T11:46:40.200+02:00"  # lean start
    assert rows[1]["detected_wall"] == "2024-05-01T11:46:50.200+02:00"  # its detected_at
    assert {row["session_id"] for row in rows} == {fresh_store.sessions_between(*DAY)[0]["id"]}
    assert [r["type"] for r in fresh_store.events_between(*DAY, types=["twist", "fidget"])] == ["twist", "fidget"]
    # Bounds are instants, whatever their offset: 09:46:40Z is 11:46:40+02:00.
    utc = fresh_store.events_between("2024-05-01T09:46:40Z", datetime(2024, 5, 1, 9, 48, tzinfo=UTC))
    assert [r["type"] for r in utc] == ["lean"]


def test_fault_events_fill_the_faults_table(fresh_store):
    fresh_store.write_batch(
        1000.0, NOON, events=[Fault("bl", 400.0, 430.0, 400.5, "no_data"), Fault("fr", 900.0, None, 900.5, "rail")]
    )
    faults = fresh_store.faults_between(*DAY)
    assert [(f["channel"], f["reason"]) for f in faults] == [("bl", "no_data"), ("fr", "rail")]
    assert faults[0]["end_wall"] == at(430).isoformat(timespec="milliseconds")
    assert faults[1]["end_wall"] is None
    assert fresh_store.faults_between(at(950), at(2000)) == [faults[1]]  # still running


def test_minute_written_twice_adds_up(fresh_store):
    key = "2024-05-01T12:00"
    first = Minute(key, seated_s=20.0, lat_mean=0.1, sag_mean=None, fidgets=1, lean_left_s=5.0, twists=1, prompts=1)
    second = Minute(key, seated_s=60.0 - 20.0, lat_mean=0.4, sag_mean=-0.2, fidgets=2, lean_right_s=3.0)
    fresh_store.write_batch(1000.0, NOON, minutes=[first])
    fresh_store.write_batch(1005.0, at(1005), minutes=[second, Minute("2024-05-01T12:01", seated_s=1.0)])
    row, _ = fresh_store.minutes_between(NOON, NOON + timedelta(minutes=2))
    assert row["seated_s"] == 60.0
    assert row["lat_mean"] == pytest.approx((0.1 * 20 + 0.4 * 40) / 60)  # weighted by seated time
    assert row["sag_mean"] == pytest.approx(-0.2)
    assert (row["fidgets"], row["lean_left_s"], row["lean_right_s"], row["twists"], row["prompts"]) == (
        3,
        5.0,
        3.0,
        1,
        1,
    )
    assert store_module.minute_key(at(1005)) == key
    with pytest.raises(ValueError):
        fresh_store.write_batch(1000.0, NOON, minutes=[Minute("12:00")])


def test_settings_set_get_and_change_counter(fresh_store):
    assert fresh_store.settings() == {} and fresh_store.settings_version() == 0
    fresh_store.set_settings({"breaks.break_after_min": 40.0, "quiet_hours": ["22:00-07:00"]}, wall=NOON)
    assert fresh_store.settings() == {"breaks.break_after_min": 40.0, "quiet_hours": ["22:00-07:00"]}
    assert fresh_store.settings_version() == 1  # one write, one step, however many keys
    with Store(fresh_store.path) as dashboard:
        dashboard.set_settings({"quiet_hours": None, "alerts.buzzer_enabled": False})
    assert fresh_store.settings_version() == 2
    assert fresh_store.settings() == {"breaks.break_after_min": 40.0, "alerts.buzzer_enabled": False}


def test_live_row_is_replaced(fresh_store):
    fresh_store.set_live({"seated": True, "sitting_s": 120.0, "lat": 0.1, "faults": ["fr"], "break_due": False}, NOON)
    fresh_store.write_batch(1005.0, at(1005), live={"seated": False, "dropped_frames": 3, "muted_until_wall": at(1600)})
    live = fresh_store.live()
    assert live["updated_wall"] == "2024-05-01T12:00:05.000+02:00"
    assert live["seated"] is False and live["dropped_frames"] == 3
    assert live["sitting_s"] is None and live["faults"] is None  # replaced, not merged
    assert live["muted_until_wall"] == "2024-05-01T12:10:00.000+02:00"
    assert fresh_store.db["live"].count == 1
    with pytest.raises(ValueError, match="bogus"):
        fresh_store.set_live({"bogus": 1})


def test_snoozes_and_device_info_are_recorded(fresh_store):
    fresh_store.write_batch(
        1000.0,
        NOON,
        snoozes=[
            Snooze(NOON, "break_due", at(1600), "snooze"),
            Snooze(at(1700), "", datetime(2024, 5, 2, tzinfo=TZ), "mute_day"),
        ],
    )
    assert [(s["action"], s["until_wall"]) for s in fresh_store.snoozes_between(*DAY)] == [
        ("snooze", "2024-05-01T12:10:00.000+02:00"),
        ("mute_day", "2024-05-02T00:00:00.000+02:00"),
    ]
    with pytest.raises(ValueError):
        fresh_store.write_batch(1000.0, NOON, snoozes=[Snooze(NOON, "move", NOON, "ignore")])
    fresh_store.set_device_info({"calibrated_on": "2024-04-30", "firmware": "0.1.0"})
    assert fresh_store.device_info() == {"calibrated_on": "2024-04-30", "firmware": "0.1.0"}


def test_batch_is_atomic(fresh_store):
    good = dict(
        events=[Sit(900.0, 901.5)],
        sessions=[Session(900.0, None, ())],
        minutes=[Minute("2024-05-01T12:00", seated_s=60.0)],
    )
    bad_minute = Minute("2024-05-01T12:00", fidgets=None)  # NOT NULL: fails after sessions and events went in
    before = fresh_store.transactions
    with pytest.raises(sqlite3.IntegrityError):
        fresh_store.write_batch(1000.0, NOON, **dict(good, minutes=good["minutes"] + [bad_minute]))
    assert fresh_store.transactions == before
    assert (
        fresh_store.sessions_between(*DAY)
        == fresh_store.events_between(*DAY)
        == fresh_store.minutes_between(*DAY)
        == []
    )
    fresh_store.write_batch(1000.0, NOON, **good)  # the same batch again goes in once, whole
    (session,) = fresh_store.sessions_between(*DAY)
    assert fresh_store.events_between(*DAY)[0]["session_id"] == session["id"]


def test_read_only_database_gives_a_clear_error(fresh_store):
    # As if the SD card were remounted read-only under the running daemon
    # (chmod would not stop root, who runs the tests in CI).
    fresh_store.db.execute("PRAGMA query_only = ON")
    batch = dict(events=[Sit(900.0, 901.5)], sessions=[Session(900.0, None, ())])
    with pytest.raises(CushionError) as caught:
        fresh_store.write_batch(1000.0, NOON, **batch)
    assert isinstance(caught.value, StoreError)
    assert str(fresh_store.path) in str(caught.value) and "read-only" in str(caught.value)
    assert fresh_store.sessions_between(*DAY) == []  # reading still works
    fresh_store.db.execute("PRAGMA query_only = OFF")  # the disk comes back: the daemon carries on
    fresh_store.write_batch(1005.0, at(1005), **batch)
    assert len(fresh_store.sessions_between(*DAY)) == len(fresh_store.events_between(*DAY)) == 1


def test_full_disk_gives_a_clear_error(fresh_store):
    pages = fresh_store.db.execute("PRAGMA page_count").fetchone()[0]
    fresh_store.db.execute(f"PRAGMA max_page_count = {pages}")  # SQLite's own "disk full"
    fidgets = [Fidget(float(i), 20.0, i + 0.5) for i in range(500)]
    before = fresh_store.transactions
    with pytest.raises(StoreError, match="disk is full") as caught:
        fresh_store.write_batch(1000.0, NOON, events=fidgets)
    assert str(fresh_store.path) in str(caught.value)
    assert fresh_store.events_between(*DAY) == [] and fresh_store.transactions == before


def test_reader_is_not_blocked_by_a_writer(fresh_store):
    fresh_store.write_batch(1000.0, NOON, events=[Sit(900.0, 901.5)])
    with Store(fresh_store.path, busy_timeout_s=0.2) as dashboard:
        fresh_store.db.execute("BEGIN IMMEDIATE")  # the daemon is in the middle of a batch
        fresh_store.db["events"].insert({"type": "x", "wall": NOON.isoformat(), "detected_wall": "", "data": "{}"})
        assert len(dashboard.events_between(*DAY)) == 1  # reads the last committed state at once
        with pytest.raises(StoreError, match="locked"):
            dashboard.set_settings({"a": 1})  # a second writer waits busy_timeout_s, then says why
        fresh_store.db.execute("ROLLBACK")


_WRITER = """
import sys
from datetime import datetime, timedelta, timezone
from device.core.events import Fidget
from device.core.minutes import Minute
from device.storage.store import Store

store = Store(sys.argv[1])
wall = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
n = 0
while True:
    t = 10.0 * n
    fidgets = [Fidget(t + i / 10, 20.0, t + i / 10 + 0.5) for i in range(50)]
    store.write_batch(t + 10.0, wall + timedelta(seconds=t + 10.0), events=fidgets,
                      minutes=[Minute("2024-05-01T12:00", seated_s=10.0, fidgets=50)])
    n += 1
    print(n, flush=True)
"""


def test_sigkill_during_writes_leaves_an_intact_file(tmp_path):
    path = tmp_path / "history.db"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    child = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(path)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    committed = 0
    deadline = time.monotonic() + 4.0
    try:
        while committed < 40 and time.monotonic() < deadline:
            line = child.stdout.readline()
            if not line:
                break
            committed = int(line)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    assert committed >= 40, child.stderr.read()
    assert Path(f"{path}-wal").exists()  # killed, not closed: the log was never folded back
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    events = conn.execute("SELECT count(*) FROM events").fetchone()[0]
    fidgets = conn.execute("SELECT fidgets FROM minutes").fetchone()[0]
    conn.close()
    assert events % 50 == 0 and events // 50 >= committed  # whole batches, every one reported committed
    assert fidgets == events  # the minute upserts went in with their own batches
    with Store(path) as store:  # and it opens again for the next run
        assert len(store.events_between("2024-05-01T00:00Z", "2024-05-02T00:00Z")) == events


def test_v3_adds_the_diary_to_a_v2_file_keeping_its_rows(tmp_path):
    path = tmp_path / "v2.db"
    with Store(path) as store:
        store.write_batch(1000.0, NOON, sessions=[Session(900.0, 950.0, ())], events=[Sit(900.0, 901.5)])
    conn = sqlite3.connect(path)
    undo_after(conn, 4)
    conn.execute("DROP TABLE diary")
    for column in ("recent_s", "frames_recent", "dropped_recent"):  # v4's
        conn.execute(f"ALTER TABLE live DROP COLUMN {column}")
    conn.execute("PRAGMA user_version = 2")
    conn.commit()
    conn.close()
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION >= 3
        assert "diary" in store.db.table_names()
        assert len(store.sessions_between(*DAY)) == len(store.events_between(*DAY)) == 1
        assert store.diary_latest() == []


def test_v5_gives_every_stored_event_a_stable_id_of_its_own(tmp_path):
    path = tmp_path / "v4.db"
    with Store(path) as store:
        store.write_batch(
            1000.0, NOON, sessions=[Session(900.0, 950.0, ())], events=[Sit(900.0, 901.5), Stand(950.0, 951.5)]
        )
    conn = sqlite3.connect(path)
    undo_after(conn, 4)
    conn.execute("PRAGMA user_version = 4")
    conn.commit()
    conn.close()
    with Store(path) as store:
        uids = [row["uid"] for row in store.events_after(0)]
        assert len(uids) == 2 and len(set(uids)) == 2 and all(len(u) == 16 for u in uids)
        store.write_batch(1000.0, NOON, events=[Sit(990.0, 991.5)])
        assert len({row["uid"] for row in store.events_after(0)}) == 3
        assert store.known_uids([uids[0], "feedfacefeedface"]) == {uids[0]}


def test_v4_adds_the_recent_loss_to_a_v3_files_live_row(tmp_path):
    path = tmp_path / "v3.db"
    with Store(path) as store:
        store.set_live({"seated": True, "dropped_frames": 5})
    conn = sqlite3.connect(path)
    for column in ("recent_s", "frames_recent", "dropped_recent"):
        conn.execute(f"ALTER TABLE live DROP COLUMN {column}")
    undo_after(conn, 4)
    conn.execute("PRAGMA user_version = 3")
    conn.commit()
    conn.close()
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION >= 4
        live = store.live()
        assert (live["seated"], live["dropped_frames"], live["dropped_recent"]) == (True, 5, None)
        store.set_live(
            {"seated": True, "dropped_frames": 5, "recent_s": 600.0, "frames_recent": 48000, "dropped_recent": 3}
        )
        assert store.live()["dropped_recent"] == 3


def test_diary_entries_round_trip_and_delete(fresh_store):
    first = fresh_store.add_diary_entry(
        at(500),
        region="lower",
        side="left",
        severity=6,
        note="after a long call",
        red_flags=["fever"],
        logged_wall=at(2000),
    )
    second = fresh_store.add_diary_entry(at(900), region="upper", side="centre", severity=2)
    entries = fresh_store.diary_between(*DAY)
    assert [e["id"] for e in entries] == [first, second]  # oldest first
    entry = entries[0]
    assert entry["wall"] == at(500).isoformat(timespec="milliseconds")
    assert entry["logged_wall"] == at(2000).isoformat(timespec="milliseconds")
    assert (entry["region"], entry["side"], entry["severity"], entry["note"]) == (
        "lower",
        "left",
        6,
        "after a long call",
    )
    assert entry["red_flags"] == ["fever"] and entries[1]["red_flags"] == []
    assert [e["id"] for e in fresh_store.diary_latest(limit=1)] == [second]  # newest first
    assert fresh_store.diary_entry(first) == entry and fresh_store.diary_entry(999) is None
    assert fresh_store.diary_between(at(600), at(1000)) == [entries[1]]
    assert fresh_store.delete_diary_entry(first) is True
    assert fresh_store.delete_diary_entry(first) is False
    assert [e["id"] for e in fresh_store.diary_between(*DAY)] == [second]


@pytest.mark.parametrize(
    "bad",
    [
        dict(region="elbow"),
        dict(side="both"),
        dict(severity=11),
        dict(severity=-1),
        dict(severity=5.5),
        dict(red_flags=[""]),
    ],
)
def test_diary_refuses_bad_values(fresh_store, bad):
    entry = dict(region="lower", side="right", severity=3) | bad
    with pytest.raises(ValueError):
        fresh_store.add_diary_entry(NOON, **entry)
    assert fresh_store.diary_latest() == []


# -- a database that cannot be written is still read -----------------------------------


def writes_refused(monkeypatch):
    """The OS refuses to write the database (a read-only disk, or a read-only
    folder where the -wal and -shm files cannot be made) for every connection
    opened from now on; reading it read-only still works. chmod would not stop
    root. Returns what makes it writable again."""
    connect = sqlite3.connect

    def refuse_writing(database, *args, **kwargs):
        if kwargs.get("uri") and "mode=ro" in str(database):
            return connect(database, *args, **kwargs)
        error = sqlite3.OperationalError("attempt to write a readonly database")
        error.sqlite_errorname = "SQLITE_READONLY"
        raise error

    monkeypatch.setattr(sqlite3, "connect", refuse_writing)
    return lambda: monkeypatch.setattr(sqlite3, "connect", connect)


def test_a_database_that_cannot_be_written_opens_read_only(tmp_path, monkeypatch):
    path = tmp_path / "history.db"
    with Store(path) as daemon:
        daemon.write_batch(1000.0, NOON, events=[Sit(900.0, 901.5)])
    writable_again = writes_refused(monkeypatch)
    with Store(path) as dashboard:
        assert dashboard.read_only
        assert len(dashboard.events_between(*DAY)) == 1
        with pytest.raises(StoreError, match="read-only"):
            dashboard.set_settings({"breaks.still_min": 10})
    with pytest.raises(StoreError, match="read-only"):
        Store(path, read_only=False)
    with pytest.raises(StoreError, match="other.db: cannot open"):
        Store(tmp_path / "other.db")  # nothing to read, and it cannot be created
    writable_again()
    with Store(path) as store:
        assert not store.read_only


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes read-only files")
def test_a_read_only_file_in_a_read_only_folder_opens_read_only(tmp_path):
    path = tmp_path / "ro" / "history.db"
    with Store(path) as store:
        store.write_batch(1000.0, NOON, events=[Sit(900.0, 901.5)])
    path.chmod(0o444)
    path.parent.chmod(0o555)
    try:
        with Store(path) as dashboard:
            assert dashboard.read_only and len(dashboard.events_between(*DAY)) == 1
    finally:
        path.parent.chmod(0o755)


def test_reconnect_writes_again_and_keeps_this_runs_sessions(tmp_path, monkeypatch):
    path = tmp_path / "history.db"
    store = Store(path)
    store.write_batch(1000.0, NOON, sessions=[Session(900.0, None, ())])
    writable_again = writes_refused(monkeypatch)
    store.reconnect()
    assert store.read_only
    with pytest.raises(StoreError):
        store.write_batch(1005.0, at(1005), sessions=[Session(900.0, 1004.0, ())])
    writable_again()
    store.reconnect()
    store.write_batch(1010.0, at(1010), sessions=[Session(900.0, 1004.0, ())])
    (session,) = store.sessions_between(*DAY)  # the same row, ended: not a second session
    assert session["end_t"] == 1004.0
    store.close()


def test_reconnect_that_fails_keeps_the_old_connection(fresh_store, monkeypatch):
    def cannot(self):
        raise StoreError("nope")

    monkeypatch.setattr(Store, "_connect", cannot)
    with pytest.raises(StoreError):
        fresh_store.reconnect()
    assert fresh_store.sessions_between(*DAY) == []


def test_busy_timeout_can_be_changed(fresh_store):
    fresh_store.set_busy_timeout(0.05)
    assert fresh_store.db.execute("PRAGMA busy_timeout").fetchone()[0] == 50


def test_a_setting_that_is_not_json_is_skipped_and_reported(fresh_store):
    fresh_store.set_settings({"breaks.still_min": 10})
    fresh_store.db["settings"].insert({"key": "breaks.repeat_min", "value": "{oops", "updated_wall": "x"})
    fresh_store.db.conn.commit()
    told = []
    assert fresh_store.settings(on_invalid=lambda key, problem: told.append((key, problem))) == {"breaks.still_min": 10}
    ((key, problem),) = told
    assert key == "breaks.repeat_min" and "'{oops' is not JSON" in problem
    assert fresh_store.settings() == {"breaks.still_min": 10}


def test_merged_minute_rows_add_up_as_the_database_does(fresh_store):
    key = "2024-05-01T12:00"
    rows = [
        Minute(key, seated_s=20.0, lat_mean=0.1, fidgets=1, lean_left_s=5.0),
        Minute(key, seated_s=40.0, lat_mean=0.4, sag_mean=-0.2, fidgets=2, twists=1),
        Minute(key, seated_s=0.0),
        Minute("2024-05-01T12:01", seated_s=3.0, prompts=1),
    ]
    for row in rows:
        fresh_store.write_batch(1000.0, NOON, minutes=[row])
    stored = fresh_store.minutes_between(NOON, NOON + timedelta(minutes=2))
    merged = store_module.merge_minutes(rows)
    assert len(merged) == 2
    for row, minute in zip(stored, merged):
        assert row == pytest.approx({name: getattr(minute, name) for name in Minute.__slots__})


def test_the_dashboard_shows_a_database_it_cannot_write(tmp_path, monkeypatch):
    from dashboard import create_app

    path = tmp_path / "history.db"
    with Store(path) as daemon:
        daemon.write_batch(1000.0, NOON, events=[Sit(900.0, 901.5)], sessions=[Session(900.0, 960.0, ())])
    create_app({"DATABASE": str(path)})  # its first start keeps its secret key in the database
    writes_refused(monkeypatch)  # then the SD card goes read-only
    client = create_app({"DATABASE": str(path)}).test_client()
    for page in ("/", "/api/live", "/settings", "/device", "/diary"):
        assert client.get(page).status_code == 200, page


def test_a_dashboard_never_started_before_shows_a_database_it_cannot_write(tmp_path, monkeypatch):
    from dashboard import create_app

    path = tmp_path / "history.db"
    with Store(path) as daemon:
        daemon.write_batch(1000.0, NOON, events=[Sit(900.0, 901.5)], sessions=[Session(900.0, 960.0, ())])
    writes_refused(monkeypatch)  # read-only before the dashboard ever kept a key
    client = create_app({"DATABASE": str(path)}).test_client()
    for page in ("/", "/day/2026-11-20", "/settings", "/diary"):
        assert client.get(page).status_code == 200, page


# -- a full disk when the database is made: no 0-byte file is left -------------------------------


def _no_file_writes():
    """In a child process: every write to a file fails (as on a full disk), EFBIG instead of a signal."""
    import resource
    import signal

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))


def test_a_database_that_cannot_be_made_leaves_no_empty_file(tmp_path):
    path = tmp_path / "history.db"
    code = (
        f"from device.storage.store import Store, StoreError\ntry:\n    Store({str(path)!r})\n"
        "except StoreError as exc:\n    print(exc)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], preexec_fn=_no_file_writes, capture_output=True, text=True, timeout=60
    )
    assert result.stdout.startswith(f"{path}: cannot open the history database")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_on_a_really_full_disk_too(tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    if (
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", str(disk)], capture_output=True).returncode
        != 0
    ):
        pytest.skip("cannot mount a small tmpfs here (not root, or no mount permission)")
    try:
        with contextlib.suppress(OSError):
            (disk / "filler").write_bytes(b"\0" * 65536)  # fill it to the last byte
        with pytest.raises(StoreError, match="the disk is full|disk I/O error"):
            Store(disk / "history.db")
        assert sorted(p.name for p in disk.iterdir()) == ["filler"]
    finally:
        subprocess.run(["umount", str(disk)], check=True)
