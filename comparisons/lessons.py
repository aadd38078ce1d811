"""A concept's lesson: the study-guide text of ``comparisons/concepts/<name>.md``.

A lesson file is Markdown behind a TOML front matter fenced by ``+++`` lines::

    +++
    id = "softmax"
    title = "Softmax and its overflow"
    korean = "소프트맥스 함수"                # the Korean term, as the glossary gives it
    pairs = [["function", "softmax"]]       # declared pairs (kind, id) shown side by side
    code = [["scratch.activations.softmax_backward", "torch_ref.activations.forward_backward"]]

    [[differences]]                          # textbook against PyTorch, each with its check
    topic = "overflow"
    textbook = "..."
    pytorch = "..."
    check = "softmax([1010, 1000, 990]) shifted"
    +++
    The lesson, with $math$, {{figure:NAME|CAPTION}}, {{value:NAME}} and {{finding:CHECK|TEXT}} ...

    ## Summary
    * what the page showed, as the book's chapters end (정리) ...

The front matter may also say where the book treats the concept (``chapter = '6.3'``; ``'II-5'``
for the second volume; ``beyond_book = true`` for a topic of the study notes the book does not
have, ``beyond_notes = true`` for one neither has, with ``chapter`` giving where it fits), which orders the guide's contents. The body's last
section, from a ``## Summary`` line, is the page's summary: the site puts it at the end of the page.

The lesson is text and nothing else: the run (``<name>.py``'s ``run(ctx)``) makes the numbers it
quotes, and the site fills them in (:mod:`comparisons.site.text`).

**The Korean edition.** ``<name>.ko.md`` beside it holds the same lesson in Korean. Its front
matter gives only what is said in words: ``title`` (Korean) and the ``[[differences]]`` rows
translated, one for each English row and in the same order, each naming the same ``check``.
Everything else (id, pairs, code, chapter, the Korean term) is the English lesson's; its body
ends with a ``## 정리`` section. ``load(name, language="ko")`` reads it.
"""

from __future__ import annotations

import dataclasses
import importlib
import re
import sys
from dataclasses import dataclass
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

FOLDER = Path(__file__).resolve().parent / "concepts"
FENCE = "+++"
LANGUAGES = ("en", "ko")
SUMMARY_HEADINGS = {"en": "Summary", "ko": "정리"}  # the heading of a lesson's last section
# what a Korean lesson's front matter may say; the rest is the English lesson's
TRANSLATED_KEYS = {"title", "differences"}


class LessonError(ValueError):
    """A lesson file that cannot be read: its path and what is wrong."""


@dataclass(frozen=True)
class Difference:
    """Where the textbook and PyTorch part ways, and the check of the run that proves the relation
    (or shows the difference)."""

    topic: str
    textbook: str
    pytorch: str
    check: str


@dataclass(frozen=True)
class Lesson:
    id: str
    title: str  # in the lesson's language
    korean: str  # the Korean term of the title
    pairs: tuple  # ((kind, id), ...) of comparisons.pairs
    code: tuple  # ((scratch dotted name, torch_ref dotted name), ...)
    differences: tuple  # (Difference, ...)
    text: str  # the Markdown body, without its summary
    path: Path
    summary: str = ""  # the Markdown of the last section (## Summary / ## 정리), without its heading
    chapter: str = ""  # where the book treats it: '6.3', 'II-5' (the second volume); '' when unknown
    beyond_book: bool = False  # a topic the book does not have (one of the study notes' unless beyond_notes)
    beyond_notes: bool = False  # a topic neither the book nor the study notes has (the transformer)
    language: str = "en"

    @property
    def full_title(self) -> str:
        """'Softmax and its overflow (소프트맥스 함수)': the title as the report lists it."""
        return f"{self.title} ({self.korean})" if self.korean and self.korean != self.title else self.title

    def code_objects(self) -> list[tuple]:
        """The ``code`` pairs as the objects they name."""
        return [(resolve(numpy_name), resolve(torch_name)) for numpy_name, torch_name in self.code]


