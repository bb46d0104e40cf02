"""What the history says: one day in detail, and the hours before a diary episode.

Per-day totals and the definitions the pages share (a day, time seated, a break...) are in
device.storage.day_totals, shared with the MQTT state; re-exported here for the pages.
"""

from __future__ import annotations

import bisect
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta

from device.storage.day_totals import (
    BREAK_PROMPTS,
    MIN_SEATED_FOR_RATE_S,
    DayTotals,
    days_between,
    local_date,
    local_midnight,
    per_hour,
    session_prompts,
    today,
    totals_for_days,
    ts_of,
    with_running_session,
)
from device.storage.store import Store

__all__ = [
    "BREAK_PROMPTS",
    "MIN_SEATED_FOR_RATE_S",
    "DayTotals",
    "days_between",
    "local_date",
    "local_midnight",
    "per_hour",
    "session_prompts",
    "today",
    "totals_for_days",
    "ts_of",
    "with_running_session",
    "DayDetail",
    "Episode",
    "day_detail",
    "EpisodeContext",
    "episode_contexts",
]


# ---- one day in detail -------------------------------------------------------


@dataclass(slots=True)
class Span:
    """Something with a start and an end (Unix seconds) on the day's timeline."""

    kind: str  # "session", "break", "lean", "perch", "slump", "fault"
    start: float
    end: float
    label: str = ""
    side: str | None = None
    open: bool = False

    @property
    def duration_s(self) -> float:
        return self.end - self.start


@dataclass(slots=True)
class Mark:
    """Something that happens at one moment: a prompt, a twist, a fidget."""

    kind: str  # "break_due", "break_overdue", "move", "twist", "fidget"
    t: float
    label: str = ""
    side: str | None = None


@dataclass(slots=True)
class Episode:
    """An episode of pain the person logged in the diary: when (Unix seconds), where, the kind, how bad."""

    id: int
    t: float
    region: str
    side: str
    kind: str | None  # None: not given
    severity: int


