"""The lines themselves: PD_SCK trains and DOUT reads through the pin factory's pins, or through lgpio's group calls."""

from __future__ import annotations

import contextlib
import logging
import sys
import time

from device.hardware.hx711.readings import HX711Stats

log = logging.getLogger("device.hardware.hx711")

# _BIT_AS_DIGIT[j] maps a DOUT sample (bit j: chip j's line) to b"0" or b"1".
_BIT_AS_DIGIT = [bytes(b"01"[sample >> j & 1] for sample in range(256)) for j in range(8)]


class _PinBus:
    """PD_SCK and DOUT lines as pins of any gpiozero factory.

    Bit j of every DOUT sample is chip j's line; clocks are indexed as in
    ``clock_pins``.
    """

    name = "pins"

    def __init__(self, factory, clock_pins, data_pins, stats: HX711Stats, perf_counter=time.perf_counter):
        self.stats = stats
        self._perf_counter = perf_counter
        self._clocks = [factory.pin(n) for n in clock_pins]
        self._douts = [factory.pin(n) for n in data_pins]
        for pin in self._clocks:
            pin.output_with_state(False)
        for pin in self._douts:
            # An unplugged chip's DOUT must read high (busy), never "ready".
            pin.input_with_pull("up")

    def levels(self, chips) -> int:
        mask = 0
        douts = self._douts
        for j in chips:
            if douts[j].state:
                mask |= 1 << j
        self.stats.pin_reads += len(chips)
        return mask

    def set_clocks(self, clocks, level: bool) -> None:
        for k in clocks:
            self._clocks[k].state = level
        self.stats.pin_writes += len(clocks)

    def train(self, clocks, chips, pulses: int, limit_s: float):
        """Clock ``pulses`` pulses on ``clocks``, sampling ``chips``' DOUTs
        after each falling edge. Returns (samples, longest high, over_at):
        over_at is the index of the pulse measured high longer than
        ``limit_s`` (None if none was), where the train stopped, unsampled:
        the chips may have powered down, and clocking them on tells nothing."""
        pins = [self._clocks[k] for k in clocks]
        douts = [(1 << j, self._douts[j]) for j in chips]
        samples: list[int] = []
        append = samples.append
        worst = 0.0
        over_at = None
        pc = self._perf_counter
        clk = pins[0]
        single = len(pins) == 1
        for i in range(pulses):
            if single:
                t0 = pc()
                clk.state = True
                clk.state = False
                high = pc() - t0
            else:
                t0 = pc()
                for pin in pins:
                    pin.state = True
                for pin in pins:
                    pin.state = False
                high = pc() - t0
            if high > worst:
                worst = high
                if high > limit_s:
                    over_at = i
                    break
            mask = 0
            for bit, dout in douts:
                if dout.state:
                    mask |= bit
            append(mask)
        self.stats.pin_writes += 2 * (len(samples) + (over_at is not None)) * len(pins)
        self.stats.pin_reads += len(samples) * len(douts)
        return samples, worst, over_at

    def close(self) -> None:
        for pin in self._clocks:
            pin.state = False
            pin.close()
        for pin in self._douts:
            pin.close()


class _LgpioBus:
    """The fast path where the factory is gpiozero's lgpio one.

    gpiozero's lgpio pin checks the line's function on every write (two system
    calls an edge; write-read-write measured at 120-250 us on a Pi Zero 2 W,
    past the power-down limit). Here one ``group_write`` is one edge on every
    clock at once and one ``group_read`` samples all four DOUTs. Same interface
    as _PinBus.
    """

    name = "lgpio"

    def __init__(self, lgpio, handle, clock_pins, data_pins, stats: HX711Stats, perf_counter=time.perf_counter):
        self.stats = stats
        self._perf_counter = perf_counter
        self._lg = lgpio
        self._h = handle
        for gpio in (*clock_pins, *data_pins):
            with contextlib.suppress(lgpio.error):
                lgpio.gpio_free(handle, gpio)  # in case a gpiozero pin holds it
        lgpio.group_claim_output(handle, list(clock_pins), [0] * len(clock_pins))
        lgpio.group_claim_input(handle, list(data_pins), lgpio.SET_PULL_UP)
        self._clock = clock_pins[0]  # group leaders
        self._data = data_pins[0]

    def levels(self, chips) -> int:
        self.stats.pin_reads += 1
        return self._lg.group_read(self._h, self._data)[1]

    def set_clocks(self, clocks, level: bool) -> None:
        mask = sum(1 << k for k in clocks)
        self._lg.group_write(self._h, self._clock, mask if level else 0, mask)
        self.stats.pin_writes += 1

    def train(self, clocks, chips, pulses: int, limit_s: float):
        mask = sum(1 << k for k in clocks)
        write, read = self._lg.group_write, self._lg.group_read
        h, clock, data = self._h, self._clock, self._data
        samples = []
        worst = 0.0
        over_at = None
        pc = self._perf_counter
        for i in range(pulses):
            t0 = pc()
            write(h, clock, mask, mask)
            write(h, clock, 0, mask)
            high = pc() - t0
            if high > worst:
                worst = high
                if high > limit_s:
                    over_at = i
                    break
            samples.append(read(h, data)[1])
        self.stats.pin_writes += 2 * (len(samples) + (over_at is not None))
        self.stats.pin_reads += len(samples)
        return samples, worst, over_at

    def close(self) -> None:
        lg = self._lg
        with contextlib.suppress(lg.error):
            lg.group_write(self._h, self._clock, 0)
            lg.group_free(self._h, self._clock)
            lg.group_free(self._h, self._data)


def _lgpio_bus(factory, clock_pins, data_pins, stats, perf_counter=time.perf_counter):
    """A _LgpioBus if ``factory`` is gpiozero's LGPIOFactory, else None."""
    module = sys.modules.get("gpiozero.pins.lgpio")
    if module is None or not isinstance(factory, module.LGPIOFactory):
        return None
    return _LgpioBus(module.lgpio, factory._handle, clock_pins, data_pins, stats, perf_counter)
