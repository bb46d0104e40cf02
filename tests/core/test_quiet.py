"""Quiet hours, snooze / mute and the prompt rate guard (device.core.quiet): pure, no clock."""

from datetime import datetime, timedelta, timezone

import pytest

from device.config import Breaks
from device.core.prompts import PromptScheduler
from device.core.quiet import PromptGate, QuietHours, SnoozeState
from device.errors import CushionError

DAY = datetime(2024, 3, 14)


def at(hhmm: str, day: datetime = DAY) -> datetime:
    hours, minutes = hhmm.split(":")[:2]
    seconds = int(hhmm.split(":")[2]) if hhmm.count(":") == 2 else 0
    return day.replace(hour=int(hours), minute=int(minutes), second=seconds)


# -- quiet hours ---------------------------------------------------------------


def test_no_quiet_hours_is_never_quiet():
    quiet = QuietHours()
    assert not quiet
    assert not any(quiet.is_quiet(DAY + timedelta(minutes=m)) for m in range(0, 24 * 60, 7))


def test_range_within_a_day_includes_its_start_not_its_end():
    quiet = QuietHours(["12:30-13:15"])
    assert not quiet.is_quiet(at("12:29:59"))
    assert quiet.is_quiet(at("12:30"))
    assert quiet.is_quiet(at("13:14:59"))
    assert not quiet.is_quiet(at("13:15"))
    assert not quiet.is_quiet(at("00:00"))


def test_range_wrapping_midnight():
    quiet = QuietHours(["22:00-07:00"])
    assert not quiet.is_quiet(at("21:59:59"))
    assert quiet.is_quiet(at("22:00"))
    assert quiet.is_quiet(at("23:59:59"))
    assert quiet.is_quiet(at("00:00"))
    assert quiet.is_quiet(at("06:59:59"))
    assert not quiet.is_quiet(at("07:00"))
    assert not quiet.is_quiet(at("12:00"))


def test_several_ranges():
    quiet = QuietHours(["23:00-06:30", "12:00-13:00", "17:45-18:00"])
    for hhmm in ("23:30", "03:00", "12:00", "12:59", "17:45", "17:59"):
        assert quiet.is_quiet(at(hhmm)), hhmm
    for hhmm in ("06:30", "09:00", "13:00", "17:44", "18:00", "22:59"):
        assert not quiet.is_quiet(at(hhmm)), hhmm


def test_quiet_hours_read_the_wall_clock_of_an_aware_time():
    quiet = QuietHours(["22:00-07:00"])
    cet = timezone(timedelta(hours=1))
    assert quiet.is_quiet(datetime(2024, 3, 14, 23, 0, tzinfo=cet))
    assert not quiet.is_quiet(datetime(2024, 3, 14, 21, 0, tzinfo=cet))


def test_quiet_hours_from_the_breaks_config():
    assert not QuietHours.from_breaks(Breaks())
    quiet = QuietHours.from_breaks(Breaks(quiet_hours=("22:00-07:00",)))
    assert quiet.is_quiet(at("02:00"))
    assert [str(r) for r in quiet.ranges] == ["22:00-07:00"]


@pytest.mark.parametrize("text", ["22:00", "22-07", "25:00-07:00", "22:00-07:60", "a:b-c:d", "22:00-07:00-08:00", ""])
def test_bad_range_is_an_error_naming_the_key(text):
    with pytest.raises(CushionError, match=r"\[breaks\] quiet_hours\[1\]"):
        QuietHours(["12:00-13:00", text])


def test_range_starting_where_it_ends_is_an_error():
    with pytest.raises(CushionError, match="buzzer_enabled"):
        QuietHours(["08:00-08:00"])


# -- snooze and mute -----------------------------------------------------------


def test_snooze_silences_until_it_expires():
    state = SnoozeState()
    now = at("10:00")
    assert state.buzzer_allowed(now)
    until = state.snooze(now, 10)
    assert until == at("10:10")
    assert not state.buzzer_allowed(at("10:00"))
    assert not state.buzzer_allowed(at("10:09:59"))
    assert state.silenced_by(at("10:05")) == "snoozed"
    assert state.buzzer_allowed(at("10:10"))
    assert state.buzzer_allowed(at("11:00"))


def test_snoozing_again_restarts_but_never_shortens():
    state = SnoozeState()
    state.snooze(at("10:00"), 10)
    assert state.snooze(at("10:05"), 10) == at("10:15")
    assert state.snooze(at("10:06"), 2) == at("10:15")  # a shorter one does not cut it


def test_snooze_minutes_must_be_positive():
    with pytest.raises(ValueError):
        SnoozeState().snooze(at("10:00"), 0)


