"""Per-minute summaries for the history (pure: frame times in, Minute rows out).

The daemon reports slices of time (seated or not, mean balance) and events;
`take()` hands out what accumulated since the last call as Minute rows, which
the store adds to rows already stored (so late events, such as a lean that
ends after its minutes were written, simply add to those minutes).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from device.events import Event
from device.store import Minute, minute_key


class MinuteAccumulator:
    """Gathers per-minute totals; `wall_of(t)` labels a frame time with wall-clock time."""

    def __init__(self, wall_of: Callable[[float], datetime]):
        self.wall_of = wall_of
        self._rows: dict[str, dict] = {}
        self._unsaved: list[Minute] = []

    def _row(self, t: float) -> dict:
        key = minute_key(self.wall_of(t))
        row = self._rows.get(key)
        if row is None:
            row = self._rows[key] = {"seated_s": 0.0, "lat_s": 0.0, "sag_s": 0.0, "balance_s": 0.0,
                                     "fidgets": 0, "lean_left_s": 0.0, "lean_right_s": 0.0,
                                     "twists": 0, "prompts": 0}
        return row

    def add_time(self, t_end: float, seconds: float, seated: bool, lat: float | None, sag: float | None) -> None:
        """A slice of `seconds` ending at frame time t_end (the daemon's loop step, ~0.1 s)."""
        if seconds <= 0 or not seated:
            return
        row = self._row(t_end)
        row["seated_s"] += seconds
        if lat is not None and sag is not None:
            row["lat_s"] += lat * seconds
            row["sag_s"] += sag * seconds
            row["balance_s"] += seconds

    def add_event(self, event: Event) -> None:
        kind = event.type
        if kind == "fidget":
            self._row(event.t)["fidgets"] += 1
        elif kind == "twist":
            self._row(event.start)["twists"] += 1
        elif kind == "prompt":
            self._row(event.t)["prompts"] += 1
        elif kind == "lean":
            self._spread(event.start, event.end, "lean_left_s" if event.side == "left" else "lean_right_s")

    def _spread(self, start: float, end: float, column: str) -> None:
        """Add a span's seconds to each minute it covers."""
        t = start
        while t < end:
            wall = self.wall_of(t)
            to_boundary = 60.0 - (wall.second + wall.microsecond / 1e6)
            step = min(end - t, max(to_boundary, 1e-3))
            self._row(t)[column] += step
            t += step

    def put_back(self, rows: list[Minute]) -> None:
        """Rows that could not be written: handed out again by the next take()."""
        self._unsaved.extend(rows)

    def take(self) -> list[Minute]:
        """Minute rows gathered since the last take (plus any put back)."""
        rows, self._unsaved = self._unsaved, []
        for key, r in self._rows.items():
            balance = r["balance_s"]
            rows.append(Minute(
                minute=key, seated_s=round(r["seated_s"], 3),
                lat_mean=r["lat_s"] / balance if balance else None,
                sag_mean=r["sag_s"] / balance if balance else None,
                fidgets=r["fidgets"], lean_left_s=round(r["lean_left_s"], 3),
                lean_right_s=round(r["lean_right_s"], 3), twists=r["twists"], prompts=r["prompts"],
            ))
        self._rows = {}
        return rows
