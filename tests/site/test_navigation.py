"""Finding one's way: a contents list in the book's order with its chapter numbers on every page,
an "on this page" list on long pages, previous/next at the top and the bottom in the order of the
contents, every mention of another concept linked to its page, and every glossary term with an
anchor that the pages link to."""

import re

import pytest

from comparisons import registry
from comparisons.glossary import GLOSSARY, sorted_korean
from comparisons.site import navigation

CONCEPTS = list(registry.concepts())
BOOK_ORDER = ["xor-mlp", "activations", "softmax", "losses", "numerical-gradient", "gradient-descent",
              "linear-regression", "delta-rule", "minibatch", "mlp-backprop", "optimizers", "lr-schedules",
              "weight-init", "batchnorm", "regularization", "dropout", "early-stopping", "hyperparameter-search",
              "convolution", "rnn", "attention", "transformer", "multitask"]


def read(path):
    return path.read_text(encoding="utf-8")


def sidebar_ids(html: str) -> list[str]:
    side = html[html.index('<aside class="sidebar">'):html.index("</aside>")]
    return re.findall(r'href="(?:\.\./)*(?:concepts/)?([a-z0-9-]+)\.html"', side)


@pytest.mark.parametrize("chapter, key", [("3.2", (1, 3, 2)), ("6.4.3", (1, 6, 4, 3)), ("II-5–6", (2, 5)), ("notes", (3,))])
def test_chapters_sort_in_the_book_s_order(chapter, key):
    assert navigation.sort_key(chapter) == key


def test_the_contents_follow_the_book_s_chapters(committed_site):
    for language, page in (("en", "index.html"), ("ko", "ko/index.html")):
        html = read(committed_site / page)
        assert sidebar_ids(html) == BOOK_ORDER, language
        side = html[html.index('<aside class="sidebar">'):html.index("</aside>")]
        assert ('<span class="num">Chapter 6</span>' if language == "en" else '<span class="num">6장</span>') in side
        assert '<span class="num">6.3</span>' in side, "each page carries its section number"


@pytest.mark.parametrize("page", ["index.html", "concepts/rnn.html", "glossary.html", "sweep/index.html"])
def test_every_page_has_the_contents_as_a_sidebar_and_as_a_menu(committed_site, page):
    for prefix in ("", "ko/"):
        html = read(committed_site / prefix / page)
        assert html.count('<nav class="contents"') == 2, "one in the sidebar (laptop), one in the menu (phone)"
        assert '<details class="menu"><summary>' in html
        assert "<script" not in html


@pytest.mark.parametrize("concept_id", CONCEPTS)
def test_previous_and_next_follow_the_contents_at_the_top_and_the_bottom(committed_site, concept_id):
    i = BOOK_ORDER.index(concept_id)
    for prefix in ("", "ko/"):
        html = read(committed_site / prefix / "concepts" / f"{concept_id}.html")
        top = re.search(r'<nav class="pager top".*?</nav>', html, re.S)[0]
        bottom = re.search(r'<nav class="pager bottom".*?</nav>', html, re.S)[0]
        assert top == bottom.replace("pager bottom", "pager top")
        assert html.index(top) < html.index('id="lesson"') < html.index('id="summary"') < html.rindex(bottom)
        if i > 0:
            assert f'href="{BOOK_ORDER[i - 1]}.html" rel="prev"' in top
        if i + 1 < len(BOOK_ORDER):
            assert f'href="{BOOK_ORDER[i + 1]}.html" rel="next"' in top


@pytest.mark.parametrize("concept_id", CONCEPTS)
def test_the_on_this_page_list_leads_to_the_page_s_own_sections(committed_site, concept_id):
    for prefix in ("", "ko/"):
        html = read(committed_site / prefix / "concepts" / f"{concept_id}.html")
        onpage = re.search(r'<details class="onpage-menu">.*?</details>', html, re.S)
        assert onpage, "a concept page is longer than two screens"
        targets = re.findall(r'href="#([^"]+)"', onpage[0])
        assert {"lesson", "code", "checks", "summary"} <= set(targets)
        for target in targets:
            assert f'id="{target}"' in html, f"{concept_id}: #{target} leads nowhere"


def test_every_mention_of_another_concept_links_to_its_page(committed_site):
    ids = "|".join(re.escape(c) for c in CONCEPTS)
    mentions = 0
    for page in committed_site.rglob("concepts/*.html"):
        html = read(page)
        main = html[html.index('id="lesson"'):html.index('id="code"')]
        for m in re.finditer(rf"<code>({ids})</code>", main):
            if m[1] == page.stem:
                continue
            mentions += 1
            assert main[:m.start()].endswith(f'<a class="xref" href="{m[1]}.html">'), f"{page}: {m[1]} is not a link"
    assert mentions >= 10


def test_every_glossary_term_has_an_anchor_in_both_editions(committed_site):
    anchors = [t.anchor for t in GLOSSARY]
    assert len(set(anchors)) == len(anchors), "two terms share an anchor"
    for page in ("glossary.html", "ko/glossary.html"):
        html = read(committed_site / page)
        for anchor in anchors:
            assert f'<tr id="{anchor}">' in html, f"{page}: no anchor {anchor}"


def test_the_korean_glossary_is_in_korean_dictionary_order(committed_site):
    html = read(committed_site / "ko/glossary.html")
    shown = re.findall(r'<tr id="[^"]+"><td class="lead" data-label="[^"]+"><b>([^<]+)</b>', html)
    assert shown == [t.korean for t in sorted_korean(GLOSSARY)]
    hangul = [k for k in shown if re.match(r"[가-힣]", k)]
    assert hangul == sorted(hangul) and hangul[0].startswith("가")
    groups = re.findall(r'<h2 id="group-\d+">([^<]+)</h2>', html)
    consonants = "ㄱㄴㄷㄹㅁㅂㅅㅇㅈㅊㅋㅌㅍㅎ"
    assert groups[0] == "ㄱ" and groups[:-1] == sorted(groups[:-1], key=consonants.index) and groups[-1] == "A–Z"


def test_terms_on_the_pages_link_to_their_glossary_entry(committed_site):
    anchors = {t.anchor for t in GLOSSARY}
    for prefix in ("", "ko/"):
        html = read(committed_site / prefix / "concepts" / "batchnorm.html")
        linked = re.findall(r'<a class="term" href="\.\./glossary\.html#([^"]+)">([^<]+)</a>', html)
        assert linked and {anchor for anchor, _ in linked} <= anchors
        assert "term-batch-normalization" in {anchor for anchor, _ in linked}
        assert len(linked) == len({anchor for anchor, _ in linked}), "only a term's first mention is linked"
