"""The day's timeline: sittings and breaks, prompts, leans and twists, and the pain logged in the diary.

Its time axis cuts long empty stretches short.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup, escape

from dashboard.advice import ADVICE_FOR_EVENT
from dashboard.charts.svg import _pct, _Svg
from dashboard.formatting import duration, time_of_day
from dashboard.history import DayDetail, Episode
from device.storage.schema import DIARY_KIND_NAMES, DIARY_REGION_NAMES

# ---- the day's timeline ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Lane:
    key: str
    label: str
    advice: str  # the ADVICE_FOR_EVENT key its label links to
    height: int
    href: str = ""  # where its label links to instead, if not to advice


def _short_duration(seconds: float) -> str:
    """'50m', '1h03': a session's length inside its bar."""
    minutes = int(round(seconds / 60))
    return f"{minutes}m" if minutes < 60 else f"{minutes // 60}h{minutes % 60:02d}"


# A stretch of the day with nothing on the cushion this long may be drawn short,
# so that a long lunch at home or an evening session hours later does not squash
# the working day into a corner of a phone screen. Of such a stretch, GAP_KEEP_S
# stays at true scale on each side; the rest is drawn as if it lasted GAP_DRAWN_S.
GAP_COMPRESS_S = 90 * 60.0
GAP_KEEP_S = 15 * 60.0
GAP_DRAWN_S = 30 * 60.0
DRAWN_MAX_S = 10 * 3600.0
# Widths the chart has, in CSS pixels, on a phone (390 wide) and a laptop: which labels fit where.
PHONE_PX = 320.0
DESKTOP_PX = 900.0
_CHAR_PX = 6.2  # an average character of the 10.5-11 px chart text


@dataclass(frozen=True, slots=True)
class Cut:
    """A shortened stretch of the timeline: [start, end) drawn GAP_DRAWN_S wide."""

    start: float
    end: float


class TimeAxis:
    """Times of the day to horizontal percentages, with long empty stretches cut short."""

    def __init__(self, lo: float, hi: float, busy: Sequence[tuple[float, float]]):
        self.lo, self.hi = lo, hi
        intervals = sorted((max(lo, a), min(hi, b)) for a, b in busy if b >= lo and a <= hi)
        merged: list[list[float]] = []
        for a, b in intervals:
            if merged and a <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        # The longest empty stretches are cut first, and only as long as the drawing is longer than
        # DRAWN_MAX_S: a working day with a long lunch stays to scale; one with an evening session is cut.
        gaps = sorted(
            ((b - a, a, b) for (_, a), (b, _) in zip(merged, merged[1:]) if b - a >= GAP_COMPRESS_S), reverse=True
        )
        drawn = hi - lo
        self.cuts: list[Cut] = []
        for length, gap_start, gap_end in gaps:
            if drawn <= DRAWN_MAX_S:
                break
            self.cuts.append(Cut(gap_start + GAP_KEEP_S, gap_end - GAP_KEEP_S))
            drawn -= length - 2 * GAP_KEEP_S - GAP_DRAWN_S
        self.cuts.sort(key=lambda cut: cut.start)
        # Breakpoints (time, virtual time): true scale between cuts, GAP_DRAWN_S across each.
        self._points = [(lo, 0.0)]
        v = 0.0
        t = lo
        for cut in self.cuts:
            v += cut.start - t
            self._points.append((cut.start, v))
            v += GAP_DRAWN_S
            self._points.append((cut.end, v))
            t = cut.end
        v += hi - t
        self._points.append((hi, v))
        self.virtual_span = max(v, 1.0)

    def virtual(self, t: float) -> float:
        points = self._points
        t = min(max(t, self.lo), self.hi)
        i = max(0, bisect.bisect_right([p[0] for p in points], t) - 1)
        if i >= len(points) - 1:
            return points[-1][1]
        (t0, v0), (t1, v1) = points[i], points[i + 1]
        return v0 if t1 == t0 else v0 + (t - t0) / (t1 - t0) * (v1 - v0)

    def x(self, t: float) -> float:
        """Percent of the width."""
        return self.virtual(t) / self.virtual_span * 100.0

    def in_cut(self, t: float) -> bool:
        return any(cut.start < t < cut.end for cut in self.cuts)


