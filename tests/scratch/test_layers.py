"""scratch.layers: every layer's forward and backward against torch's module and autograd (and against central
differences), the shape of dout each backward takes, and the layers' arguments.

Every argument check at its boundary, on both sides: dropout's p in [0, 1) (p = 1 would divide by 0), batch
norm's momentum in [0, 1], ε > 0, the running variance's start from 0, a training batch of 2 or more, ELU's α
from 0, a dropout mask of 0 and 1 only."""

import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from scratch import activations, layers
from scratch import layers as L
from scratch.gradients import numerical_gradient, relative_error

from .malformed import (FLAG, INF, RNG, Array, Boundary, Case, Domain, Labels, Other, Real, T, Tg, autograd_layer,
                        backward_case, fitting, flattened, forward_case, forwarded, grad_of, interval, labels,
                        malformed_input_tests, prove_each, targets)
from .valid import B, DOUT, LABELS, LOGITS, MASK, W, WK, BK, X


# --- malformed input: torch's result or an error naming the argument ------------------------------


def linear_t(x, W, b):
    return F.linear(flattened(T(x)), T(W).T, T(b))


def linear_backward(xt, dout):
    Wt, bt = Tg(W), Tg(B)
    F.linear(xt, Wt.T, bt).backward(dout)
    return [xt.grad, Wt.grad, bt.grad]


def maxout_t(x, W, b):
    return (torch.einsum("ni,kio->nko", x, W) + b).max(dim=1).values


def maxout_backward(xt, dout):
    Wt, bt = Tg(WK), Tg(BK)
    maxout_t(xt, Wt, bt).backward(dout)
    return [xt.grad, Wt.grad, bt.grad]


def batchnorm_t(x, gamma, beta, momentum=0.9, eps=1e-5, running_var_init=1.0):
    """Training-mode batch norm and the running statistics it leaves (torch's momentum is 1 − ours)."""
    mean, var = torch.zeros(T(gamma).shape, dtype=torch.float64), torch.full(T(gamma).shape, float(running_var_init),
                                                                              dtype=torch.float64)
    out = F.batch_norm(x, mean, var, T(gamma), T(beta), training=True, momentum=1 - momentum, eps=eps)
    return [out, mean, var]


def batchnorm_run(x, **kw):
    layer = L.BatchNorm1d(**kw)
    return [layer.forward(x), layer.running_mean, layer.running_var]


BN = {"gamma": np.linspace(0.5, 1.5, 4), "beta": np.array([0.3, -1.2, 0.8, 0.1])}


def batchnorm_backward(xt, dout):
    g, b = Tg(BN["gamma"]), Tg(BN["beta"])
    F.batch_norm(xt, None, None, g, b, training=True, eps=1e-5).backward(dout)
    return [xt.grad, g.grad, b.grad]


def dropout_run(x=X, mask=MASK, p=0.5, rng=None):
    layer = L.Dropout(p, rng=rng)
    layer.set_mask(mask)
    return layer.forward(x)


def _masked_dropout():
    layer = L.Dropout(0.5)
    layer.set_mask(MASK)
    return layer


ELEMENTWISE_LAYERS = {"Sigmoid": torch.sigmoid, "Tanh": torch.tanh, "ReLU": torch.relu, "Identity": lambda x: x * 1,
                      "LeakyReLU": F.leaky_relu, "ELU": F.elu, "Softmax": lambda x: torch.softmax(x, dim=-1)}
