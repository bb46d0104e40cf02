"""The simulated sitter: a person on the cushion board, rendered to raw HX711 counts.

A `Scenario` scripts what a person does (sit down, lean, fidget, stand up...)
as smooth movements of their seated load and centre of pressure (CoP). A
`Simulation` renders a scenario to the frames a recorder would write: foam
lag, breathing, sway, per-channel noise and zero drift, flipped-bit spikes,
dropped frames, jittered time stamps and injected channel faults. `truth`
gives the events the scenario really contains (SPEC section 3), computed on
the noise-free signal, so a detector can be scored against it.

    scenario = (Scenario(Person(mass_kg=80))
                .away(5).sit_down().hold(60)
                .lean("left", lat=0.3, seconds=20).hold(30)
                .fidget(0, 30).hold(20).stand_up().away(90))
    sim = Simulation(scenario, rate_hz=80, seed=1)
    for block in sim.blocks():        # device.storage.recording.FrameBlock
        ...
    sim.truth.leans                   # [Lean(side="left", start=..., ...)]

Everything is pure numpy, deterministic for a seed, and never reads a clock.
Units: seconds, kilograms, millimetres; x is right (+), y is forward (+).
"""

from __future__ import annotations

import bisect
import copy
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from device.config import CHANNELS, Breaks, Calibration, Detect, Geometry
from device.core.events import Fault, Fidget, Lean, Posture, Session, Sit, Stand, Twist
from device.config import RAW_MAX, RAW_MIN
from device.core.frames import MISSING, FrameBlock
from device.storage.recording import RecordingWriter

# The SPEC's example calibration: the fr cell is mounted upside down.
DEMO_CALIBRATION = Calibration(
    offset=(-120340.0, 88012.0, 4410.0, -301777.0),
    counts_per_kg=(21430.5, -20988.0, 22010.2, 21775.9),
)

FAULT_KINDS = ("unplugged", "stuck", "rail", "rail_low", "all_ones")

# Design margins, so that no scripted movement sits near a detection boundary
# of SPEC section 3 (noise and filtering must not flip what the truth says).
REST_LAT = 0.10          # resting CoP |lat| stays below this: well under lean_end 0.14
REST_SAG = 0.22          # resting CoP |sag| stays below this: well under perch 0.30
FIDGET_MIN_MM = 25.0     # a fidget moves at least this far (detector: 15 mm) ...
FIDGET_MAX_S = 0.8       # ... within this time (peak speed >= 49 mm/s; detector: 40 mm/s)
DRIFT_MAX_MM_S = 5.0     # a drift's peak speed stays below this: never a fidget
SLOW_MAX_MM_S = 25.0     # lean and slow posture transitions peak below this: not fidgets
SIT_FORWARD_MM = 20.0    # the CoP is this much forward while sitting down / standing up

# Internal render chunk in frames. Fixed, so the output does not depend on
# the block size a caller asks for.
_CHUNK = 8192


# ---------------------------------------------------------------------------
# Board physics


def corner_loads(total_kg, lat, sag) -> np.ndarray:
    """Corner loads (fl, fr, bl, br) in kg of a load `total_kg` whose CoP is at balance (lat, sag).

    lat and sag are SPEC section 2's quantities, so the four sum to total_kg.
    Inputs broadcast; the corners are the last axis.
    """
    total_kg, lat, sag = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (total_kg, lat, sag)))
    quarter = total_kg / 4.0
    return np.stack(
        [
            quarter * (1 - lat) * (1 + sag),
            quarter * (1 + lat) * (1 + sag),
            quarter * (1 - lat) * (1 - sag),
            quarter * (1 + lat) * (1 - sag),
        ],
        axis=-1,
    )


def _corner_tuple(total_kg: float, lat: float, sag: float) -> tuple[float, float, float, float]:
    """corner_loads() for one load, in plain Python."""
    quarter = total_kg / 4.0
    return (
        quarter * (1 - lat) * (1 + sag),
        quarter * (1 + lat) * (1 + sag),
        quarter * (1 - lat) * (1 - sag),
        quarter * (1 + lat) * (1 - sag),
    )


