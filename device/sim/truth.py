"""Ground truth: the events a scenario really contains (SPEC section 3), from the noise-free signal."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from device.config import Breaks, Detect
from device.core.events import Fault, Fidget, Lean, Posture, Session, Sit, Stand, Twist
from device.sim.physics import FoamLag, Trajectory, _merge_spans, balance

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
        everything = [
            *self.sits,
            *self.stands,
            *self.leans,
            *self.twists,
            *self.perches,
            *self.slumps,
            *self.fidgets,
            *self.faults,
        ]
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

    edges = [crossing(int(i)) for i in flips]
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
        scripted = [(f, self.end if f.end is None else min(f.end, self.end)) for f in self.trajectory.faults]
        truth.faults = [
            Fault(f.channel, f.start, end, detected_at=f.start, reason=f.reason)
            for f, end in scripted
            if f.start < self.end and end - f.start >= shortest.get(f.reason, self.detect.fault_no_data_s)
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
            low = next(
                ((c, e) for c, e in lows if c > start and (e - c >= d.lean_end_hold_s or (closed and e >= b))), None
            )
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
