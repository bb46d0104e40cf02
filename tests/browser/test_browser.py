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
from urllib.parse import urlsplit

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


def seconds_of(timer) -> float:
    return float(timer.get_attribute("data-seconds") or 0)


def test_now_page_timer_advances_with_the_live_row(browser, served, daemon):
    from selenium.webdriver.common.by import By

    set_viewport(browser, *DESKTOP)
    assert wait_for(lambda: daemon.writes >= 2)
    browser.get(served.url + "/")
    timer = browser.find_element(By.ID, "sitting-timer")
    first = seconds_of(timer)
    assert re.fullmatch(r"\d+ s|\d+ min|\d+ h \d\d min", timer.text), timer.text  # a unit, never "0:10"
    advanced = wait_for(lambda: seconds_of(timer) >= first + 2, timeout=6)
    assert advanced, f"timer stayed at {seconds_of(timer)} s (started at {first} s)"
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
    browser.find_element(By.CSS_SELECTOR, "label[for=sev-7]").click()  # tap 1: how bad
    browser.find_element(By.CSS_SELECTOR, "button[value=lower-right]").click()  # tap 2: where (saves)
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
    assert "Get medical attention promptly" in body and "Seek medical attention promptly" in body
    assert "Numbness or weakness in one or both legs" in body
    assert "Sharp, after lifting a box" in body


PAGES = [
    "/",
    "/day/{today}",
    "/day/{yesterday}",
    "/trends?days=7",
    "/trends?days=30",
    "/trends?days=365",
    "/diary",
    "/advice",
    "/settings",
    "/device",
    "/day/2001-01-01",
]


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
    with __import__("device.storage.store", fromlist=["Store"]).Store(daemon.db_path) as store:
        store.add_diary_entry(
            datetime.now() - timedelta(hours=1),
            region="lower",
            side="left",
            severity=6,
            note="Stiff after a long meeting",
            red_flags=["fever"],
        )
        store.add_diary_entry(datetime.now() - timedelta(days=2, hours=3), region="middle", side="right", severity=3)
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


def box(driver, element) -> dict:
    return driver.execute_script(
        "var r = arguments[0].getBoundingClientRect();"
        "return {left: r.left, right: r.right, top: r.top, bottom: r.bottom};",
        element,
    )


def overlap(a: dict, b: dict, slack: float = 0.5) -> bool:
    return (
        a["left"] < b["right"] - slack
        and b["left"] < a["right"] - slack
        and a["top"] < b["bottom"] - slack
        and b["top"] < a["bottom"] - slack
    )


def shown(driver, elements) -> list:
    return [
        e
        for e in elements
        if driver.execute_script(
            "var s = getComputedStyle(arguments[0]); return s.display != 'none' && s.visibility != 'hidden';", e
        )
    ]


def test_diary_two_taps_stamp_the_time_of_sending_and_saved_is_on_screen(browser, served, db_path):
    """On a phone: the page has been open a while; the entry gets the time it is sent, and the
    "Saved" message is in view afterwards (not scrolled away to the new entry)."""
    from selenium.webdriver.common.by import By

    from device.storage.store import Store

    set_viewport(browser, *PHONE, mobile=True)
    browser.get(served.url + "/diary")
    assert browser.find_element(By.ID, "when").get_attribute("value") == ""
    time.sleep(2.5)  # the page sits open
    sent = datetime.now().astimezone()
    browser.find_element(By.CSS_SELECTOR, "label[for=sev-4]").click()
    browser.find_element(By.CSS_SELECTOR, "button[value=upper-left]").click()
    assert wait_for(lambda: "Saved" in browser.page_source)
    with Store(db_path) as store:
        (entry,) = store.diary_latest(1)
    assert abs((datetime.fromisoformat(entry["wall"]) - sent).total_seconds()) < 2
    flash = browser.find_element(By.CSS_SELECTOR, ".flash.ok")
    where = box(browser, flash)
    assert 0 <= where["top"] and where["bottom"] <= PHONE[1], where
    assert browser.find_element(By.CSS_SELECTOR, "article.entry.just-saved")


def test_recent_red_flags_leave_the_two_taps_on_the_first_screen(browser, served, db_path):
    from selenium.webdriver.common.by import By

    from device.storage.store import Store

    with Store(db_path) as store:
        for hours, flags in (
            (1, ["fever"]),
            (3, ["leg_numbness", "fever"]),
            (30, ["after_trauma"]),
            (50, ["pain_unrelieved"]),
        ):
            store.add_diary_entry(
                datetime.now() - timedelta(hours=hours), region="lower", side="left", severity=7, red_flags=flags
            )
    set_viewport(browser, *PHONE, mobile=True)
    browser.get(served.url + "/diary")
    assert len(browser.find_elements(By.CSS_SELECTOR, ".banner.urgent")) == 1
    for selector in ("label[for=sev-10]", "button[value=lower-right]"):
        where = box(browser, browser.find_element(By.CSS_SELECTOR, selector))
        assert where["bottom"] <= PHONE[1], (selector, where)


