"""Server-rendered SVG charts: the day's timeline and the bar charts of the trends page.

Horizontal positions are percentages and vertical ones pixels, so a chart
fills the width of a phone or a laptop while its text keeps a readable size
(a scaled viewBox would shrink the text to nothing on a phone). Colours come
from the stylesheet through class names, shapes from a few <defs> markers;
every mark has a <title> that browsers show as a tooltip, and the pages
print the same numbers as text. What text fits where is decided for two
widths, a phone's and a laptop's (PHONE_PX, DESKTOP_PX); the stylesheet
hides "minor" text on a phone and "phone-only" text on a wide screen.

The timeline's time axis (`TimeAxis`) cuts long empty stretches short; a bar
chart's value labels sit in a strip of their own beside the plot.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from markupsafe import Markup, escape

from dashboard.advice import ADVICE_FOR_EVENT
from dashboard.formatting import duration, short_date, time_of_day
from dashboard.history import DayDetail


def _pct(value: float) -> str:
    return f"{min(100.0, max(0.0, value)):.3f}%"


_ATTR_NAMES = {"text_anchor": "text-anchor", "class_": "class"}


def _attr(value) -> str:
    """An attribute value: numbers as short decimals, text escaped."""
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    if isinstance(value, int):
        return str(value)
    return str(escape(value))


class _Svg:
    """A few SVG elements, escaped, with optional tooltips."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def add(self, tag: str, attrs: dict, text: str | None = None, title: str | None = None) -> None:
        attributes = "".join(f' {_ATTR_NAMES.get(name, name)}="{_attr(value)}"'
                             for name, value in attrs.items() if value is not None)
        inner = ""
        if title:
            inner += f"<title>{escape(title)}</title>"
        if text is not None:
            inner += str(escape(text))
        self.parts.append(f"<{tag}{attributes}>{inner}</{tag}>" if inner else f"<{tag}{attributes}/>")

    def raw(self, text: str) -> None:
        self.parts.append(text)

    def render(self, height: int, label: str, css: str) -> Markup:
        return Markup(f'<svg class="{css}" width="100%" height="{height}" role="img" '
                      f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">'
                      + "".join(self.parts) + "</svg>")


# ---- the day's timeline ------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Lane:
    key: str
    label: str
    advice: str       # the ADVICE_FOR_EVENT key its label links to
    height: int


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
        gaps = sorted(((b - a, a, b) for (_, a), (b, _) in zip(merged, merged[1:]) if b - a >= GAP_COMPRESS_S),
                      reverse=True)
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
    '<defs>'
    '<circle id="m-due" r="4.5"/>'
    '<path id="m-overdue" d="M0,-5.5 L5.5,4.5 L-5.5,4.5 Z"/>'
    '<path id="m-move" d="M0,-5.5 L5,0 L0,5.5 L-5,0 Z"/>'
    '<path id="m-twist-left" d="M-5.5,0 L4,-5 L4,5 Z"/>'
    '<path id="m-twist-right" d="M5.5,0 L-4,-5 L-4,5 Z"/>'
    '<pattern id="hatch-fault" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
    '<rect width="6" height="6" class="hatch-bg"/><rect width="3" height="6" class="hatch-fg"/></pattern>'
    '<pattern id="hatch-cut" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
    '<rect width="2" height="8" class="cut-stripe"/></pattern>'
    '</defs>'
)


def _hour_labels(axis: TimeAxis, hours: Sequence[float], width_px: float, cut_chars: int) -> set[float]:
    """The hours (of `hours`) to label on a chart `width_px` wide: a round step that leaves room
    between labels, none too close to a cut's label (`cut_chars` characters long)."""
    per_px = axis.virtual_span / width_px            # drawn seconds per pixel
    room = (5 * _CHAR_PX + 12) * per_px              # a label "09:00" and a gap
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


