"""Random hyperparameter search (하이퍼파라미터 최적화) in log space, with a narrowing step.

Learning rates and weight decays matter by orders of magnitude, so they are sampled uniformly in
their exponent: lr = 10^U(−6, −2). Random search covers each dimension better than a grid of the
same size (Bergstra & Bengio): with 100 trials every trial has its own lr, where a 10×10 grid
tries only 10 distinct values of each. After a first round, the ranges are narrowed to the
exponents of the best trials and sampled again.
"""

from __future__ import annotations

import numpy as np

from ._checks import as_float_array, check_dict, check_int, check_real, check_rng, is_finite


def sample_trials(rng, ranges: dict, n: int) -> list[dict]:
    """``n`` trials, each a dict name → 10^U(low, high), from ``ranges`` = {name: (low, high)}
    given as base-10 exponents. Names are sampled in sorted order, so the same seed always gives
    the same trials."""
    check_rng(rng)
    check_dict(ranges, "ranges")
    n = check_int(n, "n", minimum=0)
    for name, bounds in ranges.items():
        _check_range(name, bounds)
    exponents = {name: rng.uniform(*ranges[name], size=n) for name in sorted(ranges)}
    return [{name: float(10.0 ** exponents[name][i]) for name in sorted(ranges)} for i in range(n)]


def narrow(trials: list[dict], scores, top_k: int) -> dict:
    """New ranges: for every hyperparameter, the min and max exponent among the ``top_k`` best
    trials (highest score)."""
    if check_real(top_k, "top_k") < 1:
        raise ValueError(f"top_k must be >= 1, got {top_k}")
    top_k = check_int(top_k, "top_k")
    scores = as_float_array(scores, "scores")
    if not isinstance(trials, (list, tuple)) or not trials or scores.shape != (len(trials),):
        raise ValueError(f"trials (a non-empty list of dicts) and scores must be of one length, "
                         f"got {type(trials).__name__} trials and scores{scores.shape}")
    for i, trial in enumerate(trials):
        _check_trial(trial, f"trials[{i}]", trials[0])
    order = np.argsort(-scores.astype(float), kind="stable")[:top_k]  # a NaN score ranks last
    best = [trials[i] for i in order]
    return {name: (float(min(np.log10(t[name]) for t in best)), float(max(np.log10(t[name]) for t in best)))
            for name in trials[0]}


def _check_trial(trial, name, first):
    """A trial maps the names of the first trial to values > 0 (each sampled as 10^exponent)."""
    check_dict(trial, name)
    if set(trial) != set(first):
        raise ValueError(f"{name} has the names {sorted(trial)}, trials[0] has {sorted(first)}")
    for key, value in trial.items():
        check_real(value, f"{name}[{key!r}]")
        if not (is_finite(value) and value > 0):
            raise ValueError(f"{name}[{key!r}] must be a finite value > 0 (sampled as 10^exponent), got {value}")


def _check_range(name, bounds):
    form = f"ranges[{name!r}] must be (low, high) exponents with low <= high, got {bounds!r}"
    if not isinstance(name, str):
        raise TypeError(f"the names in ranges must be strings, got {name!r}")
    if not isinstance(bounds, (tuple, list)) or len(bounds) != 2:
        raise TypeError(form)
    low, high = (check_real(b, f"ranges[{name!r}]") for b in bounds)
    if not (is_finite(low) and is_finite(high) and low <= high):
        raise ValueError(form)
