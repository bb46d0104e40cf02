"""A scenario rendered to raw HX711 frames, as a recorder would write them.

Foam lag, breathing, sway, per-channel noise and zero drift, flipped-bit
spikes, dropped frames, jittered time stamps and injected channel faults.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path

import numpy as np

from device.config import CHANNELS, RAW_MAX, RAW_MIN, Calibration, Geometry
from device.core.frames import MISSING, FrameBlock
from device.hardware.hx711.datasheet import to_signed
from device.sim.physics import (
    FoamLag,
    _BodyMotion,
    _corner_tuple,
    _ZeroDrift,
    balance,
    corner_loads,
)
from device.sim.scenario import Scenario
from device.sim.truth import Truth, ground_truth
from device.storage.recording import RecordingWriter

# The SPEC's example calibration: the fr cell is mounted upside down.
DEMO_CALIBRATION = Calibration(
    offset=(-120340.0, 88012.0, 4410.0, -301777.0),
    counts_per_kg=(21430.5, -20988.0, 22010.2, 21775.9),
)


# Internal render chunk in frames. Fixed, so the output does not depend on
# the block size a caller asks for.
_CHUNK = 8192


# ---------------------------------------------------------------------------
# Rendering


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
            raise ValueError(
                f"geometry {geometry} differs from the scenario's {scenario.geometry}: pass it to Scenario()"
            )
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

    def analog_kg_at(self, t: float) -> tuple[float, ...]:
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

    def _analog_from_lagged(self, t: float, lagged: tuple[float, ...]) -> tuple[float, ...]:
        traj, geometry = self.trajectory, self.trajectory.geometry
        fl, fr, bl, br = lagged
        total = fl + fr + bl + br
        lat = ((fr + br) - (fl + bl)) / total if total >= 1e-6 else 0.0
        sag = ((fl + fr) - (bl + br)) / total if total >= 1e-6 else 0.0
        d_load, dx, dy = self._motion.offsets_at(t, traj.load.value_at(t) / traj.person.seated_kg)
        moved = _corner_tuple(
            total + d_load, lat + dx * (2.0 / geometry.width_mm), sag + dy * (2.0 / geometry.depth_mm)
        )
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
        delay: np.ndarray | float
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
            raw[row, channel] = to_signed(int(raw[row, channel]) ^ (1 << bit))  # one bit of the 24 flipped


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
