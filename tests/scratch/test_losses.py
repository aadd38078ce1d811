"""scratch.losses: every loss and its gradient against torch's (nll_loss, cross_entropy, mse_loss, l1_loss,
binary_cross_entropy) over shapes, ties and ±large inputs; the gradients against central differences; the form
of targets and labels each takes.

Every argument check at its boundary, on both sides: δ from 0, class labels in [0, K) (K itself refused before
it indexes), probabilities in [0, 1], at least one class."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from scratch import losses
from scratch import activations as A
from scratch import losses as LS
from scratch.gradients import numerical_gradient, relative_error

from .malformed import (INF, NAN, Array, Boundary, Case, Domain, Labels, Real, T, Tg, grad_of, interval, labels,
                        malformed_input_tests, prove_each, targets)
from .valid import LABELS, LOGITS, PROBS, TGT, Y


# --- malformed input: torch's result or an error naming the argument ------------------------------

def cross_entropy_on_probabilities(y, t, delta):
    """−Σ t·log(y + δ) / N with 0·log 0 = 0, on torch's side (nll_loss for labels)."""
    y = T(y)
    if y.ndim == 2 and np.shape(t) != tuple(y.shape) or y.ndim == 1 and np.ndim(t) == 0:
        return F.nll_loss(torch.log(y + delta), labels(t))
    t = T(t)
    if t.shape != y.shape:
        raise ValueError("shapes")
    picked = torch.where(t != 0, t * torch.log(y + delta), torch.zeros_like(y))
    return -picked.sum() / (y.shape[0] if y.ndim == 2 else 1)


def pair_loss(fn, torch_fn, y=Y, t=TGT, grad=False, finite=False):
    args = {"y": Array(y, finite=finite), "t": Array(t, finite=finite)}
    if grad:
        return Case(args, fn, lambda y, t: grad_of(lambda v: torch_fn(v, T(t)), Tg(y))[0])
    return Case(args, fn, lambda y, t: torch_fn(T(y), T(t)))


def bce_grad_t(y, t):
    """torch's BCE gradient, where y(1 − y) is clamped scaled by the documented relation: torch's clamp
    constant is float32(1e-12), scratch's 1e-12 (see the losses concept)."""
    yt = Tg(y)
    F.binary_cross_entropy(yt, T(t)).backward()
    clamped = (T(y) * (1 - T(y))) < 1e-12
    return torch.where(clamped, yt.grad * float(np.float32(1e-12)) / 1e-12, yt.grad)


def half_sse(y, t):
    return 0.5 * F.mse_loss(y, t, reduction="sum")


CASES = {
    "losses.sum_squared_error": pair_loss(LS.sum_squared_error, half_sse),
    "losses.sum_squared_error_grad": pair_loss(LS.sum_squared_error_grad, half_sse, grad=True),
    "losses.mean_squared_error": pair_loss(LS.mean_squared_error, F.mse_loss),
    "losses.mean_squared_error_grad": pair_loss(LS.mean_squared_error_grad, F.mse_loss, grad=True),
    "losses.mean_absolute_error": pair_loss(LS.mean_absolute_error, F.l1_loss),
    "losses.mean_absolute_error_grad": pair_loss(LS.mean_absolute_error_grad, F.l1_loss, grad=True),
    "losses.binary_cross_entropy": pair_loss(LS.binary_cross_entropy, F.binary_cross_entropy, t=TGT.round(), finite=True),
    "losses.binary_cross_entropy_grad": Case({"y": Array(Y, finite=True), "t": Array(TGT.round(), finite=True)},
                                             LS.binary_cross_entropy_grad,
                                             lambda y, t: bce_grad_t(y, t)),
    "losses.cross_entropy_error": Case(
        {"y": Array(PROBS, finite=True), "t": Labels(LABELS), "delta": Real(1e-7, low=0)}, LS.cross_entropy_error,
        cross_entropy_on_probabilities),
    "losses.cross_entropy_error_grad": Case(
        {"y": Array(PROBS, finite=True), "t": Labels(LABELS), "delta": Real(1e-7, low=0)}, LS.cross_entropy_error_grad,
        lambda y, t, delta: grad_of(lambda v: cross_entropy_on_probabilities(v, t, delta), Tg(y))[0]),
    "losses.softmax_cross_entropy": Case({"logits": Array(LOGITS), "t": Labels(LABELS)}, LS.softmax_cross_entropy,
                                         lambda logits, t: F.cross_entropy(T(logits), targets(t, T(logits)))),
    "losses.softmax_cross_entropy_grad": Case(
        {"logits": Array(LOGITS), "t": Labels(LABELS)}, LS.softmax_cross_entropy_grad,
        lambda logits, t: grad_of(lambda v: F.cross_entropy(v, targets(t, v)), Tg(logits))[0]),
}


