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

The modules: timebase (real or virtual time), pins (PD_SCK and DOUT mock
pins that pass edges to the chips), chip (HX711Chip), wiring (attach_chip,
attach_array). The datasheet's numbers are the driver's
(device.hardware.hx711.datasheet).
"""

from device.hardware.hx711.datasheet import (
    CHAN_A_GAIN_64,
    CHAN_A_GAIN_128,
    CHAN_B_GAIN_32,
    POWER_DOWN_S,
    RAIL_HIGH,
    RAIL_LOW,
    SETTLING_CONVERSIONS,
    saturate,
)
from device.sim.hx711.chip import HX711Chip
from device.sim.hx711.pins import DEFAULT_HISTORY, FLOAT_COUPLING_S, HX711ClockPin, HX711DataPin, Source
from device.sim.hx711.timebase import REAL_TIME, RealTime, VirtualTime
from device.sim.hx711.wiring import attach_array, attach_chip

__all__ = [
    "CHAN_A_GAIN_64",
    "CHAN_A_GAIN_128",
    "CHAN_B_GAIN_32",
    "DEFAULT_HISTORY",
    "FLOAT_COUPLING_S",
    "POWER_DOWN_S",
    "RAIL_HIGH",
    "RAIL_LOW",
    "REAL_TIME",
    "SETTLING_CONVERSIONS",
    "HX711Chip",
    "HX711ClockPin",
    "HX711DataPin",
    "RealTime",
    "Source",
    "VirtualTime",
    "attach_array",
    "attach_chip",
    "saturate",
]