CASES = {
    **{f"layers.{name}.forward": forward_case(getattr(L, name), fn, X) for name, fn in ELEMENTWISE_LAYERS.items()},
    **{f"layers.{name}.backward": backward_case(getattr(L, name), autograd_layer(fn), X, DOUT)
       for name, fn in ELEMENTWISE_LAYERS.items()},
    "layers.LeakyReLU": Case({"negative_slope": Real(0.01, finite=False)}, lambda negative_slope: L.LeakyReLU(negative_slope).forward(X),
                             lambda negative_slope: F.leaky_relu(T(X), negative_slope)),
    "layers.ELU": Case({"alpha": Real(1.0, low=0)}, lambda alpha: L.ELU(alpha).forward(X), lambda alpha: F.elu(T(X), alpha)),
    "layers.Linear": Case({"W": Array(W, finite=True), "b": Array(B, finite=True)}, lambda W, b: L.Linear(W, b).forward(fitting(X, W)),
                          lambda W, b: linear_t(fitting(X, W), W, b)),
    "layers.Linear.forward": forward_case(lambda: L.Linear(W, B), lambda x: linear_t(x, W, B), X),
    "layers.Linear.backward": backward_case(lambda: L.Linear(W, B), linear_backward, X, DOUT[:, :3], grads=("W", "b")),
    "layers.Maxout": Case({"W": Array(WK), "b": Array(BK)}, lambda W, b: L.Maxout(W, b).forward(fitting(X, W, 1)),
                          lambda W, b: maxout_t(T(fitting(X, W, 1)), T(W), T(b))),
    "layers.Maxout.forward": forward_case(lambda: L.Maxout(WK, BK), lambda x: maxout_t(x, T(WK), T(BK)), X),
    "layers.Maxout.backward": backward_case(lambda: L.Maxout(WK, BK), maxout_backward, X, DOUT[:, :3],
                                            grads=("W", "b")),
    "layers.SoftmaxWithLoss.forward": Case({"x": Array(LOGITS), "t": Labels(LABELS)},
                                           lambda x, t: L.SoftmaxWithLoss().forward(x, t),
                                           lambda x, t: F.cross_entropy(T(x), targets(t, T(x)))),
    "layers.SoftmaxWithLoss.backward": Case(
        {"dout": Array(1.5)}, lambda dout: forwarded(L.SoftmaxWithLoss(), LOGITS, LABELS).backward(dout),
        lambda dout: grad_of(lambda v: F.cross_entropy(v, labels(LABELS)), Tg(LOGITS), dout=T(dout))[0]),
    "layers.Dropout": Case({"p": Real(0.5, low=0, high=1, high_open=True), "rng": RNG},
                           lambda p, rng: dropout_run(p=p, rng=rng), lambda p, rng: T(X) * T(MASK) / (1 - p)),
    "layers.Dropout.forward": Case({"x": Array(X)}, lambda x: dropout_run(x=x), lambda x: T(x) * T(MASK) / 0.5),
    "layers.Dropout.set_mask": Case({"mask": Array(MASK, extra=[MASK * 0.5, MASK * 2], finite=True)}, lambda mask: dropout_run(mask=mask),
                                    lambda mask: T(X) * T(mask) / 0.5),
    "layers.Dropout.backward": backward_case(lambda: _masked_dropout(), autograd_layer(lambda x: x * T(MASK) / 0.5), X, DOUT),
    "layers.BatchNorm1d": Case(
        {"gamma": Array(BN["gamma"]), "beta": Array(BN["beta"]), "momentum": Real(0.9, low=0, high=1),
         "eps": Real(1e-5, low=0, low_open=True), "running_var_init": Real(1.0, low=0), "unbiased_running_var": FLAG},
        lambda **kw: batchnorm_run(X, **kw),
        lambda gamma, beta, momentum, eps, running_var_init, unbiased_running_var:
            batchnorm_t(T(X), gamma, beta, momentum, eps, running_var_init)),
    "layers.BatchNorm1d.forward": Case({"x": Array(X)}, lambda x: batchnorm_run(x, **BN),
                                       lambda x: batchnorm_t(T(x), **BN)),
    "layers.BatchNorm1d.backward": backward_case(lambda: L.BatchNorm1d(**BN), batchnorm_backward, X, DOUT,
                                                 grads=("gamma", "beta")),
    "layers.GELU": Case({"approximate": Other("none", ["exact", None, 1, "TANH"])},
                        lambda approximate: L.GELU(approximate).forward(X), lambda approximate: F.gelu(T(X), approximate=approximate)),
    "layers.GELU.forward": forward_case(L.GELU, F.gelu, X),
    "layers.GELU.backward": backward_case(L.GELU, autograd_layer(F.gelu), X, DOUT),
}

test_valid_arguments_give_torchs_result, test_malformed_input_gives_torchs_result_or_names_the_argument = \
    malformed_input_tests(CASES)


# --- argument checks at their boundaries ------------------------------------------------------------

AT_X = np.arange(6.0).reshape(2, 3)


def dropout(p):
    layer = L.Dropout(p, rng=np.random.default_rng(0))
    return layer.backward(layer.forward(AT_X))