def _fits(width_pct: float, text: str, px: float) -> bool:
    return width_pct / 100.0 * px >= len(text) * _CHAR_PX + 6


# Marker shapes, centred on (0, 0), placed with <use x=".." y="..">.
_MARKERS = (
    "<defs>"
    '<circle id="m-due" r="4.5"/>'
    '<path id="m-overdue" d="M0,-5.5 L5.5,4.5 L-5.5,4.5 Z"/>'
    '<path id="m-move" d="M0,-5.5 L5,0 L0,5.5 L-5,0 Z"/>'
    '<path id="m-twist-left" d="M-5.5,0 L4,-5 L4,5 Z"/>'
    '<path id="m-twist-right" d="M5.5,0 L-4,-5 L-4,5 Z"/>'
    '<path id="m-pain" d="M0,-5.9 L1.6,-1.7 L6.2,-1.4 L2.7,1.5 L3.8,5.9 L0,3.4 '
    'L-3.8,5.9 L-2.7,1.5 L-6.2,-1.4 L-1.6,-1.7 Z"/>'
    '<pattern id="hatch-fault" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
    '<rect width="6" height="6" class="hatch-bg"/><rect width="3" height="6" class="hatch-fg"/></pattern>'
    '<pattern id="hatch-cut" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
    '<rect width="2" height="8" class="cut-stripe"/></pattern>'
    "</defs>"
)


def _hour_labels(axis: TimeAxis, hours: Sequence[float], width_px: float, cut_chars: int) -> set[float]:
    """The hours (of `hours`) to label on a chart `width_px` wide: a round step that leaves room
    between labels, none too close to a cut's label (`cut_chars` characters long)."""
    per_px = axis.virtual_span / width_px  # drawn seconds per pixel
    room = (5 * _CHAR_PX + 12) * per_px  # a label "09:00" and a gap
    clearance = ((5 + cut_chars) / 2 * _CHAR_PX + 6) * per_px  # half a label, half a cut label, a gap
    step = next((n for n in (1, 2, 3, 4, 6) if n * 3600 >= room), 6)
    half_label = 2.5 * _CHAR_PX * per_px
    chosen: set[float] = set()
    last = None
    for hour in hours:
        if datetime.fromtimestamp(hour).hour % step:
            continue
        # Where the label's middle is drawn: one at either end of the chart is
        # anchored to that end (see timeline), so it reaches inwards.
        px = axis.x(hour)
        v = axis.virtual(hour) + (half_label if px < 3 else (-half_label if px > 97 else 0.0))
        if any(abs(v - axis.virtual((c.start + c.end) / 2)) < clearance for c in axis.cuts):
            continue
        if last is None or v - last >= room:
            chosen.add(hour)
            last = v
    return chosen


def episode_title(episode: Episode) -> str:
    """'Pain at 12:00: lower back, left, spasm, 6/10': an episode in words (its mark's tooltip, the chart's label)."""
    words = [DIARY_REGION_NAMES.get(episode.region, episode.region), episode.side]
    if episode.kind:
        words.append(DIARY_KIND_NAMES.get(episode.kind, episode.kind))
    return f"Pain at {time_of_day(episode.t)}: {', '.join(words)}, {episode.severity}/10"


def episode_text(episode: Episode) -> str:
    """'Lower back, spasm': the few words shown beside an episode's mark, where they fit."""
    words = [DIARY_REGION_NAMES.get(episode.region, episode.region)]
    if episode.kind:
        words.append(DIARY_KIND_NAMES.get(episode.kind, episode.kind))
    return ", ".join(words).capitalize()


_PAIN_GAP_PX = 8.0  # from an episode's mark to its text
_PAIN_MARK_PX = 7.0  # half a mark's width, and a little room


