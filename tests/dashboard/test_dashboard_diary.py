"""The pain diary page: two-tap entry, validation, red flags, the hours before, delete, API."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from dashboard.advice import RED_FLAGS
from device.storage.store import Store
from tests.dashboard_support import MIDNIGHT, at, post, text, visible


def entries(db_path):
    with Store(db_path) as store:
        return store.diary_latest()


def test_empty_diary_says_so_and_that_nothing_leaves_the_device(client):
    page = text(client.get("/diary"))
    assert "No episodes logged yet." in page
    assert "never sends anything anywhere" in page
    # Two taps: a 0-10 scale, then a "where" button per region and side (a hip or a leg has no centre),
    # each saving the form; the kind of pain in between is optional ("not sure" is picked until another is).
    assert len(re.findall(r'type="radio" id="sev-\d+" name="severity"', page)) == 11
    assert len(re.findall(r'<button type="submit" name="where" value="\w+-\w+"', page)) == 5 * 3 + 2 * 2
    assert len(re.findall(r'type="radio" id="kind-\w+" name="kind"', page)) == 5
    assert re.search(r'id="kind-none" name="kind" value="" checked', page)
    for flag in RED_FLAGS:
        assert f'value="{flag.key}"' in page


def test_enter_in_the_form_cannot_save_by_accident(client):
    """The first submit button (the one Enter presses) is a disabled one."""
    page = text(client.get("/diary"))
    form = page[page.index('<form method="post" action="/diary"') :]
    first_button = re.search(r"<button[^>]*>", form).group(0)
    assert "disabled" in first_button


def test_two_taps_log_an_episode_now(client, db_path):
    before = datetime.now().astimezone()
    response = post(client, "/diary", {"severity": "6", "where": "lower-left"})
    assert response.status_code == 302
    (entry,) = entries(db_path)
    # Back to the top of the page, where "Saved" is; the new entry is marked and a link leads to it.
    assert response.headers["Location"] == f"/diary?saved={entry['id']}"
    assert (entry["region"], entry["side"], entry["severity"], entry["red_flags"]) == ("lower", "left", 6, [])
    assert abs((datetime.fromisoformat(entry["wall"]) - before).total_seconds()) < 5
    page = text(client.get(response.headers["Location"]))
    assert "Saved: lower back, left, 6/10, " in page
    assert f'href="#entry-{entry["id"]}">See the new entry below' in page
    assert f'class="card entry just-saved" id="entry-{entry["id"]}"' in page
    assert "6/10" in page and "Lower back, left" in page
    assert "Seek medical attention" not in page


def test_the_time_is_never_filled_in_when_the_page_loads(client):
    """A page left open since the morning must not stamp an afternoon episode with the morning's time."""
    page = text(client.get("/diary"))
    assert re.search(r'<input id="when" type="datetime-local" name="when" value="">', page)
    assert "leave empty for now" in page


def test_an_entry_from_a_page_loaded_hours_ago_gets_the_time_it_is_sent(client, db_path, monkeypatch):
    import dashboard.views.diary as diary

    page = text(client.get("/diary"))  # loaded "in the morning"...
    form = dict(re.findall(r'<input id="when" type="datetime-local" name="(when)" value="([^"]*)"', page))
    later = datetime.now() + timedelta(hours=5)

    class Later(datetime):
        @classmethod
        def now(cls, tz=None):
            return later if tz is None else later.astimezone(tz)

    monkeypatch.setattr(diary, "datetime", Later)  # ... and sent five hours later
    post(client, "/diary", form | {"severity": "4", "where": "middle-centre"})
    (entry,) = entries(db_path)
    assert abs((datetime.fromisoformat(entry["wall"]).replace(tzinfo=None) - later).total_seconds()) < 2


def test_an_entry_with_time_note_and_red_flags_round_trips(client, db_path):
    response = post(
        client,
        "/diary",
        {
            "severity": "8",
            "where": "middle-right",
            "when": "2024-05-01T14:30",
            "note": "After carrying boxes",
            "red_flags": ["leg_numbness", "fever"],
        },
    )
    assert response.status_code == 302
    (entry,) = entries(db_path)
    assert entry["wall"].startswith("2024-05-01T14:30")
    assert entry["note"] == "After carrying boxes"
    assert entry["red_flags"] == ["leg_numbness", "fever"]
    page = visible(client.get("/diary"))
    assert "After carrying boxes" in page and "Middle back, right" in page
    # The red flag says plainly to get help, on the entry.
    assert (
        "Seek medical attention promptly. Red flags noted: Numbness or weakness in one or both legs "
        "A fever together with back spasms"
    ) in page