def timeline_busy(detail: DayDetail, now: float | None = None) -> list[tuple[float, float]]:
    """The moments something is on the timeline (sessions, spans, marks and now)."""
    busy = [(s.start, s.end) for s in detail.sessions + detail.spans] + [(m.t, m.t) for m in detail.marks]
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

    lanes = [Lane("sitting", "Sitting (blue) and breaks (green)", "long_session", 22),
             Lane("prompts", "Prompts: ● due ▲ overdue ◆ move", "break_due", 33),
             Lane("lateral", "Leans: left above, right below; twists ◀▶", "lean", 26),
             Lane("posture", "Perching and slumping", "perch", 12),
             Lane("fidgets", "Fidgets", "fidget", 14)]
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
        svg.add("rect", {"x": _pct(left), "width": _pct(right - left), "y": axis_h, "height": lanes_bottom - axis_h,
                         "class": "cut"}, title=span_text)
        for edge in (left, right):
            svg.add("line", {"x1": _pct(edge), "x2": _pct(edge), "y1": axis_h, "y2": lanes_bottom,
                             "class": "cut-edge"})
        label = duration(cut.end - cut.start).replace(" min", "")
        centre = _pct((left + right) / 2)
        wide = _fits(right - left, label, DESKTOP_PX)
        if wide:  # its length on a wide screen; on a phone an ellipsis (the note under the chart says more)
            svg.add("text", {"x": centre, "y": 12, "text_anchor": "middle", "class": "axis cut-label"}, label)
        svg.add("text", {"x": centre, "y": 12, "text_anchor": "middle",
                         "class": "axis cut-dots wide-hidden" if wide else "axis cut-dots"}, "⋯")

    # Hour lines everywhere but inside a cut. Labels are chosen twice, for a phone's width and a
    # laptop's, each with room around it and clear of a cut's label; a label only one of the two
    # has shows on that width only.
    hours = []
    hour = lo
    while hour <= hi + 1:
        if not axis.in_cut(hour):
            hours.append(hour)
            svg.add("line", {"x1": _pct(x(hour)), "x2": _pct(x(hour)), "y1": axis_h, "y2": lanes_bottom,
                             "class": "grid"})
        hour += 3600
    phone = _hour_labels(axis, hours, PHONE_PX, 1)       # a phone shows "⋯" at a cut
    desktop = _hour_labels(axis, hours, DESKTOP_PX, 7)   # a laptop "6 h 16"
    for hour in hours:
        if hour not in phone and hour not in desktop:
            continue
        px = x(hour)
        anchor = "start" if px < 3 else ("end" if px > 97 else "middle")
        css = "axis" if hour in phone and hour in desktop else ("axis minor" if hour in desktop else "axis phone-only")
        svg.add("text", {"x": _pct(px), "y": 12, "text_anchor": anchor, "class": css}, time_of_day(hour))

    for lane in lanes:
        top, _ = tops[lane.key]
        advice = ADVICE_FOR_EVENT[lane.advice].section
        svg.raw(f'<a href="/advice#{escape(advice)}">')
        svg.add("text", {"x": "0", "y": top - 3, "class": "lane-label"}, lane.label)
        svg.raw("</a>")

    def span_rect(lane: str, start: float, end: float, css: str, title: str,
                  rows: tuple[float, float] = (0.0, 1.0)) -> None:
        top, bottom = tops[lane]
        top, bottom = top + (bottom - top) * rows[0], top + (bottom - top) * rows[1]
        left, right = x(max(start, lo)), x(min(end, hi))
        width = max(right - left, 0.35)  # a short span stays visible
        svg.add("rect", {"x": _pct(left), "width": _pct(width), "y": top, "height": bottom - top,
                         "class": css, "rx": 2}, title=title)

    def tick(lane: str, t: float, css: str, title: str) -> None:
        top, bottom = tops[lane]
        px = _pct(x(t))
        svg.add("line", {"x1": px, "x2": px, "y1": top, "y2": bottom, "class": css}, title=title)

    def marker(shape: str, lane: str, row: float, t: float, css: str, title: str) -> None:
        top, bottom = tops[lane]
        svg.add("use", {"href": f"#{shape}", "x": _pct(x(t)), "y": top + (bottom - top) * row, "class": css},
                title=title)

    for brk in detail.breaks:
        span_rect("sitting", brk.start, brk.end, "break",
                  f"Break {time_of_day(brk.start)}–{time_of_day(brk.end)} ({duration(brk.duration_s)})")
    for session in detail.sessions:
        long = session.duration_s > 3600
        css = "session long" if long else "session"
        until = "still seated" if session.open else time_of_day(session.end)
        span_rect("sitting", session.start, session.end, css,
                  f"Session {time_of_day(session.start)}–{until} ({duration(session.duration_s)})")
        width = x(min(session.end, hi)) - x(max(session.start, lo))
        text = _short_duration(session.duration_s)
        if _fits(width, text, DESKTOP_PX):  # its length, where it fits: on every screen, or on wide ones
            top, bottom = tops["sitting"]
            svg.add("text", {"x": _pct((x(max(session.start, lo)) + x(min(session.end, hi))) / 2),
                             "y": bottom - 7, "text_anchor": "middle",
                             "class": "bar-text" if _fits(width, text, PHONE_PX) else "bar-text minor"}, text)

    rows = {"break_due": (0.17, "m-due", "Break due"), "break_overdue": (0.5, "m-overdue", "Break overdue"),
            "move": (0.83, "m-move", "Move nudge")}
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

    if show_now:
        pct = x(now)
        px = _pct(pct)
        svg.add("line", {"x1": px, "x2": px, "y1": axis_h, "y2": lanes_bottom + 2, "class": "now-line"},
                title=f"Now ({time_of_day(now)})")
        anchor = "start" if pct < 8 else ("end" if pct > 92 else "middle")
        svg.add("text", {"x": px, "y": height - 3, "text_anchor": anchor, "class": "now-label"},
                f"now {time_of_day(now)}")
    label = f"Timeline of {detail.day.isoformat()} from {time_of_day(lo)} to {time_of_day(hi)}"
    if axis.cuts:
        label += "; shortened: " + ", ".join(f"{time_of_day(c.start)}–{time_of_day(c.end)}" for c in axis.cuts)
    return svg.render(height, label, "chart timeline")


