"""Seated / away, sessions and breaks on hand-built signals (SPEC section 3)."""

import pytest

from tests.signals import Signal, of_type, run


def test_sit_and_stand_times_are_the_crossings():
    t, raw = Signal().hold(5).ramp(60, 50, ramp_s=0.01).ramp(90, 0, ramp_s=0.01).frames(noise_counts=200)
    events, pipeline = run(t, raw)
    (sit,) = of_type(events, "sit")
    (stand,) = of_type(events, "stand")
    assert sit.t == pytest.approx(5.0, abs=0.1)
    assert sit.detected_at == pytest.approx(6.5, abs=0.2)
    assert stand.t == pytest.approx(65.0, abs=0.1)
    assert stand.detected_at == pytest.approx(66.5, abs=0.2)


@pytest.mark.parametrize(
    "load, seconds, sits",
    [
        (15.3, 1.7, 1),  # at the threshold, held long enough
        (15.3, 1.3, 0),  # held too briefly
        (14.7, 30, 0),  # just below the threshold
        (5.0, 600, 0),  # a bag or laptop is never a person
    ],
)
def test_seated_threshold_and_hold(load, seconds, sits):
    t, raw = Signal().hold(2).ramp(seconds, load, ramp_s=0.01).ramp(5, 0, ramp_s=0.01).frames(noise_counts=100)
    events, _ = run(t, raw)
    assert len(of_type(events, "sit")) == sits


@pytest.mark.parametrize("load, seconds, stands", [(9.7, 1.7, 1), (9.7, 1.3, 0), (10.3, 30, 0)])
def test_away_threshold_and_hold(load, seconds, stands):
    s = Signal().hold(1).ramp(30, 50, ramp_s=0.01).ramp(seconds, load, ramp_s=0.01).ramp(30, 50, ramp_s=0.01)
    events, _ = run(*s.frames(noise_counts=100))
    assert len(of_type(events, "stand")) == stands


def test_short_absence_does_not_end_the_session():
    s = Signal(10).hold(1).ramp(600, 60).ramp(45, 0).ramp(600, 60)
    events, pipeline = run(*s.frames(noise_counts=100))
    assert len(of_type(events, "stand")) == 1 and len(of_type(events, "sit")) == 2
    assert len(pipeline.sessions) == 1
    assert pipeline.sessions[0].end is None
    assert pipeline.session_tracker.breaks == 0


def test_absence_of_a_minute_is_a_break_and_ends_the_session_at_stand_up():
    s = Signal(10).hold(1).ramp(600, 60, ramp_s=0.01).ramp(61.5, 0, ramp_s=0.01).ramp(600, 60, ramp_s=0.01)
    events, pipeline = run(*s.frames(noise_counts=100))
    assert len(pipeline.sessions) == 2
    first, second = pipeline.sessions
    assert first.end == pytest.approx(601.0, abs=0.15)
    assert second.start == pytest.approx(662.5, abs=0.15)
    assert pipeline.session_tracker.breaks == 1


def test_absence_just_under_a_minute_is_not_a_break():
    s = Signal(10).hold(1).ramp(600, 60).ramp(58.0, 0).ramp(600, 60)
    _, pipeline = run(*s.frames(noise_counts=100))
    assert len(pipeline.sessions) == 1 and pipeline.session_tracker.breaks == 0


@pytest.mark.parametrize("rate", [80, 10])
@pytest.mark.parametrize("absence_s, breaks", [(58.6, 0), (59.6, 0), (60.4, 1)])
def test_an_absence_is_measured_from_standing_up_to_sitting_down(rate, absence_s, breaks):
    # The sit hold (1.5 s) runs after the load is back: an absence of 59.6 s
    # must not turn into a break while that hold is still running.
    s = Signal(rate).hold(1).ramp(600, 60, ramp_s=0.01).ramp(absence_s, 0, ramp_s=0.01).ramp(300, 60, ramp_s=0.01)
    events, pipeline = run(*s.frames(noise_counts=100))
    stand, sit = of_type(events, "stand")[0], of_type(events, "sit")[1]
    assert sit.t - stand.t == pytest.approx(absence_s, abs=0.15)
    assert pipeline.session_tracker.breaks == breaks
    assert len(pipeline.sessions) == 1 + breaks
