"""The outcomes of a training run that a guide quotes: final accuracies and the train − test gap.

A guide never states an outcome the run did not show (see :mod:`comparisons.site.text`): these
helpers keep the run's numbers with ``ctx.value`` and the comparisons between variants with
``ctx.observed``, so the text can say "the gap narrows from 0.31 to 0.12" only where it did.
"""

from __future__ import annotations


def quote_accuracies(ctx, variant: str, frame) -> dict:
    """Keep the last epoch's train and test accuracy of ``variant`` (NumPy's, an
    ``AccuracyTracker`` frame) and their gap as ``"<variant>: train accuracy"``, ``…: test
    accuracy``, ``…: gap`` (train − test), and observes whether training accuracy reached 1.0
    (``…: train accuracy reaches 1``). Returns the three numbers by name."""
    last = frame.iloc[-1]
    train, test = float(last["train NumPy"]), float(last["test NumPy"])
    ctx.value(f"{variant}: train accuracy", train)
    ctx.value(f"{variant}: test accuracy", test)
    ctx.value(f"{variant}: gap", train - test)
    ctx.observed(f"{variant}: train accuracy reaches 1", bool((frame["train NumPy"] >= 1.0).any()))
    return {"train": train, "test": test, "gap": train - test}


def quote_gap(ctx, name: str, base: dict, other: dict) -> bool:
    """Observe (no verdict) whether ``other``'s train − test gap is narrower than ``base``'s."""
    return ctx.observed(name, other["gap"] < base["gap"])
