"""An implementation under test other than scratch: scratch with parts replaced (the planted mistakes
of the tests, a user's objects), which leaves scratch itself untouched and says what was replaced."""

import pytest

import scratch
from comparisons.implementation import with_overrides


def replaced(*args, **kwargs):
    return None


def test_overrides_leave_scratch_untouched():
    impl = with_overrides({"activations.sigmoid": replaced})
    assert impl.activations.sigmoid is replaced
    assert scratch.activations.sigmoid is not replaced


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

    impl = with_overrides({"activations.relu_grad": replaced, "losses.sum_squared_error": replaced})
    meta = run_metadata(RunOptions(impl=impl), 0.0)
    assert meta["replaced"] == ["activations.relu_grad", "losses.sum_squared_error"]
    assert "activations.relu_grad" in meta["implementation"]