def test_mute_lasts_until_local_midnight():
    state = SnoozeState()
    assert state.mute_day(at("14:20")) == datetime(2024, 3, 15)
    assert state.muted_until == datetime(2024, 3, 15)
    assert state.silenced_by(at("14:21")) == "muted"
    assert not state.buzzer_allowed(at("23:59:59"))
    assert state.buzzer_allowed(datetime(2024, 3, 15, 0, 0))
    assert state.buzzer_allowed(datetime(2024, 3, 15, 9, 0))


def test_mute_just_before_midnight_ends_at_that_midnight():
    state = SnoozeState()
    state.mute_day(at("23:59:30"))
    assert not state.buzzer_allowed(at("23:59:59"))
    assert state.buzzer_allowed(datetime(2024, 3, 15, 0, 0, 1))


def test_mute_follows_the_wall_date_of_aware_times():
    # The night clocks go back (Europe, 27 Oct 2024): still "until midnight".
    state = SnoozeState()
    cest, cet = timezone(timedelta(hours=2)), timezone(timedelta(hours=1))
    state.mute_day(datetime(2024, 10, 26, 20, 0, tzinfo=cest))
    assert not state.buzzer_allowed(datetime(2024, 10, 26, 23, 59, tzinfo=cest))
    assert state.buzzer_allowed(datetime(2024, 10, 27, 0, 0, tzinfo=cest))
    assert state.buzzer_allowed(datetime(2024, 10, 27, 9, 0, tzinfo=cet))


def test_clear_forgets_snooze_and_mute():
    state = SnoozeState()
    state.snooze(at("10:00"), 30)
    state.mute_day(at("10:00"))
    state.clear()
    assert state.buzzer_allowed(at("10:01"))
    assert state.muted_until is None


def test_buzzer_allowed_combines_config_quiet_hours_snooze_and_mute():
    state = SnoozeState()
    quiet = QuietHours(["22:00-07:00"])
    assert state.buzzer_allowed(at("10:00"), quiet, True)
    assert not state.buzzer_allowed(at("10:00"), quiet, False)
    assert state.silenced_by(at("10:00"), quiet, False) == "disabled"
    assert state.silenced_by(at("23:00"), quiet) == "quiet hours"
    assert state.silenced_by(at("23:00"), ["22:00-07:00"]) == "quiet hours"  # strings work too
    state.snooze(at("23:00"), 10)
    assert state.silenced_by(at("23:05"), quiet) == "snoozed"
    state.mute_day(at("23:05"))
    assert state.silenced_by(at("23:06"), quiet) == "muted"
    assert state.silenced_by(at("23:06"), quiet, False) == "disabled"
    assert state.buzzer_allowed(datetime(2024, 3, 15, 7, 0), quiet)


# -- the rate guard --------------------------------------------------------------


def test_break_due_sounds_once_per_session():
    gate = PromptGate(Breaks())
    assert gate.allow("break_due", 2700.0)
    assert not gate.allow("break_due", 2700.0)
    assert not gate.allow("break_due", 9000.0)
    gate.new_session()
    assert gate.allow("break_due", 12000.0)


def test_break_overdue_at_most_every_repeat_min():
    gate = PromptGate(Breaks(repeat_min=15.0))
    assert gate.allow("break_overdue", 3600.0)
    assert not gate.allow("break_overdue", 3600.0)
    assert not gate.allow("break_overdue", 3600.0 + 10 * 60)
    assert gate.allow("break_overdue", 3600.0 + 15 * 60)
    assert not gate.allow("break_overdue", 3600.0 + 16 * 60)
    assert gate.allow("break_overdue", 3600.0 + 30 * 60)


def test_move_at_most_every_still_min():
    gate = PromptGate(Breaks(still_min=20.0))
    assert gate.allow("move", 1200.0)
    assert not gate.allow("move", 1201.0)
    assert not gate.allow("move", 1200.0 + 10 * 60)
    assert gate.allow("move", 2400.0)


def test_a_caller_asking_every_frame_gets_one_prompt():
    gate = PromptGate(Breaks())
    t0 = 3600.0
    given = [t0 + i / 80 for i in range(80 * 600) if gate.allow("break_overdue", t0 + i / 80)]
    assert given == [t0]


def test_kinds_are_independent_and_a_new_session_resets_all():
    gate = PromptGate(Breaks())
    assert gate.allow("move", 1200.0)
    assert gate.allow("break_due", 1200.0)
    assert gate.allow("break_overdue", 1200.0)
    assert not gate.allow("move", 1300.0)
    gate.new_session()
    assert gate.allow("move", 1300.0)
    assert gate.allow("break_overdue", 1300.0)


