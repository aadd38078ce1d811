"""The guide in two languages from one run: every page in English and in Korean, each linking to
its counterpart; the Korean lessons say in Korean what the English ones say, quoting the same
findings and values of the run, and leave no English sentence behind."""

import re
from pathlib import Path

import pytest

from comparisons import lessons, registry
from comparisons.site import ConceptRun, concept_runs, load_results
from comparisons.site.text import Facts, GuideError, Renderer

from .conftest import REPORTS

CONCEPTS = list(registry.concepts())
MARKER = re.compile(r"\{\{(figure|table|value|finding):([^|}]+)")


def english_pages(folder: Path) -> set:
    return {p.relative_to(folder) for p in folder.rglob("*.html") if p.relative_to(folder).parts[0] != "ko"}


def test_every_page_exists_in_both_languages(committed_site):
    english = english_pages(committed_site)
    korean = {p.relative_to(committed_site / "ko") for p in (committed_site / "ko").rglob("*.html")}
    assert english == korean
    expected = {Path("index.html"), Path("glossary.html"), Path("bench/index.html"), Path("sweep/index.html")}
    expected |= {Path(f"concepts/{concept_id}.html") for concept_id in CONCEPTS}
    assert expected <= english


def test_every_page_links_to_its_counterpart_in_the_other_language(committed_site):
    for relative in english_pages(committed_site):
        english = (committed_site / relative).read_text(encoding="utf-8")
        korean = (committed_site / "ko" / relative).read_text(encoding="utf-8")
        up = "../" * len(relative.parts)
        assert f'href="{up[3:]}ko/{relative.as_posix()}"' in english or f'href="ko/{relative.as_posix()}"' in english, relative
        assert f'href="{up}{relative.as_posix()}"' in korean, relative
        assert english.startswith('<!DOCTYPE html>\n<html lang="en">') and korean.startswith('<!DOCTYPE html>\n<html lang="ko">')


def test_every_concept_has_a_korean_lesson():
    missing = [c.name for c in registry.concepts().values() if not lessons.has_translation(c.name, "ko")]
    assert not missing, f"no <name>.ko.md for {missing}"


def test_the_korean_lesson_takes_its_code_and_checks_from_the_english_one():
    english, korean = lessons.load("softmax"), lessons.load("softmax", language="ko")
    assert korean.language == "ko" and korean.path.name == "softmax.ko.md"
    assert (korean.id, korean.pairs, korean.code, korean.chapter, korean.korean) == \
        (english.id, english.pairs, english.code, english.chapter, english.korean)
    assert korean.title != english.title and re.search(r"[가-힣]", korean.title)
    assert [d.check for d in korean.differences] == [d.check for d in english.differences]


ENGLISH = """+++
id = 'demo'
title = 'Demo'
korean = '데모'
pairs = [['function', 'softmax']]

[[differences]]
topic = 't'
textbook = 'a'
pytorch = 'b'
check = 'the check'
+++
Text.

## Summary

* One point.
"""


@pytest.mark.parametrize("front, message", [
    ("title = '데모'\npairs = [['function', 'relu']]", "may give only"),
    ("title = '데모'", "one for one"),
    ("title = '데모'\n[[differences]]\ntopic = '주제'\ntextbook = '가'\npytorch = '나'\ncheck = 'another check'", "one for one"),
    ("korean = '데모'", "needs title"),
])
def test_a_korean_lesson_gives_only_words_and_translates_every_difference(tmp_path, front, message):
    (tmp_path / "demo.md").write_text(ENGLISH, encoding="utf-8")
    (tmp_path / "demo.ko.md").write_text(f"+++\n{front}\n+++\n본문.\n", encoding="utf-8")
    with pytest.raises(lessons.LessonError, match=message):
        lessons.load("demo", folder=tmp_path, language="ko")


