"""Issue 4: regularisation, dropout, early stopping, batch norm, search, multi-task — planted bugs
are caught and bad input raises."""

import numpy as np
import pytest

import scratch
from comparisons.implementation import with_overrides
from scratch import layers, regularization, search
from scratch.gradients import numerical_gradient, relative_error

from .conftest import failed_checks, run_concept

rng = np.random.default_rng(7)


class DropoutScalesAtEval(layers.Dropout):
    """Scales by (1 − p) in eval mode as well (mixing the book's convention into inverted dropout)."""

    def forward(self, x):
        out = super().forward(x)
        return out if self.training else out * (1 - self.p)


class BatchNormNoMeanTerms(layers.BatchNorm1d):
    """backward without the two sums: dx = g / √(σ² + ε)."""

    def backward(self, dout):
        dx = super().backward(dout)
        xhat, std = self._cache
        return dx if std is None else dout * self.params["gamma"] / std


def l1_grad_sign0_is_1(w, lam):
    w = np.asarray(w, dtype=float)
    return lam * np.where(w >= 0, 1.0, -1.0)


class EarlyStoppingKeepsLast(regularization.EarlyStopping):
    def restore(self, params):
        return params  # keeps the last weights instead of the best


class MultiTaskHeadAOnly(scratch.networks.MultiTaskNet):
    def gradient(self, x, ta, tb, heads=("a", "b")):
        return super().gradient(x, ta, tb, heads=("a",) if heads == ("a", "b") else heads)


PLANTED = [
    ("dropout", {"layers.Dropout": DropoutScalesAtEval}, "dropout in eval mode is the identity"),
    ("batchnorm", {"layers.BatchNorm1d": BatchNormNoMeanTerms}, "BatchNorm1d: training step 1: backward dx, x 8×5"),
    ("regularization", {"regularization.l1_grad": l1_grad_sign0_is_1}, "L1 gradient with zeros = autograd (sign(0) = 0)"),
    ("early-stopping", {"regularization.EarlyStopping": EarlyStoppingKeepsLast}, "restored weights = torch's best weights"),
    ("multitask", {"networks.MultiTaskNet": MultiTaskHeadAOnly}, "shared gradient = head a + head b (NumPy)"),
]


@pytest.mark.parametrize("concept, overrides, expected", PLANTED, ids=[p[2] for p in PLANTED])
def test_planted_bug_is_caught(concept, overrides, expected):
    ctx = run_concept(concept, impl=with_overrides(overrides), dtype="float32")  # float32: the short runs
    assert expected in failed_checks(ctx)


def test_narrow_keeps_the_best_trials():
    trials = [{"lr": 1e-2, "weight_decay": 1e-5}, {"lr": 1e-5, "weight_decay": 1e-7}, {"lr": 1e-3, "weight_decay": 1e-6}]
    assert search.narrow(trials, [0.9, 0.1, 0.8], 2) == {"lr": (-3.0, -2.0), "weight_decay": (-6.0, -5.0)}
    with pytest.raises(ValueError, match="top_k must be >= 1"):
        search.narrow(trials, [0.9, 0.1, 0.8], 0)


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5])
def test_dropout_probability_out_of_range(p):
    with pytest.raises(ValueError, match=r"dropout probability has to be in \[0, 1\)"):
        layers.Dropout(p)


@pytest.mark.parametrize("patience", [0, -1, 1.5])
def test_early_stopping_bad_patience(patience):
    with pytest.raises(ValueError, match="patience must be an integer >= 1"):
        regularization.EarlyStopping(patience=patience)


def test_early_stopping_bad_min_delta_and_order():
    with pytest.raises(ValueError, match="min_delta must be"):
        regularization.EarlyStopping(patience=2, min_delta=-1)
    with pytest.raises(RuntimeError, match="before any step"):
        regularization.EarlyStopping(patience=2).restore({})


def test_early_stopping_restores_best():
    stopper = regularization.EarlyStopping(patience=2)
    params = {"w": np.array([0.0])}
    for epoch, loss in enumerate([3.0, 1.0, 2.0, 2.5]):
        params["w"][0] = epoch
        if stopper.step(loss, params):
            break
    assert stopper.best_epoch == 1 and stopper.stopped_epoch == 3
    assert stopper.restore(params)["w"][0] == 1.0


def test_penalties_bad_lambda():
    with pytest.raises(ValueError, match="lam must be a finite number >= 0"):
        regularization.l2_penalty([np.ones(2)], -0.1)


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


def test_search_sampling_is_seeded_and_validated():
    a = search.sample_trials(np.random.default_rng(3), {"lr": (-6, -2)}, 5)
    b = search.sample_trials(np.random.default_rng(3), {"lr": (-6, -2)}, 5)
    assert a == b and all(1e-6 <= t["lr"] <= 1e-2 for t in a)
    with pytest.raises(ValueError, match="low <= high"):
        search.sample_trials(np.random.default_rng(3), {"lr": (-2, -6)}, 5)