test_valid_arguments_give_torchs_result, test_malformed_input_gives_torchs_result_or_names_the_argument = \
    malformed_input_tests(CASES)


# --- argument checks at their boundaries ------------------------------------------------------------

AT_Y = np.array([[0.2, 0.3, 0.5], [0.1, 0.8, 0.1]])
AT_LABELS = Domain(accepted=(0, 2, 2.0), refused=(-1, 3, 2.5, NAN))


def second_label(v):
    return np.array([1, v])


BOUNDARIES = [
    Boundary("cross_entropy_error delta", lambda v: LS.cross_entropy_error(AT_Y, [0, 1], v), "delta",
             interval(0.0, INF, high_open=True)),
    Boundary("cross_entropy_error_grad delta", lambda v: LS.cross_entropy_error_grad(AT_Y, [0, 1], v), "delta",
             interval(0.0, INF, high_open=True)),
    Boundary("cross_entropy_error labels", lambda v: LS.cross_entropy_error(AT_Y, second_label(v)), "t", AT_LABELS),
    Boundary("softmax_cross_entropy labels", lambda v: LS.softmax_cross_entropy(AT_Y, second_label(v)), "t", AT_LABELS),
    Boundary("softmax_cross_entropy_grad labels", lambda v: LS.softmax_cross_entropy_grad(AT_Y, second_label(v)), "t", AT_LABELS),
    Boundary("one sample's label", lambda v: LS.softmax_cross_entropy(AT_Y[0], v), "t", AT_LABELS),
    Boundary("binary_cross_entropy y", lambda v: LS.binary_cross_entropy(np.array([v, 0.5]), np.array([1.0, 0.0])),
             "y", interval(0.0, 1.0)),
    Boundary("binary_cross_entropy t", lambda v: LS.binary_cross_entropy(np.array([0.5, 0.5]), np.array([v, 0.0])),
             "t", interval(0.0, 1.0)),
    Boundary("binary_cross_entropy_grad y", lambda v: LS.binary_cross_entropy_grad(np.array([v]), np.array([1.0])),
             "y", interval(0.0, 1.0)),
    Boundary("classes of the logits", lambda k: LS.softmax_cross_entropy(np.ones((2, k)), np.zeros((2, k))), "logits",
             Domain(accepted=(1, 2), refused=(0,))),
]


@prove_each(BOUNDARIES)
def test_each_argument_check_holds_at_its_boundary(boundary):
    boundary.prove()


# --- behaviour --------------------------------------------------------------------------------------

rng = np.random.default_rng(123)

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
    probs = A.softmax(logits)
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
    y = A.softmax(logits)
    num = numerical_gradient(lambda y_: float(losses.cross_entropy_error(y_, t)), y.copy(), h=1e-6)
    assert relative_error(losses.cross_entropy_error_grad(y, t), num).max() < 1e-6
    num = numerical_gradient(lambda x_: float(losses.softmax_cross_entropy(x_, t)), logits.copy())
    assert relative_error(losses.softmax_cross_entropy_grad(logits, t), num).max() < 1e-7


