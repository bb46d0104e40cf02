"""The settings page: the editable keys as fields, validated like the daemon, saved with a version bump."""

from __future__ import annotations

import html
import re

import pytest

from dashboard import create_app, settings_form
from device.config import EDITABLE_SECTIONS, Config, ConfigError, config_with_settings, key
from device.storage.store import Store
from tests.dashboard_support import post, text, visible


def current_form(client) -> dict:
    """The settings form as the page fills it in (what a browser would send back unchanged)."""
    page = text(client.get("/settings"))
    form = {}
    for name, value in re.findall(r'<input id="[\w-]+" name="([\w.]+)" value="([^"]*)"', page):
        value = html.unescape(value)
        form[name] = value
    for name in re.findall(r'<input type="checkbox" id="[\w-]+" name="([\w.]+)" checked>', page):
        form[name] = "on"
    for name, body in re.findall(r'<select id="[\w-]+" name="([\w.]+)">(.*?)</select>', page, re.S):
        form[name] = re.search(r"<option selected>([^<]+)<", body).group(1)
    return form


def settings(db_path):
    with Store(db_path) as store:
        return store.settings(), store.settings_version()


def test_every_editable_key_is_a_field(client):
    form = current_form(client)
    expected = {
        f"{section}.{f}" for section in EDITABLE_SECTIONS for f in getattr(Config(), section).__dataclass_fields__
    }
    assert set(form) | {"alerts.buzzer_enabled"} == expected
    assert form["breaks.break_after_min"] == "45" and form["alerts.buzzer_enabled"] == "on"


def test_saving_unchanged_settings_changes_nothing(client, db_path):
    response = post(client, "/settings", current_form(client), follow_redirects=True)
    assert "Nothing changed." in text(response)
    assert settings(db_path) == ({}, 0)


def test_a_saved_setting_bumps_settings_version(client, db_path):
    form = current_form(client) | {"breaks.break_after_min": "40", "breaks.quiet_hours": "22:00-07:00, 12:30-13:00"}
    form.pop("alerts.buzzer_enabled")  # the checkbox unticked: buzzer off
    response = post(client, "/settings", form)
    assert response.status_code == 302
    stored, version = settings(db_path)
    assert stored == {
        "breaks.break_after_min": 40.0,
        "breaks.quiet_hours": ["22:00-07:00", "12:30-13:00"],
        "alerts.buzzer_enabled": False,
    }
    assert version == 1
    # What was stored is exactly what the daemon will accept.
    config = config_with_settings(Config(), stored)
    assert config.breaks.break_after_min == 40.0 and not config.alerts.buzzer_enabled
    page = text(client.get("/settings"))
    assert "Saved 3 changes" in page and "settings version 1" in page
    assert 'name="breaks.break_after_min" value="40"' in page


def test_quiet_hours_for_a_work_schedule_are_saved_as_the_daemon_reads_them(client, db_path):
    form = current_form(client) | {"breaks.quiet_hours": "Mon-Fri 18:00-08:00, Sat-Sun"}
    assert post(client, "/settings", form).status_code == 302
    stored, _ = settings(db_path)
    assert stored == {"breaks.quiet_hours": ["Mon-Fri 18:00-08:00", "Sat-Sun"]}
    ranges = config_with_settings(Config(), stored).breaks.quiet_hours
    assert [str(r) for r in ranges] == ["Mon-Fri 18:00-08:00", "Sat-Sun"]
    assert 'value="Mon-Fri 18:00-08:00, Sat-Sun"' in text(client.get("/settings"))


def test_setting_a_value_back_to_the_default_removes_it(client, db_path):
    post(client, "/settings", current_form(client) | {"breaks.repeat_min": "10"})
    assert settings(db_path) == ({"breaks.repeat_min": 10.0}, 1)
    post(client, "/settings", current_form(client) | {"breaks.repeat_min": "15"})
    assert settings(db_path) == ({}, 2)


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("breaks.break_after_min", "-5", "Must be from 1 to 480 min; you entered -5."),
        ("alerts.snooze_min", "1e308", "Must be from 1 to 720 min; you entered 1e+308."),
        ("breaks.repeat_min", "1e-300", "Must be from 1 to 240 min; you entered 1e-300."),
        ("alerts.hold_s", "1e308", "Must be from 0.5 to 10 s; you entered 1e+308."),
        ("detect.lean_start", "0.95", "Must be from 0.05 to 0.9; you entered 0.95."),
        ("alerts.button_pin", "-3", "Must be a GPIO (BCM) number from 0 to 27, or -1 for none; you entered -3."),
        ("breaks.break_after_min", "soon", "Enter a number, not “soon”."),
        ("breaks.quiet_hours", "late", "“late” is not a time range: write it as HH:MM-HH:MM, for example 22:00-07:00,"),
        ("breaks.quiet_hours", "Weekdays 18:00-08:00", "“Weekdays 18:00-08:00”: days are Mon, Tue, Wed, Thu, Fri"),
        ("breaks.quiet_hours", "25:00-07:00", "“25:00-07:00”: hours run from 00 to 23 and minutes from 00 to 59."),
        ("breaks.quiet_hours", "22:00-22:00", "starts and ends at the same time"),
        ("breaks.overdue_after_min", "30", "Must be later than “Break due after” (45 min); you entered 30."),
        ("breaks.break_after_min", "70", "Must be earlier than “Break overdue after” (60 min); you entered 70."),
        ("alerts.buzzer_pin", "4.5", "Enter a whole number, not “4.5”."),
        ("alerts.buzzer_pin", "27", "Pin 27 is already used by “Light pin”; give each its own pin."),
        ("alerts.led_pin", "5", "Pin 5 is already used by the load cells' clock line; give each its own pin."),
        ("alerts.led_pin", "40", "Must be a GPIO (BCM) number from 0 to 27; you entered 40."),
        ("detect.away_kg", "20", "Must not be more than “Seated from” (15 kg); you entered 20."),
        ("detect.seated_kg", "8", "Must not be less than “Away below” (10 kg); you entered 8."),
        ("detect.lean_end", "0.3", "Must not be more than “Lean starts at” (0.2); you entered 0.3."),
        ("alerts.buzzer", "loud", "Choose one of active, passive, none."),
        ("detect.lean_start", "", "Enter a value."),
    ],
)
def test_a_wrong_value_is_explained_next_to_its_field(client, db_path, field, value, message):
    response = post(client, "/settings", current_form(client) | {field: value})
    assert response.status_code == 400
    page = text(response)
    assert "Not saved." in page
    fid = field.replace(".", "-")
    error = re.search(rf'<p class="field-error" id="{fid}-error">([^<]*)</p>', page)
    assert error, f"no message next to {field}"
    shown = html.unescape(error.group(1))
    assert message in shown
    assert shown.endswith(".")
    assert not re.search(r"\b[a-z]+_[a-z_]+\b", shown), "a key name in the message"
    if field != "alerts.buzzer":  # a select: the wrong value cannot be shown in it
        assert f'name="{field}" value="{value}"' in page  # what was typed stays in the field
    assert settings(db_path) == ({}, 0)


