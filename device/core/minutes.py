"""Per-minute summaries for the history (pure: frame times in, Minute rows out).

The daemon reports slices of time (seated or not, mean balance) and events;
`take()` hands out what accumulated since the last call as Minute rows, which
the store adds to rows already stored (so late events, such as a lean that
ends after its minutes were written, simply add to those minutes).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from device.core.events import Event, Fidget, Lean, Prompt, Twist


@dataclass(frozen=True, slots=True)
class Minute:
    """What happened during one wall-clock minute; writing a minute twice adds up.

    `minute` is the local time "YYYY-MM-DDTHH:MM" (see `minute_key`). Times in
    seconds; `lat_mean` / `sag_mean` are the mean balance while seated (None if
    never seated), merged weighted by `seated_s`.
    """

    minute: str
    seated_s: float = 0.0
    lat_mean: float | None = None
    sag_mean: float | None = None
    fidgets: int = 0
    lean_left_s: float = 0.0
    lean_right_s: float = 0.0
    twists: int = 0
    prompts: int = 0


def minute_key(wall: datetime | str) -> str:
    """The `minutes` key of a time: its local "YYYY-MM-DDTHH:MM" (naive times are local)."""
    if isinstance(wall, str):
        wall = datetime.fromisoformat(wall)
    if wall.tzinfo is None:
        wall = wall.astimezone()
    return wall.strftime("%Y-%m-%dT%H:%M")


MINUTE_S = 60.0


def merge_minutes(rows: Iterable[Minute]) -> list[Minute]:
    """Rows of the same minute merged as writing them one after the other would
    (`_ADD_MINUTE`): counts and seconds added (at most a minute's), means
    weighted by seated_s."""
    merged: dict[str, Minute] = {}
    for row in rows:
        old = merged.get(row.minute)
        if old is None:
            merged[row.minute] = row
            continue
        seated = old.seated_s + row.seated_s
        merged[row.minute] = Minute(
            row.minute,
            seated_s=min(MINUTE_S, seated),
            lat_mean=_weighted(old.lat_mean, old.seated_s, row.lat_mean, row.seated_s),
            sag_mean=_weighted(old.sag_mean, old.seated_s, row.sag_mean, row.seated_s),
            fidgets=old.fidgets + row.fidgets,
            lean_left_s=min(MINUTE_S, old.lean_left_s + row.lean_left_s),
            lean_right_s=min(MINUTE_S, old.lean_right_s + row.lean_right_s),
            twists=old.twists + row.twists,
            prompts=old.prompts + row.prompts,
        )
    return list(merged.values())


def _weighted(a: float | None, a_s: float, b: float | None, b_s: float) -> float | None:
    """The mean of two means over a_s and b_s seconds (None: no mean on that side)."""
    if b is None:
        return a
    if a is None or a_s + b_s == 0:
        return b
    return (a * a_s + b * b_s) / (a_s + b_s)


class MinuteAccumulator:
    """Gathers per-minute totals; `wall_of(t)` labels a frame time with wall-clock time."""

    def __init__(self, wall_of: Callable[[float], datetime]):
        self.wall_of = wall_of
        self._rows: dict[str, dict[str, float]] = {}
        self._unsaved: list[Minute] = []

    def _row(self, t: float) -> dict[str, float]:
        key = minute_key(self.wall_of(t))
        row = self._rows.get(key)
        if row is None:
            row = self._rows[key] = {
                "seated_s": 0.0,
                "lat_s": 0.0,
                "sag_s": 0.0,
                "balance_s": 0.0,
                "fidgets": 0,
                "lean_left_s": 0.0,
                "lean_right_s": 0.0,
                "twists": 0,
                "prompts": 0,
            }
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
        if isinstance(event, Fidget):
            self._row(event.t)["fidgets"] += 1
        elif isinstance(event, Twist):
            self._row(event.start)["twists"] += 1
        elif isinstance(event, Prompt):
            self._row(event.t)["prompts"] += 1
        elif isinstance(event, Lean):
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
            rows.append(
                Minute(
                    minute=key,
                    seated_s=round(r["seated_s"], 3),
                    lat_mean=r["lat_s"] / balance if balance else None,
                    sag_mean=r["sag_s"] / balance if balance else None,
                    fidgets=int(r["fidgets"]),
                    lean_left_s=round(r["lean_left_s"], 3),
                    lean_right_s=round(r["lean_right_s"], 3),
                    twists=int(r["twists"]),
                    prompts=int(r["prompts"]),
                )
            )
        self._rows = {}
        return rows