def balance(corners: np.ndarray, min_kg: float = 1e-6) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(T, lat, sag) of corner loads (..., 4) per SPEC section 2; lat and sag are 0 where T < min_kg."""
    fl, fr, bl, br = (corners[..., i] for i in range(4))
    total = fl + fr + bl + br
    safe = np.where(total >= min_kg, total, 1.0)
    lat = np.where(total >= min_kg, ((fr + br) - (fl + bl)) / safe, 0.0)
    sag = np.where(total >= min_kg, ((fl + fr) - (bl + br)) / safe, 0.0)
    return total, lat, sag


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
            self._arrays = (rows[:, 0].copy(), rows[:, 1].copy(), rows[:, 2].copy(), rows[:, 3].copy(), rows[:, 0] + rows[:, 1])
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

    def hold(self, seconds: float) -> "Scenario":
        """Stay as you are (seated or away) for `seconds`."""
        if seconds > 0:
            self.quiet.append((self._now, self._now + seconds))
        self._advance(seconds)
        return self

    def away(self, seconds: float) -> "Scenario":
        """Nobody on the cushion for `seconds` (a bag may lie on it)."""
        if self.seated:
            raise ValueError("away() needs the person away (call stand_up() first)")
        return self.hold(seconds)

    def sit_down(self, duration_s: float = 1.0, x_mm: float | None = None, y_mm: float | None = None) -> "Scenario":
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

    def stand_up(self, duration_s: float = 1.0) -> "Scenario":
        """Stand up: the CoP moves forward, then the load ramps down over `duration_s`."""
        self._need_seated("stand_up")
        t0 = self._now
        self._move_cop(t0, duration_s, self.x.value, self.y.value + SIT_FORWARD_MM, "stand")
        self.load.move(t0 + 0.3 * duration_s, duration_s, 0.0)
        self.seated = False
        self._advance(1.3 * duration_s)
        return self

    def lean(self, side: str, lat: float = 0.30, seconds: float = 30.0, transition_s: float | None = None) -> "Scenario":
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

    def twist(self, side: str, peak: float = 0.40, seconds: float = 3.0) -> "Scenario":
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

    def fidget(self, dx_mm: float, dy_mm: float, duration_s: float = 0.5) -> "Scenario":
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

    def drift(self, dx_mm: float, dy_mm: float, seconds: float) -> "Scenario":
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

    def perch(self, seconds: float, sag: float = 0.40, transition_s: float = 0.6) -> "Scenario":
        """Sit forward on the edge (sag = +|sag|) for `seconds`, then back to rest.

        Quick transitions (<= 0.8 s, >= 25 mm) are fidgets; slow ones (peak
        speed <= 25 mm/s) are not; anything in between raises ValueError.
        Design perches to hold >= 40 s (or clearly under 20 s).
        """
        return self._posture("perch", +1.0, seconds, sag, transition_s)

    def slump(self, seconds: float, sag: float = -0.40, transition_s: float = 0.6) -> "Scenario":
        """Slump back (sag = -|sag|) for `seconds`, then back to rest. See perch()."""
        return self._posture("slump", -1.0, seconds, sag, transition_s)

    def _posture(self, kind: str, sign: float, seconds: float, sag: float, transition_s: float) -> "Scenario":
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

    def place_object(self, kg: float, x_mm: float = 0.0, y_mm: float = 0.0, duration_s: float = 0.3) -> "Scenario":
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

    def remove_object(self, duration_s: float = 0.3) -> "Scenario":
        """Take the object off the cushion."""
        if self.object_kg is None:
            raise ValueError("remove_object(): there is no object on the cushion")
        for track in self.object_tracks:
            track.move(self._now, duration_s, 0.0)
        self.object_kg = None
        self._advance(duration_s)
        return self

    def fault(self, channel: str | int, kind: str, seconds: float, at: float | None = None) -> "Scenario":
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

    def trajectory(self) -> "Trajectory":
        """A frozen copy of the script as a noise-free signal."""
        return Trajectory(self)

    def truth(self, detect: Detect | None = None, breaks: Breaks | None = None) -> "Truth":
        """The events this script contains (see `ground_truth`)."""
        return ground_truth(self.trajectory(), detect, breaks)


def _side_sign(side: str) -> float:
    if side not in ("left", "right"):
        raise ValueError(f"side must be 'left' or 'right', got {side!r}")
    return -1.0 if side == "left" else 1.0


# ---------------------------------------------------------------------------
# The noise-free signal


class FoamLag:
    """First-order lag of the cushion foam (time constant tau_s), sampled every dt_s.

    Exact for inputs that are linear between samples (first-order hold).
    Vectorised: runs of 64 samples are filtered with one matrix product and
    the carry between runs with another, so no Python loop per sample.
    """

    _RUN = 64
    _RUNS_PER_PIECE = 128

    def __init__(self, tau_s: float, dt_s: float):
        self.tau_s = tau_s
        self.dt_s = dt_s
        if tau_s <= 0:
            self._a, self._b0, self._b1 = 0.0, 1.0, 0.0
        else:
            a = math.exp(-dt_s / tau_s)
            r = tau_s / dt_s * (1 - a)
            self._a, self._b0, self._b1 = a, 1.0 - r, r - a
        self._within = _lower_powers(self._a, self._RUN)
        self._decay = self._a ** np.arange(1, self._RUN + 1)
        self._run_decay = self._a**self._RUN
        self._between: dict[int, np.ndarray] = {}

    def apply(self, u: np.ndarray, y_prev: np.ndarray, u_prev: np.ndarray) -> np.ndarray:
        """Filter u (n, channels) following output y_prev and input u_prev; returns y (n, channels)."""
        n, width = u.shape
        if n == 0:
            return u.copy()
        v = self._b0 * u
        v[0] += self._b1 * u_prev
        v[1:] += self._b1 * u[:-1]
        out = np.empty_like(u)
        state = np.asarray(y_prev, dtype=np.float64)
        piece = self._RUN * self._RUNS_PER_PIECE
        for begin in range(0, n, piece):
            part = v[begin : begin + piece]
            k = len(part)
            runs = -(-k // self._RUN)
            padded = np.zeros((runs * self._RUN, width))
            padded[:k] = part
            # Response of each run from a zero start ...
            zero_start = np.matmul(self._within, padded.reshape(runs, self._RUN, width))
            # ... plus the carried state: s_c = z_c[-1] + a^RUN s_(c-1).
            between = self._between.get(runs)
            if between is None:
                between = self._between[runs] = _lower_powers(self._run_decay, runs)
            carry = between @ zero_start[:, -1, :] + (self._run_decay ** np.arange(1, runs + 1))[:, None] * state
            before = np.vstack([state[None, :], carry[:-1]])
            y = zero_start + self._decay[None, :, None] * before[:, None, :]
            out[begin : begin + k] = y.reshape(-1, width)[:k]
            state = out[begin + k - 1]
        return out

    def history_weights(self, samples: int) -> np.ndarray:
        """Weights w (oldest first) so that y(t) ~= w @ u(t - (samples-1-i) dt) from a settled start."""
        a, b0, b1 = self._a, self._b0, self._b1
        k = samples - 1
        powers = a ** np.arange(k, -1, -1)  # a^(k-n) for n = 0..k
        w = np.zeros(samples)
        w[0] = powers[0]  # the settled start: y_0 = u_0
        w[1:] += b0 * powers[1:]
        w[:-1] += b1 * powers[1:]
        return w / w.sum()


def _lower_powers(base: float, n: int) -> np.ndarray:
    """Lower-triangular n x n matrix with base^(i - j) on and below the diagonal."""
    i = np.arange(n)
    k = i[:, None] - i[None, :]
    with np.errstate(under="ignore"):
        return np.where(k >= 0, base ** np.maximum(k, 0).astype(np.float64), 0.0)


class Trajectory:
    """A scenario frozen into a noise-free signal: what the cells feel without breathing, sway and noise.

    `corners(t)` is the load the body (and any object) puts on the board;
    `lagged_corners(t)` is that load after the foam lag, at any times.
    """

    _LAG_STEP_S = 0.01
    _LAG_HISTORY_S = 2.0  # 13 time constants: the lag has forgotten anything older

    def __init__(self, scenario: Scenario):
        self.person = scenario.person
        self.geometry = scenario.geometry
        self.foam_tau_s = scenario.foam_tau_s
        self.duration_s = scenario.duration_s
        self.name = scenario.name
        self.load = copy.deepcopy(scenario.load)
        self.x = copy.deepcopy(scenario.x)
        self.y = copy.deepcopy(scenario.y)
        self.object_tracks = copy.deepcopy(scenario.object_tracks)
        self.moves = list(scenario.moves)
        self.faults = sorted(scenario.faults, key=lambda f: (f.start, CHANNELS.index(f.channel)))
        self._has_object = any(track.spans() for track in self.object_tracks)
        tracks = [self.load, self.x, self.y, *self.object_tracks]
        self.transitions = sorted(span for track in tracks for span in track.spans())
        samples = int(round(self._LAG_HISTORY_S / self._LAG_STEP_S)) + 1
        self._lag_weights = FoamLag(self.foam_tau_s, self._LAG_STEP_S).history_weights(samples)
        self._lag_offsets = self._LAG_STEP_S * np.arange(samples - 1, -1, -1)
        starts, ends = _merge_spans(self.transitions, after=self._LAG_HISTORY_S)
        self._moving_starts, self._moving_ends = np.array(starts), np.array(ends)
        self._moving_list = starts

    def corners(self, t: np.ndarray) -> np.ndarray:
        """Scripted corner loads (n, 4) in kg at times t (s), before the foam lag."""
        t = np.asarray(t, dtype=np.float64)
        total = self.load.evaluate(t)
        lat = self.x.evaluate(t) * (2.0 / self.geometry.width_mm)
        sag = self.y.evaluate(t) * (2.0 / self.geometry.depth_mm)
        loads = corner_loads(total, lat, sag)
        if self._has_object:
            loads = loads + np.stack([track.evaluate(t) for track in self.object_tracks], axis=-1)
        return loads

    def corners_at(self, t: float) -> tuple[float, float, float, float]:
        """Scripted corner loads at one time t (s), before the foam lag; plain Python."""
        lat = self.x.value_at(t) * (2.0 / self.geometry.width_mm)
        sag = self.y.value_at(t) * (2.0 / self.geometry.depth_mm)
        loads = _corner_tuple(self.load.value_at(t), lat, sag)
        if self._has_object:
            loads = tuple(load + track.value_at(t) for load, track in zip(loads, self.object_tracks))
        return loads

    def moving_at(self, t: float) -> bool:
        """moving() for one time t."""
        index = bisect.bisect_right(self._moving_list, t) - 1
        return index >= 0 and t <= self._moving_ends[index]

    def lagged_corners_at(self, t: float) -> tuple[float, float, float, float]:
        """Corner loads after the foam lag at one time t (s); cheap while nothing moves."""
        if self.moving_at(t):
            fl, fr, bl, br = self.lagged_corners(np.array([t]))[0].tolist()
            return fl, fr, bl, br
        return self.corners_at(t)

    def person_share(self, t: np.ndarray) -> np.ndarray:
        """How much of the person is on the cushion at t: 0 (away) .. 1 (seated)."""
        return self.load.evaluate(t) / self.person.seated_kg

    def moving(self, t: np.ndarray) -> np.ndarray:
        """True where a transition happened within the lag's memory before t (the lag matters there)."""
        t = np.asarray(t, dtype=np.float64)
        if len(self._moving_starts) == 0:
            return np.zeros(t.shape, dtype=bool)
        index = np.searchsorted(self._moving_starts, t, side="right") - 1
        return (index >= 0) & (t <= self._moving_ends[np.maximum(index, 0)])

    def lagged_corners(self, t: np.ndarray) -> np.ndarray:
        """Corner loads (n, 4) in kg after the foam lag, at any times t (s)."""
        t = np.atleast_1d(np.asarray(t, dtype=np.float64))
        out = self.corners(t)
        moving = np.flatnonzero(self.moving(t))
        for begin in range(0, len(moving), 2048):
            rows = moving[begin : begin + 2048]
            history = t[rows][:, None] - self._lag_offsets[None, :]
            loads = self.corners(history.ravel()).reshape(len(rows), len(self._lag_offsets), 4)
            out[rows] = np.einsum("k,mkc->mc", self._lag_weights, loads)
        return out

    def state_at(self, t: float) -> tuple[float, float, float]:
        """(T kg, lat, sag) of the noise-free lagged signal at t; lat and sag are NaN below 1 kg."""
        fl, fr, bl, br = self.lagged_corners_at(float(t))
        total = fl + fr + bl + br
        if total < 1.0:
            return total, math.nan, math.nan
        return total, ((fr + br) - (fl + bl)) / total, ((fl + fr) - (bl + br)) / total