def _pain_labels(axis: TimeAxis, episodes: Sequence[Episode], width_px: float) -> list[str | None]:
    """For each episode (in time order), where its text goes on a chart `width_px` wide:
    "start" (to the right of its mark), "end" (to the left) or None (no room). A text
    never covers another episode's mark or text, nor runs off the chart."""
    per_pct = width_px / 100.0
    xs = [axis.x(e.t) * per_pct for e in episodes]  # pixels from the left
    taken = [(x - _PAIN_MARK_PX, x + _PAIN_MARK_PX) for x in xs]
    placed: list[str | None] = []
    for i, (episode, x) in enumerate(zip(episodes, xs)):
        width = len(episode_text(episode)) * _CHAR_PX
        others = taken[:i] + taken[i + 1 :]
        choice = None
        for anchor, (a, b) in (
            ("start", (x + _PAIN_GAP_PX, x + _PAIN_GAP_PX + width)),
            ("end", (x - _PAIN_GAP_PX - width, x - _PAIN_GAP_PX)),
        ):
            if a >= 0 and b <= width_px and not any(a < right and left < b for left, right in others):
                choice = anchor
                taken.append((a, b))
                break
        placed.append(choice)
    return placed


def timeline_busy(detail: DayDetail, now: float | None = None) -> list[tuple[float, float]]:
    """The moments something is on the timeline (sessions, spans, marks, diary episodes and now)."""
    busy = [(s.start, s.end) for s in detail.sessions + detail.spans] + [(m.t, m.t) for m in detail.marks]
    busy += [(e.t, e.t) for e in detail.episodes]
    if now is not None and detail.start <= now < detail.end:
        busy.append((now, now))
    return busy


