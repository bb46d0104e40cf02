"""The simulated HX711 (device/sim/hx711/chip.py) against its datasheet.

These tests drive PD_SCK by hand, as gpiozero's own tests drive mock pins,
and look at DOUT and at the pins' state histories. Most run the chip on
VirtualTime (the ``vtime`` fixture): time passes only when the test sleeps
or stalls, so a busy test machine can neither stretch a pulse past 60 us nor
make a conversion late, and times are exact. Those on the real clock are
about real time (a pulse held far longer than 60 us is judged by when its
edges really happened) or build their chips with ``power_down_s=None``: a
test runner preempted for 60 us mid-pulse must not make a bit-order test fail.
"""

from __future__ import annotations

import gc
import statistics
import time

import pytest

from device.config import Sensor
from device.sim.hx711 import (
    CHAN_A_GAIN_64,
    CHAN_A_GAIN_128,
    CHAN_B_GAIN_32,
    POWER_DOWN_S,
    REAL_TIME,
    SETTLING_CONVERSIONS,
    HX711Chip,
    HX711ClockPin,
    HX711DataPin,
    VirtualTime,
    attach_array,
    attach_chip,
    saturate,
)

CLOCK, DATA = 5, 6
POLL_S = 0.0001


@pytest.fixture()
def vtime():
    """Simulated time for the chip and the test alike."""
    return VirtualTime()


def wire(factory, clock=CLOCK, data=DATA, pull="up", **kwargs):
    """A chip on (clock, data), the clock an output held low, DOUT pulled as asked."""
    kwargs.setdefault("power_down_s", None)
    chip = attach_chip(factory, clock, data, **kwargs)
    clk = factory.pin(clock)
    clk.output_with_state(False)
    dout = factory.pin(data)
    dout.input_with_pull(pull)
    return chip, clk, dout


def wait_ready(dout, timeout=1.0):
    """Poll DOUT until low, sleeping POLL_S between looks in the chip's own
    time; return the moment it was seen low (its perf_counter)."""
    clock = dout.timebase
    end = clock.perf_counter() + timeout
    while dout.state:
        if clock.perf_counter() > end:
            raise AssertionError("DOUT never went low")
        clock.sleep(POLL_S)
    return clock.perf_counter()


def read_word(clk, douts, pulses=25):
    """Clock ``pulses`` pulses, sampling each DOUT after every rising edge.
    Returns ([24-bit word per DOUT], [DOUT level after the last pulse])."""
    single = not isinstance(douts, (list, tuple))
    douts = [douts] if single else douts
    words = [0] * len(douts)
    gc.disable()
    try:
        for i in range(pulses):
            clk.state = True
            if i < 24:
                words = [(w << 1) | d.state for w, d in zip(words, douts)]
            clk.state = False
        after = [bool(d.state) for d in douts]
    finally:
        gc.enable()
    return (words[0], after[0]) if single else (words, after)


def compress(states):
    """A pin history as the list of levels it went through."""
    return [s.state for s in states]


# -- conversions and DOUT ---------------------------------------------------


@pytest.mark.parametrize("rate_hz", [80, 10])
def test_dout_goes_low_once_per_conversion_period(factory, vtime, rate_hz):
    chip, clk, dout = wire(factory, rate_hz=rate_hz, source=1234, timebase=vtime)
    born = chip.epoch
    assert dout.state, "DOUT is high until the first conversion is ready"
    first = wait_ready(dout)
    period = 1 / rate_hz
    assert period <= first - born < period + POLL_S
    read_word(clk, dout)
    assert dout.state
    second = wait_ready(dout)
    assert second - first == pytest.approx(period, abs=POLL_S)


def test_clock_idles_low_and_a_new_chip_is_settled(factory):
    chip, clk, dout = wire(factory, source=-42)
    assert not clk.state
    wait_ready(dout)
    assert read_word(clk, dout)[0] == -42 & 0xFFFFFF


# -- the serial interface -------------------------------------------------