def test_right_after_saving_a_red_flag_the_page_says_to_seek_help(client):
    response = post(
        client,
        "/diary",
        {"severity": "5", "where": "lower-centre", "red_flags": ["bladder_bowel"]},
        follow_redirects=True,
    )
    page = text(response)
    assert 'class="banner urgent" role="alert"' in page
    assert (
        "Get medical attention promptly. A red flag in the last 7 days: bladder or bowel control. About red flags"
    ) in visible(page)
    assert page.index('class="banner urgent"') < page.index('<form method="post" action="/diary"')


def test_recent_red_flags_make_one_short_banner_above_the_form(client, db_path):
    with Store(db_path) as store:
        for hours, flags in ((1, ["fever"]), (5, ["fever", "leg_numbness"]), (30, ["after_trauma"])):
            store.add_diary_entry(
                datetime.now() - timedelta(hours=hours), region="lower", side="left", severity=7, red_flags=flags
            )
    page = text(client.get("/diary"))
    assert page.count('class="banner urgent"') == 1
    banner = visible(
        page[page.index('class="banner urgent"') : page.index("</p>", page.index('class="banner urgent"'))]
    )
    assert banner.count("fever") == 1
    assert "Red flags in the last 7 days: numb or weak legs, after a fall or blow, fever." in banner
    # The form comes right after it: nothing else stacks up above the two taps.
    between = page[page.index('class="banner urgent"') : page.index('<form method="post" action="/diary"')]
    assert between.count("<p") <= 2


@pytest.mark.parametrize(
    "form,field,message",
    [
        ({"where": "lower-left"}, "severity", "Choose how bad it is"),
        ({"severity": "11", "where": "lower-left"}, "severity", "Choose how bad it is"),
        ({"severity": "3"}, "where", "Choose where it hurts"),
        ({"severity": "3", "where": "elbow-left"}, "where", "Choose where it hurts"),
        ({"severity": "3", "where": "hip-centre"}, "where", "Choose where it hurts"),
        ({"severity": "3", "where": "leg-both"}, "where", "Choose where it hurts"),
        ({"severity": "3", "where": "lower-left", "kind": "burning"}, "kind", "Choose the kind of pain from the list"),
        ({"severity": "3", "where": "lower-left", "when": "yesterday"}, "when", "YYYY-MM-DDTHH:MM"),
        ({"severity": "3", "where": "lower-left", "when": "2999-01-01T10:00"}, "when", "in the future"),
        ({"severity": "3", "where": "lower-left", "red_flags": ["unicorns"]}, "red_flags", "Unknown red flag"),
        ({"severity": "3", "where": "lower-left", "note": "x" * 2001}, "note", "under 2000 characters"),
    ],
)
def test_a_wrong_entry_is_not_saved_and_the_page_says_why(client, db_path, form, field, message):
    response = post(client, "/diary", form)
    assert response.status_code == 400
    page = text(response)
    assert "Not saved" in page and message in page
    assert entries(db_path) == []


def test_what_was_typed_is_kept_when_an_entry_is_refused(client):
    page = text(post(client, "/diary", {"where": "lower-left", "note": "kept", "red_flags": ["fever"]}))
    assert ">kept</textarea>" in page
    assert re.search(r'value="fever" checked', page)


def context_rows(page: str) -> dict[str, tuple[str, str, bool]]:
    """The first entry's "hours before" table: name -> (before, usual, marked as above usual)."""
    table = page[page.index('<table class="context">') : page.index("</table>")]
    rows = re.findall(
        r'<tr><th><a [^>]*>([^<]+)</a></th>\s*<td( class="worse")?>([^<]+?)\s*(?:<span[^<]*</span>'
        r"<span[^<]*</span>)?</td>\s*<td>([^<]+)</td></tr>",
        table,
    )
    return {name: (before, usual, bool(worse)) for name, worse, before, usual in rows}


