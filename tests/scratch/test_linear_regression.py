"""scratch.linear_regression: the prediction, the squared and absolute errors with their gradients and the fit
against torch_ref's, and the batches it refuses.

Every argument check at its boundary, on both sides: the learning rate from 0, batch indices in [−n, n) (n
itself refused before it indexes), at least one point."""

import numpy as np
import pytest
import torch

import torch_ref.linear_regression as tlin
from scratch import linear_regression
from scratch import linear_regression as LR

from .malformed import (INF, Array, Boundary, Case, Domain, Other, Real, T, interval, malformed_input_tests, prove_each,
                        real_number)
from .valid import XS, YS


# --- malformed input: torch's result or an error naming the argument ------------------------------

def regression_t(x, y, a, b, loss):
    at, bt = torch.tensor(float(a), dtype=torch.float64, requires_grad=True), \
        torch.tensor(float(b), dtype=torch.float64, requires_grad=True)
    e = at * T(x) + bt - T(y)
    J = (e**2).mean() if loss == "squared" else e.abs().mean()
    J.backward()
    return [J, at.grad, bt.grad]


BATCHES = [np.arange(6), np.array([0, 1]), np.array([5, 2, 3])]
CASES = {
    "linear_regression.predict": Case({"x": Array(XS), "a": Real(2.0, finite=False), "b": Real(1.0, finite=False)}, LR.predict,
                                      lambda x, a, b: real_number(a) * T(x) + real_number(b)),
    "linear_regression.squared_error_and_grads": Case(
        {"x": Array(XS), "y": Array(YS), "a": Real(2.0, finite=False), "b": Real(1.0, finite=False)}, lambda **kw: list(LR.squared_error_and_grads(**kw)),
        lambda x, y, a, b: regression_t(x, y, real_number(a), real_number(b), "squared")),
    "linear_regression.absolute_error_and_grads": Case(
        {"x": Array(XS), "y": Array(YS), "a": Real(2.0, finite=False), "b": Real(1.0, finite=False)}, lambda **kw: list(LR.absolute_error_and_grads(**kw)),
        lambda x, y, a, b: regression_t(x, y, real_number(a), real_number(b), "absolute")),
    "linear_regression.fit": Case(
        {"x": Array(XS), "y": Array(YS), "a0": Real(0.0, finite=False), "b0": Real(0.0, finite=False), "lr": Real(0.1, low=0),
         "batches": Other(BATCHES, [None, 3, "batches", [np.array([0, 6])], [np.array([0.5, 1.0])], [np.array([], int)],
                                    [np.zeros((2, 2), int)], [[-7]]]),
         "loss": Other("squared", ["cubic", None, 3, ["squared"]])},
        lambda **kw: list(LR.fit(**kw)),
        lambda x, y, a0, b0, lr, batches, loss: list(tlin.fit(T(x), T(y), real_number(a0), real_number(b0), lr, batches, loss))),
}


test_valid_arguments_give_torchs_result, test_malformed_input_gives_torchs_result_or_names_the_argument = \
    malformed_input_tests(CASES)


# --- argument checks at their boundaries ------------------------------------------------------------

AT_X = np.linspace(0.0, 1.0, 5)
AT_Y = 2 * AT_X + 1

BOUNDARIES = [
    Boundary("fit lr", lambda v: LR.fit(AT_X, AT_Y, 0.0, 0.0, v, [np.arange(5)]), "lr", interval(0.0, INF, high_open=True)),
    Boundary("fit batch index", lambda v: LR.fit(AT_X, AT_Y, 0.0, 0.0, 0.1, [np.array([0, v])]), "batches[0]",
             Domain(accepted=(-5, 4, 0), refused=(-6, 5))),
    Boundary("points", lambda n: LR.squared_error_and_grads(AT_X[:n], AT_Y[:n], 1.0, 0.0), "x",
             Domain(accepted=(1, 5), refused=(0,))),
]


@prove_each(BOUNDARIES)
def test_each_argument_check_holds_at_its_boundary(boundary):
    boundary.prove()


# --- behaviour --------------------------------------------------------------------------------------

def test_linear_regression_arguments():
    x = np.arange(4.0)
    with pytest.raises(TypeError, match="a must be a real number"):
        linear_regression.predict(x, "2", 1.0)
    with pytest.raises(ValueError, match=r"batches\[1\] holds indices in \[0, 7\]"):
        linear_regression.fit(x, x, 0.0, 0.0, 0.1, [np.arange(4), np.array([0, 7])])
    with pytest.raises(ValueError, match=r"batches\[0\] must be a non-empty 1-D array of integer indices"):
        linear_regression.fit(x, x, 0.0, 0.0, 0.1, [np.array([0.5])])
    with pytest.raises(TypeError, match="a0 must be a real number"):
        linear_regression.fit(x, x, None, 0.0, 0.1, [np.arange(4)])
    with pytest.raises(ValueError, match="x and y must hold at least one point"):
        linear_regression.squared_error_and_grads(np.zeros(0), np.zeros(0), 1.0, 0.0)


def test_a_negative_learning_rate_names_it():
    with pytest.raises(ValueError, match="lr must be"):
        linear_regression.fit(np.ones(3), np.ones(3), 0, 0, -1, [np.arange(3)])
