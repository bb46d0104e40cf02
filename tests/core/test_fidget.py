"""Fidgets (SPEC section 3): quick shifts, not drift, not sitting down or standing up."""

import pytest

from tests.signals import Signal, of_type, run

WIDTH = 400.0


def lat_for(mm):
    return mm / (WIDTH / 2)


def seated(rate=80):
    return Signal(rate).hold(1).ramp(10, 60, ramp_s=0.5)


def test_quick_shift_is_one_fidget_reported_within_4_s():
    s = seated().ramp(10, 60, lat=lat_for(25), sag=0.05, ramp_s=0.5)
    events, _ = run(*s.frames(noise_counts=150))
    (fidget,) = of_type(events, "fidget")
    assert fidget.t == pytest.approx(11.0, abs=0.5)
    assert fidget.size_mm == pytest.approx(29.7, abs=4)
    assert 0 < fidget.detected_at - fidget.t <= 4.0


@pytest.mark.parametrize(
    "shift_mm, seconds, count",
    [
        (12, 0.3, 0),  # too small
        (30, 20, 0),  # slow drift
        (20, 0.4, 1),
    ],
)
def test_size_and_speed_edges(shift_mm, seconds, count):
    s = seated().ramp(seconds + 10, 60, lat=lat_for(shift_mm), ramp_s=seconds)
    events, _ = run(*s.frames(noise_counts=150))
    assert len(of_type(events, "fidget")) == count


def test_movements_closer_than_a_second_are_one_fidget():
    s = seated().ramp(0.9, 60, lat=lat_for(20), ramp_s=0.4).ramp(10, 60, lat=0.0, ramp_s=0.4)
    events, _ = run(*s.frames(noise_counts=150))
    assert len(of_type(events, "fidget")) == 1


def test_movements_two_seconds_apart_are_two_fidgets():
    s = seated().ramp(2.5, 60, lat=lat_for(20), ramp_s=0.4).ramp(10, 60, lat=0.0, ramp_s=0.4)
    events, _ = run(*s.frames(noise_counts=150))
    assert len(of_type(events, "fidget")) == 2


def test_sitting_down_and_standing_up_are_not_fidgets():
    s = Signal().hold(1).ramp(1.0, 60, sag=0.1, ramp_s=0.7).ramp(1.5, 60, lat=lat_for(30), ramp_s=0.4)
    s.ramp(20, 60, lat=0, ramp_s=8).ramp(1.0, 60, lat=lat_for(-30), ramp_s=0.4).ramp(5, 0, ramp_s=0.6)
    events, _ = run(*s.frames(noise_counts=150))
    assert not of_type(events, "fidget")


def test_twist_is_not_a_fidget():
    s = seated().ramp(3, 60, lat=0.4, ramp_s=0.4).ramp(10, 60, lat=0.0, ramp_s=0.4)
    events, _ = run(*s.frames(noise_counts=150))
    assert len(of_type(events, "twist")) == 1
    assert not of_type(events, "fidget")


def test_breathing_and_sway_are_not_fidgets():
    import numpy as np

    from tests.signals import CAL, corners

    rate = 80
    t = np.arange(0, 300, 1 / rate)
    total = np.where(t > 1, 60.0 + 0.3 * np.sin(2 * np.pi * 0.25 * t), 0.0)
    sag = 0.015 * np.sin(2 * np.pi * 0.25 * t) + 0.02 * np.sin(2 * np.pi * 0.01 * t)
    lat = 0.02 * np.sin(2 * np.pi * 0.013 * t)
    kg = np.stack(corners(total, lat, sag), axis=1)
    raw = np.round(np.asarray(CAL.offset) + kg * np.asarray(CAL.counts_per_kg)).astype(np.int64)
    events, _ = run(t, raw)
    assert not of_type(events, "fidget")


def _sagittal_shifts(rate, mm, seconds, t_offset=0.0, shifts=6):
    """Seated, then `shifts` moves of `mm` forward and back, each over `seconds`."""
    s = seated(rate)
    for k in range(shifts):
        s.ramp(seconds + 8, 60, sag=(mm / 200.0) * ((k + 1) % 2), ramp_s=seconds)
    t, raw = s.frames(noise_counts=400, seed=int(rate * 10))
    return t + t_offset, raw


@pytest.mark.parametrize(
    "rate, t_offset",
    [
        (80, 0.0),  # t = k / 80: every eighth frame on a bin edge
        (10, 0.0),
        (10, 0.05),  # every frame exactly on a bin edge
        (10.4, 0.0),  # an oscillator 4% fast: now and then two frames in a bin
        (9.7, 0.0),
    ],
)
def test_the_speed_threshold_does_not_depend_on_the_frame_rate_or_phase(rate, t_offset):
    slow = run(*_sagittal_shifts(rate, mm=35, seconds=1.0, t_offset=t_offset))[0]  # 35 mm/s
    brisk = run(*_sagittal_shifts(rate, mm=45, seconds=1.0, t_offset=t_offset))[0]  # 45 mm/s
    assert of_type(slow, "fidget") == []
    assert len(of_type(brisk, "fidget")) == 6
