"""The live row the dashboard shows each second: what the pipeline knows now, and recent rates.

Rates are judged over windows of the frame clock: the sample rate over the
last 5 s, fidgets over the last 10 minutes, frames read and lost over the
last LOSS_WINDOW_S (a loss at the start of a long run does not make it look
lossy for ever).
"""

from __future__ import annotations

from collections import deque
from datetime import datetime
from typing import Any

from device.config import Config
from device.core.pipeline import Pipeline
from device.core.quiet import SnoozeState

LOSS_WINDOW_S = 600.0  # dropped frames are judged over this much of the recent past
RATE_WINDOW_S = 5.0  # the sample rate is measured over this much
FIDGET_WINDOW_S = 600.0  # fidgets per 10 minutes


class LiveRow:
    """Windows of recent frames, losses and fidgets, and the row made from them."""

    def __init__(self) -> None:
        self._rates: deque[tuple[float, int]] = deque()  # (last frame time of a block, its frames)
        self._losses: deque[tuple[float, int, int]] = deque()  # (frame time, frames read, frames lost)
        self._fidgets: deque[float] = deque()

    def frames_read(self, t_last: float, frames: int) -> None:
        """A block of `frames` frames, the last at frame time t_last."""
        self._rates.append((t_last, frames))

    def fidget(self, t: float) -> None:
        self._fidgets.append(t)

    def values(
        self, t: float, pipeline: Pipeline, snooze: SnoozeState, wall: datetime, frames_total: int, dropped_total: int
    ) -> dict[str, Any]:
        """The row at frame time t (wall: the same moment on the wall clock)."""
        p = pipeline
        tracker = p.session_tracker
        nxt = p.prompts.next_due() if tracker.open else None
        while self._fidgets and self._fidgets[0] < t - FIDGET_WINDOW_S:
            self._fidgets.popleft()
        rates = self._rates
        while rates and rates[0][0] < t - RATE_WINDOW_S:
            rates.popleft()
        span = (rates[-1][0] - rates[0][0]) if len(rates) > 1 else 0
        frames = sum(n for _, n in list(rates)[1:])
        losses = self._losses
        if not losses or losses[-1][0] < t:
            losses.append((t, frames_total, dropped_total))
        while len(losses) > 1 and losses[0][0] < t - LOSS_WINDOW_S:
            losses.popleft()
        muted = (
            snooze.muted_until if snooze.is_muted(wall) else (snooze.snoozed_until if snooze.is_snoozed(wall) else None)
        )
        half_w, half_d = p.config.geometry.width_mm / 2, p.config.geometry.depth_mm / 2
        return {
            "seated": p.presence.seated,
            "sitting_s": round(t - tracker.start, 1) if tracker.start is not None else 0.0,
            "next_prompt_kind": nxt[0] if nxt else None,
            "next_prompt_in_s": round(max(0.0, nxt[1] - t), 1) if nxt else None,
            "cop_x_mm": round(p.lat * half_w, 1) if p.lat is not None else None,
            "cop_y_mm": round(p.sag * half_d, 1) if p.sag is not None else None,
            "lat": round(p.lat, 3) if p.lat is not None else None,
            "sag": round(p.sag, 3) if p.sag is not None else None,
            "total_kg": round(p.total_kg, 2) if p.total_kg is not None else None,
            "fidgets_per_10min": len(self._fidgets),
            "faults": [f.channel for f in p.faults.running()],
            "sample_rate_hz": round(frames / span, 1) if span > 0 else None,
            "dropped_frames": dropped_total,
            "recent_s": round(losses[-1][0] - losses[0][0], 1),
            "frames_recent": losses[-1][1] - losses[0][1],
            "dropped_recent": losses[-1][2] - losses[0][2],
            "break_due": bool(p.prompts.break_due_active and tracker.open),
            "muted_until_wall": muted.isoformat() if muted else None,
        }


# The live row's silenced reasons as SPEC section 8's state names them (there the buzzer turned off is muted).
MQTT_SILENCED = {"quiet_hours": "quiet_hours", "snoozed": "snoozed", "muted": "muted", "disabled": "muted"}


def mqtt_state(values: dict[str, Any], pipeline: Pipeline, config: Config) -> dict[str, Any]:
    """The live row and what else MQTT's state tells: lean, posture, why the buzzer is silent, reminder settings
    (config: the settings in effect)."""
    lateral, posture = pipeline.lateral, pipeline.posture
    lean = None
    if lateral.start is not None and lateral.lean_detected_at is not None:
        lean = "right" if lateral.side > 0 else "left"
    return {
        **values,
        "lean": lean,
        "posture": posture.kind if posture.detected_at is not None else None,
        "silenced": MQTT_SILENCED.get(values.get("silenced") or "") or None,
        "reminders": config.alerts.buzzer_enabled,
        "break_after_min": config.breaks.break_after_min,
    }
