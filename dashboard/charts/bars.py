"""Bar charts per day or per week, their value labels in a strip of their own beside the plot."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from markupsafe import Markup, escape

from dashboard.charts.svg import _pct, _Svg
from dashboard.formatting import short_date

# ---- bar charts per day or per week -------------------------------------------

MONDAY_LABEL_PCT = 16.0  # a "30 Nov" label's width on a phone's plot, in % of it
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
            svg.add("text", {"x": centre, "y": baseline + 13, "text_anchor": "middle", "class": "axis"}, f"{day:%a}")
            svg.add("text", {"x": centre, "y": baseline + 26, "text_anchor": "middle", "class": "axis"}, str(day.day))
        return 30
    if not week:
        for i, day in enumerate(slots):
            if day.weekday() == 0:  # Mondays
                svg.add(
                    "line",
                    {
                        "x1": _pct(i * slot),
                        "x2": _pct(i * slot),
                        "y1": baseline,
                        "y2": baseline + 4,
                        "class": "axis-tick",
                    },
                )
                if i * slot > 100 - MONDAY_LABEL_PCT:
                    continue  # no room for "30 Nov" before the edge, nor ending at it beside the last one
                svg.add(
                    "text",
                    {"x": _pct(i * slot), "y": baseline + 15, "text_anchor": "start", "class": "axis"},
                    f"{day.day} {day:%b}",
                )
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
        svg.add(
            "text", {"x": _pct(pct), "y": baseline + 15, "text_anchor": anchor_at(pct), "class": css}, f"{monday:%b}"
        )
        if monday.month == 1:
            years.append((i, monday))
    labels = [(i, monday, "axis year") for i, monday in years]
    if not years or years[0][0] > 0:
        # The start's year too; on a phone only if January is far enough along not to run into it.
        labels.insert(0, (0, slots[0], "axis year" if not years or years[0][0] >= 7 else "axis year minor"))
    for i, monday, css in labels:
        pct = i * slot
        svg.add(
            "text", {"x": _pct(pct), "y": baseline + 29, "text_anchor": anchor_at(pct), "class": css}, f"{monday:%Y}"
        )
    return 33


def _spread(labels: list[list], gap: float = 12.0) -> None:
    """Move value labels ([y, ...], sorted by y) apart so that none overlaps the next."""
    labels.sort(key=lambda item: item[0])
    for before, after in zip(labels, labels[1:]):
        if after[0] - before[0] < gap:
            after[0] = before[0] + gap


def bar_chart(
    slots: Sequence[date],
    series: Sequence[Series],
    *,
    label: str,
    fmt: Callable[[float], str],
    targets: Sequence[Target] = (),
    stacked: bool = False,
    height: int = 130,
    week: bool = False,
    counts: Sequence[int] | None = None,
) -> Markup:
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
        present: list[tuple[Series, float]] = []
        for s in series:
            value = s.values[i]
            if value is not None and (value > 0 or s.style == "marker"):
                present.append((s, value))
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
            out.append(
                f'<rect x="{x:.3f}%" width="{width:.3f}%" y="{top_y:.1f}" '
                f'height="{max(0.0, bottom_y - top_y):.1f}" class="bar {s.css}"><title>{tip}</title></rect>'
            )
        for s, value in present:
            if s.style == "marker":
                out.append(
                    f'<rect x="{left:.3f}%" width="{slot * inner:.3f}%" y="{y(value) - 1.5:.1f}" height="3" '
                    f'class="marker {s.css}"><title>{tip}</title></rect>'
                )
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
    return (
        Markup('<div class="bar-chart">')
        + plot.render(total_height, label, "chart bars")
        + Markup(
            f'<svg class="chart y-axis" width="{AXIS_PX}" height="{total_height}" aria-hidden="true" '
            f'xmlns="http://www.w3.org/2000/svg">' + "".join(strip.parts) + "</svg></div>"
        )
    )
