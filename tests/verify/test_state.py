"""verify sees state: every layer is called at least twice, on other inputs of the same shapes, with
backward after each forward, and the second call is compared too. A result that depends on an
earlier call is named in the hint as the mistake it is (a mask or a cache kept, gradients
accumulated); a result that is not real numbers is a difference naming its dtype, never a cast."""

import numpy as np
import pytest

import scratch.layers as SL
from comparisons import pairs
from comparisons.verify import format_result, judge

from .files import FIXTURES, judged, one

ABUSE = FIXTURES / "abuse"


@pytest.fixture(scope="module")
def stateful():
    found, _ = judged(ABUSE, "stateful.py")
    return found


def test_a_relu_that_keeps_the_mask_of_its_first_call_differs_and_is_named(stateful):
    result = stateful["Relu"]
    assert result.verdict == "differs", format_result(result)
    assert all(r.passed for r in result.records if "(second call)" not in r.check)  # a new object agrees
    assert "depend on earlier calls" in result.hint and "a mask or a cache kept from an earlier call" in result.hint


def test_a_backward_that_keeps_the_first_mask_is_named_with_its_forward_agreeing():
    result = one(ABUSE, "layer", "stateful.py:ReluBackwardKeeps", "relu")
    assert result.verdict == "differs"
    assert "while its forward agrees" in result.hint and "backward uses a mask or a cache" in result.hint


def test_an_affine_that_accumulates_its_gradients_differs_and_is_named(stateful):
    result = stateful["Affine"]
    assert result.verdict == "differs", format_result(result)
    assert "gradients accumulated across calls" in result.hint and "dW +=" in result.hint
    assert "(second call)" in result.first_failure.check and "backward d" in result.first_failure.check


def test_a_complex_output_differs_naming_its_dtype():
    result = one(ABUSE, "layer", "stateful.py:ComplexRelu", "relu")
    assert result.verdict == "differs"
    assert "complex128" in result.hint and "imaginary parts up to 5" in result.hint
    assert "complex128" in result.first_failure.note


def test_a_correct_layer_agrees_on_both_calls():
    result = one(ABUSE, "layer", "stateful.py:GoodRelu", "relu")
    assert result.passed, format_result(result)
    first = {r.check for r in result.records if not r.check.endswith(" (second call)")}
    assert {r.check for r in result.records} == first | {f"{c} (second call)" for c in first}


class Spy(SL.ReLU):
    """scratch's ReLU, noting every call made on every object."""

    calls: list = []

    def forward(self, x):
        Spy.calls.append((id(self), "forward", x.shape, x.copy()))
        return super().forward(x)

    def backward(self, dout):
        Spy.calls.append((id(self), "backward", dout.shape, None))
        return super().backward(dout)


def test_every_object_is_called_twice_on_other_inputs_backward_after_each_forward():
    Spy.calls = []
    assert judge(pairs.get("layer", "relu"), Spy, "Spy").passed
    by_object = {}
    for obj, what, shape, x in Spy.calls:
        by_object.setdefault(obj, []).append((what, shape, x))
    assert len(by_object) == len(pairs.get("layer", "relu").inputs(_context()))
    for calls in by_object.values():
        assert [what for what, _, _ in calls][:4] == ["forward", "backward", "forward", "backward"]
        (_, shape1, x1), (_, shape2, x2) = calls[0], calls[2]
        assert shape1 == shape2
        finite = np.isfinite(x1)
        assert not np.array_equal(x1[finite], x2[finite]) or x1.size <= 3  # other values of the same shape


def _context():
    from comparisons.context import ConceptContext, RunOptions

    return ConceptContext("spy", RunOptions(), "float64", None)


def test_the_second_call_leaves_the_first_calls_numbers_and_the_generator_as_they_were():
    from comparisons.context import ConceptContext, RunOptions

    pair = pairs.get("layer", "linear")
    runs = []
    for again in (True, False):
        ctx = ConceptContext("state", RunOptions(seed=3), "float64", None)
        if not again:
            pair = type(pair)(**{**pair.__dict__, "options": {**pair.options, "again": False}})
        found = pairs.compare(ctx, pair, SL.Linear)
        runs.append(([(c.label, np.asarray(c.actual).tolist()) for c in found if not c.again], ctx.rng.random()))
    assert runs[0] == runs[1]
