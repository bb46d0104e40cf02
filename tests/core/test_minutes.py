"""Per-minute summaries (device/core/minutes.py): time and events into wall-clock minutes."""

from datetime import datetime, timedelta

import pytest

from device.core.events import Fidget, Lean, Prompt, Twist
from device.core.minutes import Minute, MinuteAccumulator, merge_minutes, minute_key

START = datetime(2026, 3, 2, 9, 0, 0).astimezone()  # frame time 0


def accumulator():
    return MinuteAccumulator(lambda t: START + timedelta(seconds=t))


def by_minute(rows):
    return {row.minute[-5:]: row for row in rows}


def test_seated_time_goes_to_the_minute_of_each_slice():
    minutes = accumulator()
    for step in range(1, 901):  # 90 s in 0.1 s slices, seated, leaning a little right
        minutes.add_time(step / 10, 0.1, True, 0.1, -0.2)
    rows = by_minute(minutes.take())
    assert rows["09:00"].seated_s == pytest.approx(59.9, abs=0.11) and rows["09:01"].seated_s == pytest.approx(
        30.1, abs=0.11
    )
    assert rows["09:00"].lat_mean == pytest.approx(0.1) and rows["09:00"].sag_mean == pytest.approx(-0.2)


def test_time_away_counts_nothing_and_a_minute_without_balance_has_no_mean():
    minutes = accumulator()
    minutes.add_time(10.0, 10.0, False, None, None)
    minutes.add_time(20.0, 10.0, True, None, None)  # seated, but no usable balance (a fault)
    (row,) = minutes.take()
    assert (row.seated_s, row.lat_mean, row.sag_mean) == (10.0, None, None)


def test_events_count_in_their_minute_and_a_lean_spreads_over_the_minutes_it_covers():
    minutes = accumulator()
    minutes.add_event(Fidget(30.0, 20.0, 31.0))
    minutes.add_event(Twist("left", 61.0, 63.0, 0.4, 63.0))
    minutes.add_event(Prompt("move", 62.0, 62.0))
    minutes.add_event(Lean("right", 50.0, 140.0, 0.3, 60.0))
    rows = by_minute(minutes.take())
    assert rows["09:00"].fidgets == 1 and rows["09:01"].twists == 1 and rows["09:01"].prompts == 1
    assert [rows[m].lean_right_s for m in ("09:00", "09:01", "09:02")] == pytest.approx([10.0, 60.0, 20.0])
    assert all(row.lean_left_s == 0 for row in rows.values())


def test_take_hands_out_each_slice_once_and_put_back_hands_it_out_again():
    minutes = accumulator()
    minutes.add_time(5.0, 5.0, True, 0.0, 0.0)
    first = minutes.take()
    assert minutes.take() == []
    minutes.put_back(first)
    assert minutes.take() == first


def test_merging_adds_up_weights_the_means_and_keeps_a_minute_to_sixty_seconds():
    a = Minute("2026-03-02T09:00", seated_s=20.0, lat_mean=0.1, sag_mean=0.0, fidgets=1, lean_left_s=5.0)
    b = Minute("2026-03-02T09:00", seated_s=60.0, lat_mean=0.3, sag_mean=0.4, fidgets=2, lean_left_s=58.0)
    (merged,) = merge_minutes([a, b])
    assert merged.seated_s == 60.0 and merged.lean_left_s == 60.0  # a wall clock that stepped back
    assert merged.lat_mean == pytest.approx((0.1 * 20 + 0.3 * 60) / 80) and merged.fidgets == 3


def test_minute_keys_are_local_time():
    assert minute_key(START + timedelta(seconds=61)) == START.strftime("%Y-%m-%dT09:01")
    assert minute_key(
        "2026-03-02T09:05:30" + START.strftime("%z")[:3] + ":" + START.strftime("%z")[3:]
    ) == START.strftime("%Y-%m-%dT09:05")
