"""What the verify tests share: a fixture file judged whole, as a user runs it from its folder."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

from comparisons.verify import verify, verify_file

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
BOOK, BOOK2, CS231N, SETS, PLANTED = (FIXTURES / n for n in ("book", "book2", "cs231n", "cs231n_sets", "planted"))


@contextmanager
def inside(folder: Path):
    before = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


def judged(folder: Path, relative: str, **kwargs):
    """({name: VerifyResult}, {name: why skipped}) of ``relative`` run from ``folder``."""
    with inside(folder):
        result = verify_file(relative, **kwargs)
    return {r.target: r for r in result.results}, dict(result.skipped)


def one(folder: Path, kind, target: str, against=None, hparams=None, **kwargs):
    with inside(folder):
        return verify(kind, target, against, hparams, **kwargs)
