"""Tare, calibration and channel health: what windows of raw readings say (pure).

The sensor commands (`cushion check`, `tare`, `calibrate`; device/cli/sensor.py)
read frames and hand them over as :class:`Readings`; everything here works on
those numbers and never touches a pin, a clock or a file.

- :func:`assess` tells whether a window is steady enough to be averaged (tare,
  and each step of calibrate), in kilograms, so one threshold fits every cell.
- :func:`solve_counts_per_kg` turns four placements of one known weight into
  the four counts_per_kg. Every placement puts exactly W kg on the board, so
  for each placement j, sum_i D[j, i] / counts_per_kg[i] = W, where D[j, i] is
  channel i's reading minus its empty reading. That is a 4x4 linear system in
  1 / counts_per_kg, right wherever on the board the weight actually stood, as
  long as the four placements differ: the weight need not be over a cell.
- :func:`channel_health` is `cushion check`'s verdict on each channel.

Writing the results into the config file is device.config.toml_edit's.

Kilograms of a channel use |counts_per_kg| from the config: before the first
calibration that is the default 21,000 counts/kg, the right order of magnitude
for the usual cells (hardware/calibration.md, "Are the numbers plausible?").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from device.config import CHANNELS, Calibration
from device.config import RAW_MAX as RAIL_HIGH
from device.config import RAW_MIN as RAIL_LOW

Floats = NDArray[np.float64]

CORNER_NAMES = {"fl": "front-left", "fr": "front-right", "bl": "back-left", "br": "back-right"}


class Refused(Exception):
    """The readings do not allow this step; nothing is written. The message
    says why, in the user's terms, and what to do about it."""


# ---------------------------------------------------------------------------
# Readings


class Readings:
    """Frames collected by a command: times (s) and raw counts, None where a
    channel gave no reading. Append with :meth:`add`; arrays on demand."""

    def __init__(self, channels: int = len(CHANNELS)):
        self.channels = channels
        self._t: list[float] = []
        self._raw: list[tuple[float, ...]] = []

    def add(self, t: float, raw: Sequence[float | None]) -> None:
        """One frame: ``t`` in seconds, ``raw`` one value (or None) per channel."""
        self._t.append(float(t))
        self._raw.append(tuple(math.nan if v is None else float(v) for v in raw))

    def __len__(self) -> int:
        return len(self._t)

    @property
    def t(self) -> np.ndarray:
        return np.array(self._t, dtype=np.float64)

    @property
    def raw(self) -> np.ndarray:
        """(frames, channels) float64; NaN where a channel gave no reading."""
        return np.array(self._raw, dtype=np.float64).reshape(-1, self.channels)

    @property
    def duration_s(self) -> float:
        """From the first frame to the last, s."""
        return self._t[-1] - self._t[0] if len(self._t) > 1 else 0.0

    def last(self, seconds: float) -> Readings:
        """The frames of the last ``seconds`` (a copy)."""
        out = Readings(self.channels)
        if not self._t:
            return out
        start = self._t[-1] - seconds
        first = next((i for i in range(len(self._t) - 1, -1, -1) if self._t[i] < start), -1) + 1
        out._t = self._t[first:]
        out._raw = self._raw[first:]
        return out

    @classmethod
    def from_arrays(cls, t: ArrayLike, raw: ArrayLike) -> Readings:
        """Readings from arrays (NaN or None for no reading); for tests and tools."""
        raw = np.asarray(raw, dtype=np.float64)
        out = cls(raw.shape[1])
        out._t = np.asarray(t, dtype=np.float64).tolist()
        out._raw = [tuple(row) for row in raw.tolist()]
        return out


def robust_noise(values: np.ndarray) -> float:
    """Standard deviation of the white noise in ``values`` (counts), from the
    median absolute deviation of successive differences: slow drift and a
    few quick steps (a hand pressing a corner) leave it unchanged."""
    values = np.asarray(values, dtype=np.float64)
    values = values[~np.isnan(values)]
    if len(values) < 3:
        return 0.0
    diff = np.diff(values)
    mad = np.median(np.abs(diff - np.median(diff)))
    return float(1.4826 * mad / math.sqrt(2.0))


# ---------------------------------------------------------------------------
# Steady readings (tare, and every step of calibrate)


@dataclass(frozen=True, slots=True)
class StabilityLimits:
    """How still a window must be to be averaged, in kg of the channel.

    ``max_wander_kg``: range of the means of ``block_s`` blocks (a person's
    breathing moves each corner by a tenth of a kilogram or more; a hand on
    the chair by far more; blocks of 0.1 s also catch a weight still
    rocking after it was set down, which longer blocks would average out).
    ``max_trend_kg``: change of a straight-line fit
    across the window (settling foam, creep). Both are raised to what the
    channel's own noise explains, so a noisy but still board is not refused
    forever. ``min_coverage``: share of frames with a reading.
    """

    max_wander_kg: float = 0.10
    max_trend_kg: float = 0.05
    block_s: float = 0.1
    min_coverage: float = 0.8


