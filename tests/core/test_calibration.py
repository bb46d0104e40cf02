"""Tare and calibration arithmetic, channel health and the config edit (device/core/calibration.py).

Pure: arrays in, numbers and sentences out. The commands that read the
sensor around this are in tests/test_commands.py.
"""

from __future__ import annotations

import math
import tomllib

import numpy as np
import pytest

from device.config import Calibration, config_from_dict
from device.config.toml_edit import stamp_comment, update_calibration_toml
from device.core.calibration import (
    Readings,
    Refused,
    assess,
    calibration_warnings,
    channel_health,
    is_tared,
    load_kg,
    placement_loads,
    robust_noise,
    solve_counts_per_kg,
    zero_at,
)
from device.sim.sitter import DEMO_CALIBRATION, corner_loads

CPK = np.array(DEMO_CALIBRATION.counts_per_kg)  # fr is negative: mounted upside down
OFFSET = np.array(DEMO_CALIBRATION.offset)
CORNERS = ((-1, 1), (1, 1), (-1, -1), (1, -1))  # fl, fr, bl, br as (x, y) signs
RATE = 80


def placements(inset_mm=(45, 45, 45, 45), half_mm=200.0):
    """Corner loads (kg per 1 kg) of a weight near each corner, ``inset_mm`` in on both axes."""
    rows = []
    for (sx, sy), inset in zip(CORNERS, inset_mm):
        rows.append(corner_loads(1.0, sx * (half_mm - inset) / half_mm, sy * (half_mm - inset) / half_mm))
    return np.array(rows)


def window(kg_of_t, seconds=3.0, noise_kg=0.02, seed=0, cpk=CPK, offset=OFFSET):
    """Readings of a board whose corner loads are kg_of_t(t) -> (n, 4)."""
    rng = np.random.default_rng(seed)
    t = np.arange(0, seconds, 1 / RATE)
    kg = np.broadcast_to(kg_of_t(t), (len(t), 4)) + rng.normal(0, noise_kg, (len(t), 4))
    return Readings.from_arrays(t, np.rint(offset + kg * cpk))


# -- the 4x4 solve -------------------------------------------------------------


def test_solve_recovers_counts_per_kg_exactly_including_a_negative_one():
    weight = 10.0
    deltas = placements() * weight * CPK
    found = solve_counts_per_kg(deltas, weight)
    np.testing.assert_allclose(found, CPK, rtol=1e-6)
    assert found[1] < 0


def test_solve_is_right_wherever_the_weight_stood_as_long_as_placements_differ():
    # Far from the cells (a quarter of the way in, unequal insets): a naive
    # "this corner carried it all" calibration would be off by 20-45 %.
    deltas = placements(inset_mm=(100, 30, 70, 55)) * 7.5 * CPK
    np.testing.assert_allclose(solve_counts_per_kg(deltas, 7.5), CPK, rtol=1e-6)
    naive = np.diag(deltas) / 7.5
    assert np.all(np.abs(naive / CPK - 1) > 0.1)


def test_solve_on_noisy_data_is_within_half_a_percent():
    rng = np.random.default_rng(7)
    weight, noise = 10.0, 0.02 * 21000 / math.sqrt(160)  # 20 g readings averaged over 2 s
    for _ in range(50):
        empty = rng.normal(0, noise, 4)
        deltas = placements(rng.uniform(30, 60, 4)) * weight * CPK + rng.normal(0, noise, (4, 4)) - empty
        found = solve_counts_per_kg(deltas, weight)
        assert np.abs(found / CPK - 1).max() < 0.005


def test_weight_not_moved_is_refused():
    deltas = placements() * 10 * CPK
    deltas[1] = deltas[0] * 1.001
    with pytest.raises(Refused, match="fl and on fr are the same"):
        solve_counts_per_kg(deltas, 10)


def test_placements_near_the_middle_are_refused():
    deltas = placements(inset_mm=(170, 170, 170, 170)) * 10 * CPK
    with pytest.raises(Refused, match="condition number"):
        solve_counts_per_kg(deltas, 10)


def test_placements_on_the_edge_midpoints_are_singular_and_refused():
    # front, right, back, left: front + back = left + right, whatever the weight.
    rows = [corner_loads(1.0, lat, sag) for lat, sag in ((0, 0.9), (0.9, 0), (0, -0.9), (-0.9, 0))]
    with pytest.raises(Refused, match="too much alike"):
        solve_counts_per_kg(np.array(rows) * 10 * CPK, 10)