# ---- bar charts per day or per week -------------------------------------------

AXIS_PX = 52  # the value labels sit in their own strip on the right, clear of the bars


@dataclass(frozen=True, slots=True)
class Series:
    """One series of a bar chart: a value per slot (None: no data). style "bar" or "marker" (a dash)."""

    name: str
    values: Sequence[float | None]
    css: str
    style: str = "bar"


@dataclass(frozen=True, slots=True)
class Target:
    value: float
    label: str
    css: str = "target"


def _nice_max(value: float) -> float:
    """A round number at or above value for the top of the axis."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for factor in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if value <= factor * power:
            return factor * power
    return 10 * power


def slot_name(first_day: date, week: bool) -> str:
    """A slot as the tooltips and tables name it: 'Wed 1 May' or 'Week of Mon 29 Apr'."""
    return f"Week of {short_date(first_day)}" if week else short_date(first_day)


def _day_labels(svg: _Svg, slots: Sequence[date], baseline: float, week: bool) -> int:
    """Labels under the bars; returns the height they take."""
    n = len(slots)
    slot = 100.0 / n

    def anchor_at(pct: float) -> str:
        return "end" if pct > 94 else "start"

    if not week and n <= 10:
        for i, day in enumerate(slots):
            centre = _pct((i + 0.5) * slot)
            svg.add("text", {"x": centre, "y": baseline + 13, "text_anchor": "middle", "class": "axis"},
                    f"{day:%a}")
            svg.add("text", {"x": centre, "y": baseline + 26, "text_anchor": "middle", "class": "axis"},
                    str(day.day))
        return 30
    if not week:
        for i, day in enumerate(slots):
            if day.weekday() == 0:  # Mondays
                svg.add("line", {"x1": _pct(i * slot), "x2": _pct(i * slot), "y1": baseline,
                                 "y2": baseline + 4, "class": "axis-tick"})
                svg.add("text", {"x": _pct(i * slot), "y": baseline + 15, "text_anchor": anchor_at(i * slot),
                                 "class": "axis"}, f"{day.day} {day:%b}")
        return 20
    # Weeks: a month's name at its first week (odd months only on a phone), the year under January.
    years: list[tuple[int, date]] = []
    for i, monday in enumerate(slots):
        first_of_month = i == 0 or monday.month != slots[i - 1].month
        if not first_of_month:
            continue
        if i == 0 and (monday + timedelta(days=14)).month != monday.month:
            continue  # a stub of a month at the start: no room for its name
        pct = i * slot
        css = "axis" if monday.month % 2 == 1 else "axis minor"
        svg.add("line", {"x1": _pct(pct), "x2": _pct(pct), "y1": baseline, "y2": baseline + 4, "class": "axis-tick"})
        svg.add("text", {"x": _pct(pct), "y": baseline + 15, "text_anchor": anchor_at(pct), "class": css},
                f"{monday:%b}")
        if monday.month == 1:
            years.append((i, monday))
    labels = [(i, monday, "axis year") for i, monday in years]
    if not years or years[0][0] > 0:
        # The start's year too; on a phone only if January is far enough along not to run into it.
        labels.insert(0, (0, slots[0], "axis year" if not years or years[0][0] >= 7 else "axis year minor"))
    for i, monday, css in labels:
        pct = i * slot
        svg.add("text", {"x": _pct(pct), "y": baseline + 29, "text_anchor": anchor_at(pct), "class": css},
                f"{monday:%Y}")
    return 33


def _spread(labels: list[list], gap: float = 12.0) -> None:
    """Move value labels ([y, ...], sorted by y) apart so that none overlaps the next."""
    labels.sort(key=lambda item: item[0])
    for before, after in zip(labels, labels[1:]):
        if after[0] - before[0] < gap:
            after[0] = before[0] + gap


def bar_chart(slots: Sequence[date], series: Sequence[Series], *, label: str,
              fmt: Callable[[float], str], targets: Sequence[Target] = (), stacked: bool = False,
              height: int = 130, week: bool = False, counts: Sequence[int] | None = None) -> Markup:
    """Bars per slot (a day, or a week starting on `slots[i]` when `week`): side by side, or stacked.

    fmt formats a value (in the unit the series are in) for the axis and the
    tooltips. Slots without a value (None) have no bar. A "marker" series is
    drawn as a dash across its slot over the bars. counts: for weeks, how many
    days with data each value is the average of (for the tooltips). The value
    labels are a separate strip on the right, so they never cover a bar.
    """
    n = len(slots)
    bars = [s for s in series if s.style == "bar"]
    marks = [s for s in series if s.style == "marker"]
    slot = 100.0 / n
    top = 8
    baseline = top + height
    totals = []
    for i in range(n):
        values = [s.values[i] or 0.0 for s in bars]
        totals.append(sum(values) if stacked else max(values, default=0.0))
    peak = max(totals + [v or 0.0 for s in marks for v in s.values] + [t.value * 1.08 for t in targets] + [0.0])
    y_max = _nice_max(peak)

    def y(value: float) -> float:
        return baseline - value / y_max * height

    plot = _Svg()
    labels: list[list] = []  # [y, text, css] for the axis strip
    for fraction in (0.5, 1.0):
        if fraction < 1 and any(abs(t.value - y_max * fraction) < y_max * 0.12 for t in targets):
            continue  # a target line is there already
        gy = y(y_max * fraction)
        plot.add("line", {"x1": "0", "x2": "100%", "y1": gy, "y2": gy, "class": "grid"})
        labels.append([gy, fmt(y_max * fraction), "axis", gy, "grid"])
    plot.add("line", {"x1": "0", "x2": "100%", "y1": baseline, "y2": baseline, "class": "baseline"})

    inner = 0.8 if n <= 62 else 0.86
    # The bars are most of a long chart: written straight out, each tooltip escaped once.
    out = []
    for i, day in enumerate(slots):
        present = [(s, s.values[i]) for s in series if s.values[i] is not None and (s.values[i] > 0 or s.style == "marker")]
        if not present:
            continue
        about = f" (average of {counts[i]} day{'s' if counts[i] != 1 else ''})" if week and counts else ""
        tip = escape(f"{slot_name(day, week)}: " + ", ".join(f"{s.name} {fmt(v)}" for s, v in present) + about)
        left = i * slot + slot * (1 - inner) / 2
        level = 0.0
        in_bars = [(s, v) for s, v in present if s.style == "bar" and v > 0]
        for s, value in in_bars:
            if stacked:
                top_y, bottom_y, x, width = y(level + value), y(level), left, slot * inner
                level += value
            else:
                width = slot * inner / len(bars)
                top_y, bottom_y, x = y(value), baseline, left + bars.index(s) * width
            out.append(f'<rect x="{x:.3f}%" width="{width:.3f}%" y="{top_y:.1f}" '
                       f'height="{max(0.0, bottom_y - top_y):.1f}" class="bar {s.css}"><title>{tip}</title></rect>')
        for s, value in present:
            if s.style == "marker":
                out.append(f'<rect x="{left:.3f}%" width="{slot * inner:.3f}%" y="{y(value) - 1.5:.1f}" height="3" '
                           f'class="marker {s.css}"><title>{tip}</title></rect>')
    plot.raw("".join(out))
    for target in targets:
        ty = y(target.value)
        plot.add("line", {"x1": "0", "x2": "100%", "y1": ty, "y2": ty, "class": target.css}, title=target.label)
        labels.append([ty, fmt(target.value), f"axis {target.css}-text", ty, target.css])
    below = _day_labels(plot, slots, baseline, week)
    total_height = baseline + below

    strip = _Svg()
    _spread(labels)
    for label_y, text, css, line_y, line_css in labels:
        strip.add("line", {"x1": "0", "x2": "5", "y1": line_y, "y2": line_y, "class": line_css})
        strip.add("text", {"x": "7", "y": label_y + 4, "class": css}, text)
    return Markup('<div class="bar-chart">') + plot.render(total_height, label, "chart bars") + Markup(
        f'<svg class="chart y-axis" width="{AXIS_PX}" height="{total_height}" aria-hidden="true" '
        f'xmlns="http://www.w3.org/2000/svg">' + "".join(strip.parts) + "</svg></div>")
