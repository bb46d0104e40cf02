"""The Trends page: charts whose labels stay clear of the bars, a year by weeks, moving between periods."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from dashboard.history import today
from tests.dashboard_support import text, visible
from tests.sample_history import fill_history


@pytest.mark.parametrize("days", [7, 30])
def test_trends_charts_with_the_guides_targets(client, day_db, days):
    page = text(client.get(f"/trends?days={days}&end=2024-05-03"))
    assert page.count('<svg class="chart bars"') == 5
    assert "45 min: stand by now" in page and "60 min: the limit" in page
    assert 'class="target"' in page and 'class="limit"' in page
    assert "Wed 1 May: longest 70 min" in page  # the bar's tooltip
    assert "Averages over the 1 whole day with data." in page


def test_value_labels_have_a_strip_of_their_own_beside_the_bars(client, day_db):
    """On a phone the "60 min" label used to cover the last bar: the labels now sit outside the plot."""
    page = text(client.get("/trends?days=7&end=2024-05-03"))
    longest = page[page.index('id="longest"') :]
    longest = longest[: longest.index("</section>")]
    plot = longest[longest.index('<svg class="chart bars"') : longest.index("</svg>")]
    strip = longest[longest.index('<svg class="chart y-axis"') :]
    assert ">60 min<" in strip and ">45 min<" in strip
    assert ">60 min<" not in plot and ">45 min<" not in plot
    assert '<div class="bar-chart">' in longest


@pytest.fixture(scope="module")
def a_year(tmp_path_factory):
    from device.storage.store import Store

    path = tmp_path_factory.mktemp("year") / "history.db"
    with Store(path) as store:
        fill_history(store, date(2025, 12, 1), 366, seed=4)
    return path


@pytest.fixture
def year_db(a_year, db_path):
    """A year of history, from Mon 1 Dec 2025 (a copy for each test)."""
    import shutil

    shutil.copy(a_year, db_path)
    return db_path


def test_a_year_is_drawn_week_by_week_and_says_so(client, year_db):
    page = text(client.get("/trends?days=365&end=2026-11-30"))
    assert "each bar is a week (Monday to Sunday), the average of its days with data" in page
    longest = page[page.index('id="longest"') :]
    longest = longest[: longest.index("</section>")]
    bars = re.findall(r'<rect [^>]*class="bar longest"><title>([^<]+)</title>', longest)
    assert 50 <= len(bars) <= 54
    assert all(title.startswith("Week of ") and "(average of " in title for title in bars)
    assert "The numbers, week by week" in page


def test_the_year_axis_names_every_month_and_the_years(client, year_db):
    page = text(client.get("/trends?days=365&end=2026-11-30"))
    chart = page[page.index('id="seated"') :]
    chart = chart[: chart.index("</section>")]
    months = re.findall(r'class="axis(?: minor)?">([A-Z][a-z]{2})</text>', chart)
    assert months == ["Dec", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov"]
    # Every other month hides on a phone, January never.
    assert re.search(r'class="axis">Jan</text>', chart) and re.search(r'class="axis minor">Feb</text>', chart)
    # The start's year on a wide screen; on a phone January's year would run into it, five weeks on.
    assert re.findall(r'class="axis year( minor)?">(\d{4})</text>', chart) == [(" minor", "2025"), ("", "2026")]


def test_break_prompts_are_a_marked_figure_not_a_line_to_zero(client, year_db):
    page = text(client.get("/trends?days=365&end=2026-11-30"))
    breaks = page[page.index('id="breaks"') :]
    breaks = breaks[: breaks.index("</section>")]
    assert "<polyline" not in page
    assert 'class="marker prompts"' in breaks and 'class="swatch marker prompts"' in breaks
    assert "skipped" not in breaks.lower()


def test_trends_day_links_and_period_choice(client, day_db):
    page = text(client.get("/trends?days=7&end=2024-05-03"))
    assert 'href="/day/2024-05-01"' in page
    assert 'href="/trends?days=30&amp;end=2024-05-03"' in page
    assert re.search(r'aria-current="page">7 days<', page)


def test_earlier_and_later_periods_are_a_tap_away(client, day_db):
    page = text(client.get("/trends?days=7&end=2024-05-03"))
    assert re.search(r'href="/trends\?days=7&amp;end=2024-04-26" rel="prev"', page)
    assert re.search(r'href="/trends\?days=7&amp;end=2024-05-10" rel="next"', page)
    # The latest period has no later one; the one before today's ends today.
    now = today()
    latest = text(client.get("/trends?days=30"))
    assert 'rel="next"' not in latest
    assert f'end={(now - timedelta(days=30)).isoformat()}" rel="prev"' in latest
    almost = text(client.get(f"/trends?days=7&end={(now - timedelta(days=3)).isoformat()}"))
    assert re.search(r'href="/trends\?days=7" rel="next"', almost)


def test_a_future_end_is_refused_with_a_clear_message(client):
    tomorrow = (today() + timedelta(days=1)).isoformat()
    response = client.get(f"/trends?days=7&end={tomorrow}")
    assert response.status_code == 400
    assert f"end: {tomorrow} is in the future" in visible(response) and "Leave end out" in visible(response)
    assert client.get(f"/api/trends?end={tomorrow}").status_code == 400


def test_the_numbers_table_becomes_labelled_blocks_on_a_phone(client, day_db):
    page = text(client.get("/trends?days=7&end=2024-05-03"))
    table = page[page.index('<table class="numbers stack">') : page.index("</table>")]
    for label in ("Seated", "Longest", "Breaks", "Prompts", "Skipped", "Lean L/R", "Fidgets/h"):
        assert f'data-label="{label}"' in table
    css = text(client.get("/static/style.css"))
    assert "table.stack td[data-label]::before { content: attr(data-label)" in css


def test_trends_without_data_says_so(client):
    page = text(client.get("/trends"))
    assert "No data in this period yet." in page
    assert "<svg" not in page


def test_trends_has_an_export_form_for_its_period(client, day_db):
    page = text(client.get("/trends?days=30&end=2024-05-03"))
    form = page[page.index('<form class="card export"') :]
    assert 'name="from" value="2024-04-04"' in form and 'name="to" value="2024-05-03"' in form


def test_api_trends_of_a_year_has_the_weeks_too(client, year_db):
    data = client.get("/api/trends?days=365&end=2026-11-30").get_json()
    assert len(data["per_day"]) == 365 and 52 <= len(data["per_week"]) <= 54
    week = next(w for w in data["per_week"] if w["days_with_data"])
    assert week["week_of"] and week["longest_s"] > 0


# ---- averages over whole days; counts under their own heading --------------------------------------


@pytest.fixture
def week_to_today(db_path):
    """Six whole days of 6 h 30 min seated (one 70-minute session each, the rest in 50-minute ones),
    then today: 1 h 40 min so far (its 70-minute session already over)."""
    from datetime import datetime

    from device.core.events import Session
    from device.storage.store import Store

    now = today()
    with Store(db_path) as store:
        for back in range(6, -1, -1):
            day = now - timedelta(days=back)
            lengths = [70] + ([50] * 6 + [20] if back else [30])
            t, sessions = 8 * 3600.0, []
            for minutes in lengths:
                sessions.append(Session(t, t + minutes * 60, ()))
                t += minutes * 60 + 600
            store.write_batch(0.0, datetime(day.year, day.month, day.day), sessions=sessions)
            store.end_run()
    return db_path


def summary_of(page: str) -> tuple[str, str]:
    """The average-day part of the summary card and the part under the counts' heading."""
    card = page[page.index('<h2 id="summary-title"') :]
    card = card[: card.index("</section>")]
    split = card.index('<h2 id="period-title"')
    return visible(card[:split]), visible(card[split:])