def test_24_bits_shift_out_msb_first_on_rising_edges(factory):
    chip, clk, dout = wire(factory, source=0xA5A5A5 - 0x1000000)  # negative: MSB set
    wait_ready(dout)
    dout.clear_states()
    clk.clear_states()
    word, after = read_word(clk, dout)
    assert word == 0xA5A5A5
    assert after, "the 25th pulse drives DOUT high"
    # PD_SCK went through exactly 25 pulses ...
    assert compress(clk.states) == [False] + [True, False] * 25
    # ... and DOUT through the bits 1010 0101 ... then high.
    bits = [bool(0xA5A5A5 >> (23 - i) & 1) for i in range(24)] + [True]
    levels = [False]
    for bit in bits:
        if bit != levels[-1]:
            levels.append(bit)
    assert compress(dout.states) == levels
    assert chip.reads == 1
    assert chip.comm_errors == []


@pytest.mark.parametrize(
    "counts, word",
    [
        (0, 0x000000),
        (1, 0x000001),
        (-1, 0xFFFFFF),
        (8388607, 0x7FFFFF),
        (-8388608, 0x800000),
        (10**9, 0x7FFFFF),  # saturates high
        (-(10**9), 0x800000),  # saturates low
        (0x123456, 0x123456),
        (-0x123456, 0xEDCBAA),
    ],
)
def test_twos_complement_and_saturation(factory, counts, word):
    chip, clk, dout = wire(factory, source=counts)
    wait_ready(dout)
    assert read_word(clk, dout)[0] == word


def test_source_is_a_function_of_time(factory, vtime):
    chip, clk, dout = wire(factory, source=lambda t: 1000 * t, timebase=vtime)
    wait_ready(dout)
    first = read_word(clk, dout)[0]
    vtime.sleep(0.05)
    wait_ready(dout)
    second = read_word(clk, dout)[0]
    # each the input when its conversion completed, 0.05 s apart
    assert 0 < first < second < 1000
    assert second - first == pytest.approx(1000 * 0.05, abs=1)


def test_saturate():
    assert saturate(8388607.4) == 8388607
    assert saturate(9e9) == 8388607
    assert saturate(-9e9) == -8388608


# -- channel and gain -------------------------------------------------------


def settle_and_read(clk, dout, pulses):
    """Read SETTLING_CONVERSIONS + 1 conversions with ``pulses`` each."""
    words = []
    for _ in range(SETTLING_CONVERSIONS + 1):
        wait_ready(dout)
        words.append(read_word(clk, dout, pulses)[0])
    return words


def test_26_pulses_select_channel_b_after_settling(factory):
    chip, clk, dout = wire(factory, source=500_000, source_b=-7000)
    wait_ready(dout)
    assert read_word(clk, dout, CHAN_B_GAIN_32)[0] == 500_000
    assert chip.gain_pulses == CHAN_A_GAIN_128  # applies to the *next* conversion
    words = settle_and_read(clk, dout, CHAN_B_GAIN_32)
    assert chip.gain_pulses == CHAN_B_GAIN_32
    assert all(w != -7000 & 0xFFFFFF for w in words[:SETTLING_CONVERSIONS])
    assert words[SETTLING_CONVERSIONS] == -7000 & 0xFFFFFF
    assert chip.comm_errors == []


def test_27_pulses_select_channel_a_gain_64_which_halves(factory):
    chip, clk, dout = wire(factory, source=500_000)
    wait_ready(dout)
    read_word(clk, dout, CHAN_A_GAIN_64)
    words = settle_and_read(clk, dout, CHAN_A_GAIN_64)
    assert chip.gain_pulses == CHAN_A_GAIN_64
    assert words[SETTLING_CONVERSIONS] == 250_000


def test_more_than_27_pulses_is_a_communication_error(factory):
    chip, clk, dout = wire(factory, source=1)
    wait_ready(dout)
    read_word(clk, dout, 28)
    assert chip.comm_errors == ["more than 27 pulses in one read"]


def test_a_pulse_while_not_ready_is_a_communication_error(factory):
    chip, clk, dout = wire(factory, source=1)
    clk.state = True
    clk.state = False
    assert chip.comm_errors == ["clock pulse while no conversion was ready"]


