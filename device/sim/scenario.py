"""A scripted person on the cushion: what they do, as smooth movements of load and centre of pressure.

Units: seconds, kilograms, millimetres; x is right (+), y is forward (+). Pure, no clock.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

import numpy as np

from device.config import CHANNELS, Breaks, Detect, Geometry
from device.core.events import Fault
from device.sim.physics import Trajectory, corner_loads
from device.sim.truth import Truth, ground_truth

FAULT_KINDS = ("unplugged", "stuck", "rail", "rail_low", "all_ones")

# Design margins, so that no scripted movement sits near a detection boundary
# of SPEC section 3 (noise and filtering must not flip what the truth says).
REST_LAT = 0.10  # resting CoP |lat| stays below this: well under lean_end 0.14
REST_SAG = 0.22  # resting CoP |sag| stays below this: well under perch 0.30
FIDGET_MIN_MM = 25.0  # a fidget moves at least this far (detector: 15 mm) ...
FIDGET_MAX_S = 0.8  # ... within this time (peak speed >= 49 mm/s; detector: 40 mm/s)
DRIFT_MAX_MM_S = 5.0  # a drift's peak speed stays below this: never a fidget
SLOW_MAX_MM_S = 25.0  # lean and slow posture transitions peak below this: not fidgets
SIT_FORWARD_MM = 20.0  # the CoP is this much forward while sitting down / standing up


# ---------------------------------------------------------------------------
# Board physics


@dataclass(frozen=True, slots=True)
class Person:
    """The sitter's body. Masses in kg, positions in mm (x right +, y forward +), rates in Hz.

    mass_kg: body mass. seated_share: the part of it the cushion carries while
    seated (the rest is on the feet, backrest and armrests). x_mm, y_mm: the
    neutral centre of pressure after sitting down. breath_*: breathing swings
    the CoP forward/back by breath_mm and the load by breath_kg (amplitudes)
    at breath_hz. sway_mm: rms of the slow postural sway on each axis.
    """

    mass_kg: float = 75.0
    seated_share: float = 0.75
    x_mm: float = 0.0
    y_mm: float = 0.0
    breath_hz: float = 0.25
    breath_mm: float = 2.0
    breath_kg: float = 0.25
    sway_mm: float = 2.0

    def __post_init__(self) -> None:
        if not 0.3 <= self.seated_share <= 1.0:
            raise ValueError(f"seated_share must be within 0.3..1.0, got {self.seated_share}")
        # Keep a clear margin over the 15 kg seated threshold.
        if self.seated_kg < 20.0:
            raise ValueError(f"seated load {self.seated_kg:.1f} kg is too light to be a person (>= 20 kg)")

    @property
    def seated_kg(self) -> float:
        """Load on the cushion while seated, kg."""
        return self.mass_kg * self.seated_share


class Track:
    """One scripted quantity over time: constant, except for smooth (raised-cosine) transitions.

    Transitions never overlap; a zero-length transition is a step.
    """

    def __init__(self, initial: float):
        self.initial = float(initial)
        self.value = float(initial)  # the value once every transition so far is done
        self._rows: list[tuple[float, float, float, float]] = []  # start, duration, from, to
        self._starts: list[float] = []
        self._arrays: tuple[np.ndarray, ...] | None = None

    @property
    def end(self) -> float:
        """When the last transition ends (s); -inf without transitions."""
        if not self._rows:
            return -math.inf
        start, duration, _, _ = self._rows[-1]
        return start + duration

    def move(self, start: float, duration: float, to: float) -> None:
        """Go from the current value to `to` over [start, start + duration] (s)."""
        if start < self.end - 1e-9:
            raise ValueError(f"transition at {start:.3f} s overlaps the previous one (ends {self.end:.3f} s)")
        self._rows.append((float(start), max(float(duration), 1e-9), self.value, float(to)))
        self._starts.append(float(start))
        self.value = float(to)
        self._arrays = None

    def spans(self) -> list[tuple[float, float]]:
        """(start, end) of every transition, s."""
        return [(start, start + duration) for start, duration, _, _ in self._rows]

    def _compiled(self) -> tuple[np.ndarray, ...]:
        if self._arrays is None:
            rows = np.array(self._rows, dtype=np.float64).reshape(-1, 4)
            self._arrays = (
                rows[:, 0].copy(),
                rows[:, 1].copy(),
                rows[:, 2].copy(),
                rows[:, 3].copy(),
                rows[:, 0] + rows[:, 1],
            )
        return self._arrays

    def value_at(self, t: float) -> float:
        """The value at one time t (s); plain Python, for callers that sample in real time."""
        index = bisect.bisect_right(self._starts, t) - 1
        if index < 0:
            return self.initial
        start, duration, v_from, v_to = self._rows[index]
        fraction = (t - start) / duration
        if fraction >= 1.0:
            return v_to
        return v_from + (v_to - v_from) * (0.5 - 0.5 * math.cos(math.pi * max(fraction, 0.0)))

    def evaluate(self, t: np.ndarray) -> np.ndarray:
        """The value at times t (s), vectorised."""
        t = np.asarray(t, dtype=np.float64)
        if not self._rows or t.size == 0:
            return np.full(t.shape, self.initial)
        starts, durations, v_from, v_to, ends = self._compiled()
        lo, hi = t.min(), t.max()
        i_lo = np.searchsorted(starts, lo, side="right") - 1
        i_hi = np.searchsorted(starts, hi, side="right") - 1
        # Fast path: all of t lies in one constant stretch (most of a day).
        if i_lo == i_hi and (i_lo < 0 or lo >= ends[i_lo]):
            return np.full(t.shape, self.initial if i_lo < 0 else v_to[i_lo])
        index = np.searchsorted(starts, t, side="right") - 1
        clipped = np.maximum(index, 0)
        fraction = np.clip((t - starts[clipped]) / durations[clipped], 0.0, 1.0)
        shape = 0.5 - 0.5 * np.cos(np.pi * fraction)
        value = v_from[clipped] + (v_to[clipped] - v_from[clipped]) * shape
        return np.where(index < 0, self.initial, value)


@dataclass(frozen=True, slots=True)
class Move:
    """A scripted movement of the centre of pressure: starts at `start` (s), lasts `duration` (s).

    kind: "fidget", "drift", "perch", "slump", "lean", "twist", "sit" or "stand".
    """

    start: float
    duration: float
    dx_mm: float
    dy_mm: float
    kind: str

    @property
    def size_mm(self) -> float:
        return math.hypot(self.dx_mm, self.dy_mm)

    @property
    def is_quick(self) -> bool:
        """Far and fast enough to be a fidget (the design margin, not the detector's threshold)."""
        return self.size_mm >= FIDGET_MIN_MM and self.duration <= FIDGET_MAX_S


def _peak_speed(distance_mm: float, seconds: float) -> float:
    """Peak speed (mm/s) of a raised-cosine move over `distance_mm` in `seconds`."""
    return math.pi / 2 * abs(distance_mm) / max(seconds, 1e-9)


# ---------------------------------------------------------------------------
# Scripting


class Scenario:
    """What the person does, scripted with chained verbs. Times in s, positions in mm.

    The script clock starts at 0; each verb starts at the current script time
    (`time_s`) and moves it on, except `fault()`, which overlaps whatever
    happens next. Resting positions (after a fidget or drift) stay within
    |lat| <= 0.10 and |sag| <= 0.22, so that every lean, twist, perch and
    slump returns clearly below its threshold; verbs that would break this
    raise ValueError, as do movements that would be neither clearly a fidget
    nor clearly slow.

    person: the sitter. geometry: the board (corner spacing). seated: the
    person is already seated at t = 0. foam_tau_s: time constant of the
    cushion foam's first-order lag between the body and the cells.
    """

    def __init__(
        self,
        person: Person | None = None,
        geometry: Geometry | None = None,
        *,
        seated: bool = False,
        foam_tau_s: float = 0.15,
        name: str = "scenario",
    ):
        self.person = person or Person()
        self.geometry = geometry or Geometry()
        self.foam_tau_s = foam_tau_s
        self.name = name
        self.seated = seated
        self._now = 0.0
        self._check_rest(self.person.x_mm, self.person.y_mm, "the person's neutral position")
        self.load = Track(self.person.seated_kg if seated else 0.0)
        self.x = Track(self.person.x_mm)
        self.y = Track(self.person.y_mm)
        self.object_tracks = [Track(0.0) for _ in CHANNELS]
        self.object_kg: float | None = None
        self.moves: list[Move] = []
        self.faults: list[Fault] = []
        # Stretches where nothing moves (hold / away), for placing faults.
        self.quiet: list[tuple[float, float]] = []

    # -- state ---------------------------------------------------------------

    @property
    def time_s(self) -> float:
        """The current script time, s."""
        return self._now

    @property
    def duration_s(self) -> float:
        """Length of the scripted recording, s."""
        return self._now

    def _lat(self, x_mm: float) -> float:
        return 2.0 * x_mm / self.geometry.width_mm

    def _sag(self, y_mm: float) -> float:
        return 2.0 * y_mm / self.geometry.depth_mm

    def _check_rest(self, x_mm: float, y_mm: float, what: str) -> None:
        if abs(self._lat(x_mm)) > REST_LAT + 1e-9 or abs(self._sag(y_mm)) > REST_SAG + 1e-9:
            raise ValueError(
                f"{what} ({x_mm:.1f}, {y_mm:.1f}) mm is outside the resting region "
                f"|lat| <= {REST_LAT}, |sag| <= {REST_SAG}: use lean(), twist(), perch() or slump()"
            )

    def _need_seated(self, verb: str) -> None:
        if not self.seated:
            raise ValueError(f"{verb}() needs the person seated (call sit_down() first)")

    def _advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"a duration must not be negative, got {seconds}")
        self._now += seconds

    def _move_cop(self, start: float, duration: float, x_to: float, y_to: float, kind: str) -> None:
        dx, dy = x_to - self.x.value, y_to - self.y.value
        if dx:
            self.x.move(start, duration, x_to)
        if dy:
            self.y.move(start, duration, y_to)
        self.moves.append(Move(start, duration, dx, dy, kind))

    # -- verbs ---------------------------------------------------------------

    def hold(self, seconds: float) -> Scenario:
        """Stay as you are (seated or away) for `seconds`."""
        if seconds > 0:
            self.quiet.append((self._now, self._now + seconds))
        self._advance(seconds)
        return self

    def away(self, seconds: float) -> Scenario:
        """Nobody on the cushion for `seconds` (a bag may lie on it)."""
        if self.seated:
            raise ValueError("away() needs the person away (call stand_up() first)")
        return self.hold(seconds)

    def sit_down(self, duration_s: float = 1.0, x_mm: float | None = None, y_mm: float | None = None) -> Scenario:
        """Sit down: the load ramps up over `duration_s` (0.6-1.5 s) with the CoP a bit forward.

        The person settles at (x_mm, y_mm), by default their neutral position;
        the settling ends half a ramp after the load is on.
        """
        if self.seated:
            raise ValueError("sit_down(): the person is already seated")
        if self.object_kg is not None:
            raise ValueError("sit_down(): remove_object() first; nobody sits on a bag")
        x_to = self.person.x_mm if x_mm is None else x_mm
        y_to = self.person.y_mm if y_mm is None else y_mm
        self._check_rest(x_to, y_to, "sit_down() position")
        t0 = self._now
        # While unloaded the CoP is meaningless: put it where the person lands.
        if x_to != self.x.value:
            self.x.move(t0, 0.0, x_to)
        self.y.move(t0, 0.0, y_to + SIT_FORWARD_MM)
        self.y.move(t0 + 0.5 * duration_s, duration_s, y_to)
        self.load.move(t0, duration_s, self.person.seated_kg)
        self.moves.append(Move(t0 + 0.5 * duration_s, duration_s, 0.0, -SIT_FORWARD_MM, "sit"))
        self.seated = True
        self._advance(1.5 * duration_s)
        return self

    def stand_up(self, duration_s: float = 1.0) -> Scenario:
        """Stand up: the CoP moves forward, then the load ramps down over `duration_s`."""
        self._need_seated("stand_up")
        t0 = self._now
        self._move_cop(t0, duration_s, self.x.value, self.y.value + SIT_FORWARD_MM, "stand")
        self.load.move(t0 + 0.3 * duration_s, duration_s, 0.0)
        self.seated = False
        self._advance(1.3 * duration_s)
        return self

    def lean(self, side: str, lat: float = 0.30, seconds: float = 30.0, transition_s: float | None = None) -> Scenario:
        """Lean to `side` ("left"/"right") until |lat| = `lat`, hold `seconds`, come back.

        The excursion lasts about seconds + transition_s. By default the
        transitions are slow (peak speed <= 25 mm/s, at least 1.5 s), so that
        they never look like fidgets. Design leans to hold >= 13 s.
        """
        self._need_seated("lean")
        sign = _side_sign(side)
        if not 0 < abs(lat) < 0.9:
            raise ValueError(f"lean(): lat must be within 0..0.9, got {lat}")
        x_rest, y_rest = self.x.value, self.y.value
        x_out = sign * abs(lat) * self.geometry.width_mm / 2
        if transition_s is None:
            transition_s = max(1.5, math.pi / 2 * abs(x_out - x_rest) / (SLOW_MAX_MM_S - 3.0))
        t0 = self._now
        self._move_cop(t0, transition_s, x_out, y_rest, "lean")
        self._move_cop(t0 + transition_s + seconds, transition_s, x_rest, y_rest, "lean")
        self._advance(2 * transition_s + seconds)
        return self

    def twist(self, side: str, peak: float = 0.40, seconds: float = 3.0) -> Scenario:
        """Twist or reach to `side`: out to |lat| = `peak` and back within `seconds` (0.5-7 s).

        Out and back take min(1 s, seconds / 3) each, with a pause at the peak
        so that the foam lag does not eat the peak.
        """
        self._need_seated("twist")
        sign = _side_sign(side)
        if not 0 < abs(peak) < 0.9:
            raise ValueError(f"twist(): peak must be within 0..0.9, got {peak}")
        if seconds < 0.5:
            raise ValueError(f"twist(): seconds must be at least 0.5, got {seconds}")
        x_rest, y_rest = self.x.value, self.y.value
        ramp = min(1.0, seconds / 3)
        t0 = self._now
        self._move_cop(t0, ramp, sign * abs(peak) * self.geometry.width_mm / 2, y_rest, "twist")
        self._move_cop(t0 + seconds - ramp, ramp, x_rest, y_rest, "twist")
        self._advance(seconds)
        return self

    def fidget(self, dx_mm: float, dy_mm: float, duration_s: float = 0.5) -> Scenario:
        """A quick shift of the CoP by (dx_mm, dy_mm) over `duration_s` that stays.

        Must move at least 25 mm within 0.2-0.8 s, and end in the resting region.
        """
        self._need_seated("fidget")
        size = math.hypot(dx_mm, dy_mm)
        if size < FIDGET_MIN_MM or not 0.2 <= duration_s <= FIDGET_MAX_S:
            raise ValueError(
                f"fidget(): must move >= {FIDGET_MIN_MM} mm within 0.2..{FIDGET_MAX_S} s, "
                f"got {size:.1f} mm in {duration_s} s (use drift() for slow moves)"
            )
        x_to, y_to = self.x.value + dx_mm, self.y.value + dy_mm
        self._check_rest(x_to, y_to, "fidget() target")
        self._move_cop(self._now, duration_s, x_to, y_to, "fidget")
        self._advance(duration_s)
        return self

    def drift(self, dx_mm: float, dy_mm: float, seconds: float) -> Scenario:
        """A slow shift of the CoP by (dx_mm, dy_mm) over `seconds`; peak speed below 5 mm/s."""
        self._need_seated("drift")
        size = math.hypot(dx_mm, dy_mm)
        if _peak_speed(size, seconds) >= DRIFT_MAX_MM_S:
            raise ValueError(
                f"drift(): {size:.1f} mm in {seconds} s peaks at {_peak_speed(size, seconds):.1f} mm/s; "
                f"a drift stays below {DRIFT_MAX_MM_S} mm/s"
            )
        x_to, y_to = self.x.value + dx_mm, self.y.value + dy_mm
        self._check_rest(x_to, y_to, "drift() target")
        self._move_cop(self._now, seconds, x_to, y_to, "drift")
        self._advance(seconds)
        return self

    def perch(self, seconds: float, sag: float = 0.40, transition_s: float = 0.6) -> Scenario:
        """Sit forward on the edge (sag = +|sag|) for `seconds`, then back to rest.

        Quick transitions (<= 0.8 s, >= 25 mm) are fidgets; slow ones (peak
        speed <= 25 mm/s) are not; anything in between raises ValueError.
        Design perches to hold >= 40 s (or clearly under 20 s).
        """
        return self._posture("perch", +1.0, seconds, sag, transition_s)

    def slump(self, seconds: float, sag: float = -0.40, transition_s: float = 0.6) -> Scenario:
        """Slump back (sag = -|sag|) for `seconds`, then back to rest. See perch()."""
        return self._posture("slump", -1.0, seconds, sag, transition_s)

    def _posture(self, kind: str, sign: float, seconds: float, sag: float, transition_s: float) -> Scenario:
        self._need_seated(kind)
        if not 0 < abs(sag) < 0.9:
            raise ValueError(f"{kind}(): sag must be within 0..0.9, got {sag}")
        x_rest, y_rest = self.x.value, self.y.value
        y_out = sign * abs(sag) * self.geometry.depth_mm / 2
        distance = abs(y_out - y_rest)
        quick = transition_s <= FIDGET_MAX_S and distance >= FIDGET_MIN_MM
        slow = _peak_speed(distance, transition_s) <= SLOW_MAX_MM_S
        if not (quick or slow):
            raise ValueError(
                f"{kind}(): moving {distance:.0f} mm in {transition_s} s is neither a fidget "
                f"(>= {FIDGET_MIN_MM} mm within {FIDGET_MAX_S} s) nor slow (<= {SLOW_MAX_MM_S} mm/s)"
            )
        t0 = self._now
        self._move_cop(t0, transition_s, x_rest, y_out, kind)
        self._move_cop(t0 + transition_s + seconds, transition_s, x_rest, y_rest, kind)
        self._advance(2 * transition_s + seconds)
        return self

    def place_object(self, kg: float, x_mm: float = 0.0, y_mm: float = 0.0, duration_s: float = 0.3) -> Scenario:
        """Put a bag or laptop of `kg` (2-6 kg) on the empty cushion, centred at (x_mm, y_mm)."""
        if self.seated:
            raise ValueError("place_object(): only on the empty cushion")
        if self.object_kg is not None:
            raise ValueError("place_object(): there is already an object; remove_object() first")
        if not 0 < kg < 10.0:
            raise ValueError(f"place_object(): an object weighs under 10 kg, got {kg}")
        shares = corner_loads(kg, self._lat(x_mm), self._sag(y_mm))
        for track, share in zip(self.object_tracks, shares):
            track.move(self._now, duration_s, float(share))
        self.object_kg = kg
        self._advance(duration_s)
        return self

    def remove_object(self, duration_s: float = 0.3) -> Scenario:
        """Take the object off the cushion."""
        if self.object_kg is None:
            raise ValueError("remove_object(): there is no object on the cushion")
        for track in self.object_tracks:
            track.move(self._now, duration_s, 0.0)
        self.object_kg = None
        self._advance(duration_s)
        return self

    def fault(self, channel: str | int, kind: str, seconds: float, at: float | None = None) -> Scenario:
        """Break `channel` (name or index) for `seconds` from `at` (default: now); time does not advance.

        kind: "unplugged" (no reading), "stuck" (repeats its last value),
        "rail" (8388607), "rail_low" (-8388608), "all_ones" (-1 = 0xFFFFFF).
        """
        name = CHANNELS[channel] if isinstance(channel, int) else channel
        if name not in CHANNELS:
            raise ValueError(f"fault(): channel must be one of {CHANNELS}, got {channel!r}")
        if kind not in FAULT_KINDS:
            raise ValueError(f"fault(): kind must be one of {FAULT_KINDS}, got {kind!r}")
        start = self._now if at is None else float(at)
        self.faults.append(Fault(name, start, start + seconds, detected_at=start, reason=kind))
        return self

    # -- results -------------------------------------------------------------

    def trajectory(self) -> Trajectory:
        """A frozen copy of the script as a noise-free signal."""
        return Trajectory(self)

    def truth(self, detect: Detect | None = None, breaks: Breaks | None = None) -> Truth:
        """The events this script contains (see `ground_truth`)."""
        return ground_truth(self.trajectory(), detect, breaks)


def _side_sign(side: str) -> float:
    if side not in ("left", "right"):
        raise ValueError(f"side must be 'left' or 'right', got {side!r}")
    return -1.0 if side == "left" else 1.0