def test_dead_channel_is_refused_by_name():
    rng = np.random.default_rng(1)
    deltas = placements() * 10 * CPK
    deltas[:, 2] = rng.normal(0, 300, 4)  # bl reads noise only
    with pytest.raises(Refused, match="bl hardly responds"):
        solve_counts_per_kg(deltas, 10, noise=np.full(4, 300.0))


def test_a_placement_with_nothing_on_the_board_is_refused():
    deltas = placements() * 10 * CPK
    deltas[3] = [50, -40, 30, 20]
    with pytest.raises(Refused, match="on br"):
        solve_counts_per_kg(deltas, 10)


def test_missing_readings_are_refused():
    deltas = placements() * 10 * CPK
    deltas[0, 0] = np.nan
    with pytest.raises(Refused, match="no readings"):
        solve_counts_per_kg(deltas, 10)


def test_warnings_point_at_swapped_channels_and_unequal_cells():
    deltas = placements() * 10 * CPK
    assert calibration_warnings(deltas, CPK, 10) == []
    swapped = deltas[:, [1, 0, 2, 3]]  # fl and fr DOUT wires swapped
    cpk = solve_counts_per_kg(swapped, 10)
    text = " ".join(calibration_warnings(swapped, cpk, 10))
    assert "fl and fr swapped" in text
    odd = CPK * [1, 1, 1, 3]
    assert any("factor of" in w for w in calibration_warnings(placements() * 10 * odd, odd, 10))


def test_placement_loads_add_up_to_the_weight():
    deltas = placements(inset_mm=(30, 60, 40, 50)) * 12 * CPK
    loads = placement_loads(deltas, solve_counts_per_kg(deltas, 12))
    np.testing.assert_allclose(loads.sum(axis=1), 12, rtol=1e-9)
    assert np.all(np.argmax(loads, axis=1) == [0, 1, 2, 3])


# -- steady readings -------------------------------------------------------------


def empty(t):
    return np.zeros((len(t), 4))


def test_noise_alone_is_steady():
    verdict = assess(window(empty), CPK)
    assert verdict.stable, verdict.problems
    np.testing.assert_allclose(verdict.means, OFFSET, atol=0.01 * 21000)
    assert all(15 < c.noise_kg * 1000 < 25 for c in verdict.channels)


def test_a_noisy_but_still_board_is_steady():
    # 100 g of noise: poor wiring, but nothing moving; tare must still be possible.
    assert assess(window(empty, noise_kg=0.1, seed=3), CPK).stable


def test_a_trend_is_refused():
    def creeping(t):
        kg = np.zeros((len(t), 4))
        kg[:, 2] = 0.025 * t  # bl creeps by 75 g in 3 s
        return kg

    verdict = assess(window(creeping), CPK)
    assert not verdict.stable
    assert len(verdict.problems) == 1 and verdict.problems[0].startswith("bl drifts by +")


def test_a_person_breathing_is_refused():
    def seated(t):
        breath = np.sin(2 * np.pi * 0.25 * t)
        sag = 0.01 * breath  # 2 mm of breathing on a 400 mm board
        return corner_loads(55.0 + 0.25 * breath, 0.02, sag)

    verdict = assess(window(seated), CPK)
    assert not verdict.stable
    assert any("moves by" in p for p in verdict.problems)


def test_a_hand_on_the_chair_is_refused():
    def touched(t):
        kg = np.zeros((len(t), 4))
        kg[(t > 1.0) & (t < 1.6), :2] = 0.8
        return kg

    verdict = assess(window(touched), CPK)
    assert [p[:12] for p in verdict.problems] == ["fl moves by ", "fr moves by "]


def test_a_silent_channel_is_refused():
    readings = window(empty)
    raw = readings.raw
    raw[:, 3] = np.nan
    verdict = assess(Readings.from_arrays(readings.t, raw), CPK)
    assert verdict.problems == (verdict.channels[3].problem,)
    assert "br gave readings in only 0" in verdict.problems[0]


