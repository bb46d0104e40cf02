"""The dashboard on a hub's database (fleet mode): /fleet, the picker, each cushion's pages; and the
Settings page saying what a single cushion shares."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from dashboard import create_app
from device.storage.fleet import FleetStore
from device.storage.received import ReceivedEvent
from device.storage.store import Store
from tests.fleet_support import make_hub


@pytest.fixture
def hub_db(tmp_path):
    """A hub that has heard three cushions: one seated with a break due, one away with a fault, one gone."""
    path = make_hub(tmp_path / "hub.db")
    with Store(FleetStore.history_path_of(path, "desk-1")) as store:
        start = datetime.now().astimezone() - timedelta(minutes=50)
        store.add_received([ReceivedEvent("e1", {"type": "sit", "t": 10.0, "detected_at": 12.0}, start)], 60.0)
    return path


@pytest.fixture
def hub_client(hub_db):
    return create_app({"TESTING": True, "DATABASE": str(hub_db)}).test_client()


def test_the_fleet_page_shows_every_cushion_seated_or_away_its_break_faults_and_today(hub_client):
    page = hub_client.get("/fleet")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "3 cushions: 2 online, 1 seated, 1 with a break due, <strong>1 with a sensor fault</strong>" in html
    rows = {
        m.group(1): m.group(0)
        for m in re.finditer(
            r'<tr class="[^"]*">\s*<td class="head-cell"><a [^>]*>'
            r"(desk-\d)</a>.*?</tr>",
            html,
            re.S,
        )
    }
    assert set(rows) == {"desk-1", "desk-2", "desk-3"}
    assert "Seated" in rows["desk-1"] and "<strong>Due</strong>" in rows["desk-1"] and "2 h" in rows["desk-1"]
    assert "Away" in rows["desk-2"] and "front-left (fl)" in rows["desk-2"]
    assert "Offline" in rows["desk-3"] and 'data-label="Now">—<' in rows["desk-3"]  # its last state is old news
    assert 'http-equiv="refresh"' in html
    data = hub_client.get("/api/fleet").get_json()
    assert [c["id"] for c in data["cushions"]] == ["desk-1", "desk-2", "desk-3"]


def test_a_cushion_is_picked_and_its_pages_show_its_own_history(hub_client):
    assert hub_client.get("/").headers["Location"].endswith("/fleet")  # no cushion picked yet
    now = hub_client.get("/?cushion=desk-1")
    assert now.status_code == 200
    html = now.get_data(as_text=True)
    assert "<option selected>desk-1</option>" in html and "<option>desk-2</option>" in html
    assert hub_client.get("/api/live").get_json()["live"]["seated"] == 1  # the picked cushion's live row
    day = hub_client.get("/day", follow_redirects=True)  # the choice is kept
    assert day.status_code == 200 and "<option selected>desk-1</option>" in day.get_data(as_text=True)
    assert hub_client.get("/trends").status_code == 200
    assert hub_client.get("/device").status_code == 200
    assert hub_client.get("/?cushion=desk-9").status_code == 404


@pytest.mark.parametrize(("page", "says"), [("/settings", "on that cushion"), ("/diary", "never leaves")])
def test_what_belongs_to_a_cushion_alone_is_not_on_the_hub(hub_client, page, says):
    hub_client.get("/?cushion=desk-1")
    response = hub_client.get(page)
    assert response.status_code == 404 and says in response.get_data(as_text=True)
    nav = hub_client.get("/fleet").get_data(as_text=True)
    assert ">Settings<" not in nav and ">Diary<" not in nav and ">Fleet<" in nav


def test_a_single_cushion_dashboard_has_no_fleet_page(client):
    assert client.get("/fleet").status_code == 404
    assert ">Fleet<" not in client.get("/").get_data(as_text=True)


def _settings(db_path, config_text):
    config = db_path.parent / "cushion.toml"
    config.write_text(config_text)
    return create_app({"TESTING": True, "DATABASE": str(db_path), "CUSHION_CONFIG": str(config)}).test_client()


def test_settings_say_nothing_leaves_the_cushion_while_mqtt_is_off(db_path):
    Store(db_path).close()
    html = _settings(db_path, "").get("/settings").get_data(as_text=True)
    assert "Nothing leaves this cushion." in html


def test_settings_say_what_is_shared_with_which_broker_and_whether_connected(db_path):
    with Store(db_path) as store:
        store.set_device_info(
            {"mqtt_status": {"cushion_id": "cushion-1a2b3c4d", "connected": True, "since": "2026-03-02T09:00:00+01:00"}}
        )
    html = (
        _settings(db_path, '[mqtt]\nhost = "192.168.1.10"\nusername = "desk"\n').get("/settings").get_data(as_text=True)
    )
    assert "Shared with the MQTT broker 192.168.1.10:1883" in html and "not encrypted" in html
    assert "cushion-1a2b3c4d" in html and "Connected since" in html
    assert "Your weight: not sent" in html and "Your diary: never sent" in html
    loaded = _settings(db_path, '[mqtt]\nhost = "b"\ntls = true\nport = 8883\npublish_load = true\n')
    html = loaded.get("/settings").get_data(as_text=True)
    assert "encrypted with TLS" in html and "<strong>sent</strong>" in html
