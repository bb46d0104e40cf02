"""Four HX711s read through gpiozero's pin factory (device.hardware.hx711.array).

- datasheet: the chip's numbers, shared with the chip model (device.sim.hx711);
- readings: Frame, HX711Stats and the glitch filter;
- cadence: when the next conversion will be ready;
- buses: the lines, through the factory's pins or lgpio's group calls;
- array: HX711Array, the driver.
"""

from device.hardware.hx711.array import HX711Array
from device.hardware.hx711.buses import _lgpio_bus, _LgpioBus, _PinBus
from device.hardware.hx711.cadence import ReadyCadence
from device.hardware.hx711.datasheet import (
    DATA_BITS,
    MAX_HIGH_S,
    POWER_DOWN_S,
    PULSES,
    RAIL_HIGH,
    RAIL_LOW,
    RESET_HOLD_S,
    SETTLING_CONVERSIONS,
    to_signed,
    trailing_ones,
)
from device.hardware.hx711.readings import Frame, GlitchFilter, HX711Stats

__all__ = [
    "DATA_BITS",
    "MAX_HIGH_S",
    "POWER_DOWN_S",
    "PULSES",
    "RAIL_HIGH",
    "RAIL_LOW",
    "RESET_HOLD_S",
    "SETTLING_CONVERSIONS",
    "Frame",
    "GlitchFilter",
    "HX711Array",
    "HX711Stats",
    "ReadyCadence",
    "_LgpioBus",
    "_PinBus",
    "_lgpio_bus",
    "to_signed",
    "trailing_ones",
]
