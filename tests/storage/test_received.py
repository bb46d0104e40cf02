"""A cushion's history as a hub receives it (device.storage.received): events kept once, sessions rebuilt."""

from __future__ import annotations

from datetime import datetime, timedelta

from device.storage.received import ReceivedEvent
from device.storage.store import Store

NINE = datetime(2026, 3, 2, 9, 0).astimezone()
BREAK_MIN_S = 60.0


def event(uid: str, event_type: str, at_s: float, **data) -> ReceivedEvent:
    """An event message: times on a cushion frame clock that started at 09:00 (t = at_s)."""
    time_key = "start" if event_type in ("lean", "twist", "perch", "slump", "fault") else "t"
    body = {"type": event_type, time_key: at_s, "detected_at": at_s + 2.0, **data}
    return ReceivedEvent(uid, body, NINE + timedelta(seconds=at_s))


def spans(store: Store) -> list[tuple[str, str | None, list[str]]]:
    rows = store.sessions_between(NINE - timedelta(hours=1), NINE + timedelta(hours=12))
    return [(r["start_wall"][11:19], r["end_wall"][11:19] if r["end_wall"] else None, r["prompts"]) for r in rows]


def test_a_short_absence_carries_the_session_on_and_a_long_one_ends_it(fresh_store):
    fresh_store.add_received(
        [
            event("a1", "sit", 0),
            event("a2", "stand", 1800),
            event("a3", "sit", 1830),  # 30 s away: the same session
            event("a4", "prompt", 2700, kind="break_due"),
            event("a5", "stand", 3000),
            event("a6", "sit", 3300),  # 5 min away: a break, a new session
        ],
        BREAK_MIN_S,
    )
    assert spans(fresh_store) == [("09:00:00", "09:50:00", ["break_due"]), ("09:55:00", None, [])]


def test_an_event_received_twice_is_kept_once_and_arrival_order_does_not_matter(fresh_store):
    first = [event("b2", "fidget", 600, size_mm=30.0), event("b1", "sit", 0)]
    assert fresh_store.add_received(first, BREAK_MIN_S) == 2
    assert fresh_store.add_received([event("b1", "sit", 0), event("b3", "stand", 900)], BREAK_MIN_S) == 1
    rows = fresh_store.events_after(0)
    assert [r["uid"] for r in rows] == ["b1", "b2", "b3"]
    assert rows[1]["session_id"] == rows[0]["session_id"] is not None  # the fidget is in the session
    assert rows[1]["detected_wall"].startswith("2026-03-02T09:10:02")
    assert spans(fresh_store) == [("09:00:00", "09:15:00", [])]


def test_a_fault_goes_to_the_faults_table_and_an_open_session_runs_to_its_heartbeat(fresh_store):
    fresh_store.add_received(
        [event("c1", "sit", 0), event("c2", "fault", 60, channel="fl", end=120.0, reason="stuck")], BREAK_MIN_S
    )
    (fault,) = fresh_store.faults_between(NINE, NINE + timedelta(hours=1))
    assert fault["channel"] == "fl" and fault["end_wall"].startswith("2026-03-02T09:02:00")
    fresh_store.received_heartbeat(NINE + timedelta(minutes=20))
    ((_, start, end, is_open, _),) = fresh_store.session_spans(NINE, NINE + timedelta(hours=1))
    assert is_open and abs(end - start - 20 * 60) < 0.01