def test_the_average_day_leaves_out_today_until_it_is_over(client, week_to_today):
    """Before: 'On an average day' 5 h 49 min seated, today's 1 h 40 min so far pulling six days of
    6 h 30 min down; now the average is over whole days, and the page says today is left out."""
    page = text(client.get("/trends?days=7"))
    card = page[page.index('<h2 id="summary-title"') :]
    assert "6 h 30 min seated" in visible(card[: card.index("</section>")])
    average, counts = summary_of(page)
    assert "Averages over the 6 whole days with data; today is left out until it is over." in average
    assert "6 h 30 min seated" in average and "1 h 10 min longest session" in average
    assert "7 days with data, today included" in counts


def test_counts_have_a_heading_of_their_own_not_the_average_days(client, week_to_today):
    """Before: '7 days with a session over an hour' sat under 'On an average day'."""
    average, counts = summary_of(text(client.get("/trends?days=7")))
    assert "with a session over an hour" not in average
    assert counts.startswith("In these 7 days") and "7 days with a session over an hour" in counts


def test_a_period_that_ended_before_today_averages_all_its_days(client, week_to_today):
    last = today() - timedelta(days=1)
    average, counts = summary_of(text(client.get(f"/trends?days=7&end={last.isoformat()}")))
    assert "Averages over the 6 whole days with data." in average and "left out" not in average
    assert "6 days with data" in counts and "today" not in counts


def test_with_only_today_there_is_no_average_yet(client, db_path):
    from datetime import datetime

    from device.core.events import Session
    from device.storage.store import Store

    now = today()
    with Store(db_path) as store:
        store.write_batch(0.0, datetime(now.year, now.month, now.day), sessions=[Session(60.0, 1860.0, ())])
    average, counts = summary_of(text(client.get("/trends?days=7")))
    assert "No whole day with data yet: today is still going." in average and "seated" not in average
    assert "1 day with data, today included" in counts


def test_a_weeks_average_day_leaves_out_today_too(client, week_to_today):
    data = client.get("/api/trends?days=365").get_json()
    this_week = data["per_week"][-1]
    whole = [d for d in data["per_day"] if d["day"] >= this_week["week_of"] and d["day"] < today().isoformat()]
    assert this_week["days_with_data"] == len(whole)
    if whole:  # not on a Monday, when today is the week's only day
        assert this_week["seated_s"] == pytest.approx(6.5 * 3600)


@pytest.mark.parametrize("last_day", [date(2026, 12, 7), date(2026, 12, 8), date(2026, 12, 13)])  # Mon, Tue, Sun
def test_thirty_days_of_mondays_leave_room_for_each_label_before_the_edge(last_day):
    """A Monday near the right edge gets its tick but no label: it would run off the chart or into the
    previous Monday's label on a phone (seen on a Monday, 7 December)."""
    import re

    from dashboard.charts.bars import MONDAY_LABEL_PCT, Series, bar_chart

    slots = [last_day - timedelta(days=29 - i) for i in range(30)]
    svg = str(bar_chart(slots, [Series("Seated", [1.0] * 30, "seated")], label="t", fmt=str))
    xs = [
        float(x) for x in re.findall(r'<text x="([\d.]+)%" y="[\d.]+" text-anchor="\w+" class="axis">\d+ \w{3}<', svg)
    ]
    assert xs and max(xs) <= 100 - MONDAY_LABEL_PCT
    assert all(b - a > 20 for a, b in zip(xs, xs[1:]))  # a week apart
