"""The replay report (SPEC section 5): events and sessions serialised in one place."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from device.core.events import Event, Lean, Session

_ROUND = 3


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, _ROUND)


def event_to_dict(event: Event) -> dict[str, Any]:
    """One event as the SPEC's JSON object: "type" first, times rounded to the millisecond."""
    data: dict[str, Any] = {"type": event.type}
    for f in dataclasses.fields(event):
        if f.name == "type":
            continue
        value = getattr(event, f.name)
        if f.name == "reason" and not value:
            continue
        data[f.name] = _r(value) if isinstance(value, float) or value is None else value
    return data


def session_to_dict(session: Session) -> dict[str, Any]:
    return {"start": _r(session.start), "end": _r(session.end), "prompts": list(session.prompts)}


def build_report(
    frames: int, duration_s: float, sessions: list[Session], events: Iterable[Event], end_t: float, breaks: int
) -> dict[str, Any]:
    """The replay report: events in order of detected_at, sessions, and the summary."""
    ordered = sorted(events, key=lambda e: e.detected_at)
    seated = sum(((s.end if s.end is not None else end_t) - s.start for s in sessions), 0.0)
    lean_s = {"left": 0.0, "right": 0.0}
    counts = {"fidget": 0, "twist": 0, "prompt": 0}
    for event in ordered:
        if isinstance(event, Lean):
            lean_s[event.side] += event.end - event.start
        elif event.type in counts:
            counts[event.type] += 1
    return {
        "frames": frames,
        "duration_s": round(duration_s, _ROUND),
        "sessions": [session_to_dict(s) for s in sessions],
        "events": [event_to_dict(e) for e in ordered],
        "summary": {
            "seated_s": round(seated, 1),
            "sessions": len(sessions),
            "breaks": breaks,
            "fidgets": counts["fidget"],
            "lean_s": {side: round(value, 1) for side, value in lean_s.items()},
            "twists": counts["twist"],
            "prompts": counts["prompt"],
        },
    }
