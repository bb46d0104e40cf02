"""Channel faults (SPEC section 3), judged from the per-bin summaries.

A channel is at fault when it gives no usable reading for fault_no_data_s
(no answer, an impossible load), for _RAIL_S when what it gives is a rail
value (unmistakably not a load, but longer than a spike: three readings at
10 frames/s, twenty at 80), when it repeats one value for
fault_stuck_s while another channel moves, or when it keeps producing
rejected readings (impossible jumps, rails) faster than single glitches
would: more than _ERRATIC_SCORE within about a second, or (what counts at
10 frames/s, where a second holds only ten readings) more than
_ERRATIC_SHARE of its readings over about a second. Single-sample spikes
are rejected upstream and never make a fault on their own.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from device.config import CHANNELS, Detect
from device.core.events import Fault

_ERRATIC_SCORE = 3.0  # decaying count of rejected readings that makes a channel erratic
_ERRATIC_CLEAR = 0.5  # ... and below which it has recovered
_ERRATIC_TAU_S = 1.0
_ERRATIC_SHARE = 0.3  # share of rejected readings (decaying mean) that makes a channel erratic
_ERRATIC_SHARE_CLEAR = 0.1
_RAIL_S = 0.25  # rails or impossible readings this long are a fault
_EPSILON_S = 1e-6  # frame times are decimals: 0.5 s of silence may compute as 0.49999


class _Channel:
    __slots__ = ("const_since", "others_moved", "score", "score_since", "share", "start", "detected_at", "reason")

    def __init__(self) -> None:
        self.const_since: float | None = None
        self.others_moved = False
        self.score = 0.0
        self.score_since = 0.0
        self.share = 0.0  # decaying mean share of rejected readings
        self.start: float | None = None  # a fault is running when set
        self.detected_at = 0.0
        self.reason = ""


class ChannelFaults:
    """Tracks the health of the four channels; reports faults as they start and end."""

    def __init__(self, detect: Detect):
        self.configure(detect)
        self.channels = [_Channel() for _ in CHANNELS]
        self.faulted = [False, False, False, False]
        self.count = 0  # channels at fault now
        self.idle = True  # nothing to watch: every channel healthy with no timer running
        self._last_t: float | None = None

    def configure(self, detect: Detect) -> None:
        self._no_data_s = detect.fault_no_data_s
        self._stuck_s = detect.fault_stuck_s

    def running(self) -> list[Fault]:
        """Faults still going on, with end None."""
        return [
            Fault(name, c.start, None, c.detected_at, c.reason)
            for name, c in zip(CHANNELS, self.channels)
            if c.start is not None
        ]

    def frozen_since(self) -> float | None:
        """Since when a channel not (yet) at fault has repeated one value
        while another moved: the earliest such, or None. A stuck fault takes
        fault_stuck_s to be sure of; meanwhile the frozen value may be what
        lifts the load over a threshold."""
        since = None
        for c in self.channels:
            if c.start is None and c.const_since is not None and c.others_moved:
                if since is None or c.const_since < since:
                    since = c.const_since
        return since

    def update(
        self,
        t_first: float,
        t_last: float,
        now: float,
        n_valid: Sequence[int],
        n_missing: Sequence[int],
        n_glitches: Sequence[int],
        n_changed: Sequence[int],
        n_rejected: Sequence[int],
        n_frames: int,
        silent_s: Sequence[float],
        silent_from: Sequence[float],
    ) -> tuple[list[tuple[int, float]], list[Fault]]:
        """Feed one bin; returns (started, ended): new fault (channel index, start) pairs and finished Faults."""
        started: list[tuple[int, float]] = []
        ended: list[Fault] = []
        decay = 1.0 if self._last_t is None else math.exp(-(t_last - self._last_t) / _ERRATIC_TAU_S)
        self._last_t = t_last
        moved = [n > 0 for n in n_changed]
        idle = True
        for i, c in enumerate(self.channels):
            valid = n_valid[i] > 0
            # Erratic: rejected readings arriving faster than isolated glitches.
            if n_glitches[i] or n_rejected[i]:
                if c.score < _ERRATIC_CLEAR and c.share < _ERRATIC_SHARE_CLEAR:
                    c.score_since = t_first
                c.score = c.score * decay + n_glitches[i]
                c.share = c.share * decay + (1.0 - decay) * (n_rejected[i] / n_frames)
            elif c.score or c.share:
                c.score *= decay
                c.share *= decay
                if c.score < 0.01:
                    c.score = 0.0
                if c.share < 0.001:
                    c.share = 0.0
            # Stuck: one value while others move.
            if valid and not moved[i]:
                if c.const_since is None:
                    c.const_since = t_first
                    c.others_moved = False
                if not c.others_moved and any(moved[j] for j in range(4) if j != i):
                    c.others_moved = True
            elif moved[i]:
                c.const_since = None

            if c.start is None:
                reason = None
                limit = self._no_data_s if n_missing[i] else min(self._no_data_s, _RAIL_S)
                if silent_s[i] >= limit - _EPSILON_S:
                    reason, start = ("no_data" if n_missing[i] else "rail"), silent_from[i]
                elif c.const_since is not None and c.others_moved and t_last - c.const_since >= self._stuck_s:
                    reason, start = "stuck", c.const_since
                elif c.score >= _ERRATIC_SCORE or c.share >= _ERRATIC_SHARE:
                    reason, start = "erratic", c.score_since
                if reason is not None:
                    c.start, c.detected_at, c.reason = start, now, reason
                    started.append((i, start))
            else:
                if c.reason == "stuck":
                    healthy = moved[i]  # a changed reading is a valid one
                elif c.reason == "erratic":
                    healthy = valid and c.score < _ERRATIC_CLEAR and c.share < _ERRATIC_SHARE_CLEAR
                else:
                    # A reading is enough, unless the channel is erratic by now
                    # (the glitch that began a run of rails is not: that
                    # fault ends with the rails).
                    healthy = valid and c.score < _ERRATIC_SCORE and c.share < _ERRATIC_SHARE
                if healthy:
                    ended.append(Fault(CHANNELS[i], c.start, t_first, c.detected_at, c.reason))
                    c.start = None
            if c.start is not None or not valid or c.const_since is not None or c.score or c.share:
                idle = False
        self.faulted = [c.start is not None for c in self.channels]
        self.count = sum(self.faulted)
        self.idle = idle
        return started, ended

    def skip_clean(self, t_last: float) -> None:
        """A bin where every channel gave fresh, changing, unrejected readings and nothing was running."""
        self._last_t = t_last
