"""Property tests: activations and losses over shapes and values, ±large inputs and ties,
NumPy against PyTorch."""

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from scratch import activations as act
from scratch import losses

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
        np.testing.assert_allclose(getattr(act, name)(x), y, rtol=1e-12, atol=1e-300)
        np.testing.assert_allclose(getattr(act, f"{name}_grad")(x), g, rtol=1e-7, atol=1e-15)


@settings(max_examples=60, deadline=None)
@given(arrays)
def test_activation_ranges(x):
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # the stable forms never overflow
        s = act.sigmoid(x)
        e = act.elu(x)
    assert np.all((s >= 0) & (s <= 1))
    assert np.all(np.abs(act.tanh(x)) <= 1)
    assert np.all(act.relu(x) >= 0)
    assert np.all(e >= -1)
    assert np.all(act.step(x) == (x > 0))


@settings(max_examples=60, deadline=None)
@given(matrices, st.floats(-1e3, 1e3))
def test_softmax_properties(x, c):
    y = act.softmax(x)
    assert np.all(np.isfinite(y)) and np.all(y >= 0)
    np.testing.assert_allclose(y.sum(axis=-1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(y, torch.softmax(torch.tensor(x), dim=-1).numpy(), rtol=1e-10, atol=1e-300)
    # monotone: a larger score never gets a smaller probability (rounding may make them equal)
    rows, i, j = np.nonzero(x[:, :, None] > x[:, None, :])
    assert np.all(y[rows, i] >= y[rows, j])
    if np.all(np.abs(x) < 1e3):
        np.testing.assert_allclose(act.softmax(x + c), y, rtol=1e-8, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(hnp.arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(2, 6)),
                  elements=st.floats(-50, 50, allow_nan=False)), st.data())
def test_classification_losses_match_torch(logits, data):
    n, k = logits.shape
    labels = np.array(data.draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    xt = torch.tensor(logits, requires_grad=True)
    loss = torch.nn.functional.cross_entropy(xt, torch.tensor(labels))
    loss.backward()
    np.testing.assert_allclose(losses.softmax_cross_entropy(logits, labels), loss.item(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(losses.softmax_cross_entropy_grad(logits, labels), xt.grad.numpy(), rtol=1e-9, atol=1e-15)
    probs = act.softmax(logits)
    if probs[np.arange(n), labels].min() > 0:
        nll = torch.nn.functional.nll_loss(torch.log(torch.tensor(probs)), torch.tensor(labels)).item()
        np.testing.assert_allclose(losses.cross_entropy_error(probs, labels, delta=0.0), nll, rtol=1e-9, atol=1e-12)
        onehot = np.eye(k)[labels]
        assert losses.cross_entropy_error(probs, onehot) == losses.cross_entropy_error(probs, labels)


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(np.float64, hnp.array_shapes(max_dims=2, max_side=6), elements=st.floats(-1e3, 1e3)), st.data())
def test_regression_losses_match_torch(y, data):
    t = data.draw(hnp.arrays(np.float64, y.shape, elements=st.one_of(st.floats(-1e3, 1e3), st.just(0.0))))
    t = np.where(data.draw(hnp.arrays(bool, y.shape)), y, t)  # ties: y == t exactly
    for name, fn in [("mean_squared_error", torch.nn.functional.mse_loss),
                     ("mean_absolute_error", torch.nn.functional.l1_loss)]:
        yt = torch.tensor(y, requires_grad=True)
        v = fn(yt, torch.tensor(t))
        v.backward()
        np.testing.assert_allclose(getattr(losses, name)(y, t), v.item(), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(getattr(losses, f"{name}_grad")(y, t), yt.grad.numpy(), rtol=1e-12, atol=1e-15)
    assert losses.sum_squared_error(y, t) >= 0
    np.testing.assert_allclose(losses.sum_squared_error(y, t), 0.5 * np.sum((y - t) ** 2))


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(np.float64, hnp.array_shapes(max_dims=2, max_side=6),
                  elements=st.one_of(st.floats(0, 1), st.sampled_from([0.0, 1.0]))), st.data())
def test_binary_cross_entropy_matches_torch(y, data):
    t = data.draw(hnp.arrays(np.float64, y.shape, elements=st.sampled_from([0.0, 1.0])))
    v = torch.nn.functional.binary_cross_entropy(torch.tensor(y), torch.tensor(t)).item()
    np.testing.assert_allclose(losses.binary_cross_entropy(y, t), v, rtol=1e-12, atol=1e-12)
