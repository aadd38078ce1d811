"""Random hyperparameter search (하이퍼파라미터 최적화) in log space, with a narrowing step.

Learning rates and weight decays matter by orders of magnitude, so they are sampled uniformly in
their exponent: lr = 10^U(−6, −2). Random search covers each dimension better than a grid of the
same size (Bergstra & Bengio): with 100 trials every trial has its own lr, where a 10×10 grid
tries only 10 distinct values of each. After a first round, the ranges are narrowed to the
exponents of the best trials and sampled again.
"""

from __future__ import annotations

import numpy as np


def sample_trials(rng, ranges: dict, n: int) -> list[dict]:
    """``n`` trials, each a dict name → 10^U(low, high), from ``ranges`` = {name: (low, high)}
    given as base-10 exponents. Names are sampled in sorted order, so the same seed always gives
    the same trials."""
    if int(n) != n or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n}")
    for name, (low, high) in ranges.items():
        if not (np.isfinite(low) and np.isfinite(high) and low <= high):
            raise ValueError(f"range of {name!r} must be (low, high) exponents with low <= high, got {(low, high)}")
    exponents = {name: rng.uniform(*ranges[name], size=int(n)) for name in sorted(ranges)}
    return [{name: float(10.0 ** exponents[name][i]) for name in sorted(ranges)} for i in range(int(n))]


def narrow(trials: list[dict], scores, top_k: int) -> dict:
    """New ranges: for every hyperparameter, the min and max exponent among the ``top_k`` best
    trials (highest score)."""
    if not trials or len(trials) != len(scores):
        raise ValueError("trials and scores must be non-empty and of one length")
    if top_k < 1:
        raise ValueError(f"top_k must be >= 1, got {top_k}")
    order = np.argsort(-np.asarray(scores, dtype=float), kind="stable")[:top_k]
    best = [trials[i] for i in order]
    return {name: (float(min(np.log10(t[name]) for t in best)), float(max(np.log10(t[name]) for t in best)))
            for name in trials[0]}
