"""What the history says: per-day totals, one day in detail, and the hours before a diary episode.

Definitions the pages share:

- A day is a local calendar day (midnight to midnight on the Pi's clock).
- Time seated: the length of the sessions, short absences included (SPEC
  section 5), the part of each session inside the day. An open session runs
  to its last heartbeat.
- Sessions and the longest session count by the day a session started.
- A break is an absence between two sessions of the same day (standing up
  for `break_min_s` or more, then sitting down again). The time before the
  day's first session and after its last (going home, the night) is not a
  break, however long; a gap that crosses midnight is the night.
- Break prompts: `break_due` and `break_overdue` prompts. A break prompt is
  skipped when another break prompt came later in the same session: the
  person sat on until the next reminder. The last one of a session that
  then ended was heeded. (Per day, skipped prompts count with the session's
  start day, from the session's own list of prompts.)
- Lean time: the length of the `lean` events, per side. Fidgets per hour:
  fidgets per hour seated (shown once there are 10 minutes seated).
"""

from __future__ import annotations

import bisect
import json
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta

from device.storage.store import Store

BREAK_PROMPTS = ("break_due", "break_overdue")
MIN_SEATED_FOR_RATE_S = 600.0  # a fidget rate over less sitting than this says nothing


def local_midnight(day: date) -> datetime:
    """The start of a local calendar day, as an aware datetime."""
    return datetime(day.year, day.month, day.day).astimezone()


def today() -> date:
    return datetime.now().astimezone().date()


def ts_of(label: str) -> float:
    """Unix seconds of a stored wall label ("2024-05-01T09:30:12.345+02:00")."""
    return datetime.fromisoformat(label).timestamp()


def local_date(ts: float) -> date:
    return datetime.fromtimestamp(ts).date()


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def per_hour(count: float, seated_s: float) -> float | None:
    return count / (seated_s / 3600.0) if seated_s >= MIN_SEATED_FOR_RATE_S else None


# ---- totals per day ------------------------------------------------------------


@dataclass(slots=True)
class DayTotals:
    """One day's figures (times in seconds)."""

    day: date
    seated_s: float = 0.0
    sessions: int = 0
    longest_s: float = 0.0
    breaks: int = 0
    break_prompts: int = 0
    breaks_skipped: int = 0
    move_prompts: int = 0
    lean_left_s: float = 0.0
    lean_right_s: float = 0.0
    leans: int = 0
    twists: int = 0
    fidgets: int = 0
    perches: int = 0
    perch_s: float = 0.0
    slumps: int = 0
    slump_s: float = 0.0
    faults: int = 0

    @property
    def fidgets_per_hour(self) -> float | None:
        return per_hour(self.fidgets, self.seated_s)

    @property
    def lean_s(self) -> float:
        return self.lean_left_s + self.lean_right_s

    @property
    def has_data(self) -> bool:
        return self.seated_s > 0 or self.sessions > 0 or self.fidgets > 0 or self.faults > 0

    def to_dict(self) -> dict:
        data = {key: round(value, 1) if isinstance(value, float) else value for key, value in asdict(self).items()}
        data["day"] = self.day.isoformat()
        data["fidgets_per_hour"] = None if self.fidgets_per_hour is None else round(self.fidgets_per_hour, 2)
        return data


def totals_for_days(
    store: Store, first: date, last: date, running: tuple[float, float] | None = None
) -> list[DayTotals]:
    """DayTotals for every day from first to last (both included), in order.

    Two queries whatever the number of days: the sessions (clipped to each
    day here) and the events aggregated per day in SQL.

    running: (start, end), Unix seconds, of the session going on now as the
    live row tells it (its time minus sitting_s, and its time). It stands in
    for the history's record of that session, which lags by up to a batch:
    the Now page's totals then agree with its sitting timer.
    """
    days = days_between(first, last)
    totals = [DayTotals(d) for d in days]
    by_day = {d.isoformat(): t for d, t in zip(days, totals)}
    a, b = local_midnight(first), local_midnight(last + timedelta(days=1))
    edges = [local_midnight(d).timestamp() for d in days] + [b.timestamp()]
    spans = store.session_spans(a, b)
    if running is not None:
        spans = with_running_session(spans, *running, a.timestamp(), b.timestamp())

    previous_end = None
    for _sid, start, end, is_open, prompts in spans:
        if previous_end is not None and start > previous_end:
            k = bisect.bisect_right(edges, previous_end) - 1
            if 0 <= k < len(totals) and start < edges[k + 1]:
                totals[k].breaks += 1  # sat down again the same day: that absence was a break
        previous_end = None if is_open else end
        i = bisect.bisect_right(edges, start) - 1
        if 0 <= i < len(totals):
            day = totals[i]
            day.sessions += 1
            day.longest_s = max(day.longest_s, end - start)
            # Every break prompt but the session's last was followed by another reminder, not a break.
            day.breaks_skipped += max(0, sum(p in BREAK_PROMPTS for p in session_prompts(prompts)) - 1)
        j = max(i, 0)
        while j < len(totals) and edges[j] < end:
            day = totals[j]
            day.seated_s += max(0.0, min(end, edges[j + 1]) - max(start, edges[j]))
            j += 1

    for day_key, kind, sub, count, seconds in store.event_totals(a, b):
        found = by_day.get(day_key)
        if found is None:
            continue
        day = found
        seconds = seconds or 0.0
        if kind == "prompt":
            if sub in BREAK_PROMPTS:
                day.break_prompts += count
            elif sub == "move":
                day.move_prompts += count
        elif kind == "lean":
            day.leans += count
            if sub == "left":
                day.lean_left_s += seconds
            elif sub == "right":
                day.lean_right_s += seconds
        elif kind == "twist":
            day.twists += count
        elif kind == "fidget":
            day.fidgets += count
        elif kind == "perch":
            day.perches += count
            day.perch_s += seconds
        elif kind == "slump":
            day.slumps += count
            day.slump_s += seconds
        elif kind == "fault":
            day.faults += count
    return totals


# The history's record of the running session starts where the live row's does, give or take the
# two clocks' rounding; any other session is a break (a minute or more) away from it.
SAME_SESSION_S = 30.0


def with_running_session(spans: Sequence[tuple], start: float, end: float, a: float, b: float) -> list[tuple]:
    """Session spans (`Store.session_spans` rows, by start) with the running session [start, end]
    in place of the history's record of it (the row starting where it starts), if it overlaps [a, b)."""
    recorded = [row for row in spans if abs(row[1] - start) <= SAME_SESSION_S]
    others = [row for row in spans if abs(row[1] - start) > SAME_SESSION_S]
    if start < b and end >= a:
        sid, prompts = (recorded[0][0], recorded[0][4]) if recorded else (None, "[]")
        others.append((sid, start, end, True, prompts))
        others.sort(key=lambda row: row[1])
    return others


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

    @property
    def empty(self) -> bool:
        return not (self.sessions or self.spans or self.marks)

    def window(self, min_hours: float = 4.0) -> tuple[float, float]:
        """The stretch of the day the timeline shows: whole hours around everything that happened."""
        times = [s.start for s in self.sessions + self.spans] + [s.end for s in self.sessions + self.spans]
        times += [m.t for m in self.marks]
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


def session_prompts(prompts: str | list | None) -> list[str]:
    """A session row's prompts as a list (whether decoded already or JSON text)."""
    if prompts is None:
        return []
    return json.loads(prompts) if isinstance(prompts, str) else list(prompts)