def _merge_spans(spans: list[tuple[float, float]], before: float = 0.0, after: float = 0.0) -> tuple[list[float], list[float]]:
    """Union of [start - before, end + after] over sorted spans, as (starts, ends)."""
    starts: list[float] = []
    ends: list[float] = []
    for start, end in spans:
        start, end = start - before, end + after
        if starts and start <= ends[-1]:
            ends[-1] = max(ends[-1], end)
        else:
            starts.append(start)
            ends.append(end)
    return starts, ends


# ---------------------------------------------------------------------------
# Ground truth


@dataclass(slots=True)
class Truth:
    """The events a scenario really contains (SPEC section 3), for scoring a detector.

    Event records are device.core.events'; their detected_at equals their t/start.
    """

    sits: list[Sit] = field(default_factory=list)
    stands: list[Stand] = field(default_factory=list)
    sessions: list[Session] = field(default_factory=list)
    leans: list[Lean] = field(default_factory=list)
    twists: list[Twist] = field(default_factory=list)
    perches: list[Posture] = field(default_factory=list)
    slumps: list[Posture] = field(default_factory=list)
    fidgets: list[Fidget] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)

    def events(self) -> list:
        """Every event (not the sessions), in order of t/start."""
        everything = [*self.sits, *self.stands, *self.leans, *self.twists,
                      *self.perches, *self.slumps, *self.fidgets, *self.faults]
        return sorted(everything, key=lambda event: event.detected_at)  # == t / start for the truth


def _runs(t: np.ndarray, v: np.ndarray, threshold: float, above: bool) -> list[tuple[float, float]]:
    """Intervals where v >= threshold (above) or v < threshold, ends linearly interpolated."""
    if len(t) == 0:
        return []
    inside = v >= threshold if above else v < threshold
    if not inside.any():
        return []
    flips = np.flatnonzero(np.diff(inside.astype(np.int8))) + 1

    def crossing(i: int) -> float:
        dv = v[i] - v[i - 1]
        if dv == 0:
            return float(t[i])
        return float(t[i - 1] + (threshold - v[i - 1]) * (t[i] - t[i - 1]) / dv)

    edges = [crossing(i) for i in flips]
    if inside[0]:
        edges.insert(0, float(t[0]))
    if inside[-1]:
        edges.append(float(t[-1]))
    return list(zip(edges[0::2], edges[1::2]))


def _between(t: np.ndarray, values: list[np.ndarray], a: float, b: float) -> tuple[np.ndarray, list[np.ndarray]]:
    """Samples within [a, b], with values interpolated exactly at a and b."""
    inner = (t > a) & (t < b)
    times = np.concatenate([[a], t[inner], [b]])
    return times, [np.concatenate([[np.interp(a, t, v)], v[inner], [np.interp(b, t, v)]]) for v in values]


