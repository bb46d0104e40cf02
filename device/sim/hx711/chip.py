"""One simulated HX711: conversions, the bits it shifts out, power-down and settling (see the package's docstring)."""

from __future__ import annotations

import random

from device.hardware.hx711.datasheet import (
    CHAN_A_GAIN_64,
    CHAN_A_GAIN_128,
    CHAN_B_GAIN_32,
    POWER_DOWN_S,
    SETTLING_CONVERSIONS,
    saturate,
)
from device.sim.hx711.pins import FLOAT_COUPLING_S, HX711ClockPin, HX711DataPin, Source
from device.sim.hx711.timebase import REAL_TIME


class HX711Chip:
    """One simulated HX711.

    :param source: the channel A input in counts at gain 128: a number, or a
        callable ``source(t)`` with ``t`` in seconds since ``epoch``.
    :param source_b: the channel B input in counts at gain 32, likewise.
    :param rate_hz: the RATE pin: 80 or 10 samples/s.
    :param phase_s: delay from power-up (and from creation) to the start of
        the first conversion period; chips with different phases become ready
        at different moments.
    :param epoch: ``timebase.perf_counter()`` time that ``source`` sees as 0
        (default: now).
    :param seed: seeds the chip's own random numbers (noise, glitches).
    :param power_down_s: PD_SCK high time that powers the chip down (the
        datasheet's 60 us; None: never).
    :param settling_offset: counts by which the first settling conversion
        (after a reset, or a change of channel or gain) misses the input;
        each of the next three misses by half as much as the one before.
    :param wake_s: seconds from a reset (PD_SCK low after a power-down, or
        plugging in) to the first conversion; None: one period plus
        ``phase_s`` (the datasheet does not say; 0 is a chip with an
        unsettled conversion ready at once).
    :param timebase: where the chip gets the time: ``REAL_TIME`` or a
        :class:`VirtualTime`; its pins must use the same.

    A new chip has been on for a while: settled, channel A gain 128, its first
    conversion one period (plus ``phase_s``) away. Counters (``reads``,
    ``conversions``, ``power_downs``, ``comm_errors``...) are up to date
    whenever read.
    """

    _pulses: int  # pulses in the read under way (0: none)
    _stray: bool

    def __init__(
        self,
        source: Source = 0,
        *,
        source_b: Source = 0,
        rate_hz: int = 80,
        phase_s: float = 0.0,
        epoch: float | None = None,
        seed: int | None = 0,
        power_down_s: float | None = POWER_DOWN_S,
        settling_offset: float = 400_000,
        wake_s: float | None = None,
        timebase=REAL_TIME,
    ):
        if rate_hz not in (10, 80):
            raise ValueError(f"rate_hz must be 10 or 80, got {rate_hz}")
        self.timebase = timebase
        self._now = timebase.perf_counter
        now = self._now()
        self.source = source
        self.source_b = source_b
        self.phase_s = phase_s
        self.epoch = now if epoch is None else epoch
        self.power_down_s = power_down_s
        self.settling_offset = settling_offset
        self.wake_s = wake_s
        self.rng = random.Random(seed)
        self.clock: HX711ClockPin | None = None
        self.dout: HX711DataPin | None = None
        self.edges: list[tuple[bool, float]] = []  # clock edges not yet replayed

        # Misbehaviour switches.
        self.noise = 0.0  # standard deviation of extra noise, counts
        self.glitch_rate = 0.0  # probability that a read glitches
        self._rate_hz = rate_hz
        self._slow = 1.0
        self._stuck: int | None = None
        self._unplugged = False
        self._glitch_next: int | None = None

        self._conversions = 0
        self._reads = 0
        self._lost = 0
        self._power_downs = 0
        self._comm_errors: list[str] = []
        self._max_high = 0.0

        self._clock_high = False
        self._t_rise = 0.0
        self._t_fall = -1.0
        self._period = 1.0 / rate_hz
        self._last_value = 0
        self._line = True
        self._start(now + phase_s + self._period, settling=0)

    # -- counters -----------------------------------------------------------

    @property
    def conversions(self) -> int:
        """Conversions completed."""
        self.sync()
        return self._conversions

    @property
    def reads(self) -> int:
        """Reads that got to the 25th pulse."""
        self.sync()
        return self._reads

    @property
    def lost_conversions(self) -> int:
        """Conversions that completed while a read was under way."""
        self.sync()
        return self._lost

    @property
    def power_downs(self) -> int:
        self.sync()
        return self._power_downs

    @property
    def comm_errors(self) -> list[str]:
        """What went wrong on the serial interface, oldest first."""
        self.sync()
        return list(self._comm_errors)

    @property
    def max_high_s(self) -> float:
        """Longest time PD_SCK was high."""
        self.sync()
        return self._max_high

    # -- state seen from outside ------------------------------------------

    @property
    def powered(self) -> bool:
        self.sync()
        return self._powered

    @property
    def gain_pulses(self) -> int:
        """Channel and gain in force: 25 (A, 128), 26 (B, 32) or 27 (A, 64)."""
        self.sync()
        return self._selection

    @property
    def settling(self) -> int:
        """Conversions still to come that are settling values, not data."""
        self.sync()
        return self._settle

    @property
    def period_s(self) -> float:
        return self._period

    # -- misbehaviour switches ------------------------------------------

    @property
    def rate_hz(self) -> int:
        return self._rate_hz

    @rate_hz.setter
    def rate_hz(self, value: int) -> None:
        if value not in (10, 80):
            raise ValueError(f"rate_hz must be 10 or 80, got {value}")
        self._rate_hz = value
        self._retime()

    @property
    def slow(self) -> float:
        """Conversion period relative to nominal: 2.0 converts at half rate."""
        return self._slow

    @slow.setter
    def slow(self, factor: float) -> None:
        if factor <= 0:
            raise ValueError("slow must be positive")
        self._slow = factor
        self._retime()

    @property
    def stuck(self) -> bool:
        """True: every conversion repeats the last value, whatever the input."""
        return self._stuck is not None

    @stuck.setter
    def stuck(self, value: bool) -> None:
        self.sync()
        self._stuck = self._last_value if value else None

    @property
    def unplugged(self) -> bool:
        """True: the chip is absent and DOUT floats; its pull decides what a
        reader sees: up reads high (never ready); down reads low; none picks
        up the clock: low (ready) when idle, all ones when clocked. Plugging
        back in powers the chip up."""
        return self._unplugged

    @unplugged.setter
    def unplugged(self, value: bool) -> None:
        now = self._now()
        self.sync(now)
        if not value and self._unplugged:
            self._unplugged = False
            self._power_up(now)
        self._unplugged = bool(value)
        if self.dout is not None:
            self.dout._get_state()

    def inject_glitch(self, from_pulse: int = 3) -> None:
        """Make the next read glitch: DOUT goes high from pulse ``from_pulse``
        (1-24) on, so the low 25 - from_pulse bits read as ones (a small
        positive value reads 2**(25 - from_pulse) - 1)."""
        if not 1 <= from_pulse <= 24:
            raise ValueError("from_pulse must be 1..24")
        self._glitch_next = from_pulse

    # -- wiring -----------------------------------------------------------

    def attach(self, clock: HX711ClockPin, dout: HX711DataPin) -> None:
        """Listen to ``clock`` and drive ``dout``."""
        if not isinstance(clock, HX711ClockPin):
            raise TypeError(f"{clock!r} is a {type(clock).__name__}, not an HX711ClockPin")
        if not isinstance(dout, HX711DataPin):
            raise TypeError(f"{dout!r} is a {type(dout).__name__}, not an HX711DataPin")
        if clock.timebase is not self.timebase or dout.timebase is not self.timebase:
            raise ValueError("the chip and its pins must keep one time (timebase)")
        if dout.chip is not None and dout.chip is not self:
            raise ValueError(f"{dout!r} is already driven by another chip")
        self.sync()
        self.clock, self.dout = clock, dout
        clock.listeners.append(self)
        dout.chip = self
        self._clock_high = bool(clock._state)
        dout._get_state()

    def detach(self) -> None:
        self.sync()
        if self.clock is not None and self in self.clock.listeners:
            self.clock.listeners.remove(self)
        if self.dout is not None and self.dout.chip is self:
            self.dout.chip = None
        self.clock = self.dout = None

    # -- time -------------------------------------------------------------

    def sync(self, now: float | None = None) -> None:
        """Replay queued clock edges and conversions up to ``now``
        (``timebase.perf_counter()`` seconds, default the present)."""
        if now is None:
            now = self._now()
        edges = self.edges
        if edges:
            self.edges = []
            # The hot path of a simulated read (8 of these per pulse on a
            # 4-chip clock): an ordinary pulse of a read under way is
            # handled inline; anything else goes to _rise / _fall.
            limit = self.power_down_s
            for high, t in edges:
                if high:
                    pulses = self._pulses
                    if (
                        0 < pulses < 24
                        and self._glitch_at is None
                        and t < self._next_tick
                        and self._powered
                        and not self._unplugged
                    ):
                        pulses += 1
                        self._pulses = pulses
                        self._line = bool(self._reg >> (24 - pulses) & 1)
                        self._clock_high = True
                        self._t_rise = t
                    else:
                        self._rise(t)
                else:
                    high_for = t - self._t_rise
                    if (
                        t < self._next_tick
                        and (limit is None or high_for <= limit)
                        and self._powered
                        and not self._unplugged
                        and not self._stray
                    ):
                        self._clock_high = False
                        self._t_fall = t
                        if high_for > self._max_high:
                            self._max_high = high_for
                    else:
                        self._fall(t)
        if self._powered and not self._unplugged and (self._clock_high or now >= self._next_tick):
            self._update(now)

    def line(self, now: float) -> bool:
        """The level on DOUT at ``now`` (``timebase.perf_counter()`` seconds)."""
        self.sync(now)
        if not self._unplugged:
            return self._line
        pull = self.dout._pull if self.dout is not None else "floating"
        if pull == "up":
            return True
        if pull == "down":
            return False
        return self._clock_high or now - self._t_fall < FLOAT_COUPLING_S

    # -- the chip -----------------------------------------------------------

    def _start(self, first: float, settling: int) -> None:
        """Power up with the first conversion due at ``first``."""
        self._powered = True
        self._t_up = first - self._period  # conversions complete at t_up + k * period, k >= 1
        self._ticks = 0
        self._next_tick = first
        self._settle = settling
        self._ready = False
        self._reg = 0
        self._pulses = 0  # pulses in the read under way (0: none)
        self._read_ticks = 0  # conversions that completed during it
        self._selection = CHAN_A_GAIN_128
        self._pending = CHAN_A_GAIN_128
        self._glitch_at: int | None = None
        self._stray = False
        self._line = True

    def _retime(self) -> None:
        """Re-anchor the conversion schedule after a change of period."""
        now = self._now()
        self.sync(now)
        self._period = self._slow / self._rate_hz
        if self._powered:
            last = self._t_up + self._ticks * self._period
            self._t_up = max(last, now - self._period)
            self._ticks = 0
            self._next_tick = self._t_up + self._period

    def _power_down(self) -> None:
        self._powered = False
        self._ready = False
        self._pulses = 0
        self._power_downs += 1
        self._line = True

    def _power_up(self, t: float) -> None:
        wake = self.phase_s + self._period if self.wake_s is None else self.wake_s
        self._start(t + wake, settling=SETTLING_CONVERSIONS)

    def _convert(self, t: float) -> int:
        if self._stuck is not None:
            return self._stuck
        source = self.source_b if self._selection == CHAN_B_GAIN_32 else self.source
        value = source(t - self.epoch) if callable(source) else source
        if self._selection == CHAN_A_GAIN_64:
            value = value / 2
        if self.noise:
            value += self.rng.gauss(0.0, self.noise)
        return saturate(value)

    def _update(self, now: float) -> None:
        if self._unplugged or not self._powered:
            return
        if self._clock_high and self.power_down_s is not None and now - self._t_rise > self.power_down_s:
            self._advance(self._t_rise + self.power_down_s)
            self._power_down()
            return
        if now >= self._next_tick:
            self._advance(now)

    def _advance(self, now: float) -> None:
        # (a hair added so that a conversion due exactly now is not lost to
        # rounding: virtual time hits due times exactly)
        ticks = int((now - self._t_up) / self._period + 1e-9)
        new = ticks - self._ticks
        if new <= 0:
            return
        self._ticks = ticks
        self._next_tick = self._t_up + (ticks + 1) * self._period
        self._conversions += new
        lost = False
        if self._pulses:
            if self._pulses < CHAN_A_GAIN_128:
                # The output register is not reloaded while it is shifted
                # out: a conversion completing mid-read is lost. A read left
                # unfinished for a whole conversion period is abandoned.
                self._read_ticks += new
                lost = self._read_ticks < 2
                self._lost += new if lost else new - 1
                if not lost:
                    self._comm_errors.append(
                        f"read abandoned after {self._pulses} pulses (fewer than 25 in a conversion period)"
                    )
            elif self._pending != self._selection:
                # Pulses 25-27 chose the channel and gain of what follows.
                self._selection = self._pending
                self._settle = SETTLING_CONVERSIONS
            if not lost:
                self._pulses = 0
        # Settling goes by conversions made, read or not (the filter runs on).
        settling_before = self._settle
        if settling_before:
            self._settle -= min(new, settling_before)
        if lost:
            return
        value = self._convert(self._t_up + ticks * self._period)
        self._last_value = value
        if new <= settling_before:
            # Settling: far off, then half as far each conversion.
            place = SETTLING_CONVERSIONS - settling_before + new  # 1 for the first
            value = saturate(value + self.settling_offset / 2 ** (place - 1))
        self._reg = value & 0xFFFFFF
        self._ready = True
        self._line = False

    def _rise(self, t: float) -> None:
        if self._powered and not self._unplugged:
            if t >= self._next_tick:
                self._advance(t)
            self._shift()
        self._clock_high = True
        self._t_rise = t

    def _fall(self, t: float) -> None:
        self._update(t)  # powers down if PD_SCK was high too long
        self._clock_high = False
        self._t_fall = t
        high_for = t - self._t_rise
        if high_for > self._max_high:
            self._max_high = high_for
        if self._unplugged:
            return
        if not self._powered:
            self._power_up(t)  # PD_SCK low again: reset
        elif self._stray:
            self._stray = False
            self._comm_errors.append("clock pulse while no conversion was ready")

    def _shift(self) -> None:
        pulses = self._pulses
        if pulses == 0:
            if not self._ready:
                self._stray = True
                return
            # A read begins: the ready conversion is now being shifted out.
            self._ready = False
            self._read_ticks = 0
            self._glitch_at = self._glitch_next
            self._glitch_next = None
            if self._glitch_at is None and self.glitch_rate and self.rng.random() < self.glitch_rate:
                self._glitch_at = self.rng.randint(2, 12)
        pulses += 1
        self._pulses = pulses
        if pulses <= 24:
            glitch = self._glitch_at
            if glitch is not None and pulses >= glitch:
                self._line = True
            else:
                self._line = bool((self._reg >> (24 - pulses)) & 1)
        elif pulses <= CHAN_A_GAIN_64:
            self._pending = pulses
            if pulses == CHAN_A_GAIN_128:
                self._reads += 1
                self._line = True
        elif pulses == CHAN_A_GAIN_64 + 1:
            self._comm_errors.append("more than 27 pulses in one read")
