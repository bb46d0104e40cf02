"""The per-frame stage: frames in, 0.1 s bins of clean readings out.

Everything that must look at every frame runs here as array operations, so
the detectors downstream run at a fixed 10 bins/s whatever the sensor rate
(80 or 10 frames/s): the same recording gives the same events at either rate.

Per channel, a reading is rejected when it is missing (an empty field), at a
rail (the chip saturated or DOUT floated), impossible for a load (outside
corner_min_kg..corner_max_kg), or a single-sample spike (far from both
neighbours, which agree with each other: a flipped bit). Deciding "spike"
needs the next frame, so the newest frame is always held back; a bin closes
when the first frame of a later bin has been decided on.

Bins carry exact integer sums of raw counts, so feeding frames one at a time
or in blocks of any size gives bit-identical bins.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from device.config import Calibration, Detect
from device.recording import MISSING, RAW_MAX, RAW_MIN

BIN_S = 0.1


@dataclass(slots=True)
class Bins:
    """Closed bins, one row each (B rows; per-channel arrays have shape (B, 4)).

    kg is the calibrated mean of the valid readings (NaN where a channel had
    none); now is the t of the frame whose arrival closed the bin.
    """

    t_first: np.ndarray
    t_last: np.ndarray
    now: np.ndarray
    kg: np.ndarray
    n_valid: np.ndarray
    n_missing: np.ndarray
    n_glitches: np.ndarray
    n_changed: np.ndarray

    def __len__(self) -> int:
        return len(self.t_last)


def _empty_bins() -> Bins:
    f = np.empty(0)
    c = np.empty((0, 4))
    i = np.empty((0, 4), dtype=np.int64)
    return Bins(f, f, f, c, i, i, i, i)


class FrameConditioner:
    """Turns raw frames into Bins; holds back the newest frame and the open bin."""

    def __init__(self, calibration: Calibration, detect: Detect, bin_s: float = BIN_S):
        self.bin_s = bin_s
        self._offset = np.asarray(calibration.offset, dtype=np.float64)
        self._cpk = np.asarray(calibration.counts_per_kg, dtype=np.float64)
        scale = np.abs(self._cpk)
        self._spike_counts = detect.spike_kg * scale
        # Raw range that corresponds to a plausible corner load (cpk may be negative).
        a = self._offset + detect.corner_min_kg * self._cpk
        b = self._offset + detect.corner_max_kg * self._cpk
        self._raw_low = np.minimum(a, b)
        self._raw_high = np.maximum(a, b)
        self._buf_t = np.empty(0)
        self._buf_raw = np.empty((0, 4), dtype=np.int64)
        # The frame just before the buffer: left neighbour for the spike test.
        self._left_raw = np.full(4, MISSING, dtype=np.int64)
        self._left_ok = np.zeros(4, dtype=bool)

    def push(self, t: np.ndarray, raw: np.ndarray) -> Bins:
        """Add frames (t non-decreasing, raw (n, 4) int64); return the bins they closed."""
        if len(t) == 0:
            return _empty_bins()
        all_t = np.concatenate((self._buf_t, t)) if len(self._buf_t) else t
        all_raw = np.concatenate((self._buf_raw, raw)) if len(self._buf_raw) else raw
        bin_index = self._bin_of(all_t)
        last_bin = bin_index[-1]
        closed = int(np.searchsorted(bin_index, last_bin, side="left"))
        if closed == 0:
            self._buf_t, self._buf_raw = all_t, all_raw
            return _empty_bins()
        bins = self._close(all_t, all_raw, bin_index, closed, now_after=all_t[-1])
        self._left_raw = all_raw[closed - 1].copy()
        self._left_ok = self._plausible(all_raw[closed - 1 : closed])[0]
        self._buf_t, self._buf_raw = all_t[closed:], all_raw[closed:]
        return bins

    def flush(self) -> Bins:
        """Close every held-back frame and bin (end of a recording)."""
        if len(self._buf_t) == 0:
            return _empty_bins()
        all_t, all_raw = self._buf_t, self._buf_raw
        bin_index = self._bin_of(all_t)
        bins = self._close(all_t, all_raw, bin_index, len(all_t), now_after=all_t[-1])
        self._buf_t = np.empty(0)
        self._buf_raw = np.empty((0, 4), dtype=np.int64)
        return bins

    def _bin_of(self, t: np.ndarray) -> np.ndarray:
        # Bins are centred on multiples of bin_s, so frames of a 10 Hz sensor
        # (t = k * 0.1, give or take rounding) fall mid-bin, never on an edge.
        return np.floor(t / self.bin_s + 0.5).astype(np.int64)

    def _plausible(self, raw: np.ndarray) -> np.ndarray:
        return (raw != MISSING) & (raw > RAW_MIN) & (raw < RAW_MAX) & (raw >= self._raw_low) & (raw <= self._raw_high)

    def _close(self, t, raw, bin_index, closed, now_after) -> Bins:
        """Aggregate frames [0, closed) into bins; frame `closed` (if any) is the right neighbour."""
        n = len(t)
        ok = self._plausible(raw)
        missing = raw == MISSING
        # Spike test on frames [0, closed): neighbours are the previous and next frames.
        left = np.concatenate((self._left_raw[None, :], raw[: closed - 1]))
        left_ok = np.concatenate((self._left_ok[None, :], ok[: closed - 1]))
        if closed < n:
            right, right_ok = raw[1 : closed + 1], ok[1 : closed + 1]
        else:
            pad_raw = np.full((1, 4), MISSING, dtype=np.int64)
            right = np.concatenate((raw[1:closed], pad_raw))
            right_ok = np.concatenate((ok[1:closed], np.zeros((1, 4), dtype=bool)))
        x = raw[:closed]
        x_ok = ok[:closed]
        limit = self._spike_counts
        spike = (
            x_ok & left_ok & right_ok
            & (np.abs(x - left) > limit)
            & (np.abs(x - right) > limit)
            & (np.abs(right - left) <= limit)
        )
        valid = x_ok & ~spike
        # A glitch is a rejected reading right after a plausible one: a solid
        # run of rail values is one glitch (then no data), garbage interleaved
        # with good readings is many.
        glitch = ((~x_ok & ~missing[:closed]) | spike) & left_ok
        changed = valid & left_ok & (x != left)

        idx = bin_index[:closed]
        starts = np.flatnonzero(np.concatenate(([True], idx[1:] != idx[:-1])))
        ends = np.concatenate((starts[1:], [closed])) - 1
        n_valid = np.add.reduceat(valid.astype(np.int64), starts, axis=0)
        raw_sum = np.add.reduceat(np.where(valid, x, 0), starts, axis=0)
        n_missing = np.add.reduceat(missing[:closed].astype(np.int64), starts, axis=0)
        n_glitches = np.add.reduceat(glitch.astype(np.int64), starts, axis=0)
        n_changed = np.add.reduceat(changed.astype(np.int64), starts, axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_raw = raw_sum / n_valid
        kg = (mean_raw - self._offset) / self._cpk
        # A bin closes when the first frame of a later bin arrives: that frame
        # is the right neighbour the spike test of the bin's last frame needs.
        after = ends + 1
        now = np.where(after < n, t[np.minimum(after, n - 1)], now_after)
        return Bins(
            t_first=t[starts],
            t_last=t[ends],
            now=now,
            kg=kg,
            n_valid=n_valid,
            n_missing=n_missing,
            n_glitches=n_glitches,
            n_changed=n_changed,
        )