def test_a_read_left_unfinished_for_a_period_is_abandoned(factory, vtime):
    chip, clk, dout = wire(factory, source=0x0F0F0F, timebase=vtime)
    wait_ready(dout)
    read_word(clk, dout, 10)
    vtime.sleep(2.5 * chip.period_s)  # PD_SCK low has no maximum, but ...
    assert "fewer than 25" in chip.comm_errors[0]
    assert not dout.state  # ... the chip gave up and has new data
    assert read_word(clk, dout)[0] == 0x0F0F0F


def test_a_conversion_completing_mid_read_does_not_corrupt_it(factory, vtime):
    values = iter(range(1000, 100_000, 1000))
    chip, clk, dout = wire(factory, source=lambda t: next(values), timebase=vtime)
    wait_ready(dout)
    word = 0
    for i in range(25):
        clk.state = True
        if i < 24:
            word = (word << 1) | dout.state
        clk.state = False
        if i == 11:
            vtime.sleep(1.2 * chip.period_s)  # SCK low mid-read: legal
    assert word == 1000
    assert chip.lost_conversions == 1
    assert chip.comm_errors == []


# -- power-down and reset -----------------------------------------------------


def test_power_down_rule_by_edge_timestamps():
    chip = HX711Chip(source=5)
    t = chip.epoch + 0.02  # past the first conversion
    chip.edges += [(True, t), (False, t + 59e-6)]
    chip.sync(t + 1e-3)
    assert chip.power_downs == 0
    chip.edges += [(True, t + 2e-3), (False, t + 2e-3 + 61e-6)]
    chip.sync(t + 3e-3)
    assert chip.power_downs == 1
    assert chip.settling == SETTLING_CONVERSIONS


def test_sck_high_over_60us_powers_down_and_low_resets(factory, vtime):
    chip, clk, dout = wire(factory, source=300_000, source_b=9, power_down_s=60e-6, timebase=vtime)
    wait_ready(dout)
    read_word(clk, dout, CHAN_B_GAIN_32)  # ask for channel B next ...
    clk.state = True
    vtime.sleep(0.001)
    assert not chip.powered
    assert dout.state, "DOUT is high while powered down"
    clk.state = False  # ... reset: back to A, gain 128
    assert chip.powered
    assert chip.gain_pulses == CHAN_A_GAIN_128
    assert dout.state
    words = settle_and_read(clk, dout, CHAN_A_GAIN_128)
    assert all(w != 300_000 for w in words[:SETTLING_CONVERSIONS]), "settling values are not data"
    assert words[SETTLING_CONVERSIONS] == 300_000
    assert chip.power_downs == 1


@pytest.mark.parametrize(
    "high_s, powers_down",
    [
        (POWER_DOWN_S - 1e-6, False),
        (POWER_DOWN_S + 1e-6, True),
    ],
)
def test_power_down_threshold_on_pins(factory, vtime, high_s, powers_down):
    # On virtual time a pulse is exactly as long as the stall inside it.
    chip, clk, dout = wire(factory, source=1, power_down_s=POWER_DOWN_S, timebase=vtime)
    wait_ready(dout)
    clk.preempt(high_s, after_rises=3)  # the writer stalls on pulse 4
    word, after = read_word(clk, dout)
    assert chip.max_high_s == pytest.approx(high_s)
    assert chip.power_downs == powers_down
    assert (word == 1) != powers_down


def test_power_down_time_is_judged_in_real_time(factory):
    chip, clk, dout = wire(factory, source=1, power_down_s=60e-6, timebase=REAL_TIME)
    wait_ready(dout)
    clk.preempt(200e-6, after_rises=3)  # the writer stalls on pulse 4
    read_word(clk, dout)
    assert chip.power_downs >= 1
    assert chip.max_high_s > 200e-6


def test_a_writer_stalled_before_its_edge_is_not_a_long_pulse(factory, vtime):
    chip, clk, dout = wire(factory, source=0x5A5A5, power_down_s=60e-6, timebase=vtime)
    wait_ready(dout)
    t0 = vtime.perf_counter()
    clk.preempt(200e-6, before_edge=True)  # inside the write, before the line moves
    clk.state = True
    first = dout.state
    clk.state = False
    assert vtime.perf_counter() - t0 == pytest.approx(200e-6)  # what the writer measures
    assert chip.max_high_s == 0 and chip.power_downs == 0
    rest, after = read_word(clk, dout, pulses=24)  # bits 2-24, then the 25th pulse
    assert ((first << 23) | rest >> 1) == 0x5A5A5 and after