@dataclass(slots=True)
class DayDetail:
    day: date
    totals: DayTotals
    start: float  # the day's midnight (Unix seconds)
    end: float  # the next midnight
    sessions: list[Span] = field(default_factory=list)
    breaks: list[Span] = field(default_factory=list)
    spans: list[Span] = field(default_factory=list)  # leans, perches, slumps, faults
    marks: list[Mark] = field(default_factory=list)  # prompts, twists, fidgets
    session_rows: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    episodes: list[Episode] = field(default_factory=list)  # from the diary, not the cushion

    @property
    def empty(self) -> bool:
        """Nothing from the cushion (the diary's episodes alone draw no timeline)."""
        return not (self.sessions or self.spans or self.marks)

    def window(self, min_hours: float = 4.0) -> tuple[float, float]:
        """The stretch of the day the timeline shows: whole hours around everything that happened."""
        times = [s.start for s in self.sessions + self.spans] + [s.end for s in self.sessions + self.spans]
        times += [m.t for m in self.marks] + [e.t for e in self.episodes]
        if not times:
            return self.start + 8 * 3600, self.start + 18 * 3600
        hour = 3600.0
        lo = self.start + (max(min(times), self.start) - self.start) // hour * hour
        hi = self.start + -(-(min(max(times), self.end) - self.start) // hour) * hour
        missing = min_hours * hour - (hi - lo)
        if missing > 0:
            lo -= missing // 2 // hour * hour
            hi = lo + min_hours * hour
            if hi > self.end:
                lo, hi = lo - (hi - self.end), self.end
            if lo < self.start:
                lo, hi = self.start, self.start + min_hours * hour
        return lo, hi


def _duration(data: dict) -> float:
    end = data.get("end")
    start = data.get("start")
    return (end - start) if isinstance(end, (int, float)) and isinstance(start, (int, float)) else 0.0


def day_detail(store: Store, day: date, now: float | None = None) -> DayDetail:
    """Everything the Day page draws for one local day."""
    (totals,) = totals_for_days(store, day, day)
    a, b = local_midnight(day), local_midnight(day + timedelta(days=1))
    detail = DayDetail(day, totals, a.timestamp(), b.timestamp())
    now = datetime.now().timestamp() if now is None else now

    previous_end = None
    for row in store.sessions_between(a, b):
        start = ts_of(row["start_wall"])
        is_open = row["end_wall"] is None
        end = ts_of(row["end_wall"] or row["last_heartbeat_wall"])
        span = Span("session", max(start, detail.start), min(end, detail.end), open=is_open)
        detail.sessions.append(span)
        if previous_end is not None and detail.start <= previous_end < start:
            detail.breaks.append(Span("break", previous_end, start))  # between two sessions of the day
        previous_end = None if is_open else end
        detail.session_rows.append(
            {
                "id": row["id"],
                "start": start,
                "end": end,
                "open": is_open,
                "duration_s": end - start,
                "prompts": row["prompts"],
                "start_wall": row["start_wall"],
                "end_wall": row["end_wall"],
                "long": end - start > 3600,
            }
        )

    for row in store.events_between(a, b):
        data = row["data"]
        kind = row["type"]
        t = ts_of(row["wall"])
        detail.events.append(
            {
                "type": kind,
                "wall": row["wall"],
                "detected_wall": row["detected_wall"],
                "session_id": row["session_id"],
                "data": data,
            }
        )
        if kind == "prompt":
            detail.marks.append(Mark(data.get("kind", "prompt"), t))
        elif kind in ("twist", "fidget"):
            detail.marks.append(Mark(kind, t, side=data.get("side")))
        elif kind in ("lean", "perch", "slump"):
            detail.spans.append(Span(kind, t, min(t + _duration(data), detail.end), side=data.get("side")))
        elif kind == "fault":
            end = data.get("end")
            is_open = end is None
            stop = min(now, detail.end) if is_open else t + _duration(data)
            detail.spans.append(Span("fault", t, max(stop, t), label=data.get("channel", ""), open=is_open))

    for row in store.diary_between(a, b):
        detail.episodes.append(
            Episode(row["id"], ts_of(row["wall"]), row["region"], row["side"], row.get("kind"), row["severity"])
        )
    return detail


# ---- the hours before a diary episode ---------------------------------------------


@dataclass(slots=True)
class Window:
    """What the cushion saw in a window of time (seconds; counts may be medians)."""

    seated_s: float
    longest_s: float
    breaks_skipped: float
    lean_s: float
    fidgets_per_hour: float | None

    @classmethod
    def usual(cls, windows: Sequence[Window]) -> Window | None:
        """The median of each figure over these windows (None where none has it, or no windows)."""
        if not windows:
            return None
        seated, longest, skipped, lean, fidgets = (
            _median(getattr(w, name) for w in windows)
            for name in ("seated_s", "longest_s", "breaks_skipped", "lean_s", "fidgets_per_hour")
        )
        return cls(seated or 0.0, longest or 0.0, skipped or 0.0, lean or 0.0, fidgets)

    def to_dict(self) -> dict:
        return {key: (None if value is None else round(value, 2)) for key, value in asdict(self).items()}


@dataclass(slots=True)
class EpisodeContext:
    """The window before an episode next to the usual figures for the same window."""

    hours: float
    before: Window
    usual: Window | None  # medians over the days with data among the previous `baseline_days`
    usual_days: int  # how many days those medians are over

    def to_dict(self) -> dict:
        return {
            "hours": self.hours,
            "before": self.before.to_dict(),
            "usual": None if self.usual is None else self.usual.to_dict(),
            "usual_days": self.usual_days,
        }


class _Recorded:
    """The sessions and movements of a stretch of history, indexed for windows."""

    def __init__(self, store: Store, a: datetime, b: datetime):
        spans = store.session_spans(a, b)
        self.starts = [row[1] for row in spans]
        self.ends = [row[2] for row in spans]
        self.days_with_data = {local_date(start) for start in self.starts}
        self.fidgets: list[float] = []
        self.lean_starts: list[float] = []
        self.lean_ends: list[float] = []
        self.prompt_ts: list[float] = []
        self.prompt_next: list[float] = []
        last_in_session: dict[int, int] = {}
        for ts, kind, sub, seconds, session_id in store.movements(a, b, ("fidget", "lean", "prompt")):
            if kind == "fidget":
                self.fidgets.append(ts)
            elif kind == "lean":
                self.lean_starts.append(ts)
                self.lean_ends.append(ts + (seconds or 0.0))
            elif sub in BREAK_PROMPTS:
                if session_id is not None and session_id in last_in_session:
                    self.prompt_next[last_in_session[session_id]] = ts
                if session_id is not None:
                    last_in_session[session_id] = len(self.prompt_ts)
                self.prompt_ts.append(ts)
                self.prompt_next.append(float("inf"))
        self.longest_lean = max((e - s for s, e in zip(self.lean_starts, self.lean_ends)), default=0.0)

    def window(self, w0: float, w1: float) -> Window:
        seated = longest = 0.0
        i = bisect.bisect_right(self.ends, w0)
        while i < len(self.starts) and self.starts[i] < w1:
            overlap = max(0.0, min(self.ends[i], w1) - max(self.starts[i], w0))
            seated += overlap
            longest = max(longest, overlap)
            i += 1
        fidgets = bisect.bisect_left(self.fidgets, w1) - bisect.bisect_left(self.fidgets, w0)
        lean = 0.0
        j = bisect.bisect_left(self.lean_starts, w0 - self.longest_lean)
        while j < len(self.lean_starts) and self.lean_starts[j] < w1:
            lean += max(0.0, min(self.lean_ends[j], w1) - max(self.lean_starts[j], w0))
            j += 1
        skipped = 0
        k = bisect.bisect_left(self.prompt_ts, w0)
        while k < len(self.prompt_ts) and self.prompt_ts[k] < w1:
            skipped += self.prompt_next[k] < w1
            k += 1
        return Window(seated, longest, skipped, lean, per_hour(fidgets, seated))


def _median(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def episode_contexts(
    store: Store, entries: Sequence[dict], hours: float = 4.0, baseline_days: int = 14
) -> dict[int, EpisodeContext]:
    """For each diary entry (by id): the `hours` before it, and the median of the same
    hours on each of the previous `baseline_days` days that have any sitting recorded."""
    if not entries:
        return {}
    walls = [datetime.fromisoformat(e["wall"]).astimezone() for e in entries]
    a = min(walls) - timedelta(days=baseline_days + 1, hours=hours)
    b = max(walls)
    recorded = _Recorded(store, a, b)
    contexts = {}
    for entry, wall in zip(entries, walls):
        end = wall.timestamp()
        before = recorded.window(end - hours * 3600, end)
        usual_windows = []
        naive = wall.replace(tzinfo=None)  # step back in local days, whatever the clock change
        for back in range(1, baseline_days + 1):
            then = (naive - timedelta(days=back)).astimezone()
            if then.date() in recorded.days_with_data:
                usual_windows.append(recorded.window(then.timestamp() - hours * 3600, then.timestamp()))
        usual = Window.usual(usual_windows)  # a median per figure
        contexts[entry["id"]] = EpisodeContext(hours, before, usual, len(usual_windows))
    return contexts
