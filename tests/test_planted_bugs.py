"""Planted bugs are caught: the same comparisons, with one piece of scratch replaced by a broken one,
must report failed checks (and name the right ones)."""

import numpy as np
import pytest

import scratch
from comparisons.implementation import with_overrides

from .conftest import failed_checks, run_concept


class SigmoidMissingFactor(scratch.layers.Sigmoid):
    """backward forgets the (1 − y) factor: dx = dout · y."""

    def backward(self, dout):
        return dout * self._y


def sse_without_half(y, t):
    return np.sum((np.asarray(y) - np.asarray(t)) ** 2)


def softmax_without_shift(x, axis=-1):
    e = np.exp(np.asarray(x, dtype=float))
    return e / e.sum(axis=axis, keepdims=True)


def relu_grad_one_at_zero(x):
    return (np.asarray(x) >= 0).astype(float)


def cee_sum_not_mean(y, t, delta=1e-7):
    return scratch.losses.cross_entropy_error(y, t, delta) * np.atleast_2d(y).shape[0]


def numerical_diff_forward_only(f, x, h=1e-4, method="central"):
    return (f(x + h) - f(x)) / h


def linreg_fit_lr_twice(x, y, a0, b0, lr, batches, loss="squared"):
    return scratch.linear_regression.fit(x, y, a0, b0, 2 * lr, batches, loss)


class LinearOneSampleAsBatch(scratch.layers.Linear):
    """Treats one sample (in,) as a batch of one: returns (1, out) where nn.Linear returns (out,)."""

    def forward(self, x):
        return super().forward(np.atleast_2d(x))

    def backward(self, dout):
        return super().backward(np.atleast_2d(dout))


class SoftmaxBackwardOverAxis1(scratch.layers.Softmax):
    """Sums Σ dout ⊙ y over axis 1: the last axis of a 2-D batch, the wrong one of a 3-D input."""

    def forward(self, x):
        self.y = scratch.activations.softmax(x, axis=-1)
        return self.y

    def backward(self, dout):
        return self.y * (dout - np.sum(dout * self.y, axis=1, keepdims=True))


PLANTED = [
    ("activations", {"layers.Sigmoid": SigmoidMissingFactor}, "sigmoid layer: backward dx"),
    ("losses", {"losses.sum_squared_error": sse_without_half}, "SSE"),
    ("softmax", {"activations.softmax": softmax_without_shift}, "softmax([1010, 1000, 990]) shifted"),
    ("activations", {"activations.relu_grad": relu_grad_one_at_zero}, "relu'(0) = 0 as torch"),
    ("losses", {"losses.cross_entropy_error": cee_sum_not_mean}, "CEE"),
    ("numerical-gradient", {"gradients.numerical_diff": numerical_diff_forward_only}, "numerical vs autograd"),
    ("linear-regression", {"linear_regression.fit": linreg_fit_lr_twice}, "parameters after every step"),
    ("mlp-backprop", {"layers.Linear": LinearOneSampleAsBatch}, "Linear forward, one sample (in,)"),
    ("softmax", {"layers.Softmax": SoftmaxBackwardOverAxis1}, "softmax backward (3-D, axis −1)"),
]


@pytest.mark.parametrize("concept_id, overrides, expected", PLANTED, ids=[p[2] for p in PLANTED])
def test_planted_bug_is_caught(concept_id, overrides, expected):
    with np.errstate(over="ignore", invalid="ignore"):
        ctx = run_concept(concept_id, impl=with_overrides(overrides))
    failed = failed_checks(ctx)
    assert failed, f"planted bug {overrides} went unnoticed"
    assert any(expected in name for name in failed), failed
    for r in ctx.records:
        if not r.passed and r.kind in ("exact", "trained") and r.first_mismatch:
            assert {"index", "actual", "expected"} <= set(r.first_mismatch)


def test_overrides_leave_scratch_untouched():
    impl = with_overrides({"activations.sigmoid": softmax_without_shift})
    assert impl.activations.sigmoid is softmax_without_shift
    assert scratch.activations.sigmoid is not softmax_without_shift


def test_bad_override_names():
    with pytest.raises(ValueError, match="submodule.name"):
        with_overrides({"sigmoid": len})
    with pytest.raises(ValueError, match="no submodule"):
        with_overrides({"nothing.sigmoid": len})
    with pytest.raises(ValueError, match="did you mean activations.sigmoid"):
        with_overrides({"activations.sigmiod": len})


def test_an_overridden_run_says_what_was_replaced():
    from comparisons.context import RunOptions
    from comparisons.runner import run_metadata

    impl = with_overrides({"activations.relu_grad": relu_grad_one_at_zero, "losses.sum_squared_error": sse_without_half})
    meta = run_metadata(RunOptions(impl=impl), 0.0)
    assert meta["replaced"] == ["activations.relu_grad", "losses.sum_squared_error"]
    assert "activations.relu_grad" in meta["implementation"]
