"""The report for a physiotherapist (/report): the period, the figures per day as the other pages
give them, stand hours, the diary's episodes with the hours before them, and plain words throughout."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest

from dashboard.formatting import count, duration, number
from dashboard.history import episode_contexts, local_midnight, totals_for_days
from dashboard.views import report
from dashboard.views.diary import comparisons
from device.storage.store import Store
from tests.dashboard_support import DAY, text, visible
from tests.sample_history import fill_history


@pytest.fixture
def on(monkeypatch):
    """Make `today` this day for the report (the fixture day's history is in 2024)."""

    def set_today(day: date) -> None:
        monkeypatch.setattr(report, "today", lambda: day)

    return set_today


def day_cells(page: str, day: date) -> dict[str, str]:
    """The figures of a day's row, by their label, as a person reads them."""
    row = re.search(rf'<tr><td class="head-cell"><a href="/day/{day.isoformat()}">.*?</tr>', page, re.S)
    assert row, f"no row for {day}"
    return {label: visible(cell) for label, cell in re.findall(r'<td data-label="([^"]+)"[^>]*>(.*?)</td>', row[0])}


def sum_cells(page: str, name: str) -> dict[str, str]:
    row = re.search(rf'<tr><td class="head-cell">{name} .*?</tr>', page, re.S)
    assert row, f"no {name} row"
    return {label: visible(cell) for label, cell in re.findall(r'<td data-label="([^"]+)"[^>]*>(.*?)</td>', row[0])}


# ---- the period ----------------------------------------------------------------------


def test_default_is_the_last_seven_whole_days(client, day_db, on):
    on(date(2024, 5, 3))  # a Friday: yesterday was Thursday 2 May
    response = client.get("/report")
    assert response.status_code == 200
    page = visible(response)
    assert "Sitting report: 26 April to 2 May 2024 (7 days)" in page
    assert "Friday 26 April 2024 to Thursday 2 May 2024 (7 days)" in page
    assert "from the cushion's own records" in page
    html = text(response)
    assert day_cells(html, DAY)["Seated"] == "2 h 20 min"
    assert html.count('class="no-data"') == 6  # the other six days: "no sitting recorded"
    assert 'aria-current="page">Last 7 days<' in html


def test_an_explicit_day_has_the_fixture_days_figures(client, day_db):
    html = text(client.get("/report?from=2024-05-01&to=2024-05-01"))
    assert "Sitting report: Wednesday 1 May 2024" in visible(html)
    assert day_cells(html, DAY) == {
        "Seated": "2 h 20 min",  # 50 + 70 + 20 min
        "Sessions": "3",
        "Longest": "1 h 10 min ▲ , over 60 minutes",
        "Over 60 min": "1",
        "Breaks taken": "2",
        "Break prompts": "3",
        "Prompts skipped": "1",  # break due at 10:45, then overdue at 11:00 in the same session
        "Stand hours": "3 of 4",  # 9, 11 and 13 o'clock; sat down at 10:00 and stayed past 11:00
        "Leaning left / right": "1 min / 30 s",
        "Perching / slumping": "45 s / 40 s",
        "Fidgets per hour": "1.3",  # 3 fidgets in 2 h 20 min
    }


@pytest.mark.parametrize(
    ("query", "first", "last"),
    [
        ("from=2024-05-01", "Wednesday 1 May 2024", "Tuesday 7 May 2024"),  # 7 days from
        ("to=2024-05-01", "Thursday 25 April 2024", "Wednesday 1 May 2024"),  # 7 days to
        ("from=2024-04-01&to=2024-06-30", "Monday 1 April 2024", "Sunday 30 June 2024"),  # 91 days
    ],
)
def test_from_or_to_alone_and_a_quarter(client, day_db, query, first, last):
    response = client.get(f"/report?{query}")
    assert response.status_code == 200
    assert f"{first} to {last}" in visible(response)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=yesterday", "from: expected a date as YYYY-MM-DD, got 'yesterday'"),
        ("from=2024-02-30&to=2024-03-02", "from: '2024-02-30' is not a real date"),
        ("from=2024-05-01&to=2024/05/07", "to: expected a date as YYYY-MM-DD, got '2024/05/07'"),
        ("from=2024-05-07&to=2024-05-01", "from (2024-05-07) is after to (2024-05-01)"),
        ("from=2024-01-01&to=2024-04-02", "from 2024-01-01 to 2024-04-02 is 93 days; a report covers at most 92 days"),
        ("to=2999-01-01", "to: 2999-01-01 is in the future"),
        ("from=2999-01-01", "from: 2999-01-01 is in the future"),
    ],
)
def test_a_bad_period_is_a_400_that_says_why(client, query, message):
    response = client.get(f"/report?{query}")
    assert response.status_code == 400
    page = visible(response)
    assert message in page
    assert "Back to Report" in page


