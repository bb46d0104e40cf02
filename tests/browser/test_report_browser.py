"""The report for a physiotherapist in a real browser: printed to PDF (A4, one to three pages),
and on screen at phone and desktop width.

The PDFs, their pages as PNG (when poppler's pdftoppm is installed) and the
screenshots go to $CUSHION_SCREENS (default: a temporary folder), never into
the repository: look at them after a change to the report's layout.
"""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.browser.conftest import DESKTOP, PHONE, set_viewport
from tests.browser.test_browser import screens_folder

A4_POINTS = (595.0, 842.0)  # 210 x 297 mm in PDF points


def add_episodes(db_path: Path) -> None:
    """Three episodes in the last week, on days the sample history has sitting, one with a red flag and a note."""
    from device.storage.store import Store

    now = datetime.now().replace(second=0, microsecond=0)
    with Store(db_path) as store:
        for days, hour, region, side, severity, kind, note, flags in (
            (2, 15, "lower", "left", 7, "spasm", "Stiff after a long meeting", ["fever"]),
            (3, 11, "neck", "centre", 3, "ache", "", []),
            (5, 16, "leg", "right", 5, "numbness", "", []),
        ):
            wall = (now - timedelta(days=days)).replace(hour=hour, minute=30)
            store.add_diary_entry(
                wall, region=region, side=side, severity=severity, kind=kind, note=note, red_flags=flags
            )


def print_to_pdf(driver, url: str) -> bytes:
    """The page as the browser's Print gives it (print media, the page's own @page size)."""
    driver.get(url)
    pdf = driver.execute_cdp_cmd(
        "Page.printToPDF", {"preferCSSPageSize": True, "printBackground": True, "displayHeaderFooter": False}
    )
    return base64.b64decode(pdf["data"])


def pdf_pages(data: bytes) -> list[tuple[float, float]]:
    """Each page's MediaBox size (width, height) in points, from the PDF's page objects."""
    assert data.startswith(b"%PDF-")
    pages = re.findall(rb"/Type\s*/Page(?![a-zA-Z])", data)
    boxes = [
        (float(x1) - float(x0), float(y1) - float(y0))
        for x0, y0, x1, y1 in re.findall(rb"/MediaBox\s*\[\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*\]", data)
    ]
    assert len(boxes) == len(pages), (len(boxes), len(pages))
    return boxes


def to_png(pdf: Path) -> list[Path]:
    """The PDF's pages as PNG files beside it (none without pdftoppm)."""
    if shutil.which("pdftoppm") is None:
        return []
    prefix = pdf.with_suffix("")
    subprocess.run(["pdftoppm", "-png", "-r", "70", str(pdf), str(prefix)], check=True, timeout=60)
    return sorted(pdf.parent.glob(f"{prefix.name}-*.png"))


@pytest.mark.parametrize(
    ("name", "query"),
    [("week", ""), ("four-weeks", "?from={four_weeks}&to={yesterday}")],
)
def test_the_report_prints_on_one_to_three_a4_pages(browser, served, db_path, tmp_path_factory, name, query):
    folder = screens_folder(tmp_path_factory)
    add_episodes(db_path)
    yesterday = datetime.now().date() - timedelta(days=1)
    url = served.url + "/report" + query.format(four_weeks=yesterday - timedelta(days=27), yesterday=yesterday)
    set_viewport(browser, *DESKTOP)
    data = print_to_pdf(browser, url)
    pdf = folder / f"report-{name}.pdf"
    pdf.write_bytes(data)
    pages = pdf_pages(data)
    assert 1 <= len(pages) <= 3, f"{len(pages)} pages"
    for width, height in pages:
        assert abs(width - A4_POINTS[0]) < 2 and abs(height - A4_POINTS[1]) < 2, (width, height)
    for png in to_png(pdf):
        assert png.stat().st_size > 10_000  # a page with something on it


def test_in_print_only_the_report_shows_black_on_white(browser, served, db_path):
    from selenium.webdriver.common.by import By

    add_episodes(db_path)
    set_viewport(browser, *DESKTOP)
    browser.get(served.url + "/report")
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:

        def display(selector: str) -> str:
            return browser.execute_script(
                "return getComputedStyle(document.querySelector(arguments[0])).display", selector
            )

        for selector in ("header.top", "footer", ".report-tools"):
            assert display(selector) == "none", selector
        assert not browser.find_element(By.CSS_SELECTOR, "[data-print]").is_displayed()
        assert display("article.report") != "none"
        colours = browser.execute_script(
            "var cell = document.querySelector('table.report-days td');"
            "return [getComputedStyle(document.body).backgroundColor, getComputedStyle(cell).color];"
        )
        assert colours == ["rgb(255, 255, 255)", "rgb(0, 0, 0)"]
        assert len(browser.find_elements(By.CSS_SELECTOR, "article.episode")) == 3
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_report_fits_the_screen(browser, served, db_path, size, tmp_path_factory):
    from selenium.webdriver.common.by import By

    folder = screens_folder(tmp_path_factory)
    add_episodes(db_path)
    width, height = size
    set_viewport(browser, width, height, mobile=size == PHONE)
    browser.get(served.url + "/report")
    assert browser.find_element(By.CSS_SELECTOR, "[data-print]").is_displayed()  # the script showed it
    scroll_width = browser.execute_script("return document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{scroll_width}px wide on a {width}px screen"
    full = browser.execute_script("return document.documentElement.scrollHeight")
    set_viewport(browser, width, min(full, 12000), mobile=size == PHONE)
    browser.save_screenshot(str(folder / f"report-{'phone' if size == PHONE else 'desktop'}.png"))


def test_without_javascript_there_is_no_dead_print_button(browser_without_js, served):
    from selenium.webdriver.common.by import By

    driver = browser_without_js
    set_viewport(driver, *DESKTOP)
    driver.get(served.url + "/report")
    assert not driver.find_element(By.CSS_SELECTOR, "[data-print]").is_displayed()
    assert "your browser's Print" in driver.find_element(By.CSS_SELECTOR, ".print-line").text