def test_delete_and_reset_take_a_second_tap_without_javascript(browser_without_js, served, db_path):
    from selenium.webdriver.common.by import By

    from device.storage.store import Store

    driver = browser_without_js
    with Store(db_path) as store:
        store.add_diary_entry(datetime.now() - timedelta(hours=1), region="upper", side="right", severity=3)
        store.set_settings({"breaks.still_min": 25.0})
    set_viewport(driver, *PHONE, mobile=True)
    driver.get(served.url + "/")
    assert "JavaScript is off" in driver.find_element(By.TAG_NAME, "body").text  # the page's scripts don't run
    driver.get(served.url + "/diary")
    driver.find_element(By.CSS_SELECTOR, "article.entry details.confirm summary").click()
    with Store(db_path) as store:
        assert len(store.diary_latest()) == 1  # the first tap only asks
    driver.find_element(By.XPATH, "//button[normalize-space()='Yes, delete it']").click()
    assert wait_for(lambda: "Deleted the entry" in driver.page_source)
    with Store(db_path) as store:
        assert store.diary_latest() == []

    driver.get(served.url + "/settings")
    driver.find_element(By.CSS_SELECTOR, "details.confirm.reset summary").click()
    assert (
        "Move nudge after sitting still for: 25" in driver.find_element(By.CSS_SELECTOR, "details.confirm.reset").text
    )
    with Store(db_path) as store:
        assert store.settings() == {"breaks.still_min": 25.0}
    driver.find_element(By.XPATH, "//button[starts-with(normalize-space(), 'Yes, reset')]").click()
    assert wait_for(lambda: "Back to the config file" in driver.page_source)
    with Store(db_path) as store:
        assert store.settings() == {}


def test_diary_two_taps_work_without_javascript(browser_without_js, served, db_path):
    from selenium.webdriver.common.by import By

    from device.storage.store import Store

    driver = browser_without_js
    set_viewport(driver, *PHONE, mobile=True)
    driver.get(served.url + "/diary")
    driver.find_element(By.CSS_SELECTOR, "label[for=sev-5]").click()
    driver.find_element(By.CSS_SELECTOR, "button[value=middle-centre]").click()
    assert wait_for(lambda: "Saved" in driver.page_source)
    with Store(db_path) as store:
        (entry,) = store.diary_latest()
    assert (entry["severity"], entry["region"], entry["side"]) == (5, "middle", "centre")


def test_the_day_timeline_stays_legible_on_a_phone(browser, served):
    from selenium.webdriver.common.by import By

    set_viewport(browser, *PHONE, mobile=True)
    # The two latest whole days with sessions (which days those are depends on
    # the weekday), and today (up to now) unless it is too early for any.
    whole_days = [day for day in served.days_with_sessions if day < date.today()][-2:]
    assert len(whole_days) == 2
    for day in (*whole_days, date.today()):
        browser.get(f"{served.url}/day/{day}")
        found = browser.find_elements(By.CSS_SELECTOR, "svg.timeline")
        if not found and day == date.today():
            continue
        (svg,) = found
        hours = shown(browser, svg.find_elements(By.CSS_SELECTOR, "text.axis"))
        boxes = [box(browser, e) for e in hours]
        assert len(boxes) >= 3, "too few hour labels"
        for i, a in enumerate(boxes):
            for b in boxes[i + 1 :]:
                assert not overlap(a, b), "two axis labels overlap"
        kinds = {}
        for kind in ("break-due", "break-overdue", "move"):
            kinds[kind] = [box(browser, e) for e in svg.find_elements(By.CSS_SELECTOR, f"use.prompt.{kind}")]
        for a_kind, b_kind in (("break-due", "move"), ("break-overdue", "move"), ("break-due", "break-overdue")):
            for a in kinds[a_kind]:
                for b in kinds[b_kind]:
                    assert not overlap(a, b, slack=1), f"a {a_kind} mark covers a {b_kind} mark"
        labels = shown(browser, svg.find_elements(By.CSS_SELECTOR, "text.bar-text"))
        assert labels, "no session shows its length on a phone"
        for label in labels:  # each label inside its bar
            assert label.text and box(browser, label)["right"] <= box(browser, svg)["right"] + 1
    browser.get(f"{served.url}/day/{date.today()}")
    now = browser.find_elements(By.CSS_SELECTOR, "svg.timeline text.now-label")
    if now:  # today's history runs up to now
        assert now[0].text.startswith("now ") and now[0].is_displayed()


