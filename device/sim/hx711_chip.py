"""A bit-level HX711 behind gpiozero mock pins, in real time.

The simulated chip follows the Avia HX711 datasheet as far as a driver can
observe it (see shared/HX711-NOTES.md):

- it converts continuously at 10 or 80 samples/s; DOUT goes low when a
  conversion is ready; PD_SCK idles low;
- each rising edge of PD_SCK shifts out one of 24 bits, MSB first, two's
  complement, valid right after the edge; pulses 25 / 26 / 27 select channel A
  gain 128 / channel B gain 32 / channel A gain 64 for the next conversion, and
  the 25th drives DOUT high; more than 27 pulses, or a read left unfinished for
  a whole conversion period, is a communication error;
- PD_SCK high for more than 60 us powers the chip down (DOUT high); PD_SCK low
  again resets it (channel A, gain 128) and the next 4 conversions are
  settling values, not data (so are the 4 after a change of channel or gain):
  far off and coming in, ``settling_offset`` counts off the input (400,000 by
  default, as a tester's chip showed), then half as far each conversion;
- the analogue input is ``source(t) -> counts`` (t in seconds since the chip's
  ``epoch``), saturating at 0x800000 / 0x7FFFFF; gain 64 halves it, channel B
  has its own ``source_b``.

Where the datasheet is silent the model picks one behaviour and says so: a
conversion that completes while a read is under way is lost (the output
register is not reloaded mid-shift); a clock pulse while no conversion is
ready is a communication error and shifts nothing; a chip's first conversion
after a reset comes one conversion period (plus ``phase_s``) after it, unless
``wake_s`` says otherwise (``wake_s=0``: at once, so a reader still clocking
meets DOUT low and shifts out an unsettled conversion).

Plugging in: the clock is an :class:`HX711ClockPin`, which passes each edge
to every chip listening on it, so several chips can share one PD_SCK line;
each chip drives its own :class:`HX711DataPin`. Both are ordinary gpiozero
mock pins, made with ``MockFactory.pin(n, pin_class=...)`` as gpiozero's own
``MockSPIClockPin`` is; :func:`attach_chip` and :func:`attach_array` do that.

Time: the chip has no thread. The clock pin stamps each edge
(``timebase.perf_counter()``) and queues it; the chip replays queued edges and
the conversions due in between, in time order, whenever DOUT is read (or
:meth:`HX711Chip.sync` is called). So a pulse is judged by when its edges
really happened, the simulation's own work stays out of the SCK-high time it
measures (a real chip reacts within 0.1 us), and no model thread competes with
the reader for the GIL. The price: DOUT's recorded history shows a change when
it was first looked at, and ``when_changed`` on DOUT fires only when polled.

``timebase`` is where the chips and their pins get the time: ``REAL_TIME``
(the machine's clock, the default: what the simulated daemon and the
benchmark run on) or a :class:`VirtualTime`, which passes only when the
reader sleeps or a test stalls it, so that on a busy test machine every long
clock pulse is one the test asked for. A driver under test takes the same
object (``HX711Array(..., timebase=...)``).

Misbehaviour switches, settable at any time: ``unplugged``, ``stuck``,
``noise``, ``slow``, ``glitch_rate`` and :meth:`HX711Chip.inject_glitch`;
:meth:`HX711ClockPin.preempt` stalls the writer with PD_SCK high.

Mock pins record every state change in ``pin.states``; at 80 frames/s a clock
line adds about 4,000 entries a second, so these pins keep only the last
``history`` changes (a bounded deque; ``history=None`` keeps all, as gpiozero's
``MockPin`` does; ``history=0`` keeps none, for a simulated daemon that never
reads them: recording a change is a tenth of the simulation's cost).
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Callable, Sequence

from gpiozero.exc import PinFixedPull, PinInvalidPull
from gpiozero.pins.mock import MockFactory, MockPin, PinState

# Datasheet numbers.
POWER_DOWN_S = 60e-6          # PD_SCK high longer than this powers the chip down
SETTLING_CONVERSIONS = 4      # conversions that are not data after reset / gain change
RAIL_LOW = -0x800000          # two's complement output saturates here ...
RAIL_HIGH = 0x7FFFFF          # ... and here
CHAN_A_GAIN_128 = 25          # pulses per read, selecting the next conversion
CHAN_B_GAIN_32 = 26
CHAN_A_GAIN_64 = 27

# A floating DOUT (chip unplugged, no pull resistor) picks up the clock line:
# it reads high while PD_SCK is high and for this long after, low otherwise.
FLOAT_COUPLING_S = 1e-3

DEFAULT_HISTORY = 10_000      # state changes a simulated pin remembers
_MAX_QUEUED_EDGES = 128       # a chip nobody reads catches up at this many

Source = Callable[[float], float] | int | float


def _spin(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


class RealTime:
    """The machine's own time, as the time module gives it: what a simulated
    chip lives by unless told otherwise. ``stall`` busy-waits, as a preempted
    writer does (it is not asleep: it holds the line where it is)."""

    monotonic = staticmethod(time.monotonic)
    perf_counter = staticmethod(time.perf_counter)
    sleep = staticmethod(time.sleep)
    stall = staticmethod(_spin)


REAL_TIME = RealTime()


class VirtualTime:
    """Simulated seconds for tests: time passes only when someone sleeps or
    stalls in it. Chips, pins and the driver sharing one never see a pulse
    longer than the stalls a test injects, however loaded the machine is.

    Has what the model and the driver use of the time module: ``monotonic()``
    and ``perf_counter()`` (one clock, starting at ``start`` seconds) and
    ``sleep(seconds)``; plus ``stall(seconds)`` (a writer held up) and
    ``oversleep_s``, how late every sleep ends (an operating system wakes a
    sleeping thread late: tens of microseconds on Linux). A pin write or read
    takes no time. Meant for one thread at a time.
    """

    def __init__(self, start: float = 1000.0, oversleep_s: float = 0.0):
        self.now = start
        self.oversleep_s = oversleep_s

    def monotonic(self) -> float:
        return self.now

    perf_counter = monotonic

    def sleep(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        self.now += seconds + self.oversleep_s

    def stall(self, seconds: float) -> None:
        self.now += seconds


def saturate(counts: float) -> int:
    """Clamp a reading to the 24-bit two's complement range, as the chip does."""
    value = int(round(counts))
    if value > RAIL_HIGH:
        return RAIL_HIGH
    if value < RAIL_LOW:
        return RAIL_LOW
    return value


