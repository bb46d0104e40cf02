"""The sitting pipeline: raw frames in, events out (SPEC sections 1-3).

Pure and causal: no GPIO, files or clocks; time comes in with the frames.
The live daemon and `cushion replay` both feed it, one frame at a time or in
blocks of any size, and get the same events either way.

Two stages:
- FrameConditioner (array code) rejects bad readings and averages frames into
  0.1 s bins, so 80 and 10 frames/s recordings look alike downstream;
- the per-bin loop below applies calibration's zero tracking, the fault
  monitor, presence and sessions, prompts, and the posture detectors.

Decisions where the SPEC is silent (see also each detector's docstring):
- Lateral, sagittal and fidget detection run only while seated, the load is
  at least away_kg and every channel is healthy. A fault pauses them; an
  excursion that started after a fault began is discarded as its artefact.
- While some channels are at fault, presence uses the healthy ones, scaled
  by the share they carried when the fault began. With all four at fault the
  state is frozen; if that lasts fault_session_s inside a session, the
  session is closed at the moment data stopped (no break is counted).
- Zero drift: while away and with no fault, each corner reading within
  zero_track_max_kg of zero pulls that corner's zero towards it with time
  constant zero_track_tau_s. A few hundred grams an hour is followed; a
  person is never absorbed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from device.config import Config
from device.core.conditioning import BIN_S, Bins, FrameConditioner
from device.core.events import Event, Prompt, Session, Sit, Stand
from device.core.faults import ChannelFaults
from device.core.fidget import FidgetDetector
from device.core.frames import MISSING
from device.core.lateral import LateralDetector
from device.core.posture import PostureDetector
from device.core.presence import Presence
from device.core.prompts import PromptScheduler
from device.core.sessions import SessionTracker

# lat and sag are smoothed with a time constant of ~0.11 s: weight 0.6 for a
# new bin 0.1 s after the last, by the bins' mean frame times (so uneven bins
# of an off-nominal sensor rate or dropped frames weigh what they span).
_SMOOTH_TAU_S = -BIN_S / math.log(1.0 - 0.6)
_GAP_S = 0.5  # a gap in the data longer than this restarts the smoothing
_SETTLE_S = 0.3  # after a fault ends, its last bin mixes bad and good readings: wait this long
# A fault is known from its start, but garbage that still looks like a load
# (a loose DOUT line) can move the balance a few readings before the fault
# is: an excursion starting this shortly before a fault is its artefact too.
_FAULT_LOOKBACK_S = 1.0


class Pipeline:
    """Feed frames with `feed` / `feed_block`, call `finish` at the end of a recording.

    Each call returns the events it completed. Completed sessions collect in
    `sessions`; live state (seated, load, balance, centre of pressure) is in
    the attributes documented below.
    """

    def __init__(self, config: Config):
        self.config = config
        detect, breaks = config.detect, config.breaks
        self.conditioner = FrameConditioner(config.calibration, detect)
        self.faults = ChannelFaults(detect)
        self.presence = Presence(detect)
        self.session_tracker = SessionTracker(breaks)
        self.prompts = PromptScheduler(breaks)
        self.lateral = LateralDetector(detect)
        self.posture = PostureDetector(detect)
        self.fidget = FidgetDetector(detect)
        self.sessions: list[Session] = []
        self.frames = 0
        self.first_t: float | None = None
        self.last_t: float | None = None
        # Live state, updated every bin.
        self.total_kg = 0.0
        self.lat: float | None = None  # smoothed, only while usable
        self.sag: float | None = None
        self._zero = [0.0, 0.0, 0.0, 0.0]
        self._held = [0.0, 0.0, 0.0, 0.0]
        self._configure_own(config)
        self._usable_last = -math.inf
        self._bin_t = -math.inf
        self._healthy_share = 1.0
        self._all_fault_since: float | None = None
        self._settled_at = -math.inf
        self._after_outage = False  # a session ended for lack of data; the person not yet seen away

    def reconfigure(self, config: Config) -> None:
        """Take new thresholds and timings at run time, keeping every state (a session goes on).

        Calibration is the conditioning stage's and needs a new Pipeline.
        """
        self.config = config
        detect, breaks = config.detect, config.breaks
        for part in (self.presence, self.lateral, self.posture, self.fidget, self.faults):
            part.configure(detect)
        self.session_tracker.configure(breaks)
        self.prompts.configure(breaks)
        self._configure_own(config)

    def resume_session(self, start: float, prompts: tuple[str, ...], away_since: float) -> None:
        """Carry on a session an earlier run left open (a crash, a restart).

        start and away_since are on this run's frame clock (start may be
        negative). The person counts as away since away_since (the last sign
        of life): seated again within break_min_s of it, the session goes on
        with its break clock; otherwise it ends there, as any session would.
        """
        self.session_tracker.start = start
        self.session_tracker.prompts = list(prompts)
        self.session_tracker.away_since = away_since
        self.prompts.session_started(start)
        self.prompts.resume(prompts)

    def _configure_own(self, config: Config) -> None:
        detect = config.detect
        self._half_width = config.geometry.width_mm / 2.0
        self._half_depth = config.geometry.depth_mm / 2.0
        self._away_kg = detect.away_kg
        self._seated_kg = detect.seated_kg
        self._guard = detect.fidget_guard_s
        self._fault_session_s = detect.fault_session_s
        self._zero_tau = detect.zero_track_tau_s
        self._zero_max = detect.zero_track_max_kg

    # ---- feeding -----------------------------------------------------------

    def feed(self, t: float, raw: Sequence[int | None]) -> list[Event]:
        """One frame: time (s) and four raw counts, None for a channel that gave no reading."""
        row = np.array([[MISSING if v is None else v for v in raw]], dtype=np.int64)
        return self.feed_block(np.array([t], dtype=np.float64), row)

    def feed_block(self, t: np.ndarray, raw: np.ndarray) -> list[Event]:
        """Many frames: t (n,) float64 non-decreasing, raw (n, 4) int64 with MISSING for no reading."""
        n = len(t)
        if n == 0:
            return []
        if self.first_t is None:
            self.first_t = float(t[0])
        self.last_t = float(t[-1])
        self.frames += n
        return self._process(self.conditioner.push(t, raw))

    def finish(self) -> list[Event]:
        """End of the recording: close held-back frames and report what is still open."""
        events = self._process(self.conditioner.flush())
        end = self.last_t if self.last_t is not None else 0.0
        if self.presence.seated:
            leftover = self.lateral.cut(end, end)
            if leftover is not None:
                events.append(leftover)
            posture = self.posture.cut(end, end)
            if posture is not None:
                events.append(posture)
        events.extend(self.faults.running())
        session = self.session_tracker.at_end()
        if session is not None:
            self.sessions.append(session)
        return events

    # ---- the per-bin loop --------------------------------------------------

    def _process(self, bins: Bins) -> list[Event]:
        events: list[Event] = []
        if len(bins) == 0:
            return events
        clean = (
            (bins.n_valid > 0).all(axis=1)
            & (bins.n_glitches == 0).all(axis=1)
            & (bins.n_rejected == 0).all(axis=1)
            & (bins.n_changed > 0).all(axis=1)
        ).tolist()
        columns = zip(
            bins.t_first.tolist(),
            bins.t_last.tolist(),
            bins.t_mean.tolist(),
            bins.now.tolist(),
            bins.kg.tolist(),
            clean,
        )
        counts = None  # the per-channel counts as lists, made only if a bin needs the fault monitor
        faults = self.faults
        presence = self.presence
        held = self._held
        zero = self._zero
        gap_s = self._fault_session_s
        for index, (t_first, t, t_mean, now, kg, is_clean) in enumerate(columns):
            dt = t - self._bin_t
            self._bin_t = t
            if dt > gap_s and self.session_tracker.open and self.session_tracker.away_since is None:
                # No frames at all for that long (the recorder or the daemon
                # stopped): like every channel silent, the session ends when
                # the data stopped.
                self._data_stopped(t - dt)
            if is_clean and faults.idle:
                faults.skip_clean(t)
                k0, k1, k2, k3 = kg
                held[0] = c0 = k0 - zero[0]
                held[1] = c1 = k1 - zero[1]
                held[2] = c2 = k2 - zero[2]
                held[3] = c3 = k3 - zero[3]
            else:
                if counts is None:
                    counts = (
                        bins.n_valid.tolist(),
                        bins.n_missing.tolist(),
                        bins.n_glitches.tolist(),
                        bins.n_changed.tolist(),
                        bins.n_rejected.tolist(),
                        bins.n_frames.tolist(),
                        bins.silent_s.tolist(),
                        bins.silent_from.tolist(),
                    )
                started, ended = faults.update(t_first, t, now, *(column[index] for column in counts))
                if started:
                    self._fault_started(started)
                if ended:
                    events.extend(ended)
                    self._settled_at = t + _SETTLE_S
                    self.fidget.not_before = max(self.fidget.not_before, t + self._guard)
                for i in range(4):
                    value = kg[i]
                    if value == value and not faults.faulted[i]:
                        held[i] = value - zero[i]
                c0, c1, c2, c3 = held
            total = c0 + c1 + c2 + c3
            if faults.count:
                total = self._estimate_total(t)
            else:
                self._all_fault_since = None
            self.total_kg = total

            if total is not None:
                if self._after_outage and total < self._seated_kg:
                    self._after_outage = False
                frozen = None if faults.idle or presence.seated else faults.frozen_since()
                change = presence.update(t_first, t, total, now, frozen)
                if change is not None:
                    if isinstance(change, Sit):
                        if self._after_outage:
                            # Seated when the data came back: nobody was seen
                            # sitting down, so no sit event; a session starts.
                            self._after_outage = False
                        else:
                            events.append(change)
                        self._sat_down(change.t)
                    else:
                        events.append(change)
                        self._stood_up(change, events)

            tracker = self.session_tracker
            if not presence.seated:
                if tracker.away_since is not None:
                    ended_session = tracker.check_break(t, presence.arriving_since)
                    if ended_session is not None:
                        self.sessions.append(ended_session)
                        self.prompts.session_ended()
                if faults.count == 0 and total is not None and not presence.leaving:
                    self._track_zero(dt, c0, c1, c2, c3)
                self.lat = self.sag = None
                continue

            usable = faults.count == 0 and total >= self._away_kg and t >= self._settled_at
            if usable:
                # A corner cannot carry a negative load; a slightly negative
                # reading (noise, zero error) must not push lat past +-1.
                lat = ((c1 + c3) - (c0 + c2)) / total
                sag = ((c0 + c1) - (c2 + c3)) / total
                lat = 1.0 if lat > 1.0 else (-1.0 if lat < -1.0 else lat)
                sag = 1.0 if sag > 1.0 else (-1.0 if sag < -1.0 else sag)
                bin_lat, bin_sag = lat, sag
                gap = t_mean - self._usable_last
                if gap > _GAP_S:
                    self.fidget.restart()
                elif gap > 0.0:
                    weight = 1.0 - math.exp(-gap / _SMOOTH_TAU_S)
                    assert self.lat is not None and self.sag is not None  # usable a moment ago
                    lat = self.lat + weight * (lat - self.lat)
                    sag = self.sag + weight * (sag - self.sag)
                self._usable_last = t_mean
                self.lat, self.sag = lat, sag
                self._detect_posture(t, t_mean, lat, sag, bin_lat, bin_sag, now, events)
            if tracker.open and tracker.away_since is None and not presence.leaving:
                pending = self.lateral.undecided or self.fidget.deciding
                for kind in self.prompts.due(t, pending):
                    events.append(Prompt(kind, t, now))
                    tracker.prompts.append(kind)
        return events

    def _detect_posture(
        self,
        t: float,
        t_mean: float,
        lat: float,
        sag: float,
        bin_lat: float,
        bin_sag: float,
        now: float,
        events: list[Event],
    ) -> None:
        """lat and sag smoothed (for the thresholds of excursions and postures);
        bin_lat and bin_sag as the 0.1 s bin gave them (for the fidget's speed,
        which smoothing would blunt: a brief 20 mm shift peaking at 49 mm/s
        measured 35 mm/s through it, 41 mm/s through the bins alone)."""
        prompts = self.prompts
        lateral, posture_detector = self.lateral, self.posture
        # A lean or a perch is known from lean_min_s / posture_min_s on, long
        # before it ends: its start restarts the stillness clock then.
        lean_known = lateral.lean_detected_at is not None
        posture_known = posture_detector.detected_at is not None
        excursion = lateral.update(t, lat, now)
        if excursion is not None:
            events.append(excursion)
        if lateral.ended is not None:  # a lean, a twist or a smaller shift: a movement
            prompts.movement(lateral.ended[0])
            prompts.movement(lateral.ended[1])
        elif not lean_known and lateral.lean_detected_at is not None and lateral.start is not None:
            prompts.movement(lateral.start)
        posture = posture_detector.update(t, sag, now)
        if posture is not None:
            events.append(posture)
            prompts.movement(posture.start)
            prompts.movement(posture.end)
        elif not posture_known and posture_detector.kind is not None and posture_detector.detected_at is not None:
            prompts.movement(posture_detector.start)
        fidget = self.fidget.update(
            t_mean, bin_lat * self._half_width, bin_sag * self._half_depth, now, self.lateral.transitions
        )
        if fidget is not None:
            events.append(fidget)
            prompts.movement(fidget.t)

    def _sat_down(self, t: float) -> None:
        if self.session_tracker.sat_down(t):
            self.prompts.session_started(t)
        else:
            self.prompts.sat_down(t)
        self.fidget.not_before = t + self._guard
        self.fidget.restart()
        self._usable_last = -math.inf

    def _stood_up(self, stand: Stand, events: list[Event]) -> None:
        t = stand.t
        for detector in (self.lateral, self.posture):
            finished = detector.cut(t, stand.detected_at)
            if finished is not None:
                events.append(finished)
        self.fidget.drop_pending_since(t - self._guard)
        self.fidget.restart()
        self.session_tracker.stood_up(t)

    def _fault_started(self, started: list[tuple[int, float]]) -> None:
        first = min(start for _, start in started)
        # Whatever began after the fault did (or just before) is its artefact, not the person.
        self.lateral.discard_since(first - _FAULT_LOOKBACK_S)
        self.posture.discard_since(first - _FAULT_LOOKBACK_S)
        self.fidget.drop_pending_since(first - self._guard)
        self.fidget.restart()
        total = sum(self._held)
        if self.faults.count < 4:
            if total >= self._away_kg:
                share = sum(self._held[i] for i in range(4) if not self.faults.faulted[i]) / total
            else:
                share = (4 - self.faults.count) / 4.0
            self._healthy_share = min(1.0, max(0.25, share))

    def _estimate_total(self, t: float) -> float | None:
        """Seated load from the healthy channels while others are at fault; None if none is healthy."""
        faults = self.faults
        if faults.count == 4:
            if self._all_fault_since is None:
                self._all_fault_since = max(c.start for c in faults.channels if c.start is not None)
            if self.session_tracker.open and t - self._all_fault_since >= self._fault_session_s:
                self._data_stopped(self._all_fault_since)
            return None
        self._all_fault_since = None
        healthy = sum(self._held[i] for i in range(4) if not faults.faulted[i])
        return healthy / self._healthy_share

    def _data_stopped(self, when: float) -> None:
        """No usable data for fault_session_s inside a session: it ends at
        `when`, without a break (nobody knows what happened meanwhile)."""
        session = self.session_tracker.abandon(when)
        if session is not None:
            self.sessions.append(session)
        self.prompts.session_ended()
        self.presence.reset()
        self.lateral.discard()
        self.posture.kind = None
        self.fidget.drop_pending_since(-math.inf)
        self.fidget.restart()
        self._after_outage = True

    def _track_zero(self, dt: float, c0: float, c1: float, c2: float, c3: float) -> None:
        if dt <= 0.0 or dt > 1.0:
            return
        gain = dt / self._zero_tau
        limit = self._zero_max
        zero = self._zero
        for i, value in enumerate((c0, c1, c2, c3)):
            if -limit < value < limit:
                zero[i] += gain * value
