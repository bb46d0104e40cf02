"""Four HX711 load-cell amplifiers read through gpiozero's pin factory.

:class:`HX711Array` takes its pins from ``Device.pin_factory`` (which honours
``GPIOZERO_PIN_FACTORY``), so the same code reads lgpio pins on a Pi and
simulated chips on mock pins in tests (``device.sim.hx711``). Two wirings
(SPEC section 7): one PD_SCK shared by the four chips, where one train of 25
pulses reads all four at once, or one PD_SCK per chip (``clock_pins``). With
gpiozero's lgpio factory the lines are driven through lgpio's group calls
(:class:`_LgpioBus`, small and separate); with any other factory through the
factory's pins (:class:`_PinBus`, the path the tests exercise).

What the driver guarantees (shared/HX711-NOTES.md, "What a driver worth
trusting does"):

- exactly 25 pulses a frame (channel A, gain 128), right after a reset too;
- two's complement to a signed int (0xFFFFFF is -1); rail values flagged;
- waits for DOUT low with a deadline, sleeping between looks, and names a
  chip that never answers; clocks only when every chip it reads is ready;
- every DOUT must be high after the 25th pulse, else the frame is dropped and
  the chips resynchronised;
- every SCK-high is timed, from before the write that raises PD_SCK to after
  the one that lowers it (an upper bound: the driver cannot see the edges):
  over 50 us the frame is dropped; over 60 us every chip on that clock may
  have powered down, so the train stops there and they are all
  resynchronised (held in power-down, reset, 4 settling conversions read
  and thrown away). Nothing a chip shows afterwards proves it stayed awake:
  the datasheet does not say how soon a reset chip has its first (unsettled)
  conversion ready, so a data 0 after the pulse may be one of those;
- no frame is passed on until every chip read has settled since its last
  reset: the 4 conversions of each are read and dropped (``settling``);
- single readings shaped like a glitch (DOUT high mid-read: the low bits all
  ones, 2**n - 1) that jump away from the channel's last value are rejected;
  a genuine 0 or -1 is kept;
- a chip silent for ``deadline_s`` is written off (None in the frame, its name
  in ``Frame.faults``) and power-cycled; the others go on being read without
  waiting for it. It is taken back when its DOUT goes high and then low again:
  first power-cycled once more, since on a shared clock it has caught pulses
  meant for the others (a chip that becomes ready mid-train and then gets the
  next train too has had over 27 pulses: lost its place, and switched to
  gain 64), then waited for and settled like the rest.

adafruit-circuitpython-hx711 (1.1.2) supplies the pulse counts for channel and
gain and the reset sequence (PD_SCK high 1 ms, then low). Its read path cannot
do this job under CPython on Linux, and tests/test_hx711_driver.py shows each
reason: ``read_fast`` calls ``microcontroller.disable_interrupts()``, which
Blinka on Linux does not have; its ``delay_us(1)`` is ``time.sleep(1e-6)``,
tens of microseconds with PD_SCK high, enough to power the chip down;
``value |= 0xFF000000`` leaves a negative reading a large positive Python int;
``while self.is_busy: pass`` spins forever on an unplugged chip; ``read()``
throws away one conversion per call (half rate). Hence the read path below.
"""

from __future__ import annotations

import gc
import logging
import time

from gpiozero import Device

from device.config import CHANNELS, Sensor
from device.hardware.hx711.buses import _BIT_AS_DIGIT, _lgpio_bus, _LgpioBus, _PinBus
from device.hardware.hx711.cadence import FAST_RATE_MARGIN, ReadyCadence
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
)
from device.hardware.hx711.readings import Frame, GlitchFilter, HX711Stats

log = logging.getLogger("device.hardware.hx711")

WARM_UP_WRITES = 2  # PD_SCK-low writes before each timed train


