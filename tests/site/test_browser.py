"""Every page of both editions in a real browser, as a phone (400 px) and a laptop (1400 px) show
it: headless Chromium over its DevTools pipe (tests/chromium.py). Skipped cleanly without
Chromium (``apt-get install chromium``); the Korean glyph check skips, saying why, without a CJK
font (``apt-get install fonts-noto-cjk``). Run with ``pytest -m browser``.

It saves screenshots of the front page and one concept page in both languages at both widths into
``$SITE_SCREENSHOTS`` (``docs/screenshots`` for the README) or a temporary folder."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from ..chromium import Browser, Tab, find_chromium

pytestmark = [
    pytest.mark.slow,  # a minute of Chromium: make test-all (CI) runs it
    pytest.mark.browser,
    pytest.mark.skipif(find_chromium() is None, reason="no Chromium installed (apt-get install chromium)"),
]

WIDTHS = (400, 1400)
SHOWN = ("index.html", "concepts/activations.html")  # the pages the screenshots show
SHOT_HEIGHT = {400: 2000, 1400: 1500}

# What a reader would see, measured once every <details> is open (checks tables, the menu).
MEASURE = r"""(() => {
  const NS = 'http://www.w3.org/1998/Math/MathML';
  const W = window.innerWidth;
  const phone = W < 1120;
  const contents = phone ? document.querySelector('details.menu > summary')
                         : document.querySelector('aside.sidebar nav.contents');
  const contentsShown = !!contents && contents.getBoundingClientRect().width > 0;
  for (const d of document.querySelectorAll('details')) d.open = true;
  const maths = Array.from(document.getElementsByTagNameNS(NS, 'math'));
  const hiddenVerdicts = [];
  let verdicts = 0;
  for (const cell of document.querySelectorAll('td.verdict, th.verdict')) {
    verdicts += 1;
    const r = cell.getBoundingClientRect();
    let left = 0, right = W;
    const box = cell.closest('.scroll');
    if (box) { const b = box.getBoundingClientRect(); left = Math.max(left, b.left); right = Math.min(right, b.right); }
    if (r.width === 0 || r.left < left - 1 || r.right > right + 1) {
      hiddenVerdicts.push(`${(cell.textContent || '').trim().slice(0, 40)} at ${Math.round(r.left)}–${Math.round(r.right)}px, box ${Math.round(left)}–${Math.round(right)}px`);
    }
  }
  return {
    innerWidth: W, scrollWidth: document.documentElement.scrollWidth,
    height: document.documentElement.scrollHeight,
    contents: contentsShown,
    onThisPage: !!document.querySelector('nav.onpage, details.onpage-menu'),
    maths: maths.length,
    mathWidth: Math.max(0, ...maths.map(m => m.getBoundingClientRect().width)),
    brokenImages: Array.from(document.images).filter(i => i.getBoundingClientRect().width > 0
                                                         && !(i.complete && i.naturalWidth > 0)).map(i => i.src),
    verdicts, hiddenVerdicts: hiddenVerdicts.slice(0, 5),
  };
})()"""

# Two different Hangul syllables drawn in the page's font: with no CJK font both are the same
# empty box ("tofu"); with one they differ.
TOFU = r"""(() => {
  const canvas = document.createElement('canvas');
  canvas.width = 120; canvas.height = 60;
  const g = canvas.getContext('2d');
  const font = getComputedStyle(document.body).fontFamily;
  const draw = (s) => { g.clearRect(0, 0, 120, 60); g.font = '40px ' + font; g.fillText(s, 10, 45);
                        return Array.from(g.getImageData(0, 0, 120, 60).data).join(','); };
  return {ga: draw('가'), hih: draw('힣'), pua: draw('\ue000')};
})()"""


def all_pages(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.html"))


@pytest.fixture(scope="module")
def browser():
    with Browser() as b:
        yield b


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("SITE_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_of_both_editions_reads_well(browser, committed_site, screenshots, width):
    """No sideways scroll of the page, no console error, MathML laid out, every table's verdict
    visible without scrolling inside its box, the contents list present; pages longer than two
    screens carry an "on this page" list."""
    problems = []
    pages = all_pages(committed_site)
    assert len(pages) >= 50, "both editions, every page"
    with Tab(browser, width) as tab:
        for page in pages:
            name = page.relative_to(committed_site).as_posix()
            tab.go(page.as_uri())
            m = tab.evaluate(MEASURE)
            errors = tab.errors()
            if errors:
                problems.append(f"{name}: console errors {errors[:3]}")
            if max(m["scrollWidth"], m["innerWidth"]) > width:
                problems.append(f"{name}: the page scrolls sideways ({m['scrollWidth']} px)")
            if m["maths"] and m["mathWidth"] <= 0:
                problems.append(f"{name}: MathML not laid out")
            if m["hiddenVerdicts"]:
                problems.append(f"{name}: verdicts out of sight {m['hiddenVerdicts']}")
            if not m["contents"]:
                problems.append(f"{name}: no contents list")
            if m["height"] > 2 * 900 and not m["onThisPage"]:
                problems.append(f"{name}: {m['height']} px tall with no 'on this page' list")
            if m["brokenImages"]:
                problems.append(f"{name}: broken images {m['brokenImages'][:2]}")
        for prefix in ("", "ko/"):
            for shown in SHOWN:
                tab.go((committed_site / prefix / shown).as_uri())
                png = tab.screenshot(SHOT_HEIGHT[width])
                label = f"{'ko' if prefix else 'en'}-{Path(shown).stem}-{width}.png"
                (screenshots / label).write_bytes(png)
    assert not problems, "\n".join(problems)
    assert len(list(screenshots.glob(f"*-{width}.png"))) >= 4


def _cjk_fonts() -> bool | None:
    """Whether fontconfig knows a font for Korean; None when fontconfig cannot be asked."""
    if shutil.which("fc-list") is None:
        return None
    listed = subprocess.run(["fc-list", ":lang=ko", "family"], capture_output=True, text=True, check=False).stdout
    return bool(listed.strip())


def test_korean_renders_as_glyphs_not_empty_boxes(browser, committed_site):
    if _cjk_fonts() is False:
        pytest.skip("no CJK font installed (apt-get install fonts-noto-cjk): Korean would show as empty boxes")
    with Tab(browser, 1400) as tab:
        tab.go((committed_site / "ko" / "index.html").as_uri())
        drawn = tab.evaluate(TOFU)
    if _cjk_fonts() is None and drawn["ga"] == drawn["hih"]:
        pytest.skip("no CJK font found (fontconfig's fc-list is missing; apt-get install fonts-noto-cjk)")
    assert drawn["ga"] != drawn["hih"], "two different Hangul syllables look the same: no Korean font is used"
    assert drawn["ga"] != drawn["pua"], "a Hangul syllable looks like a character no font has (tofu)"


@pytest.mark.parametrize("page", ["index.html", "concepts/losses.html"])
@pytest.mark.parametrize("width", WIDTHS)
def test_the_pages_of_a_fresh_report_render_without_errors_with_mathml_and_no_sideways_scrolling(
        browser, small_report, page, width):
    """The same reading, on a report this checkout writes (whatever the committed report holds)."""
    report = browser.page((small_report / page).as_uri(), width)
    assert report.errors == [], "the console reported errors"
    assert report.broken_images == []
    assert report.mathml > 0, "no MathML element on the page"
    assert report.mathml_width > 0, "the MathML elements take no space: the browser did not lay them out"
    assert report.inner_width == width, "the page is laid out wider than the screen (no viewport tag?)"
    assert not report.overflows, f"the page scrolls sideways at {width} px: {report.wide_elements}"