def timeline_axis(detail: DayDetail, now: float | None = None) -> TimeAxis:
    """The timeline's stretch of the day (whole hours around everything, and now) with its cuts."""
    lo, hi = detail.window()
    if now is not None and detail.start <= now < detail.end and not detail.empty:
        hour = 3600.0
        lo = min(lo, detail.start + (now - detail.start) // hour * hour)
        hi = max(hi, min(detail.end, detail.start + -(-(now - detail.start) // hour) * hour))
    return TimeAxis(lo, hi, timeline_busy(detail, now))


def timeline(detail: DayDetail, now: float | None = None) -> Markup:
    """The day as lanes of marks under an hour axis; long empty stretches are cut short."""
    axis = timeline_axis(detail, now)
    lo, hi = axis.lo, axis.hi
    x = axis.x

    lanes = [
        Lane("sitting", "Sitting (blue) and breaks (green)", "long_session", 22),
    ]
    if detail.episodes:  # right under the sitting, so an episode lines up with what led to it
        lanes.append(Lane("pain", "Pain you logged in the diary ★", "", 16, href="/diary"))
    lanes += [
        Lane("prompts", "Prompts: ● due ▲ overdue ◆ move", "break_due", 33),
        Lane("lateral", "Leans: left above, right below; twists ◀▶", "lean", 26),
        Lane("posture", "Perching and slumping", "perch", 12),
        Lane("fidgets", "Fidgets", "fidget", 14),
    ]
    if any(s.kind == "fault" for s in detail.spans):
        lanes.append(Lane("faults", "Sensor faults", "fault", 12))

    svg = _Svg()
    svg.raw(_MARKERS)
    axis_h = 18
    tops: dict[str, tuple[float, float]] = {}
    y = axis_h + 4
    for lane in lanes:
        y += 14  # the lane's label line
        tops[lane.key] = (y, y + lane.height)
        y += lane.height + 6
    lanes_bottom = y - 4
    show_now = now is not None and lo <= now <= hi
    height = int(y + (16 if show_now else 0))

    # Cut stretches: hatched, with their length on a wide screen.
    for cut in axis.cuts:
        left, right = x(cut.start), x(cut.end)
        span_text = f"{time_of_day(cut.start)}–{time_of_day(cut.end)}, {duration(cut.end - cut.start)}: shortened"
        svg.add(
            "rect",
            {
                "x": _pct(left),
                "width": _pct(right - left),
                "y": axis_h,
                "height": lanes_bottom - axis_h,
                "class": "cut",
            },
            title=span_text,
        )
        for edge in (left, right):
            svg.add("line", {"x1": _pct(edge), "x2": _pct(edge), "y1": axis_h, "y2": lanes_bottom, "class": "cut-edge"})
        label = duration(cut.end - cut.start).replace(" min", "")
        centre = _pct((left + right) / 2)
        wide = _fits(right - left, label, DESKTOP_PX)
        if wide:  # its length on a wide screen; on a phone an ellipsis (the note under the chart says more)
            svg.add("text", {"x": centre, "y": 12, "text_anchor": "middle", "class": "axis cut-label"}, label)
        svg.add(
            "text",
            {
                "x": centre,
                "y": 12,
                "text_anchor": "middle",
                "class": "axis cut-dots wide-hidden" if wide else "axis cut-dots",
            },
            "⋯",
        )

    # Hour lines everywhere but inside a cut. Labels are chosen twice, for a phone's width and a
    # laptop's, each with room around it and clear of a cut's label; a label only one of the two
    # has shows on that width only.
    hours = []
    hour = lo
    while hour <= hi + 1:
        if not axis.in_cut(hour):
            hours.append(hour)
            svg.add(
                "line", {"x1": _pct(x(hour)), "x2": _pct(x(hour)), "y1": axis_h, "y2": lanes_bottom, "class": "grid"}
            )
        hour += 3600
    phone = _hour_labels(axis, hours, PHONE_PX, 1)  # a phone shows "⋯" at a cut
    desktop = _hour_labels(axis, hours, DESKTOP_PX, 7)  # a laptop "6 h 16"
    for hour in hours:
        if hour not in phone and hour not in desktop:
            continue
        px = x(hour)
        anchor = "start" if px < 3 else ("end" if px > 97 else "middle")
        css = "axis" if hour in phone and hour in desktop else ("axis minor" if hour in desktop else "axis phone-only")
        svg.add("text", {"x": _pct(px), "y": 12, "text_anchor": anchor, "class": css}, time_of_day(hour))

    for lane in lanes:
        top, _ = tops[lane.key]
        href = lane.href or f"/advice#{ADVICE_FOR_EVENT[lane.advice].section}"
        svg.raw(f'<a href="{escape(href)}">')
        svg.add("text", {"x": "0", "y": top - 3, "class": "lane-label"}, lane.label)
        svg.raw("</a>")

    def span_rect(
        lane: str, start: float, end: float, css: str, title: str, rows: tuple[float, float] = (0.0, 1.0)
    ) -> None:
        top, bottom = tops[lane]
        top, bottom = top + (bottom - top) * rows[0], top + (bottom - top) * rows[1]
        left, right = x(max(start, lo)), x(min(end, hi))
        width = max(right - left, 0.35)  # a short span stays visible
        svg.add(
            "rect",
            {"x": _pct(left), "width": _pct(width), "y": top, "height": bottom - top, "class": css, "rx": 2},
            title=title,
        )

    def tick(lane: str, t: float, css: str, title: str) -> None:
        top, bottom = tops[lane]
        px = _pct(x(t))
        svg.add("line", {"x1": px, "x2": px, "y1": top, "y2": bottom, "class": css}, title=title)

    def marker(shape: str, lane: str, row: float, t: float, css: str, title: str) -> None:
        top, bottom = tops[lane]
        svg.add(
            "use", {"href": f"#{shape}", "x": _pct(x(t)), "y": top + (bottom - top) * row, "class": css}, title=title
        )

    for brk in detail.breaks:
        span_rect(
            "sitting",
            brk.start,
            brk.end,
            "break",
            f"Break {time_of_day(brk.start)}–{time_of_day(brk.end)} ({duration(brk.duration_s)})",
        )
    for session in detail.sessions:
        long = session.duration_s > 3600
        css = "session long" if long else "session"
        until = "still seated" if session.open else time_of_day(session.end)
        span_rect(
            "sitting",
            session.start,
            session.end,
            css,
            f"Session {time_of_day(session.start)}–{until} ({duration(session.duration_s)})",
        )
        width = x(min(session.end, hi)) - x(max(session.start, lo))
        text = _short_duration(session.duration_s)
        if _fits(width, text, DESKTOP_PX):  # its length, where it fits: on every screen, or on wide ones
            top, bottom = tops["sitting"]
            svg.add(
                "text",
                {
                    "x": _pct((x(max(session.start, lo)) + x(min(session.end, hi))) / 2),
                    "y": bottom - 7,
                    "text_anchor": "middle",
                    "class": "bar-text" if _fits(width, text, PHONE_PX) else "bar-text minor",
                },
                text,
            )

    rows = {
        "break_due": (0.17, "m-due", "Break due"),
        "break_overdue": (0.5, "m-overdue", "Break overdue"),
        "move": (0.83, "m-move", "Move nudge"),
    }
    for mark in detail.marks:
        when = time_of_day(mark.t)
        if mark.kind in rows:
            row, shape, name = rows[mark.kind]
            marker(shape, "prompts", row, mark.t, f"prompt {mark.kind.replace('_', '-')}", f"{name} at {when}")
        elif mark.kind == "twist":
            side = mark.side if mark.side in ("left", "right") else "right"
            marker(f"m-twist-{side}", "lateral", 0.5, mark.t, "twist", f"Twist to the {mark.side or '?'} at {when}")
        elif mark.kind == "fidget":
            tick("fidgets", mark.t, "fidget", f"Fidget at {when}")
    for item in detail.spans:
        what = f"{time_of_day(item.start)}–{time_of_day(item.end)} ({duration(item.duration_s)})"
        if item.kind == "lean":
            part = (0.0, 0.32) if item.side == "left" else (0.68, 1.0)
            span_rect("lateral", item.start, item.end, f"lean lean-{item.side}", f"Lean {item.side} {what}", part)
        elif item.kind in ("perch", "slump"):
            span_rect("posture", item.start, item.end, item.kind, f"{item.kind.capitalize()} {what}")
        elif item.kind == "fault":
            still = " (still going)" if item.open else ""
            span_rect("faults", item.start, item.end, "fault", f"Fault on {item.label} {what}{still}")

    # Diary episodes: a star each, linked to the entry, with a few words beside it where they fit
    # (decided for a phone's width and a laptop's, as the hour labels are).
    episodes = sorted(detail.episodes, key=lambda e: e.t)
    phone_at = _pain_labels(axis, episodes, PHONE_PX)
    desktop_at = _pain_labels(axis, episodes, DESKTOP_PX)
    for episode, on_phone, on_desktop in zip(episodes, phone_at, desktop_at):
        lane_top, lane_bottom = tops["pain"]
        middle = (lane_top + lane_bottom) / 2
        at_x = _pct(x(episode.t))
        svg.raw(f'<a href="/diary#entry-{int(episode.id)}">')
        svg.add("use", {"href": "#m-pain", "x": at_x, "y": middle, "class": "pain"}, title=episode_title(episode))
        texts = (
            [(on_phone, "pain-label")]
            if on_phone == on_desktop
            else [(on_phone, "pain-label phone-only"), (on_desktop, "pain-label minor")]
        )
        for side_of_mark, css in texts:
            if side_of_mark is not None:
                dx = _PAIN_GAP_PX if side_of_mark == "start" else -_PAIN_GAP_PX
                svg.add(
                    "text",
                    {"x": at_x, "dx": dx, "y": middle + 4, "text_anchor": side_of_mark, "class": css},
                    episode_text(episode),
                )
        svg.raw("</a>")

    if show_now and now is not None:
        pct = x(now)
        now_x = _pct(pct)
        svg.add(
            "line",
            {"x1": now_x, "x2": now_x, "y1": axis_h, "y2": lanes_bottom + 2, "class": "now-line"},
            title=f"Now ({time_of_day(now)})",
        )
        anchor = "start" if pct < 8 else ("end" if pct > 92 else "middle")
        svg.add(
            "text",
            {"x": now_x, "y": height - 3, "text_anchor": anchor, "class": "now-label"},
            f"now {time_of_day(now)}",
        )
    label = f"Timeline of {detail.day.isoformat()} from {time_of_day(lo)} to {time_of_day(hi)}"
    if axis.cuts:
        label += "; shortened: " + ", ".join(f"{time_of_day(c.start)}–{time_of_day(c.end)}" for c in axis.cuts)
    if episodes:
        label += "; " + "; ".join(episode_title(e) for e in episodes)
    return svg.render(height, label, "chart timeline")