class _TruthFinder:
    """Applies SPEC section 3's rules, with its default thresholds, to the noise-free lagged signal.

    The signal is sampled every 2 ms around every scripted transition (until
    the lag has settled); between those windows it is constant.
    """

    _STEP_S = 0.002

    def __init__(self, trajectory: Trajectory, detect: Detect, breaks: Breaks):
        self.trajectory = trajectory
        self.detect = detect
        self.breaks = breaks
        self.end = trajectory.duration_s
        self.t, self.total, self.lat, self.sag = self._sample()

    def _sample(self) -> tuple[np.ndarray, ...]:
        traj, end = self.trajectory, self.end
        settle = 12 * traj.foam_tau_s + 0.05
        starts, ends = _merge_spans(traj.transitions, before=0.02, after=settle)
        pieces = [(0.0, 0.0)]
        for a, b in zip(starts, ends):
            a, b = max(a, 0.0), min(b, end)
            if b > a:
                pieces.append((a, b))
        pieces.append((end, end))
        times: list[np.ndarray] = []
        loads: list[np.ndarray] = []
        lag = FoamLag(traj.foam_tau_s, self._STEP_S)
        for a, b in pieces:
            grid = np.append(np.arange(a, b, self._STEP_S), b) if b > a else np.array([a])
            u = traj.corners(grid)
            # Each window starts settled: the previous one ran until the lag had settled.
            times.append(grid)
            loads.append(lag.apply(u, u[0], u[0]))
        t = np.concatenate(times)
        corners = np.concatenate(loads)
        order = np.argsort(t, kind="stable")
        t, corners = t[order], corners[order]
        keep = np.concatenate([[True], np.diff(t) > 0])
        total, lat, sag = balance(corners[keep])
        return t[keep], total, lat, sag

    def find(self) -> Truth:
        truth = Truth()
        truth.sits, truth.stands = self._sits_and_stands()
        spans = self._seated_spans(truth.sits, truth.stands)
        truth.sessions = self._sessions(truth.sits, truth.stands)
        for span in spans:
            leans, twists = self._excursions(*span)
            truth.leans += leans
            truth.twists += twists
            truth.perches += self._postures("perch", *span)
            truth.slumps += self._postures("slump", *span)
        truth.fidgets = self._fidgets(truth.sits, truth.stands, spans)
        # By the SPEC a silent or railed channel is a fault after fault_no_data_s,
        # a frozen one (stuck, all ones) after fault_stuck_s: shorter ones are not faults.
        shortest = {"stuck": self.detect.fault_stuck_s, "all_ones": self.detect.fault_stuck_s}
        truth.faults = [
            Fault(f.channel, f.start, min(f.end, self.end), detected_at=f.start, reason=f.reason)
            for f in self.trajectory.faults
            if f.start < self.end
            and min(f.end, self.end) - f.start >= shortest.get(f.reason, self.detect.fault_no_data_s)
        ]
        return truth

    def _sits_and_stands(self) -> tuple[list[Sit], list[Stand]]:
        d = self.detect
        above = _runs(self.t, self.total, d.seated_kg, above=True)
        below = _runs(self.t, self.total, d.away_kg, above=False)
        sits: list[Sit] = []
        stands: list[Stand] = []
        seated = bool(self.total[0] >= d.seated_kg)
        if seated:
            sits.append(Sit(0.0, 0.0))  # seated from the first frame on
        cursor = 0.0
        while True:
            runs, hold = (below, d.away_hold_s) if seated else (above, d.seated_hold_s)
            # A crossing counts once the new state has held (the detector's rule).
            found = next(((a, b) for a, b in runs if a > cursor and b - a >= hold), None)
            if found is None:
                break
            cursor = found[0]
            if seated:
                stands.append(Stand(cursor, cursor))
            else:
                sits.append(Sit(cursor, cursor))
            seated = not seated
        return sits, stands

    def _seated_spans(self, sits: list[Sit], stands: list[Stand]) -> list[tuple[float, float, bool]]:
        """(sit t, stand t or the end, whether a stand closes it) for every stretch seated."""
        spans = []
        for i, sit in enumerate(sits):
            if i < len(stands):
                spans.append((sit.t, stands[i].t, True))
            else:
                spans.append((sit.t, self.end, False))
        return spans

    def _sessions(self, sits: list[Sit], stands: list[Stand]) -> list[Session]:
        sessions: list[Session] = []
        start = None
        for i, sit in enumerate(sits):
            if start is None:
                start = sit.t
            if i >= len(stands):
                sessions.append(Session(start, None, ()))
                break
            stand = stands[i].t
            next_sit = sits[i + 1].t if i + 1 < len(sits) else None
            # An absence of break_min_s or more, or one still running at the end, ends the session.
            if next_sit is None or next_sit - stand >= self.breaks.break_min_s:
                sessions.append(Session(start, stand, ()))
                start = None
        return sessions

    def _excursions(self, a: float, b: float, closed: bool) -> tuple[list[Lean], list[Twist]]:
        d = self.detect
        t, (lat,) = _between(self.t, [self.lat], a, b)
        size = np.abs(lat)
        starts = _runs(t, size, d.lean_start, above=True)
        lows = _runs(t, size, d.lean_end, above=False)
        leans: list[Lean] = []
        twists: list[Twist] = []
        cursor = -math.inf
        for start, _ in starts:
            if start < cursor:
                continue
            low = next(((c, e) for c, e in lows if c > start and (e - c >= d.lean_end_hold_s or (closed and e >= b))),
                       None)
            if low is None:
                if not closed:
                    break  # still going when the recording ends: not (yet) an event
                end = b  # standing up ends it
            else:
                # It ends once |lat| has stayed below lean_end for the hold (or at the stand).
                end = low[0] + d.lean_end_hold_s if low[1] - low[0] >= d.lean_end_hold_s else b
            cursor = end
            inside = (t >= start) & (t <= end)
            times, values = t[inside], lat[inside]
            peak = float(max(np.abs(values).max(initial=0.0), d.lean_start))
            if len(times) > 1 and times[-1] > times[0]:
                mean = float(np.trapezoid(values, times) / (times[-1] - times[0]))
            else:
                mean = float(values.mean()) if len(values) else 0.0
            side = "right" if mean > 0 else "left"
            if end - start >= d.lean_min_s:
                leans.append(Lean(side, start, end, peak, start))
            elif peak >= d.twist_peak:
                twists.append(Twist(side, start, end, peak, start))
        return leans, twists

    def _postures(self, kind: str, a: float, b: float, closed: bool) -> list[Posture]:
        d = self.detect
        t, (sag,) = _between(self.t, [self.sag], a, b)
        if kind == "perch":
            runs = _runs(t, sag, d.perch_sag, above=True)
        else:
            runs = _runs(t, -sag, -d.slump_sag, above=True)
        merged: list[list[float]] = []
        for start, end in runs:
            # Out of range for less than the end hold does not end it.
            if merged and start - merged[-1][1] < d.posture_end_hold_s:
                merged[-1][1] = end
            else:
                merged.append([start, end])
        found = []
        for start, end in merged:
            if end >= b and not closed:
                continue  # still going when the recording ends
            if end - start >= d.posture_min_s:
                found.append(Posture(kind, start, end, start))
        return found

    def _fidgets(self, sits: list[Sit], stands: list[Stand], spans: list[tuple[float, float, bool]]) -> list[Fidget]:
        guard = self.detect.fidget_guard_s
        marks = np.array(sorted([s.t for s in sits] + [s.t for s in stands]))
        found = []
        for move in self.trajectory.moves:
            if move.kind not in ("fidget", "perch", "slump") or not move.is_quick:
                continue
            begin, finish = move.start, move.start + move.duration
            if begin >= self.end or not any(a <= begin and finish <= b for a, b, _ in spans):
                continue
            # Nothing within fidget_guard_s of sitting down or standing up is a fidget.
            if len(marks) and np.any((marks > begin - guard) & (marks < finish + guard)):
                continue
            found.append(Fidget(move.start, move.size_mm, move.start))
        return found


def ground_truth(trajectory: Trajectory, detect: Detect | None = None, breaks: Breaks | None = None) -> Truth:
    """The events of a noise-free trajectory under SPEC section 3's rules (default thresholds).

    - sits / stands: T (all of the load, foam lag included; no breathing,
      sway or noise) crosses seated_kg upward / away_kg downward and the new
      state holds 1.5 s; t is the crossing. Seated from the first sample
      gives a Sit at 0.0. A crossing whose hold the recording cuts short is
      not an event.
    - sessions: from a sit to the stand that begins an absence of
      break_min_s or more, or the last stand when the recording ends away;
      end=None if seated at the end. prompts=().
    - leans / twists: while seated, |lat| >= lean_start starts an excursion;
      it ends once |lat| < lean_end has held 2 s, at the end of that hold (or
      at the stand). >= lean_min_s is a lean; shorter with peak |lat| >=
      twist_peak a twist; side = sign of the mean lat. An excursion still
      open when the recording ends is left out.
    - perches / slumps: sag >= 0.30 (<= -0.30) while seated, dips shorter
      than 2 s merged, lasting >= 30 s; open at the end: left out.
    - fidgets: scripted fidget() moves and quick perch/slump transitions
      (>= 25 mm within <= 0.8 s), t = movement start, size_mm = its
      displacement, unless within fidget_guard_s of a sit or stand t.
    - faults: every injected span, end clipped to the recording.
    """
    return _TruthFinder(trajectory, detect or Detect(), breaks or Breaks()).find()