def test_a_month_is_named_and_moves_by_months(client, day_db):
    html = text(client.get("/report?from=2024-04-01&to=2024-04-30"))
    assert "Sitting report: April 2024" in visible(html)
    assert 'href="/report?from=2024-03-01&amp;to=2024-03-31" rel="prev"' in html
    assert 'href="/report?from=2024-05-01&amp;to=2024-05-31" rel="next"' in html


def test_a_week_moves_by_weeks_and_there_is_no_later_than_today(client, day_db, on):
    on(date(2024, 5, 3))
    html = text(client.get("/report?from=2024-04-22&to=2024-04-28"))
    assert "Sitting report: Week of Monday 22 April 2024" in visible(html)
    assert 'href="/report?from=2024-04-15&amp;to=2024-04-21" rel="prev"' in html
    assert 'href="/report?from=2024-04-29&amp;to=2024-05-03" rel="next"' in html  # cut at today
    latest = text(client.get("/report?from=2024-04-29&to=2024-05-03"))
    assert 'rel="next"' not in latest and "Later &rarr;</span>" in latest


def test_the_periods_offered(client, on):
    on(date(2024, 5, 15))  # a Wednesday
    html = text(client.get("/report"))
    offered = dict((label, href) for href, label in re.findall(r'<a href="(/report\?[^"]+)"[^>]*>([^<]+)</a>', html))
    assert offered["Last 7 days"] == "/report?from=2024-05-08&amp;to=2024-05-14"
    assert offered["Last week (Mon to Sun)"] == "/report?from=2024-05-06&amp;to=2024-05-12"
    assert offered["Last 4 weeks"] == "/report?from=2024-04-17&amp;to=2024-05-14"
    assert offered["Last month (April)"] == "/report?from=2024-04-01&amp;to=2024-04-30"


# ---- empty periods, today, episodes without sitting ------------------------------------------


def test_an_empty_period_says_there_is_no_data(client, day_db):
    response = client.get("/report?from=2024-06-01&to=2024-06-07")
    assert response.status_code == 200
    page = visible(response)
    assert "No data in this period." in page
    assert "Day by day" not in page and "At a glance" not in page


def test_today_is_left_out_of_the_average_until_it_is_over(client, day_db, on):
    on(DAY)
    html = text(client.get("/report?from=2024-04-25&to=2024-05-01"))
    page = visible(html)
    assert "No whole day with sitting recorded yet" in page
    assert "Average day" not in page
    assert sum_cells(html, "Whole period")["Seated"] == "2 h 20 min"

    on(DAY + timedelta(days=1))
    html = text(client.get("/report?from=2024-04-25&to=2024-05-01"))
    assert sum_cells(html, "Average day")["Seated"] == "2 h 20 min"


def test_episodes_show_even_without_sitting(client, db_path):
    with Store(db_path) as store:
        store.add_diary_entry(datetime(2024, 6, 3, 15, 30), region="neck", side="centre", severity=3, kind="ache")
    page = visible(client.get("/report?from=2024-06-01&to=2024-06-07"))
    assert "The cushion recorded no sitting from Saturday 1 June 2024 to Friday 7 June 2024." in page
    assert "3/10 Neck, centre, ache" in page
    assert "No usual figures" in page


# ---- the figures against the other pages ------------------------------------------------


@pytest.fixture(scope="module")
def weeks(tmp_path_factory):
    path = tmp_path_factory.mktemp("weeks") / "history.db"
    with Store(path) as store:
        fill_history(store, date(2024, 4, 1), 35, seed=7)
    return path


