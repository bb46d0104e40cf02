"""Opening GPIO pins with what goes wrong as one line: the HX711s, and anything else.

gpiozero names its failures in its own words, over several lines (a warning
for each pin factory it falls back from); a person running `cushion` needs
one line saying what to do.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from typing import TypeVar

from device.config import Config
from device.errors import CushionError

log = logging.getLogger("cushion")
T = TypeVar("T")


def open_gpio(what: str, opener: Callable[[], T], warn: Callable[[str], object] | None = None) -> T:
    """``opener()`` (which opens gpiozero devices), with what goes wrong as one line.

    gpiozero warns (two lines each) when it falls back from one pin factory
    to the next: those become one line through ``warn`` (default: the log)
    if the pins open, or the reason appended to the error if they do not.
    Errors are CushionError "``what``: reason", without Python's names.
    """
    from gpiozero.exc import BadPinFactory, PinFactoryFallback

    warn = warn or log.warning
    error = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PinFactoryFallback)
        try:
            result = opener()
        except CushionError as exc:
            error = str(exc)
        except BadPinFactory:
            # No pin factory loads: this is not a Raspberry Pi (or its GPIO
            # library is missing). The fallbacks' reasons would only confuse.
            raise CushionError(
                "no GPIO that gpiozero can use on this machine (not a Raspberry Pi, or lgpio "
                "is not installed); add --sim to try a simulated cushion"
            ) from None
        except PermissionError as exc:
            error = (
                f"{what}: no permission to use the GPIO ({exc.strerror or exc}); "
                "add the user to the gpio group: sudo usermod -aG gpio $USER"
            )
        except Exception as exc:  # gpiozero's BadPinFactory, PinInvalidPin, GPIOPinInUse, ValueError...
            error = f"{what}: {' '.join(str(exc).split()) or 'gpiozero gave no reason'}"
    fallbacks = [w for w in caught if issubclass(w.category, PinFactoryFallback)]
    for other in caught:
        if other not in fallbacks:
            warnings.warn_explicit(other.message, other.category, other.filename, other.lineno)
    if error is not None:
        if fallbacks:
            error += f" ({fallbacks[0].message})"
        if any(word in error.lower() for word in ("busy", "in use", "inuse")):
            error += "; is the cushion service running? Stop it first: sudo systemctl stop cushion"
        raise CushionError(error)
    for fallback in fallbacks:
        warn(str(fallback.message))
    return result


def open_hx711(config: Config, pin_factory=None, warn: Callable[[str], object] | None = None):
    """The HX711 array on the configured pins, with GPIO problems as one-line errors."""
    from device.hardware.hx711 import HX711Array

    sensor = config.sensor
    clocks = list(sensor.clock_pins) if sensor.clock_pins else sensor.clock_pin
    where = f"[sensor] clock_pin{'s' if sensor.clock_pins else ''}={clocks} data_pins={list(sensor.data_pins)}"
    return open_gpio(f"{where}: cannot open the HX711 pins", lambda: HX711Array(sensor, pin_factory=pin_factory), warn)
