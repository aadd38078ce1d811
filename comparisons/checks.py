"""Check records and the error measures every comparison reports.

A check compares an ``actual`` array (the implementation under test, NumPy) with an ``expected``
one (PyTorch) under the rule of ``numpy.testing.assert_allclose``:

    |actual − expected| ≤ atol + rtol·|expected|   element by element,

but records instead of raising, and keeps the measured errors, so that 1e-16 and 1e-9 (both
passing) can be told apart.

``max_rel_err`` is CS231n's relative error, |a − e| / max(|a|, |e|), taken as 0 where both are 0
so it can never divide by zero. Near zero it can be large while the absolute error is tiny; the
pass rule's ``atol`` covers exactly those elements.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

# (atol, rtol) per dtype and per kind of check.
#   exact:   the same math, a handful of operations apart (one forward/backward, one step)
#   trained: the same math after many steps of training, where rounding differences accumulate
#   gradcheck: a numerical (finite-difference) gradient against an analytic one — not the same
#            math: truncation and rounding error of the difference quotient are expected (CS231n:
#            relative error < 1e-7 is fine in float64; float32 uses a larger step h)
TOLERANCES = {
    "float64": {"exact": (1e-12, 1e-10), "trained": (1e-10, 1e-9), "gradcheck": (1e-9, 1e-6)},
    "float32": {"exact": (1e-6, 1e-5), "trained": (1e-5, 1e-4), "gradcheck": (1e-4, 1e-2)},
}
KINDS = ("exact", "trained", "gradcheck", "statistical", "finding")


@dataclass
class CheckRecord:
    """One verdict. ``kind`` says what was compared:

    * ``exact`` / ``trained``: NumPy against PyTorch under ``atol``/``rtol``;
    * ``statistical``: a sample statistic against its expectation, tolerance from the sample size;
    * ``finding``: a fact the concept demonstrates (e.g. "naive softmax overflows"), passed when
      the fact holds; its errors, if any, are the measured size of the effect.
    """

    concept: str
    check: str
    passed: bool
    max_abs_err: float | None
    max_rel_err: float | None
    atol: float | None
    rtol: float | None
    dtype: str
    device: str
    seed: int
    kind: str = "exact"
    note: str = ""
    first_mismatch: dict | None = field(default=None)
    tol_ratio: float | None = None  # the largest |a − e| / (atol + rtol·|e|): how much of its tolerance it used


    def to_dict(self) -> dict:
        d = asdict(self)
        for key in ("max_abs_err", "max_rel_err", "atol", "rtol", "tol_ratio"):
            if d[key] is not None and not math.isfinite(d[key]):
                d[key] = str(d[key])  # JSON has no inf/nan
        return d


def measure(actual, expected) -> tuple[float, float]:
    """Return (max_abs_err, max_rel_err) of two arrays of one shape."""
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    if a.size == 0:
        return 0.0, 0.0
    fused = _finite_errors(a, e)
    if fused is not None:  # no inf or nan anywhere: the common case, in fewer passes
        return fused[:2]
    same = (a == e) | (np.isnan(a) & np.isnan(e))
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.where(same, 0.0, np.abs(a - e))
        scale = np.maximum(np.abs(a), np.abs(e))
        rel = np.divide(diff, scale, out=np.zeros_like(diff), where=scale > 0)
    diff = np.where(np.isnan(diff), np.inf, diff)
    rel = np.where(np.isnan(rel), np.inf, rel)
    return float(diff.max()), float(rel.max())


def first_mismatch(actual, expected, atol: float, rtol: float, scale=None) -> dict | None:
    """Where the allclose rule first fails: index and both values, or None when it holds."""
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    bad = ~close(a, e, atol, rtol, scale)
    if not bad.any():
        return None
    idx = np.unravel_index(int(np.argmax(bad)), a.shape) if a.ndim else ()
    return {"index": [int(i) for i in idx], "actual": float(a[idx]), "expected": float(e[idx])}


def close(a, e, atol: float, rtol: float, scale=None) -> np.ndarray:
    """Elementwise allclose rule; equal infinities and NaN-against-NaN count as close.

    ``scale`` (optional, broadcastable) is the size of the terms a result was summed from, e.g.
    |x|·|W| for x·W: a sum that cancels to near 0 keeps the rounding error of its terms (a dot
    product of n terms is exact to about n·u·Σ|xᵢwᵢ|, u the unit roundoff), so the relative part
    of the rule is taken against max(|expected|, scale) instead of |expected|."""
    a = np.asarray(a, dtype=np.float64)
    e = np.asarray(e, dtype=np.float64)
    ref = np.abs(e) if scale is None else np.maximum(np.abs(e), np.asarray(scale, dtype=np.float64))
    with np.errstate(invalid="ignore"):
        ok = np.abs(a - e) <= atol + rtol * ref
    return ok | (a == e) | (np.isnan(a) & np.isnan(e))


def tolerance_ratio(actual, expected, atol: float, rtol: float, scale=None) -> float:
    """The largest share of its tolerance an element used: max |a − e| / (atol + rtol·max(|e|, scale)),
    0 where the two are equal (NaN against NaN included), inf where only one is NaN or infinite.
    A check passes exactly when this is ≤ 1."""
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    if a.size == 0:
        return 0.0
    ref = np.abs(e) if scale is None else np.maximum(np.abs(e), np.asarray(scale, dtype=np.float64))
    same = (a == e) | (np.isnan(a) & np.isnan(e))
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        ratio = np.where(same, 0.0, np.abs(a - e) / (atol + rtol * ref))
    ratio = np.where(np.isnan(ratio), np.inf, ratio)
    return float(ratio.max())


def linear_term_scales(x, W, b, dout) -> dict:
    """The size of the terms each result of an affine layer y = x.reshape(N, −1) W + b is summed
    from (the ``scale`` of :func:`close`): forward |x||W| + |b|, dx |dout||W|ᵀ (in x's shape),
    dW |x|ᵀ|dout|, db Σ|dout|. An output that cancels to near 0 is judged against these."""
    x2, ad, aW = np.abs(np.reshape(x, (len(x), -1))), np.abs(dout), np.abs(W)
    return {"forward": x2 @ aW + np.abs(b), "dx": (ad @ aW.T).reshape(np.shape(x)), "dW": x2.T @ ad, "db": ad.sum(0)}


def batchnorm_term_scales(x, dout, axes, eps: float = 1e-5) -> dict:
    """The size of the terms batch norm's parameter gradients are summed from over ``axes`` (the
    batch, and for images the positions): dγ = Σ dout·x̂ from Σ|dout·x̂|, dβ = Σ dout from Σ|dout|
    (the ``scale`` of :func:`close`). A channel whose sum cancels to near 0 is judged against these."""
    x, dout = np.asarray(x, dtype=np.float64), np.asarray(dout, dtype=np.float64)
    x_hat = (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(x.var(axis=axes, keepdims=True) + eps)
    return {"dgamma": np.abs(dout * x_hat).sum(axis=axes), "dbeta": np.abs(dout).sum(axis=axes)}


def _finite_errors(a: np.ndarray, e: np.ndarray, atol: float | None = None, rtol: float | None = None, scale=None):
    """(max_abs_err, max_rel_err, allclose, tolerance ratio) of two float64 arrays from one
    |a − e|, or None when either holds an inf or nan (then :func:`measure`, :func:`close` and
    :func:`tolerance_ratio` handle them); the verdict and the ratio are None when no tolerance is
    given. The same numbers as those functions, computed once: a lockstep run compares every step."""
    if a.size == 0:
        return 0.0, 0.0, True, 0.0
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(a - e)
    worst = float(diff.max())
    if not math.isfinite(worst):
        return None
    if worst == 0.0:
        return 0.0, 0.0, True, 0.0
    abs_e = np.abs(e)
    both = np.maximum(np.abs(a), abs_e)
    rel = float(np.divide(diff, both, out=np.zeros_like(diff), where=both > 0).max())
    if atol is None:
        return worst, rel, None, None
    if scale is not None:
        np.maximum(abs_e, scale, out=abs_e)
    bound = abs_e
    bound *= rtol
    bound += atol
    ok = bool(np.all(diff <= bound))
    # where the bound is 0 (atol 0, e and scale 0) an element used all of it only if it differs
    with np.errstate(over="ignore"):
        ratio = np.divide(diff, bound, out=np.where(diff > 0, np.inf, 0.0), where=bound > 0)
    return worst, rel, ok, float(ratio.max())


def _errors_and_verdict(a: np.ndarray, e: np.ndarray, atol: float, rtol: float, scale=None):
    """(max_abs_err, max_rel_err, allclose, tolerance ratio) of two float64 arrays of one shape: in
    one pass where all is finite, else by :func:`measure`, :func:`close` and :func:`tolerance_ratio`."""
    fused = _finite_errors(a, e, atol, rtol, scale)
    if fused is not None:
        return fused
    return (*measure(a, e), bool(np.all(close(a, e, atol, rtol, scale))), tolerance_ratio(a, e, atol, rtol, scale))


@dataclass
class Stepwise:
    """One quantity compared at every step of a run (a lockstep check): the worst errors over all
    steps and the first step where the allclose rule failed, kept as the steps go so that a run of
    thousands of steps never holds more than one step's arrays.

    ``first_mismatch`` gains the key ``step``: where the two sides first parted.
    """

    atol: float
    rtol: float
    steps: int = 0
    max_abs_err: float = 0.0
    max_rel_err: float = 0.0
    first_mismatch: dict | None = None
    problem: str | None = None
    tol_ratio: float = 0.0

    def add(self, step: int, actual, expected, scale=None) -> bool:
        """Compare one step's ``actual`` (under test) with ``expected`` (PyTorch); False on a mismatch.
        ``scale``: the size of the summed terms (see :func:`close`)."""
        a, e = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
        self.steps += 1
        if a.shape != e.shape:
            self.problem = self.problem or f"shape mismatch at step {step}: under test {a.shape}, PyTorch {e.shape}"
            return False
        abs_err, rel_err, ok, ratio = _errors_and_verdict(a, e, self.atol, self.rtol, scale)
        self.tol_ratio = max(self.tol_ratio, ratio)
        self.max_abs_err = max(self.max_abs_err, abs_err)
        self.max_rel_err = max(self.max_rel_err, rel_err)
        if not ok and self.first_mismatch is None:
            self.first_mismatch = {"step": step, **first_mismatch(a, e, self.atol, self.rtol, scale)}
        return ok

    def agrees(self, actual, expected, scale=None) -> bool:
        """Whether one step's pair passes, without adding it."""
        a, e = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
        if a.shape != e.shape:
            return False
        return _errors_and_verdict(a, e, self.atol, self.rtol, scale)[2]

    @property
    def passed(self) -> bool:
        return self.steps > 0 and self.problem is None and self.first_mismatch is None