def batchnorm(**kw):
    layer = L.BatchNorm1d(np.ones(3), np.zeros(3), **kw)
    return layer.backward(layer.forward(AT_X))


def batch_of(n):
    layer = L.BatchNorm1d(np.ones(3), np.zeros(3))
    return layer.forward(np.arange(3.0 * n).reshape(n, 3))


def masked(value):
    layer = L.Dropout(0.5)
    layer.set_mask(np.array([[1, value, 0], [1, 1, 0]]))
    return layer.forward(AT_X)


BOUNDARIES = [
    Boundary("Dropout p", dropout, "p", interval(0.0, 1.0, high_open=True)),
    Boundary("BatchNorm1d momentum", lambda v: batchnorm(momentum=v), "momentum", interval(0.0, 1.0)),
    Boundary("BatchNorm1d eps", lambda v: batchnorm(eps=v), "eps", interval(0.0, INF, low_open=True, high_open=True)),
    Boundary("BatchNorm1d running_var_init", lambda v: batchnorm(running_var_init=v), "running_var_init",
             interval(0.0, INF, high_open=True)),
    Boundary("BatchNorm1d batch in training", batch_of, "x", Domain(accepted=(2, 3), refused=(1, 0))),
    Boundary("ELU alpha", lambda v: L.ELU(v).forward(AT_X), "alpha", interval(0.0, INF, high_open=True)),
    Boundary("Dropout mask", masked, "mask", Domain(accepted=(0, 1, True, 0.0), refused=(0.5, 2, -1, np.nan))),
]


@prove_each(BOUNDARIES)
def test_each_argument_check_holds_at_its_boundary(boundary):
    boundary.prove()


def test_dropout_just_below_1_keeps_the_expected_value_finite():
    p = float(np.nextafter(1.0, 0.0))
    layer = L.Dropout(p)
    layer.set_mask(np.ones_like(AT_X, dtype=bool))
    assert np.isfinite(layer.forward(AT_X)).all()


# --- behaviour --------------------------------------------------------------------------------------

rng = np.random.default_rng(123)


def _away_from_kinks(shape):
    x = rng.normal(size=shape)
    return np.where(np.abs(x) < 1e-2, 0.5, x)  # kinks (ReLU at 0) break finite differences


def _check_layer(layer, x, param_keys=()):
    dout = rng.normal(size=layer.forward(x).shape)
    dx = layer.backward(dout)

    def f_x(x_):
        return float(np.sum(layer.forward(x_) * dout))

    assert relative_error(dx, numerical_gradient(f_x, x.copy())).max() < 1e-7
    for key in param_keys:
        layer.forward(x)
        layer.backward(dout)
        analytic = layer.grads[key].copy()
        p = layer.params[key]
        num = numerical_gradient(lambda _: float(np.sum(layer.forward(x) * dout)), p)
        assert relative_error(analytic, num).max() < 1e-7, key


@pytest.mark.parametrize("layer", [layers.Sigmoid(), layers.Tanh(), layers.ReLU(), layers.LeakyReLU(0.1),
                                   layers.ELU(1.3), layers.Softmax(), layers.Identity()])
def test_activation_layers(layer):
    _check_layer(layer, _away_from_kinks((5, 4)))


def test_linear_layer():
    _check_layer(layers.Linear(rng.normal(size=(4, 3)), rng.normal(size=3)), rng.normal(size=(6, 4)), ("W", "b"))


def test_linear_layer_on_one_sample():
    layer = layers.Linear(rng.normal(size=(4, 3)), rng.normal(size=3))
    x = rng.normal(size=4)
    assert layer.forward(x).shape == (3,)  # as nn.Linear: (in,) → (out,)
    _check_layer(layer, x, ("W", "b"))
    assert layer.grads["W"].shape == (4, 3) and layer.grads["b"].shape == (3,)


def test_linear_backward_names_a_wrongly_shaped_dout():
    layer = layers.Linear(rng.normal(size=(4, 3)), rng.normal(size=3))
    layer.forward(rng.normal(size=(5, 4)))
    with pytest.raises(ValueError, match=r"dout must have shape \(5, 3\)"):
        layer.backward(np.ones((1, 3)))


def test_softmax_layer_on_3d_input():
    _check_layer(layers.Softmax(), rng.normal(size=(2, 3, 5)))


