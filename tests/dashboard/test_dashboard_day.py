"""The Day page: totals in plain words, a timeline that stays readable, breaks only between sessions."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from dashboard import charts
from dashboard.advice import ADVICE_FOR_EVENT
from dashboard.history import day_detail, local_midnight
from device.core.events import Prompt, Session, Sit, Stand
from device.storage.store import Store
from tests.dashboard_support import DAY, MIDNIGHT, at, text, visible


def timeline_of(page: str) -> str:
    start = page.index('<svg class="chart timeline"')
    return page[start : page.index("</svg>", start)]


def test_day_page_totals_timeline_and_links(client, day_db):
    page = text(client.get(f"/day/{DAY}"))
    seen = visible(page)
    assert "Wednesday 1 May 2024" in seen
    assert "2 h 20 min seated" in seen
    assert "1 h 10 min longest session" in seen
    assert "2 / 3 breaks taken / break prompts" in seen  # two breaks between three sessions
    assert "1 min / 30 s leaning left / right" in seen
    assert "1.3 fidgets per hour seated" in seen
    assert '<svg class="chart timeline"' in page
    assert page.count('class="session') >= 3 and 'class="session long"' in page
    assert "Twist to the right at 09:30" in page and "Break overdue at 11:00" in page
    assert "Fault on fr" in page
    assert 'href="/day/2024-04-30"' in page and 'href="/day/2024-05-02"' in page
    for kind in ("lean", "twist", "perch", "slump", "fidget", "break_due", "move", "fault", "long_session"):
        assert f'href="/advice#{ADVICE_FOR_EVENT[kind].section}"' in page, kind
    assert ADVICE_FOR_EVENT["twist"].text in page  # "What to try"


def test_day_wording_is_singular_or_plural_as_it_should_be(client, day_db):
    seen = visible(client.get(f"/day/{DAY}"))
    assert ("3 sessions, 2 leans, 1 twist, 1 perch, 1 slump, 1 move nudge, 3 fidgets, 1 sensor fault.") in seen
    for item in (
        "A session went over an hour.",
        "1 break prompt was not followed by a break.",
        "2 leans.",
        "1 twist.",
        "1 perch.",
        "1 slump.",
        "1 sensor fault.",
    ):
        assert item in seen, item
    assert "(s)" not in seen and "(es)" not in seen


def test_how_many_sessions_went_over_an_hour(client, store):
    spans = [(at(8), at(9, 10)), (at(9, 20), at(10, 30)), (at(10, 40), at(11, 50)), (at(12), at(13, 5))]
    store.write_batch(
        0.0,
        MIDNIGHT,
        sessions=[Session(a, b, ()) for a, b in spans],
        events=[e for a, b in spans for e in (Sit(a, a + 1), Stand(b, b + 1))],
    )
    seen = visible(client.get(f"/day/{DAY}"))
    assert "4 sessions went over an hour." in seen and "A session went over an hour" not in seen


def test_two_figures_never_break_inside_one(client, day_db):
    page = text(client.get(f"/day/{DAY}"))
    assert '<span class="nw">1 min</span> <small>/</small> <span class="nw">30 s</span>' in page
    assert ".nw { white-space: nowrap; }" in text(client.get("/static/style.css"))


def test_day_page_sessions_table(client, day_db):
    page = text(client.get(f"/day/{DAY}"))
    rows = re.findall(r"<tr[^>]*>\s*<td>(\d\d:\d\d)</td>\s*<td>(\d\d:\d\d)</td>\s*<td>([^<]+)</td>", page)
    assert rows == [("09:00", "09:50", "50 min"), ("10:00", "11:10", "1 h 10 min"), ("13:00", "13:20", "20 min")]
    assert re.search(r">break due</a>, <a[^>]*>break overdue</a>", page)


def test_only_gaps_between_sessions_are_drawn_as_breaks(client, day_db):
    svg = timeline_of(text(client.get(f"/day/{DAY}")))
    assert svg.count('class="break"') == 2
    assert "Break 09:50–10:00" in svg and "Break 11:10–13:00" in svg
    assert not re.search(r"Break 13:20", svg)


def write_evening_day(store):
    """A working day, lunch at home, and an evening session hours later."""
    spans = [(at(9), at(10)), (at(10, 5), at(11, 30)), (at(13, 30), at(15)), (at(21, 40), at(22, 10))]
    events = [e for a, b in spans for e in (Sit(a, a + 1), Stand(b, b + 1))]
    events += [Prompt("break_due", at(9, 45), at(9, 45)), Prompt("move", at(9, 46), at(9, 46))]
    store.write_batch(0.0, MIDNIGHT, sessions=[Session(a, b, ()) for a, b in spans], events=events)


def test_long_empty_stretches_are_cut_short_and_said_so(client, store):
    write_evening_day(store)
    axis = charts.timeline_axis(day_detail(store, DAY))
    midnight = local_midnight(DAY).timestamp()
    assert [(round(c.start - midnight), round(c.end - midnight)) for c in axis.cuts] == [(at(15, 15), at(21, 25))]
    # The working day keeps most of the width: 09:00-15:00 is over 70% of it; the lunch at home stays to scale.
    assert axis.x(midnight + at(15)) - axis.x(midnight + at(9)) > 70
    page = text(client.get(f"/day/{DAY}"))
    assert "Not to scale where hatched: 15:15–21:25 (6 h 10 min)" in visible(page)
    svg = timeline_of(page)
    assert 'class="cut"' in svg and "shortened: 15:15–21:25" in svg
    assert "Break 15:00–21:40" in svg  # still a break: between two sessions of the day


def test_a_working_day_with_a_long_lunch_is_drawn_to_scale(client, day_db):
    with Store(client.application.config["DATABASE"]) as store:
        axis = charts.timeline_axis(day_detail(store, DAY))
    assert axis.cuts == []  # 09:00-14:00 fits a phone as it is, lunch and all
    assert "Not to scale" not in visible(client.get(f"/day/{DAY}"))


def test_prompts_have_their_own_row_and_shape(client, store):
    """A move nudge a minute after a break-due prompt is not hidden under it: other row, other shape."""
    write_evening_day(store)
    svg = timeline_of(text(client.get(f"/day/{DAY}")))
    due = re.search(r'<use href="#m-due" x="[\d.]+%" y="([\d.]+)" class="prompt break-due">', svg)
    move = re.search(r'<use href="#m-move" x="[\d.]+%" y="([\d.]+)" class="prompt move">', svg)
    assert due and move and float(move.group(1)) - float(due.group(1)) >= 12


def test_the_now_line_is_labelled(client, store):
    now = datetime.now()
    # Sitting for the last 40 minutes, or since midnight if that was sooner.
    start = max(now - timedelta(minutes=40), now - (now - now.replace(hour=0, minute=0, second=0, microsecond=0)) / 2)
    seated_s = (now - start).total_seconds()
    store.write_batch(0.0, start, sessions=[Session(0.0, None, ())], events=[Sit(0.0, min(1.0, seated_s))])
    store.write_batch(seated_s, now, sessions=[Session(0.0, None, ())])
    svg = timeline_of(text(client.get(f"/day/{now.date()}")))
    assert re.search(rf'class="now-label">now {now:%H}:\d\d</text>', svg)


def test_empty_day_says_nothing_was_recorded(client):
    page = text(client.get(f"/day/{DAY}"))
    assert "Nothing recorded on this day." in page
    assert '<svg class="chart' not in page


def test_day_without_a_date_goes_to_today(client):
    response = client.get("/day")
    assert response.status_code == 302 and response.headers["Location"] == f"/day/{datetime.now().date()}"
    assert client.get("/day?date=2024-05-01").headers["Location"] == "/day/2024-05-01"


def test_today_has_no_link_to_tomorrow(client):
    page = text(client.get(f"/day/{datetime.now().date()}"))
    assert 'rel="next"' not in page and "today" in page


@pytest.mark.parametrize("what", ["sessions", "events"])
def test_the_day_has_an_export_form_for_any_range(client, day_db, what):
    page = text(client.get(f"/day/{DAY}"))
    form = page[page.index('<form class="card export"') :]
    form = form[: form.index("</form>")]
    assert 'method="get" action="/export"' in form
    assert 'name="from" value="2024-05-01"' in form and 'name="to" value="2024-05-01"' in form
    assert f'value="{what}"' in form and 'value="csv"' in form and 'value="json"' in form


@pytest.mark.parametrize("width_px, cut_chars", [(320.0, 1), (900.0, 7)])
def test_hour_labels_clear_each_other_and_a_cut_at_every_time_of_the_evening(width_px, cut_chars):
    # A day with a long empty stretch before an evening session (or before
    # now, looked at late), drawn up to "now" at any minute: the labels at the
    # chart's ends are anchored to the end, so they reach inwards and must
    # still clear the cut's label.
    from datetime import datetime as dt

    from dashboard.charts import _CHAR_PX, TimeAxis, _hour_labels

    day = dt(2026, 12, 1).timestamp()
    for minutes, evening in ((m, e) for m in range(21 * 60 + 40, 24 * 60, 7) for e in (True, False)):
        now = day + minutes * 60
        # An evening session until now, or nothing since 15:00 but now itself.
        busy = [(day + 9 * 3600, day + 15 * 3600), (day + 21.5 * 3600 if evening else now, now)]
        lo, hi = day + 8 * 3600, day + (minutes // 60 + 1) * 3600
        axis = TimeAxis(lo, hi, busy)
        hours = [h for h in range(int(lo), int(hi) + 1, 3600) if not axis.in_cut(h)]
        boxes = []
        for hour in sorted(_hour_labels(axis, hours, width_px, cut_chars)):
            px = axis.x(hour) / 100 * width_px
            w = 5 * _CHAR_PX
            left = px if axis.x(hour) < 3 else (px - w if axis.x(hour) > 97 else px - w / 2)
            boxes.append((left, left + w))
        for cut in axis.cuts:
            centre = axis.x((cut.start + cut.end) / 2) / 100 * width_px
            boxes.append((centre - cut_chars * _CHAR_PX / 2, centre + cut_chars * _CHAR_PX / 2))
        boxes.sort()
        for (_, a1), (b0, _) in zip(boxes, boxes[1:]):
            assert a1 <= b0, (minutes, boxes)


# -- pain logged in the diary, on the timeline --------------------------------------------


def test_a_diary_episode_is_drawn_on_the_timeline_with_its_words(client, day_db):
    with Store(day_db) as store:
        entry_id = store.add_diary_entry(
            MIDNIGHT.replace(hour=12), region="lower", side="left", severity=6, kind="spasm"
        )
    page = text(client.get(f"/day/{DAY}"))
    svg = timeline_of(page)
    # A star on a lane of its own, linked to the entry, its words in the tooltip and beside it.
    assert re.search(
        rf'<a href="/diary#entry-{entry_id}"><use href="#m-pain" x="[\d.]+%" y="[\d.]+" class="pain">'
        r"<title>Pain at 12:00: lower back, left, spasm, 6/10</title></use>",
        svg,
    )
    assert re.search(r'class="pain-label">Lower back, spasm</text></a>', svg)
    assert ">Pain you logged in the diary ★</text>" in svg and '<a href="/diary">' in svg
    # The text alternative: the chart's label, and the list under it.
    label = re.search(r'aria-label="([^"]*)"', svg).group(1)
    assert label.endswith("; Pain at 12:00: lower back, left, spasm, 6/10")
    seen = visible(page)
    assert "In your diary for this day: Pain at 12:00: lower back, left, spasm, 6/10" in seen
    assert f'href="/diary#entry-{entry_id}"><span class="swatch shape pain"' in page
    assert "Pain you logged (diary)" in seen  # in the legend


def test_an_episode_without_a_kind_reads_as_where_and_how_bad(client, day_db):
    with Store(day_db) as store:
        store.add_diary_entry(MIDNIGHT.replace(hour=9, minute=40), region="upper", side="centre", severity=3)
    svg = timeline_of(text(client.get(f"/day/{DAY}")))
    assert "<title>Pain at 09:40: upper back, centre, 3/10</title>" in svg
    assert 'class="pain-label">Upper back</text>' in svg


def test_no_pain_lane_on_a_day_without_episodes(client, day_db):
    page = text(client.get(f"/day/{DAY}"))
    assert "m-pain" in page  # the shape is defined...
    assert 'class="pain"' not in page and "Pain you logged" not in page and "In your diary" not in page  # ...unused


def test_an_evening_episode_widens_the_timeline_and_is_never_cut_away(client, day_db):
    with Store(day_db) as store:
        store.add_diary_entry(MIDNIGHT.replace(hour=19, minute=30), region="leg", side="right", severity=5)
        detail = day_detail(store, DAY)
    (episode,) = detail.episodes
    axis = charts.timeline_axis(detail)
    assert axis.hi >= episode.t and not axis.in_cut(episode.t)
    assert axis.cuts  # 13:20-19:30 is empty on the cushion: drawn short, up to the episode
    assert 'class="pain-label">Leg</text>' in timeline_of(text(client.get(f"/day/{DAY}")))


def test_episodes_close_together_keep_their_words_apart():
    """Episodes minutes apart: on each width no text covers another's text or mark, none runs off."""
    from dashboard.charts import _CHAR_PX, TimeAxis
    from dashboard.charts.timeline import _pain_labels, episode_text
    from dashboard.history import Episode

    day = datetime(2026, 12, 1).timestamp()
    episodes = [
        Episode(1, day + 9.5 * 3600, "lower", "left", "spasm", 6),
        Episode(2, day + 9.6 * 3600, "neck", "right", "ache", 3),
        Episode(3, day + 17.9 * 3600, "leg", "left", "numbness", 4),
    ]
    axis = TimeAxis(day + 8 * 3600, day + 18 * 3600, [(e.t, e.t) for e in episodes])
    for width in (320.0, 900.0):
        placed = _pain_labels(axis, episodes, width)
        assert placed[2] == "end"  # the last one reaches back from the chart's end
        # Six minutes apart: both have words on a laptop (one each side); on a phone the marks
        # touch and only the second has room for its words.
        assert placed[:2] == (["end", "start"] if width == 900.0 else [None, "start"])
        marks, words = [], []
        for e, anchor in zip(episodes, placed):
            x = axis.x(e.t) / 100 * width
            marks.append((x - 6, x + 6))
            w = len(episode_text(e)) * _CHAR_PX
            if anchor == "start":
                words.append((x + 8, x + 8 + w))
            elif anchor == "end":
                words.append((x - 8 - w, x - 8))
        assert all(0 <= a and b <= width for a, b in words)
        for i, (a, b) in enumerate(words):
            for c, d in marks + words[:i]:
                assert b <= c or d <= a, (width, (a, b), (c, d))


def test_a_day_with_only_a_diary_episode_lists_it(client, db_path):
    with Store(db_path) as store:
        entry_id = store.add_diary_entry(MIDNIGHT.replace(hour=16), region="hip", side="left", severity=4, kind="ache")
    page = text(client.get(f"/day/{DAY}"))
    assert "Nothing recorded on this day." in page and '<svg class="chart' not in page
    assert "In your diary for this day: Pain at 16:00: hip, left, ache, 4/10" in visible(page)
    assert f'href="/diary#entry-{entry_id}"' in page
