"""Plausible history for a dashboard without a cushion: tests, the benchmark, screenshots.

`fill_history(store, first_day, days)` writes, through `Store.write_batch`
like the daemon does, a desk worker's days: 6-9 sitting sessions on a
workday (fewer at weekends), their prompts, leans, twists, perches, slumps,
fidgets, the odd sensor fault, and per-minute summaries. It is a quick
statistical sketch made for volume and looks, not the simulated sitter of
`device/sim/sitter.py` (which makes raw frames for the pipeline).
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, timedelta

from device.core.events import Fault, Fidget, Lean, Posture, Prompt, Session, Sit, Stand, Twist
from device.core.minutes import Minute
from device.storage.store import Store


def _session_events(rng: random.Random, start: float, end: float, lean_bias: float) -> list:
    """The events of one session from start to end (seconds on the frame clock)."""
    events: list = [Sit(start, start + 1.5)]
    length = end - start
    # Break prompts at 45 min, then 60, 75, ... (the defaults).
    for at_min in [45] + list(range(60, 24 * 60, 15)):
        t = start + at_min * 60
        if t >= end:
            break
        kind = "break_due" if at_min == 45 else "break_overdue"
        events.append(Prompt(kind, t, t))
    t = start + rng.uniform(60, 600)
    while t < end - 30:
        roll = rng.random()
        if roll < 0.70:
            events.append(Fidget(t, rng.uniform(15, 45), t + rng.uniform(0.5, 3.5)))
        elif roll < 0.80:
            side = "left" if rng.random() < lean_bias else "right"
            duration = min(rng.uniform(10, 240), end - t - 5)
            if duration >= 10:
                events.append(Lean(side, t, t + duration, rng.uniform(0.2, 0.45), t + 10))
                t += duration
        elif roll < 0.87:
            side = rng.choice(("left", "right"))
            duration = rng.uniform(1, 6)
            events.append(Twist(side, t, t + duration, rng.uniform(0.3, 0.6), t + duration + 2))
        elif roll < 0.94:
            kind = rng.choice(("perch", "perch", "slump"))
            duration = min(rng.uniform(30, 400), end - t - 5)
            if duration >= 30:
                events.append(Posture(kind, t, t + duration, t + 30))
                t += duration
        elif roll < 0.97 and length > 25 * 60:
            events.append(Prompt("move", t, t))
        t += rng.expovariate(1 / 200.0)
    events.append(Stand(end, end + 1.5))
    events.sort(key=_time)
    return events


def _time(event) -> float:
    t = getattr(event, "t", None)
    return event.start if t is None else t


def _minutes(day_start: datetime, base_t: float, sessions: list[tuple[float, float]], events: list) -> list[Minute]:
    """Per-minute summaries of one day (frame time base_t is day_start)."""
    seated: dict[int, float] = defaultdict(float)
    for start, end in sessions:
        start, end = start - base_t, end - base_t
        minute = int(start // 60)
        while minute * 60 < end:
            seated[minute] += min(end, (minute + 1) * 60) - max(start, minute * 60)
            minute += 1
    fidgets: dict[int, int] = defaultdict(int)
    twists: dict[int, int] = defaultdict(int)
    prompts: dict[int, int] = defaultdict(int)
    for event in events:
        minute = int((_time(event) - base_t) // 60)
        if event.type == "fidget":
            fidgets[minute] += 1
        elif event.type == "twist":
            twists[minute] += 1
        elif event.type == "prompt":
            prompts[minute] += 1
    rows = []
    for minute, seconds in sorted(seated.items()):
        key = (day_start + timedelta(minutes=minute)).strftime("%Y-%m-%dT%H:%M")
        rows.append(
            Minute(
                key, seated_s=round(seconds, 1), fidgets=fidgets[minute], twists=twists[minute], prompts=prompts[minute]
            )
        )
    return rows


def fill_history(store: Store, first_day: date, days: int, *, seed: int = 1, until: datetime | None = None) -> int:
    """Write `days` days of history from `first_day` on; returns the number of events written.

    until: nothing later than this (a day in progress ends with an open session).
    """
    rng = random.Random(seed)
    written = 0
    lean_bias = 0.65  # this person leans left more often than right
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        day_start = datetime(day.year, day.month, day.day)
        # The frame clock of this "run": seconds since the day's midnight, plus a
        # day's worth per day so that starts never repeat within the store.
        base_t = offset * 86400.0
        weekend = day.weekday() >= 5
        if weekend and rng.random() < 0.7:
            continue
        n_sessions = rng.randint(2, 4) if weekend else rng.randint(6, 9)
        t = rng.uniform(8.25, 9.5) * 3600
        spans: list[tuple[float, float]] = []
        for i in range(n_sessions):
            length = rng.choice((rng.uniform(15, 45), rng.uniform(30, 60), rng.uniform(40, 95))) * 60
            spans.append((t, t + length))
            gap = rng.uniform(35, 70) if i == n_sessions // 2 else rng.uniform(2, 20)
            t += length + gap * 60
        limit = None if until is None else (until - day_start).total_seconds()
        if limit is not None and limit <= spans[0][0]:
            break
        sessions: list[Session] = []
        events: list = []
        for start, end in spans:
            if limit is not None and start >= limit:
                break
            cut = limit is not None and end > limit
            stop = limit if cut else end
            session_events = _session_events(rng, base_t + start, base_t + stop, lean_bias)
            if cut:
                session_events = [e for e in session_events if e.type != "stand"]
            events.extend(session_events)
            sessions.append(
                Session(
                    base_t + start,
                    None if cut else base_t + stop,
                    tuple(e.kind for e in session_events if e.type == "prompt"),
                )
            )
        if rng.random() < 0.05 and spans:
            start = base_t + rng.uniform(spans[0][0], spans[-1][1])
            events.append(
                Fault(
                    rng.choice(("fl", "fr", "bl", "br")),
                    start,
                    start + rng.uniform(1, 20),
                    start + 0.5,
                    rng.choice(("no_data", "stuck", "rail")),
                )
            )
        events.sort(key=_time)
        minutes = _minutes(
            day_start, base_t, [(s.start, base_t + limit if s.end is None else s.end) for s in sessions], events
        )
        # Frame time base_t is the day's midnight: write_batch labels every time from that pair.
        store.write_batch(base_t, day_start, events=events, sessions=sessions, minutes=minutes)
        written += len(events)
    return written


def live_values(sitting_s: float = 1234.0, **overrides) -> dict:
    """A live row as the daemon writes it, for a person sitting quietly, slightly to the left."""
    values = {
        "seated": True,
        "sitting_s": sitting_s,
        "next_prompt_kind": "break_due",
        "next_prompt_in_s": max(0.0, 45 * 60 - sitting_s),
        "cop_x_mm": -32.0,
        "cop_y_mm": 18.0,
        "lat": -0.16,
        "sag": 0.09,
        "total_kg": 61.5,
        "fidgets_per_10min": 3,
        "faults": [],
        "sample_rate_hz": 79.8,
        "dropped_frames": 12,
        # The last 10 minutes (the daemon's recent window): 79.8 frames a second, 2 of them lost.
        "recent_s": 600.0,
        "frames_recent": 47_878,
        "dropped_recent": 2,
        "break_due": False,
        "muted_until_wall": None,
    }
    values.update(overrides)
    return values
