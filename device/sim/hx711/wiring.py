"""Plugging simulated chips into a gpiozero MockFactory: one chip, or the cushion's four."""

from __future__ import annotations

from collections.abc import Sequence

from gpiozero.pins.mock import MockFactory

from device.sim.hx711.chip import HX711Chip
from device.sim.hx711.pins import DEFAULT_HISTORY, HX711ClockPin, HX711DataPin, Source
from device.sim.hx711.timebase import REAL_TIME


def attach_chip(
    factory: MockFactory,
    clock_pin: int | str,
    data_pin: int | str,
    chip: HX711Chip | None = None,
    *,
    history: int | None = DEFAULT_HISTORY,
    **kwargs,
) -> HX711Chip:
    """Plug a simulated HX711 into ``factory``'s pins; kwargs go to HX711Chip.

    Call before the driver opens the pins (the factory then hands the driver
    these pin objects). Several chips may share one ``clock_pin``.
    """
    chip = chip if chip is not None else HX711Chip(**kwargs)
    clock = factory.pin(clock_pin, pin_class=HX711ClockPin, history=history, timebase=chip.timebase)
    dout = factory.pin(data_pin, pin_class=HX711DataPin, history=history, timebase=chip.timebase)
    chip.attach(clock, dout)
    return chip


def attach_array(
    factory: MockFactory,
    sensor,
    sources: Sequence[Source] = (0, 0, 0, 0),
    *,
    phases_s: Sequence[float] = (0.0, 0.0, 0.0, 0.0),
    history: int | None = DEFAULT_HISTORY,
    **kwargs,
) -> list[HX711Chip]:
    """Plug one simulated HX711 per data pin of ``sensor`` (a config.Sensor),
    on its shared clock or its per-chip clocks, with one epoch for all.
    kwargs go to every HX711Chip (``seed`` is offset by the chip's index)."""
    clocks = sensor.clock_pins or (sensor.clock_pin,) * len(sensor.data_pins)
    kwargs.setdefault("epoch", kwargs.get("timebase", REAL_TIME).perf_counter())
    kwargs.setdefault("rate_hz", sensor.rate_hz)
    seed = kwargs.pop("seed", 0)
    chips = []
    for i, (clock, data) in enumerate(zip(clocks, sensor.data_pins)):
        chips.append(
            attach_chip(
                factory,
                clock,
                data,
                history=history,
                source=sources[i],
                phase_s=phases_s[i],
                seed=None if seed is None else seed + i,
                **kwargs,
            )
        )
    return chips
