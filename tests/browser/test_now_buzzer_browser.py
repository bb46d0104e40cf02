"""The Now page in a real browser: Snooze / Resume honoured by the real daemon, the break companion
while the person is up, and a desktop notification when a break comes due."""

from __future__ import annotations

import time

from device.sim.sitter import Person, Scenario
from tests.browser.conftest import DESKTOP, PHONE, SimulatedDaemon, set_viewport
from tests.browser.test_browser import screens_folder, wait_for
from tests.sample_history import live_values


def text_of(browser, css: str) -> str:
    """The element's text, or "" while the page is (re)loading."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.common.by import By

    try:
        return browser.find_element(By.CSS_SELECTOR, css).text
    except (NoSuchElementException, StaleElementReferenceException):
        return ""


def silence_text(browser) -> str:
    return text_of(browser, "#silence-text")


def test_a_snooze_from_the_page_is_taken_by_the_daemon_and_resume_ends_it(browser, served, daemon, tmp_path_factory):
    from selenium.webdriver.common.by import By

    set_viewport(browser, *DESKTOP)
    browser.get(served.url + "/")
    assert wait_for(lambda: silence_text(browser) == "The buzzer sounds for reminders.")
    resume = "button[name=action][value=resume]"
    assert not browser.find_element(By.CSS_SELECTOR, resume).is_displayed()  # nothing to resume yet
    browser.find_element(By.CSS_SELECTOR, "button[name=snooze][value='30']").click()
    assert wait_for(lambda: "Snoozed for 30 minutes" in text_of(browser, ".flash.ok"))
    asked = time.monotonic()
    assert wait_for(lambda: silence_text(browser).startswith("The buzzer is silent: snoozed until"), timeout=5)
    taken_within = time.monotonic() - asked
    assert daemon.daemon.snooze.snoozed_until is not None  # the daemon's own state, as the button sets it
    assert taken_within < 3.0  # taken within a second, shown at the next second's update
    assert wait_for(lambda: browser.find_element(By.CSS_SELECTOR, resume).is_displayed(), timeout=3)
    browser.save_screenshot(str(screens_folder(tmp_path_factory) / "now-snoozed-desktop.png"))
    browser.find_element(By.CSS_SELECTOR, resume).click()
    assert wait_for(lambda: silence_text(browser) == "The buzzer sounds for reminders.", timeout=5)
    assert wait_for(lambda: not browser.find_element(By.CSS_SELECTOR, resume).is_displayed(), timeout=3)
    assert daemon.daemon.snooze.snoozed_until is None


def test_the_break_companion_appears_while_the_person_is_up(browser, served, db_path, tmp_path_factory):
    from selenium.webdriver.common.by import By

    # Seated from the start, up after 4 s for three minutes.
    scenario = Scenario(Person(mass_kg=75), seated=True).hold(4).stand_up().away(180).sit_down().hold(600)
    simulated = SimulatedDaemon(db_path, scenario)
    folder = screens_folder(tmp_path_factory)
    try:
        for size, kind in ((PHONE, "phone"), (DESKTOP, "desktop")):
            set_viewport(browser, *size, mobile=size == PHONE)
            browser.get(served.url + "/")
            assert wait_for(lambda: browser.find_element(By.ID, "companion").is_displayed(), timeout=12)
            said = wait_for(lambda: text_of(browser, "#companion"))
            assert "it counts as a break after 1 min" in said or "Break taken" in said
            assert browser.find_element(By.CSS_SELECTOR, "[data-companion=title]").text
            assert browser.execute_script("return document.documentElement.scrollWidth") <= size[0]
            browser.save_screenshot(str(folder / f"now-companion-{kind}.png"))
    finally:
        simulated.stop()


FAKE_NOTIFICATIONS = """
window.__shown = [];
window.Notification = function (title, options) { window.__shown.push({title: title, body: options && options.body}); };
window.Notification.permission = "granted";
window.Notification.requestPermission = function (cb) { if (cb) { cb("granted"); } return Promise.resolve("granted"); };
"""


def test_a_break_coming_due_shows_one_desktop_notification_naming_a_move(browser, served, db_path):
    from device.storage.store import Store

    with Store(db_path) as store:
        store.set_live(live_values(sitting_s=40 * 60.0, next_prompt_in_s=300.0))
    # The browser's own Notification, recorded: what the page asks it to show.
    script = browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": FAKE_NOTIFICATIONS})
    try:
        set_viewport(browser, *DESKTOP)
        browser.get(served.url + "/")  # 127.0.0.1: a secure context, notifications offered
        assert wait_for(lambda: "Desktop notifications are on" in browser.find_element("id", "notify-state").text)
        time.sleep(1.5)
        assert browser.execute_script("return window.__shown") == []  # nothing new yet
        with Store(db_path) as store:
            store.set_live(
                live_values(
                    sitting_s=46 * 60.0, break_due=True, next_prompt_kind="break_overdue", next_prompt_in_s=840.0
                )
            )
        shown = wait_for(lambda: browser.execute_script("return window.__shown"), timeout=5)
        assert len(shown) == 1 and shown[0]["body"].startswith("Break due: stand up and ")
        time.sleep(2.0)
        assert len(browser.execute_script("return window.__shown")) == 1  # once, not every second
    finally:
        browser.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": script["identifier"]})
