"""scratch.delta_rule (the study notes' perceptron learning): one step ΔW = α·δ·x against autograd, whole
trainings against torch_ref's, and the data shapes and batch sizes it refuses.

Every argument check at its boundary, on both sides: α above 0, epochs from 0, a mini-batch of 1 or more
samples, at least one sample."""

import numpy as np
import pytest
import torch

import torch_ref.delta_rule as tdelta
from scratch import delta_rule
from scratch import delta_rule as DR

from .malformed import (INF, Array, Boundary, Case, Domain, Int, Other, Real, T, Tg, integers, interval,
                        malformed_input_tests, prove_each)
from .valid import DX, DD, DW, DW1, DW2


# --- malformed input: torch's result or an error naming the argument ------------------------------


def half_squared_error_grad_step(W, x, d, alpha):
    """ΔW = −α·∂/∂W mean ½(d − σ(x·Wᵀ))², by autograd."""
    Wt = Tg(W)
    y = torch.sigmoid(torch.atleast_2d(T(x)) @ Wt.T)[:, 0]
    tdelta.half_squared_error(y, torch.atleast_1d(T(d))).backward()
    return -alpha * Wt.grad


def delta_epochs_t(W, X, D, alpha, epochs, variant, batch_size):
    size = {"sgd": 1, "batch": len(np.asarray(X)), "minibatch": batch_size}[variant]
    weights, losses = tdelta.train(T(W), T(X), T(D), alpha, epochs, size)
    return [weights, losses]


DELTA = {"W": Array(DW), "X": Array(DX), "D": Array(DD)}
BATCHING = {"variant": Other("sgd", ["online", None, 3, ["sgd"]]), "batch_size": Int(2, minimum=1)}
CASES = {
    "delta_rule.delta": Case({"W": Array(DW), "x": Array(DX[:2]), "d": Array(DD[:2]), "alpha": Real(0.9, low=0, low_open=True)},
                             delta_rule.delta, half_squared_error_grad_step),
    "delta_rule.loss": Case(DELTA, delta_rule.loss, lambda W, X, D: tdelta.half_squared_error(
        torch.sigmoid(T(X) @ T(W).T)[:, 0], T(D))),
    "delta_rule.epoch": Case({**DELTA, "alpha": Real(0.9, low=0, low_open=True), **BATCHING}, delta_rule.epoch,
                             lambda W, X, D, alpha, variant, batch_size:
                                 delta_epochs_t(W, X, D, alpha, 1, variant, batch_size)[0][0]),
    "delta_rule.train": Case(
        {"W0": Array(DW), "X": Array(DX), "D": Array(DD), "alpha": Real(0.9, low=0, low_open=True), "epochs": Int(3),
         **BATCHING},
        lambda **kw: list(delta_rule.train(**kw)),
        lambda W0, X, D, alpha, epochs, variant, batch_size: delta_epochs_t(W0, X, D, alpha, epochs, variant, batch_size)),
    "delta_rule.train_two_layer": Case(
        {"W1": Array(DW1), "W2": Array(DW2), "X": Array(DX), "D": Array(DD), "alpha": Real(0.9, low=0, low_open=True),
         "epochs": Int(3)},
        lambda **kw: list(delta_rule.train_two_layer(**kw)),
        lambda W1, W2, X, D, alpha, epochs: list(tdelta.train_two_layer(T(W1), T(W2), T(X), T(D), alpha, epochs)[:3])),
}


test_valid_arguments_give_torchs_result, test_malformed_input_gives_torchs_result_or_names_the_argument = \
    malformed_input_tests(CASES)


# --- argument checks at their boundaries ------------------------------------------------------------

AT_X = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 1.0]])
AT_D = np.array([0.0, 0.0, 0.0, 1.0])
AT_W = np.array([[0.1, -0.2, 0.05]])
AT_ALPHA = interval(0.0, INF, low_open=True, high_open=True)