# -- waking up: settling ------------------------------------------------------


def power_cycle(clk, timebase, hold_s=1e-3):
    """PD_SCK high for ``hold_s`` (past 60 us: power down), then low (reset)."""
    clk.state = True
    timebase.sleep(hold_s)
    clk.state = False


def words_after(clk, dout, count):
    """The next ``count`` conversions, each read once it is ready, as signed counts."""
    words = []
    for _ in range(count):
        wait_ready(dout)
        word = read_word(clk, dout)[0]
        words.append(word - 0x1000000 if word & 0x800000 else word)
    return words


@pytest.mark.parametrize("rate_hz", [80, 10])
def test_first_four_conversions_after_a_reset_are_far_off_and_come_in(factory, vtime, rate_hz):
    chip, clk, dout = wire(factory, source=-250_000, rate_hz=rate_hz, power_down_s=60e-6, timebase=vtime)
    assert words_after(clk, dout, 1) == [-250_000]  # a new chip has settled
    power_cycle(clk, vtime)
    words = words_after(clk, dout, SETTLING_CONVERSIONS + 2)
    misses = [w + 250_000 for w in words]
    offset = chip.settling_offset
    assert offset >= 100_000  # far off: kilograms, not grams
    assert misses == [offset, offset / 2, offset / 4, offset / 8, 0, 0]


def test_settling_goes_by_conversions_made_not_by_conversions_read(factory, vtime):
    chip, clk, dout = wire(factory, source=7, power_down_s=60e-6, timebase=vtime)
    power_cycle(clk, vtime)
    vtime.sleep(SETTLING_CONVERSIONS * chip.period_s + POLL_S)  # four made, none read
    assert chip.settling == 0
    # what is ready is the fourth settling conversion; the next is data
    assert words_after(clk, dout, 2) == [7 + chip.settling_offset / 8, 7]


def test_a_woken_chip_converts_first_a_period_after_the_reset(factory, vtime):
    chip, clk, dout = wire(factory, source=7, power_down_s=60e-6, timebase=vtime)
    power_cycle(clk, vtime)
    reset_at = vtime.perf_counter()
    assert wait_ready(dout) - reset_at == pytest.approx(chip.period_s, abs=POLL_S)


def test_wake_s_0_has_an_unsettled_conversion_ready_at_once(factory, vtime):
    # The datasheet does not say how soon a reset chip has its first
    # conversion: a reader still clocking after a power-down may meet one.
    chip, clk, dout = wire(factory, source=7, power_down_s=60e-6, wake_s=0.0, timebase=vtime)
    power_cycle(clk, vtime)
    assert not dout.state, "ready as soon as PD_SCK is low again"
    word, after = read_word(clk, dout)
    assert word == 7 + chip.settling_offset and after


def test_a_chip_and_its_pins_keep_one_time(factory, vtime):
    attach_chip(factory, CLOCK, DATA, timebase=vtime)
    with pytest.raises(ValueError, match="one time"):
        attach_chip(factory, CLOCK, 13)  # the clock pin keeps vtime


# -- misbehaviour -------------------------------------------------------------


def test_unplugged_with_pull_up_is_never_ready(factory):
    chip, clk, dout = wire(factory, source=1, pull="up")
    chip.unplugged = True
    time.sleep(3 * chip.period_s)
    assert dout.state
    assert chip.conversions == 0


def test_unplugged_without_pull_looks_ready_and_reads_all_ones(factory):
    chip, clk, dout = wire(factory, source=1, pull="floating")
    chip.unplugged = True
    time.sleep(0.005)
    assert not dout.state, "a floating DOUT looks ready (bogde/HX711#138)"
    word, after = read_word(clk, dout)
    assert word == 0xFFFFFF and after  # -1, and high after the 25th pulse


def test_unplugged_with_pull_down_reads_zero_and_stays_low(factory):
    chip, clk, dout = wire(factory, source=1, pull="down")
    chip.unplugged = True
    assert read_word(clk, dout) == (0, False)


