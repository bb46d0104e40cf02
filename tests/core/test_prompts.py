"""Break and stillness prompts (SPEC section 3)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from device.config import Breaks
from device.core.prompts import PromptScheduler
from tests.signals import Signal, of_type, run


def prompts_of(events):
    return [(e.kind, round(e.t)) for e in of_type(events, "prompt")]


def test_break_due_then_overdue_every_15_minutes_with_move_nudges():
    # Perfectly still for 100 minutes.
    s = Signal(10).hold(1).ramp(100 * 60, 60, ramp_s=0.5)
    events, pipeline = run(*s.frames(noise_counts=100))
    got = prompts_of(events)
    start = of_type(events, "sit")[0].t
    expected = sorted(
        [
            ("move", 20),
            ("move", 40),
            ("break_due", 45),
            ("move", 60),
            ("break_overdue", 60),
            ("break_overdue", 75),
            ("move", 80),
            ("break_overdue", 90),
        ],
        key=lambda p: p[1],
    )
    assert [k for k, _ in sorted(got, key=lambda p: (p[1], p[0]))] == [
        k for k, _ in sorted(expected, key=lambda p: (p[1], p[0]))
    ]
    for kind, t in got:
        assert any(k == kind and abs((t - start) - m * 60) <= 1 for k, m in expected)
    assert pipeline.sessions[0].prompts.count("break_overdue") == 3


def test_short_absence_keeps_the_break_clock_but_restarts_stillness():
    s = Signal(10).hold(1).ramp(30 * 60, 60).ramp(30, 0).ramp(21 * 60, 60)
    events, _ = run(*s.frames(noise_counts=100))
    kinds = prompts_of(events)
    (due,) = [t for k, t in kinds if k == "break_due"]
    assert due == pytest.approx(1 + 45 * 60, abs=2)
    moves = [t for k, t in kinds if k == "move"]
    # 20 min after sitting down, then 20 min after sitting back down (not 40 min after the start).
    assert moves[0] == pytest.approx(1 + 20 * 60, abs=2)
    assert moves[1] == pytest.approx(1 + 30 * 60 + 30 + 20 * 60, abs=2)


def test_a_break_clears_the_prompts():
    s = Signal(10).hold(1).ramp(44 * 60, 60).ramp(120, 0).ramp(44 * 60, 60)
    events, pipeline = run(*s.frames(noise_counts=100))
    assert not [k for k, _ in prompts_of(events) if k.startswith("break")]
    assert pipeline.session_tracker.breaks == 1


def test_no_prompt_while_away_a_due_prompt_waits_for_the_person():
    s = Signal(10).hold(1).ramp(44.9 * 60, 60).ramp(40, 0).ramp(60, 60)
    events, _ = run(*s.frames(noise_counts=100))
    (due,) = [e for e in of_type(events, "prompt") if e.kind == "break_due"]
    (back,) = [e for e in of_type(events, "sit")][1:]
    assert due.t >= back.t and due.detected_at >= back.detected_at


def test_scheduler_gives_one_prompt_of_a_kind_after_a_gap():
    scheduler = PromptScheduler(Breaks())
    scheduler.session_started(0.0)
    assert scheduler.due(100 * 60, movement_pending=False) == ["break_overdue", "move"]
    assert scheduler.due(100 * 60 + 1, movement_pending=False) == []
    assert scheduler.due(105 * 60, movement_pending=False) == ["break_overdue"]


def test_move_prompt_waits_for_a_pending_movement():
    scheduler = PromptScheduler(Breaks())
    scheduler.session_started(0.0)
    assert scheduler.due(20 * 60, movement_pending=True) == []
    scheduler.movement(20 * 60 - 2)  # it was a fidget after all
    assert scheduler.due(20 * 60 + 2, movement_pending=False) == []
    assert scheduler.due(40 * 60 - 2, movement_pending=False) == ["move"]


def test_new_break_timings_apply_to_the_running_session():
    import dataclasses

    from device.config import Config
    from device.core.pipeline import Pipeline
    from tests.signals import CAL

    t, raw = Signal(10).hold(1).ramp(40 * 60, 60).frames(noise_counts=100)
    config = Config(calibration=CAL)
    pipeline = Pipeline(config)
    split = int(10 * 60 * 10)  # ten minutes in, the person shortens the break timer to 30 min
    events = pipeline.feed_block(t[:split], raw[:split])
    pipeline.reconfigure(dataclasses.replace(config, breaks=Breaks(break_after_min=30)))
    events += pipeline.feed_block(t[split:], raw[split:]) + pipeline.finish()
    (due,) = [e for e in of_type(events, "prompt") if e.kind == "break_due"]
    assert due.t == pytest.approx(1 + 30 * 60, abs=2)
    assert len(pipeline.sessions) == 1  # the session went on


def _resumed(seconds_away_before_restart, seated_after):
    from device.config import Config
    from device.core.pipeline import Pipeline
    from tests.signals import CAL

    # The previous run: session started 50 min before this run, break_due already given,
    # last heartbeat `seconds_away_before_restart` before this run's first frame.
    s = Signal(10).hold(0.1)
    if seated_after:
        s.ramp(20 * 60, 60, ramp_s=0.3)
    else:
        s.hold(20 * 60)
    t, raw = s.frames(noise_counts=100)
    pipeline = Pipeline(Config(calibration=CAL))
    pipeline.resume_session(-50 * 60.0, ("move", "break_due"), away_since=-seconds_away_before_restart)
    events = pipeline.feed_block(t, raw) + pipeline.finish()
    return events, pipeline


def test_resumed_session_keeps_its_break_clock_when_the_person_is_back():
    events, pipeline = _resumed(10, seated_after=True)
    (session,) = pipeline.sessions
    assert session.start == -50 * 60 and session.end is None
    overdue = [e.t for e in of_type(events, "prompt") if e.kind == "break_overdue"]
    assert overdue and overdue[0] == pytest.approx(10 * 60, abs=3)  # 60 min after the original start
    assert not [e for e in of_type(events, "prompt") if e.kind == "break_due"]


def test_resumed_session_ends_at_the_last_heartbeat_when_nobody_is_back():
    events, pipeline = _resumed(10, seated_after=False)
    (session,) = pipeline.sessions
    assert session.end == -10 and pipeline.session_tracker.breaks == 1
    assert not of_type(events, "prompt")


def _move_minutes(events):
    sit = of_type(events, "sit")[0].t
    return [round((e.t - sit) / 60, 1) for e in of_type(events, "prompt") if e.kind == "move"]


def test_a_long_still_lean_is_nudged_twenty_minutes_after_it_began():
    # The lean is known 10 s after it starts; from then on it is no movement
    # still being told apart, so the nudge is due 20 min after its start.
    s = (
        Signal(10)
        .hold(1)
        .ramp(60, 60, ramp_s=0.5)
        .ramp(25 * 60, 60, lat=-0.25, ramp_s=0.5)
        .ramp(4 * 60, 60, ramp_s=0.5)
    )
    events, _ = run(*s.frames(noise_counts=100))
    assert of_type(events, "lean")
    assert _move_minutes(events)[0] == pytest.approx(21.0, abs=0.1)


def test_a_perch_restarts_the_stillness_clock_as_soon_as_it_is_known():
    # Perched from minute 15 to 25 (known at 15.5): no nudge at 20; the next
    # is 20 min after the perch ended.
    # Slow shifts (8 mm/s), so neither is a fidget that would restart it anyway.
    s = Signal(10).hold(1).ramp(15 * 60, 60, ramp_s=0.5).ramp(10 * 60, 60, sag=0.4, ramp_s=10)
    s.ramp(25 * 60, 60, ramp_s=10)
    events, _ = run(*s.frames(noise_counts=100))
    (perch,) = of_type(events, "perch")
    moves = _move_minutes(events)
    assert 20.0 not in moves
    assert moves[0] == pytest.approx(45.0, abs=0.1)


def test_a_shift_to_one_side_too_small_for_a_twist_still_restarts_the_stillness_clock():
    # At minute 10, 3 s at lat 0.25 (a 50 mm shift, then back): an excursion,
    # neither a lean nor a twist. Without it the nudge would come at 20 min.
    s = Signal(10).hold(1).ramp(10 * 60, 60, ramp_s=0.5).ramp(3, 60, lat=0.25, ramp_s=0.3)
    s.ramp(25 * 60, 60, ramp_s=0.3)
    events, _ = run(*s.frames(noise_counts=100))
    assert not of_type(events, "lean") and not of_type(events, "twist")
    moves = _move_minutes(events)
    assert 20.0 not in moves
    # 20 min after the excursion ended (3 s out, back, and the 2 s end hold).
    assert moves[0] == pytest.approx(30.1, abs=0.1)


# -- settings changed during a session ----------------------------------------------------------


def test_a_lowered_overdue_comes_at_the_new_time_not_later():
    # The tester's case: seated from 0, at minute 20 the break timings become
    # 30 / 40 (overdue must stay after due). Before, the overdue came at 70.
    scheduler = PromptScheduler(Breaks())
    scheduler.session_started(0.0)
    given = []
    for second in range(0, 90 * 60, 5):
        if second == 20 * 60:
            scheduler.configure(Breaks(break_after_min=30, overdue_after_min=40))
        given += [(kind, second / 60) for kind in scheduler.due(second, movement_pending=False) if kind != "move"]
    assert given == [
        ("break_due", 30),
        ("break_overdue", 40),
        ("break_overdue", 55),
        ("break_overdue", 70),
        ("break_overdue", 85),
    ]


def test_settings_lowered_past_a_prompts_time_give_it_at_once_and_only_once():
    scheduler = PromptScheduler(Breaks())
    scheduler.session_started(0.0)
    assert scheduler.due(50 * 60, movement_pending=False) == ["break_due", "move"]
    scheduler.configure(Breaks(break_after_min=20, overdue_after_min=30, repeat_min=15, still_min=20))
    assert scheduler.due(50 * 60 + 1, movement_pending=False) == ["break_overdue"]  # 30 and 45 passed: once
    assert scheduler.due(50 * 60 + 2, movement_pending=False) == []
    assert scheduler.due(60 * 60, movement_pending=False) == ["break_overdue"]  # the 60 slot


def reference_schedule(changes, checks, start=0.0):
    """The prompts a session starting at `start` should get at each check time,
    recomputed plainly from what was given so far and the settings in force.

    changes: [(time, Breaks)] sorted, the first at `start`; checks: sorted times.
    """
    given: list[tuple[str, float]] = []
    for t in checks:
        breaks = [b for at, b in changes if at <= t][-1]
        due_at = start + breaks.break_after_min * 60
        first = start + breaks.overdue_after_min * 60
        overdues = [at for kind, at in given if kind == "break_overdue"]
        slot = first
        while overdues and slot <= overdues[-1]:
            slot += breaks.repeat_min * 60
        kinds = []
        overdue_now = t >= slot
        if not any(kind.startswith("break") for kind, _ in given) and t >= due_at and not overdue_now:
            kinds.append("break_due")
        if overdue_now:
            kinds.append("break_overdue")
        moves = [at for kind, at in given if kind == "move"]
        if t - (moves[-1] if moves else start) >= breaks.still_min * 60:
            kinds.append("move")
        given += [(kind, t) for kind in kinds]
    return given


@st.composite
def timing_changes(draw):
    """A session's settings: the defaults at 0, then changes at any times in 3 hours."""

    def breaks():
        after = draw(st.floats(1, 120))
        return Breaks(
            break_after_min=after,
            overdue_after_min=draw(st.floats(after + 0.5, 180)),
            repeat_min=draw(st.floats(1, 60)),
            still_min=draw(st.floats(1, 60)),
        )

    times = sorted(draw(st.lists(st.floats(1, 180 * 60), max_size=6)))
    return [(0.0, Breaks())] + [(at, breaks()) for at in times]


@settings(max_examples=150, deadline=None)
@given(changes=timing_changes(), step=st.sampled_from([1.0, 7.0, 30.0]))
def test_any_setting_changes_give_the_schedule_the_settings_say(changes, step):
    checks = sorted({i * step for i in range(int(200 * 60 / step))} | {at for at, _ in changes})
    scheduler = PromptScheduler(changes[0][1])
    scheduler.session_started(0.0)
    pending = list(changes[1:])
    given = []
    for t in checks:
        while pending and pending[0][0] <= t:
            scheduler.configure(pending.pop(0)[1])
        given += [(kind, t) for kind in scheduler.due(t, movement_pending=False)]
    assert given == reference_schedule(changes, checks)
