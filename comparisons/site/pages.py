"""The pages of one edition: the front page, a page per concept, the glossary, the benchmark and
the sweep (see :mod:`comparisons.site`)."""

from __future__ import annotations

import functools
import json
import re
from dataclasses import astuple

import pandas as pd

from .. import pairs as declared_pairs
from ..checks import TOLERANCES
from . import code, links, navigation, numbers
from .sweep_page import sweep_page
from .tables import frame_html, read_table
from .text import Renderer, escape, mathml, plain_text

RELATION = re.compile(r"Relation checked exactly: “(?P<check>[^”]+)”")


def write_edition(site, edition) -> None:
    _index_page(site, edition)
    order = navigation.reading_order(site.contents[edition.language])
    by_id = {c.id: c for c in site.concepts}
    for i, cid in enumerate(order):
        if cid in by_id:
            previous = by_id.get(order[i - 1]) if i > 0 else None
            following = by_id.get(order[i + 1]) if i + 1 < len(order) else None
            _concept_page(site, edition, by_id[cid], previous, following)
    _glossary_page(site, edition)
    if site.has_bench:
        _bench_page(site, edition)
    if site.has_sweep:
        sweep_page(site, edition)


def _template(edition, name: str) -> str:
    return f"{edition.language}/{name}"


# --- the front page -------------------------------------------------------------------------------


def _matrix(site, edition) -> list[dict]:
    """One row per concept, in the order of the contents: its checks passed per dtype, and how much
    of its tolerance the closest of them used."""
    by_id = {c.id: c for c in site.concepts}
    numbers_of = {e.id: e.number for chapter in site.contents[edition.language] for e in chapter.entries}
    rows = []
    for cid in navigation.reading_order(site.contents[edition.language]):
        c = by_id[cid]
        lesson = site.lesson(edition, c)
        cells = []
        for d, (ok, n) in c.verdicts(site.dtypes).items():
            judged = [x for x in c.checks if x["dtype"] == d and x.get("kind") != "finding"]
            share = numbers.worst_share(judged)
            cells.append({"dtype": d, "ok": ok, "n": n, "passed": n > 0 and ok == n,
                          "share": numbers.share_text(share, edition.words), "share_kind": share[0]})
        other = (lesson.korean if edition.language == "en" else c.lesson.title) if lesson else ""
        rows.append({"id": cid, "title": site.title(edition, c), "number": numbers_of.get(cid, ""), "other": other,
                     "cells": cells})
    return rows


def _coverage(site) -> dict:
    """Which of the book's chapters the concepts cover: {'volume_1': [2, 3, …], 'volume_2': [...],
    'beyond': [titles]} for the front page's first sentence."""
    volume_1, volume_2 = set(), set()
    for c in site.concepts:
        if c.lesson is None or c.lesson.beyond_book:
            continue
        key = navigation.chapter_key(c.lesson.chapter)
        if key == "II":
            volume_2.update(int(n) for n in re.findall(r"\d+", c.lesson.chapter))
        elif key.isdigit():
            volume_1.add(int(key))
    return {"volume_1": _span(volume_1), "volume_2": _span(volume_2)}


def _span(chapters: set) -> str:
    """{2, 3, 4, 5, 6, 7} → '2–7'; {2, 4} → '2, 4'."""
    if not chapters:
        return ""
    ordered = sorted(chapters)
    if ordered == list(range(ordered[0], ordered[-1] + 1)) and len(ordered) > 1:
        return f"{ordered[0]}–{ordered[-1]}"
    return ", ".join(map(str, ordered))