def test_trends_value_labels_never_cover_a_bar_on_a_phone(browser, served):
    from selenium.webdriver.common.by import By

    set_viewport(browser, *PHONE, mobile=True)
    for days in (7, 30, 365):
        browser.get(f"{served.url}/trends?days={days}")
        for chart in browser.find_elements(By.CSS_SELECTOR, "div.bar-chart"):
            bars = [box(browser, e) for e in chart.find_elements(By.CSS_SELECTOR, "svg.bars rect.bar")]
            labels = [box(browser, e) for e in chart.find_elements(By.CSS_SELECTOR, "svg.y-axis text")]
            assert labels
            for label in labels:
                for bar in bars:
                    assert not overlap(label, bar), f"{days} days: a value label covers a bar"
            ticks = [
                box(browser, e) for e in shown(browser, chart.find_elements(By.CSS_SELECTOR, "svg.bars text.axis"))
            ]
            for i, a in enumerate(ticks):
                for b in ticks[i + 1 :]:
                    assert not overlap(a, b), f"{days} days: two axis labels overlap"


def test_the_numbers_table_fits_a_phone(browser, served):
    from selenium.webdriver.common.by import By

    set_viewport(browser, *PHONE, mobile=True)
    browser.get(f"{served.url}/trends?days=30")
    browser.find_element(By.CSS_SELECTOR, "details.card summary").click()
    table = browser.find_element(By.CSS_SELECTOR, "table.numbers")
    assert browser.execute_script("return arguments[0].scrollWidth <= arguments[0].parentElement.clientWidth", table)
    cells = table.find_elements(By.CSS_SELECTOR, "tbody tr:first-child td[data-label]")
    labels = [browser.execute_script("return getComputedStyle(arguments[0], '::before').content", c) for c in cells]
    assert labels == ['"Seated"', '"Longest"', '"Breaks"', '"Prompts"', '"Skipped"', '"Lean L/R"', '"Fidgets/h"']
    assert box(browser, cells[0])["top"] < box(browser, cells[-1])["top"]  # a block of figures, not one long row


def test_the_now_page_keeps_its_figures_when_the_dashboard_is_unreachable(browser, served, db_path):
    from selenium.webdriver.common.by import By

    from device.storage.store import Store
    from tests.sample_history import live_values

    with Store(db_path) as store:
        store.set_live(live_values(sitting_s=600.0))
    set_viewport(browser, *PHONE, mobile=True)
    browser.get(served.url + "/")
    today_line = browser.find_element(By.CSS_SELECTOR, "p.today")
    assert wait_for(lambda: "seated" in today_line.text)
    before = today_line.text
    assert re.search(r"\d", before)
    served.stop()
    stale = browser.find_element(By.CSS_SELECTOR, "[data-show=stale]")
    assert wait_for(stale.is_displayed, timeout=12)
    assert "Can't reach the dashboard" in stale.text
    assert today_line.text == before  # the last figures stay...
    assert "is-stale" in browser.find_element(By.ID, "live").get_attribute("class")  # ... greyed
    figure = today_line.find_element(By.CSS_SELECTOR, "b")
    assert float(browser.execute_script("return getComputedStyle(arguments[0]).opacity", figure)) < 0.6


