"""A hub's dashboard in a real browser: the fleet at phone and desktop width, picking a cushion, switching."""

from __future__ import annotations

import time

import pytest

from dashboard import create_app
from tests.browser.conftest import DESKTOP, PHONE, LiveServer, set_viewport
from tests.browser.test_browser import screens_folder
from tests.fleet_support import make_hub


@pytest.fixture
def hub_served(tmp_path):
    hub_db = make_hub(tmp_path / "hub.db", days_of_history=3)
    server = LiveServer(create_app({"DATABASE": str(hub_db)}))
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_fleet_fits_the_screen_and_each_cushion_opens_its_own_pages(browser, hub_served, size, tmp_path_factory):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    folder = screens_folder(tmp_path_factory)
    kind = "phone" if size == PHONE else "desktop"
    width, height = size
    set_viewport(browser, width, height, mobile=size == PHONE)
    browser.delete_all_cookies()
    browser.get(hub_served.url + "/")
    assert browser.current_url.endswith("/fleet")  # nothing picked yet: the fleet first
    assert browser.execute_script("return document.documentElement.scrollWidth") <= width
    summary = browser.find_element(By.CSS_SELECTOR, ".fleet-summary").text
    assert summary.startswith("3 cushions: 2 online, 1 seated, 1 with a break due")
    browser.save_screenshot(str(folder / f"fleet-{kind}.png"))

    browser.find_element(By.LINK_TEXT, "desk-1").click()
    assert Select(browser.find_element(By.ID, "cushion-pick")).first_selected_option.text == "desk-1"
    assert "Seated" in browser.find_element(By.TAG_NAME, "main").text
    browser.save_screenshot(str(folder / f"fleet-now-desk-1-{kind}.png"))

    browser.find_element(By.LINK_TEXT, "Trends").click()
    Select(browser.find_element(By.ID, "cushion-pick")).select_by_visible_text("desk-2")
    browser.find_element(By.CSS_SELECTOR, ".picker button").click()
    time.sleep(0.2)
    assert "/trends" in browser.current_url and "cushion=desk-2" in browser.current_url
    assert Select(browser.find_element(By.ID, "cushion-pick")).first_selected_option.text == "desk-2"
    assert browser.execute_script("return document.documentElement.scrollWidth") <= width
    full = browser.execute_script("return document.documentElement.scrollHeight")
    set_viewport(browser, width, min(full, 6000), mobile=size == PHONE)
    browser.save_screenshot(str(folder / f"fleet-trends-desk-2-{kind}.png"))
    nav = browser.find_element(By.CSS_SELECTOR, "nav").text
    assert "Settings" not in nav and "Diary" not in nav and "Fleet" in nav