def test_a_prompt_delayed_by_a_short_absence_does_not_block_the_next_one():
    # Overdue due at 75 min is given 50 s late (the person was away briefly);
    # the next one stays on the session's schedule at 90 min.
    gate = PromptGate(Breaks())
    assert gate.allow("break_overdue", 60 * 60.0)
    assert gate.allow("break_overdue", 75 * 60.0 + 50)
    assert gate.allow("break_overdue", 90 * 60.0)


def test_a_clock_going_back_is_refused():
    gate = PromptGate(Breaks())
    assert gate.allow("move", 5000.0)
    assert not gate.allow("move", 100.0)


def test_unknown_kind_is_an_error():
    with pytest.raises(ValueError, match="fidget"):
        PromptGate().allow("fidget", 0.0)


def test_gate_passes_every_prompt_the_scheduler_gives():
    """A real two-hour session, with a short absence across a due time: nothing legit is refused."""
    breaks = Breaks()
    scheduler, gate = PromptScheduler(breaks), PromptGate(breaks)
    scheduler.session_started(0.0)
    gate.new_session()
    given = []
    t = 0.0
    while t < 2.5 * 3600:
        away = 75 * 60 - 10 <= t < 75 * 60 + 45
        if not away:
            if 75 * 60 + 45 <= t < 75 * 60 + 46:
                scheduler.sat_down(t)
            for kind in scheduler.due(t, movement_pending=False):
                assert gate.allow(kind, t), (kind, t)
                given.append((kind, round(t)))
        t += 0.5
    kinds = [k for k, _ in given]
    assert kinds.count("break_due") == 1
    assert [t for k, t in given if k == "break_overdue"] == [3600, 75 * 60 + 45, 5400, 6300, 7200, 8100]
    assert kinds.count("move") >= 6


# -- quiet hours for some days only (a work-hours schedule) ----------------------------

WORK_HOURS_ONLY = QuietHours(["Mon-Fri 18:00-08:00", "Sat-Sun"])


@pytest.mark.parametrize(
    ("when", "quiet"),
    [
        ("2026-03-02 09:00", False),  # Monday at work
        ("2026-03-02 17:59", False),
        ("2026-03-02 18:00", True),  # Monday evening
        ("2026-03-03 07:59", True),  # Tuesday before work: Monday's evening range
        ("2026-03-03 08:00", False),
        ("2026-03-06 19:00", True),  # Friday evening
        ("2026-03-07 12:00", True),  # Saturday, all day
        ("2026-03-08 23:59", True),  # Sunday night
        ("2026-03-02 07:00", True),  # Monday before work: the weekday range, on Monday's clock
        ("2026-03-07 07:00", True),  # Saturday, all day
    ],
)
def test_quiet_hours_for_weekdays_follow_a_work_schedule(when, quiet):
    moment = datetime.strptime(when, "%Y-%m-%d %H:%M")
    assert WORK_HOURS_ONLY.is_quiet(moment) is quiet


def test_a_work_schedule_leaves_exactly_the_working_hours_for_reminders():
    monday = datetime(2026, 3, 2)
    sounding = {
        (monday + timedelta(minutes=m)).strftime("%a %H:%M")
        for m in range(0, 7 * 24 * 60, 30)
        if not WORK_HOURS_ONLY.is_quiet(monday + timedelta(minutes=m))
    }
    assert len(sounding) == 5 * 20  # 08:00 to 17:30, every half hour, Monday to Friday
    assert "Mon 08:00" in sounding and "Fri 17:30" in sounding and "Fri 18:00" not in sounding


def test_days_say_on_which_days_the_clock_times_are_quiet():
    friday_night = QuietHours(["Fri 22:00-02:00"])
    assert friday_night.is_quiet(datetime(2026, 3, 6, 23, 0))  # Friday 23:00
    assert friday_night.is_quiet(datetime(2026, 3, 6, 1, 0))  # Friday 01:00
    assert not friday_night.is_quiet(datetime(2026, 3, 7, 1, 0))  # Saturday 01:00


def test_quiet_until_says_when_the_stretch_ends_across_days():
    assert WORK_HOURS_ONLY.quiet_until(datetime(2026, 3, 2, 12, 0)) is None  # Monday noon: not quiet
    assert WORK_HOURS_ONLY.quiet_until(datetime(2026, 3, 2, 19, 30)) == datetime(2026, 3, 3, 8, 0)
    assert WORK_HOURS_ONLY.quiet_until(datetime(2026, 3, 6, 18, 0)) == datetime(2026, 3, 9, 8, 0)  # weekend
    assert QuietHours(["12:30-13:15"]).quiet_until(at("12:31:40")) == at("13:15")
