"""What the tests of a pair module share: a pair found by its id, scratch's object judged, and the
book's second-volume files imported as the book runs them (``common`` importable from the
fixture's root)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import scratch
from comparisons.verify import format_result, judge

BOOK2 = Path(__file__).resolve().parent.parent / "fixtures" / "book2"


def pair_of(pairs_, pid):
    return next(p for p in pairs_ if p.id == pid)


def assert_scratch_agrees(pair, seed, dtype):
    result = judge(pair, pair.scratch_object(scratch), pair.scratch, dtype=dtype, seed=seed)
    assert result.passed, format_result(result)
    return result


def import_from(root: Path, name: str, packages: tuple):
    """Import ``name`` (a file relative to ``root``, or a dotted module under it) with ``root``
    importable, as its own code expects. The modules of ``packages`` (e.g. the book's ``common``,
    CS231n's ``cs231n``) that the import adds to ``sys.modules`` are removed again, and those there
    before put back: the two volumes of the book both name their package ``common``, every CS231n
    assignment its ``cs231n``."""
    def ours(k):
        return any(k == p or k.startswith(p + ".") for p in packages)

    before = {k: v for k, v in sys.modules.items() if ours(k)}
    for k in before:
        del sys.modules[k]
    sys.path.insert(0, str(root))
    try:
        if not name.endswith(".py"):
            return importlib.import_module(name)
        path = root / name
        spec = importlib.util.spec_from_file_location(f"fixture_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(root))
        for k in [k for k in sys.modules if ours(k)]:
            del sys.modules[k]
        sys.modules.update(before)


def book2(relative: str):
    """A file of the book's second volume (tests/fixtures/book2), its ``common`` package (a namespace
    package, as published) and chapters importable from the fixture's root."""
    return import_from(BOOK2, relative, ("common", "ch01", "ch04", "ch05", "ch06", "ch07", "ch08"))