def test_every_day_reads_as_totals_for_days_gives_it(weeks):
    from dashboard import create_app

    first, last = date(2024, 4, 8), date(2024, 5, 5)
    client = create_app({"TESTING": True, "DATABASE": str(weeks)}).test_client()
    html = text(client.get(f"/report?from={first}&to={last}"))
    with Store(weeks) as store:
        totals = totals_for_days(store, first, last)
    with_data = [t for t in totals if t.has_data]
    assert len(with_data) >= 15
    for t in with_data:
        cells = day_cells(html, t.day)
        assert cells["Seated"] == duration(t.seated_s)
        assert cells["Sessions"] == count(t.sessions)
        assert cells["Longest"].startswith(duration(t.longest_s))
        assert ("▲" in cells["Longest"]) == (t.longest_s > 3600)
        assert cells["Breaks taken"] == count(t.breaks)
        assert cells["Break prompts"] == count(t.break_prompts)
        assert cells["Prompts skipped"] == count(t.breaks_skipped)
        assert cells["Leaning left / right"] == report.pair(t.lean_left_s, t.lean_right_s)
        assert cells["Perching / slumping"] == report.pair(t.perch_s, t.slump_s)
        assert cells["Fidgets per hour"] == number(t.fidgets_per_hour)
        stood, sat = (int(n) for n in re.fullmatch(r"(\d+) of (\d+)", cells["Stand hours"]).groups())
        assert 0 < stood <= sat <= 24
    # The whole period's row: sums, the longest of all, the fidgets over all the hours seated.
    period = sum_cells(html, "Whole period")
    assert period["Seated"] == duration(sum(t.seated_s for t in with_data))
    assert period["Sessions"] == count(sum(t.sessions for t in with_data))
    assert period["Longest"].startswith(duration(max(t.longest_s for t in with_data)))
    assert period["Breaks taken"] == count(sum(t.breaks for t in with_data))
    seated = sum(t.seated_s for t in with_data)
    assert period["Fidgets per hour"] == number(sum(t.fidgets for t in with_data) / (seated / 3600))
    # The average day is the Trends page's: the mean over the days with data.
    assert sum_cells(html, "Average day")["Seated"] == duration(seated / len(with_data))


def test_the_episodes_with_what_preceded_them_next_to_the_usual(weeks, tmp_path):
    import shutil

    from dashboard import create_app

    path = tmp_path / "history.db"
    shutil.copy(weeks, path)
    with Store(path) as store:
        store.add_diary_entry(
            datetime(2024, 4, 25, 15, 0),
            region="lower",
            side="left",
            severity=7,
            kind="spasm",
            note="After the long meeting",
            red_flags=["fever"],
        )
        store.add_diary_entry(datetime(2024, 4, 26, 11, 0), region="leg", side="right", severity=4, kind="numbness")
        entries = store.diary_between(local_midnight(date(2024, 4, 22)), local_midnight(date(2024, 4, 29)))
        contexts = episode_contexts(store, entries)
    client = create_app({"TESTING": True, "DATABASE": str(path)}).test_client()
    html = text(client.get("/report?from=2024-04-22&to=2024-04-28"))
    page = visible(html)
    assert "Pain diary: episodes and the 4 hours before each" in page
    assert "7/10 Lower back, left, spasm Thu 25 Apr 2024, 15:00" in page
    assert "Red flag noted: A fever together with back spasms." in page
    assert "Note: “After the long meeting”" in page
    # Numbness in a leg is the guide's first red flag, ticked or not (the Diary page's rule).
    assert "Red flag noted: Numbness or weakness in one or both legs." in page
    assert "2 episodes of pain in the diary, worst 7/10; 2 with a red flag" in page
    for entry in entries:
        context = contexts[entry["id"]]
        assert context.usual_days > 0
        for row in comparisons(context):
            marked = " ▲ , more than usual" if row["worse"] else ""
            assert f"{row['name']} {row['before']}{marked} {row['usual']}" in page
        assert f"Usual ({context.usual_days} days)" in page


# ---- stand hours ----------------------------------------------------------------------


def ts(hh: int, mm: int = 0, day: date = DAY) -> float:
    return datetime(day.year, day.month, day.day, hh, mm).timestamp()


def test_stand_hours_count_the_hours_sat_in_with_a_stand_up():
    spans = [
        (1, ts(9, 10), ts(9, 50), False, "[]"),  # arrives 9:10: the hour is seated, and ends with a break
        (2, ts(10, 5), ts(12, 30), False, "[]"),  # the break ran into 10:00-10:05: 10 o'clock counts
        (3, ts(14, 0), ts(15, 40), True, "[]"),  # still open: its last heartbeat is no stand-up
    ]
    stands = [ts(9, 50), ts(11, 20), ts(12, 30)]  # 11:20: up for a moment, the session went on
    # 9, 10, 11, 12 stood; 14 and 15 not.
    assert report.stand_hours(spans, stands, DAY, DAY) == {DAY: (4, 6)}
    # Without the short stand-up at 11:20, 11 o'clock has none.
    assert report.stand_hours(spans, stands[:1], DAY, DAY) == {DAY: (3, 6)}