@dataclass(frozen=True, slots=True)
class ChannelWindow:
    """One channel over a window. Counts, except ``*_kg`` (via |counts_per_kg|)."""

    name: str
    readings: int
    mean: float
    noise: float
    wander: float
    trend: float
    noise_kg: float
    wander_kg: float
    trend_kg: float
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class Assessment:
    """A window judged for steadiness: per-channel figures and, if it is not
    steady, one plain sentence per offending channel."""

    channels: tuple[ChannelWindow, ...]
    frames: int
    duration_s: float
    problems: tuple[str, ...] = field(default=())

    t_mid: float = math.nan  # mean frame time of the window, s

    @property
    def stable(self) -> bool:
        return not self.problems

    @property
    def means(self) -> np.ndarray:
        return np.array([c.mean for c in self.channels], dtype=np.float64)

    @property
    def noise(self) -> np.ndarray:
        return np.array([c.noise for c in self.channels], dtype=np.float64)


def _block_means(values: np.ndarray, blocks: int) -> np.ndarray:
    return np.array([chunk.mean() for chunk in np.array_split(values, blocks) if len(chunk)])


def assess(
    readings: Readings,
    counts_per_kg: ArrayLike,
    limits: StabilityLimits = StabilityLimits(),
    names: tuple[str, ...] = CHANNELS,
) -> Assessment:
    """Judge whether ``readings`` are steady on every channel (see StabilityLimits)."""
    t, raw = readings.t, readings.raw
    frames = len(t)
    duration = readings.duration_s
    blocks = max(1, int(round(duration / limits.block_s)))
    channels, problems = [], []
    scales = np.abs(np.asarray(counts_per_kg, dtype=np.float64))
    for i, name in enumerate(names):
        scale = float(scales[i])
        column = raw[:, i]
        valid = ~np.isnan(column)
        values, times = column[valid], t[valid]
        n = len(values)
        problem = None
        if n < 2 or n < limits.min_coverage * frames:
            problem = f"{name} gave readings in only {n} of {frames} frames: it is not answering (run `cushion check`)"
            channels.append(
                ChannelWindow(name, n, float(values.mean()) if n else math.nan, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, problem)
            )
            problems.append(problem)
            continue
        mean = float(values.mean())
        noise = robust_noise(values)
        means = _block_means(values, min(blocks, n))
        wander = float(means.max() - means.min())
        span = float(times[-1] - times[0])
        if span > 0:
            slope = float(np.polyfit(times - times[0], values, 1)[0])
            trend = slope * span
            # Standard error of a straight-line fit's change across the window.
            trend_noise = noise * span / (float(np.std(times)) * math.sqrt(n)) if np.std(times) > 0 else 0.0
        else:
            trend, trend_noise = 0.0, 0.0
        wander_noise = noise / math.sqrt(max(n / max(len(means), 1), 1.0))
        window = ChannelWindow(name, n, mean, noise, wander, trend, noise / scale, wander / scale, trend / scale)
        wander_limit = max(limits.max_wander_kg, 6.0 * wander_noise / scale)
        trend_limit = max(limits.max_trend_kg, 4.0 * trend_noise / scale)
        if np.any(values >= RAIL_HIGH) or np.any(values <= RAIL_LOW):
            problem = (
                f"{name} reads a rail value (the input is saturated or a cell lead is broken; "
                "see hardware/troubleshooting.md)"
            )
        elif window.wander_kg > wander_limit:
            problem = (
                f"{name} moves by {window.wander_kg * 1000:.0f} g in {span:.1f} s "
                f"(at most {wander_limit * 1000:.0f} g): someone on or touching the cushion or the "
                "chair, or still settling?"
            )
        elif abs(window.trend_kg) > trend_limit:
            problem = (
                f"{name} drifts by {window.trend_kg * 1000:+.0f} g in {span:.1f} s "
                f"(at most {trend_limit * 1000:.0f} g): still settling or warming up?"
            )
        if problem:
            problems.append(problem)
            window = ChannelWindow(
                name, n, mean, noise, wander, trend, window.noise_kg, window.wander_kg, window.trend_kg, problem
            )
        channels.append(window)
    return Assessment(tuple(channels), frames, duration, tuple(problems), float(t.mean()) if frames else math.nan)


def zero_at(t: float, before: Assessment, after: Assessment) -> np.ndarray:
    """The empty readings at time ``t``, interpolated in a straight line
    between two empty windows (before and after the weight went on): the
    zero drifts a little while one calibrates, and this takes it out."""
    span = after.t_mid - before.t_mid
    share = (t - before.t_mid) / span if span > 0 else 0.0
    zero: Floats = before.means + (after.means - before.means) * share
    return zero


