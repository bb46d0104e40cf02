"""The settings page: the editable keys as fields, validated like the daemon, saved with a version bump."""

from __future__ import annotations

import re

import pytest

from dashboard import create_app, settings_form
from device.config import EDITABLE_SECTIONS, Config, config_with_settings
from device.store import Store
from tests.dashboard_support import post, text


def current_form(client) -> dict:
    """The settings form as the page fills it in (what a browser would send back unchanged)."""
    page = text(client.get("/settings"))
    form = {}
    for name, value in re.findall(r'<input id="[\w-]+" name="([\w.]+)" value="([^"]*)"', page):
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
    expected = {f"{section}.{f}" for section in EDITABLE_SECTIONS
                for f in getattr(Config(), section).__dataclass_fields__}
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
    assert stored == {"breaks.break_after_min": 40.0, "breaks.quiet_hours": ["22:00-07:00", "12:30-13:00"],
                      "alerts.buzzer_enabled": False}
    assert version == 1
    # What was stored is exactly what the daemon will accept.
    config = config_with_settings(Config(), stored)
    assert config.breaks.break_after_min == 40.0 and not config.alerts.buzzer_enabled
    page = text(client.get("/settings"))
    assert "Saved 3 changes" in page and "settings version 1" in page
    assert 'name="breaks.break_after_min" value="40"' in page


def test_setting_a_value_back_to_the_default_removes_it(client, db_path):
    post(client, "/settings", current_form(client) | {"breaks.repeat_min": "10"})
    assert settings(db_path) == ({"breaks.repeat_min": 10.0}, 1)
    post(client, "/settings", current_form(client) | {"breaks.repeat_min": "15"})
    assert settings(db_path) == ({}, 2)


@pytest.mark.parametrize("field,value,message", [
    ("breaks.break_after_min", "-5", "Must be positive, got -5.0"),
    ("breaks.break_after_min", "soon", "Enter a number, not 'soon'"),
    ("breaks.quiet_hours", "late", 'Expected "HH:MM-HH:MM", got \'late\''),
    ("alerts.buzzer_pin", "4.5", "Enter a whole number"),
    ("detect.away_kg", "20", "Must not exceed seated_kg"),
    ("alerts.buzzer", "loud", "Choose one of active, passive, none"),
    ("detect.lean_start", "", "Enter a value"),
])
def test_a_wrong_value_is_explained_next_to_its_field(client, db_path, field, value, message):
    response = post(client, "/settings", current_form(client) | {field: value})
    assert response.status_code == 400
    page = text(response)
    assert "Not saved." in page
    fid = field.replace(".", "-")
    error = re.search(rf'<p class="field-error" id="{fid}-error">([^<]*)</p>', page)
    assert error, f"no message next to {field}"
    assert message in error.group(1).replace("&#34;", '"').replace("&#39;", "'")
    if field != "alerts.buzzer":  # a select: the wrong value cannot be shown in it
        assert f'name="{field}" value="{value}"' in page  # what was typed stays in the field
    assert settings(db_path) == ({}, 0)


def test_reset_removes_every_stored_setting(client, db_path):
    post(client, "/settings", current_form(client) | {"breaks.still_min": "25"})
    post(client, "/settings/reset")
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


def test_the_error_message_names_the_field():
    assert settings_form._explain(Exception("settings: [detect] away_kg: must not exceed seated_kg (15.0)")) == (
        "detect.away_kg", "Must not exceed seated_kg (15.0)")
