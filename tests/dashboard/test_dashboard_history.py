"""What the history says (dashboard/history.py): per-day totals, the day's detail, episode windows."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from dashboard.history import day_detail, episode_contexts, local_midnight, totals_for_days
from device.core.events import Fidget, Prompt, Session, Sit, Stand
from device.storage.store import Store
from tests.dashboard_support import DAY, MIDNIGHT, at


def test_day_totals_follow_the_definitions(day_db):
    with Store(day_db) as store:
        (totals,) = totals_for_days(store, DAY, DAY)
    assert totals.seated_s == pytest.approx(50 * 60 + 70 * 60 + 20 * 60)
    assert totals.sessions == 3 and totals.breaks == 2  # between the sessions; not after the last one
    assert totals.longest_s == pytest.approx(70 * 60)
    assert totals.break_prompts == 3
    assert totals.breaks_skipped == 1  # 10:45's break_due was followed by 11:00's overdue, not a break
    assert totals.move_prompts == 1
    assert (totals.lean_left_s, totals.lean_right_s) == pytest.approx((60.0, 30.0))
    assert (totals.twists, totals.fidgets, totals.perches, totals.slumps, totals.faults) == (1, 3, 1, 1, 1)
    assert totals.perch_s == pytest.approx(45.0) and totals.slump_s == pytest.approx(40.0)
    assert totals.fidgets_per_hour == pytest.approx(3 / (140 / 60))


def test_totals_for_a_range_have_every_day_and_empty_days_are_zero(day_db):
    with Store(day_db) as store:
        totals = totals_for_days(store, DAY - timedelta(days=2), DAY + timedelta(days=1))
    assert [t.day for t in totals] == [DAY - timedelta(days=2), DAY - timedelta(days=1), DAY, DAY + timedelta(days=1)]
    assert [t.has_data for t in totals] == [False, False, True, False]
    assert totals[0].seated_s == 0 and totals[0].fidgets_per_hour is None


def write_sessions(store, *spans, midnight=MIDNIGHT):
    """Closed sessions (start, end) in frame seconds from `midnight`, with their sit and stand events."""
    events = [e for a, b in spans for e in (Sit(a, a + 1.5), Stand(b, b + 1.5))]
    store.write_batch(0.0, midnight, events=events, sessions=[Session(a, b, ()) for a, b in spans])


def test_a_break_is_an_absence_between_two_sessions_of_the_day(store):
    # Morning, a lunch at home, afternoon, then an evening session hours later.
    write_sessions(store, (at(9), at(10)), (at(10, 10), at(12)), (at(13, 45), at(17)), (at(21), at(21, 30)))
    (totals,) = totals_for_days(store, DAY, DAY)
    assert totals.sessions == 4 and totals.breaks == 3
    detail = day_detail(store, DAY)
    assert [(round(b.start - MIDNIGHT.timestamp()), round(b.end - MIDNIGHT.timestamp())) for b in detail.breaks] == [
        (at(10), at(10, 10)),
        (at(12), at(13, 45)),
        (at(17), at(21)),
    ]


def test_going_home_is_not_a_break(store):
    write_sessions(store, (at(9), at(11)))
    (totals,) = totals_for_days(store, DAY, DAY)
    assert totals.sessions == 1 and totals.breaks == 0
    assert day_detail(store, DAY).breaks == []


def test_the_night_between_two_days_is_not_a_break(store):
    write_sessions(store, (at(22), at(23, 30)), (at(24 + 8), at(24 + 9)))
    first, second = totals_for_days(store, DAY, DAY + timedelta(days=1))
    assert (first.breaks, second.breaks) == (0, 0)
    assert day_detail(store, DAY + timedelta(days=1)).breaks == []


def test_after_a_session_over_midnight_the_next_days_gap_is_a_break(store):
    # 23:00-00:30, then 01:00-02:00: the half hour between them is a break on the second day.
    write_sessions(store, (at(23), at(24, 30)), (at(25), at(26)))
    first, second = totals_for_days(store, DAY, DAY + timedelta(days=1))
    assert (first.breaks, second.breaks) == (0, 1)
    assert len(day_detail(store, DAY + timedelta(days=1)).breaks) == 1


def test_a_session_over_midnight_is_split_between_the_days(store):
    # 23:30 to 00:45: 30 min on the first day, 45 on the next; it counts as the first day's session.
    store.write_batch(
        0.0,
        MIDNIGHT,
        sessions=[Session(at(23, 30), at(24, 45), ())],
        events=[Sit(at(23, 30), at(23, 30, 2)), Stand(at(24, 45), at(24, 45, 2))],
    )
    first, second = totals_for_days(store, DAY, DAY + timedelta(days=1))
    assert first.seated_s == pytest.approx(30 * 60) and second.seated_s == pytest.approx(45 * 60)
    assert (first.sessions, second.sessions) == (1, 0)
    assert first.longest_s == pytest.approx(75 * 60)


def test_an_open_session_runs_to_its_last_heartbeat_and_is_not_a_break(store):
    store.write_batch(
        at(9, 30),
        MIDNIGHT + timedelta(hours=9, minutes=30),
        sessions=[Session(at(9), None, ())],
        events=[Sit(at(9), at(9, 0, 2))],
    )
    (totals,) = totals_for_days(store, DAY, DAY)
    assert totals.seated_s == pytest.approx(30 * 60)
    assert totals.sessions == 1 and totals.breaks == 0
    detail = day_detail(store, DAY)
    assert detail.sessions[0].open and detail.session_rows[0]["open"]


def test_the_running_session_stands_in_for_its_own_record_only(store):
    """The live row's session (09:00 until its time, 09:40) replaces the history's record of it, which
    lags behind; the day's other sessions stay as they are."""
    write_sessions(store, (at(8), at(8, 20)), (at(9), at(9, 39)), (at(11), at(11, 30)))
    running = (MIDNIGHT.timestamp() + at(9), MIDNIGHT.timestamp() + at(9, 40))
    (totals,) = totals_for_days(store, DAY, DAY, running=running)
    assert totals.seated_s == pytest.approx((20 + 40 + 30) * 60)
    assert totals.sessions == 3 and totals.longest_s == pytest.approx(40 * 60)


