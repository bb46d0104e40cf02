"""The per-frame stage: frames in, 0.1 s bins of clean readings out.

Everything that must look at every frame runs here as array operations, so
the detectors downstream run at a fixed 10 bins/s whatever the sensor rate
(80 or 10 frames/s): the same recording gives the same events at either rate.

Per channel, a reading is rejected when it is missing (an empty field), at a
rail (the chip saturated or DOUT floated), impossible for a load (outside
corner_min_kg..corner_max_kg), or a spike: a run of one or two readings far
(spike_kg) from the readings on both sides of it, which agree with each other
(a flipped bit, once or twice running; no body moves a corner's load by
kilograms and back within two samples). Deciding "spike" needs the next two
frames, so the newest two are always held back; a bin closes when every
frame of it has been decided on and a later bin has begun.

A rejected reading right after a plausible one counts as a glitch; so does
an accepted reading that stands out from both neighbours on the same side
by twice spike_kg (random words from a loose DOUT line, a third of which
still look like loads). Glitches arriving faster than isolated ones, or a
large share of rejected readings, make a channel erratic (device.core.faults);
the readings that merely stand out are kept.

Per channel, bins also say how long it had then been silent: a run of
frames without a usable reading (an empty field, a rail, an impossible
value; a spike is a reading, replaced) lasts from its first frame to the
latest, plus the frame interval before that first one, up to BIN_S: the
time one frame stands for at 10 frames/s, so five empty frames are 0.5 s at
10 frames/s as forty are at 80. Frames that are not there at all (gaps in
t: the driver dropped them) are not silence, so a gap just before the run
does not count. A channel is judged on this, not on whole bins.

Bins carry exact integer sums of raw counts, so feeding frames one at a time
or in blocks of any size gives bit-identical bins. A bin's time is the mean
of its frames' times: a bin of 7 frames and one of 9 (80 Hz frames on bin
edges), or bins of a board running at 10.4 Hz, then still measure speeds
right.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from device.config import RAW_MAX, RAW_MIN, Calibration, Detect
from device.core.frames import MISSING

BIN_S = 0.1
SPIKE_RUN = 2  # longest run of readings that can be a spike
# A frame exactly on a bin edge (80 Hz at t = k / 80, 10 Hz at t = 0.05 +
# k / 10) goes to the later bin, whatever the rounding of t / bin_s.
_EDGE = 1e-6


@dataclass(slots=True)
class Bins:
    """Closed bins, one row each (B rows; per-channel arrays have shape (B, 4)).

    kg is the calibrated mean of the valid readings (NaN where a channel had
    none); t_mean the mean time of the bin's frames; now is the t of the
    frame whose arrival closed the bin.
    """

    t_first: np.ndarray
    t_last: np.ndarray
    t_mean: np.ndarray
    now: np.ndarray
    kg: np.ndarray
    n_valid: np.ndarray
    n_missing: np.ndarray
    n_glitches: np.ndarray
    n_changed: np.ndarray
    n_rejected: np.ndarray  # readings rejected (or standing out), glitch or not, repeats aside
    n_frames: np.ndarray  # (B,) frames in the bin
    silent_s: np.ndarray  # longest run without a usable reading so far (see the module doc), 0 if none
    silent_from: np.ndarray  # first frame of that run (NaN: none in the bin)

    def __len__(self) -> int:
        return len(self.t_last)


def _empty_bins() -> Bins:
    f = np.empty(0)
    c = np.empty((0, 4))
    i = np.empty((0, 4), dtype=np.int64)
    return Bins(f, f, f, f, c, i, i, i, i, i, np.empty(0, dtype=np.int64), c, c)


class FrameConditioner:
    """Turns raw frames into Bins; holds back the newest SPIKE_RUN frames and the open bin."""

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
        # The SPIKE_RUN frames just before the buffer (oldest first): the left
        # context of the spike test, MISSING / not plausible at the start.
        self._left_raw = np.full((SPIKE_RUN, 4), MISSING, dtype=np.int64)
        self._left_ok = np.zeros((SPIKE_RUN, 4), dtype=bool)
        # Silence, per channel: whether the last decided frame had a usable
        # reading, the current run's first frame and where its time counts from.
        self._last_t: float | None = None
        self._prev_ok = np.ones(4, dtype=bool)
        self._run_first = np.full(4, -np.inf)
        self._run_from = np.full(4, -np.inf)

    def push(self, t: np.ndarray, raw: np.ndarray) -> Bins:
        """Add frames (t non-decreasing, raw (n, 4) int64); return the bins they closed."""
        if len(t) == 0:
            return _empty_bins()
        all_t = np.concatenate((self._buf_t, t)) if len(self._buf_t) else t
        all_raw = np.concatenate((self._buf_raw, raw)) if len(self._buf_raw) else raw
        n = len(all_t)
        if n <= SPIKE_RUN:
            self._buf_t, self._buf_raw = all_t, all_raw
            return _empty_bins()
        bin_index = self._bin_of(all_t)
        # Frames from n - SPIKE_RUN on are undecided; bins before the one that
        # holds the first of them are complete and decided.
        closed = int(np.searchsorted(bin_index, bin_index[n - SPIKE_RUN], side="left"))
        if closed == 0:
            self._buf_t, self._buf_raw = all_t, all_raw
            return _empty_bins()
        bins = self._close(all_t, all_raw, bin_index, closed, now_after=all_t[-1])
        self._keep_left(all_raw[:closed])
        self._buf_t, self._buf_raw = all_t[closed:], all_raw[closed:]
        return bins

    def flush(self) -> Bins:
        """Close every held-back frame and bin (end of a recording)."""
        if len(self._buf_t) == 0:
            return _empty_bins()
        all_t, all_raw = self._buf_t, self._buf_raw
        bin_index = self._bin_of(all_t)
        bins = self._close(all_t, all_raw, bin_index, len(all_t), now_after=all_t[-1])
        self._keep_left(all_raw)
        self._buf_t = np.empty(0)
        self._buf_raw = np.empty((0, 4), dtype=np.int64)
        return bins

    def _keep_left(self, decided: np.ndarray) -> None:
        context = np.concatenate((self._left_raw, decided))[-SPIKE_RUN:]
        self._left_raw = context.copy()
        self._left_ok = self._plausible(context)

    def _bin_of(self, t: np.ndarray) -> np.ndarray:
        # Bins are centred on multiples of bin_s, so frames of a 10 Hz sensor
        # (t = k * 0.1, give or take rounding) fall mid-bin; one exactly on an
        # edge goes to the later bin.
        return np.floor(t / self.bin_s + (0.5 + _EDGE)).astype(np.int64)

    def _plausible(self, raw: np.ndarray) -> np.ndarray:
        plausible: np.ndarray = (
            (raw != MISSING) & (raw > RAW_MIN) & (raw < RAW_MAX) & (raw >= self._raw_low) & (raw <= self._raw_high)
        )
        return plausible

    def _spikes(self, x: np.ndarray, ok: np.ndarray, count: int) -> np.ndarray:
        """Which of frames K..K+count of x (K = SPIKE_RUN frames of context on
        each side) belong to a run of 1..SPIKE_RUN readings far from both the
        reading before the run and the one after it, which agree."""
        limit = self._spike_counts
        K = SPIKE_RUN
        spike = np.zeros((count, 4), dtype=bool)
        # Every run begins with a jump from the reading before it: without
        # one anywhere (nearly every block) there is nothing to look at.
        if not (np.abs(np.diff(x[: K + count], axis=0)) > limit).any():
            return spike

        def at(a: np.ndarray, offset: int) -> np.ndarray:
            return a[K + offset : K + offset + count]

        for run in range(1, K + 1):
            for position in range(run):  # this frame's place in the run
                before, after = -position - 1, run - position
                cond = at(ok, before) & at(ok, after) & (np.abs(at(x, after) - at(x, before)) <= limit)
                for member in range(-position, run - position):
                    m = at(x, member)
                    cond &= at(ok, member) & (np.abs(m - at(x, before)) > limit) & (np.abs(m - at(x, after)) > limit)
                spike |= cond
        return spike

    def _close(self, t: np.ndarray, raw: np.ndarray, bin_index: np.ndarray, closed: int, now_after: float) -> Bins:
        """Aggregate frames [0, closed) into bins; the frames after them (if any) are the right context."""
        n = len(t)
        K = SPIKE_RUN
        right = raw[closed : closed + K]
        if len(right) < K:  # end of the recording: nothing after the last frames
            right = np.concatenate((right, np.full((K - len(right), 4), MISSING, dtype=np.int64)))
        x = np.concatenate((self._left_raw, raw[:closed], right))
        ok = np.concatenate((self._left_ok, self._plausible(x[K:])))
        spike = self._spikes(x, ok, closed)
        x_now = raw[:closed]
        x_ok = ok[K : K + closed]
        missing = x_now == MISSING
        left = x[K - 1 : K - 1 + closed]
        left_ok = ok[K - 1 : K - 1 + closed]
        after = x[K + 1 : K + 1 + closed]
        after_ok = ok[K + 1 : K + 1 + closed]
        valid = x_ok & ~spike
        # A glitch is a rejected reading right after a plausible one: a solid
        # run of rail values is one glitch (then no data), garbage interleaved
        # with good readings is many. A kept reading standing out from both
        # neighbours on the same side counts too (garbage that looks like a load).
        stand_out = 2 * self._spike_counts
        up, down = x_now - left, x_now - after
        peak = (
            valid
            & left_ok
            & after_ok
            & (np.abs(up) > stand_out)
            & (np.abs(down) > stand_out)
            & ((up > 0) == (down > 0))
        )
        rejected = (~x_ok & ~missing) | spike
        glitch = (rejected & left_ok) | peak
        # Changed from the reading before, unless that one was missing: a
        # chip frozen on one value between dropouts stays frozen, but one
        # whose good readings sit among garbage does not look frozen.
        changed = valid & (left != MISSING) & (x_now != left)

        idx = bin_index[:closed]
        starts = np.flatnonzero(np.concatenate(([True], idx[1:] != idx[:-1])))
        ends = np.concatenate((starts[1:], [closed])) - 1
        n_valid = np.add.reduceat(valid.astype(np.int64), starts, axis=0)
        raw_sum = np.add.reduceat(np.where(valid, x_now, 0), starts, axis=0)
        n_missing = np.add.reduceat(missing.astype(np.int64), starts, axis=0)
        n_glitches = np.add.reduceat(glitch.astype(np.int64), starts, axis=0)
        # A repeat of the reading before (a run of rail values) is one glitch
        # and then no data, not a share of garbage.
        n_rejected = np.add.reduceat(((rejected & (x_now != left)) | peak).astype(np.int64), starts, axis=0)
        n_changed = np.add.reduceat(changed.astype(np.int64), starts, axis=0)
        t_mean = np.add.reduceat(t[:closed], starts) / (ends - starts + 1)
        silent_s, silent_from = self._silence(t[:closed], x_ok, starts)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_raw = raw_sum / n_valid
        kg = (mean_raw - self._offset) / self._cpk
        # A bin closes when the frames that decide its last one have arrived:
        # the SPIKE_RUN frames after it.
        closing = ends + K
        now = np.where(closing < n, t[np.minimum(closing, n - 1)], now_after)
        return Bins(
            t_first=t[starts],
            t_last=t[ends],
            t_mean=t_mean,
            now=now,
            kg=kg,
            n_valid=n_valid,
            n_missing=n_missing,
            n_glitches=n_glitches,
            n_changed=n_changed,
            n_rejected=n_rejected,
            n_frames=ends - starts + 1,
            silent_s=silent_s,
            silent_from=silent_from,
        )

    def _silence(self, t: np.ndarray, ok: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per bin and channel: the longest run without a usable reading up to
        each of its frames, and that run's first frame (see the module doc)."""
        shape = (len(starts), 4)
        last_t, self._last_t = self._last_t, t[-1]
        if ok.all():  # nearly every block
            self._prev_ok[:] = True
            return np.zeros(shape), np.full(shape, np.nan)
        previous_t = np.concatenate(([t[0] if last_t is None else last_t], t[:-1]))
        column = t[:, None]
        first = ~ok & np.concatenate((self._prev_ok[None], ok[:-1]))
        run_first = np.maximum.accumulate(
            np.concatenate((self._run_first[None], np.where(first, column, -np.inf))), axis=0
        )[1:]
        counts_from = np.maximum(column - BIN_S, previous_t[:, None])
        run_from = np.maximum.accumulate(
            np.concatenate((self._run_from[None], np.where(first, counts_from, -np.inf))), axis=0
        )[1:]
        silent_s = np.maximum.reduceat(np.where(ok, 0.0, column - run_from), starts, axis=0)
        silent_from = np.maximum.reduceat(np.where(ok, -np.inf, run_first), starts, axis=0)
        silent_from[np.isneginf(silent_from)] = np.nan
        self._prev_ok = ok[-1].copy()
        self._run_first = run_first[-1].copy()
        self._run_from = run_from[-1].copy()
        return silent_s, silent_from
