"""Events the pipeline reports (SPEC sections 3 and 5): small immutable records.

Field names are the SPEC's; `report.py` serialises them. `t`/`start`/`end` say
when a thing happened in the signal, `detected_at` at which frame the pipeline
knew it. Times are seconds on the frame clock.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Sit:
    t: float
    detected_at: float
    type: str = "sit"


@dataclass(frozen=True, slots=True)
class Stand:
    t: float
    detected_at: float
    type: str = "stand"


@dataclass(frozen=True, slots=True)
class Lean:
    """A lateral excursion of lean_min_s or more; side is "left" or "right"."""

    side: str
    start: float
    end: float
    peak: float
    detected_at: float
    type: str = "lean"


@dataclass(frozen=True, slots=True)
class Twist:
    """A brief lateral excursion (shorter than lean_min_s) peaking at twist_peak or more."""

    side: str
    start: float
    end: float
    peak: float
    detected_at: float
    type: str = "twist"


@dataclass(frozen=True, slots=True)
class Fidget:
    """A quick in-chair shift of the centre of pressure, size_mm far."""

    t: float
    size_mm: float
    detected_at: float
    type: str = "fidget"


@dataclass(frozen=True, slots=True)
class Posture:
    """A perch (weight forward) or slump (weight back) held posture_min_s or more."""

    type: str  # "perch" or "slump"
    start: float
    end: float
    detected_at: float


@dataclass(frozen=True, slots=True)
class Prompt:
    """A nudge to the person: kind is "break_due", "break_overdue" or "move"."""

    kind: str
    t: float
    detected_at: float
    type: str = "prompt"


@dataclass(frozen=True, slots=True)
class Fault:
    """A channel that stopped giving usable readings; end is None while it lasts."""

    channel: str
    start: float
    end: float | None
    detected_at: float
    reason: str = ""
    type: str = "fault"


@dataclass(frozen=True, slots=True)
class Session:
    """One sitting session; end is None while it is still open."""

    start: float
    end: float | None
    prompts: tuple[str, ...]


Event = Sit | Stand | Lean | Twist | Fidget | Posture | Prompt | Fault


def time_of(event: Event) -> float:
    """When an event happened in the signal: its `t`, or the `start` of a span."""
    if isinstance(event, Sit | Stand | Fidget | Prompt):
        return event.t
    return event.start
