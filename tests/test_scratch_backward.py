"""Each scratch backward agrees with its numerical gradient (float64, central differences)."""

import numpy as np
import pytest

from scratch import activations as act
from scratch import layers, losses
from scratch.gradients import numerical_diff, numerical_gradient, relative_error

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


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "identity", "step"])
def test_activation_derivatives(name):
    x = _away_from_kinks(50)
    f, df = getattr(act, name), getattr(act, f"{name}_grad")
    num = numerical_diff(f, x)
    np.testing.assert_allclose(df(x), num, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", ["sum_squared_error", "mean_squared_error", "mean_absolute_error",
                                  "binary_cross_entropy"])
def test_elementwise_loss_gradients(name):
    y = rng.uniform(0.05, 0.95, size=(4, 3))
    t = rng.integers(0, 2, size=(4, 3)).astype(float)
    value, grad = getattr(losses, name), getattr(losses, f"{name}_grad")
    num = numerical_gradient(lambda y_: float(value(y_, t)), y.copy())
    assert relative_error(grad(y, t), num).max() < 1e-6


def test_cross_entropy_gradients():
    logits = rng.normal(size=(5, 4))
    t = rng.integers(0, 4, size=5)
    y = act.softmax(logits)
    num = numerical_gradient(lambda y_: float(losses.cross_entropy_error(y_, t)), y.copy(), h=1e-6)
    assert relative_error(losses.cross_entropy_error_grad(y, t), num).max() < 1e-6
    num = numerical_gradient(lambda x_: float(losses.softmax_cross_entropy(x_, t)), logits.copy())
    assert relative_error(losses.softmax_cross_entropy_grad(logits, t), num).max() < 1e-7


def test_backward_before_forward_is_a_clear_error():
    with pytest.raises(RuntimeError, match="before forward"):
        layers.Sigmoid().backward(np.ones(3))
