"""Server-rendered SVG charts: the day's timeline and the bar charts of the trends page.

Horizontal positions are percentages and vertical ones pixels, so a chart
fills the width of a phone or a laptop while its text keeps a readable size
(a scaled viewBox would shrink the text to nothing on a phone). Colours come
from the stylesheet through class names; every mark has a <title> that
browsers show as a tooltip, and the pages print the same numbers as text.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

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


def _hour_step(hours: float) -> int:
    for step in (1, 2, 3, 4, 6):
        if hours / step <= 8:
            return step
    return 6


def timeline(detail: DayDetail, now: float | None = None) -> Markup:
    """The day as lanes of marks under an hour axis."""
    lo, hi = detail.window()
    span = hi - lo

    def x(t: float) -> float:
        return (t - lo) / span * 100.0

    lanes = [Lane("sitting", "Sitting (blue) and breaks (green)", "long_session", 22),
             Lane("prompts", "Prompts: break due, overdue, move", "break_due", 16),
             Lane("lateral", "Leans (left above, right below) and twists", "lean", 18),
             Lane("posture", "Perching and slumping", "perch", 12),
             Lane("fidgets", "Fidgets", "fidget", 14)]
    if any(s.kind == "fault" for s in detail.spans):
        lanes.append(Lane("faults", "Sensor faults", "fault", 12))

    svg = _Svg()
    axis_h = 18
    tops: dict[str, tuple[float, float]] = {}
    y = axis_h + 4
    for lane in lanes:
        y += 14  # the lane's label line
        tops[lane.key] = (y, y + lane.height)
        y += lane.height + 6
    height = int(y)

    # Hour lines and labels.
    # Labels every `step` hours; every other one is "minor" and hides on a phone.
    step = _hour_step(span / 3600)
    hour = lo
    index = 0
    while hour <= hi + 1:
        px = x(hour)
        svg.add("line", {"x1": _pct(px), "x2": _pct(px), "y1": axis_h, "y2": height - 4, "class": "grid"})
        if index % step == 0:
            anchor = "start" if px < 3 else ("end" if px > 97 else "middle")
            css = "axis" if (index // step) % 2 == 0 else "axis minor"
            svg.add("text", {"x": _pct(px), "y": 12, "text_anchor": anchor, "class": css}, time_of_day(hour))
        hour += 3600
        index += 1

    for lane in lanes:
        top, _ = tops[lane.key]
        advice = ADVICE_FOR_EVENT[lane.advice].section
        svg.raw(f'<a href="/advice#{escape(advice)}">')
        svg.add("text", {"x": "0", "y": top - 3, "class": "lane-label"}, lane.label)
        svg.raw("</a>")

    def span_rect(lane: str, start: float, end: float, css: str, title: str, part: str = "all") -> None:
        top, bottom = tops[lane]
        if part == "upper":
            bottom = (top + bottom) / 2
        elif part == "lower":
            top = (top + bottom) / 2
        left, right = x(max(start, lo)), x(min(end, hi))
        width = max(right - left, 0.35)  # a short span stays visible
        svg.add("rect", {"x": _pct(left), "width": _pct(width), "y": top, "height": bottom - top,
                         "class": css, "rx": 2}, title=title)

    def tick(lane: str, t: float, css: str, title: str, part: str = "all") -> None:
        top, bottom = tops[lane]
        px = _pct(x(t))
        svg.add("line", {"x1": px, "x2": px, "y1": top, "y2": bottom, "class": css}, title=title)

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
        if width >= 6:  # room for its length; the narrower ones only on a wide screen
            top, bottom = tops["sitting"]
            svg.add("text", {"x": _pct((x(max(session.start, lo)) + x(min(session.end, hi))) / 2),
                             "y": bottom - 7, "text_anchor": "middle",
                             "class": "bar-text" if width >= 13 else "bar-text minor"},
                    _short_duration(session.duration_s))

    names = {"break_due": "Break due", "break_overdue": "Break overdue", "move": "Move nudge"}
    for mark in detail.marks:
        when = time_of_day(mark.t)
        if mark.kind in names:
            top, bottom = tops["prompts"]
            svg.add("circle", {"cx": _pct(x(mark.t)), "cy": (top + bottom) / 2, "r": 5,
                               "class": f"prompt {mark.kind.replace('_', '-')}"},
                    title=f"{names[mark.kind]} at {when}")
        elif mark.kind == "twist":
            tick("lateral", mark.t, "twist", f"Twist to the {mark.side or '?'} at {when}")
        elif mark.kind == "fidget":
            tick("fidgets", mark.t, "fidget", f"Fidget at {when}")
    for item in detail.spans:
        what = f"{time_of_day(item.start)}–{time_of_day(item.end)} ({duration(item.duration_s)})"
        if item.kind == "lean":
            part = "upper" if item.side == "left" else "lower"
            span_rect("lateral", item.start, item.end, f"lean lean-{item.side}", f"Lean {item.side} {what}", part)
        elif item.kind in ("perch", "slump"):
            span_rect("posture", item.start, item.end, item.kind, f"{item.kind.capitalize()} {what}")
        elif item.kind == "fault":
            still = " (still going)" if item.open else ""
            span_rect("faults", item.start, item.end, "fault", f"Fault on {item.label} {what}{still}")

    if now is not None and lo <= now <= hi:
        px = _pct(x(now))
        svg.add("line", {"x1": px, "x2": px, "y1": axis_h, "y2": height - 4, "class": "now-line"},
                title=f"Now ({time_of_day(now)})")
    label = f"Timeline of {detail.day.isoformat()} from {time_of_day(lo)} to {time_of_day(hi)}"
    return svg.render(height, label, "chart timeline")


# ---- bar charts per day --------------------------------------------------------

PLOT_WIDTH = 90.0  # % of the width for the bars; the rest, on the right, holds the axis labels


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    values: Sequence[float | None]
    css: str


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


def _day_labels(svg: _Svg, days: Sequence[date], baseline: float) -> None:
    n = len(days)
    slot = PLOT_WIDTH / n
    if n <= 10:
        for i, day in enumerate(days):
            centre = _pct((i + 0.5) * slot)
            svg.add("text", {"x": centre, "y": baseline + 13, "text_anchor": "middle", "class": "axis"},
                    f"{day:%a}")
            svg.add("text", {"x": centre, "y": baseline + 26, "text_anchor": "middle", "class": "axis"},
                    str(day.day))
    elif n <= 62:
        for i, day in enumerate(days):
            if day.weekday() == 0:  # Mondays
                svg.add("line", {"x1": _pct(i * slot), "x2": _pct(i * slot), "y1": baseline,
                                 "y2": baseline + 4, "class": "axis-tick"})
                anchor = "end" if i * slot > PLOT_WIDTH - 8 else "start"
                svg.add("text", {"x": _pct(i * slot), "y": baseline + 15, "text_anchor": anchor,
                                 "class": "axis"}, f"{day.day} {day:%b}")
    else:
        month_index = 0
        for i, day in enumerate(days):
            if day.day == 1 or i == 0:
                if day.day != 1 and n - i > 20 and (days[min(i + 20, n - 1)].month != day.month):
                    continue  # a stub of a month at the start: no room for its name
                css = "axis" if month_index % 2 == 0 else "axis minor"  # every other one hides on a phone
                svg.add("line", {"x1": _pct(i * slot), "x2": _pct(i * slot), "y1": baseline,
                                 "y2": baseline + 4, "class": "axis-tick"})
                anchor = "end" if i * slot > PLOT_WIDTH - 4 else "start"
                svg.add("text", {"x": _pct(i * slot), "y": baseline + 15, "text_anchor": anchor, "class": css},
                        f"{day:%b}" + (f" {day:%Y}" if day.month == 1 or i == 0 else ""))
                month_index += 1


def bar_chart(days: Sequence[date], series: Sequence[Series], *, label: str,
              fmt: Callable[[float], str], targets: Sequence[Target] = (), stacked: bool = False,
              height: int = 130) -> Markup:
    """Bars per day: side by side for several series, or stacked.

    fmt formats a value (in the unit the series are in) for the axis and the
    tooltips. Days without a value (None) have no bar. Over more than two
    months, side-by-side bars would be slivers: the first series stays bars
    and the others become lines over them.
    """
    n = len(days)
    lines: Sequence[Series] = ()
    if not stacked and len(series) > 1 and n > 62:
        series, lines = series[:1], series[1:]
    slot = PLOT_WIDTH / n
    top = 16  # room for the top gridline's label
    baseline = top + height
    totals = []
    for i in range(n):
        values = [s.values[i] or 0.0 for s in (*series, *lines)]
        totals.append(sum(values) if stacked else max(values, default=0.0))
    peak = max([t for t in totals] + [t.value * 1.08 for t in targets] + [0.0])
    y_max = _nice_max(peak)

    def y(value: float) -> float:
        return baseline - value / y_max * height

    svg = _Svg()
    for fraction in (0.5, 1.0):
        if fraction < 1 and any(abs(t.value - y_max * fraction) < y_max * 0.12 for t in targets):
            continue  # a target line is there already; its label would collide
        gy = y(y_max * fraction)
        svg.add("line", {"x1": "0", "x2": "100%", "y1": gy, "y2": gy, "class": "grid"})
        svg.add("text", {"x": "100%", "y": gy - 3, "text_anchor": "end", "class": "axis halo"}, fmt(y_max * fraction))
    svg.add("line", {"x1": "0", "x2": _pct(PLOT_WIDTH), "y1": baseline, "y2": baseline, "class": "baseline"})

    inner = 0.8 if n <= 62 else 1.0
    # The bars are most of a year's chart: written straight out, each tooltip escaped once.
    bars = []
    for i, day in enumerate(days):
        present = [(s, s.values[i]) for s in series if s.values[i] is not None and s.values[i] > 0]
        if not present:
            continue
        tip = escape(f"{short_date(day)}: " + ", ".join(f"{s.name} {fmt(v)}" for s, v in present))
        left = i * slot + slot * (1 - inner) / 2
        level = 0.0
        for s, value in present:
            if stacked:
                top_y, bottom_y, x, width = y(level + value), y(level), left, slot * inner
                level += value
            else:
                width = slot * inner / len(series)
                top_y, bottom_y, x = y(value), baseline, left + series.index(s) * width
            bars.append(f'<rect x="{x:.3f}%" width="{width:.3f}%" y="{top_y:.1f}" '
                        f'height="{max(0.0, bottom_y - top_y):.1f}" class="bar {s.css}"><title>{tip}</title></rect>')
    svg.raw("".join(bars))
    for line in lines:
        # A nested SVG in day units, stretched to the plot; the stroke keeps its width.
        points = " ".join(f"{i + 0.5},{y(v):.1f}" for i, v in enumerate(line.values) if v is not None)
        svg.raw(f'<svg x="0" y="0" width="{PLOT_WIDTH:g}%" height="{baseline + 1}" viewBox="0 0 {n} {baseline + 1}" '
                f'preserveAspectRatio="none"><polyline points="{points}" class="line {line.css}" '
                f'vector-effect="non-scaling-stroke"><title>{escape(line.name)}</title></polyline></svg>')
    for target in targets:
        ty = y(target.value)
        svg.add("line", {"x1": "0", "x2": "100%", "y1": ty, "y2": ty, "class": target.css}, title=target.label)
        svg.add("text", {"x": "100%", "y": ty - 3, "text_anchor": "end", "class": f"axis halo {target.css}-text"},
                fmt(target.value))
    _day_labels(svg, days, baseline)
    total_height = baseline + (30 if n <= 10 else 20)
    return svg.render(total_height, label, "chart bars")
