"""A concept's run catches a mistake planted in the part of scratch it uses: the same run, with one
object replaced by a broken one, fails the check that names it.

Two kinds of plant:
- the catalogued mistakes of a pair (read from the catalogue, never written again): each is caught
  at its root by the pair's own test (tests/pairs/test_declarations.py), so the whole-concept runs
  here only prove that the concept checks the implementation's object through the pair, and are
  ``slow``;
- mistakes in objects no pair compares (a training loop, a relation a concept states, a helper):
  the concept's run is their only check, and the cheap runs among them are in the default suite."""

import numpy as np
import pytest

import scratch
from comparisons.concepts.activations import KINK_CHECKS
from scratch import regularization

from ..conftest import catalogued, planted
from ..mutants import DropoutScalesAtEval, LinearOneSampleAsBatch, SoftmaxBackwardOverAxis1, StepDecayOffByOne

# --- catalogued mistakes of the pairs a concept checks ----------------------------------------------

CATALOGUED = [
    ("activations", "layers.Sigmoid", ("layer", "sigmoid", "misses the (1 − y) factor"), "sigmoid layer: backward dx"),
    ("activations", "activations.relu_grad", ("function", "relu-grad", "ReLU'(0) = 1"), KINK_CHECKS["relu"]),
    ("losses", "losses.sum_squared_error", ("loss", "sse", "leaves out the ½"), "SSE"),
    ("losses", "losses.cross_entropy_error", ("loss", "cross-entropy", "sums over the batch"), "CEE"),
    ("mlp-backprop", "layers.Linear", ("layer", "linear", "db is not summed"), "backprop vs autograd, ReLU net, one hidden layer: b1"),
    ("weight-init", "init.he_normal", ("initializer", "he-normal", "fan_out where fan_in belongs"), "he_normal: std (NumPy)"),
    ("batchnorm", "layers.BatchNorm1d", ("layer", "batchnorm", "without its mean terms"),
     "BatchNorm1d: training step 1: backward dx, x 8×5"),
    *[("optimizers", f"optim.{cls}", ("optimizer", pid, hint),
       f"{name}: x²/20 + y² from (−7, 2): lockstep parameters after the step")
      for cls, pid, hint, name in [("Adam", "adam", "ε inside the square root", "Adam"),
                                   ("Momentum", "momentum", "applied twice", "Momentum"),
                                   ("Nesterov", "nesterov", "this is plain momentum", "Nesterov"),
                                   ("AdaGrad", "adagrad", "h is not accumulated", "AdaGrad (book's eps=1e-7)")]],
]


@pytest.mark.slow
@pytest.mark.parametrize("concept_id, name, mistake, check", CATALOGUED, ids=[c[3] for c in CATALOGUED])
def test_a_catalogued_mistake_fails_the_concept_that_checks_its_pair(concept_id, name, mistake, check):
    failed = planted(concept_id, {name: catalogued(*mistake, in_place_of=name)})
    assert any(check in f for f in failed), failed


# --- mistakes no pair compares: the concept is their check ---------------------------------------------


def numerical_diff_forward_only(f, x, h=1e-4, method="central"):
    return (f(x + h) - f(x)) / h


def linreg_fit_lr_twice(x, y, a0, b0, lr, batches, loss="squared"):
    return scratch.linear_regression.fit(x, y, a0, b0, 2 * lr, batches, loss)


def lookahead_at_theta(grad_f, theta0, lr, momentum, steps):
    """The gradient at θ, not at the look-ahead point θ + μv."""
    theta = np.array(theta0, dtype=float)
    v = np.zeros_like(theta)
    thetas, vs = [theta.copy()], [v.copy()]
    for _ in range(steps):
        v = momentum * v - lr * grad_f(theta)
        theta = theta + v
        thetas.append(theta.copy())
        vs.append(v.copy())
    return np.array(thetas), np.array(vs)


def l1_grad_sign0_is_1(w, lam):
    w = np.asarray(w, dtype=float)
    return lam * np.where(w >= 0, 1.0, -1.0)


class EarlyStoppingKeepsLast(regularization.EarlyStopping):
    def restore(self, params):
        return params  # keeps the last weights instead of the best


class MultiTaskHeadAOnly(scratch.networks.MultiTaskNet):
    def gradient(self, x, ta, tb, heads=("a", "b")):
        return super().gradient(x, ta, tb, heads=("a",) if heads == ("a", "b") else heads)


def delta_without_derivative(W, x, d, alpha):
    x = np.atleast_2d(x)
    y = scratch.activations.sigmoid(x @ W.T)[:, 0]
    return alpha * (((np.asarray(d) - y))[:, None] * x).mean(axis=0, keepdims=True)


OWN = [  # concept, what is replaced, the check that must fail, the dtype of the run, marks
    ("numerical-gradient", {"gradients.numerical_diff": numerical_diff_forward_only}, "numerical vs autograd", "float64",
     []),
    ("linear-regression", {"linear_regression.fit": linreg_fit_lr_twice}, "parameters after every step", "float64", []),
    ("softmax", {"layers.Softmax": SoftmaxBackwardOverAxis1}, "softmax backward (3-D, axis −1)", "float64", []),
    ("mlp-backprop", {"layers.Linear": LinearOneSampleAsBatch}, "Linear forward, one sample (in,)", "float64", []),
    ("optimizers", {"optim.nesterov_lookahead": lookahead_at_theta}, "Nesterov: look-ahead θ + μv = torch's p", "float64",
     []),
    ("lr-schedules", {"schedules.StepDecay": StepDecayOffByOne}, "step: halve every 5: lr per epoch", "float64", []),
    ("early-stopping", {"regularization.EarlyStopping": EarlyStoppingKeepsLast}, "restored weights = torch's best weights",
     "float32", []),
    ("multitask", {"networks.MultiTaskNet": MultiTaskHeadAOnly}, "shared gradient = head a + head b (NumPy)", "float32",
     []),
    ("delta-rule", {"delta_rule.delta": delta_without_derivative}, "ΔW = −α·∇½(d−y)² (sample 0)", "float64", []),
    ("regularization", {"regularization.l1_grad": l1_grad_sign0_is_1}, "L1 gradient with zeros = autograd (sign(0) = 0)",
     "float32", [pytest.mark.slow]),
    ("dropout", {"layers.Dropout": DropoutScalesAtEval}, "dropout in eval mode is the identity", "float32",
     [pytest.mark.slow]),
]


@pytest.mark.parametrize("concept_id, overrides, check, dtype",
                         [pytest.param(*case[:4], marks=case[4], id=case[2]) for case in OWN])
def test_a_planted_mistake_fails_the_check_that_names_it(concept_id, overrides, check, dtype):
    failed = planted(concept_id, overrides, dtype)
    assert any(check in f for f in failed), failed
