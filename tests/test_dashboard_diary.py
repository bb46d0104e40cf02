"""The pain diary page: two-tap entry, validation, red flags, the hours before, delete, API."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from markupsafe import escape

from dashboard.advice import RED_FLAGS
from device.store import Store
from tests.dashboard_support import post, text


def entries(db_path):
    with Store(db_path) as store:
        return store.diary_latest()


def test_empty_diary_says_so_and_that_nothing_leaves_the_device(client):
    page = text(client.get("/diary"))
    assert "No episodes logged yet." in page
    assert "never sends anything anywhere" in page
    # Two taps: a 0-10 scale, then nine "where" buttons that each save the form.
    assert len(re.findall(r'type="radio" id="sev-\d+" name="severity"', page)) == 11
    assert len(re.findall(r'<button type="submit" name="where" value="\w+-\w+"', page)) == 9
    for flag in RED_FLAGS:
        assert f'value="{flag.key}"' in page


def test_enter_in_the_form_cannot_save_by_accident(client):
    """The first submit button (the one Enter presses) is a disabled one."""
    page = text(client.get("/diary"))
    form = page[page.index('<form method="post" action="/diary"'):]
    first_button = re.search(r"<button[^>]*>", form).group(0)
    assert "disabled" in first_button


def test_two_taps_log_an_episode_now(client, db_path):
    before = datetime.now().astimezone()
    response = post(client, "/diary", {"severity": "6", "where": "lower-left"})
    assert response.status_code == 302 and response.headers["Location"].startswith("/diary#entry-")
    (entry,) = entries(db_path)
    assert (entry["region"], entry["side"], entry["severity"], entry["red_flags"]) == ("lower", "left", 6, [])
    assert abs((datetime.fromisoformat(entry["wall"]) - before).total_seconds()) < 5
    page = text(client.get("/diary"))
    assert "Saved: lower back, left, 6/10." in page
    assert "6/10" in page and "Lower back, left" in page
    assert "Seek medical attention" not in page


def test_an_entry_with_time_note_and_red_flags_round_trips(client, db_path):
    response = post(client, "/diary", {"severity": "8", "where": "middle-right", "when": "2024-05-01T14:30",
                                       "note": "After carrying boxes", "red_flags": ["leg_numbness", "fever"]})
    assert response.status_code == 302
    (entry,) = entries(db_path)
    assert entry["wall"].startswith("2024-05-01T14:30")
    assert entry["note"] == "After carrying boxes"
    assert entry["red_flags"] == ["leg_numbness", "fever"]
    page = text(client.get("/diary"))
    assert "After carrying boxes" in page and "Middle back, right" in page
    # The red flag says plainly to get help, with the flag's own instructions, on the entry...
    assert "Seek medical attention." in page
    assert escape("Call emergency services or go to an emergency department now.") in page
    assert escape("See a doctor today; don't wait to see if it passes.") in page


def test_right_after_saving_a_red_flag_the_page_says_to_seek_help(client):
    response = post(client, "/diary", {"severity": "5", "where": "lower-centre", "red_flags": ["bladder_bowel"]},
                    follow_redirects=True)
    page = text(response)
    assert 'class="flash urgent"' in page
    assert "You ticked a red flag: Losing control of your bladder or bowels." in page
    assert 'class="banner urgent" role="alert"' in page  # and at the top, for a recent one


@pytest.mark.parametrize("form,field,message", [
    ({"where": "lower-left"}, "severity", "Choose how bad it is"),
    ({"severity": "11", "where": "lower-left"}, "severity", "Choose how bad it is"),
    ({"severity": "3"}, "where", "Choose where in the back"),
    ({"severity": "3", "where": "neck-left"}, "where", "Choose where in the back"),
    ({"severity": "3", "where": "lower-left", "when": "yesterday"}, "when", "YYYY-MM-DDTHH:MM"),
    ({"severity": "3", "where": "lower-left", "when": "2999-01-01T10:00"}, "when", "in the future"),
    ({"severity": "3", "where": "lower-left", "red_flags": ["unicorns"]}, "red_flags", "Unknown red flag"),
    ({"severity": "3", "where": "lower-left", "note": "x" * 2001}, "note", "under 2000 characters"),
])
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


def test_the_hours_before_an_episode_next_to_the_usual(client, day_db):
    post(client, "/diary", {"severity": "7", "where": "lower-left", "when": "2024-05-01T12:00"})
    page = text(client.get("/diary"))
    assert "4 h before" in page
    table = page[page.index('<table class="context">'):page.index("</table>")]
    cells = re.findall(r"<th>([^<]+)</th><td[^>]*>([^<]+)</td><td>([^<]+)</td>", table)
    figures = {name: before for name, before, _ in cells}
    # 08:00-12:00 of the fixture day: 50 min + 70 min seated, the longest 70 min, one skipped break prompt.
    assert figures == {"Time seated": "2 h 00 min", "Longest session": "1 h 10 min", "Breaks skipped": "1",
                       "Leaning": "2 min", "Fidgets per hour": "1.5"}  # leaning: 60 s + 30 s
    assert "No usual figures yet" in page  # nothing recorded in the 14 days before


def test_delete_an_entry(client, db_path):
    post(client, "/diary", {"severity": "2", "where": "upper-right"})
    (entry,) = entries(db_path)
    response = post(client, f"/diary/{entry['id']}/delete")
    assert response.status_code == 302 and entries(db_path) == []
    assert post(client, f"/diary/{entry['id']}/delete").status_code == 404


def test_api_diary_round_trip_with_context(client, day_db):
    post(client, "/diary", {"severity": "4", "where": "upper-centre", "when": "2024-05-01T11:30",
                            "red_flags": ["fever"]})
    data = client.get("/api/diary?from=2024-05-01&to=2024-05-01").get_json()
    (entry,) = data["entries"]
    assert (entry["region"], entry["side"], entry["severity"]) == ("upper", "centre", 4)
    assert entry["red_flag_actions"][0]["action"].startswith("See a doctor today")
    assert entry["before"]["before"]["seated_s"] > 0 and entry["before"]["usual"] is None
    assert client.get("/api/diary?from=2024-05-02&to=2024-05-03").get_json()["entries"] == []


def test_old_red_flags_do_not_stay_at_the_top(client, db_path):
    with Store(db_path) as store:
        store.add_diary_entry(datetime.now() - timedelta(days=30), region="lower", side="left", severity=5,
                              red_flags=["fever"])
    page = text(client.get("/diary"))
    assert 'class="banner urgent"' not in page
    assert "Seek medical attention." in page  # still on the entry itself
