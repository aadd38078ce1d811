"""scratch.activations: every function against torch's, over shapes, kinks, ±large inputs and ties; the
derivatives against central differences; the stable softmax; empty and 0-d inputs as torch treats them.

Every argument check at its boundary, on both sides: ELU's α from 0 (inf refused), softmax's axis within the
array's axes (a 0-d x has the axes of one element)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from scratch import activations
from scratch import activations as A
from scratch.gradients import numerical_diff

from .malformed import (INF, NAN, Array, Boundary, Case, Domain, Int, Other, Real, T, Tg, grad_of, interval,
                        malformed_input_tests, prove_each)
from .valid import DOUT, WK, BK, X


# --- malformed input: torch's result or an error naming the argument ------------------------------

def unary(fn, torch_fn, **more):
    """An elementwise function of x (and maybe a hyperparameter): compared with torch's function."""
    return Case({"x": Array(X), **more}, fn, lambda x, **kw: torch_fn(T(x), **kw))


def unary_grad(fn, torch_fn, **more):
    """The derivative of an elementwise function, compared with autograd's."""
    return Case({"x": Array(X), **more}, fn, lambda x, **kw: grad_of(lambda v: torch_fn(v, **kw), Tg(x))[0])


def torch_step(x):
    return (x > 0).to(x.dtype)


TORCH_UNARY = {
    "step": torch_step, "identity": lambda x: x * 1, "sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
}
CASES = {
    **{f"activations.{name}": unary(getattr(A, name), fn) for name, fn in TORCH_UNARY.items()},
    **{f"activations.{name}_grad": unary_grad(getattr(A, f"{name}_grad"), fn) for name, fn in TORCH_UNARY.items()
       if name != "step"},
    "activations.step_grad": Case({"x": Array(X)}, A.step_grad, lambda x: torch.zeros_like(T(x))),  # no autograd rule
    "activations.tanh_grad_from_output": Case({"y": Array(np.tanh(X))}, A.tanh_grad_from_output,
                                              lambda y: torch.ops.aten.tanh_backward(torch.ones_like(T(y)), T(y))),
    "activations.leaky_relu": unary(A.leaky_relu, F.leaky_relu, negative_slope=Real(0.01, finite=False)),
    "activations.leaky_relu_grad": unary_grad(A.leaky_relu_grad, F.leaky_relu, negative_slope=Real(0.01, finite=False)),
    "activations.elu": unary(A.elu, F.elu, alpha=Real(1.0, low=0)),
    "activations.elu_grad": unary_grad(A.elu_grad, F.elu, alpha=Real(1.0, low=0)),
    "activations.maxout": Case({"x": Array(X), "W": Array(WK), "b": Array(BK)}, A.maxout,
                               lambda x, W, b: (torch.einsum("ni,kio->nko", T(x), T(W)) + T(b)).max(dim=1).values),
    "activations.softmax": Case({"x": Array(X), "axis": Int(-1, minimum=-2)}, A.softmax,
                                lambda x, axis: torch.softmax(T(x), dim=axis)),
    "activations.softmax_naive": Case({"x": Array(X), "axis": Int(-1, minimum=-2)}, A.softmax_naive,
                                      lambda x, axis: T(x).exp() / T(x).exp().sum(dim=axis, keepdim=True)),
    "activations.softmax_backward": Case(
        {"y": Array(A.softmax(X)), "dout": Array(DOUT), "axis": Int(-1, minimum=-2)}, A.softmax_backward,
        lambda y, dout, axis: torch.ops.aten._softmax_backward_data(T(dout), T(y), axis, torch.float64)),
    "activations.erf": Case({"x": Array(X)}, A.erf, lambda x: torch.erf(T(x))),
    "activations.gelu": unary(A.gelu, F.gelu, approximate=Other("none", ["exact", None, 1, "TANH"])),
    "activations.gelu_grad": unary_grad(A.gelu_grad, F.gelu, approximate=Other("none", ["exact", None, 1, "TANH"])),
}

test_valid_arguments_give_torchs_result, test_malformed_input_gives_torchs_result_or_names_the_argument = \
    malformed_input_tests(CASES)


# --- argument checks at their boundaries ------------------------------------------------------------

AT_X = np.arange(6.0).reshape(2, 3)
AT_AXES_2D = Domain(accepted=(-2, -1, 0, 1, 1.0), refused=(-3, 2, 0.5, NAN, INF))
AT_AXES_0D = Domain(accepted=(-1, 0), refused=(-2, 1))

BOUNDARIES = [
    Boundary("elu alpha", lambda v: A.elu(AT_X, v), "alpha", interval(0.0, INF, high_open=True)),
    Boundary("elu_grad alpha", lambda v: A.elu_grad(AT_X, v), "alpha", interval(0.0, INF, high_open=True)),
    Boundary("softmax axis", lambda v: A.softmax(AT_X, v), "axis", AT_AXES_2D),
    Boundary("softmax axis of a 0-d x", lambda v: A.softmax(np.float64(2.0), v), "axis", AT_AXES_0D),
    Boundary("softmax_naive axis", lambda v: A.softmax_naive(AT_X, v), "axis", AT_AXES_2D),
    Boundary("softmax_backward axis", lambda v: A.softmax_backward(A.softmax(AT_X), AT_X, v), "axis", AT_AXES_2D),
]


