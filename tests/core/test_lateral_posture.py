"""Leans, twists, perches and slumps (SPEC section 3) at their thresholds."""

import pytest

from tests.signals import Signal, of_type, run


def seated(rate=80):
    return Signal(rate).hold(1).ramp(10, 60, ramp_s=0.5)


@pytest.mark.parametrize(
    "lat, seconds, expected",
    [
        (0.25, 12, "lean"),  # long enough
        (-0.25, 12, "lean"),
        (0.25, 7, None),  # too short (7 s, + the 2 s end hold), peak below twist_peak
        (0.35, 5, "twist"),  # brief and far
        (-0.31, 2, "twist"),
        (0.19, 60, None),  # below lean_start: never an excursion
    ],
)
def test_lateral_excursions(lat, seconds, expected):
    s = seated().ramp(seconds, 60, lat=lat, ramp_s=0.3).ramp(20, 60, lat=0.0, ramp_s=0.3)
    events, _ = run(*s.frames(noise_counts=150))
    leans, twists = of_type(events, "lean"), of_type(events, "twist")
    if expected is None:
        assert not leans and not twists
        return
    (event,) = leans if expected == "lean" else twists
    assert (not leans) if expected == "twist" else (not twists)
    assert event.side == ("right" if lat > 0 else "left")
    assert event.start == pytest.approx(11.0, abs=0.5)
    # It ends when |lat| < lean_end has held 2 s: at the end of that hold.
    assert event.end == pytest.approx(11.0 + seconds + 2, abs=0.5)
    assert event.peak == pytest.approx(abs(lat), abs=0.02)
    if expected == "lean":
        assert event.detected_at == pytest.approx(event.start + 10, abs=0.3)
    else:
        assert event.detected_at == pytest.approx(event.end, abs=0.3)  # known at its end


def test_lean_survives_a_dip_shorter_than_the_end_hold():
    s = seated().ramp(6, 60, lat=0.3, ramp_s=0.2).ramp(1.5, 60, lat=0.1, ramp_s=0.1).ramp(6, 60, lat=0.3, ramp_s=0.1)
    s.ramp(10, 60, lat=0.0, ramp_s=0.2)
    events, _ = run(*s.frames(noise_counts=150))
    (lean,) = of_type(events, "lean")
    assert lean.end - lean.start == pytest.approx(15.5, abs=0.5)
    assert not of_type(events, "twist")


def test_lean_is_cut_at_standing_up():
    s = seated().ramp(30, 60, lat=-0.3).ramp(20, 0, lat=0.0, ramp_s=0.1)
    events, _ = run(*s.frames(noise_counts=150))
    (lean,) = of_type(events, "lean")
    (stand,) = of_type(events, "stand")
    assert lean.end <= stand.t + 0.01


@pytest.mark.parametrize(
    "sag, seconds, expected", [(0.35, 31, "perch"), (0.35, 28, None), (-0.35, 40, "slump"), (0.28, 120, None)]
)
def test_perch_and_slump(sag, seconds, expected):
    s = seated().ramp(seconds, 60, sag=sag, ramp_s=0.3).ramp(20, 60, sag=0.0, ramp_s=0.3)
    events, _ = run(*s.frames(noise_counts=150))
    found = of_type(events, "perch") + of_type(events, "slump")
    if expected is None:
        assert not found
        return
    (event,) = found
    assert event.type == expected
    assert event.start == pytest.approx(11.25, abs=0.4)
    assert event.end == pytest.approx(11.0 + seconds, abs=0.5)
    assert event.detected_at == pytest.approx(event.start + 30, abs=0.3)