def test_the_banner_lists_the_wrong_fields_by_their_labels(client):
    page = text(
        post(client, "/settings", current_form(client) | {"breaks.overdue_after_min": "30", "detect.away_kg": "20"})
    )
    banner = html.unescape(
        page[page.index('class="banner error"') : page.index("</div>", page.index('class="banner error"'))]
    )
    assert 'href="#breaks-overdue_after_min">Break overdue after</a>' in banner
    assert 'href="#detect-away_kg">Away below</a>' in banner
    assert '<details class="card group" open>' in page.replace(" open>", " open>")  # the advanced group opens


def test_two_fields_changed_to_fit_each_other_are_saved_together(client, db_path):
    response = post(
        client, "/settings", current_form(client) | {"breaks.break_after_min": "70", "breaks.overdue_after_min": "90"}
    )
    assert response.status_code == 302
    assert settings(db_path)[0] == {"breaks.break_after_min": 70.0, "breaks.overdue_after_min": 90.0}


def test_every_field_has_a_label_in_words(client):
    """No key names on the page: "Seated after (s)", not "seated hold s"."""
    page = text(client.get("/settings"))
    labels = re.findall(r'<label(?: class="check")? for="([\w-]+)">(?:<input[^>]*> )?([^<]+)', page)
    assert len(labels) == len(settings_form.fields())
    for fid, label in labels:
        # A raw key reads "seated hold s", "fidget speed mm s": underscores or a bare unit at the end.
        assert label.strip() and "_" not in label and not re.search(r"\b(s|kg|mm|min)\s*$", label), (fid, label)
    for raw in ("seated hold s", "fidget speed mm s", "zero track tau s", "seated kg"):
        assert raw not in page.lower()
    for field in settings_form.fields():
        assert field.label == key(field.section, field.key).spec.label and field.help, field.name


def test_reset_asks_first_then_removes_every_stored_setting(client, db_path):
    post(client, "/settings", current_form(client) | {"breaks.still_min": "25"})
    page = visible(client.get("/settings"))
    assert "Reset everything to the config file's values… This puts this setting back" in page
    assert "Move nudge after sitting still for: 25 → 20 min" in page
    # A bare POST (an old page, a stray tap) only asks.
    asked = post(client, "/settings/reset")
    assert asked.status_code == 200 and "Reset the settings?" in visible(asked)
    assert settings(db_path) == ({"breaks.still_min": 25.0}, 1)
    done = post(client, "/settings/reset", {"confirm": "yes"}, follow_redirects=True)
    assert "Back to the config file's values" in visible(done)
    assert settings(db_path) == ({}, 2)


def test_fields_validate_over_the_config_file(db_path, tmp_path):
    config = tmp_path / "cushion.toml"
    config.write_text("[breaks]\nbreak_after_min = 30.0\n")
    app = create_app({"TESTING": True, "DATABASE": str(db_path), "CUSHION_CONFIG": str(config)})
    client = app.test_client()
    form = current_form(client)
    assert form["breaks.break_after_min"] == "30"
    assert "cushion.toml" in text(client.get("/settings"))
    post(client, "/settings", form | {"breaks.break_after_min": "45"})  # the default, but not the file's value
    assert settings(db_path)[0] == {"breaks.break_after_min": 45.0}


def test_device_config_errors_in_the_fields_own_words():
    """The form reads a ConfigError's fields, never its message: a reworded message cannot break it."""

    def said(changed):
        try:
            config_with_settings(Config(), changed)
        except ConfigError as error:
            return settings_form.describe(error, changed)
        raise AssertionError("accepted")

    assert said({"breaks.overdue_after_min": 30}) == (
        ["breaks.overdue_after_min"],
        "Must be later than “Break due after” (45 min); you entered 30.",
    )
    assert said({"detect.twist_peak": 0.1}) == (
        ["detect.twist_peak"],
        "Must not be less than “Lean starts at” (0.2); you entered 0.1.",
    )
    assert said({"detect.seated_kg": 8}) == (
        ["detect.seated_kg"],
        "Must not be less than “Away below” (10 kg); you entered 8.",
    )
    assert said({"alerts.led_pin": 26}) == (
        ["alerts.led_pin"],
        "Pin 26 is already used by a load cell's data line; give each its own pin.",
    )
    assert said({"alerts.snooze_min": 0}) == (["alerts.snooze_min"], "Must be from 1 to 720 min; you entered 0.")