def _index_page(site, edition) -> None:
    results = site.results
    total = len(results["checks"])
    passed = sum(bool(c["passed"]) for c in results["checks"])
    block = '<div class="math-display">{}</div>'.format
    math = {"a": mathml("a"), "e": mathml("e"), "abs": mathml(r"|a - e|"),
            "allclose": block(mathml(r"|a - e| \le \mathrm{atol} + \mathrm{rtol} \cdot |e|", True)),
            "rel": block(mathml(r"\max \frac{|a - e|}{\max(|a|, |e|)}", True)),
            "share": mathml(r"\max |a - e| \,/\, \mathrm{atol}")}
    words = edition.words
    headings = [navigation.Heading(key, words[f"index_{key}"]) for key in ("concepts", "errors", "verify", "more")]
    site.write(edition, "index.html", _template(edition, "index.html"), title=edition.words["site_name"],
               matrix=_matrix(site, edition), dtypes=site.dtypes, total=total, passed=passed, tolerances=TOLERANCES,
               concepts=site.concepts, math=math, coverage=_coverage(site), contents_list=site.contents[edition.language],
               onpage=headings)


# --- a concept's page -----------------------------------------------------------------------------


def _figure_html(site, concept, assets: str, words):
    """The ``figure(name, number, caption)`` of a Renderer for one page: the whole figure, and on a
    phone, where the run saved it panel by panel, the panels one below the other."""
    from . import png_size

    folder = site.folder / "figures"

    def figure(name, number, caption):
        filename = concept.figure_file(name)
        if filename is None:
            return None
        size = png_size(folder / filename)
        dims = f' width="{size[0]}" height="{size[1]}"' if size else ""
        alt = escape(plain_text(caption) or name)
        src = f"{assets}figures/{escape(filename)}"
        panels = sorted(folder.glob(f"{filename[:-4]}.panel-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
        whole = f'<a class="whole" href="{src}"><img src="{src}" alt="{alt}"{dims}></a>'
        if len(panels) < 2:
            return (f'<figure id="figure-{escape(name)}"><a href="{src}"><img src="{src}" alt="{alt}"{dims}></a>'
                    f'<figcaption><b>{words["figure"]} {number}.</b> {caption}</figcaption></figure>')
        shown = []
        for k, path in enumerate(panels, 1):
            psize = png_size(path)
            pdims = f' width="{psize[0]}" height="{psize[1]}"' if psize else ""
            shown.append(f'<img src="{assets}figures/{escape(path.name)}" alt="{alt} ({k}/{len(panels)})"{pdims}>')
        return (f'<figure id="figure-{escape(name)}" class="has-panels">{whole}'
                f'<div class="panels">{"".join(shown)}</div>'
                f'<figcaption><b>{words["figure"]} {number}.</b> {caption}</figcaption></figure>')

    return figure


def _table_html(site, concept, words):
    def table(name, number, caption):
        frame = read_table(site.folder, concept.id, name)
        if frame is None:
            return None
        return (f'<figure class="table" id="table-{escape(name)}"><figcaption><b>{words["table"]} {number}.</b> '
                f'{caption}</figcaption>{frame_html(frame)}</figure>')

    return table


def _code_pairs(lesson, words) -> tuple[list[dict], list[navigation.Heading]]:
    """The two codes of each pair, each listing shown once per page: a helper that several pairs
    share is shown the first time and linked after that."""
    found = []
    for kind, pair_id in lesson.pairs if lesson else []:
        left, right = code.declared(declared_pairs.get(kind, pair_id))
        found.append((left, right, kind, pair_id))
    for numpy_obj, torch_obj in lesson.code_objects() if lesson else []:
        left, right = code.pair(numpy_obj, torch_obj)
        found.append((left, right, None, None))
    shown: dict[str, str] = {}
    out, headings = [], []
    for i, (left, right, kind, pair_id) in enumerate(found, 1):
        anchor = f"code-{i}"
        sides = []
        for side, listing in (("numpy", left), ("torch", right)):
            key = listing.name
            if key in shown:
                html = (f'<p class="same">{words["same_as_above"].format(name=f"<code>{escape(key)}</code>")}: '
                        f'<a href="#{shown[key]}">↑</a></p>')
            else:
                shown[key] = f"{anchor}-{side}"
                html = listing.html
            sides.append({"name": listing.name, "where": listing.where, "html": html, "id": f"{anchor}-{side}"})
        note = ""
        if pair_id:
            note = words["declared_pair"].format(
                pair=f"<code>{escape(kind)} {escape(pair_id)}</code>",
                command=f"<code>python -m comparisons verify {escape(kind)} FILE.py:NAME --against {escape(pair_id)}</code>")
        out.append({"id": anchor, "numpy": sides[0], "torch": sides[1], "note": note})
        headings.append(navigation.Heading(anchor, f"<code>{escape(left.name.rsplit('.', 1)[-1])}</code>"))
    return out, headings


def _difference_verdict(record, by_check, words) -> tuple[str, str]:
    """(class, words) for the last column of the differences table: how the run proved the row."""
    if record is None:
        return "", words["not_run"]
    err = record.get("max_abs_err")
    has_err = isinstance(err, (int, float)) and not isinstance(err, bool)
    relation = RELATION.search(record.get("note") or "")
    if record.get("kind") == "finding":
        if relation and has_err:
            related = by_check.get(relation["check"])
            holds = related is not None and related["passed"]
            if not record["passed"]:
                return "fail", words["differs_not_shown"]
            return ("pass" if holds else "fail"), words["differs_holds" if holds else "differs_broken"].format(
                err=numbers.error(err))
        return ("pass", words["shown"]) if record["passed"] else ("fail", words["not_shown"])
    share = numbers.tolerance_share(record)
    if not record["passed"]:
        return "fail", words["fails_ratio"].format(err=numbers.error(err) if has_err else "–")
    if share[0] == "ratio":
        return "pass", words["agrees_ratio"].format(ratio=numbers.share_text(share, words))
    if share[0] == "rtol":
        return "pass", words["agrees_rtol"].format(err=numbers.error(err))
    return "pass", words["shown"]


def _check_rows(concept, words) -> list[dict]:
    rows = []
    for x in concept.checks:
        share = numbers.tolerance_share(x)
        tolerance = (f"{numbers.error(x['atol'])}, {numbers.error(x['rtol'])}"
                     if x.get("atol") is not None and x.get("rtol") is not None else "–")
        rows.append({"record": x, "share": numbers.share_text(share, words), "share_kind": share[0],
                     "abs": numbers.error(x.get("max_abs_err")), "tolerance": tolerance})
    return rows


def _concept_page(site, edition, c, previous, following) -> None:
    words = edition.words
    lesson = site.lesson(edition, c)
    translated = lesson is not None and lesson.language == edition.language
    assets = "../" * (edition.prefix + "concepts/").count("/")
    render = Renderer(figure=_figure_html(site, c, assets, words), table=_table_html(site, c, words),
                      facts=c.facts(), language=edition.language)
    guide = render.block(lesson.text) if lesson else ""
    summary = render.block(lesson.summary) if lesson and lesson.summary else ""

    more_figures = [render.figure(f[len(c.id) + 1:-4], render.figure_count + i + 1, "")
                    for i, f in enumerate(x for x in c.figures if x[len(c.id) + 1:-4] not in render.placed.figures)]
    more_figures = [f for f in more_figures if f]
    more_tables = []
    for name in c.tables:
        if name in render.placed.tables or name == "values":  # the values are quoted in the text
            continue
        frame = read_table(site.folder, c.id, name)
        if frame is not None:
            more_tables.append({"name": name, "html": frame_html(frame), "rows": len(frame)})

    ids = [x.id for x in site.concepts]
    linker = _term_linker(edition, "../")
    done: set = set()

    def prose(html):  # another concept's id links to its page; a term's first mention to the glossary
        return linker.link(links.link_concept_ids(html, ids, lambda cid: f"{cid}.html", here=c.id), done)

    guide, lead_ins = links.lead_ins(prose(guide), "lesson")
    summary = prose(summary)

    pairs, code_headings = _code_pairs(lesson, words)
    by_check = {}
    for x in c.checks:
        by_check.setdefault(x["check"], x)
    differences = []
    for topic, textbook, pytorch, check in (astuple(d) for d in lesson.differences) if lesson else []:
        record = by_check.get(check)
        verdict_class, verdict = _difference_verdict(record, by_check, words)
        differences.append({"topic": render.inline(topic), "textbook": render.inline(textbook),
                            "pytorch": render.inline(pytorch), "check": check, "record": record,
                            "verdict": verdict, "verdict_class": verdict_class})

    headings = [navigation.Heading("lesson", words["lesson"], lead_ins)]
    if more_tables:
        headings.append(navigation.Heading("tables", words["tables"]))
    headings.append(navigation.Heading("code", words["code"], code_headings if len(code_headings) > 1 else []))
    if differences:
        headings.append(navigation.Heading("differences", words["differences"]))
    headings.append(navigation.Heading("checks", words["checks"]))
    if summary:
        headings.append(navigation.Heading("summary", words["summary"]))

    def neighbour(other):
        return (other.id, site.title(edition, other)) if other else None

    pager_args = (neighbour(previous), neighbour(following), lambda cid: f"{cid}.html", words)
    subtitle = (lesson.korean if edition.language == "en" else c.lesson.title) if lesson else ""
    failed = [x for x in c.checks if not x["passed"]]
    site.write(edition, f"concepts/{c.id}.html", "concept.html", current=c.id,
               onpage=headings if navigation.worth_a_list(headings) else None,
               title=site.title(edition, c), subtitle=subtitle, concept=c, translated=translated,
               where=_where(lesson, site, edition), guide=guide, summary=summary,
               more_figures=more_figures, more_tables=more_tables, pairs=pairs, differences=differences,
               failed=failed, verdicts=c.verdicts(site.dtypes), checks=_check_rows(c, words),
               pager_top=navigation.pager_html(*pager_args, "top"),
               pager_bottom=navigation.pager_html(*pager_args, "bottom"),
               csv_tables=words["csv_tables"].format(path=f"<code>tables/{escape(c.id)}-*.csv</code>"),
               checks_csv=words["checks_csv"].format(path=f"<code>tables/{escape(c.id)}-checks.csv</code>"),
               glossary_href="../glossary.html" + (f"#{_anchor_of_title(lesson)}" if lesson else ""))


def _where(lesson, site, edition) -> str:
    """'The book: section 6.3.' / a topic beyond the book, after which section it fits."""
    if lesson is None or not lesson.chapter:
        return ""
    words = edition.words
    chapter = lesson.chapter
    if chapter.startswith(navigation.VOLUME_2):
        n = chapter[len(navigation.VOLUME_2):]
        place = words["book_volume_2_chapters" if re.search(r"[–,-]", n) else "book_volume_2"].format(n=n)
    elif chapter == "notes":
        return ""
    else:
        place = words["book_section"].format(n=chapter)
    kind = "beyond_notes" if lesson.beyond_notes else "beyond_book" if lesson.beyond_book else "in_book"
    return words[kind].format(where=place)


def _anchor_of_title(lesson) -> str:
    from ..glossary import GLOSSARY

    for term in GLOSSARY:
        if lesson.korean and lesson.korean in (term.korean, term.book, term.notes):
            return term.anchor
    return ""


@functools.lru_cache(maxsize=None)
def _term_linker(edition, up: str) -> links.TermLinker:
    from ..glossary import GLOSSARY

    forms = [(form, term.anchor) for term in GLOSSARY for form in term.forms(edition.language)]
    return links.TermLinker(forms, lambda anchor: f"{up}glossary.html#{anchor}")


# --- the glossary -----------------------------------------------------------------------------------


def _glossary_page(site, edition) -> None:
    from ..glossary import GLOSSARY, sorted_korean

    titles = {c.id: site.title(edition, c) for c in site.concepts}
    terms = sorted_korean(GLOSSARY) if edition.language == "ko" else sorted(GLOSSARY, key=lambda t: t.english.lower())
    groups: dict[str, list] = {}
    for term in terms:
        key = term.initial() if edition.language == "ko" else term.english[:1].upper()
        key = key or ("A–Z" if edition.language == "ko" else key)
        links_ = [{"id": cid, "title": titles.get(cid, cid), "here": cid in titles} for cid in term.concepts]
        where = term.where or ""
        if edition.language == "ko" and where.startswith("ch. "):
            where = f"{where[4:]}장"
        groups.setdefault(key, []).append({"term": term, "links": links_, "where": where})
    headings = [navigation.Heading(f"group-{i}", escape(k)) for i, k in enumerate(groups)]
    site.write(edition, "glossary.html", _template(edition, "glossary.html"), title=edition.words["glossary"],
               groups=list(groups.items()), onpage=headings)


# --- the benchmark ----------------------------------------------------------------------------------


BENCH_HEADINGS = {
    "en": {"network": "network", "batch": "batch", "dtype": "dtype", "side": "side", "median ms/step": "median ms per step",
           "IQR ms": "IQR (ms)", "÷ NumPy": "÷ NumPy", "form": "form", "median ms": "median ms",
           "÷ nn.Conv2d": "÷ nn.Conv2d"},
    "ko": {"network": "신경망", "batch": "배치", "dtype": "dtype", "side": "쪽", "median ms/step": "한 단계 중앙값 (ms)",
           "IQR ms": "사분위 범위 (ms)", "÷ NumPy": "÷ NumPy", "form": "방식", "median ms": "중앙값 (ms)",
           "÷ nn.Conv2d": "÷ nn.Conv2d"},
}


def _conv_elsewhere(site, data) -> dict | None:
    """The convolution page's own timing of nn.Conv2d beside this benchmark's, when both exist: the
    same layer timed in two runs."""
    frame = read_table(site.folder, "convolution", "timing")
    if frame is None or not data.get("conv"):
        return None
    page = frame[frame["form"].str.startswith("nn.Conv2d")]
    bench = [r for r in data["conv"] if r["form"].startswith("nn.Conv2d") and r["dtype"] == "float64"]
    if page.empty or not bench:
        return None
    return {"page_ms": numbers.sig(float(page["median ms"].iloc[0])), "bench_ms": numbers.sig(round(bench[0]["median ms"], 2))}


def _bench_page(site, edition) -> None:
    data = json.loads((site.folder / "bench" / "bench.json").read_text(encoding="utf-8"))
    headings = BENCH_HEADINGS[edition.language]
    frame = pd.DataFrame(data["rows"])
    conv = pd.DataFrame(data.get("conv") or [])
    meta = data.get("meta", {})
    provenance = edition.words["footer_bench"].format(
        repeats=escape(meta.get("repeats", "?")), numpy=escape(meta.get("numpy", "?")),
        torch=escape(meta.get("torch", "?")), cpu=escape(meta.get("cpu", "?")))
    site.write(edition, "bench/index.html", _template(edition, "bench.html"), title=edition.words["bench"], bench=data,
               table=frame_html(frame, headings=headings, first="network"),
               has_figure=(site.folder / "bench" / "bench.png").is_file(),
               conv_table=frame_html(conv, headings=headings, first="form") if len(conv) else "",
               has_conv_figure=(site.folder / "bench" / "bench-conv.png").is_file(),
               conv_elsewhere=_conv_elsewhere(site, data), provenance=provenance,
               onpage=[navigation.Heading(key, edition.words[f"bench_{key}"]) for key in ("steps", "conv")
                       if key == "steps" or len(conv)])
