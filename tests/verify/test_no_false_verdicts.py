"""A verdict must be earned: the numerical gradient is checked on functions of every element, and a
hint names a mistake only when it explains the numbers at a second, different point too."""

from comparisons import pairs
from comparisons.verify import judge
from comparisons.verify_hints import Trials, second_point

from .files import PLANTED, one


def test_a_numerical_gradient_of_one_element_is_caught():
    """f(x[i] ± h) instead of f(x) with x[i] moved: Σx² cannot tell them apart (x[i]² has the same
    derivative); log Σ exp(x), whose every partial derivative depends on every element, does."""
    result = one(PLANTED, "function", "styles.py:numerical_gradient", "numerical-gradient")
    assert result.verdict == "differs"
    assert any(r.passed for r in result.records if "x0² + x1²" in r.check)  # Σx²: the same numbers
    assert not any(r.passed for r in result.records if r.check.startswith("gradient, log Σ exp(x)"))
    assert "f is evaluated at the element alone" in result.hint


def test_the_averaging_momentum_at_lr_equal_to_one_minus_mu_is_not_the_learning_rate_twice():
    """v = μv + (1 − μ)g with lr = 0.1 = 1 − μ gives the very numbers of 'the learning rate applied
    twice' (v = μv − ηg, p += ηv); at the second point (lr 0.05, μ 0.94) they part."""
    result = one(PLANTED, "optimizer", "slips.py:AveragingMomentum", "momentum", {"lr": 0.1}, steps=30)
    assert result.verdict == "differs"
    assert "learning rate is applied twice" not in result.hint
    assert "your velocity is an average" in result.hint


def test_the_second_point_moves_what_the_code_takes():
    pair = pairs.get("optimizer", "momentum")
    from comparisons.verify_load import load_target

    obj = load_target(f"{PLANTED}/slips.py:AveragingMomentum")
    seed, moved = second_point(Trials(pair, obj, "float64", 0, 10), obj, {"lr": 0.1, "momentum": 0.9})
    assert seed == 1 and moved["lr"] == 0.05 and abs(moved["momentum"] - 0.94) < 1e-12
    assert abs((1 - moved["momentum"]) - moved["lr"]) > 0.005  # no longer equal


def test_a_catalogued_mistake_is_still_named():
    from comparisons.pairs.optimizers import momentum_lr_twice

    result = judge(pairs.get("optimizer", "momentum"), momentum_lr_twice, "catalogued", {"lr": 0.1}, steps=30)
    assert "the learning rate is applied twice" in result.hint
