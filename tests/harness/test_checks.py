"""What a check is: errors measured as numpy.testing does (NaN and inf equal to themselves), a
verdict at the dtype's tolerance, a shape mismatch that fails, a float32 result re-taken in float64
judged at float64's tolerance, a difference that stands only beside an exact relation, a cancelling
sum judged against the size of its terms, lockstep gradients judged tensor by tensor, and the
sentences and values a lesson quotes."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from comparisons.checks import Stepwise, close, first_mismatch, measure, tolerance_ratio
from comparisons.context import ConceptContext, RunOptions


def test_measure_and_close():
    assert measure([1.0, 0.0], [1.0, 0.0]) == (0.0, 0.0)
    abs_err, rel_err = measure([1.0, 2.0], [1.0, 2.5])
    assert abs_err == 0.5 and rel_err == pytest.approx(0.2)
    assert measure([np.nan], [np.nan]) == (0.0, 0.0)
    assert measure([np.inf], [np.inf]) == (0.0, 0.0)
    assert measure([np.nan], [1.0])[0] == np.inf
    assert close([1.0 + 1e-12], [1.0], 0.0, 1e-10).all()
    assert not close([1.1], [1.0], 0.0, 1e-10).any()
    assert first_mismatch(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[1.0, 2.0], [3.5, 4.0]]), 0, 1e-9) == \
        {"index": [1, 0], "actual": 3.0, "expected": 3.5}


def test_compare_records_shape_mismatch():
    ctx = ConceptContext("softmax", RunOptions(), "float64", None)
    rec = ctx.compare("shapes", np.zeros(3), np.zeros((3, 1)))
    assert not rec.passed and "shape mismatch" in rec.note


def test_a_float32_result_re_taken_in_float64_is_judged_at_float64_s_tolerance():
    ctx = ConceptContext("t", RunOptions(), "float32", None)
    same = np.array([1.0, 2.0])
    ok = ctx.compare_in_float64("sum", same + 1e-13, same, "re-taken")
    off = ctx.compare_in_float64("sum", same + 1e-8, same, "re-taken")  # within float32's tolerance, not float64's
    assert ok.passed and ok.dtype == "float32" and (ok.atol, ok.rtol) == (1e-12, 1e-10) and ok.note == "re-taken"
    assert not off.passed and off.first_mismatch["index"] == [0]


def test_differs_passes_only_when_quantities_differ():
    ctx = ConceptContext("softmax", RunOptions(), "float64", None)
    relation = ctx.compare("1.1 = 1.0 + 0.1", 1.1, 1.0 + 0.1)
    assert ctx.differs("d", [1.0], [1.1], relation=relation).passed
    assert not ctx.differs("d", [1.0], [1.0], relation=relation).passed
    assert "1.1 = 1.0 + 0.1" in ctx.records[-1].note, "the finding names the relation that proves it"


def test_differs_needs_an_exact_relation_from_the_same_context():
    ctx = ConceptContext("softmax", RunOptions(), "float64", None)
    with pytest.raises(TypeError):
        ctx.differs("d", [1.0], [1.1])
    with pytest.raises(ValueError, match="relation"):
        ctx.differs("d", [1.0], [1.1], relation=ctx.finding("a fact", True))
    elsewhere = ConceptContext("softmax", RunOptions(), "float64", None).compare("r", 1.0, 1.0)
    with pytest.raises(ValueError, match="relation"):
        ctx.differs("d", [1.0], [1.1], relation=elsewhere)


def test_a_scale_judges_a_cancelling_sum_against_the_size_of_its_terms():
    """close(…, scale=) takes the relative part against max(|expected|, scale): a sum that cancels
    keeps the rounding of its much larger terms, and a recorded check says the same."""
    actual, expected = np.array([1e-6 + 1e-15, 1.0]), np.array([1e-6, 1.0])
    assert not close(actual, expected, 0.0, 1e-10).all()
    assert close(actual, expected, 0.0, 1e-10, scale=np.array([1e3, 1.0])).all()
    ctx = ConceptContext("t", RunOptions(), "float64", None)  # atol 1e-12: a difference above it
    actual = np.array([1e-6 + 1e-11, 1.0])
    assert ctx.compare("summed from large terms", actual, expected, scale=np.array([1e3, 1.0])).passed
    assert not ctx.compare("summed from small terms", actual, expected, scale=np.array([0.0, 0.0])).passed


def test_lockstep_gradients_are_judged_tensorwise():
    """A gradient element near 0 is judged against the largest element of its own tensor, and only
    that tensor's: a wrong element of a small tensor still fails beside a large one."""
    from comparisons.lockstep import Lockstep, tensorwise_scale

    # in the order the dicts are compared in: sorted keys ('W' before 'b')
    assert tensorwise_scale({"b": np.array([1.0, -3.0]), "W": np.zeros((2, 2))}).tolist() == [0, 0, 0, 0, 3, 3]
    ctx = ConceptContext("t", RunOptions(), "float64", None)
    lock = Lockstep(ctx, "run")
    torch_side = {"W": np.array([1e3, 1e-3]), "b": np.array([1e-3, 1e-3])}
    assert lock.compare(0, "gradients", {"W": np.array([1e3, 1e-3 + 1e-11]), "b": torch_side["b"]}, torch_side)
    assert not lock.compare(1, "gradients", {"W": torch_side["W"], "b": np.array([1e-3, 1e-3 + 1e-11])}, torch_side)
    assert not lock.compare(2, "loss", 1e-3 + 1e-11, 1e-3), "other quantities stay elementwise"


def test_observed_checks_quote_the_checks_behind_a_sentence():
    ctx = ConceptContext("t", RunOptions(), "float64", None)
    ctx.compare("curve a", 1.0, 1.0)
    ctx.compare("curve b", 1.0, 2.0)
    assert ctx.observed_checks("a agrees", lambda name: name == "curve a") is True
    assert ctx.observed_checks("all agree", lambda name: name.startswith("curve")) is False
    assert ctx.values["all agree"] is False
    with pytest.raises(ValueError, match="no check"):
        ctx.observed_checks("nothing", lambda name: False)


def test_a_value_may_be_a_short_list_of_numbers():
    from comparisons.site.text import format_value

    ctx = ConceptContext("t", RunOptions(), "float64", None)
    assert ctx.value("y", np.array([0.018, 0.245])) == [0.018, 0.245]
    assert format_value(ctx.values["y"], ".2f") == "0.02, 0.24"
    with pytest.raises(TypeError, match="numbers only"):
        ctx.value("bad", ["a"])


finite_or_not = st.floats(allow_nan=True, allow_infinity=True, width=64) | st.sampled_from([0.0, -0.0, 1.0, 1.0 + 2**-52])


@given(st.lists(st.tuples(finite_or_not, finite_or_not, st.floats(0, 10)), min_size=1, max_size=8),
       st.sampled_from([(1e-12, 1e-10), (0.0, 1e-6), (1e-5, 0.0)]), st.booleans())
def test_a_lockstep_step_is_judged_as_one_comparison_is(rows, tolerance, with_scale):
    """The per-step verdict, errors and share of the tolerance used (computed in one pass where all
    is finite) are exactly those of close, measure and tolerance_ratio."""
    a, e, scale = (np.array(column) for column in zip(*rows))
    scale = scale if with_scale else None
    acc = Stepwise(*tolerance)
    ok = acc.add(0, a, e, scale)
    assert ok == bool(close(a, e, *tolerance, scale).all())
    assert (acc.max_abs_err, acc.max_rel_err) == measure(a, e)
    assert acc.tol_ratio == tolerance_ratio(a, e, *tolerance, scale)
