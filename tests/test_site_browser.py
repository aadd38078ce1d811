"""The site in a real browser: headless Chromium renders the front page and a concept page as a
phone (400 px) and a laptop (1400 px) would. Skipped when no Chromium is installed
(``apt-get install chromium``); run with ``pytest -m browser``."""

import pytest

from .chromium import Browser, find_chromium

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(find_chromium() is None, reason="no Chromium installed (apt-get install chromium)"),
]

PAGES = ["index.html", "concepts/losses.html"]


@pytest.fixture(scope="module")
def browser():
    with Browser() as b:
        yield b


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("width", [400, 1400])
def test_page_renders_without_errors_with_mathml_and_no_sideways_scrolling(browser, small_report, page, width):
    report = browser.page((small_report / page).as_uri(), width)
    assert report.errors == [], "the console reported errors"
    assert report.broken_images == []
    assert report.mathml > 0, "no MathML element on the page"
    assert report.mathml_width > 0, "the MathML elements take no space: the browser did not lay them out"
    assert report.inner_width == width, "the page is laid out wider than the screen (no viewport tag?)"
    assert not report.overflows, f"the page scrolls sideways at {width} px: {report.wide_elements}"
