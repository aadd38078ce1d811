"""The per-step checks of a lockstep run (see :mod:`comparisons.lockstep`): each quantity compared at
every step from the state both sides share, its worst errors kept, and a float32 step that parts
at a kink re-taken in float64 before it counts. Also the small helpers the sides share: loading
a state in place, and whether arrays are finite."""

from __future__ import annotations

import numpy as np

from .checks import TOLERANCES, Stepwise

NOTES = {"gradients": "A gradient element is a sum over the batch that can cancel to nearly 0; one ulp of its terms is "
                      "then a large part of it, so max_rel_err is large there while max_abs_err stays at rounding. "
                      "So each parameter's gradient is compared tensorwise: the relative part of the rule is taken "
                      "against the largest |element| of the same tensor."}


def flat_keys(arrays: dict, keys) -> np.ndarray:
    """The arrays under ``keys``, in that order, as one vector."""
    return np.concatenate([np.ravel(arrays[k]) for k in keys], dtype=np.float64)


class Lockstep:
    """The per-step checks of one training run: for each quantity, the worst error over all steps
    and the first step where the sides parted. ``record()`` writes one check per quantity.

    **float32 and kinks.** From one shared float32 state the two sides can still take different
    branches where float32 cannot tell the sign: a pre-activation within rounding of a ReLU's kink
    (or two logits within rounding of each other). Each side is then a correct float32 evaluation,
    and their gradients differ in the third digit. So a float32 step where the sides part is
    re-taken by ``referee()``: the same step, from the same state (its float32 values, exactly
    representable in float64), by both sides in float64. If the two agree there at float64's
    one-step tolerance, the math is the same and the float32 difference is rounding; the step is
    counted, and the notes give the steps and the float64 errors. If they do not, the float32
    mismatch is recorded as the failure it is.
    """

    def __init__(self, ctx, label: str, keep: bool = False):
        self.ctx, self.label = ctx, label
        self.parts: dict = {}
        self.steps = 0
        self.refereed: list[int] = []
        self.records: dict = {}  # quantity → its CheckRecord, once recorded
        self.referee_errors = Stepwise(*TOLERANCES["float64"]["exact"])
        self.history: dict | None = {} if keep else None  # quantity → ([NumPy's], [torch's]) per step, with ``keep``

    def _acc(self, quantity):
        return self.parts.setdefault(quantity, self.ctx.stepwise("exact"))

    def compare(self, step: int, quantity: str, actual, expected, scale=None) -> bool:
        """Compare one quantity of step ``step``; dicts of arrays are compared over torch's keys.
        ``scale``: the size of the summed terms (see :func:`comparisons.checks.close`)."""
        acc = self._acc(quantity)
        self.steps = max(self.steps, step + 1)
        pair = _as_vectors(actual, expected)
        if self.history is not None and not isinstance(pair, str):
            kept = self.history.setdefault(quantity, ([], []))
            kept[0].append(np.array(pair[0], dtype=np.float64))
            kept[1].append(np.array(pair[1], dtype=np.float64))
        if isinstance(pair, str):
            acc.steps += 1
            acc.problem = acc.problem or f"step {step}: {pair}"
            return False
        return acc.add(step, *pair, _default_scale(quantity, expected, scale))

    def step(self, step: int, pairs: dict, referee=None) -> bool:
        """Compare every quantity of one step (``pairs``: quantity → (NumPy, torch) or (NumPy,
        torch, scale)); in float32, a step that parts is re-taken in float64 by ``referee()`` (same
        keys) before it counts."""
        pairs = _with_scales(pairs)  # once per step: _agrees and compare both read them
        if referee is not None and self.ctx.dtype != "float64" and not self._agrees(pairs, self._acc):
            pairs64 = _with_scales(referee())
            if pairs64 and self._agrees(pairs64, lambda q: self.referee_errors):
                for quantity, (a, e, scale) in pairs64.items():
                    self.referee_errors.add(step, *_as_vectors(a, e), scale)
                self.refereed.append(step)
                for quantity in pairs:  # the step counts, its float32 errors do not
                    self._acc(quantity).steps += 1
                self.steps = max(self.steps, step + 1)
                return True
        return all([self.compare(step, q, a, e, scale) for q, (a, e, scale) in pairs.items()])

    @staticmethod
    def _agrees(pairs, acc_of) -> bool:
        for quantity, (a, e, scale) in pairs.items():
            pair = _as_vectors(a, e)
            if isinstance(pair, str) or not acc_of(quantity).agrees(*pair, scale):
                return False
        return True

    def record(self, note: str = "") -> None:
        if self.refereed:
            shown = ", ".join(map(str, self.refereed[:8])) + (" …" if len(self.refereed) > 8 else "")
            note = " ".join(filter(None, [note, (
                f"{len(self.refereed)} float32 step(s) parted (steps {shown}), at a branch float32 rounding decides; re-taken in float64 from the "
                f"same state, the two sides agree to {self.referee_errors.max_abs_err:.1e} (max abs err).")]))
        self.records = {quantity: self.ctx.record_stepwise(f"{self.label}: lockstep {quantity}", acc,
                                                           note=" ".join(filter(None, [note, NOTES.get(quantity)])))
                        for quantity, acc in self.parts.items()}

    @property
    def passed(self) -> bool:
        return all(acc.passed for acc in self.parts.values())


def _as_vectors(actual, expected):
    """Both sides as vectors (dicts over torch's keys, in sorted order), or a reason they cannot be."""
    if not isinstance(expected, dict):
        return actual, expected
    missing = sorted(set(expected) - set(actual))
    if missing:
        return f"the NumPy side has no {missing}"
    keys = sorted(expected)
    return flat_keys(actual, keys), flat_keys(expected, keys)


def _default_scale(quantity: str, expected, scale=None):
    """``scale`` where given; else a dict of gradients is compared tensorwise (:func:`tensorwise_scale`)."""
    if scale is None and quantity == "gradients" and isinstance(expected, dict):
        return tensorwise_scale(expected)
    return scale


def _with_scales(pairs: dict) -> dict:
    """``pairs`` (quantity → (NumPy, torch) or (NumPy, torch, scale)) with every scale filled in."""
    return {q: (a, e, _default_scale(q, e, *scale)) for q, (a, e, *scale) in pairs.items()}


def tensorwise_scale(arrays: dict) -> np.ndarray:
    """For dicts compared as one vector (torch's keys in sorted order): every element's scale is the
    largest |element| of its own array. The scale of a gradient whose elements are sums that can
    cancel: one ulp of the terms is then a sizeable part of an element near 0, never of the largest."""
    keys = sorted(arrays)
    sizes = [np.size(arrays[k]) for k in keys]
    return np.repeat([float(np.abs(arrays[k]).max()) if n else 0.0 for k, n in zip(keys, sizes)], sizes)


def load_into(params: dict, values: dict) -> None:
    """Copy ``values`` into the arrays of ``params`` in place (the NumPy side's layers hold these
    very arrays), so the next step starts from the shared state."""
    for key, value in values.items():
        params[key][...] = value


def finite(*arrays) -> bool:
    """Whether every number in ``arrays`` (arrays or scalars) is finite."""
    return all(bool(np.isfinite(a).all()) for a in arrays)