def replay(url: str, cookie: str):
    """A request from outside the browser with a copy of its session cookie: (status, Cache-Control)."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, headers={"Cookie": f"session={cookie}"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.headers.get("Cache-Control")
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Cache-Control")


def test_a_cookie_kept_from_before_logging_out_opens_nothing(browser, served_on_network):
    """Log in, keep a copy of the session cookie, log out, put the copy back: the login page, not the
    settings (before: the copy opened every page for 30 days). From outside the browser too."""
    from selenium.webdriver.common.by import By

    from tests.browser.conftest import PASSWORD

    url = served_on_network.url
    set_viewport(browser, *DESKTOP)
    browser.delete_all_cookies()
    try:
        browser.get(url + "/settings")
        assert "/login" in browser.current_url
        browser.find_element(By.ID, "password").send_keys(PASSWORD)
        browser.find_element(By.CSS_SELECTOR, "form.narrow button[type=submit]").click()
        # The path, not the end of the URL: the login page's own URL, /login?next=/settings, ends with
        # "/settings" too, and on a busy machine the cookie was read there, before the login (a 401 below).
        assert wait_for(lambda: urlsplit(browser.current_url).path == "/settings")
        kept = browser.get_cookie("session")
        assert kept and kept.get("httpOnly")
        assert replay(url + "/api/live", kept["value"]) == (200, "no-store")  # the copy works while logged in

        browser.find_element(By.CSS_SELECTOR, "form[action='/logout'] button").click()
        assert wait_for(lambda: "/login" in browser.current_url)
        browser.delete_all_cookies()
        browser.add_cookie({k: kept[k] for k in ("name", "value", "path", "httpOnly") if k in kept})
        browser.get(url + "/settings")
        assert "/login" in browser.current_url and "Log in" in browser.title
        assert replay(url + "/api/live", kept["value"])[0] == 401
        assert replay(url + "/api/export/diary.json", kept["value"])[0] == 401
    finally:
        browser.delete_all_cookies()


def test_an_episode_logged_through_the_form_is_on_the_day_timeline(browser, served, tmp_path_factory):
    """Severity, the kind of pain and an earlier time, then "where" saves; the Day page draws it, at phone
    and desktop width, with its words beside the mark. Screenshots of both pages at both widths."""
    from selenium.webdriver.common.by import By

    folder = screens_folder(tmp_path_factory)
    day = [d for d in served.days_with_sessions if d < date.today()][-1]  # a whole day on the cushion
    set_viewport(browser, *PHONE, mobile=True)
    browser.get(served.url + "/diary")
    browser.find_element(By.CSS_SELECTOR, "label[for=sev-7]").click()
    browser.find_element(By.CSS_SELECTOR, "label[for=kind-spasm]").click()
    browser.find_element(By.CSS_SELECTOR, "details.extras summary").click()
    when = browser.find_element(By.ID, "when")
    browser.execute_script("arguments[0].value = arguments[1]", when, f"{day}T14:30")
    browser.save_screenshot(str(folder / "diary-form-phone.png"))
    browser.find_element(By.CSS_SELECTOR, "button[value=lower-right]").click()
    assert wait_for(lambda: "Saved" in browser.page_source)
    assert "Saved: lower back, right, spasm, 7/10" in browser.find_element(By.CSS_SELECTOR, ".flash.ok").text
    (entry,) = browser.find_elements(By.CSS_SELECTOR, "article.entry")
    assert "Lower back, right, spasm" in entry.text

    for size, name in ((PHONE, "phone"), (DESKTOP, "desktop")):
        set_viewport(browser, *size, mobile=size == PHONE)
        if size == DESKTOP:
            browser.get(served.url + "/diary")
            browser.save_screenshot(str(folder / "diary-form-desktop.png"))
        browser.get(f"{served.url}/day/{day}")
        svg = browser.find_element(By.CSS_SELECTOR, "svg.timeline")
        (star,) = svg.find_elements(By.CSS_SELECTOR, "use.pain")
        title = star.find_element(By.TAG_NAME, "title").get_attribute("textContent")
        assert title == "Pain at 14:30: lower back, right, spasm, 7/10"
        assert star.is_displayed()
        (words,) = shown(browser, svg.find_elements(By.CSS_SELECTOR, "text.pain-label"))
        assert words.text == "Lower back, spasm"
        inside, mark, text_box = box(browser, svg), box(browser, star), box(browser, words)
        assert inside["left"] <= text_box["left"] and text_box["right"] <= inside["right"] + 1, (name, text_box)
        assert not overlap(mark, text_box), name
        for other in shown(browser, svg.find_elements(By.CSS_SELECTOR, "text.axis, text.lane-label, text.bar-text")):
            assert not overlap(text_box, box(browser, other)), (name, other.text)
        assert "Pain at 14:30: lower back, right, spasm, 7/10" in svg.get_attribute("aria-label")
        assert "In your diary for this day:" in browser.find_element(By.TAG_NAME, "body").text
        assert browser.execute_script("return document.documentElement.scrollWidth") <= size[0]
        full = browser.execute_script("return document.documentElement.scrollHeight")
        set_viewport(browser, size[0], min(full, 12000), mobile=size == PHONE)
        browser.save_screenshot(str(folder / f"day-with-episode-{name}.png"))
    # The mark leads to the entry in the diary.
    link = browser.find_element(By.CSS_SELECTOR, "svg.timeline a[href^='/diary#entry-']").get_dom_attribute("href")
    browser.get(served.url + link)
    assert "entry-" + browser.find_element(By.CSS_SELECTOR, "article.entry").get_attribute("id")[6:] in link
