"""The Advice page, and what every page owes it: each event kind shown anywhere links to its advice."""

from __future__ import annotations

import re

from markupsafe import escape

from dashboard.advice import ADVICE_FOR_EVENT, RED_FLAGS, SECTIONS, SEEK_HELP
from tests.dashboard_support import DAY, post, text, visible
from tests.sample_history import live_values


def test_advice_page_has_every_section_with_red_flags_first(client):
    page = text(client.get("/advice"))
    for section in SECTIONS:
        assert f'id="{section.id}"' in page and escape(section.title) in page
    for flag in RED_FLAGS:
        assert escape(flag.label) in page
    urgent = page.index('class="card urgent" id="red-flags"')
    assert urgent < page.index('id="spasm-now"') and urgent < page.index("Contents")


def test_the_red_flag_box_says_one_thing_for_all_of_them(client):
    page = text(client.get("/advice"))
    box = visible(page[page.index('id="red-flags"') : page.index("</section>", page.index('id="red-flags"'))])
    assert "get medical attention promptly" in box.lower()
    assert "soon" not in box and "appointment" not in box and "emergency" not in box.lower()
    assert SEEK_HELP.split(";")[0].lower() in box.lower()


def test_the_advice_page_shows_no_repository_paths(client):
    assert not re.search(r"\b\w+/[\w-]+\.md\b", visible(client.get("/advice")))


def test_every_event_kind_on_the_now_page_links_to_its_advice(client, store):
    store.set_live(live_values(sitting_s=1800.0))
    page = text(client.get("/"))
    for kind in ("lean", "perch", "fidget"):
        assert f'href="/advice#{ADVICE_FOR_EVENT[kind].section}"' in page, kind


def test_every_event_kind_on_the_day_page_links_to_its_advice(client, day_db):
    page = text(client.get(f"/day/{DAY}"))
    for kind in ADVICE_FOR_EVENT:
        assert f'href="/advice#{ADVICE_FOR_EVENT[kind].section}"' in page, kind
    # The fidget lane and the fidget legend go to the section about moving in the chair, not the top of /advice.
    main = page[page.index("<main>") :]
    assert 'href="/advice#in-chair-movement"' in main and 'href="/advice"' not in main


def test_every_row_of_the_diarys_comparison_links_to_its_advice(client, day_db):
    post(client, "/diary", {"severity": "5", "where": "lower-left", "when": "2024-05-01T12:00"})
    page = text(client.get("/diary"))
    table = page[page.index('<table class="context">') : page.index("</table>")]
    links = dict(
        (name, anchor) for anchor, name in re.findall(r'<th><a href="/advice#([\w-]+)">([^<]+)</a></th>', table)
    )
    assert links == {
        "Time seated": "movement",
        "Longest session": "movement",
        "Break prompts skipped": "movement",
        "Leaning": "desk",
        "Fidgets per hour": "in-chair-movement",
    }


def test_every_trends_chart_links_to_its_advice(client, day_db):
    page = text(client.get("/trends?days=7&end=2024-05-03"))
    for chart in ("seated", "longest", "breaks", "lean", "fidgets"):
        section = page[page.index(f'id="{chart}"') :]
        section = section[: section.index("</section>")]
        assert re.search(r'<a href="/advice#[\w-]+">Advice</a>', section), chart