# ---------------------------------------------------------------------------
# Rendering


class _UniformSeries:
    """Values (n, k) on a uniform time grid every step_s from 0, linearly interpolated, held past the ends."""

    def __init__(self, step_s: float, values: np.ndarray):
        self.step_s = step_s
        self.values = np.asarray(values, dtype=np.float64).reshape(len(values), -1)
        self._grid = step_s * np.arange(len(self.values))
        self._rows = self.values.tolist()

    def at(self, t: np.ndarray) -> np.ndarray:
        """Values (n, k) at times t."""
        return np.stack([np.interp(t, self._grid, column) for column in self.values.T], axis=-1)

    def at_one(self, t: float) -> list[float]:
        """The k values at one time t; plain Python."""
        position = min(max(t / self.step_s, 0.0), len(self._rows) - 1.0)
        index = min(int(position), len(self._rows) - 2)
        if index < 0:
            return list(self._rows[0])
        fraction = position - index
        return [a + (b - a) * fraction for a, b in zip(self._rows[index], self._rows[index + 1])]


class _BodyMotion:
    """Breathing and postural sway of a seated person: small and slow, never an event."""

    _GRID_S = 0.5
    _SWAY_TAU_S = 20.0  # correlation time of the sway: typical speed ~1 mm/s

    def __init__(self, person: Person, duration_s: float, rng: np.random.Generator):
        self.person = person
        samples = int(duration_s / self._GRID_S) + 3
        sway_x = _ornstein_uhlenbeck(rng, samples, self._GRID_S, self._SWAY_TAU_S, person.sway_mm)
        sway_y = _ornstein_uhlenbeck(rng, samples, self._GRID_S, self._SWAY_TAU_S, person.sway_mm)
        # Breathing rate wanders a little: a slow random phase on top of the rate.
        phase = rng.uniform(0, 2 * np.pi) + _ornstein_uhlenbeck(rng, samples, self._GRID_S, 30.0, 0.6)
        self._series = _UniformSeries(self._GRID_S, np.stack([sway_x, sway_y, phase], axis=-1))

    def offsets(self, t: np.ndarray, share: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(dT kg, dx mm, dy mm) at times t for a person `share` (0..1) on the cushion."""
        p = self.person
        sway_x, sway_y, phase = self._series.at(t).T
        breath = np.sin(2 * np.pi * p.breath_hz * t + phase)
        share = np.clip(share, 0.0, 1.0)
        return p.breath_kg * breath * share, sway_x * share, (p.breath_mm * breath + sway_y) * share

    def offsets_at(self, t: float, share: float) -> tuple[float, float, float]:
        """offsets() at one time t; plain Python."""
        p = self.person
        sway_x, sway_y, phase = self._series.at_one(t)
        breath = math.sin(2 * math.pi * p.breath_hz * t + phase)
        share = min(max(share, 0.0), 1.0)
        return p.breath_kg * breath * share, sway_x * share, (p.breath_mm * breath + sway_y) * share


def _ornstein_uhlenbeck(rng: np.random.Generator, samples: int, step_s: float, tau_s: float, rms: float) -> np.ndarray:
    """A stationary random walk pulled back to 0 (rms `rms`, correlation time tau_s) on a grid."""
    rho = math.exp(-step_s / tau_s)
    kicks = rng.standard_normal(samples) * rms * math.sqrt(1 - rho * rho)
    out = np.empty(samples)
    value = rng.standard_normal() * rms
    for i, kick in enumerate(kicks.tolist()):
        value = rho * value + kick
        out[i] = value
    return out


class _ZeroDrift:
    """Slow wander of each channel's zero, kg: a temperature ramp plus a random walk, both ~kg_per_h per hour."""

    _GRID_S = 10.0

    def __init__(self, kg_per_h: float, duration_s: float, rng: np.random.Generator):
        samples = int(duration_s / self._GRID_S) + 3
        grid = self._GRID_S * np.arange(samples)
        ramp = rng.uniform(-1, 1, 4) * kg_per_h / 3600.0
        steps = rng.standard_normal((samples, 4)) * kg_per_h * math.sqrt(self._GRID_S / 3600.0)
        steps[0] = 0.0
        self._series = _UniformSeries(self._GRID_S, grid[:, None] * ramp[None, :] + np.cumsum(steps, axis=0))

    def at(self, t: np.ndarray) -> np.ndarray:
        """Zero offset (n, 4) in kg at times t."""
        return self._series.at(t)

    def at_one(self, t: float) -> list[float]:
        """Zero offset of the four channels at one time t, kg."""
        return self._series.at_one(t)


class Simulation:
    """Renders a scenario to frames of raw HX711 counts (SPEC section 1), with the artefacts of real hardware.

    calibration: turns the rendered kg into counts (offset + kg * counts_per_kg;
    a negative counts_per_kg is a cell mounted upside down). rate_hz: 80 or
    10 frames/s. seed: makes every random artefact reproducible. noise_kg: rms
    white noise per channel. drift_kg_per_h: size of each channel's zero
    wander per hour. spikes_per_hour: single samples with one bit of
    `spike_bits` flipped, per channel. drop_fraction: share of frames
    missing at random; gaps_per_hour: gaps of 0.1-0.45 s with no frames.
    jitter_s: mean delay of the time stamps (t never decreases).

    The geometry is the scenario's (its movements are scripted on that
    board); `geometry`, if given, must match it. The scenario is copied:
    editing it later does not change the simulation.
    """

    def __init__(
        self,
        scenario: Scenario,
        calibration: Calibration = DEMO_CALIBRATION,
        *,
        geometry: Geometry | None = None,
        rate_hz: int = 80,
        seed: int = 0,
        noise_kg: float = 0.02,
        drift_kg_per_h: float = 0.3,
        spikes_per_hour: float = 2.0,
        spike_bits: tuple[int, int] = (16, 22),
        drop_fraction: float = 0.002,
        gaps_per_hour: float = 4.0,
        jitter_s: float = 0.002,
    ):
        if rate_hz not in (10, 80):
            raise ValueError(f"rate_hz must be 80 or 10, got {rate_hz}")
        if geometry is not None and geometry != scenario.geometry:
            raise ValueError(f"geometry {geometry} differs from the scenario's {scenario.geometry}: pass it to Scenario()")
        self.trajectory = scenario.trajectory()
        self.calibration = calibration
        self.rate_hz = rate_hz
        self.seed = seed
        self.noise_kg = noise_kg
        self.drop_fraction = drop_fraction
        self.jitter_s = jitter_s
        self.duration_s = self.trajectory.duration_s
        self.frames = int(round(self.duration_s * rate_hz))
        self._offset = np.array(calibration.offset, dtype=np.float64)
        self._counts_per_kg = np.array(calibration.counts_per_kg, dtype=np.float64)
        self._offset_list = [float(v) for v in calibration.offset]
        self._cpk_list = [float(v) for v in calibration.counts_per_kg]
        hours = self.duration_s / 3600.0
        self._motion = _BodyMotion(self.trajectory.person, self.duration_s, self._rng("motion"))
        self._drift = _ZeroDrift(drift_kg_per_h, self.duration_s, self._rng("drift"))
        self._gap_starts, self._gap_ends = self._plan_gaps(gaps_per_hour * hours)
        self.spikes = self._plan_spikes(spikes_per_hour * hours, spike_bits)
        # Plain Python for the one-instant path: a numpy call costs tens of
        # microseconds when a sleeping process wakes with cold caches, as the
        # live model does 80 times a second.
        self._live_random = random.Random(int(self._rng("live").integers(2**63)))
        self._live_lag: tuple[float, tuple[float, ...], tuple[float, ...]] | None = None

    _STREAMS = {"motion": 1, "drift": 2, "gaps": 3, "spikes": 4, "live": 5, "noise": 6, "jitter": 7, "drops": 8}

    def _rng(self, stream: str, chunk: int = 0) -> np.random.Generator:
        # One independent stream per artefact (and chunk), so turning one
        # artefact off leaves every other exactly as it was.
        return np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(self._STREAMS[stream], chunk)))

    def _plan_gaps(self, expected: float) -> tuple[np.ndarray, np.ndarray]:
        rng = self._rng("gaps")
        count = rng.poisson(expected) if expected > 0 else 0
        starts = np.sort(rng.uniform(0, self.duration_s, count))
        # Shorter than the SPEC's 0.5 s no-data fault limit: a gap is not a fault.
        return starts, starts + rng.uniform(0.1, 0.45, count)

    def _plan_spikes(self, expected_per_channel: float, bits: tuple[int, int]) -> list[tuple[int, int, int]]:
        """(frame index, channel, bit) of every flipped-bit spike."""
        rng = self._rng("spikes")
        spikes = []
        for channel in range(4):
            count = rng.poisson(expected_per_channel) if expected_per_channel > 0 and self.frames > 4 else 0
            frames = np.sort(rng.integers(2, self.frames - 2, count)) if count else np.array([], dtype=np.int64)
            chosen = rng.integers(bits[0], bits[1] + 1, count)
            last = -10
            for frame, bit in zip(frames.tolist(), chosen.tolist()):
                if frame - last > 3:  # a spike is a single sample: never two side by side
                    spikes.append((frame, channel, bit))
                    last = frame
        return sorted(spikes)

    @cached_property
    def truth(self) -> Truth:
        """The events the scenario contains (independent of rate, seed and artefacts)."""
        return ground_truth(self.trajectory)

    @property
    def geometry(self) -> Geometry:
        return self.trajectory.geometry

    def true_state_at(self, t: float) -> tuple[float, float, float]:
        """(T kg, lat, sag) of the noise-free signal at t (foam lag in; no breathing, sway, noise)."""
        return self.trajectory.state_at(t)

    def _analog_kg(self, t: np.ndarray, lagged: np.ndarray) -> np.ndarray:
        """Corner kg (n, 4) the cells feel: the lagged script plus breathing, sway and zero drift."""
        geometry = self.trajectory.geometry
        total, lat, sag = balance(lagged)
        d_load, dx, dy = self._motion.offsets(t, self.trajectory.person_share(t))
        moved = corner_loads(total + d_load, lat + dx * (2.0 / geometry.width_mm), sag + dy * (2.0 / geometry.depth_mm))
        return lagged + (moved - corner_loads(total, lat, sag)) + self._drift.at(t)

    def analog_kg_at(self, t: float) -> tuple[float, float, float, float]:
        """Corner kg the cells feel at one time t (s): as rendered, without noise and artefacts."""
        return self._analog_from_lagged(t, self.trajectory.lagged_corners_at(t))

    def _live_lagged(self, t: float) -> tuple[float, ...]:
        """Lagged corners for a caller sampling forward in time: one filter step from its last call."""
        traj = self.trajectory
        scripted = traj.corners_at(t)
        last = self._live_lag
        if not traj.moving_at(t):
            lagged = scripted
        elif last is not None and 0.0 < t - last[0] <= 0.05 and traj.foam_tau_s > 0:
            # Exact first-order-hold step of the lag over dt.
            dt, tau = t - last[0], traj.foam_tau_s
            a = math.exp(-dt / tau)
            r = tau / dt * (1 - a)
            lagged = tuple(a * y + (1 - r) * u + (r - a) * u_last for y, u, u_last in zip(last[1], scripted, last[2]))
        elif last is not None and t == last[0]:
            lagged = last[1]
        else:
            lagged = traj.lagged_corners_at(t)
        self._live_lag = (t, lagged, scripted)
        return lagged

    def _analog_from_lagged(self, t: float, lagged: tuple[float, ...]) -> tuple[float, float, float, float]:
        traj, geometry = self.trajectory, self.trajectory.geometry
        fl, fr, bl, br = lagged
        total = fl + fr + bl + br
        lat = ((fr + br) - (fl + bl)) / total if total >= 1e-6 else 0.0
        sag = ((fl + fr) - (bl + br)) / total if total >= 1e-6 else 0.0
        d_load, dx, dy = self._motion.offsets_at(t, traj.load.value_at(t) / traj.person.seated_kg)
        moved = _corner_tuple(total + d_load, lat + dx * (2.0 / geometry.width_mm), sag + dy * (2.0 / geometry.depth_mm))
        still = _corner_tuple(total, lat, sag)
        drift = self._drift.at_one(t)
        return tuple(lagged[c] + moved[c] - still[c] + drift[c] for c in range(4))

    def counts_at(self, t: float) -> tuple[int, int, int, int]:
        """Raw counts (fl, fr, bl, br) of the analogue signal at any time t (s): noise and drift, no artefacts.

        For a bit-level HX711 model sampling in real time: a few tens of
        microseconds a call when calls go forward in time (the foam lag then
        advances from the previous call). Noise comes from its own stream,
        so it is reproducible for the same sequence of calls.
        """
        t = float(t)
        kg = self._analog_from_lagged(t, self._live_lagged(t))
        gauss = self._live_random.gauss
        noise = (gauss(0.0, 1.0), gauss(0.0, 1.0), gauss(0.0, 1.0), gauss(0.0, 1.0))
        out = []
        for c in range(4):
            cpk = self._cpk_list[c]
            value = round(self._offset_list[c] + (kg[c] + noise[c] * self.noise_kg) * cpk)
            out.append(min(max(value, RAW_MIN), RAW_MAX))
        return out[0], out[1], out[2], out[3]

    def blocks(self, frames_per_block: int = 8192) -> Iterator[FrameBlock]:
        """The recording as FrameBlocks of `frames_per_block` frames (the last may be shorter)."""
        if frames_per_block < 1:
            raise ValueError("frames_per_block must be positive")
        pending_t: list[np.ndarray] = []
        pending_raw: list[np.ndarray] = []
        count = 0
        for chunk in _Renderer(self).chunks():
            pending_t.append(chunk.t)
            pending_raw.append(chunk.raw)
            count += len(chunk)
            if count < frames_per_block:
                continue
            t, raw = np.concatenate(pending_t), np.concatenate(pending_raw)
            cut = (len(t) // frames_per_block) * frames_per_block
            for begin in range(0, cut, frames_per_block):
                yield FrameBlock(t[begin : begin + frames_per_block], raw[begin : begin + frames_per_block])
            pending_t, pending_raw, count = [t[cut:]], [raw[cut:]], len(t) - cut
        if count:
            yield FrameBlock(np.concatenate(pending_t), np.concatenate(pending_raw))


class _Renderer:
    """One pass over a simulation, chunk by chunk, carrying the foam lag's state and stuck values."""

    def __init__(self, sim: Simulation):
        self.sim = sim
        self.lag = FoamLag(sim.trajectory.foam_tau_s, 1.0 / sim.rate_hz)
        start = sim.trajectory.corners(np.array([0.0]))[0]
        self.lag_out, self.lag_in = start, start  # the board starts settled
        self.stuck: dict[int, int] = {}
        self.spike_frames = np.array([s[0] for s in sim.spikes], dtype=np.int64)

    def chunks(self) -> Iterator[FrameBlock]:
        sim = self.sim
        for index, first in enumerate(range(0, sim.frames, _CHUNK)):
            yield self._chunk(index, first, min(first + _CHUNK, sim.frames))

    def _chunk(self, index: int, first: int, stop: int) -> FrameBlock:
        sim = self.sim
        t = np.arange(first, stop) / sim.rate_hz
        n = len(t)
        scripted = sim.trajectory.corners(t)
        lagged = self.lag.apply(scripted, self.lag_out, self.lag_in)
        self.lag_out, self.lag_in = lagged[-1], scripted[-1]
        kg = sim._analog_kg(t, lagged)
        noise = sim._rng("noise", index).standard_normal((n, 4))
        counts = sim._offset + (kg + noise * sim.noise_kg) * sim._counts_per_kg
        raw = np.clip(np.rint(counts), RAW_MIN, RAW_MAX).astype(np.int64)
        # Time stamps: the reader notices a conversion a little late, never by a whole frame.
        if sim.jitter_s > 0:
            delay = np.minimum(sim._rng("jitter", index).exponential(sim.jitter_s, n), 0.45 / sim.rate_hz)
        else:
            delay = 0.0
        stamps = np.round(t + delay, 4)
        faulty = self._apply_faults(stamps, raw)
        self._apply_spikes(first, stop, raw, faulty)
        keep = sim._rng("drops", index).random(n) >= sim.drop_fraction
        if len(sim._gap_starts):
            gap = np.searchsorted(sim._gap_starts, t, side="right") - 1
            keep &= ~((gap >= 0) & (t < sim._gap_ends[np.maximum(gap, 0)]))
        return FrameBlock(stamps[keep], raw[keep])

    def _apply_faults(self, stamps: np.ndarray, raw: np.ndarray) -> np.ndarray:
        faulty = np.zeros(raw.shape, dtype=bool)
        for number, fault in enumerate(self.sim.trajectory.faults):
            if fault.end <= stamps[0] or fault.start > stamps[-1]:
                continue
            rows = (stamps >= fault.start) & (stamps < fault.end)
            if not rows.any():
                continue
            channel = CHANNELS.index(fault.channel)
            faulty[rows, channel] = True
            if fault.reason == "unplugged":
                raw[rows, channel] = MISSING
            elif fault.reason == "stuck":
                if number not in self.stuck:
                    self.stuck[number] = int(raw[np.flatnonzero(rows)[0], channel])
                raw[rows, channel] = self.stuck[number]
            elif fault.reason == "rail":
                raw[rows, channel] = RAW_MAX
            elif fault.reason == "rail_low":
                raw[rows, channel] = RAW_MIN
            elif fault.reason == "all_ones":
                raw[rows, channel] = -1
        return faulty

    def _apply_spikes(self, first: int, stop: int, raw: np.ndarray, faulty: np.ndarray) -> None:
        lo, hi = np.searchsorted(self.spike_frames, [first, stop])
        for frame, channel, bit in self.sim.spikes[lo:hi]:
            row = frame - first
            if faulty[row, channel]:
                continue
            flipped = (int(raw[row, channel]) & 0xFFFFFF) ^ (1 << bit)
            raw[row, channel] = flipped - (1 << 24) if flipped & 0x800000 else flipped


def write_recording(sim: Simulation, path: str | Path, metadata: dict[str, str] | None = None) -> int:
    """Write the simulation as a SPEC section 4 recording; returns the number of frames written.

    `# rate_hz`, `device`, `scenario` and `seed` metadata come first; `metadata` adds or overrides keys.
    """
    header = {
        "rate_hz": str(sim.rate_hz),
        "device": "simulated sitter (device.sim.sitter)",
        "scenario": sim.trajectory.name,
        "seed": str(sim.seed),
    }
    header.update({key: str(value) for key, value in (metadata or {}).items()})
    with RecordingWriter(path, header) as writer:
        for block in sim.blocks():
            writer.write_block(block.t, block.raw)
        return writer.frames


# ---------------------------------------------------------------------------
# A random office day


class _DayPlanner:
    """Scripts a plausible office day: sessions, short absences, breaks, movements, a bag, faults."""

    _END_MARGIN_S = 10.0   # nothing starts this close to the end of the recording
    _GAP_MIN_S = 2.5       # movements at least this far apart (fidgets need 1.5 s)
    _ACTIONS = ("fidget", "lean", "twist", "posture", "drift", "absence")
    _WEIGHTS = (0.63, 0.09, 0.09, 0.08, 0.08, 0.03)

    def __init__(self, seed: int, hours: float, geometry: Geometry):
        self.rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(100,)))
        self.end = hours * 3600.0
        self.geometry = geometry
        rng = self.rng
        person = Person(
            mass_kg=rng.uniform(50, 110),
            seated_share=rng.uniform(0.70, 0.80),
            x_mm=float(np.clip(rng.normal(0, 6), -15, 15)) * geometry.width_mm / 400,
            y_mm=float(np.clip(rng.normal(0, 8), -20, 20)) * geometry.depth_mm / 400,
            breath_hz=rng.uniform(0.2, 0.3),
            breath_mm=rng.uniform(1.0, 3.0),
            breath_kg=rng.uniform(0.15, 0.3),
            sway_mm=rng.uniform(1.5, 3.0),
        )
        self.sc = Scenario(person, geometry, seated=bool(rng.random() < 0.4), name=f"random_day(seed={seed}, hours={hours:g})")
        self.x_max = REST_LAT * geometry.width_mm / 2
        self.y_max = REST_SAG * geometry.depth_mm / 2

    @property
    def left(self) -> float:
        return self.end - self.sc.time_s

    def build(self) -> Scenario:
        rng = self.rng
        if self.sc.seated:
            self._session(rng.uniform(5, 60) * 60)  # a session that began before the recording
        else:
            self._break(rng.uniform(10, 600))
        while self.left > 0:
            self._sit()
            if self.left <= 0:
                break
            seconds = rng.uniform(15, 95) * 60
            if seconds + 60 > self.left and self.left > 8 * 60 and rng.random() < 0.5:
                # Leave before the recording ends, sometimes less than a break before.
                seconds = self.left - rng.uniform(20, min(600, self.left - 5 * 60))
            self._session(seconds)
            if self.left > 0:
                self._break(rng.uniform(2, 20) * 60)
        self._place_faults()
        return self.sc

    def _fill(self) -> None:
        """Stay as you are until the end of the day."""
        if self.left > 0:
            self.sc.hold(self.left)

    def _sit(self) -> None:
        if self.left < 5 + self._END_MARGIN_S:
            self._fill()
            return
        self.sc.sit_down(self.rng.uniform(0.6, 1.5))

    def _break(self, seconds: float) -> None:
        """Away for `seconds`; sometimes a bag lies on the cushion meanwhile."""
        sc, rng = self.sc, self.rng
        seconds = min(seconds, self.left)
        if seconds > 90 and rng.random() < 0.3:
            before, after = rng.uniform(5, 30), rng.uniform(10, 30)
            on = max(0.0, seconds - before - after - 0.6)
            sc.away(before).place_object(rng.uniform(2, 6), rng.uniform(-60, 60), rng.uniform(-60, 60))
            sc.away(on)
            if self.left > after + 0.3:
                sc.remove_object().away(min(after, self.left))
            else:
                self._fill()  # the day ends with the bag still on the cushion
                return
        else:
            sc.away(seconds)
        if self.left < 5 + self._END_MARGIN_S:
            self._fill()  # the day ends during the break

    def _session(self, seconds: float) -> None:
        sc, rng = self.sc, self.rng
        session_end = min(sc.time_s + seconds, self.end)
        day_ends_seated = session_end >= self.end - self._END_MARGIN_S
        finish_by = (self.end - self._END_MARGIN_S) if day_ends_seated else session_end - 6.0
        # How restless the person is this session: mean pause between movements.
        mean_gap = float(np.clip(rng.lognormal(math.log(60), 0.7), 12, 400))
        still_at = None
        if seconds > 35 * 60 and rng.random() < 0.5:
            still_at = sc.time_s + rng.uniform(0, seconds - 30 * 60)
        sc.hold(min(rng.uniform(5, 10), max(self.left, 0)))
        while sc.time_s < finish_by:
            if still_at is not None and sc.time_s >= still_at:
                still_at = None
                sc.hold(min(rng.uniform(21, 30) * 60, max(finish_by - sc.time_s, 0)))
                continue
            gap = max(self._GAP_MIN_S, rng.exponential(mean_gap * rng.uniform(0.5, 1.5)))
            action = self._ACTIONS[rng.choice(len(self._ACTIONS), p=self._WEIGHTS)]
            plan = self._plan(action)
            if plan is None or sc.time_s + gap + plan[0] + self._GAP_MIN_S > finish_by:
                if sc.time_s + gap > finish_by:
                    break
                sc.hold(gap)
                continue
            sc.hold(gap)
            plan[1]()
        if day_ends_seated:
            self._fill()
            return
        if session_end > sc.time_s:
            sc.hold(session_end - sc.time_s)
        if self.left < 3 + self._END_MARGIN_S:
            self._fill()
            return
        sc.stand_up(rng.uniform(0.6, 1.5))

    def _plan(self, action: str):
        """(seconds it takes, a callable that scripts it), or None if it cannot be done from here."""
        sc, rng = self.sc, self.rng
        half_width = self.geometry.width_mm / 2
        half_depth = self.geometry.depth_mm / 2
        if action == "fidget":
            target = self._target(28, 70)
            if target is None:
                return None
            duration = rng.uniform(0.3, 0.6)
            dx, dy = target[0] - sc.x.value, target[1] - sc.y.value
            return duration, lambda: sc.fidget(dx, dy, duration)
        if action == "drift":
            target = self._target(5, 20)
            if target is None:
                return None
            dx, dy = target[0] - sc.x.value, target[1] - sc.y.value
            seconds = _peak_speed(math.hypot(dx, dy), 1.0) / rng.uniform(1.0, 3.0)
            return seconds, lambda: sc.drift(dx, dy, seconds)
        if action == "lean":
            side, lat, hold = rng.choice(["left", "right"]), rng.uniform(0.25, 0.40), rng.uniform(15, 180)
            distance = abs(_side_sign(side) * lat * half_width - sc.x.value)
            ramp = max(1.5, _peak_speed(distance, 1.0) / rng.uniform(12, 22))
            return hold + 2 * ramp, lambda: sc.lean(side, lat, hold, ramp)
        if action == "twist":
            side, peak, seconds = rng.choice(["left", "right"]), rng.uniform(0.35, 0.50), rng.uniform(1.5, 6.5)
            return seconds, lambda: sc.twist(side, peak, seconds)
        if action == "posture":
            kind = "perch" if rng.random() < 0.5 else "slump"
            sag, hold = rng.uniform(0.36, 0.45), rng.uniform(40, 400)
            distance = abs((sag if kind == "perch" else -sag) * half_depth - sc.y.value)
            ramp = rng.uniform(0.45, 0.7) if rng.random() < 0.5 else _peak_speed(distance, 1.0) / rng.uniform(8, 15)
            verb = sc.perch if kind == "perch" else sc.slump  # each applies its own sign to sag
            return hold + 2 * ramp, lambda: verb(hold, sag, ramp)
        if action == "absence":
            away = rng.uniform(10, 45)

            def absence() -> None:
                sc.hold(rng.uniform(4, 8))  # stand-ups keep clear of the last movement
                sc.stand_up(rng.uniform(0.6, 1.5)).away(away).sit_down(rng.uniform(0.6, 1.5))
                sc.hold(rng.uniform(5, 8))

            return away + 25.0, absence
        raise AssertionError(action)

    def _target(self, low_mm: float, high_mm: float) -> tuple[float, float] | None:
        """A resting position low_mm..high_mm away from the current one, or None."""
        x, y = self.sc.x.value, self.sc.y.value
        for _ in range(60):
            tx, ty = self.rng.uniform(-self.x_max, self.x_max), self.rng.uniform(-self.y_max, self.y_max)
            if low_mm <= math.hypot(tx - x, ty - y) <= high_mm:
                return tx * 0.999, ty * 0.999
        return None

    def _place_faults(self) -> None:
        """A few faults of 1-20 s, each inside a quiet stretch (nothing else moves) with 3 s to spare."""
        rng, sc = self.rng, self.sc
        hours = self.end / 3600.0
        count = rng.poisson(3.0 * hours / 8.0) + (1 if hours >= 1 else 0)
        placed: list[tuple[float, float]] = []
        for _ in range(count):
            kind = FAULT_KINDS[rng.integers(len(FAULT_KINDS))]
            # A frozen channel is only a fault after 2 s (SPEC): keep clear of that edge.
            seconds = rng.uniform(3, 20) if kind in ("stuck", "all_ones") else rng.uniform(1, 20)
            room = [(a, b) for a, b in sc.quiet if b - a >= seconds + 6 and b <= self.end]
            for _attempt in range(20):
                if not room:
                    break
                a, b = room[rng.integers(len(room))]
                start = rng.uniform(a + 3, b - 3 - seconds)
                if all(start + seconds + 5 < s or start > e + 5 for s, e in placed):
                    placed.append((start, start + seconds))
                    sc.fault(int(rng.integers(4)), kind, seconds, at=start)
                    break


def random_day(seed: int, hours: float = 8.0, geometry: Geometry | None = None) -> Scenario:
    """A realistic office day of `hours`, different for every seed.

    Sessions of 15-95 min, short absences of 10-45 s inside them, breaks of
    2-20 min; fidgets at a rate that changes from session to session, with
    long still stretches (21-30 min) in some; leans of 15-180 s (|lat|
    0.25-0.40), twists of 1.5-6.5 s (peak 0.35-0.50), perches and slumps of
    40-400 s; sometimes a bag of 2-6 kg on the empty cushion; a few channel
    faults of 1-20 s (3-20 s for a frozen channel); the person may already be seated at the start or
    still seated at the end. Movements keep the design margins of SPEC
    section 3's thresholds (see the module constants).
    """
    return _DayPlanner(seed, hours, geometry or Geometry()).build()
