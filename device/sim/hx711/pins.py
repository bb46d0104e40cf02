"""PD_SCK and DOUT as gpiozero mock pins that pass their edges to simulated chips."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from gpiozero.exc import PinFixedPull, PinInvalidPull
from gpiozero.pins.mock import MockPin, PinState

from device.sim.hx711.timebase import REAL_TIME

if TYPE_CHECKING:
    from device.sim.hx711.chip import HX711Chip

# A floating DOUT (chip unplugged, no pull resistor) picks up the clock line:
# it reads high while PD_SCK is high and for this long after, low otherwise.
FLOAT_COUPLING_S = 1e-3

DEFAULT_HISTORY = 10_000  # state changes a simulated pin remembers
_MAX_QUEUED_EDGES = 128  # a chip nobody reads catches up at this many

Source = Callable[[float], float] | int | float


def _history(history: int | None, first: PinState) -> deque | list:
    if history is None:
        return [first]
    return deque([first], maxlen=max(history, 1))


class HX711ClockPin(MockPin):
    """PD_SCK as a mock pin: each edge goes to every chip in ``listeners``.

    ``history`` bounds ``states`` (None keeps everything); its times come
    from ``timebase.perf_counter()``, the clock the chips judge pulses by.
    """

    _state: bool  # MockPin's level (gpiozero is untyped here)

    def __init__(self, factory, info, history: int | None = DEFAULT_HISTORY, timebase=REAL_TIME):
        self.history = history
        self.timebase = timebase
        self._now = timebase.perf_counter  # bound once: called on every edge
        self._stall = timebase.stall
        self.listeners: list[HX711Chip] = []
        self.queued = 0  # edges since the last catch_up
        self._preempt: list[list] = []  # [rising edges to let pass, seconds, before_edge]
        super().__init__(factory, info)

    def clear_states(self):
        self._last_change = self._now()
        self.states = _history(self.history, PinState(0.0, self._state))

    def _set_state(self, value):
        if self._function != "output":
            return super()._set_state(value)  # gpiozero's error for an input pin
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

    _state: bool  # MockPin's level (gpiozero is untyped here)

    def __init__(self, factory, info, history: int | None = DEFAULT_HISTORY, timebase=REAL_TIME):
        self.history = history
        self.timebase = timebase
        self._now = timebase.perf_counter
        self._monotonic = timebase.monotonic  # pin histories, as MockPin keeps them
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
                if self._when_changed is not None and self._edges in ("both", "rising" if level else "falling"):
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