def _history(history: int | None, first: PinState) -> deque | list:
    if history is None:
        return [first]
    return deque([first], maxlen=max(history, 1))


class HX711ClockPin(MockPin):
    """PD_SCK as a mock pin: each edge goes to every chip in ``listeners``.

    ``history`` bounds ``states`` (None keeps everything); its times come
    from ``timebase.perf_counter()``, the clock the chips judge pulses by.
    """

    def __init__(self, factory, info, history: int | None = DEFAULT_HISTORY, timebase=REAL_TIME):
        self.history = history
        self.timebase = timebase
        self._now = timebase.perf_counter      # bound once: called on every edge
        self._stall = timebase.stall
        self.listeners: list[HX711Chip] = []
        self.queued = 0                         # edges since the last catch_up
        self._preempt: list[list] = []  # [rising edges to let pass, seconds, before_edge]
        super().__init__(factory, info)

    def clear_states(self):
        self._last_change = self._now()
        self.states = _history(self.history, PinState(0.0, self._state))

    def _set_state(self, value):
        if self._function != "output":
            return super()._set_state(value)     # gpiozero's error for an input pin
        self._change_state(bool(value))

    def _change_state(self, value):
        # MockPin._change_state, with one clock (the one that also stamps
        # the edge) and no call through: the writer's pulse, which the
        # driver times, is spent here.
        if self._state == value:
            return False
        due = self._due_stalls() if value and self._preempt else ()
        for seconds, before_edge in due:
            if before_edge:
                self._stall(seconds)
        t = self._now()
        self._state = value
        if self.history != 0:
            self.states.append(PinState(t - self._last_change, value))
            self._last_change = t
        edge = (value, t)
        for chip in self.listeners:
            chip.edges.append(edge)
        self.queued += 1
        if self.queued > _MAX_QUEUED_EDGES * 64 and not value:
            # Nobody reads any DOUT on this clock: catch up here to bound
            # the memory (a reader would have done it between pulses).
            self.catch_up(t)
        for seconds, before_edge in due:
            if not before_edge:
                self._stall(seconds)
        return True

    def catch_up(self, now: float) -> None:
        """Bring up to date the chips with many queued edges (those whose
        DOUT nobody reads)."""
        self.queued = 0
        for chip in self.listeners:
            if len(chip.edges) > _MAX_QUEUED_EDGES:
                chip.sync(now)

    def preempt(self, seconds: float, after_rises: int = 0, *, before_edge: bool = False) -> None:
        """Stall whoever raises PD_SCK for ``seconds``, on the rising edge
        ``after_rises`` rising edges from now: what a reader preempted
        mid-pulse does to the chip. ``before_edge``: stall inside the write
        before the line rises, so the writer measures a long pulse that the
        chip never saw (a reader preempted between its clock and its edge)."""
        self._preempt.append([after_rises, seconds, before_edge])

    def _due_stalls(self) -> list[tuple[float, bool]]:
        due = []
        for item in list(self._preempt):
            if item[0] > 0:
                item[0] -= 1
            else:
                self._preempt.remove(item)
                due.append((item[1], item[2]))
        return due