def test_readings_last_window_and_zero_interpolation():
    readings = window(empty, seconds=2.0)
    last = readings.last(0.5)
    assert last.duration_s == pytest.approx(0.5) and len(last) == 41  # both ends included
    before = assess(window(empty, seed=1), CPK)
    later = window(lambda t: np.full((len(t), 4), 0.01), seed=2)
    after = assess(Readings.from_arrays(later.t + 60.0, later.raw), CPK)  # a minute on
    middle = zero_at((before.t_mid + after.t_mid) / 2, before, after)
    np.testing.assert_allclose(middle, (before.means + after.means) / 2)
    np.testing.assert_allclose(zero_at(after.t_mid, before, after), after.means)


def test_robust_noise_ignores_drift_and_a_step():
    rng = np.random.default_rng(5)
    values = rng.normal(0, 100, 2000) + np.linspace(0, 5000, 2000)
    values[1000:] += 50_000
    assert robust_noise(values) == pytest.approx(100, rel=0.1)


def test_load_kg_and_tare_state():
    assert not is_tared(Calibration())
    assert is_tared(DEMO_CALIBRATION)
    np.testing.assert_allclose(load_kg(OFFSET + 2.0 * CPK, DEMO_CALIBRATION), 2.0)


# -- cushion check -----------------------------------------------------------------


def pressed(t):
    """A hand pressing each corner in turn for 0.3 s."""
    kg = np.zeros((len(t), 4))
    for corner in range(4):
        kg[(t >= 0.3 + 0.7 * corner) & (t < 0.6 + 0.7 * corner), corner] = 5.0
    return kg


def test_health_of_a_good_board_pressed_corner_by_corner():
    health = channel_health(window(pressed), 3.0, Calibration())
    assert [h.status for h in health] == ["ok"] * 4
    assert all(h.rate_hz == pytest.approx(80, abs=1) for h in health)
    assert all(15 < h.noise_g < 25 for h in health), [h.noise_g for h in health]  # the presses left out
    assert [h.direction for h in health] == [1, -1, 1, 1]  # fr counts down
    assert all(h.sign == 1 for h in health)  # the default config


def test_health_without_a_press_has_no_direction():
    health = channel_health(window(empty), 3.0, DEMO_CALIBRATION)
    assert [h.direction for h in health] == [None] * 4
    assert [h.sign for h in health] == [1, -1, 1, 1]


def test_health_names_silent_frozen_rail_and_intermittent_channels():
    readings = window(empty)
    raw = readings.raw
    raw[:, 0] = np.nan
    raw[:, 1] = -1
    raw[::7, 2] = 8388607
    raw[::2, 3] = np.nan
    health = channel_health(Readings.from_arrays(readings.t, raw), 3.0, DEMO_CALIBRATION)
    assert [h.status for h in health] == ["silent", "frozen", "rail", "intermittent"]
    assert not any(h.answers for h in health)


# -- writing [calibration] ------------------------------------------------------------

CONFIG = """\
# My cushion, set up 2025-03-01.

[geometry]   # measured with a tape
width_mm = 410.0
depth_mm = 380.0

[calibration]  # the board in the study
offset = [0, 0, 0, 0]   # raw counts with nothing on the cushion
counts_per_kg = [21000.0, 21000.0, 21000.0, 21000.0]   # a cell mounted upside down counts down

# Wiring: see hardware/wiring.md
[sensor]
rate_hz = 10   # RATE tied low
"""


def other_lines(text):
    """Every line except the ones the calibration writes."""
    return [
        line
        for line in text.splitlines(keepends=True)
        if not line.startswith(("offset =", "counts_per_kg =", "[calibration]"))
    ]


def test_update_keeps_everything_else_byte_for_byte():
    new = update_calibration_toml(
        CONFIG,
        offset=[-120340.4, 88012, 4410, -301777],
        counts_per_kg=[21430.54, -20988.0, 22010.2, 21775.9],
        when="2025-03-04 09:12",
        weight_kg=10,
    )
    assert other_lines(new) == other_lines(CONFIG)
    assert "offset = [-120340, 88012, 4410, -301777]   # raw counts with nothing on the cushion\n" in new
    assert "counts_per_kg = [21430.5, -20988.0, 22010.2, 21775.9]   # a cell mounted upside down" in new
    assert "[calibration]  # the board in the study; calibrated 2025-03-04 09:12 with 10 kg\n" in new
    config = config_from_dict(tomllib.loads(new))
    assert config.calibration.counts_per_kg[1] == -20988.0
    assert config.geometry.width_mm == 410.0 and config.sensor.rate_hz == 10


