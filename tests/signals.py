"""Hand-built signals for detector tests: corner loads in kg -> raw frames."""

from __future__ import annotations

import numpy as np

from device.config import Calibration, Config
from device.core.pipeline import Pipeline

CAL = Calibration(offset=(-120340.0, 88012.0, 4410.0, -301777.0), counts_per_kg=(21430.5, -20988.0, 22010.2, 21775.9))


def corners(total_kg: float, lat: float = 0.0, sag: float = 0.0) -> list[float]:
    """Corner loads (fl, fr, bl, br) for a seated load and balance (SPEC section 2)."""
    return [
        total_kg * (1 - lat) * (1 + sag) / 4,
        total_kg * (1 + lat) * (1 + sag) / 4,
        total_kg * (1 - lat) * (1 - sag) / 4,
        total_kg * (1 + lat) * (1 - sag) / 4,
    ]


class Signal:
    """Piecewise signal builder: segments of constant or ramped (T, lat, sag)."""

    def __init__(self, rate_hz: float = 80.0):
        self.rate = rate_hz
        self.t = 0.0
        self.state = (0.0, 0.0, 0.0)
        self._times: list[np.ndarray] = []
        self._kg: list[np.ndarray] = []

    def hold(self, seconds: float, total: float | None = None, lat: float | None = None, sag: float | None = None):
        state = (
            self.state[0] if total is None else total,
            self.state[1] if lat is None else lat,
            self.state[2] if sag is None else sag,
        )
        return self.ramp(seconds, *state, ramp_s=0.0)

    def ramp(self, seconds: float, total: float, lat: float = 0.0, sag: float = 0.0, ramp_s: float = 0.5):
        """Move linearly to (total, lat, sag) over ramp_s, then hold until `seconds` have passed."""
        n = int(round(seconds * self.rate))
        times = self.t + np.arange(n) / self.rate
        frac = np.clip((times - self.t) / ramp_s, 0, 1) if ramp_s > 0 else np.ones(n)
        start = np.array(self.state)
        end = np.array([total, lat, sag])
        values = start + (end - start) * frac[:, None]
        kg = np.stack(corners(values[:, 0], values[:, 1], values[:, 2]), axis=1) if n else np.empty((0, 4))
        self._times.append(times)
        self._kg.append(kg)
        self.t += n / self.rate
        self.state = (total, lat, sag)
        return self

    def frames(self, noise_counts: float = 0.0, seed: int = 0, cal: Calibration = CAL):
        t = np.concatenate(self._times)
        kg = np.concatenate(self._kg)
        raw = np.asarray(cal.offset) + kg * np.asarray(cal.counts_per_kg)
        if noise_counts:
            raw = raw + np.random.default_rng(seed).normal(0, noise_counts, raw.shape)
        return t, np.round(raw).astype(np.int64)


def run(t, raw, config: Config | None = None, block: int | None = None):
    """Events of a whole signal (in detected_at order) and the pipeline that made them."""
    config = config or Config(calibration=CAL)
    pipeline = Pipeline(config)
    events = []
    if block is None:
        events += pipeline.feed_block(t, raw)
    else:
        for i in range(0, len(t), block):
            events += pipeline.feed_block(t[i : i + block], raw[i : i + block])
    events += pipeline.finish()
    events.sort(key=lambda e: e.detected_at)
    return events, pipeline


def of_type(events, kind: str):
    return [e for e in events if e.type == kind]
