"""No reading from a chip that may have powered down until it has settled.

PD_SCK held high past 60 us powers an HX711 down; low again resets it, and
its next 4 conversions are settling values, far off and coming in (the model
gives 400,000, 200,000, 100,000 then 50,000 counts off, as a tester's chip
did: about 20 kg at a typical calibration). The datasheet does not say how
soon a reset chip has its first conversion ready; most chips here have it at
once (``wake_s=0``), so a reader that goes on clocking after the long pulse
meets DOUT low and shifts out bits of an unsettled conversion, which look
just like a chip that stayed awake.

Every test runs at 80 and at 10 samples/s, with all four chips plugged in
and with ``bl`` unplugged (DOUT pulled up: never ready, so written off at the
first deadline and never in a frame, though it shares the clock). Chips and
driver run on VirtualTime: the only long pulses are the stalls injected here.
"""

from __future__ import annotations

import pytest

from device.config import Sensor
from device.hardware.hx711 import HX711Array
from device.sim.hx711 import SETTLING_CONVERSIONS, VirtualTime, attach_array

# Near a rail, near the other, and two ordinary loads (counts).
SOURCES = (8_387_050, -8_387_950, 1_234_620, 523_001)
PHASES = (0.0, 0.003, 0.006, 0.009)
STALL_S = 150e-6


@pytest.fixture(params=[80, 10], ids=lambda rate: f"{rate}sps")
def rate_hz(request):
    return request.param


@pytest.fixture(params=[(), (2,)], ids=["all-plugged", "bl-unplugged"])
def unplugged(request):
    return request.param


@pytest.fixture()
def vtime():
    return VirtualTime()


@pytest.fixture()
def cushion(factory, vtime, rate_hz, unplugged):
    """cushion(**chip_kwargs) -> (array, chips, expected raw frame), the
    array opened, any unplugged chip written off, and the first frame read."""
    opened = []

    def make(**chip_kwargs):
        sensor = Sensor(rate_hz=rate_hz)
        chips = attach_array(factory, sensor, SOURCES, phases_s=PHASES, timebase=vtime, **chip_kwargs)
        for j in unplugged:
            chips[j].unplugged = True
        array = HX711Array(sensor, timebase=vtime)
        opened.append(array)
        expected = tuple(None if j in unplugged else value for j, value in enumerate(SOURCES))
        assert array.read_frame().raw == expected
        return array, chips, expected

    yield make
    for array in opened:
        array.close()


def stall(factory, pulse, seconds=STALL_S, *, before_edge=False):
    """Hold the writer up on clock pulse ``pulse`` (1-25) of the next train;
    ``before_edge``: before the line rises (measured long, seen short)."""
    factory.pin(Sensor().clock_pin).preempt(seconds, after_rises=pulse - 1, before_edge=before_edge)


@pytest.mark.parametrize("pulse", range(1, 26))
def test_a_power_down_mid_frame_never_lets_a_settling_reading_through(cushion, factory, pulse, unplugged):
    array, chips, expected = cushion(wake_s=0.0)
    live = [chip for j, chip in enumerate(chips) if j not in unplugged]
    downs = [chip.power_downs for chip in live]
    stall(factory, pulse)
    frames = [array.read_frame() for _ in range(SETTLING_CONVERSIONS + 2)]
    assert all(chip.power_downs > before for chip, before in zip(live, downs))
    assert [frame.raw for frame in frames] == [expected] * len(frames)


@pytest.mark.parametrize("measured, real", [(2, 7), (12, 22)])
def test_a_later_long_pulse_in_the_same_frame_counts_too(cushion, factory, measured, real):
    # Two stalls queued: on pulse `measured`, one the driver measures long
    # and the chips see short (they stay awake and shift out data 0s), and
    # on pulse `real`, a real power-down, which a driver that goes on
    # clocking after the first meets in the same train. Here the chips'
    # first conversion after waking comes a period later (the model's
    # default), and they must still settle before any reading.
    array, _, expected = cushion()
    stall(factory, measured, before_edge=True)
    stall(factory, real)
    frames = [array.read_frame() for _ in range(SETTLING_CONVERSIONS + 2)]
    assert [frame.raw for frame in frames] == [expected] * len(frames)


def test_settling_after_a_resync_is_four_conversions_of_the_live_chips(cushion, factory, vtime, rate_hz, unplugged):
    array, chips, expected = cushion(wake_s=0.0)
    live = [j for j in range(4) if j not in unplugged]
    dropped = array.stats.dropped.copy()
    reads = [chip.reads for chip in chips]
    stalled_at = vtime.monotonic()
    stall(factory, pulse=7)
    frame = array.read_frame()
    assert frame.raw == expected
    # Each live chip: its 4 settling conversions read and dropped, then this
    # one, which is data; the absent chip was never read.
    assert [chips[j].reads - reads[j] for j in live] == [SETTLING_CONVERSIONS + 1] * len(live)
    assert all(chips[j].reads == 0 for j in unplugged)
    assert all(chips[j].settling == 0 for j in live)
    assert frame.t - stalled_at >= SETTLING_CONVERSIONS / rate_hz
    new = array.stats.dropped - dropped
    assert new == {"power_down": 1, "settling": SETTLING_CONVERSIONS}
