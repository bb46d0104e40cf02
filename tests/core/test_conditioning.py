"""The per-frame stage (device/core/conditioning.py) on its own: spikes, rejects, bins."""

import numpy as np
import pytest

from device.config import Calibration, Detect
from device.core.conditioning import FrameConditioner
from device.core.frames import MISSING

# One count a gram: kg readable straight off the counts; spike_kg 5 is 5000 counts.
CAL = Calibration(offset=(0.0, 0.0, 0.0, 0.0), counts_per_kg=(1000.0, 1000.0, 1000.0, 1000.0))
RATE = 80


def frames(fl_kg, rate=RATE):
    """Frames whose fl channel reads these loads (the others a steady 20 kg), at `rate`."""
    fl = np.asarray(fl_kg, dtype=np.float64)
    t = np.arange(len(fl)) / rate
    raw = np.column_stack([np.round(fl * 1000), *(np.full(len(fl), 20_000) for _ in range(3))]).astype(np.int64)
    return t, raw


def condition(t, raw, block=None):
    conditioner = FrameConditioner(CAL, Detect())
    out = []
    step = len(t) if block is None else block
    for i in range(0, len(t), step):
        out.append(conditioner.push(t[i : i + step], raw[i : i + step]))
    out.append(conditioner.flush())
    keys = ("t_first", "kg", "n_valid", "n_glitches", "n_rejected", "n_missing")
    return {k: np.concatenate([getattr(b, k) for b in out]) for k in keys}


def fl_valid(bins):
    return bins["n_valid"][:, 0].sum()


@pytest.mark.parametrize("run", [1, 2])
def test_one_or_two_readings_far_from_agreeing_neighbours_are_a_spike(run):
    readings = [20.0] * 40
    readings[20 : 20 + run] = [80.0] * run  # a flipped bit: 60 kg away, and straight back
    bins = condition(*frames(readings))
    assert fl_valid(bins) == 40 - run  # rejected ...
    assert np.nanmax(bins["kg"][:, 0]) == pytest.approx(20.0)  # ... so no bin sees 80 kg
    assert bins["n_glitches"][:, 0].sum() == run  # each noted as a glitch (for the fault monitor)


def test_three_readings_running_are_a_real_change_not_a_spike():
    readings = [20.0] * 20 + [80.0] * 3 + [20.0] * 20
    bins = condition(*frames(readings))
    assert fl_valid(bins) == 43 and np.nanmax(bins["kg"][:, 0]) > 40


def test_a_jump_that_stays_is_a_step_not_a_spike():
    bins = condition(*frames([20.0] * 20 + [60.0] * 20))
    assert fl_valid(bins) == 40 and bins["n_glitches"][:, 0].sum() == 0


def test_neighbours_that_disagree_make_no_spike():
    """A reading between two that differ by more than spike_kg is movement, not a flipped bit."""
    bins = condition(*frames([20.0] * 20 + [60.0] + [40.0] * 20))
    assert fl_valid(bins) == 41


def test_a_change_smaller_than_spike_kg_is_kept():
    readings = [20.0] * 20 + [24.0] + [20.0] * 20  # 4 kg: under spike_kg 5
    assert fl_valid(condition(*frames(readings))) == 41


@pytest.mark.parametrize("block", [None, 1, 3, 7])
def test_blocks_of_any_size_give_the_same_bins(block):
    rng = np.random.default_rng(3)
    readings = 20 + rng.normal(0, 0.2, 400)
    for i in rng.choice(np.arange(5, 395), 12, replace=False):
        readings[i] += rng.choice([-1, 1]) * rng.uniform(6, 200)
    whole = condition(*frames(readings))
    pieces = condition(*frames(readings), block=block)
    for key, value in whole.items():
        assert np.array_equal(value, pieces[key], equal_nan=True), key


def test_rails_impossible_and_missing_readings_are_rejected_not_averaged():
    t, raw = frames([20.0] * 40)
    raw[10, 0] = 8388607  # a rail
    raw[20, 0] = 300_000  # 300 kg on a corner: impossible (corner_max_kg 250)
    raw[30, 0] = MISSING  # no reading
    bins = condition(t, raw)
    assert fl_valid(bins) == 37 and bins["n_missing"][:, 0].sum() == 1
    assert np.nanmax(bins["kg"][:, 0]) == pytest.approx(20.0)


def test_a_spike_at_the_very_start_or_end_of_a_recording_is_kept():
    """With nothing on one side there is no agreeing pair to judge it against."""
    bins = condition(*frames([80.0] + [20.0] * 40 + [80.0]))
    assert fl_valid(bins) == 42


@pytest.mark.parametrize("rate", [80, 10])
def test_bins_are_tenths_of_a_second_at_either_rate(rate):
    bins = condition(*frames([20.0] * (rate * 2), rate=rate))
    assert len(bins["t_first"]) == pytest.approx(20, abs=1)
    assert np.allclose(bins["kg"][:, 1:], 20.0)
