"""The study guide as a site: a front page, a page per concept, a glossary, the benchmark and the
sweep, built from a report folder, readable offline on a laptop or a phone."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from comparisons import pairs, registry
from comparisons.glossary import GLOSSARY
from comparisons.site import SiteError, build_site
from comparisons.site.code import declared, pair
from comparisons.site.numbers import error, sig
from comparisons.site.text import Facts, GuideError, MathError, Renderer, mathml

from ..conftest import run_concept

MAX_PAGE_BYTES = 1_500_000


def pages(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.html"))


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


# --- numbers ---------------------------------------------------------------------------------


@pytest.mark.parametrize("value, text", [
    (0.0975, "0.0975"), (0.09750000000000003, "0.0975"), (0.5108256237659907, "0.5108"), (1010.0, "1010"),
    (1000.0, "1000"), (100.0, "100"), (2.302585092994046, "2.303"), (0.99995, "1.0000"), (4.54e-05, "4.54e-5"),
    (0.0, "0"), (7, "7"), (float("inf"), "inf"), (None, "–"),
])
def test_numbers_print_to_significant_digits(value, text):
    assert sig(value) == text


@pytest.mark.parametrize("value, text", [(3.1e-16, "3.1e-16"), (1e-12, "1e-12"), (0.69, "0.69"), (2.0, "2"), (0.0, "0")])
def test_errors_stay_scientific_below_one_thousandth(value, text):
    assert error(value) == text


# --- text: Markdown, math, figures ---------------------------------------------------------------


def test_latex_becomes_mathml_but_code_and_escaped_dollars_stay():
    html = Renderer().block(r"The loss $E = \frac12 \sum_k (y_k - t_k)^2$ costs \$5; `x = $a$` is code.")
    assert html.count("<math") == 1 and "<mfrac>" in html
    assert "costs $5" in html and "<code>x = $a$</code>" in html


def test_display_math_is_a_block_that_can_scroll():
    html = Renderer().block("Softmax:\n\n$$\ny_k = \\frac{e^{a_k}}{\\sum_i e^{a_i}}\n$$\n")
    assert '<div class="math-display"><math' in html and 'display="block"' in html


@pytest.mark.parametrize("latex, reason", [(r"\frac{1", "unbalanced"), ("x^", "x\\^"), (r"\nosuch x", "unknown command")])
def test_unreadable_latex_is_an_error_that_quotes_it(latex, reason):
    with pytest.raises(MathError, match=reason):
        mathml(latex)


def test_figures_are_numbered_and_placed_where_the_text_names_them():
    made = []
    r = Renderer(figure=lambda name, n, caption: made.append(name) or f"<figure>Figure {n}. {caption}</figure>")
    html = r.block("First.\n\n{{figure:a|The first, $x^2$.}}\n\nSecond.\n\n{{figure:b|The second.}}\n")
    assert made == ["a", "b"]
    assert html.index("First.") < html.index("Figure 1.") < html.index("Second.") < html.index("Figure 2.")
    assert "<math" in html.split("Figure 1.")[1].split("</figure>")[0]


def test_a_figure_the_run_did_not_make_leaves_no_trace():
    html = Renderer(figure=lambda name, n, caption: None).block("Text.\n\n{{figure:missing|Gone.}}\n")
    assert "Gone" not in html and "figure" not in html


# --- text quoted from the run: findings and values --------------------------------------------------


def quoting(findings=None, values=None, complete=True):
    return Renderer(facts=Facts("demo", findings or {}, values or {}, complete))


def test_a_finding_that_held_is_stated_with_the_run_s_numbers():
    html = quoting({"BN learns": True}, {"scales": 14, "gap": 0.0312}).block(
        "With BN, {{finding:BN learns|{{value:scales}} of 16 scales learn ($\\ge 0.8$)}}; gap {{value:gap|.1%}}.")
    assert "With BN, 14 of 16 scales learn (<math" in html and "gap 3.1%." in html
    assert "not shown" not in html


def test_a_finding_that_failed_is_said_not_shown_instead_of_claimed():
    html = quoting({"BN learns": False}, {"scales": 3}).block("With BN, {{finding:BN learns|3 of 16 scales learn}}.")
    assert '<span class="not-shown">not shown in this run: 3 of 16 scales learn</span>' in html


def test_an_observed_outcome_is_stated_only_where_it_showed():
    """``ctx.observed`` keeps an outcome with no verdict (a bool value): stated where it showed."""
    facts = {"gap narrows": True, "test is higher": False, "gap": 0.1}
    html = quoting(values=facts).block("{{finding:gap narrows|narrower}}; {{finding:test is higher|higher}}.")
    assert html.startswith("<p>narrower; ") and "not shown in this run: higher" in html


@pytest.mark.parametrize("text, name", [("{{finding:no such check|x}}", "no such check"),
                                        ("{{value:no such value}}", "no such value"),
                                        ("{{finding:BN learns|{{value:typo}} scales}}", "typo")])
def test_quoting_what_the_run_never_recorded_is_an_error_when_the_pages_are_built(text, name):
    with pytest.raises(GuideError, match=re.escape(repr(name))):
        quoting({"BN learns": True}, {"scales": 14}).block(text)


@pytest.mark.parametrize("text", ["{{valeu:x}}", "{{finding:BN learns|after $e^{1000}$ overflows}}"])
def test_an_unknown_or_unparsed_marker_is_an_error(text):
    """A finding's text may hold value markers but no other braces: a marker left unfilled is an
    error, never printed raw on the page."""
    with pytest.raises(GuideError, match="does not know"):
        quoting({"BN learns": True}).block(text)


def test_a_run_that_could_not_record_a_name_shows_it_as_not_computed():
    """A concept that stopped with an error, or a float32-only run (findings are float64's), is
    not a mistake in the guide: the page says the outcome was not shown."""
    html = quoting(complete=False).block("{{finding:BN learns|{{value:scales}} of 16 learn}}")
    assert "not shown in this run: (not computed in this run) of 16 learn" in html


# --- the concepts' text ----------------------------------------------------------------------------

MARKER = re.compile(r"\{\{(figure|table):([^|}]+)")


def made_by_run(concept, kind):
    folder = registry.lessons.FOLDER  # the run's module and its private parts (_rnn_training.py)
    source = "".join(p.read_text(encoding="utf-8") for p in [folder / f"{concept.name}.py",
                                                              *folder.glob(f"_{concept.name}_*.py")])
    return set(re.findall(rf'ctx\.{kind}\(\s*"([^"]+)"', source))


def facts_of_quick_run(concept_id) -> Facts:
    ctx = run_concept(concept_id, "float64")
    return Facts(concept_id, {r.check: r.passed for r in ctx.records}, dict(ctx.values))


@pytest.mark.parametrize("concept_id", list(registry.concepts()))
def test_every_guide_renders_and_places_every_figure_of_its_run(concept_id):
    """...and quotes only findings and values its run records (the quick run, cached for the suite)."""
    concept = registry.get(concept_id)
    text = concept.lesson.text
    Renderer(figure=lambda *a: "<figure></figure>", table=lambda *a: "<table></table>",
             facts=facts_of_quick_run(concept_id)).block(text)
    placed = {kind: {name for k, name in MARKER.findall(text) if k == kind} for kind in ("figure", "table")}
    assert placed["figure"] <= made_by_run(concept, "figure"), "the guide names a figure the run does not make"
    assert placed["table"] <= made_by_run(concept, "table"), "the guide names a table the run does not make"
    assert made_by_run(concept, "figure") <= placed["figure"], "a figure of the run is not placed in the guide"


@pytest.mark.parametrize("concept_id", list(registry.concepts()))
def test_every_code_pair_is_scratch_beside_torch_ref(concept_id):
    lesson = registry.get(concept_id).lesson
    listings = [declared(pairs.get(kind, pair_id)) for kind, pair_id in lesson.pairs]
    listings += [pair(numpy_obj, torch_obj) for numpy_obj, torch_obj in lesson.code_objects()]
    assert listings, f"{concept_id} shows no code side by side"
    for left, right in listings:
        assert left.name.startswith("scratch.") and right.name.startswith(("torch_ref.", "torch.nn."))


def test_a_concept_shows_a_declared_pair_once():
    """What a declaration holds is shown from it: no concept lists a declared pair's two objects in CODE."""
    import scratch

    declared_objects = {(p.scratch_object(scratch), p.reference_object()) for p in pairs.PAIRS.values()}
    for concept_id, concept in registry.concepts().items():
        for kind, pair_id in concept.lesson.pairs:
            pairs.get(kind, pair_id)  # a known pair
        assert not declared_objects & set(concept.lesson.code_objects()), concept_id


def test_a_code_pair_refuses_torch_library_source():
    import torch

    import scratch.activations

    with pytest.raises(ValueError, match="torch_ref"):
        pair(scratch.activations.sigmoid, torch.nn.Sigmoid)


def test_the_study_notes_are_never_called_seeds():
    """"seed" means the random seed only; the Korean source texts are "the study notes"."""
    for concept_id, concept in registry.concepts().items():
        lesson = concept.lesson
        text = lesson.text + " ".join(f"{d.topic} {d.textbook} {d.pytorch}" for d in lesson.differences)
        text = re.sub(r"\{\{[^}]*\}\}", "", text)  # figure and table markers name files, not sources
        for m in re.finditer(r"\bseeds?\b|\bseed's\b", text):
            before = text[max(0, m.start() - 8):m.start()]
            assert before.endswith(("random ", "run's ", "same ")), f"{concept_id}: ...{text[m.start() - 40:m.end() + 20]}..."


def test_every_heading_has_its_korean_term_in_the_glossary():
    terms = {t.korean for t in GLOSSARY} | {t.book for t in GLOSSARY if t.book} | {t.notes for t in GLOSSARY if t.notes}
    for concept_id, concept in registry.concepts().items():
        korean = concept.lesson.korean
        assert korean, f"{concept_id}: no Korean term in its title"
        assert all(part.strip() in terms for part in korean.split(",")), f"{concept_id}: {korean} is not in the glossary"


def test_the_glossary_follows_the_korean_edition():
    by_english = {t.english: t for t in GLOSSARY}
    assert by_english["initial weight values"].book == "가중치의 초깃값"
    assert by_english["overfitting"].book == "오버피팅" and by_english["overfitting"].notes == "과적합"
    sse = next(t for t in GLOSSARY if t.english.startswith("sum of squares for error"))
    assert (sse.book, sse.notes) == ("평균 제곱 오차", "오차제곱합")


# --- the built site --------------------------------------------------------------------------------


def test_results_json_carries_what_the_pages_need(small_report):
    results = json.loads(read(small_report / "results.json"))
    losses = next(c for c in results["concepts"] if c["id"] == "losses")
    assert "losses-loss-curves.png" in losses["figures"] and "study-notes-examples" in losses["tables"]
    assert {"meta", "timings", "checks"} <= set(results)


def test_front_page_links_every_concept_glossary_and_benchmark(small_report):
    index = read(small_report / "index.html")
    for target in ("concepts/softmax.html", "concepts/losses.html", "glossary.html", "bench/index.html"):
        assert f'href="{target}"' in index and (small_report / target).is_file()
    assert "sweep/" not in index, "no sweep was run, so there is no link to one"
    assert "How to read an error" in index and "How to verify your own code" in index
    assert index.count("<math") >= 2


def test_every_page_works_offline_on_a_phone(small_report):
    for page in pages(small_report):
        html = read(page)
        assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html, page
        assert "<script" not in html and "data:image" not in html, page
        assert not re.search(r'(?:src|href)="(?:https?:)?//', html), f"{page} loads something from the network"
        assert page.stat().st_size <= MAX_PAGE_BYTES, page
        for target in re.findall(r'(?:src|href)="([^"#]+)', html):
            assert (page.parent / target).exists(), f"{page}: {target} does not exist"


def test_concept_page_order_lesson_codes_differences_checks(small_report):
    html = read(small_report / "concepts" / "losses.html")
    positions = [html.index(f'id="{part}"') for part in ("lesson", "code", "differences", "checks")]
    assert positions == sorted(positions)
    assert html.index('<details class="checks">') > positions[3], "the check table is folded"
    assert '<h1>Loss functions <a class="ko" lang="ko"' in html and "손실 함수" in html


def test_concept_page_shows_the_study_notes_numbers_and_the_run_s_figures(small_report):
    html = read(small_report / "concepts" / "losses.html")
    assert "0.0975" in html and "0.5108" in html and "2.303" in html
    assert "9.8e-02" not in html and "9.8e-2" not in html and "1.0e+03" not in html
    lesson = html[html.index('id="lesson"'):html.index('id="code"')]
    assert "<b>Figure 1.</b>" in lesson and "<b>Figure 2.</b>" in lesson
    assert '<img src="../figures/losses-loss-curves.png"' in lesson
    assert lesson.count("<math") > 10


def test_the_two_codes_are_this_project_s_own(small_report):
    html = read(small_report / "concepts" / "softmax.html")
    code = html[html.index('id="code"'):html.index('id="differences"')]
    assert "scratch.activations.softmax" in code and "torch_ref.activations" in code
    assert 'class="hl"' in code, "highlighted by Pygments"
    assert ":math:" not in code, "never torch's library source"


def test_rebuilding_from_results_json_gives_the_same_pages(small_report, tmp_path):
    folder = tmp_path / "copy"
    shutil.copytree(small_report, folder)
    before = {p.relative_to(folder): p.read_bytes() for p in pages(folder)}
    for p in pages(folder):
        p.unlink()
    done = subprocess.run([sys.executable, "-m", "comparisons.site", "--from", str(folder)],
                          capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr
    assert {p.relative_to(folder): p.read_bytes() for p in pages(folder)} == before


def test_rebuilding_a_folder_without_a_report_is_a_usage_error(tmp_path):
    done = subprocess.run([sys.executable, "-m", "comparisons.site", str(tmp_path)], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 2 and "results.json" in done.stderr
    with pytest.raises(SiteError):
        build_site(tmp_path)


def test_the_sweep_page_appears_with_the_sweep(small_report, tmp_path):
    folder = tmp_path / "copy"
    shutil.copytree(small_report, folder)
    (folder / "sweep").mkdir()
    (folder / "sweep" / "sweep.json").write_text(json.dumps({"seeds": [0, 1, 2], "dtypes": ["float64"], "checks": [
        {"concept": "losses", "check": "SSE", "dtype": "float64", "runs": 3, "passed": 3, "pass_rate": 1.0,
         "worst_max_rel_err": 2.2e-16, "worst_max_abs_err": 1e-17, "worst_seed": 1, "failed_seeds": []},
        {"concept": "losses", "check": "CEE", "dtype": "float64", "runs": 3, "passed": 2, "pass_rate": 2 / 3,
         "worst_max_rel_err": 0.5, "worst_max_abs_err": 0.1, "worst_seed": 2, "failed_seeds": [2]}]}))
    build_site(folder)
    assert 'href="sweep/index.html"' in read(folder / "index.html")
    sweep = read(folder / "sweep" / "index.html")
    assert "1 of 2 checks passed at every seed" in sweep and "2.2e-16" in sweep


def test_glossary_page_links_the_concepts_that_ran(small_report):
    html = read(small_report / "glossary.html")
    assert "오차제곱합" in html and "평균 제곱 오차" in html and "가중치의 초깃값" in html
    assert 'href="concepts/losses.html"' in html
