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

from dashboard.charts.bars import Series, Target, bar_chart, slot_name
from dashboard.charts.timeline import (
    _CHAR_PX,
    Cut,
    Lane,
    TimeAxis,
    _hour_labels,
    episode_title,
    timeline,
    timeline_axis,
    timeline_busy,
)

__all__ = [
    "Cut",
    "Lane",
    "Series",
    "Target",
    "TimeAxis",
    "_CHAR_PX",
    "_hour_labels",
    "bar_chart",
    "episode_title",
    "slot_name",
    "timeline",
    "timeline_axis",
    "timeline_busy",
]