def test_the_hours_before_an_episode_next_to_the_usual(client, day_db):
    post(client, "/diary", {"severity": "7", "where": "lower-left", "when": "2024-05-01T12:00"})
    page = text(client.get("/diary"))
    assert "4 h before" in page
    figures = {name: before for name, (before, _, _) in context_rows(page).items()}
    # 08:00-12:00 of the fixture day: 50 min + 70 min seated, the longest 70 min, one skipped break prompt.
    assert figures == {
        "Time seated": "2 h 00 min",
        "Longest session": "1 h 10 min",
        "Break prompts skipped": "1",
        "Leaning": "2 min",
        "Fidgets per hour": "1.5",
    }  # leaning: 60 s + 30 s
    assert "No usual figures yet" in page  # nothing recorded in the 14 days before
    assert '<colgroup><col class="what"><col class="before"><col class="usual"></colgroup>' in page


def test_figures_well_above_usual_are_marked(client, store):
    from device.core.events import Lean, Session

    # Ten earlier days: 10:00-11:00 seated with one minute of leaning; the day itself: 13 minutes of it.
    for back in range(1, 11):
        base = -back * 86400.0
        store.write_batch(
            base,
            MIDNIGHT - timedelta(days=back),
            sessions=[Session(base + at(10), base + at(11), ())],
            events=[Lean("left", base + at(10, 10), base + at(10, 11), 0.3, base + at(10, 10, 10))],
        )
    store.write_batch(
        0.0,
        MIDNIGHT,
        sessions=[Session(at(10), at(11), ())],
        events=[Lean("left", at(10, 10), at(10, 23), 0.3, at(10, 10, 10))],
    )
    post(client, "/diary", {"severity": "6", "where": "lower-left", "when": "2024-05-01T12:00"})
    page = text(client.get("/diary"))
    rows = context_rows(page)
    assert rows["Leaning"] == ("13 min", "1 min", True)
    assert rows["Time seated"] == ("1 h 00 min", "1 h 00 min", False)
    assert '▲</span><span class="vh">, more than usual</span>' in page
    assert "more than usual for these hours" in visible(page)


def test_delete_asks_first_and_works_without_javascript(client, db_path):
    post(client, "/diary", {"severity": "2", "where": "upper-right"})
    (entry,) = entries(db_path)
    page = text(client.get("/diary"))
    # One tap opens the question (a <details>, no script needed); the second tap deletes.
    confirm = page[
        page.index('<details class="confirm">') : page.index("</details>", page.index('<details class="confirm">'))
    ]
    assert "<summary>Delete&hellip;</summary>" in confirm or "<summary>Delete…</summary>" in confirm
    assert 'name="confirm" value="yes"' in confirm and "Yes, delete it" in confirm
    # A bare POST (an old page, a stray tap) only asks.
    asked = post(client, f"/diary/{entry['id']}/delete")
    assert asked.status_code == 200 and "Delete this entry?" in visible(asked) and entries(db_path) != []
    response = post(client, f"/diary/{entry['id']}/delete", {"confirm": "yes"})
    assert response.status_code == 302 and entries(db_path) == []
    assert "Deleted the entry of" in visible(client.get("/diary"))
    assert post(client, f"/diary/{entry['id']}/delete", {"confirm": "yes"}).status_code == 404


def test_api_diary_round_trip_with_context(client, day_db):
    post(
        client, "/diary", {"severity": "4", "where": "upper-centre", "when": "2024-05-01T11:30", "red_flags": ["fever"]}
    )
    data = client.get("/api/diary?from=2024-05-01&to=2024-05-01").get_json()
    (entry,) = data["entries"]
    assert (entry["region"], entry["side"], entry["severity"]) == ("upper", "centre", 4)
    assert entry["red_flag_actions"][0]["action"].startswith("Get medical attention promptly")
    assert entry["before"]["before"]["seated_s"] > 0 and entry["before"]["usual"] is None
    assert client.get("/api/diary?from=2024-05-02&to=2024-05-03").get_json()["entries"] == []


def test_old_red_flags_do_not_stay_at_the_top(client, db_path):
    with Store(db_path) as store:
        store.add_diary_entry(
            datetime.now() - timedelta(days=30), region="lower", side="left", severity=5, red_flags=["fever"]
        )
    page = text(client.get("/diary"))
    assert 'class="banner urgent"' not in page
    assert "Seek medical attention promptly." in page  # still on the entry itself