class HX711DataPin(MockPin):
    """DOUT as a mock input pin, driven by the chip in ``chip``.

    Reading its state brings the chip up to date first. A pull set on it only
    matters while the chip is unplugged (the HX711 drives DOUT push-pull).
    """

    def __init__(self, factory, info, history: int | None = DEFAULT_HISTORY, timebase=REAL_TIME):
        self.history = history
        self.timebase = timebase
        self._now = timebase.perf_counter
        self._monotonic = timebase.monotonic   # pin histories, as MockPin keeps them
        self.chip: HX711Chip | None = None
        super().__init__(factory, info)

    def clear_states(self):
        self._last_change = self._monotonic()
        self.states = _history(self.history, PinState(0.0, self._state))

    def _change_state(self, value):
        # MockPin._change_state, recording the change only if history is kept.
        if self._state == value:
            return False
        self._state = value
        if self.history != 0:
            t = self._monotonic()
            self.states.append(PinState(t - self._last_change, value))
            self._last_change = t
        return True

    def _get_state(self):
        chip = self.chip
        if chip is not None:
            now = self._now()
            clock = chip.clock
            if clock is not None and clock.queued > _MAX_QUEUED_EDGES:
                # Chips on the same clock whose DOUT nobody reads catch up
                # here, while the reader samples DOUT (PD_SCK low), never
                # inside a clock write, where the time would count as high.
                clock.catch_up(now)
            chip.sync(now)
            level = chip._line if not chip._unplugged else chip.line(now)
            if level != self._state and self._change_state(level):
                if self._when_changed is not None and self._edges in (
                        "both", "rising" if level else "falling"):
                    self._call_when_changed()
        return self._state

    def _set_pull(self, value):
        if self.chip is None:
            return super()._set_pull(value)
        if self.function != "input":
            raise PinFixedPull(f"cannot set pull on non-input pin {self!r}")
        if self.info.pull and value != self.info.pull:
            raise PinFixedPull(f"{self!r} has a fixed pull resistor")
        if value not in ("floating", "up", "down"):
            raise PinInvalidPull("pull must be floating, up, or down")
        self._pull = value
        self._get_state()


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

    def __init__(self, source: Source = 0, *, source_b: Source = 0, rate_hz: int = 80,
                 phase_s: float = 0.0, epoch: float | None = None, seed: int | None = 0,
                 power_down_s: float | None = POWER_DOWN_S, settling_offset: float = 400_000,
                 wake_s: float | None = None, timebase=REAL_TIME):
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
        self.edges: list[tuple[bool, float]] = []   # clock edges not yet replayed

        # Misbehaviour switches.
        self.noise = 0.0          # standard deviation of extra noise, counts
        self.glitch_rate = 0.0    # probability that a read glitches
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
                    if (0 < pulses < 24 and self._glitch_at is None and t < self._next_tick
                            and self._powered and not self._unplugged):
                        pulses += 1
                        self._pulses = pulses
                        self._line = bool(self._reg >> (24 - pulses) & 1)
                        self._clock_high = True
                        self._t_rise = t
                    else:
                        self._rise(t)
                else:
                    high_for = t - self._t_rise
                    if (t < self._next_tick and (limit is None or high_for <= limit)
                            and self._powered and not self._unplugged and not self._stray):
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
        self._t_up = first - self._period   # conversions complete at t_up + k * period, k >= 1
        self._ticks = 0
        self._next_tick = first
        self._settle = settling
        self._ready = False
        self._reg = 0
        self._pulses = 0             # pulses in the read under way (0: none)
        self._read_ticks = 0         # conversions that completed during it
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
        if self._clock_high and self.power_down_s is not None \
                and now - self._t_rise > self.power_down_s:
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
                        f"read abandoned after {self._pulses} pulses (fewer than 25 in a conversion period)")
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
            place = SETTLING_CONVERSIONS - settling_before + new     # 1 for the first
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
        self._update(t)         # powers down if PD_SCK was high too long
        self._clock_high = False
        self._t_fall = t
        high_for = t - self._t_rise
        if high_for > self._max_high:
            self._max_high = high_for
        if self._unplugged:
            return
        if not self._powered:
            self._power_up(t)   # PD_SCK low again: reset
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


