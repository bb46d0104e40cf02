"""The HX711's datasheet numbers (Avia HX711), shared by the driver and the chip model.

docs and shared/HX711-NOTES.md: DOUT low means a conversion is ready; 25, 26
or 27 pulses after the 24 data bits select channel A gain 128, channel B gain
32 or channel A gain 64 for the next conversion; PD_SCK high 0.2 to 50 us,
and over 60 us powers the chip down; 4 conversions after power-up, reset or
a gain change are not data; the output saturates at the 24-bit rails.
adafruit-circuitpython-hx711 supplies the pulse counts.
"""

from __future__ import annotations

import contextlib
import io

from device.config import RAW_MAX, RAW_MIN

try:
    # Blinka prints a warning on import when it does not know the board.
    with contextlib.redirect_stdout(io.StringIO()):
        from adafruit_hx711.hx711 import HX711 as AdafruitHX711
except Exception:  # Blinka could not identify the board: same numbers, by hand

    class AdafruitHX711:  # type: ignore[no-redef]
        CHAN_A_GAIN_128 = 25
        CHAN_A_GAIN_64 = 27
        CHAN_B_GAIN_32 = 26


CHAN_A_GAIN_128 = AdafruitHX711.CHAN_A_GAIN_128
CHAN_B_GAIN_32 = AdafruitHX711.CHAN_B_GAIN_32
CHAN_A_GAIN_64 = AdafruitHX711.CHAN_A_GAIN_64
PULSES = AdafruitHX711.CHAN_A_GAIN_128  # 24 data bits + 1: channel A, gain 128 next
DATA_BITS = 24
MAX_HIGH_S = 50e-6  # datasheet: PD_SCK high 0.2 to 50 us
POWER_DOWN_S = 60e-6  # datasheet: high longer than this powers the chip down
RESET_HOLD_S = 1e-3  # how long adafruit's _initialize holds PD_SCK high
SETTLING_CONVERSIONS = 4  # datasheet: not data after power-up, reset, gain change
RAIL_LOW = RAW_MIN  # two's complement output saturates here ...
RAIL_HIGH = RAW_MAX  # ... and here


def to_signed(word: int) -> int:
    """A 24-bit two's complement word as a Python int: 0xFFFFFF -> -1,
    0x800000 -> -8388608, 0x7FFFFF -> 8388607."""
    word &= 0xFFFFFF
    return word - 0x1000000 if word & 0x800000 else word


def trailing_ones(value: int) -> int:
    """How many low bits of the 24-bit word of ``value`` are ones."""
    word = value & 0xFFFFFF
    return (word ^ (word + 1)).bit_length() - 1


def saturate(counts: float) -> int:
    """Clamp a reading to the 24-bit two's complement range, as the chip does."""
    value = int(round(counts))
    if value > RAIL_HIGH:
        return RAIL_HIGH
    if value < RAIL_LOW:
        return RAIL_LOW
    return value