def test_the_summary_is_the_last_section_of_either_language(tmp_path):
    (tmp_path / "demo.md").write_text(ENGLISH, encoding="utf-8")
    (tmp_path / "demo.ko.md").write_text(
        "+++\ntitle = '데모'\n[[differences]]\ntopic = '주제'\ntextbook = '가'\npytorch = '나'\ncheck = 'the check'\n+++\n"
        "본문.\n\n## 정리\n\n* 요점 하나.\n", encoding="utf-8")
    english, korean = lessons.load("demo", folder=tmp_path), lessons.load("demo", folder=tmp_path, language="ko")
    assert english.text.strip() == "Text." and english.summary.strip() == "* One point."
    assert korean.text.strip() == "본문." and korean.summary.strip() == "* 요점 하나."


# --- what the lessons quote -------------------------------------------------------------------------


def committed_runs() -> dict:
    results = load_results(REPORTS)
    return {c.id: c for c in concept_runs(REPORTS, results)}


def lesson_text(lesson) -> str:
    rows = " ".join(f"{d.topic} {d.textbook} {d.pytorch}" for d in lesson.differences)
    return f"{lesson.title}\n\n{lesson.text}\n\n{lesson.summary}\n\n{rows}"


def quoted(lesson) -> dict:
    found: dict = {}
    for kind, name in MARKER.findall(lesson_text(lesson)):
        found.setdefault(kind, set()).add(" ".join(name.split()))
    return found


def render(lesson, facts: Facts, language: str) -> str:
    """The lesson as its page shows it: text, summary, and the differences' cells."""
    r = Renderer(figure=lambda name, n, caption: f"<figure>{caption}</figure>",
                 table=lambda name, n, caption: f"<figure>{caption}</figure>", facts=facts, language=language)
    cells = "".join(f"<p>{r.inline(d.topic)} {r.inline(d.textbook)} {r.inline(d.pytorch)}</p>" for d in lesson.differences)
    return f"<h1>{lesson.title}</h1>" + r.block(lesson.text) + r.block(lesson.summary) + cells


@pytest.fixture(scope="module")
def runs():
    if not (REPORTS / "results.json").is_file():
        pytest.skip("no committed report in reports/")
    return committed_runs()


@pytest.mark.parametrize("concept_id", CONCEPTS)
def test_both_editions_quote_only_what_the_committed_run_recorded(runs, concept_id):
    run: ConceptRun = runs[concept_id]
    for language in ("en", "ko"):
        lesson = run.lesson_in(language)
        assert lesson.language == language
        render(lesson, run.facts(), language)  # a GuideError names a quote the run never recorded


@pytest.mark.parametrize("concept_id", CONCEPTS)
def test_the_korean_lesson_places_the_same_figures_and_quotes_every_outcome_the_english_one_quotes(concept_id):
    name = registry.get(concept_id).name
    english, korean = quoted(lessons.load(name)), quoted(lessons.load(name, language="ko"))
    for kind in ("figure", "table"):
        assert korean.get(kind, set()) == english.get(kind, set()), f"{concept_id}: {kind}s placed differently"
    for kind in ("value", "finding"):
        missing = english.get(kind, set()) - korean.get(kind, set())
        assert not missing, f"{concept_id}: the Korean lesson does not quote the {kind}s {sorted(missing)}"


@pytest.mark.parametrize("concept_id", CONCEPTS)
def test_every_lesson_ends_with_a_summary_in_both_languages(concept_id):
    name = registry.get(concept_id).name
    for language in ("en", "ko"):
        lesson = lessons.load(name, language=language)
        assert lesson.summary.strip().startswith("*"), f"{concept_id} ({language}): no summary list"


# --- no English left in a Korean lesson -----------------------------------------------------------------

ENGLISH_RUN = re.compile(r"(?:\b[A-Za-z][A-Za-z'’-]*[\s,;:()“”\"]+){5}[A-Za-z][A-Za-z'’-]*\b")
UNTRANSLATED = re.compile(r"<(code|pre|math)\b.*?</\1>|<(\w+)[^>]*\blang=\"en\"[^>]*>.*?</\2>", re.S)


