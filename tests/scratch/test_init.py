"""scratch.init: the initialisers' spread from the fans of the book's (in, out) layout, their shapes, and what
each refuses (the random draws against torch's are the pairs': tests/pairs).

Every argument check at its boundary, on both sides: every entry of a weight's shape from 1, a standard
deviation, bound or gain from 0 (inf refused), and a uniform's width 2·bound a finite number (as torch's
``uniform_`` requires)."""

import math

import numpy as np
import pytest
import torch

from scratch import init

from .malformed import (INF, NAN, Boundary, Case, Domain, Real, below, integers, interval, malformed_input_tests,
                        prove_each, real_number, shape_arg)


# --- malformed input: torch's result or an error naming the argument ------------------------------

CASES = {
    "init.zeros": Case({"shape": shape_arg()}, init.zeros, lambda shape: torch.zeros(shape)),
    "init.constant": Case({"shape": shape_arg(), "value": Real(0.5, finite=False)}, init.constant,
                          lambda shape, value: torch.full(shape, real_number(value))),
}

test_valid_arguments_give_torchs_result, test_malformed_input_gives_torchs_result_or_names_the_argument = \
    malformed_input_tests(CASES)


# --- argument checks at their boundaries ------------------------------------------------------------

AT_RNG = np.random.default_rng(0)
AT_FROM_0 = interval(0.0, INF, high_open=True)
AT_WIDEST = float(np.finfo(np.float64).max) / 2  # 2·bound is then the largest float

BOUNDARIES = [
    Boundary("zeros fan_in", lambda v: init.zeros((v, 3)), "shape[0]", integers(1)),
    Boundary("he_normal fan_out", lambda v: init.he_normal(AT_RNG, (3, v)), "shape[1]", integers(1)),
    Boundary("filters kw", lambda v: init.he_uniform(AT_RNG, (2, 1, 3, v)), "shape[3]", integers(1)),
    Boundary("normal std", lambda v: init.normal(AT_RNG, (2, 3), v), "std", AT_FROM_0),
    Boundary("uniform bound", lambda v: init.uniform(AT_RNG, (2, 3), v), "bound", interval(0.0, AT_WIDEST)),
    Boundary("xavier_normal gain", lambda v: init.xavier_normal(AT_RNG, (2, 3), v), "gain", AT_FROM_0),
    Boundary("xavier_uniform gain", lambda v: init.xavier_uniform(AT_RNG, (2, 3), v), "gain",
             Domain(accepted=(0.0, 5e-324, 1.0, AT_WIDEST / np.sqrt(6 / 5) * 0.999),
                    refused=(below(0.0), NAN, INF, AT_WIDEST))),
]


@prove_each(BOUNDARIES)
def test_each_argument_check_holds_at_its_boundary(boundary):
    boundary.prove()


# --- behaviour --------------------------------------------------------------------------------------

@pytest.mark.parametrize("fn", [init.xavier_normal, init.xavier_uniform])
def test_xavier_names_the_gain(fn):
    with pytest.raises(ValueError, match="gain must be a finite number >= 0, got -1") as error:
        fn(np.random.default_rng(0), (3, 4), gain=-1)
    assert "std" not in str(error.value) and "bound" not in str(error.value)


@pytest.mark.parametrize("call, error, message", [
    (lambda: init.he_normal(42, (3, 4)), TypeError, "rng must be a numpy.random.Generator"),
    (lambda: init.zeros(None), TypeError, "shape must be a tuple"),
    (lambda: init.zeros((3, 2.5)), ValueError, r"shape\[1\] \(fan_out\) must be an integer >= 1"),
    (lambda: init.constant((3, 4), "0.5"), TypeError, "value must be a real number"),
    (lambda: init.normal(np.random.default_rng(0), (3, 4), "0.1"), TypeError, "std must be a real number"),
])
def test_init_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("name, fan, std", [("he_normal", "in", math.sqrt(2)), ("lecun_normal", "in", 1.0)])
def test_init_uses_fan_in_of_in_out_layout(name, fan, std):
    w = getattr(init, name)(np.random.default_rng(0), (400, 100))
    assert w.std() == pytest.approx(std / math.sqrt(400), rel=0.02)


def test_init_bad_shape():
    with pytest.raises(ValueError, match=r"\(fan_in, fan_out\)"):
        init.he_normal(np.random.default_rng(0), (3,))