def test_the_diary_export_form_covers_every_entry(client, db_path):
    with Store(db_path) as store:
        store.add_diary_entry(datetime(2023, 3, 9, 10), region="upper", side="left", severity=1)
    page = text(client.get("/diary"))
    form = page[page.index('<form class="card export"') :]
    assert 'name="from" value="2023-03-09"' in form and 'value="diary" selected' in form


# -- regions beyond the back, the kind of pain ------------------------------------------


@pytest.mark.parametrize(
    "where,region,side,words",
    [
        ("neck-centre", "neck", "centre", "Neck, centre"),
        ("upper-left", "upper", "left", "Upper back, left"),
        ("middle-right", "middle", "right", "Middle back, right"),
        ("lower-centre", "lower", "centre", "Lower back, centre"),
        ("buttock-left", "buttock", "left", "Buttock, left"),
        ("hip-right", "hip", "right", "Hip, right"),
        ("leg-left", "leg", "left", "Leg, left"),
    ],
)
def test_each_region_is_taken_and_listed_in_words(client, db_path, where, region, side, words):
    response = post(client, "/diary", {"severity": "4", "where": where})
    assert response.status_code == 302
    (entry,) = entries(db_path)
    assert (entry["region"], entry["side"], entry["kind"]) == (region, side, None)
    page = visible(client.get(response.headers["Location"]))
    assert f"Saved: {words.lower()}, 4/10, " in page
    assert f"4/10 {words} " in page  # the entry's heading


@pytest.mark.parametrize(
    "kind,words",
    [("spasm", "spasm"), ("ache", "ache"), ("sharp", "sharp"), ("numbness", "numbness or tingling")],
)
def test_each_kind_of_pain_is_taken_and_listed_in_words(client, db_path, kind, words):
    response = post(client, "/diary", {"severity": "6", "kind": kind, "where": "lower-left"})
    assert response.status_code == 302
    (entry,) = entries(db_path)
    assert entry["kind"] == kind
    page = visible(client.get("/diary"))
    assert f"Saved: lower back, left, {words}, 6/10, " in page
    assert f"6/10 Lower back, left, {words} " in page


def test_not_sure_of_the_kind_stores_none_and_reads_like_an_old_entry(client, db_path):
    post(client, "/diary", {"severity": "3", "kind": "", "where": "neck-right"})
    with Store(db_path) as store:
        store.add_diary_entry(datetime.now() - timedelta(hours=2), region="lower", side="left", severity=5)
    new, old = entries(db_path)
    assert new["kind"] is None and old["kind"] is None
    page = visible(client.get("/diary"))
    assert "3/10 Neck, right " in page and "5/10 Lower back, left " in page


def test_a_refused_kind_keeps_what_was_picked_and_stores_nothing(client, db_path):
    page = text(post(client, "/diary", {"severity": "5", "kind": "ache"}))  # no "where": refused
    assert re.search(r'id="kind-ache" name="kind" value="ache" checked', page)
    assert 'id="kind-none" name="kind" value="" checked' not in page
    response = post(client, "/diary", {"severity": "5", "kind": "<b>throbbing</b>", "where": "hip-left"})
    assert response.status_code == 400 and entries(db_path) == []
    assert "Choose the kind of pain from the list (spasm, ache, sharp, numbness or tingling)" in visible(response)
    assert "<b>throbbing" not in text(response)


def test_numbness_in_a_leg_is_the_guides_red_flag_ticked_or_not(client, db_path):
    response = post(
        client, "/diary", {"severity": "5", "kind": "numbness", "where": "leg-right"}, follow_redirects=True
    )
    page = visible(response)
    assert "Get medical attention promptly. A red flag in the last 7 days: numb or weak legs." in page
    assert "Seek medical attention promptly. Red flag noted: Numbness or weakness in one or both legs" in page
    (entry,) = entries(db_path)
    assert entry["red_flags"] == []  # derived from what was entered, not stored
    data = client.get("/api/diary").get_json()
    (api_entry,) = data["entries"]
    assert (api_entry["kind"], api_entry["label"]) == ("numbness", "Leg, right, numbness or tingling")
    assert [flag["key"] for flag in api_entry["red_flag_actions"]] == ["leg_numbness"]


def test_numbness_elsewhere_is_not_a_red_flag(client):
    post(client, "/diary", {"severity": "5", "kind": "numbness", "where": "buttock-left"})
    page = visible(client.get("/diary"))
    assert "Buttock, left, numbness or tingling" in page
    assert "medical attention" not in page