def load_kg(means: ArrayLike, calibration: Calibration) -> Floats:
    """Kilograms per corner of raw ``means`` under ``calibration``."""
    offset = np.array(calibration.offset, dtype=np.float64)
    cpk = np.array(calibration.counts_per_kg, dtype=np.float64)
    return (np.asarray(means, dtype=np.float64) - offset) / cpk


def is_tared(calibration: Calibration) -> bool:
    """Whether ``calibration`` holds a tare (offsets other than the default zeros)."""
    return tuple(calibration.offset) != Calibration().offset


# ---------------------------------------------------------------------------
# Calibration with a known weight


@dataclass(frozen=True, slots=True)
class CalibrationLimits:
    """When four placements cannot give trustworthy counts_per_kg.

    ``max_condition``: condition number of the placement matrix with each
    channel scaled to its largest change. It depends only on where the weight
    stood: 1-2 for placements near the corners, about 4 a quarter of the way
    in, 16 at three eighths; infinite when two placements are alike or all
    four are central. Noise in the readings is amplified about that much.
    ``dead_fraction``: a channel whose largest change is below this share of
    the others' (median) does not carry load. ``same_placement``: two
    placements whose scaled readings differ by less than this share are the
    same placement.
    """

    max_condition: float = 20.0
    dead_fraction: float = 0.05
    dead_noise: float = 20.0  # ... or below this many times its own noise
    same_placement: float = 0.10


def solve_counts_per_kg(
    deltas: ArrayLike,
    weight_kg: float,
    noise: ArrayLike | None = None,
    limits: CalibrationLimits = CalibrationLimits(),
    names: tuple[str, ...] = CHANNELS,
) -> np.ndarray:
    """counts_per_kg per channel from four placements of one weight.

    :param deltas: 4x4, row j = placement j (the weight on corner j, in
        channel order), column i = channel i's mean reading minus its empty
        reading, in counts.
    :param weight_kg: the weight's mass.
    :param noise: per-channel noise (counts), to tell a dead channel from a
        weak one; optional.
    :raises Refused: when the placements cannot determine the four numbers:
        a channel that does not respond, a placement with nothing on the
        board, two placements alike, or placements too close to the middle.
    """
    if not weight_kg > 0:
        raise ValueError(f"weight_kg must be positive, got {weight_kg}")
    d = np.asarray(deltas, dtype=np.float64)
    if d.shape != (len(names), len(names)):
        raise ValueError(f"deltas must be {len(names)}x{len(names)}, got {d.shape}")
    if not np.all(np.isfinite(d)):
        raise Refused("a channel gave no readings during the calibration (run `cushion check`)")
    largest = np.abs(d).max(axis=0)
    noise_counts = None if noise is None else np.asarray(noise, dtype=np.float64)
    for i, name in enumerate(names):
        others = np.median(np.delete(largest, i))
        floor = limits.dead_fraction * others
        if noise_counts is not None:
            floor = max(floor, limits.dead_noise * float(noise_counts[i]))
        if largest[i] <= floor:
            raise Refused(
                f"{name} hardly responds to the weight (a change of at most {largest[i]:.0f} counts, "
                f"against {others:.0f} on the other channels): is its cell connected, and does it carry "
                "the board? Run `cushion check` and press that corner"
            )
    scaled = d / largest
    for j, name in enumerate(names):
        if np.abs(scaled[j]).max() < limits.dead_fraction * 2:
            raise Refused(f"nothing seemed to be on the cushion when the weight should have been on {name}")
    for j in range(len(names)):
        for k in range(j + 1, len(names)):
            gap = np.linalg.norm(scaled[j] - scaled[k])
            if gap < limits.same_placement * max(np.linalg.norm(scaled[j]), np.linalg.norm(scaled[k])):
                raise Refused(
                    f"the readings with the weight on {names[j]} and on {names[k]} are the same: "
                    "move the weight to each corner in turn"
                )
    condition = float(np.linalg.cond(scaled))
    if not math.isfinite(condition) or condition > limits.max_condition:
        raise Refused(
            f"the four placements are too much alike (condition number {condition:.3g}, at most "
            f"{limits.max_condition:g}): put the weight close to each corner, right above its cell"
        )
    inverse = np.linalg.solve(d, np.full(len(names), float(weight_kg)))
    if not np.all(np.isfinite(inverse)) or np.any(inverse == 0):
        raise Refused("the placements give no usable counts_per_kg (a channel does not respond)")
    return 1.0 / inverse