@pytest.mark.parametrize("t", [2.0, -1.0, float("nan")])
def test_binary_cross_entropy_targets_are_probabilities(t):
    for fn in (losses.binary_cross_entropy, losses.binary_cross_entropy_grad):
        with pytest.raises(ValueError, match=r"t must hold probabilities in \[0, 1\]"):
            fn(np.array([0.5]), np.array([t]))
    with pytest.raises(RuntimeError, match="all elements of target should be between 0 and 1"):
        F.binary_cross_entropy(torch.tensor([0.5]), torch.tensor([t]))


def test_cross_entropy_arguments():
    with pytest.raises(TypeError, match="delta must be a real number"):
        losses.cross_entropy_error(np.array([[0.5, 0.5]]), np.array([0]), delta="1e-7")
    with pytest.raises(ValueError, match="delta must be a finite number >= 0"):
        losses.cross_entropy_error_grad(np.array([[0.5, 0.5]]), np.array([0]), delta=float("nan"))
    with pytest.raises(ValueError, match=r"logits must be a batch of shape \(N, K\)"):
        losses.softmax_cross_entropy(np.float64(1.0), np.array(0))
    with pytest.raises(ValueError, match=r"logits must have at least one class"):
        losses.softmax_cross_entropy(np.zeros((2, 0)), np.zeros((2, 0)))
    with pytest.raises(ValueError, match="t must hold integer class labels"):
        losses.softmax_cross_entropy(np.zeros((1, 3)), np.array([np.nan]))


def test_losses_of_an_empty_batch_as_torch():
    empty, t = np.zeros((0, 3)), np.zeros(0, dtype=int)
    et, tt = torch.zeros((0, 3), dtype=torch.float64, requires_grad=True), torch.zeros(0, dtype=torch.long)
    ce = F.cross_entropy(et, tt)
    ce.backward()
    assert np.isnan(losses.softmax_cross_entropy(empty, t)) and np.isnan(ce.item())
    assert losses.softmax_cross_entropy_grad(empty, t).shape == et.grad.shape == (0, 3)
    assert np.isnan(losses.cross_entropy_error(empty, t))
    assert losses.cross_entropy_error_grad(empty, t).shape == (0, 3)
    e = np.zeros(0)
    for ours, theirs in [(losses.mean_squared_error, F.mse_loss), (losses.mean_absolute_error, F.l1_loss),
                         (losses.binary_cross_entropy, F.binary_cross_entropy)]:
        assert np.isnan(ours(e, e)) and np.isnan(theirs(torch.tensor(e), torch.tensor(e)).item())
    assert losses.sum_squared_error(e, e) == F.mse_loss(torch.tensor(e), torch.tensor(e), reduction="sum").item() == 0


def test_loss_shape_mismatch():
    with pytest.raises(ValueError, match=r"y and t must have the same shape"):
        losses.mean_squared_error(np.zeros(3), np.zeros(4))


def test_labels_out_of_range():
    with pytest.raises(ValueError, match=r"expected every label in \[0, 3\)"):
        losses.softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match="integer class labels"):
        losses.softmax_cross_entropy(np.zeros((2, 3)), np.array([0.5, 1.0]))


def test_targets_of_wrong_shape():
    with pytest.raises(ValueError, match=r"one-hot of shape \(2, 3\) or integer labels of shape \(2,\)"):
        losses.cross_entropy_error(np.full((2, 3), 1 / 3), np.zeros((2, 2)))


def test_probabilities_out_of_range():
    with pytest.raises(ValueError, match=r"y must hold probabilities in \[0, 1\]"):
        losses.cross_entropy_error(np.array([[1.5, -0.5]]), np.array([0]))
    with pytest.raises(ValueError, match="probabilities"):
        losses.binary_cross_entropy(np.array([2.0]), np.array([1.0]))


def test_a_negative_delta_names_it():
    with pytest.raises(ValueError, match="delta must be a finite number >= 0"):
        losses.cross_entropy_error(np.array([[0.5, 0.5]]), np.array([0]), delta=-1)