def test_same_events_at_10_and_80_hz():
    def build(rate):
        s = seated(rate).ramp(15, 60, lat=0.3).ramp(10, 60, lat=0.0).ramp(4, 60, lat=-0.4).ramp(10, 60, lat=0)
        s.ramp(40, 60, sag=0.4).ramp(10, 60, sag=0)
        return run(*s.frames(noise_counts=150))[0]

    fast, slow = build(80), build(10)
    assert [e.type for e in fast] == [e.type for e in slow]
    for a, b in zip(fast, slow):
        for key in ("t", "start", "end"):
            if hasattr(a, key):
                assert getattr(a, key) == pytest.approx(getattr(b, key), abs=0.25)


# -- SPEC section 3 (changed): a swing straight to the other side is two excursions ---------------


@pytest.mark.parametrize("rate", [80, 10])
@pytest.mark.parametrize("block", [None, 7])
def test_a_lean_that_swings_straight_to_the_other_side_is_two_leans(rate, block):
    """A rider leaning the way they steer: left 12 s, then within one frame right 12 s."""
    swing = 1.0 / rate
    s = seated(rate).ramp(12, 60, lat=-0.3, ramp_s=0.3).ramp(12, 60, lat=0.3, ramp_s=swing)
    s.ramp(20, 60, lat=0.0, ramp_s=0.3)
    events, _ = run(*s.frames(noise_counts=150), block=block)
    left, right = of_type(events, "lean")
    assert (left.side, right.side) == ("left", "right")
    assert left.start == pytest.approx(11.0, abs=0.5)
    assert right.start == pytest.approx(23.0, abs=0.3)  # where it crossed 0.20 on the right
    assert left.end == pytest.approx(23.0, abs=0.3)  # no hold under 0.14: it ended at the swing
    assert right.end == pytest.approx(35.0 + 2, abs=0.5)
    assert left.peak == pytest.approx(0.3, abs=0.02) and right.peak == pytest.approx(0.3, abs=0.02)
    assert not of_type(events, "twist")


@pytest.mark.parametrize("rate", [80, 10])
def test_a_lean_then_a_brief_reach_to_the_other_side_is_a_lean_and_a_twist(rate):
    s = seated(rate).ramp(12, 60, lat=-0.3, ramp_s=0.3).ramp(3, 60, lat=0.4, ramp_s=0.2)
    s.ramp(20, 60, lat=0.0, ramp_s=0.3)
    events, _ = run(*s.frames(noise_counts=150))
    (lean,) = of_type(events, "lean")
    (twist,) = of_type(events, "twist")
    assert (lean.side, twist.side) == ("left", "right")
    assert twist.peak == pytest.approx(0.4, abs=0.02) and lean.peak == pytest.approx(0.3, abs=0.02)
    assert lean.end <= twist.start + 0.01


@pytest.mark.parametrize("rate", [80, 10])
def test_a_slow_swing_that_holds_under_the_end_threshold_is_two_as_before(rate):
    """Across zero slowly enough to stay under 0.14 for 2 s: the first ends by its hold."""
    s = seated(rate).ramp(12, 60, lat=-0.3, ramp_s=0.3).ramp(3, 60, lat=0.0, ramp_s=0.5)
    s.ramp(12, 60, lat=0.3, ramp_s=0.5).ramp(20, 60, lat=0.0, ramp_s=0.3)
    events, _ = run(*s.frames(noise_counts=150))
    left, right = of_type(events, "lean")
    assert (left.side, right.side) == ("left", "right")
    assert left.end == pytest.approx(23.2 + 2, abs=0.5)  # the 2 s hold completed
    assert right.start == pytest.approx(26.2, abs=0.5)


@pytest.mark.parametrize("rate", [80, 10])
def test_a_lean_takes_the_side_it_started_on(rate):
    """Left 12 s then 20 s right: before, one lean on the side of its mean (right)."""
    s = seated(rate).ramp(12, 60, lat=-0.25, ramp_s=0.3).ramp(20, 60, lat=0.25, ramp_s=1.0 / rate)
    s.ramp(20, 60, lat=0.0, ramp_s=0.3)
    events, _ = run(*s.frames(noise_counts=150))
    assert [lean.side for lean in of_type(events, "lean")] == ["left", "right"]