def english_runs(html: str) -> list[str]:
    """Runs of six or more English words in a page's text, outside code, math and what is marked
    lang="en" (names of checks, English titles)."""
    text = re.sub(r"<[^>]+>", " ", UNTRANSLATED.sub(" ", html))
    return [m[0] for m in ENGLISH_RUN.finditer(text)]


def test_the_english_detector_finds_a_sentence_and_passes_code_and_math():
    assert english_runs("<p>이 문장은 한국어이고 this sentence was left in English by mistake.</p>")
    assert not english_runs("<p>코드 <code>python -m comparisons verify layer my_layers.py:Relu --against relu</code>는"
                            ' 그대로 둡니다. <span lang="en">digits training: lockstep loss before the update</span></p>')
    assert not english_runs('<p>수식 <math><mi>a</mi><mi>b</mi><mi>c</mi><mi>d</mi><mi>e</mi><mi>f</mi></math>.</p>')


@pytest.mark.parametrize("concept_id", CONCEPTS)
def test_no_english_sentence_is_left_in_a_korean_lesson(runs, concept_id):
    run = runs[concept_id]
    html = render(run.lesson_in("ko"), run.facts(), "ko")
    assert not english_runs(html), f"{concept_id}: English left in the Korean lesson: {english_runs(html)[:3]}"


def test_no_english_sentence_is_left_on_a_korean_page(committed_site):
    for page in (committed_site / "ko").rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        main = html[html.index("<main"):html.index("</main>")]
        main = re.sub(r'<div class="pair">.*?</div>\s*</div>', " ", main, flags=re.S)  # the two codes
        main = re.sub(r"<table class=\"(?:checks|cards)\b.*?</table>", " ", main, flags=re.S)  # the run's own tables
        assert not english_runs(main), f"{page}: {english_runs(main)[:3]}"


def test_a_quote_the_run_never_recorded_stops_the_korean_edition_too(runs):
    lesson = lessons.load("softmax", language="ko")
    planted = lesson.text + "\n\n{{value:a value no run records}}\n"
    with pytest.raises(GuideError, match="a value no run records"):
        Renderer(facts=runs["softmax"].facts(), language="ko").block(planted)


@pytest.mark.parametrize("concept_id", CONCEPTS)
def test_both_editions_quote_only_what_a_quick_run_records(concept_id):
    """The quick set-ups name some checks differently (their sizes), so the lessons quote only
    what both set-ups record (the quick run is cached for the whole test session)."""
    from ..conftest import run_concept

    ctx = run_concept(concept_id, "float64")
    facts = Facts(concept_id, {r.check: r.passed for r in ctx.records}, dict(ctx.values))
    name = registry.get(concept_id).name
    for language in ("en", "ko"):
        render(lessons.load(name, language=language), facts, language)
    records = {r.check for r in ctx.records}
    for d in lessons.load(name).differences:
        assert d.check in records, f"{concept_id}: the difference {d.topic!r} names a check the quick run does not record"


def test_rebuilding_an_older_report_lists_the_new_pages_as_the_project_s_own(small_report, tmp_path):
    """A report written before the Korean edition gains ko/… when its pages are rebuilt; its marker
    lists them, so the next `run --out` may replace the folder, while a file the user added stays
    foreign to it."""
    import shutil

    from comparisons import outdir
    from comparisons.site import build_site

    folder = tmp_path / "report"
    shutil.copytree(small_report, folder)
    shutil.rmtree(folder / "ko")
    outdir.mark_as_written(folder, "python -m comparisons run")
    (folder / "my-notes.txt").write_text("mine", encoding="utf-8")
    build_site(folder)
    assert (folder / "ko" / "index.html").is_file()
    assert [p.name for p in outdir.foreign_paths(folder)] == ["my-notes.txt"]