BOUNDARIES = [
    Boundary("delta alpha", lambda v: DR.delta(AT_W, AT_X[0], AT_D[0], v), "alpha", AT_ALPHA),
    Boundary("epoch alpha", lambda v: DR.epoch(AT_W, AT_X, AT_D, v), "alpha", AT_ALPHA),
    Boundary("train alpha", lambda v: DR.train(AT_W, AT_X, AT_D, v, epochs=2), "alpha", AT_ALPHA),
    Boundary("train epochs", lambda v: DR.train(AT_W, AT_X, AT_D, 0.5, epochs=v), "epochs", integers(0, drawn_up_to=20)),
    Boundary("train batch_size", lambda v: DR.train(AT_W, AT_X, AT_D, 0.5, 2, "minibatch", v), "batch_size", integers(1)),
    Boundary("train_two_layer epochs", lambda v: DR.train_two_layer(np.ones((2, 3)), np.ones((1, 2)), AT_X, AT_D, 0.5, v),
             "epochs", integers(0, drawn_up_to=20)),
    Boundary("train_two_layer alpha", lambda v: DR.train_two_layer(np.ones((2, 3)), np.ones((1, 2)), AT_X, AT_D, v, 1),
             "alpha", AT_ALPHA),
    Boundary("samples", lambda n: DR.loss(AT_W, AT_X[:n], AT_D[:n]), "X", Domain(accepted=(1, 4), refused=(0,))),
]


@prove_each(BOUNDARIES)
def test_each_argument_check_holds_at_its_boundary(boundary):
    boundary.prove()


# --- behaviour --------------------------------------------------------------------------------------

DELTA_DATA = (np.zeros((1, 3)), np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1.0]]), np.array([0, 0, 1, 1.0]))


@pytest.mark.parametrize("variant", ["sgd", "batch", "minibatch"])
@pytest.mark.parametrize("batch_size", [-1, 0, 2.5])
def test_delta_rule_batch_size(variant, batch_size):
    with pytest.raises(ValueError, match=f"batch_size must be an integer >= 1, got {batch_size}"):
        delta_rule.train(*DELTA_DATA, epochs=1, variant=variant, batch_size=batch_size)
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1"):
        delta_rule.epoch(*DELTA_DATA, 0.9, variant=variant, batch_size=batch_size)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"batch_size": "2"}, TypeError, "batch_size must be a real number"),
    ({"epochs": -1}, ValueError, "epochs must be an integer >= 0"),
    ({"alpha": "0.9"}, TypeError, "alpha must be a real number"),
    ({"variant": "online"}, ValueError, "variant must be one of"),
])
def test_delta_rule_train_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        delta_rule.train(*DELTA_DATA, **{"epochs": 1, **kwargs})


def test_delta_rule_data_shapes():
    W, X, D = DELTA_DATA
    with pytest.raises(ValueError, match=r"expected W0 \(1, n\), X \(N, n\) .* got W0\(1, 3\), X\(4,\)"):
        delta_rule.train(W, X[:, 0], D, epochs=1)
    with pytest.raises(ValueError, match=r"got W1\(4, 3\), W2\(1, 5\)"):
        delta_rule.train_two_layer(np.zeros((4, 3)), np.zeros((1, 5)), X, D, epochs=1)
    with pytest.raises(ValueError, match=r"got W\(1, 3\), x\(1, 2\), d\(1,\)"):
        delta_rule.delta(W, X[0, :2], D[0], 0.9)


def test_delta_rule_bad_input():
    with pytest.raises(ValueError, match="variant must be one of"):
        delta_rule.epoch(np.zeros((1, 3)), np.zeros((4, 3)), np.zeros(4), 0.9, variant="online")
    with pytest.raises(ValueError, match=r"expected W0 \(1, 3\)"):
        delta_rule.train(np.zeros((3, 1)), np.zeros((4, 3)), np.zeros(4), epochs=1)