def resolve(dotted: str):
    """``scratch.networks.MultiLayerNet.gradient`` → the object: the longest importable module
    prefix, then attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for name in parts[cut:]:
            obj = getattr(obj, name)
        return obj
    raise ImportError(f"cannot import {dotted!r}")


def split_front_matter(source: str, path: Path) -> tuple[dict, str]:
    """(front matter as a dict, Markdown body) of a lesson file's text."""
    lines = source.splitlines()
    if not lines or lines[0].strip() != FENCE:
        raise LessonError(f"{path}: a lesson starts with a '{FENCE}' line and its TOML front matter")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == FENCE)
    except StopIteration:
        raise LessonError(f"{path}: the front matter has no closing '{FENCE}' line") from None
    try:
        meta = tomllib.loads("\n".join(lines[1:end]))
    except tomllib.TOMLDecodeError as exc:
        raise LessonError(f"{path}: the front matter is not valid TOML ({exc})") from None
    return meta, "\n".join(lines[end + 1:]).strip() + "\n"


def split_summary(text: str, language: str = "en") -> tuple[str, str]:
    """(the body before its summary, the summary) of a lesson's Markdown: the summary is what follows
    a ``## Summary`` (``## 정리``) line, the last section."""
    heading = re.compile(rf"^##[ \t]+{re.escape(SUMMARY_HEADINGS[language])}[ \t]*$", re.M)
    found = list(heading.finditer(text))
    if not found:
        return text, ""
    cut = found[-1]
    return text[:cut.start()].rstrip() + "\n", text[cut.end():].strip() + "\n"


def _differences(rows, path: Path) -> tuple:
    try:
        return tuple(Difference(**row) for row in rows)
    except TypeError as exc:
        raise LessonError(f"{path}: a [[differences]] row needs topic, textbook, pytorch and check ({exc})") from None


def parse(source: str, path: Path) -> Lesson:
    meta, text = split_front_matter(source, path)
    missing = [k for k in ("id", "title") if not isinstance(meta.get(k), str) or not meta[k]]
    if missing:
        raise LessonError(f"{path}: the front matter needs {missing} (strings)")
    body, summary = split_summary(text, "en")
    return Lesson(id=meta["id"], title=meta["title"], korean=meta.get("korean", ""),
                  pairs=tuple(tuple(p) for p in meta.get("pairs", [])),
                  code=tuple(tuple(c) for c in meta.get("code", [])),
                  differences=_differences(meta.get("differences", []), path), text=body, path=path,
                  summary=summary, chapter=str(meta.get("chapter", "")),
                  beyond_book=bool(meta.get("beyond_book", False) or meta.get("beyond_notes", False)),
                  beyond_notes=bool(meta.get("beyond_notes", False)))


def parse_translation(source: str, path: Path, english: Lesson, language: str) -> Lesson:
    """The lesson in ``language`` from its file's text: its title, differences, body and summary,
    with everything else taken from the English ``english``."""
    meta, text = split_front_matter(source, path)
    if not isinstance(meta.get("title"), str) or not meta["title"]:
        raise LessonError(f"{path}: the front matter needs title (a string)")
    extra = sorted(set(meta) - TRANSLATED_KEYS)
    if extra:
        raise LessonError(f"{path}: the front matter may give only {sorted(TRANSLATED_KEYS)}; {extra} come from "
                          f"the English lesson {english.path.name}")
    differences = _differences(meta.get("differences", []), path)
    wanted, given = [d.check for d in english.differences], [d.check for d in differences]
    if given != wanted:
        raise LessonError(f"{path}: the [[differences]] rows must translate the English ones one for one, in "
                          f"order, naming the same checks: expected {wanted}, got {given}")
    body, summary = split_summary(text, language)
    return dataclasses.replace(english, title=meta["title"], differences=differences, text=body, summary=summary,
                               path=path, language=language)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise LessonError(f"{path}: cannot read the lesson ({exc.strerror})") from None


def load(name: str, folder: Path = FOLDER, language: str = "en") -> Lesson:
    """The lesson of the concept module ``name`` (``numerical_gradient``): ``<folder>/<name>.md``,
    or in another language ``<folder>/<name>.<language>.md`` (``language="ko"``)."""
    if language not in LANGUAGES:
        raise LessonError(f"unknown language {language!r}; expected one of {list(LANGUAGES)}")
    english = parse(_read(folder / f"{name}.md"), folder / f"{name}.md")
    if language == "en":
        return english
    path = folder / f"{name}.{language}.md"
    return parse_translation(_read(path), path, english, language)


def has_translation(name: str, language: str, folder: Path = FOLDER) -> bool:
    return language == "en" or (folder / f"{name}.{language}.md").is_file()