@prove_each(BOUNDARIES)
def test_each_argument_check_holds_at_its_boundary(boundary):
    boundary.prove()


# --- behaviour --------------------------------------------------------------------------------------

rng = np.random.default_rng(123)

values = st.floats(min_value=-1e4, max_value=1e4, allow_nan=False, width=64)


edge = st.sampled_from([0.0, -0.0, 1e-300, -1e-300, 709.0, -745.0, 1e4, -1e4, 1.0, -1.0])


arrays = hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=6), elements=st.one_of(values, edge))


matrices = hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=7),
                      elements=st.one_of(values, edge))


TORCH_FN = {
    "sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu, "identity": lambda x: x,
    "leaky_relu": lambda x: torch.nn.functional.leaky_relu(x, 0.01), "elu": torch.nn.functional.elu,
}


def _torch_value_and_grad(name, x):
    xt = torch.tensor(x, requires_grad=True)
    y = TORCH_FN[name](xt)
    y.backward(torch.ones_like(y))
    return y.detach().numpy(), xt.grad.numpy()


@settings(max_examples=60, deadline=None)
@given(arrays)
def test_activations_match_torch(x):
    for name in TORCH_FN:
        y, g = _torch_value_and_grad(name, x)
        np.testing.assert_allclose(getattr(A, name)(x), y, rtol=1e-12, atol=1e-300)
        np.testing.assert_allclose(getattr(A, f"{name}_grad")(x), g, rtol=1e-7, atol=1e-15)


@settings(max_examples=60, deadline=None)
@given(arrays)
def test_activation_ranges(x):
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # the stable forms never overflow
        s = A.sigmoid(x)
        e = A.elu(x)
    assert np.all((s >= 0) & (s <= 1))
    assert np.all(np.abs(A.tanh(x)) <= 1)
    assert np.all(A.relu(x) >= 0)
    assert np.all(e >= -1)
    assert np.all(A.step(x) == (x > 0))


@settings(max_examples=60, deadline=None)
@given(matrices, st.floats(-1e3, 1e3))
def test_softmax_properties(x, c):
    y = A.softmax(x)
    assert np.all(np.isfinite(y)) and np.all(y >= 0)
    np.testing.assert_allclose(y.sum(axis=-1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(y, torch.softmax(torch.tensor(x), dim=-1).numpy(), rtol=1e-10, atol=1e-300)
    # monotone: a larger score never gets a smaller probability (rounding may make them equal)
    rows, i, j = np.nonzero(x[:, :, None] > x[:, None, :])
    assert np.all(y[rows, i] >= y[rows, j])
    if np.all(np.abs(x) < 1e3):
        np.testing.assert_allclose(A.softmax(x + c), y, rtol=1e-8, atol=1e-12)


def _away_from_kinks(shape):
    x = rng.normal(size=shape)
    return np.where(np.abs(x) < 1e-2, 0.5, x)  # kinks (ReLU at 0) break finite differences


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "identity", "step"])
def test_activation_derivatives(name):
    x = _away_from_kinks(50)
    f, df = getattr(A, name), getattr(A, f"{name}_grad")
    num = numerical_diff(f, x)
    np.testing.assert_allclose(df(x), num, rtol=1e-6, atol=1e-9)


def test_softmax_backward_refuses_a_dout_of_another_shape():
    y = activations.softmax(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"dout must have shape \(2, 3\).*got dout\(1, 3\)"):
        activations.softmax_backward(y, np.ones((1, 3)))


@pytest.mark.parametrize("shape", [(0,), (0, 3), (3, 0), (2, 0, 4)])
def test_softmax_of_an_empty_array_is_empty_as_torch(shape):
    x = np.zeros(shape)
    for axis in range(-len(shape), len(shape)):
        expected = torch.softmax(torch.tensor(x), dim=axis).numpy()
        for fn in (activations.softmax, activations.softmax_naive):
            y = fn(x, axis=axis)
            assert y.shape == expected.shape == shape
        assert activations.softmax_backward(x, x, axis=axis).shape == shape


def test_softmax_of_a_0d_array_is_one_as_torch():
    for fn in (activations.softmax, activations.softmax_naive):
        y = fn(np.float64(3.0))
        assert y.shape == () and y == torch.softmax(torch.tensor(3.0, dtype=torch.float64), dim=-1).item() == 1.0
    with pytest.raises(ValueError, match=r"axis out of range \(expected to be in range of \[-1, 0\], but got 1\)"):
        activations.softmax(np.float64(3.0), axis=1)
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of \[-1, 0\], but got 1\)"):
        torch.softmax(torch.tensor(3.0), dim=1)


@pytest.mark.parametrize("axis, error", [(2, ValueError), (-3, ValueError), (1.5, ValueError), ("1", TypeError)])
def test_softmax_axis(axis, error):
    with pytest.raises(error, match="axis"):
        activations.softmax(np.zeros((2, 3)), axis=axis)


@pytest.mark.parametrize("x", [np.array(["a", "b"]), None, np.array([1 + 2j]), [object()]])
def test_non_numeric_input(x):
    with pytest.raises(TypeError, match="x must be a real numeric array"):
        activations.sigmoid(x)
