"""Every page is checked as it is built: MathML whose scripts and fractions lack their two children
(tanh²x shown as 'tanh₂x') or an entity escaped twice ('h&#x00028;x' in an alt text) stops the
build with the page and the fragment named, so a broken page is never written."""

import dataclasses
import re
import shutil

import pytest

from comparisons.site import ConceptRun, SiteError, build_site, text
from comparisons.site.text import PageError, check_markup, mathml

MATH = '<math xmlns="http://www.w3.org/1998/Math/MathML">{}</math>'


@pytest.mark.parametrize("latex", [r"1 - \tanh^2 x", r"\tanh^2(c_t)", r"\log_2 x + \log 0.6", r"x_{i}^{2} + \frac{a}{b}"])
def test_function_names_keep_their_scripts_whole(latex):
    out = mathml(latex)
    check_markup(out, "test")
    assert "<msup><mi>tanh</mi><mn>2</mn></msup>" in out or "tanh" not in latex


def test_a_function_name_is_set_off_by_a_thin_space_after_its_script():
    assert mathml(r"\tanh^2 x").count("<mspace") == 1
    assert "</msup><mspace" in mathml(r"\tanh^2 x")


@pytest.mark.parametrize("fragment, complaint", [
    (MATH.format("<msup><mi>tanh</mi><mspace></mspace><mn>2</mn></msup>"), "<msup> with 3 children"),
    (MATH.format("<msub><mi>x</mi></msub>"), "<msub> with 1 children"),
    (MATH.format("<mfrac><mn>1</mn><mn>2</mn><mn>3</mn></mfrac>"), "<mfrac> with 3 children"),
    ('<img src="a.png" alt="h&amp;#x00028;x&amp;#x00029;">', "escaped twice"),
    ("<p>&amp;lt;b&amp;gt;</p>", "escaped twice"),
])
def test_invalid_mathml_and_double_escaped_entities_are_rejected(fragment, complaint):
    with pytest.raises(PageError, match=re.escape(complaint)):
        check_markup(f"<p>before</p>{fragment}<p>after</p>", "planted.html")


def test_valid_markup_passes():
    check_markup(MATH.format("<msubsup><mo>∑</mo><mi>i</mi><mi>n</mi></msubsup><mfrac><mn>1</mn><mn>2</mn></mfrac>")
                 + '<img alt="h(x) &amp; g(x)">', "fine.html")


def _planting(monkeypatch, addition: str):
    """Every lesson gains ``addition`` at its end, as if a lesson had been written so."""
    real = ConceptRun.lesson_in

    def lesson_in(self, language):
        lesson = real(self, language)
        return dataclasses.replace(lesson, text=lesson.text + "\n\n" + addition + "\n")

    monkeypatch.setattr(ConceptRun, "lesson_in", lesson_in)


def test_a_build_that_makes_invalid_mathml_fails_and_writes_no_broken_page(small_report, tmp_path, monkeypatch):
    folder = tmp_path / "report"
    shutil.copytree(small_report, folder)
    _planting(monkeypatch, r"The derivative of tanh is $1 - \tanh^2 x$.")
    old = re.compile(r"(<mi>(?:log|ln|exp|tanh|sin|cos)</mi>)(?!<mo stretchy=\"false\">&#x00028;)(?=<m[ion])")
    thin_space = '<mspace width="0.1667em"></mspace>'  # the post-processing that put a space inside <msup>
    monkeypatch.setattr(text, "mathml", lambda latex, display=False: old.sub(
        lambda m: m[1] + thin_space, text.latex_to_mathml(latex.strip(), display="block" if display else "inline")))
    with pytest.raises(SiteError, match=r"concepts/(softmax|losses)\.html came out broken.*<msup> with 3 children"):
        build_site(folder)


def test_a_build_that_escapes_an_alt_text_twice_fails(small_report, tmp_path, monkeypatch):
    from comparisons.site import pages

    folder = tmp_path / "report"
    shutil.copytree(small_report, folder)
    monkeypatch.setattr(pages, "plain_text", lambda fragment: re.sub(r"<[^>]+>", "", fragment))  # no unescaping
    with pytest.raises(SiteError, match="escaped twice"):
        build_site(folder)


def test_no_page_nests_a_link_in_a_link_and_every_page_is_small(committed_site):
    for page in committed_site.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        depth = 0
        for tag in re.findall(r"<a\b|</a>", html):
            depth += 1 if tag == "<a" else -1
            assert depth in (0, 1), f"{page}: a link inside a link"
        assert page.stat().st_size <= 1_500_000, page