def test_linear_layer_flattens_like_the_book():
    layer = layers.Linear(rng.normal(size=(12, 2)), rng.normal(size=2))
    x = rng.normal(size=(3, 3, 4))
    out = layer.forward(x)
    assert out.shape == (3, 2)
    assert layer.backward(np.ones_like(out)).shape == x.shape


def test_maxout_layer():
    _check_layer(layers.Maxout(rng.normal(size=(3, 4, 2)), rng.normal(size=(3, 2))), rng.normal(size=(5, 4)), ("W", "b"))


def test_softmax_with_loss_layer():
    x = rng.normal(size=(6, 5))
    t = rng.integers(0, 5, size=6)
    layer = layers.SoftmaxWithLoss()
    layer.forward(x, t)
    dx = layer.backward()
    num = numerical_gradient(lambda x_: float(layers.SoftmaxWithLoss().forward(x_, t)), x.copy())
    assert relative_error(dx, num).max() < 1e-7


def test_backward_before_forward_is_a_clear_error():
    with pytest.raises(RuntimeError, match="before forward"):
        layers.Sigmoid().backward(np.ones(3))


LAYERS = {
    "ReLU": lambda x: layers.ReLU(), "Sigmoid": lambda x: layers.Sigmoid(), "Tanh": lambda x: layers.Tanh(),
    "Identity": lambda x: layers.Identity(), "LeakyReLU": lambda x: layers.LeakyReLU(),
    "ELU": lambda x: layers.ELU(), "Softmax": lambda x: layers.Softmax(),
    "Linear": lambda x: layers.Linear(np.ones((3, 3)), np.zeros(3)),
    "Maxout": lambda x: layers.Maxout(np.ones((2, 3, 3)), np.zeros((2, 3))),
    "Dropout": lambda x: layers.Dropout(0.5, rng=np.random.default_rng(0)),
    "Dropout (eval)": lambda x: layers.Dropout(0.5).eval(),
    "BatchNorm1d": lambda x: layers.BatchNorm1d(np.ones(3), np.zeros(3)),
    "BatchNorm1d (eval)": lambda x: layers.BatchNorm1d(np.ones(3), np.zeros(3)).eval(),
}


@pytest.mark.parametrize("name", LAYERS)
@pytest.mark.parametrize("dout_shape", [(3,), (1, 3), (2, 1), (2, 3, 1), ()])
def test_backward_refuses_a_dout_numpy_would_broadcast(name, dout_shape):
    x = np.arange(6.0).reshape(2, 3) - 2.5
    layer = forwarded(LAYERS[name](x), x)
    expected = f"dout must have shape (2, 3) (the shape of the forward output), got dout{dout_shape}"
    with pytest.raises(ValueError, match=re.escape(expected)):
        layer.backward(np.ones(dout_shape))


def test_torch_refuses_the_same_dout():
    y = torch.relu(torch.ones(2, 3, requires_grad=True))
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        y.backward(torch.ones(3))


def test_softmax_with_loss_backward_takes_a_scalar():
    layer = layers.SoftmaxWithLoss()
    layer.forward(np.zeros((2, 3)), np.array([0, 1]))
    with pytest.raises(ValueError, match=r"dout must have shape \(\)"):
        layer.backward(np.ones(2))


def test_linear_without_input_grad_stores_gradients_of_the_parameters_shapes():
    rng = np.random.default_rng(0)
    W, b, x, dout = rng.normal(size=(4, 3)), rng.normal(size=3), rng.normal(size=(5, 4)), rng.normal(size=(5, 3))
    layer = layers.Linear(W, b)
    layer.needs_input_grad = False
    layer.forward(x)
    with pytest.raises(ValueError, match=r"dout must have shape \(5, 3\)"):
        layer.backward(np.ones((5, 1)))  # would have stored a dW of shape (4, 1)
    assert layer.backward(dout) is None
    Wt, bt = torch.tensor(W.T, requires_grad=True), torch.tensor(b, requires_grad=True)
    F.linear(torch.tensor(x), Wt, bt).backward(torch.tensor(dout))
    assert layer.grads["W"].shape == W.shape and layer.grads["b"].shape == b.shape
    np.testing.assert_allclose(layer.grads["W"], Wt.grad.numpy().T, rtol=1e-14)
    np.testing.assert_allclose(layer.grads["b"], bt.grad.numpy(), rtol=1e-14)


