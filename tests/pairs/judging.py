"""What the tests of a pair module share: scratch's object judged at seeds 0–4 in both dtypes,
each catalogued mistake judged once, and the book's second-volume files imported as the book runs
them (``common`` importable from the fixture's root)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

import scratch
from comparisons.verify import format_result, judge

SEEDS = range(5)
DTYPES = ("float64", "float32")
BOOK2 = Path(__file__).resolve().parent.parent / "fixtures" / "book2"


def agreement_cases(pairs_):
    """(pair, seed, dtype) for every pair: the parameters of a test that scratch agrees."""
    return [pytest.param(p, s, d, id=f"{p.id}-{d}-seed{s}") for p in pairs_ for d in DTYPES for s in SEEDS]


def mistake_cases(pairs_):
    return [pytest.param(p, m, id=f"{p.id}-{m.hint[:40]}") for p in pairs_ for m in p.mistakes]


def pair_of(pairs_, pid):
    return next(p for p in pairs_ if p.id == pid)


def assert_scratch_agrees(pair, seed, dtype):
    result = judge(pair, pair.scratch_object(scratch), pair.scratch, dtype=dtype, seed=seed)
    assert result.passed, format_result(result)
    return result


def assert_caught(pair, mistake):
    """The mistake differs and its hint is named; a convention agrees once its flag is given."""
    result = judge(pair, mistake.wrong, "catalogued")
    assert result.verdict == "differs", format_result(result)
    assert result.hint and mistake.hint in result.hint, format_result(result)
    if mistake.is_convention:
        assert mistake.flag_text() in result.hint
        again = judge(pair, mistake.wrong, "catalogued", dict(mistake.flag))
        assert again.passed, format_result(again)


def book2(relative: str):
    """Import a file of the book's second volume (tests/fixtures/book2) as the book runs it: its
    ``common`` package (a namespace package, as published) from the fixture's root. The modules
    the import adds to ``sys.modules`` are removed again, so that the first volume's ``common``
    (tests/fixtures/book) can be imported by other tests."""
    before = {k: v for k, v in sys.modules.items() if k == "common" or k.startswith(("common.", "ch0"))}
    for k in before:
        del sys.modules[k]
    sys.path.insert(0, str(BOOK2))
    try:
        path = BOOK2 / relative
        spec = importlib.util.spec_from_file_location(f"book2_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BOOK2))
        for k in [k for k in sys.modules if k == "common" or k.startswith(("common.", "ch0"))]:
            del sys.modules[k]
        sys.modules.update(before)
