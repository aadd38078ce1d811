"""scratch.gradients: central differences against the same differences in torch, the numerical gradient of every
element, the relative error, gradient descent against torch_ref's, and what each refuses.

Every argument check at its boundary, on both sides: the step h above 0, the learning rate from 0, the number
of steps from 0 (inf refused everywhere)."""

import numpy as np
import pytest
import torch

import torch_ref.gradients as tgrad
from scratch import gradients
from scratch import gradients as G

from .malformed import (INF, Array, Boundary, Case, Int, Other, Real, T, integers, interval, malformed_input_tests,
                        prove_each)
from .valid import DOUT, X, XS


# --- malformed input: torch's result or an error naming the argument ------------------------------

def central_difference_t(x, h):
    x = T(x)
    return (torch.sin(x + h) - torch.sin(x - h)) / (2 * h)


def central_differences_t(f, x, h):
    """(f(x + h·eᵢ) − f(x − h·eᵢ)) / 2h for every element, on tensors."""
    grad = torch.zeros_like(x)
    for i in range(x.numel()):
        step = torch.zeros_like(x).reshape(-1)
        step[i] = h
        grad.reshape(-1)[i] = (f(x + step.reshape(x.shape)) - f(x - step.reshape(x.shape))) / (2 * h)
    return grad


def cube_sum(x):
    return float(np.sum(x**3))


CASES = {
    "gradients.numerical_diff": Case(
        {"f": Other(np.sin, [None, 3, "sin"]), "x": Array(XS), "h": Real(1e-4, low=0, low_open=True),
         "method": Other("central", ["backward", None, 3, ["central"]])},
        G.numerical_diff, lambda f, x, h, method: central_difference_t(x, h)),
    "gradients.numerical_gradient": Case(
        {"f": Other(cube_sum, [None, 3, lambda x: x * 2, lambda x: "f"]), "x": Array(X, extra=[X.astype(np.float32)[0, 0]]),
         "h": Real(1e-4, low=0, low_open=True)},
        lambda f, x, h: G.numerical_gradient(f, x.copy() if isinstance(x, np.ndarray) else x, h),
        lambda f, x, h: central_differences_t(lambda v: (v**3).sum(), T(x), h), rtol=1e-9, atol=1e-9),
    "gradients.relative_error": Case({"a": Array(X), "b": Array(DOUT)}, G.relative_error, lambda a, b: torch.where(
        torch.maximum(T(a).abs(), T(b).abs()) > 0,
        (T(a) - T(b)).abs() / torch.maximum(T(a).abs(), T(b).abs()), torch.zeros_like(T(a) - T(b)))),
    "gradients.gradient_descent": Case(
        {"grad_f": Other(lambda x: x, [None, 3, lambda x: np.ones(7), lambda x: None]), "init_x": Array(XS),
         "lr": Real(0.1, low=0), "steps": Int(3)},
        G.gradient_descent, lambda grad_f, init_x, lr, steps: tgrad.gradient_descent(
            lambda v: 0.5 * (v**2).sum(), T(init_x), lr, steps)),
}


test_valid_arguments_give_torchs_result, test_malformed_input_gives_torchs_result_or_names_the_argument = \
    malformed_input_tests(CASES)


# --- argument checks at their boundaries ------------------------------------------------------------

BOUNDARIES = [
    Boundary("numerical_diff h", lambda v: G.numerical_diff(np.sin, 1.0, v), "h",
             interval(0.0, INF, low_open=True, high_open=True)),
    Boundary("numerical_gradient h", lambda v: G.numerical_gradient(lambda x: float(np.sum(x**2)), np.ones(2), v), "h",
             interval(0.0, INF, low_open=True, high_open=True)),
    Boundary("gradient_descent lr", lambda v: G.gradient_descent(lambda x: 2 * x, np.ones(2), v, 3), "lr",
             interval(0.0, INF, high_open=True)),
    Boundary("gradient_descent steps", lambda v: G.gradient_descent(lambda x: 2 * x, np.ones(2), 0.1, v), "steps",
             integers(0)),
]


@prove_each(BOUNDARIES)
def test_each_argument_check_holds_at_its_boundary(boundary):
    boundary.prove()


# --- behaviour --------------------------------------------------------------------------------------

def test_gradient_functions_check_their_callables_and_values():
    with pytest.raises(TypeError, match="f must be callable"):
        gradients.numerical_diff(3.0, 1.0)
    with pytest.raises(TypeError, match="x must be a real numeric array"):
        gradients.numerical_diff(np.sin, "1.0")
    with pytest.raises(ValueError, match="f must return a scalar"):
        gradients.numerical_gradient(lambda x: x * 2, np.ones(3))
    with pytest.raises(ValueError, match=r"the value of grad_f must have shape \(2,\)"):
        gradients.gradient_descent(lambda x: np.ones(3), np.ones(2), 0.1, 2)
    with pytest.raises(ValueError, match=r"a and b must have the same shape"):
        gradients.relative_error(np.ones(3), np.ones((2, 3)))
    x = np.ones(2)
    x.flags.writeable = False
    with pytest.raises(ValueError, match="x is read-only"):
        gradients.numerical_gradient(np.sum, x)


def test_numerical_gradient_needs_float_array():
    with pytest.raises(TypeError, match="floating-point ndarray"):
        gradients.numerical_gradient(np.sum, [1, 2, 3])


def test_negative_step_learning_rate_and_unknown_method_name_the_argument():
    with pytest.raises(ValueError, match="lr must be a finite number >= 0"):
        gradients.gradient_descent(lambda x: x, np.ones(2), lr=-0.1, steps=3)
    with pytest.raises(ValueError, match="h must be a finite number > 0"):
        gradients.numerical_diff(np.sin, 1.0, h=0)
    with pytest.raises(ValueError, match="method must be one of"):
        gradients.numerical_diff(np.sin, 1.0, method="backward")
