"""The simulated cushion behind `--sim` of the sensor commands.

Four bit-level HX711 models (device.sim.hx711) on their own gpiozero mock
pins, read by the real driver in real time, so `cushion check / tare /
calibrate / record --sim` run the same code as on the Pi. What the chips
measure is a simulated board:

- the cushion itself: a device.sim.sitter Simulation (an empty cushion, a
  person sitting, a bag on it, or any Scenario), rendered with the board's
  *true* calibration, which the commands do not know; by default
  DEMO_CALIBRATION, whose fr cell is mounted upside down;
- a known weight that the calibration rig puts on a corner when asked: not
  exactly over the cell but 30-60 mm inward (so only the 4x4 solve of
  device.core.calibration gets counts_per_kg right), split between the four cells
  by a rigid board's statics (device.sim.sitter.corner_loads), with a short
  wobble after it lands;
- optionally a hand pressing each corner in turn, as `cushion check` asks
  the user to do.

Time: the models' sources see seconds since the rig opened (their epoch); the
weight is placed "now" on that clock. Nothing here runs a thread: sources are
evaluated when the driver reads DOUT.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from time import perf_counter

from device.config import CHANNELS, Calibration, Config, Geometry
from device.sim.sitter import (
    DEMO_CALIBRATION,
    Person,
    Scenario,
    Simulation,
    corner_loads,
    random_day,
)

SCENE_S = 4 * 3600.0  # length of the simulated cushion's script; it holds still after
SCENES = ("empty", "sitter", "bag", "day")

# The corner's signs in (x right, y forward).
_CORNER_XY = {"fl": (-1, 1), "fr": (1, 1), "bl": (-1, -1), "br": (1, -1)}


def scene(name: str, seed: int = 1, geometry: Geometry | None = None) -> Scenario:
    """A named scene: "empty" (nobody, nothing), "sitter" (a person seated
    still), "bag" (4 kg lying on the empty cushion) or "day" (a random office
    day, device.sim.sitter.random_day)."""
    geometry = geometry or Geometry()
    if name == "empty":
        return Scenario(geometry=geometry, name="empty cushion").away(SCENE_S)
    if name == "sitter":
        return Scenario(Person(mass_kg=72), geometry, seated=True, name="seated person").hold(SCENE_S)
    if name == "bag":
        return (
            Scenario(geometry=geometry, name="bag on the cushion")
            .place_object(4.0, 30.0, -20.0, duration_s=0.01)
            .away(SCENE_S)
        )
    if name == "day":
        return random_day(seed, hours=SCENE_S / 3600, geometry=geometry)
    raise ValueError(f"scene must be one of {SCENES}, got {name!r}")


@dataclass(slots=True)
class _Load:
    """A mass resting at (lat, sag) from ``start`` until ``end`` (s on the
    rig's clock), ramping on and off over ``ramp_s``, wobbling after it lands."""

    kg: float
    lat: float
    sag: float
    start: float
    end: float = math.inf
    ramp_s: float = 0.3
    wobble: float = 0.05  # relative amplitude of the landing wobble ...
    wobble_tau_s: float = 0.15  # ... decaying with this time constant

    def kg_at(self, t: float) -> float:
        if t <= self.start or t >= self.end + self.ramp_s:
            return 0.0
        on = _ramp((t - self.start) / self.ramp_s)
        off = 1.0 - _ramp((t - self.end) / self.ramp_s) if t > self.end else 1.0
        since = t - self.start - self.ramp_s
        shake = 0.0
        if since > 0:
            shake = self.wobble * math.exp(-since / self.wobble_tau_s) * math.sin(2 * math.pi * 3.0 * since)
        return self.kg * on * off * (1.0 + shake)


def _ramp(x: float) -> float:
    """0 -> 1 over x in 0..1 (raised cosine)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    return 0.5 - 0.5 * math.cos(math.pi * x)


class SimulatedCushion:
    """The hardware for `--sim`: opens an HX711Array on simulated chips.

    :param scene_name: "empty", "sitter", "bag", "day" (see :func:`scene`) or a
        device.sim.sitter Scenario.
    :param truth: the board's real calibration (offset, counts_per_kg).
    :param seed: the simulation's random numbers (noise, drift, insets).
    :param noise_kg: white noise per channel, kg rms (10 g: a tidy build; the
        HX711's own noise at 80 samples/s is a few grams on 50 kg cells).
    :param drift_kg_per_h: slow wander of each channel's zero (device.sim.sitter).
    :param inset_mm: how far inward from the cell the weight lands, drawn per
        placement within this range, on both axes.
    :param presses_s: if set, a hand presses each corner in turn (fl, fr, bl,
        br, ...) with ``press_kg``, one corner every ``presses_s`` seconds.
    :param unplugged: channel names whose chip is unplugged (DOUT pulled up).
    :param skipped: corners for which the simulated user does not move the
        weight: it stays where it was.
    :param lead_s: the scene's clock runs this far ahead of the rig's, so
        that the foam has settled under whatever the scene starts with.
    """

    moves_weight = True

    def __init__(
        self,
        scene_name: str | Scenario = "empty",
        *,
        truth: Calibration = DEMO_CALIBRATION,
        seed: int = 1,
        noise_kg: float = 0.01,
        drift_kg_per_h: float = 0.3,
        inset_mm: tuple[float, float] = (30.0, 60.0),
        presses_s: float | None = None,
        press_kg: float = 6.0,
        unplugged: tuple[str, ...] = (),
        skipped: tuple[str, ...] = (),
        geometry: Geometry | None = None,
        lead_s: float = 5.0,
    ):
        self.scene = scene_name
        self.truth = truth
        self.seed = seed
        self.noise_kg = noise_kg
        self.drift_kg_per_h = drift_kg_per_h
        self.inset_mm = inset_mm
        self.presses_s = presses_s
        self.press_kg = press_kg
        self.unplugged = tuple(unplugged)
        self.skipped = tuple(skipped)
        self.lead_s = lead_s
        self.geometry = geometry
        self.chips: list = []
        self.factory = None
        self.simulation: Simulation | None = None
        self.placements: list[tuple[str, float, float]] = []  # (corner asked for, lat, sag) of each weight
        self._loads: list[_Load] = []
        self._weight: _Load | None = None
        self._rng = random.Random(seed)
        self._epoch = perf_counter()
        self._cached_t: float | None = None
        self._cached: tuple[float, ...] = (0.0, 0.0, 0.0, 0.0)

    @property
    def description(self) -> str:
        what = self.scene if isinstance(self.scene, str) else self.scene.name
        return f"simulated cushion ({what}) on bit-level HX711 models, mock GPIO pins"

    # -- the hardware -------------------------------------------------------

    def open(self, config: Config):
        """Plug the simulated chips into a fresh MockFactory and open the
        driver on it (the global Device.pin_factory is left alone)."""
        from gpiozero.pins.mock import MockFactory

        from device.hardware.gpio import open_hx711
        from device.sim.hx711 import attach_array

        geometry = self.geometry or config.geometry
        script = scene(self.scene, self.seed, geometry) if isinstance(self.scene, str) else self.scene
        self.simulation = Simulation(
            script,
            calibration=self.truth,
            rate_hz=config.sensor.rate_hz,
            seed=self.seed,
            noise_kg=self.noise_kg,
            drift_kg_per_h=self.drift_kg_per_h,
        )
        self.factory = MockFactory()
        self._epoch = perf_counter()
        self.chips = attach_array(
            self.factory,
            config.sensor,
            [self._source(i) for i in range(len(CHANNELS))],
            epoch=self._epoch,
            seed=self.seed,
        )
        for name in self.unplugged:
            self.chips[CHANNELS.index(name)].unplugged = True
        return open_hx711(config, self.factory)

    def close(self) -> None:
        for chip in self.chips:
            chip.detach()
        self.chips = []
        if self.factory is not None:
            self.factory.reset()
            self.factory = None

    def now(self) -> float:
        """Seconds on the chips' clock."""
        return perf_counter() - self._epoch

    # -- the calibration rig ------------------------------------------------

    def put_weight(self, corner: str, kg: float) -> None:
        """Take the weight off wherever it is and set it down near ``corner``,
        30-60 mm (``inset_mm``) inward from the cell on each axis."""
        if corner in self.skipped and self._weight is not None:
            self.placements.append((corner, self._weight.lat, self._weight.sag))
            return
        self.take_weight()
        sx, sy = _CORNER_XY[corner]
        geometry = self.geometry or (self.simulation.geometry if self.simulation else Geometry())
        half_w, half_d = geometry.width_mm / 2, geometry.depth_mm / 2
        x = sx * (half_w - self._rng.uniform(*self.inset_mm))
        y = sy * (half_d - self._rng.uniform(*self.inset_mm))
        lat, sag = x / half_w, y / half_d
        self.placements.append((corner, lat, sag))
        # Lifting the weight off and setting it down take a moment each.
        self._weight = _Load(kg, lat, sag, start=self.now() + 0.25)
        self._loads.append(self._weight)

    def take_weight(self) -> None:
        """Lift the weight off the cushion (if it is on)."""
        if self._weight is not None:
            self._weight.end = max(self.now(), self._weight.start + self._weight.ramp_s)
            self._weight = None

    # -- what the chips measure ----------------------------------------------

    def corner_kg(self, t: float) -> tuple[float, float, float, float]:
        """kg per corner at ``t`` from the weight and the hand (not the scene)."""
        fl = fr = bl = br = 0.0
        for load in self._loads:
            kg = load.kg_at(t)
            if kg:
                a, b, c, d = corner_loads(kg, load.lat, load.sag).tolist()
                fl, fr, bl, br = fl + a, fr + b, bl + c, br + d
        if self.presses_s:
            k, within = divmod(t / self.presses_s, 1.0)
            if 0.2 < within < 0.8:
                # A hand 20 mm in from the corner: presses, holds, lets go.
                x = (within - 0.2) / 0.6
                press = self.press_kg * _ramp(x / 0.25) * _ramp((1.0 - x) / 0.25)
                sx, sy = _CORNER_XY[CHANNELS[int(k) % 4]]
                a, b, c, d = corner_loads(press, 0.9 * sx, 0.9 * sy).tolist()
                fl, fr, bl, br = fl + a, fr + b, bl + c, br + d
        return fl, fr, bl, br

    def true_zero(self, t: float | None = None) -> tuple[float, ...]:
        """What an ideal tare would find at ``t`` (default now): the true
        offsets plus the zero drift so far, for an empty scene."""
        t = self.now() if t is None else t
        kg = self._scene.analog_kg_at(self._scene_t(t))
        return tuple(self.truth.offset[i] + kg[i] * self.truth.counts_per_kg[i] for i in range(len(CHANNELS)))

    def counts_at(self, t: float) -> tuple[float, ...]:
        """Raw counts of the four chips' inputs at ``t`` (s since opening)."""
        base = self._scene.counts_at(self._scene_t(t))
        extra = self.corner_kg(t)
        cpk = self.truth.counts_per_kg
        return tuple(base[i] + extra[i] * cpk[i] for i in range(len(CHANNELS)))

    def _scene_t(self, t: float) -> float:
        return min(max(t + self.lead_s, 0.0), self._scene.duration_s)

    @property
    def _scene(self) -> Simulation:
        """The simulation of the scene set up by open() (an error before it)."""
        if self.simulation is None:
            raise RuntimeError("the simulated rig is not open")
        return self.simulation

    def _source(self, index: int):
        def source(t: float) -> float:
            # The four chips convert within a millisecond of each other: one
            # evaluation of the board serves them all.
            if self._cached_t is None or abs(t - self._cached_t) > 0.001:
                self._cached_t = t
                self._cached = self.counts_at(t)
            return self._cached[index]

        return source