def test_linear_on_one_sample_as_nn_linear():
    rng = np.random.default_rng(1)
    W, b, x = rng.normal(size=(4, 3)), rng.normal(size=3), rng.normal(size=4)
    layer = layers.Linear(W, b)
    out = layer.forward(x)
    xt = torch.tensor(x, requires_grad=True)
    out_t = F.linear(xt, torch.tensor(W.T), torch.tensor(b))
    assert out.shape == out_t.shape == (3,)
    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=1e-14)
    out_t.backward(torch.ones(3))
    np.testing.assert_allclose(layer.backward(np.ones(3)), xt.grad.numpy(), rtol=1e-14)
    with pytest.raises(ValueError, match="got a 0-d x"):
        layer.forward(np.float64(1.0))


def test_dropout_and_batchnorm_arguments():
    with pytest.raises(TypeError, match="p must be a real number"):
        layers.Dropout("0.5")
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        layers.Dropout(0.5, rng=42)
    with pytest.raises(ValueError, match="mask must hold booleans"):
        layers.Dropout(0.5).set_mask(np.array([0.5, 1.0]))
    with pytest.raises(TypeError, match="momentum must be a real number"):
        layers.BatchNorm1d(np.ones(3), np.zeros(3), momentum="0.9")
    with pytest.raises(ValueError, match="running_var_init must be a finite number >= 0"):
        layers.BatchNorm1d(np.ones(3), np.zeros(3), running_var_init=-1)
    with pytest.raises(TypeError, match="negative_slope must be a real number"):
        layers.LeakyReLU("0.01")


def test_layer_shapes():
    with pytest.raises(ValueError, match=r"W of shape \(in, out\) and b of shape \(out,\)"):
        layers.Linear(np.zeros((3, 2)), np.zeros(3))
    with pytest.raises(ValueError, match="expects inputs with 3 features"):
        layers.Linear(np.zeros((3, 2)), np.zeros(2)).forward(np.zeros((4, 5)))
    with pytest.raises(ValueError, match="contains NaN"):
        layers.Linear(np.array([[np.nan]]), np.zeros(1))
    with pytest.raises(ValueError, match=r"maxout expects x \(N, in\)"):
        activations.maxout(np.zeros((2, 3)), np.zeros((2, 4, 5)), np.zeros((2, 5)))
    with pytest.raises(ValueError, match=r"maxout expects x \(N, in\)"):
        activations.maxout(np.float64(1.0), np.zeros((2, 1, 5)), np.zeros((2, 5)))


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5])
def test_dropout_probability_out_of_range(p):
    with pytest.raises(ValueError, match=r"dropout probability has to be in \[0, 1\)"):
        layers.Dropout(p)


def test_batchnorm_bad_input():
    with pytest.raises(ValueError, match="gamma and beta must be 1-D"):
        layers.BatchNorm1d(np.ones(3), np.zeros(2))
    bn = layers.BatchNorm1d(np.ones(3), np.zeros(3))
    with pytest.raises(ValueError, match=r"expects x of shape \(N, 3\)"):
        bn.forward(np.ones((4, 2)))
    with pytest.raises(ValueError, match="batch size >= 2"):
        bn.forward(np.ones((1, 3)))
    with pytest.raises(ValueError, match="momentum must be in"):
        layers.BatchNorm1d(np.ones(3), np.zeros(3), momentum=1.5)


def test_batchnorm_backward_numerically():
    x = rng.normal(size=(8, 4))
    bn = layers.BatchNorm1d(rng.uniform(0.5, 1.5, 4), rng.normal(size=4))
    dout = rng.normal(size=(8, 4))
    bn.forward(x)
    dx = bn.backward(dout)
    num = numerical_gradient(lambda x_: float(np.sum(layers.BatchNorm1d(bn.params["gamma"], bn.params["beta"]).forward(x_) * dout)), x.copy())
    assert relative_error(dx, num).max() < 1e-6


def test_dropout_backward_uses_the_forward_mask():
    d = layers.Dropout(0.5, rng=np.random.default_rng(0))
    x = np.ones((100, 10))
    out = d.forward(x)
    assert np.array_equal(d.backward(np.ones_like(x)) != 0, out != 0)
    assert np.array_equal(d.eval().forward(x), x)