def test_plugging_back_in_powers_up_and_settles(factory, vtime):
    chip, clk, dout = wire(factory, source=77, timebase=vtime)
    chip.unplugged = True
    chip.unplugged = False
    assert chip.settling == SETTLING_CONVERSIONS
    words = settle_and_read(clk, dout, CHAN_A_GAIN_128)
    assert words[:-1] == [77 + chip.settling_offset / 2**k for k in range(SETTLING_CONVERSIONS)]
    assert words[-1] == 77


def test_stuck_repeats_the_last_value(factory):
    chip, clk, dout = wire(factory, source=100)
    wait_ready(dout)
    read_word(clk, dout)
    chip.stuck = True
    chip.source = 200
    for _ in range(3):
        wait_ready(dout)
        assert read_word(clk, dout)[0] == 100
    chip.stuck = False
    wait_ready(dout)
    assert read_word(clk, dout)[0] == 200


def test_noisy_adds_noise(factory):
    chip, clk, dout = wire(factory, source=0)
    chip.noise = 1000.0
    values = []
    for _ in range(12):
        wait_ready(dout)
        word = read_word(clk, dout)[0]
        values.append(word - 0x1000000 if word & 0x800000 else word)
    assert 300 < statistics.stdev(values) < 3000


def test_slow_converts_slower(factory, vtime):
    chip, clk, dout = wire(factory, source=1, timebase=vtime)
    chip.slow = 2.0
    first = wait_ready(dout)
    read_word(clk, dout)
    second = wait_ready(dout)
    assert second - first == pytest.approx(2 / 80, abs=POLL_S)


def test_glitch_reads_two_to_the_n_minus_one(factory):
    chip, clk, dout = wire(factory, source=1000)
    wait_ready(dout)
    chip.inject_glitch(from_pulse=3)
    assert read_word(clk, dout)[0] == 2**22 - 1  # 4194303
    wait_ready(dout)
    assert read_word(clk, dout)[0] == 1000  # one read only


def test_glitch_rate_one_glitches_every_read(factory):
    chip, clk, dout = wire(factory, source=0)
    chip.glitch_rate = 1.0
    for _ in range(3):
        wait_ready(dout)
        word = read_word(clk, dout)[0]
        assert word != 0 and word & (word + 1) == 0  # 2**n - 1


# -- several chips on one clock --------------------------------------------------


def test_chips_share_one_clock(factory):
    sensor = Sensor()
    chips = attach_array(factory, sensor, sources=(1, -2, 0x123456, -8388608), power_down_s=None)
    clk = factory.pin(sensor.clock_pin)
    clk.output_with_state(False)
    douts = [factory.pin(n) for n in sensor.data_pins]
    for d in douts:
        d.input_with_pull("up")
    assert isinstance(clk, HX711ClockPin) and all(isinstance(d, HX711DataPin) for d in douts)
    assert clk.listeners == chips
    for d in douts:
        wait_ready(d)
    words, after = read_word(clk, douts)
    assert words == [1, 0xFFFFFE, 0x123456, 0x800000]
    assert after == [True] * 4
    assert [c.reads for c in chips] == [1, 1, 1, 1]


def test_a_data_pin_takes_one_chip(factory):
    attach_chip(factory, CLOCK, DATA)
    with pytest.raises(ValueError):
        attach_chip(factory, CLOCK, DATA)


def test_pin_history_is_bounded(factory):
    chip, clk, dout = wire(factory, history=100)
    for _ in range(500):
        clk.state = True
        clk.state = False
    assert len(clk.states) == 100
    unbounded, clk2, _ = wire(factory, clock=20, data=21, history=None)
    for _ in range(500):
        clk2.state = True
        clk2.state = False
    assert len(clk2.states) == 1001


def test_pins_can_keep_no_history(factory):
    # A simulated daemon runs for days and never reads the histories.
    chip, clk, dout = wire(factory, history=0)
    for _ in range(500):
        clk.state = True
        clk.state = False
    assert dout.state in (True, False)  # a read, which a pin with history would record
    assert len(clk.states) == 1 and len(dout.states) == 1
