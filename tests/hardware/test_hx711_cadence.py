"""ReadyCadence: when the HX711 reader looks at DOUT again (pure timing logic).

The reader sleeps until just before the next conversion and then polls; these
tests drive the cadence with simulated ready times (no pins, no clock) and
check what a user of the cushion would notice: no conversion is ever slept
through, and the looks (wake-ups of the process) per frame stay few.
"""

import random

import pytest

from device.hardware.hx711.cadence import FAST_RATE_MARGIN, ReadyCadence

NOMINAL = 1 / 80
POLL = NOMINAL / 50


def run_reader(true_period, frames=400, jitter_s=0.0, seed=0, start=0.0031, late_every=0, late_s=0.0):
    """Simulate the reader's wait loop against chips ready at start + k * true_period.

    Every `late_every`-th sleep wakes `late_s` late (a loaded machine).
    Returns (looks per frame, conversions slept through, cadence).
    """
    rng = random.Random(seed)
    cadence = ReadyCadence(NOMINAL, POLL)
    ready_times = [start + k * true_period for k in range(frames + 2)]
    look_at = None  # None: look at once
    now = 0.0
    looks = missed = 0
    for k in range(frames):
        ready = ready_times[k]
        if look_at is not None and look_at > now:
            now = look_at + rng.uniform(0, jitter_s)  # sleep wakes late, never early
            if late_every and k % late_every == late_every - 1:
                now += late_s
        last_busy = None
        while True:
            looks += 1
            if now >= ready:
                break
            last_busy = now
            now += POLL + rng.uniform(0, jitter_s)
        if now >= ready_times[k + 1]:
            missed += 1  # conversion k was overwritten
        look_at = cadence.ready(last_busy, now)
        now += 0.0003  # the 25-pulse read
    return looks / frames, missed, cadence


@pytest.mark.parametrize("rate_hz", [72, 80, 86, 92])
def test_learns_a_boards_own_rate_and_never_sleeps_through_a_conversion(rate_hz):
    looks, missed, cadence = run_reader(1 / rate_hz, jitter_s=50e-6)
    assert missed == 0
    assert cadence.period_s == pytest.approx(1 / rate_hz, abs=POLL / 2)
    assert looks < 4.0  # polling from period / 1.25 on took about 11


def test_first_waits_start_from_the_fastest_board_so_they_cannot_oversleep():
    cadence = ReadyCadence(NOMINAL, POLL)
    assert cadence.period_s == pytest.approx(NOMINAL / FAST_RATE_MARGIN)
    looks, missed, _ = run_reader(NOMINAL / FAST_RATE_MARGIN * 0.98, frames=5)
    assert missed == 0


def test_waking_late_shortens_the_estimate_and_polls_until_it_brackets_again():
    cadence = ReadyCadence(NOMINAL, POLL)
    cadence.period_s = NOMINAL
    assert cadence.ready(None, 1.0) is None  # ready at the first look: poll next time
    assert cadence.period_s == pytest.approx(NOMINAL - cadence.guard_s)


def test_a_late_wake_up_costs_a_few_looks_not_a_period_of_polling():
    # One sleep in ten wakes a millisecond late (past the guard): the chips
    # are ready at the first look. Polling the next whole period each time
    # came to 8.3 looks a frame; keeping the phase, 4.6 (3.8 with no late wake).
    looks, missed, cadence = run_reader(NOMINAL, jitter_s=50e-6, late_every=10, late_s=1e-3)
    assert missed == 0
    assert looks < 5.0
    assert cadence.period_s == pytest.approx(NOMINAL, abs=4 * POLL)


def test_a_too_long_estimate_is_corrected_without_losing_conversions():
    # A 92 SPS board behind an estimate of 80 SPS: each wake is late until the
    # estimate has come down; no conversion may be lost meanwhile.
    rng = random.Random(3)
    cadence = ReadyCadence(NOMINAL, POLL)
    cadence.period_s = NOMINAL
    true_period = 1 / 92
    look_at, now, missed = None, 0.0, 0
    for k in range(200):
        ready = 0.002 + k * true_period
        if look_at is not None and look_at > now:
            now = look_at + rng.uniform(0, 30e-6)
        last_busy = None
        while now < ready:
            last_busy = now
            now += POLL
        missed += now >= ready + true_period
        look_at = cadence.ready(last_busy, now)
        now += 0.0003
    assert missed == 0
    assert cadence.period_s == pytest.approx(true_period, abs=POLL / 2)


def test_gaps_of_skipped_conversions_do_not_move_the_estimate():
    cadence = ReadyCadence(NOMINAL, POLL)
    cadence.period_s = NOMINAL
    cadence.ready(0.0100, 0.0102)
    cadence.ready(0.0100 + 2 * NOMINAL, 0.0102 + 2 * NOMINAL)  # one frame dropped
    assert cadence.period_s == NOMINAL


def test_after_a_reset_the_next_gap_is_not_taken_for_a_period():
    cadence = ReadyCadence(NOMINAL, POLL)
    cadence.period_s = NOMINAL
    cadence.ready(0.0100, 0.0102)
    cadence.forget()
    cadence.ready(0.0100 + 0.7 * NOMINAL, 0.0102 + 0.7 * NOMINAL)
    assert cadence.period_s == NOMINAL


def test_next_look_is_a_guard_before_the_predicted_conversion():
    cadence = ReadyCadence(NOMINAL, POLL)
    cadence.period_s = NOMINAL
    look = cadence.ready(1.0, 1.0 + POLL)
    assert look == pytest.approx(1.0 + NOMINAL - cadence.guard_s)
    assert cadence.guard_s >= 2 * POLL
