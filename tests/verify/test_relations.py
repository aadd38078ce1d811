"""When the numbers differ and no catalogued mistake explains them, verify names the relation between
the user's tensor and the reference's — and only one that holds exactly, here and at a second point.
Each slip of tests/fixtures/planted/slips.py is listed in no catalogue."""

import numpy as np
import pytest

from comparisons import pairs, relations
from comparisons.verify import format_result

from .files import PLANTED, one

TOL = (1e-12, 1e-10)

SLIPS = [
    ("layer", "AffineDxSign", "linear", "backward dx", "yours = −1 × PyTorch's"),
    ("layer", "AffineDWTwice", "linear", "backward dW", "yours = 2 × PyTorch's"),
    ("layer", "SigmoidMeanGrad", "sigmoid", "backward dx", "yours = 1/N (= 0.0625) × PyTorch's"),
    ("layer", "TanhTimesBatch", "tanh", "backward dx", "yours = N (= 16) × PyTorch's"),
    ("layer", "DropoutForwardUnscaled", "dropout", "training: kept units", "yours = 1 − p (= 0.5) × PyTorch's"),
    ("layer", "TimeAffineDWTransposed", "time-affine", "backward dW", "transposed: yours = PyTorch'sᵀ"),
    ("layer", "SoftmaxOverBatch", "softmax", "forward", "taken along axis 0"),
    ("function", "sigmoid_plus_constant", "sigmoid", "edge values", "yours = PyTorch's + 0.001, a constant offset"),
    ("layer", "LeakyReluMaskAtZero", "leaky-relu", "backward dx", "differs only where the input is exactly 0"),
    ("layer", "SigmoidDerivativeAtInput", "sigmoid", "backward dx", "the derivative is taken at the input: σ'(u)"),
    ("layer", "TanhDerivativeAtInput", "tanh", "backward dx", "the derivative is taken at the input: tanh'(u)"),
    ("layer", "LayerNormEpsOutside", "layer-norm", "forward", "ε is outside the square root"),
    ("layer", "LayerNormOwnEps", "layer-norm", "forward", "your ε is 1e-07, where PyTorch's is 1e-05: --hparam eps=1e-07"),
    ("layer", "LayerNormUnbiased", "layer-norm", "forward", "the variance is the unbiased one"),
    ("optimizer", "AdaGradOwnEps", "adagrad", "parameters after the step (step 0 first)", "your ε is 1e-08"),
    ("optimizer", "AdaGradAbs", "adagrad", "parameters after the step", "|g| is accumulated where g² belongs"),
    ("optimizer", "RMSpropNoAverage", "rmsprop", "parameters after the step", "misses its (1 − ρ)"),
    ("optimizer", "AveragingMomentum", "momentum", "parameters after the step", "your velocity is an average"),
    ("optimizer", "AdamFirstStepUncorrected", "adam", "parameters after the step", "at the first step only"),
]


@pytest.mark.parametrize("kind, name, against, where, relation", SLIPS, ids=[s[1] for s in SLIPS])
def test_an_uncatalogued_slip_is_named_by_its_relation(kind, name, against, where, relation):
    result = one(PLANTED, kind, f"slips.py:{name}", against, steps=30)
    assert result.verdict == "differs"
    hint = result.hint or ""
    assert relation in hint, format_result(result)
    assert where in hint.partition(" parts first")[0], hint  # which quantity parts first
    assert "it holds at a second point too" in hint and "yours [" in hint and "PyTorch's [" in hint


def test_the_catalogue_comes_first():
    result = one(PLANTED, "layer", "slips.py:Affine", "linear")
    assert result.passed
    from comparisons.pairs.layers import LinearDWSign
    from comparisons.verify import judge

    caught = judge(pairs.get("layer", "linear"), LinearDWSign, "catalogued")
    assert caught.hint.startswith("your numbers match a known mistake: dW has the wrong sign")


def test_a_relation_must_explain_every_element():
    rng = np.random.default_rng(0)
    e = rng.normal(size=(4, 5))
    a = -e
    a[1, 2] += 1e-6  # one element off: no factor explains it
    assert relations.explain(a, e, TOL) is None
    assert relations.explain(-e, e, TOL).key == ("factor", ("−1",))


def test_a_factor_has_every_name_it_could_have_until_a_second_point_chooses():
    half = relations.factor(np.ones(3) * 0.5, np.ones(3), TOL, [("1 − p", 0.5)])
    assert half.key == ("factor", ("1 − p", "½"))
    seventy = relations.factor(np.ones(3) * 0.3, np.ones(3), TOL, [("1 − p", 0.3)])
    assert relations.same(half.key, seventy.key) == ("factor", ("1 − p",))
    assert relations.same(half.key, relations.factor(np.ones(3) * 0.5, np.ones(3), TOL, []).key) == ("factor", ("½",))
    assert relations.same(("factor", ("N",)), ("factor", ("2",))) is None


def test_shapes_that_differ_by_a_reduction():
    rng = np.random.default_rng(1)
    dout = rng.normal(size=(6, 3))
    found = relations.explain(dout, dout.sum(axis=0), TOL)  # db not summed over the batch
    assert found.key == ("not reduced", 0, "summed")
    found = relations.explain(dout.sum(), dout.sum(axis=0), TOL)  # db summed over every axis: a scalar
    assert found.key == ("reduced", 0)
    assert "PyTorch's result summed over PyTorch's axis 0, an axis PyTorch keeps (yours (), PyTorch's (3,))" in found.text


def test_a_factor_within_rounding_of_one_is_no_relation():
    e = np.random.default_rng(2).normal(size=10)
    assert relations.factor(e * (1 + 2.4e-8), e, TOL, []) is None