def test_the_night_is_not_a_stand_up_and_hours_count_on_their_own_day():
    next_day = DAY + timedelta(days=1)
    evening = (1, ts(22, 30), ts(23, 45), False, "[]")
    morning = (2, ts(8, 15, next_day), ts(9, 0, next_day), False, "[]")
    # 22 o'clock seated, 23 stood (went home); the next morning's 8 o'clock: the night is no break,
    # and the end at 9:00 sharp falls in an hour not sat in.
    assert report.stand_hours([evening, morning], [], DAY, next_day) == {DAY: (1, 2), next_day: (0, 1)}
    # A session past midnight: its hours count on their own days, and the stand-up on the new day.
    late = (1, ts(23, 30), ts(0, 20, next_day), False, "[]")
    assert report.stand_hours([late], [ts(0, 20, next_day)], DAY, next_day) == {DAY: (0, 1), next_day: (1, 1)}


def test_sessions_over_the_limit_count_on_the_day_they_began():
    spans = [
        (1, ts(9), ts(10, 1), False, "[]"),
        (2, ts(11), ts(12), False, "[]"),  # exactly an hour: not over
        (3, ts(23, 30), ts(23, 30) + 7200, False, "[]"),
    ]
    assert report.sessions_over_limit(spans, DAY, DAY + timedelta(days=1)) == {DAY: 2, DAY + timedelta(days=1): 0}


def test_two_times_side_by_side_say_the_unit_once_when_they_can():
    assert report.pair(600, 180) == "10 / 3 min"
    assert report.pair(60, 30) == "1 min / 30 s"
    assert report.pair(3900, 2400) == "1 h 05 min / 40 min"
    assert report.pair(0, 0) == "0 / 0 min"


# ---- words, print and links ---------------------------------------------------------------


INTERNAL = ["break_due", "break_overdue", "lean_left_s", "lean_right_s", "perch_s", "seated_s", '_s"', "fidgets_per"]


def test_no_internal_names_none_or_nan(weeks, tmp_path):
    import shutil

    from dashboard import create_app

    path = tmp_path / "history.db"
    shutil.copy(weeks, path)
    with Store(path) as store:
        store.add_diary_entry(datetime(2024, 4, 25, 15, 0), region="hip", side="left", severity=5)
    client = create_app({"TESTING": True, "DATABASE": str(path)}).test_client()
    for query in ("from=2024-04-22&to=2024-04-28", "from=2024-04-01&to=2024-04-30", "from=2024-06-01&to=2024-06-07"):
        html = text(client.get(f"/report?{query}"))
        for name in INTERNAL:
            assert name not in html, (query, name)
        page = visible(html)
        for word in ("None", "nan", "NaN", "lat", "sag", "null", "undefined", "True", "False"):
            assert not re.search(rf"\b{word}\b", page), (query, word)


def test_the_print_button_is_a_script_file_and_the_print_styles_are_the_reports(client, day_db):
    html = text(client.get("/report?from=2024-05-01&to=2024-05-01"))
    assert '<script src="/static/report.js" defer></script>' in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)  # nothing inline: the CSP forbids it
    assert '<button type="button" class="primary" data-print hidden>Print or save as PDF</button>' in html
    assert "Save as PDF" in visible(html)
    assert 'href="/static/report.css"' in html
    script = client.get("/static/report.js")
    assert script.status_code == 200 and b"window.print()" in script.data
    css = client.get("/static/report.css").get_data(as_text=True)
    assert "size: A4 portrait" in css and "@media print" in css and "break-inside: avoid" in css


def test_trends_links_to_the_report_for_the_period_it_shows(client, day_db):
    html = text(client.get("/trends?days=7&end=2024-05-03"))
    assert 'href="/report?from=2024-04-27&amp;to=2024-05-03">A printable report of these 7 days</a>' in html
    html = text(client.get("/trends?days=30&end=2024-05-03"))
    assert 'href="/report?from=2024-04-04&amp;to=2024-05-03">A printable report of these 30 days</a>' in html
    assert "A printable report" not in text(client.get("/trends?days=365&end=2024-05-03"))  # over 92 days
