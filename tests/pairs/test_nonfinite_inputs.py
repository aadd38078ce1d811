"""NaN and ±inf as PyTorch treats them, as recorded checks. The declarations' inputs hold them wherever
PyTorch defines the result: activations and their derivatives, the elementwise and softmax layers,
max and average pooling, clip_grad_norm and the losses. scratch gives PyTorch's value on every one
of those checks, at every seed, in both dtypes, and the concepts record them. In ``verify`` they are
shown, not counted: a user's code that agrees at every number and treats NaN its own way (CS231n's
``dout * (x > 0)``, its max pooling's ``x == max``) agrees, with a note naming where it parts; the
book's ReLU, ``mask = (x <= 0)``, passes the gradient at NaN exactly as PyTorch does, so it agrees
with no note at all."""

import numpy as np
import pytest

import scratch
from comparisons import pairs
from comparisons.context import ConceptContext, RunOptions
from comparisons.pairs._base import NONFINITE
from comparisons.verify import format_result, judge, verify

from ..verify.files import BOOK, CS231N, judged

DTYPES = ("float64", "float32")
SEEDS = [0] + [pytest.param(seed, marks=pytest.mark.slow) for seed in range(1, 5)]  # seed 0 here, all in make test-all

WITH_NONFINITE = {
    "function": {"sigmoid", "tanh", "relu", "leaky-relu", "elu", "identity", "step", "softmax", "sigmoid-grad", "tanh-grad",
                 "relu-grad", "leaky-relu-grad", "elu-grad", "identity-grad", "clip-grad-norm"},
    "layer": {"relu", "sigmoid", "tanh", "leaky-relu", "elu", "identity", "softmax", "max-pool", "avg-pool",
              "softmax-with-loss"},
    "loss": {"cross-entropy", "softmax-cross-entropy", "mse", "sse", "mae"},
}
PAIRS = [pairs.get(kind, pid) for kind, ids in WITH_NONFINITE.items() for pid in sorted(ids)]


def nonfinite_checks(result):
    return [r for r in result.records if NONFINITE in r.check]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: f"{p.kind}-{p.id}")
def test_scratch_gives_pytorchs_value_at_nan_and_inf(pair, dtype, seed):
    result = judge(pair, pair.scratch_object(scratch), pair.scratch, dtype=dtype, seed=seed, steps=30)
    checks = nonfinite_checks(result)
    assert checks and all(r.passed for r in checks), format_result(result)
    assert result.passed and not result.notes, format_result(result)


def test_these_are_exactly_the_declarations_with_nan_and_inf_inputs():
    ctx = ConceptContext("inputs", RunOptions(), "float64", None)
    found = {}
    for pair in pairs.PAIRS.values():
        if pair.inputs is None:
            continue
        labels = [label for label, value in pair.inputs(ctx).items() if NONFINITE in str(label)]
        for label in labels:
            value = pair.inputs(ctx)[label]
            arrays = [np.asarray(v, dtype=float) for v in (value if isinstance(value, tuple) else (value,))
                      if isinstance(v, np.ndarray)]
            infinite_log = "probability 0" in label and (arrays[0] == 0).any()  # log 0 = −inf inside the loss
            assert infinite_log or any(not np.isfinite(a).all() for a in arrays), (pair.id, label)
        if labels:
            found.setdefault(pair.kind, set()).add(pair.id)
    clip = {"function": {"clip-grad-norm"}}  # its NaN and inf cases are the driver's own
    assert {k: found.get(k, set()) | clip.get(k, set()) for k in WITH_NONFINITE} == WITH_NONFINITE


@pytest.mark.parametrize("kind, pid", [("layer", "relu"), ("function", "relu-grad"), ("layer", "max-pool"),
                                       ("function", "clip-grad-norm"), ("function", "softmax")])
def test_a_rule_broken_at_nan_fails_the_recorded_check(kind, pid):
    """What scratch did before it followed PyTorch (ReLU'(NaN) = 0, max pooling's gradient lost at a
    NaN, clip_grad_norm leaving NaN gradients unscaled), and a softmax that skips NaN rows: each fails
    a check on NaN inputs, while every check on numbers passes."""
    wrong = {"relu": ReluBlockedAtNan, "relu-grad": lambda x: (np.asarray(x) > 0).astype(np.asarray(x).dtype),
             "max-pool": PoolingLosesNan, "clip-grad-norm": clip_leaves_nan, "softmax": softmax_nan_to_zero}[pid]
    result = judge(pairs.get(kind, pid), wrong, "wrong at NaN")
    assert result.passed, format_result(result)  # shown, not counted
    assert any(not r.passed for r in nonfinite_checks(result))
    assert any("at NaN and ±inf inputs your results part from PyTorch's" in n for n in result.notes)


class ReluBlockedAtNan(scratch.layers.ReLU):
    _grad = staticmethod(lambda x: (np.asarray(x) > 0).astype(np.asarray(x).dtype))


class PoolingLosesNan(scratch.conv.Pooling):
    """The gradient of a window goes where the window equals its maximum: nowhere when it holds a NaN."""

    def backward(self, dout):
        dx = super().backward(dout)
        return np.where(np.isnan(self._x_for_test), 0.0, dx)

    def forward(self, x):
        self._x_for_test = np.asarray(x)
        return super().forward(x)


def clip_leaves_nan(grads, max_norm):
    total = np.sqrt(sum(np.sum(np.asarray(g) ** 2) for g in grads))
    if max_norm / (total + 1e-6) < 1:  # never true for a NaN total
        for g in grads:
            g *= max_norm / (total + 1e-6)
    return total


def softmax_nan_to_zero(x):
    return np.nan_to_num(scratch.activations.softmax(x))


def test_correct_code_that_treats_nan_its_own_way_agrees_with_a_note():
    found, _ = judged(CS231N, "layers.py")
    for name in ("relu_forward/relu_backward", "max_pool_forward_naive/max_pool_backward_naive"):
        assert found[name].passed, format_result(found[name])
        assert any("at NaN and ±inf inputs" in n for n in found[name].notes)
    book, _ = judged(BOOK, "common/layers.py")
    assert book["Relu"].passed and not book["Relu"].notes  # mask = (x <= 0): PyTorch's own rule at NaN


def test_a_step_function_through_np_heaviside_agrees_with_a_note():
    result = verify("function", lambda x: np.heaviside(x, 0.0), "step")
    assert result.passed and any("NaN" in n for n in result.notes)


def test_no_catalogued_mistake_hides_behind_nan():
    for pair in PAIRS:
        for mistake in pair.mistakes:
            result = judge(pair, mistake.wrong, "catalogued", steps=30)
            assert result.verdict == "differs" and mistake.hint in result.hint, format_result(result)


@pytest.mark.parametrize("dtype", DTYPES)
def test_the_activations_concept_records_them(dtype):
    from comparisons import registry

    concept = registry.concepts()["activations"]
    ctx = ConceptContext(concept.id, RunOptions(quick=True), dtype, None)
    concept.run(ctx)
    recorded = [r for r in ctx.records if NONFINITE in r.check]
    assert len(recorded) >= 2 * 15 and all(r.passed for r in recorded)
    assert any("relu layer" in r.check and "backward" in r.check for r in recorded)