def placement_loads(deltas: ArrayLike, counts_per_kg: ArrayLike) -> Floats:
    """kg per corner (columns) for each placement (rows) under ``counts_per_kg``."""
    return np.asarray(deltas, dtype=np.float64) / np.asarray(counts_per_kg, dtype=np.float64)


def calibration_warnings(
    deltas: ArrayLike, counts_per_kg: ArrayLike, weight_kg: float, names: tuple[str, ...] = CHANNELS
) -> list[str]:
    """Things worth a look in a calibration that was still solvable."""
    loads = placement_loads(deltas, counts_per_kg)
    warnings = []
    for j, name in enumerate(names):
        heaviest = int(np.argmax(loads[j]))
        if heaviest != j:
            warnings.append(
                f"with the weight on {name}, {names[heaviest]} carried most of it: are the DOUT wires (or "
                f"cells) of {name} and {names[heaviest]} swapped? (hardware/wiring.md)"
            )
        if loads[j].min() < -0.05 * weight_kg:
            low = names[int(np.argmin(loads[j]))]
            warnings.append(
                f"with the weight on {name}, {low} was lifted ({loads[j].min():.2f} kg): keep the weight "
                "inside the rectangle of the cells"
            )
    sizes = np.abs(np.asarray(counts_per_kg, dtype=np.float64))
    if sizes.max() > 1.5 * sizes.min():
        warnings.append(
            f"the corners differ by a factor of {sizes.max() / sizes.min():.1f} (expect within 10-20 %): "
            "look for a wiring fault or a cell touching its mount (hardware/calibration.md)"
        )
    return warnings


# ---------------------------------------------------------------------------
# `cushion check`


@dataclass(frozen=True, slots=True)
class ChannelHealth:
    """`cushion check`'s findings for one channel.

    ``status``: "ok", "silent" (no reading at all), "intermittent" (readings
    in some frames only), "rail" (rail values) or "frozen" (one value
    throughout, which no live HX711 gives). ``rate_hz``: readings per second.
    ``noise_g``: white noise in grams (|counts_per_kg| of the config).
    ``direction``: +1 or -1 if the channel was seen loaded (a press of at
    least ``press_kg``) and which way its counts went, else None.
    """

    name: str
    status: str
    readings: int
    rate_hz: float
    noise_g: float
    direction: int | None
    press_kg: float
    sign: int  # of the config's counts_per_kg

    @property
    def answers(self) -> bool:
        return self.status == "ok"


def channel_health(
    readings: Readings,
    seconds: float,
    calibration: Calibration,
    *,
    press_kg: float = 1.0,
    min_coverage: float = 0.9,
    names: tuple[str, ...] = CHANNELS,
) -> list[ChannelHealth]:
    """Per channel: does it answer, how fast, how noisy, which way it counts.

    ``seconds`` is how long the reading took (the rate's denominator). A
    corner pressed during the check (a 5-reading running median departing
    ``press_kg`` or more from the channel's median) shows which way its
    counts go; the noise is measured where the corner was not pressed.
    """
    raw = readings.raw
    frames = len(readings)
    out = []
    for i, name in enumerate(names):
        column = raw[:, i]
        values = column[~np.isnan(column)]
        n = len(values)
        cpk = float(calibration.counts_per_kg[i])
        sign = 1 if cpk > 0 else -1
        rate = n / seconds if seconds > 0 else 0.0
        if n == 0:
            out.append(ChannelHealth(name, "silent", 0, 0.0, 0.0, None, 0.0, sign))
            continue
        noise_g = robust_noise(values) / abs(cpk) * 1000.0
        if np.any(values >= RAIL_HIGH) or np.any(values <= RAIL_LOW):
            status = "rail"
        elif n >= 10 and np.all(values == values[0]):
            status = "frozen"
        elif n < min_coverage * frames:
            status = "intermittent"
        else:
            status = "ok"
        direction, pressed = None, 0.0
        if n >= 8:
            # A 5-reading running median follows a press and ignores a spike.
            smooth = np.median(np.lib.stride_tricks.sliding_window_view(values, 5), axis=1)
            departure = smooth - np.median(values)
            peak = float(departure[np.argmax(np.abs(departure))])
            pressed = abs(peak) / abs(cpk)
            if status == "ok" and pressed >= press_kg:
                direction = 1 if peak > 0 else -1
            # Noise only where the corner is not pressed (3 readings either side).
            near = np.zeros(n, dtype=bool)
            near[2:-2] = np.abs(departure) / abs(cpk) > press_kg / 5
            near[:2], near[-2:] = near[2], near[-3]
            loaded = np.convolve(near.astype(np.float64), np.ones(7), "same") > 0
            quiet = values[~loaded]
            if len(quiet) >= 8:
                noise_g = robust_noise(quiet) / abs(cpk) * 1000.0
        out.append(ChannelHealth(name, status, n, rate, noise_g, direction, pressed, sign))
    return out