def attach_chip(factory: MockFactory, clock_pin: int | str, data_pin: int | str,
                chip: HX711Chip | None = None, *, history: int | None = DEFAULT_HISTORY,
                **kwargs) -> HX711Chip:
    """Plug a simulated HX711 into ``factory``'s pins; kwargs go to HX711Chip.

    Call before the driver opens the pins (the factory then hands the driver
    these pin objects). Several chips may share one ``clock_pin``.
    """
    chip = chip if chip is not None else HX711Chip(**kwargs)
    clock = factory.pin(clock_pin, pin_class=HX711ClockPin, history=history, timebase=chip.timebase)
    dout = factory.pin(data_pin, pin_class=HX711DataPin, history=history, timebase=chip.timebase)
    chip.attach(clock, dout)
    return chip


def attach_array(factory: MockFactory, sensor, sources: Sequence[Source] = (0, 0, 0, 0), *,
                 phases_s: Sequence[float] = (0.0, 0.0, 0.0, 0.0),
                 history: int | None = DEFAULT_HISTORY, **kwargs) -> list[HX711Chip]:
    """Plug one simulated HX711 per data pin of ``sensor`` (a config.Sensor),
    on its shared clock or its per-chip clocks, with one epoch for all.
    kwargs go to every HX711Chip (``seed`` is offset by the chip's index)."""
    clocks = sensor.clock_pins or (sensor.clock_pin,) * len(sensor.data_pins)
    kwargs.setdefault("epoch", kwargs.get("timebase", REAL_TIME).perf_counter())
    kwargs.setdefault("rate_hz", sensor.rate_hz)
    seed = kwargs.pop("seed", 0)
    chips = []
    for i, (clock, data) in enumerate(zip(clocks, sensor.data_pins)):
        chips.append(attach_chip(factory, clock, data, history=history, source=sources[i],
                                 phase_s=phases_s[i], seed=None if seed is None else seed + i,
                                 **kwargs))
    return chips
