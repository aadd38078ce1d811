"""Optimizers and schedules: planted bugs are caught, bad hyperparameters raise, the API holds."""

import numpy as np
import pytest

import scratch.optim as O
from scratch import schedules
from comparisons.implementation import with_overrides

from .conftest import failed_checks, run_concept


class AdamEpsInsideSqrt(O.Adam):
    """ε inside the square root: p ← p − η·m̂ / √(v̂ + ε)."""

    def _step(self, state, p, g):
        m, v, t = self._moments(state, p, g)
        p -= self.lr / (1 - self.beta1**t) * m / np.sqrt(v / (1 - self.beta2**t) + self.eps)


class MomentumLrTwice(O.Momentum):
    """Applies the learning rate twice: p ← p + η·v with v ← μv − η·g."""

    def _step(self, state, p, g):
        v = state.setdefault("v", np.zeros_like(p))
        v *= self.momentum
        v -= self.lr * g
        p += self.lr * v


class NesterovAtTheta(O.Nesterov):
    """Takes the gradient at θ, not at the look-ahead point: plain heavy-ball momentum."""

    def _step(self, state, p, g):
        v = state.setdefault("v", np.zeros_like(p))
        v *= self.momentum
        v -= self.lr * g
        p += v


def lookahead_at_theta(grad_f, theta0, lr, momentum, steps):
    theta = np.array(theta0, dtype=float)
    v = np.zeros_like(theta)
    thetas, vs = [theta.copy()], [v.copy()]
    for _ in range(steps):
        v = momentum * v - lr * grad_f(theta)  # should be grad_f(theta + momentum * v)
        theta = theta + v
        thetas.append(theta.copy())
        vs.append(v.copy())
    return np.array(thetas), np.array(vs)


class AdaGradNoAccumulation(O.AdaGrad):
    """Forgets to accumulate: h ← g² instead of h ← h + g²."""

    def _step(self, state, p, g):
        p -= self.lr * g / (np.sqrt(g * g) + self.eps)


class StepDecayOffByOne(schedules.StepDecay):
    def __call__(self, t):
        return self.lr0 * self.gamma ** ((t + 1) // self.step_size)


PLANTED = [
    ({"optim.Adam": AdamEpsInsideSqrt}, "optimizers", "Adam: x²/20 + y² from (−7, 2): lockstep parameters after the step"),
    ({"optim.Momentum": MomentumLrTwice}, "optimizers", "Momentum: x²/20 + y² from (−7, 2): lockstep parameters after the step"),
    ({"optim.Nesterov": NesterovAtTheta}, "optimizers", "Nesterov: x²/20 + y² from (−7, 2): lockstep parameters after the step"),
    ({"optim.nesterov_lookahead": lookahead_at_theta}, "optimizers", "Nesterov: look-ahead θ + μv = torch's p"),
    ({"optim.AdaGrad": AdaGradNoAccumulation}, "optimizers", "AdaGrad (book's eps=1e-7): x²/20 + y² from (−7, 2): lockstep parameters after the step"),
    ({"schedules.StepDecay": StepDecayOffByOne}, "lr-schedules", "step: halve every 5: lr per epoch"),
]


@pytest.mark.parametrize("overrides, concept, expected", PLANTED, ids=[p[2] for p in PLANTED])
def test_planted_optimizer_bug_is_caught(overrides, concept, expected):
    ctx = run_concept(concept, impl=with_overrides(overrides))
    assert expected in failed_checks(ctx)


@pytest.mark.parametrize("make, message", [
    (lambda: O.SGD(lr=-0.1), "Invalid learning rate"),
    (lambda: O.Momentum(0.1, momentum=1.0), r"momentum must be in \[0.0, 1.0\)"),
    (lambda: O.Momentum(0.1, momentum=-0.1), "momentum must be in"),
    (lambda: O.Adam(beta1=1.0), r"beta1 must be in \[0.0, 1.0\)"),
    (lambda: O.Adam(beta2=-0.5), "beta2 must be in"),
    (lambda: O.Adam(eps=-1e-8), "Invalid epsilon value"),
    (lambda: O.AdaGrad(0.1, eps=-1), "Invalid epsilon value"),
    (lambda: O.RMSProp(0.1, decay_rate=1.5), "decay_rate must be in"),
    (lambda: O.AdamW(weight_decay=-1), "Invalid weight_decay"),
    (lambda: O.SGD(lr=float("nan")), "Invalid learning rate"),
    (lambda: schedules.StepDecay(0.1, 0, 0.5), "step_size must be an integer >= 1"),
    (lambda: schedules.ExponentialDecay(-0.1, 0.1), "Invalid initial learning rate"),
    (lambda: schedules.InverseTimeDecay(0.1, -1), "k must be a finite number >= 0"),
])
def test_bad_hyperparameters_raise(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_update_checks_keys_and_shapes():
    opt = O.SGD(0.1)
    with pytest.raises(KeyError, match=r"grads has no entry for \['b'\]"):
        opt.update({"W": np.ones(2), "b": np.ones(1)}, {"W": np.ones(2)})
    with pytest.raises(ValueError, match="must have the same shape"):
        opt.update({"W": np.ones(2)}, {"W": np.ones(3)})


@pytest.mark.parametrize("cls", [O.SGD, O.Momentum, O.Nesterov, O.AdaGrad, O.RMSProp, O.Adam, O.AdamW, O.AdamFolded])
def test_update_is_in_place_with_state_per_key(cls):
    opt = cls(lr=0.1)
    W, b = np.ones((2, 3)), np.zeros(3)
    params = {"W": W, "b": b}
    opt.update(params, {"W": np.full((2, 3), 0.5), "b": np.full(3, -1.0)})
    assert params["W"] is W and params["b"] is b  # the same arrays, changed in place
    assert not np.all(W == 1) and not np.all(b == 0)
    assert set(opt.state) == {"W", "b"}


def test_lr_is_an_attribute_a_schedule_can_change():
    opt = O.SGD(0.1)
    p = {"w": np.array([1.0])}
    opt.lr = 0.0
    opt.update(p, {"w": np.array([5.0])})
    assert p["w"][0] == 1.0


def test_schedules_values():
    assert [schedules.StepDecay(1.0, 5, 0.5)(t) for t in (0, 4, 5, 9, 10)] == [1, 1, 0.5, 0.5, 0.25]
    assert schedules.ExponentialDecay(2.0, 0.1)(10) == pytest.approx(2.0 * np.exp(-1.0))
    assert schedules.InverseTimeDecay(1.0, 0.5)(4) == pytest.approx(1 / 3)