class _Chip:
    """What the array knows of one chip."""

    __slots__ = ("name", "clock", "fault", "recovering", "seen_busy", "discard", "bad_since")

    def __init__(self, name: str, clock: int):
        self.name = name
        self.clock = clock  # index into the clock pins
        self.fault: str | None = None  # why it is written off (not waited for, not read)
        self.recovering = False  # answers again, no reading passed on yet
        self.seen_busy = False  # written off, and DOUT seen high since
        self.discard = 0  # conversions to read and throw away
        self.bad_since: float | None = None


class HX711Array(Device):
    """Several HX711s read together, one signed reading per chip per frame.

    :param sensor: the wiring (config.Sensor): ``clock_pin`` shared by all
        chips, or one of ``clock_pins`` per chip; ``data_pins`` in channel
        order; ``rate_hz`` the boards' RATE setting (80 or 10).
    :param pin_factory: a gpiozero pin factory; None uses Device.pin_factory.
    :param names: channel names, in data pin order.
    :param max_high_s: a clock pulse high longer than this drops the frame.
    :param power_down_s: one longer than this means the chips on it may have
        powered down: the train stops and they are resynchronised.
    :param reject_glitches: drop readings that look like a mid-read glitch
        (see GlitchFilter); False passes every reading on.
    :param poll_s: seconds between looks at DOUT while waiting (default 1/50
        of a conversion period: 0.25 ms at 80 samples/s).
    :param fast_path: with the lgpio factory, drive the lines through lgpio's
        group calls instead of gpiozero's pins.
    :param timebase: where the time comes from: anything with
        ``monotonic()``, ``perf_counter()`` (seconds) and ``sleep(seconds)``;
        the time module by default. Tests pass the chips' simulated time
        (device.sim.hx711.VirtualTime).

    Opening the array resets the chips; the first frame comes once they have
    settled (5 conversion periods). Use as a context manager or call close().
    """

    def __init__(
        self,
        sensor: Sensor | None = None,
        *,
        pin_factory=None,
        names: tuple[str, ...] = CHANNELS,
        max_high_s: float = MAX_HIGH_S,
        power_down_s: float = POWER_DOWN_S,
        reject_glitches: bool = True,
        poll_s: float | None = None,
        fast_path: bool = True,
        timebase=time,
    ):
        self._bus: _PinBus | _LgpioBus | None = None
        # Bound once: the real path calls the time module's own functions.
        self._monotonic = timebase.monotonic
        self._perf_counter = timebase.perf_counter
        self._sleep = timebase.sleep
        super().__init__(pin_factory=pin_factory)
        sensor = sensor if sensor is not None else Sensor()
        data_pins = tuple(sensor.data_pins)
        if not 1 <= len(data_pins) <= len(_BIT_AS_DIGIT):
            raise ValueError(f"{len(data_pins)} data pins: 1 to {len(_BIT_AS_DIGIT)} chips can be read together")
        if len(names) != len(data_pins):
            raise ValueError(f"{len(names)} names for {len(data_pins)} data pins")
        if sensor.clock_pins:
            clock_pins = tuple(sensor.clock_pins)
            if len(clock_pins) != len(data_pins):
                raise ValueError(f"{len(clock_pins)} clock pins for {len(data_pins)} data pins")
            clock_of = tuple(range(len(data_pins)))
        else:
            clock_pins = (sensor.clock_pin,)
            clock_of = (0,) * len(data_pins)
        if len(set(clock_pins + data_pins)) != len(clock_pins + data_pins):
            raise ValueError(f"a pin is used twice: clocks {clock_pins}, data {data_pins}")
        if not 0 < max_high_s <= power_down_s:
            raise ValueError("need 0 < max_high_s <= power_down_s")
        self.sensor = sensor
        self.names = tuple(names)
        self.stats = HX711Stats()
        self._clock_pins = clock_pins
        self._data_pins = data_pins
        self._chips = [_Chip(name, clock) for name, clock in zip(names, clock_of)]
        self._period = 1.0 / sensor.rate_hz
        self._poll_s = poll_s if poll_s is not None else self._period / 50
        self._max_high_s = max_high_s
        self._power_down_s = power_down_s
        self._filter = GlitchFilter(len(data_pins)) if reject_glitches else None
        self._not_before: float | None = None
        self._cadence = ReadyCadence(self._period, self._poll_s)
        self._deadline_s = 0.5
        self.pin_factory.reserve_pins(self, *clock_pins, *data_pins)
        try:
            bus = None
            if fast_path:
                bus = _lgpio_bus(self.pin_factory, clock_pins, data_pins, self.stats, self._perf_counter)
            if bus is None:
                bus = _PinBus(self.pin_factory, clock_pins, data_pins, self.stats, self._perf_counter)
        except BaseException:
            self.pin_factory.release_all(self)
            raise
        self._bus = bus
        self.reset()

    # -- gpiozero Device --------------------------------------------------

    def close(self) -> None:
        bus = getattr(self, "_bus", None)
        if bus is not None:
            self._bus = None
            try:
                bus.close()
            finally:
                self.pin_factory.release_all(self)
        super().close()

    @property
    def _lines(self) -> _PinBus | _LgpioBus:
        """The open bus (an error once the array is closed)."""
        if self._bus is None:
            raise RuntimeError("the HX711 array is closed")
        return self._bus

    @property
    def closed(self) -> bool:
        return getattr(self, "_bus", None) is None

    @property
    def value(self) -> tuple[int | None, ...]:
        """The raw counts of the next frame (see read_frame)."""
        return self.read_frame().raw

    def __repr__(self) -> str:
        if self.closed:
            return f"<{type(self).__name__} object closed>"
        clocks = ",".join(f"GPIO{n}" for n in self._clock_pins)
        data = ",".join(f"{name}=GPIO{n}" for name, n in zip(self.names, self._data_pins))
        return f"<{type(self).__name__} clock {clocks}, data {data}, via {self.path}>"

    @property
    def path(self) -> str:
        """How the lines are driven: "pins" (gpiozero pins) or "lgpio"."""
        self._check_open()
        return self._lines.name

    @property
    def faults(self) -> tuple[str, ...]:
        """Names of the channels not answering, or not yet settled since."""
        return tuple(c.name for c in self._chips if c.fault is not None or c.recovering)

    # -- reading ------------------------------------------------------------

    def reset(self) -> None:
        """Power-cycle every chip (channel A, gain 128) and forget faults;
        the next frame comes once they have settled."""
        self._check_open()
        for chip in self._chips:
            chip.fault = None
            chip.recovering = chip.seen_busy = False
            chip.bad_since = None
        self._power_cycle(range(len(self._clock_pins)))

    def read_frame(self, deadline_s: float = 0.5) -> Frame:
        """Wait for and read the next frame.

        A chip that has not signalled data-ready within ``deadline_s`` is a
        fault: None in the frame, its name in ``Frame.faults``; it is power-
        cycled, no longer waited for, and read again once it answers and has
        settled. Dropped frames are retried; if none could be read within
        ``deadline_s`` plus the settling time, a frame of Nones is returned
        rather than waiting on.
        """
        self._check_open()
        budget = deadline_s + (SETTLING_CONVERSIONS + 2) * self._period
        give_up = self._monotonic() + budget
        faults = self.stats.faults
        while True:
            frame = self._attempt(deadline_s)
            if frame is None:
                if self.stats.faults != faults:  # a chip was just written off: go on
                    faults = self.stats.faults
                    give_up = self._monotonic() + budget
                elif self._monotonic() > give_up:
                    frame = Frame(self._monotonic(), (None,) * len(self._chips), self.names)
            if frame is not None:
                self.stats.frames += 1
                return frame

    def _attempt(self, deadline_s: float) -> Frame | None:
        """One try at a frame; None if it was dropped, the chips are settling
        or a chip came back."""
        chips = self._chips
        self._deadline_s = deadline_s
        deadline = self._monotonic() + deadline_s
        active = [j for j in range(len(chips)) if chips[j].fault is None]
        missing = self._wait(active, deadline)
        if missing is None:
            return None
        if not active:
            return self._empty()
        for j in missing:
            self._write_off(j, f"no data-ready within {deadline_s:g} s")
        members = [j for j in active if j not in missing]
        frame = self._read(members) if members else self._empty()
        if missing:
            # With a shared clock this resets them all; they settle together.
            self._power_cycle({chips[j].clock for j in missing})
        return frame

    def _wait(self, chips: list[int], deadline: float) -> list[int] | None:
        """Poll DOUT until every chip in ``chips`` is low (ready), sleeping
        between looks; returns those still high at the deadline. Written-off
        chips are watched meanwhile: if one answers again, returns None."""
        now = self._monotonic()
        if self._not_before is not None and now < self._not_before:
            self._sleep(min(self._not_before, deadline) - now)
        bus = self._lines
        off = [j for j in range(len(self._chips)) if self._chips[j].fault is not None]
        pending = list(chips)
        still: list[int] = []
        last_busy = None
        while True:
            busy = bus.levels(pending + off)
            now = self._monotonic()
            if off and self._came_back(off, busy):
                return None
            still = [j for j in pending if busy >> j & 1]
            if (chips and not still) or now >= deadline:
                break
            pending = still
            last_busy = now
            self._sleep(min(self._poll_s, max(deadline - now, 0.0)))
        # The last chip to get ready did so after last_busy: sleep until
        # just before its next conversion.
        self._not_before = self._cadence.ready(last_busy, now) if chips and not still else None
        return still

    def _write_off(self, j: int, reason: str) -> None:
        chip = self._chips[j]
        chip.fault = reason
        chip.recovering = chip.seen_busy = False
        chip.bad_since = None
        self.stats.faults += 1
        log.warning("HX711 %s (DOUT GPIO%s): %s; power-cycling it", chip.name, self._data_pins[j], reason)

    def _came_back(self, off: list[int], busy: int) -> bool:
        """Note the DOUT levels of written-off chips. One seen busy and then
        ready answers again: it is power-cycled (it has seen clock pulses
        meant for the others, maybe mid-conversion, so its place in a read
        and even its gain are unknown) and waited for from now on."""
        chips = self._chips
        back = []
        for j in off:
            chip = chips[j]
            if busy >> j & 1:
                chip.seen_busy = True
            elif chip.seen_busy:
                back.append(j)
        for j in back:
            chip = chips[j]
            log.info("HX711 %s answers again; resetting it", chip.name)
            chip.fault = None
            chip.recovering = True
            chip.seen_busy = False
        if back:
            self._power_cycle({chips[j].clock for j in back})
        return bool(back)

    def _read(self, members: list[int]) -> Frame | None:
        chips = self._chips
        stats = self.stats
        clocks = sorted({chips[j].clock for j in members})
        # Write PD_SCK low (as it is) first, so the first timed pulse does not
        # pay for code and caches gone cold while we slept.
        for _ in range(WARM_UP_WRITES):
            self._lines.set_clocks(clocks, False)
        t = self._monotonic()
        # The CPython analogue of the interrupt lock other drivers take: a
        # collection mid-train would hold PD_SCK high for milliseconds.
        collecting = gc.isenabled()
        gc.disable()
        try:
            samples, worst, over_at = self._lines.train(clocks, members, PULSES, self._power_down_s)
        finally:
            if collecting:
                gc.enable()
        elapsed = self._monotonic() - t
        stats.clock_pulses += len(samples) if over_at is None else over_at + 1
        if worst > stats.worst_high_s:
            stats.worst_high_s = worst
        if over_at is not None:
            # Over 60 us as measured: every chip on these clocks may have
            # powered down and reset as the pulse ended, members or not (a
            # written-off chip shares the line). A data 0 afterwards proves
            # nothing (a reset chip may have an unsettled conversion ready at
            # once), so resync them all: 5 conversions lost, none misread.
            stats.dropped["power_down"] += 1
            self._power_cycle(clocks)
            return None
        if worst > self._max_high_s:
            stats.dropped["sck_high"] += 1  # out of spec, not powered down
            return None
        if elapsed > self._period / 2:
            # A conversion may have completed mid-read: distrust the frame.
            stats.dropped["slow_read"] += 1
            return None

        after = samples[DATA_BITS]
        stuck_low = [j for j in members if not after >> j & 1]
        if stuck_low:
            self._out_of_step(stuck_low, t)
            return None

        settling = False
        for j in members:
            chip = chips[j]
            chip.bad_since = None
            if chip.discard:
                chip.discard -= 1
                stats.discarded += 1
                settling = True
        if settling:
            # Not data until every chip read has settled since its reset
            # (datasheet: 4 conversions); the others' readings go with it.
            stats.dropped["settling"] += 1
            return None

        # The 24 data samples as bytes, so each chip's word is one C-level
        # translate and int() instead of 24 Python shifts (the hottest line).
        data_bits = bytes(samples[:DATA_BITS])
        raw: list[int | None] = [None] * len(chips)
        rails, glitches = [], []
        for j in members:
            chip = chips[j]
            if chip.recovering:
                log.info("HX711 %s reads again", chip.name)
                chip.recovering = False
            value = to_signed(int(data_bits.translate(_BIT_AS_DIGIT[j]), 2))
            if self._filter is not None and not self._filter.accept(j, value):
                stats.glitches += 1
                glitches.append(chip.name)
                continue
            if value == RAIL_HIGH or value == RAIL_LOW:
                stats.rails += 1
                rails.append(chip.name)
            raw[j] = value
        return Frame(t, tuple(raw), self.faults, tuple(rails), tuple(glitches))

    def _out_of_step(self, stuck_low: list[int], t: float) -> None:
        """A DOUT stayed low after the 25th pulse: that chip saw a different
        number of pulses, or its line is held low. Drop the frame and
        resynchronise; a chip that keeps doing it for the deadline is written
        off (and, never seen busy, not taken back until it is)."""
        chips = self._chips
        self.stats.dropped["dout_not_high"] += 1
        for j in stuck_low:
            chip = chips[j]
            if chip.bad_since is None:
                chip.bad_since = t
            elif t - chip.bad_since > self._deadline_s:
                self._write_off(j, "DOUT stays low after the 25th pulse")
        self._power_cycle({chips[j].clock for j in stuck_low})
        return None

    def _empty(self) -> Frame:
        return Frame(self._monotonic(), (None,) * len(self._chips), self.faults)

    def _power_cycle(self, clocks) -> None:
        """PD_SCK high for longer than the power-down limit, then low: the
        chips on ``clocks`` reset to channel A, gain 128, and their next
        SETTLING_CONVERSIONS conversions are read and thrown away."""
        clocks = sorted(clocks)
        self._lines.set_clocks(clocks, True)
        end = self._perf_counter() + RESET_HOLD_S
        while (left := end - self._perf_counter()) > 0:
            self._sleep(left)
        self._lines.set_clocks(clocks, False)
        for chip in self._chips:
            if chip.clock in clocks:
                chip.discard = SETTLING_CONVERSIONS
        self.stats.resyncs += 1
        self._cadence.forget()
        # A chip's first conversion after a reset is typically a period away
        # (sooner does no harm: it is a settling one), and the fastest boards
        # run at FAST_RATE_MARGIN times nominal: sleep until then rather than
        # poll through it, when every chip waited for was reset.
        waited = [chip for chip in self._chips if chip.fault is None]
        if waited and all(chip.clock in clocks for chip in waited):
            self._not_before = self._monotonic() + self._period / FAST_RATE_MARGIN - self._cadence.guard_s
        else:
            self._not_before = None