def test_tare_keeps_counts_per_kg_and_the_calibration_date():
    calibrated = update_calibration_toml(
        CONFIG, offset=[1, 2, 3, 4], counts_per_kg=[5, 6, 7, 8], when="2025-03-04 09:12", weight_kg=10
    )
    tared = update_calibration_toml(calibrated, offset=[9, 9, 9, 9], when="2025-03-05 08:00")
    assert other_lines(tared) == other_lines(CONFIG)
    assert "counts_per_kg = [5.0, 6.0, 7.0, 8.0]" in tared
    assert (
        "[calibration]  # the board in the study; calibrated 2025-03-04 09:12 with 10 kg; tared 2025-03-05 08:00\n"
    ) in tared
    again = update_calibration_toml(tared, offset=[9, 9, 9, 9], when="2025-03-06 08:00")
    assert again.count("tared") == 1 and "tared 2025-03-06 08:00" in again


def test_a_missing_table_or_file_is_created():
    assert update_calibration_toml("", offset=[1, 2, 3, 4], when="2025-03-04 09:12") == (
        "[calibration]  # tared 2025-03-04 09:12\noffset = [1, 2, 3, 4]\n"
    )
    text = "[sensor]\nrate_hz = 10"  # no newline at the end
    new = update_calibration_toml(text, offset=[1, 2, 3, 4], counts_per_kg=[1, 1, 1, 1])
    assert new.startswith(text + "\n\n[calibration]\n")
    assert tomllib.loads(new)["calibration"]["counts_per_kg"] == [1.0, 1.0, 1.0, 1.0]


def test_a_missing_key_goes_next_to_its_sibling_not_under_the_next_tables_comment():
    text = "[calibration]\ncounts_per_kg = [1.0, 2.0, 3.0, 4.0]  # mine\n\n# wiring\n[sensor]\nrate_hz = 10\n"
    new = update_calibration_toml(text, offset=[5, 6, 7, 8])
    assert new == (
        "[calibration]\ncounts_per_kg = [1.0, 2.0, 3.0, 4.0]  # mine\noffset = [5, 6, 7, 8]\n"
        "\n# wiring\n[sensor]\nrate_hz = 10\n"
    )


def test_a_missing_key_follows_a_sibling_written_over_several_lines():
    text = (
        "# mine\n  [calibration]  # study chair\n  counts_per_kg = [\n    1.0, 2.0,\n    3.0, 4.0,\n  ]  # by hand\n"
        "  other = 1\n\n# wiring\n[sensor]\nrate_hz = 10\n"
    )
    new = update_calibration_toml(text, offset=[5, 6, 7, 8])
    assert new == text.replace("  ]  # by hand\n", "  ]  # by hand\n  offset = [5, 6, 7, 8]\n")


def test_keys_of_an_empty_table_go_right_under_its_header():
    text = "[calibration]  # mine\n\n# wiring\n[sensor]\nrate_hz = 10"
    new = update_calibration_toml(text, offset=[1, 2, 3, 4], counts_per_kg=[5, 6, 7, 8])
    assert new == (
        "[calibration]  # mine\noffset = [1, 2, 3, 4]\ncounts_per_kg = [5.0, 6.0, 7.0, 8.0]\n"
        "\n# wiring\n[sensor]\nrate_hz = 10"
    )
    assert tomllib.loads(new)["sensor"]["rate_hz"] == 10


def test_a_missing_key_at_the_end_of_a_file_without_a_last_newline():
    new = update_calibration_toml("[calibration]\ncounts_per_kg = [1.0, 2.0, 3.0, 4.0]", offset=[5, 6, 7, 8])
    assert new == "[calibration]\ncounts_per_kg = [1.0, 2.0, 3.0, 4.0]\noffset = [5, 6, 7, 8]\n"


def test_an_inline_table_is_updated_in_place():
    text = "calibration = {offset = [0, 0, 0, 0]}  # inline\n"
    new = update_calibration_toml(text, offset=[1, 2, 3, 4], when="2025-03-04 09:12")
    assert tomllib.loads(new)["calibration"]["offset"] == [1, 2, 3, 4]
    assert new.endswith("  # inline\n")


def test_stamp_comment():
    assert stamp_comment("", when="2025-01-01 10:00") == "# tared 2025-01-01 10:00"
    assert stamp_comment("# study; tared 2024-12-01 10:00", when="2025-01-01 10:00", weight_kg=12.5) == (
        "# study; calibrated 2025-01-01 10:00 with 12.5 kg"
    )
