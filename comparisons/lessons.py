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

The lesson is text and nothing else: the run (``<name>.py``'s ``run(ctx)``) makes the numbers it
quotes, and the site fills them in (:mod:`comparisons.site.text`).
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

FOLDER = Path(__file__).resolve().parent / "concepts"
FENCE = "+++"


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
    title: str  # English
    korean: str  # the Korean term of the title
    pairs: tuple  # ((kind, id), ...) of comparisons.pairs
    code: tuple  # ((scratch dotted name, torch_ref dotted name), ...)
    differences: tuple  # (Difference, ...)
    text: str  # the Markdown body
    path: Path

    @property
    def full_title(self) -> str:
        """'Softmax and its overflow (소프트맥스 함수)': the title as the report lists it."""
        return f"{self.title} ({self.korean})" if self.korean else self.title

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


def parse(source: str, path: Path) -> Lesson:
    meta, text = split_front_matter(source, path)
    missing = [k for k in ("id", "title") if not isinstance(meta.get(k), str) or not meta[k]]
    if missing:
        raise LessonError(f"{path}: the front matter needs {missing} (strings)")
    try:
        differences = tuple(Difference(**row) for row in meta.get("differences", []))
    except TypeError as exc:
        raise LessonError(f"{path}: a [[differences]] row needs topic, textbook, pytorch and check ({exc})") from None
    return Lesson(id=meta["id"], title=meta["title"], korean=meta.get("korean", ""),
                  pairs=tuple(tuple(p) for p in meta.get("pairs", [])),
                  code=tuple(tuple(c) for c in meta.get("code", [])), differences=differences, text=text, path=path)


def load(name: str, folder: Path = FOLDER) -> Lesson:
    """The lesson of the concept module ``name`` (``numerical_gradient``): ``<folder>/<name>.md``."""
    path = folder / f"{name}.md"
    try:
        source = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise LessonError(f"{path}: cannot read the lesson ({exc.strerror})") from None
    return parse(source, path)
