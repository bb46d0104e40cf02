"""The dashboard in a real browser: live updates, the diary form, phone-width layout.

Screenshots of every page at phone and desktop width go to $CUSHION_SCREENS
(default: a temporary folder), never into the repository.
"""

from __future__ import annotations

import os
import re
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from tests.browser.conftest import DESKTOP, PHONE, set_viewport


def wait_for(predicate, timeout: float = 8.0, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


def seconds_of(timer: str) -> int:
    parts = [int(p) for p in timer.split(":")]
    total = 0
    for part in parts:
        total = total * 60 + part
    return total


def test_now_page_timer_advances_with_the_live_row(browser, served, daemon):
    from selenium.webdriver.common.by import By

    set_viewport(browser, *DESKTOP)
    assert wait_for(lambda: daemon.writes >= 2)
    browser.get(served.url + "/")
    timer = browser.find_element(By.ID, "sitting-timer")
    first = timer.text
    assert re.fullmatch(r"\d+:\d\d(:\d\d)?", first), first
    advanced = wait_for(lambda: seconds_of(timer.text) >= seconds_of(first) + 2, timeout=6)
    assert advanced, f"timer stayed at {timer.text!r} (started at {first!r})"
    stale = browser.find_element(By.CSS_SELECTOR, "[data-show=stale]")
    assert not stale.is_displayed()
    assert browser.find_element(By.CSS_SELECTOR, "[data-live=status_text]").text == "Seated"


def test_now_page_says_stale_when_the_daemon_stops(browser, served, daemon):
    from selenium.webdriver.common.by import By

    set_viewport(browser, *DESKTOP)
    assert wait_for(lambda: daemon.writes >= 1)
    browser.get(served.url + "/")
    daemon.stop()
    stale = browser.find_element(By.CSS_SELECTOR, "[data-show=stale]")
    assert wait_for(stale.is_displayed, timeout=10), "no stale indicator after the live row stopped"
    assert "daemon" in stale.text


def test_diary_entry_logged_through_the_form_appears_in_the_list(browser, served):
    from selenium.webdriver.common.by import By

    set_viewport(browser, *PHONE, mobile=True)
    browser.get(served.url + "/diary")
    assert "No episodes logged yet" in browser.page_source
    browser.find_element(By.CSS_SELECTOR, "label[for=sev-7]").click()            # tap 1: how bad
    browser.find_element(By.CSS_SELECTOR, "button[value=lower-right]").click()   # tap 2: where (saves)
    wait_for(lambda: "/diary" in browser.current_url and "Saved" in browser.page_source)
    entries = browser.find_elements(By.CSS_SELECTOR, "article.entry")
    assert len(entries) == 1
    text = entries[0].text
    assert "7/10" in text and "Lower back, right" in text
    assert "4 h before" in text and "Time seated" in text


def test_diary_red_flag_says_to_seek_medical_attention(browser, served):
    from selenium.webdriver.common.by import By

    set_viewport(browser, *DESKTOP)
    browser.get(served.url + "/diary")
    browser.find_element(By.CSS_SELECTOR, "details.extras summary").click()
    browser.find_element(By.ID, "note").send_keys("Sharp, after lifting a box")
    browser.find_element(By.CSS_SELECTOR, "input[value=leg_numbness]").click()
    browser.find_element(By.CSS_SELECTOR, "label[for=sev-9]").click()
    browser.find_element(By.CSS_SELECTOR, "button[value=lower-centre]").click()
    wait_for(lambda: "Saved" in browser.page_source)
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "Seek medical attention" in body
    assert "Call emergency services" in body
    assert "Sharp, after lifting a box" in body


PAGES = ["/", "/day/{today}", "/day/{yesterday}", "/trends?days=7", "/trends?days=30", "/trends?days=365",
         "/diary", "/advice", "/settings", "/device", "/day/2001-01-01"]


def screens_folder(tmp_path_factory) -> Path:
    folder = os.environ.get("CUSHION_SCREENS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screens")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_every_page_fits_the_screen_width(browser, served, daemon, size, tmp_path_factory):
    """No page scrolls sideways at phone or desktop width (tables scroll inside their box)."""
    folder = screens_folder(tmp_path_factory)
    width, height = size
    today = date.today()
    with __import__("device.store", fromlist=["Store"]).Store(daemon.db_path) as store:
        store.add_diary_entry(datetime.now() - timedelta(hours=1), region="lower", side="left", severity=6,
                              note="Stiff after a long meeting", red_flags=["fever"])
        store.add_diary_entry(datetime.now() - timedelta(days=2, hours=3), region="middle", side="right",
                              severity=3)
    overflowing = []
    for page in PAGES:
        url = page.format(today=today, yesterday=today - timedelta(days=1))
        set_viewport(browser, width, height, mobile=size == PHONE)
        browser.get(served.url + url)
        time.sleep(0.3)
        scroll_width = browser.execute_script("return document.documentElement.scrollWidth")
        if scroll_width > width:
            overflowing.append(f"{url}: {scroll_width}px wide")
        full = browser.execute_script("return document.documentElement.scrollHeight")
        set_viewport(browser, width, min(full, 12000), mobile=size == PHONE)
        name = re.sub(r"[^a-z0-9]+", "-", url.strip("/").lower()).strip("-") or "now"
        browser.save_screenshot(str(folder / f"{name}-{'phone' if size == PHONE else 'desktop'}.png"))
    assert not overflowing, overflowing