def test_day_detail_has_spans_marks_and_breaks(day_db):
    with Store(day_db) as store:
        detail = day_detail(store, DAY)
    assert [round(b.duration_s) for b in detail.breaks] == [600, 110 * 60]  # nothing after 13:20
    assert sorted(s.kind for s in detail.spans) == ["fault", "lean", "lean", "perch", "slump"]
    kinds = [m.kind for m in detail.marks]
    assert kinds.count("fidget") == 3 and kinds.count("twist") == 1
    assert [k for k in kinds if k in ("break_due", "break_overdue", "move")] == [
        "break_due",
        "break_due",
        "break_overdue",
        "move",
    ]
    lo, hi = detail.window()
    assert lo == local_midnight(DAY).timestamp() + 9 * 3600
    assert hi == local_midnight(DAY).timestamp() + 14 * 3600
    assert not detail.empty


def test_empty_day_detail_has_a_default_window(store):
    detail = day_detail(store, DAY)
    assert detail.empty
    lo, hi = detail.window()
    assert hi - lo == 10 * 3600


def test_episode_window_and_usual_figures(store):
    """The 4 h before an episode next to the median of the same 4 h on earlier days with data."""
    # Three earlier days: one session 10:00-11:00 with 2 fidgets each.
    for back in (1, 2, 3):
        midnight = MIDNIGHT - timedelta(days=back)
        base = -back * 86400.0
        store.write_batch(
            base,
            midnight,
            sessions=[Session(base + at(10), base + at(11), ())],
            events=[
                Fidget(base + at(10, 10), 20.0, base + at(10, 10, 2)),
                Fidget(base + at(10, 20), 20.0, base + at(10, 20, 2)),
            ],
        )
    # The day itself: 09:00-11:30 without a break, a break_due then an overdue (one skipped), 6 fidgets.
    events = [Prompt("break_due", at(9, 45), at(9, 45)), Prompt("break_overdue", at(10), at(10))]
    events += [Fidget(at(10, 5 * i), 25.0, at(10, 5 * i, 2)) for i in range(1, 7)]
    store.write_batch(
        0.0, MIDNIGHT, sessions=[Session(at(9), at(11, 30), ("break_due", "break_overdue"))], events=events
    )
    entry_id = store.add_diary_entry(MIDNIGHT + timedelta(hours=12), region="lower", side="left", severity=7)
    (entry,) = store.diary_between(MIDNIGHT, MIDNIGHT + timedelta(days=1))
    context = episode_contexts(store, [entry])[entry_id]
    assert context.before.seated_s == pytest.approx(150 * 60)  # 08:00-12:00 holds 09:00-11:30
    assert context.before.longest_s == pytest.approx(150 * 60)
    assert context.before.breaks_skipped == 1
    assert context.before.fidgets_per_hour == pytest.approx(6 / 2.5)
    assert context.usual_days == 3
    assert context.usual.seated_s == pytest.approx(3600)
    assert context.usual.fidgets_per_hour == pytest.approx(2.0)
    assert context.usual.breaks_skipped == 0


def test_episode_without_earlier_days_has_no_usual_figures(store):
    entry_id = store.add_diary_entry(datetime(2024, 5, 1, 12), region="upper", side="right", severity=2)
    context = episode_contexts(store, [store.diary_entry(entry_id)])[entry_id]
    assert context.usual is None and context.usual_days == 0
    assert context.before.seated_s == 0 and context.before.fidgets_per_hour is None
    assert episode_contexts(store, []) == {}


def test_day_boundaries_are_local_midnight():
    assert local_midnight(date(2024, 5, 1)).replace(tzinfo=None) == datetime(2024, 5, 1)


def test_day_fixture_is_stored_with_sessions_attached(day_db):
    with Store(day_db) as store:
        a, b = MIDNIGHT, MIDNIGHT + timedelta(days=1)
        sessions = store.sessions_between(a, b)
        events = store.events_between(a, b)
    assert [s["start_wall"][11:16] for s in sessions] == ["09:00", "10:00", "13:00"]
    assert len(events) == 19
    assert all(e["session_id"] is not None for e in events)


def test_sample_history_writes_plausible_days(tmp_path):
    from tests.sample_history import fill_history

    with Store(tmp_path / "h.db") as store:
        written = fill_history(store, DAY, 7, seed=2)
        sessions = store.sessions_between(MIDNIGHT, MIDNIGHT + timedelta(days=7))
        minutes = store.minutes_between(MIDNIGHT, MIDNIGHT + timedelta(days=7))
    assert written > 100
    assert 6 * 5 <= len(sessions) <= 9 * 7  # 6-9 a workday, a few at weekends
    assert sum(m["seated_s"] for m in minutes) == pytest.approx(
        sum(
            (datetime.fromisoformat(s["end_wall"]) - datetime.fromisoformat(s["start_wall"])).total_seconds()
            for s in sessions
        ),
        rel=1e-3,
    )
