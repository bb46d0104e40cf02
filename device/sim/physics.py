"""The board's physics: corner loads of a balance, foam lag, breathing and sway, zero drift.

The noise-free signal of a scenario (Trajectory) and the slow noises a
rendering adds to it. Pure numpy, deterministic for a seed.
"""

from __future__ import annotations

import bisect
import copy
import math
from typing import TYPE_CHECKING

import numpy as np

from device.config import CHANNELS

if TYPE_CHECKING:
    from device.sim.scenario import Person, Scenario

# ---------------------------------------------------------------------------
# Board geometry


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

    def corners_at(self, t: float) -> tuple[float, ...]:
        """Scripted corner loads at one time t (s), before the foam lag; plain Python."""
        lat = self.x.value_at(t) * (2.0 / self.geometry.width_mm)
        sag = self.y.value_at(t) * (2.0 / self.geometry.depth_mm)
        loads: tuple[float, ...] = _corner_tuple(self.load.value_at(t), lat, sag)
        if self._has_object:
            loads = tuple(load + track.value_at(t) for load, track in zip(loads, self.object_tracks))
        return loads

    def moving_at(self, t: float) -> bool:
        """moving() for one time t."""
        index = bisect.bisect_right(self._moving_list, t) - 1
        return index >= 0 and t <= self._moving_ends[index]

    def lagged_corners_at(self, t: float) -> tuple[float, ...]:
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


def _merge_spans(
    spans: list[tuple[float, float]], before: float = 0.0, after: float = 0.0
) -> tuple[list[float], list[float]]:
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
# Slow noises of the rendering


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
