"""Optimizers (kind ``optimizer``): a class whose ``update(params, grads)`` changes the dict of
ndarrays in place, against ``torch.optim`` (``torch_ref.optim.build``).

One table maps the textbook's hyperparameter names to PyTorch's, and one table holds each
optimizer's defaults: ``scratch``, the concepts and ``verify`` all read them from here."""

from __future__ import annotations

import math

import numpy as np

import scratch.optim as SO
import torch_ref.optim as topt

from ..lockstep import flat
from ..sides import NumpyProblem, TorchProblem
from ..variants import optimizer_variants
from ._base import Hparam, Mistake, Pair, VerifyUsageError, call, construct, shows
from ._running import DriveOptions, trained
from ._styles import update_style
from .layers import hard_coded

PROBLEMS = ("x²/20 + y² from (−7, 2)", "least squares, W (6, 3) and b (3,)")


def optimizer_problems(ctx) -> dict:
    """Shared problems: the book's x²/20 + y² from (−7, 2), and a least-squares fit with a weight
    matrix and a bias (two parameters of different shapes, gradients of mixed sizes and signs).
    Each is (initial params, NumPy objective (params → loss, gradients), torch objective (tensors → loss))."""
    A = ctx.rng.normal(size=(40, 6))
    W_true = ctx.rng.normal(size=(6, 3))
    Y = A @ W_true + 0.1 * ctx.rng.normal(size=(40, 3))
    A, Y = ctx.array(A), ctx.array(Y)

    def book(p):
        x, y = p["xy"]
        return x ** 2 / 20 + y ** 2, {"xy": np.array([x / 10, 2 * y], dtype=p["xy"].dtype)}

    def book_torch(ps):
        return ps["xy"][0] ** 2 / 20 + ps["xy"][1] ** 2

    def lsq(p):
        err = A @ p["W"] + p["b"] - Y
        return float(np.mean(err ** 2)), {"W": 2 * A.T @ err / err.size, "b": 2 * err.sum(0) / err.size}

    def lsq_torch(ps):
        return ((ctx.tensor(A) @ ps["W"] + ps["b"] - ctx.tensor(Y)) ** 2).mean()

    return dict(zip(PROBLEMS, (
        ({"xy": ctx.array([-7.0, 2.0])}, book, book_torch),
        ({"W": ctx.array(ctx.rng.normal(size=(6, 3))), "b": ctx.array(np.zeros(3))}, lsq, lsq_torch))))


def _update(opt, params, grads):
    """The user's ``update(params, grads)``; a functional update returning new params is taken too."""
    result = call(opt.update, "update(params, grads)", params, grads)
    if isinstance(result, dict) and result is not params:
        for k in params:
            params[k] = result[k]


def drive_optimizer(ctx, pair, cls, hparams, run):
    """``run.steps`` steps of ``update(params, grads)`` on shared problems against ``torch.optim``,
    through the one trainer (:func:`comparisons.lockstep.train`): in lockstep (every step from
    PyTorch's parameters and gradient, at the one-step tolerance), and free-running in float64 (the
    whole path at the trained tolerance)."""
    out = []
    style = update_style(lambda: _optimizer(cls, pair, hparams, DriveOptions()), ctx.np_dtype, run)
    for label, (params0, objective, torch_objective) in optimizer_problems(ctx).items():
        if run.problems and label not in run.problems:
            continue
        numpy_side = NumpyProblem(params0, objective, lambda: style(_optimizer(cls, pair, hparams, run)), _update)
        torch_side = TorchProblem(ctx, params0, torch_objective, lambda ts: pair.torch(ts, **pair.torch_kwargs(hparams)))
        out += with_variants(pair, hparams, params0, trained(ctx, label, numpy_side, torch_side, range(run.steps)))
    return out


def with_variants(pair, hparams, params0, comparisons):
    """The lockstep parameters after each step, given what the relation search replays: the general
    slips of :func:`comparisons.variants.optimizer_variants` (ε's place and size, |g| for g², a
    missing (1 − ρ), …), each taken from PyTorch's parameters and gradient at every step."""
    by_quantity = {c.quantity: c for c in comparisons if c.kind == "lockstep"}
    after, grads = by_quantity.get("parameters after the step"), by_quantity.get("gradients")
    if after is None or grads is None or hparams.get("folded"):
        return comparisons
    start = flat(params0)
    after.context = {"steps": True, "variants": optimizer_variants(pair.id, hparams, start, np.asarray(after.expected),
                                                                   np.asarray(grads.expected))}
    return comparisons


def _optimizer(cls, pair, hparams, run):
    opt = construct(cls, pair, hparams, {}, run)
    if not callable(getattr(opt, "update", None)):
        raise VerifyUsageError(f"optimizer {pair.id} expects {pair.interface}; the object has no update method")
    return opt


TORCH_NAMES = {
    "lr": ("lr", ("learning_rate",)),
    "momentum": ("momentum", ("mu",)),
    "decay_rate": ("alpha", ("rho", "alpha", "beta", "decay")),
    "beta1": ("betas[0]", ()),
    "beta2": ("betas[1]", ()),
    "eps": ("eps", ("epsilon",)),
    "weight_decay": ("weight_decay", ("wd",)),
    "folded": ("folded", ()),
}

# optimizer → (scratch class, its defaults: PyTorch's, except lr where PyTorch has none)
DEFAULTS = {
    "sgd": ("SGD", {"lr": 0.1}),
    "momentum": ("Momentum", {"lr": 0.01, "momentum": 0.9}),
    "nesterov": ("Nesterov", {"lr": 0.01, "momentum": 0.9}),
    "adagrad": ("AdaGrad", {"lr": 0.1, "eps": 1e-10}),
    "rmsprop": ("RMSProp", {"lr": 0.01, "decay_rate": 0.99, "eps": 1e-8}),
    "adam": ("Adam", {"lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "folded": 0}),
    "adamw": ("AdamW", {"lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.01, "folded": 0}),
}

NAMES = {"sgd": ("SGD",), "momentum": ("Momentum", "MomentumSGD"), "nesterov": ("Nesterov", "NAG"),
         "adagrad": ("AdaGrad", "Adagrad"), "rmsprop": ("RMSprop", "RMSProp"), "adam": ("Adam",), "adamw": ("AdamW",)}


# the values both sides accept (PyTorch's own checks, and scratch's: a momentum below 1, a decay rate up to 1)
BOUNDS = {"lr": "[0, inf)", "momentum": "[0, 1)", "decay_rate": "[0, 1]", "beta1": "[0, 1)", "beta2": "[0, 1)",
          "eps": "[0, inf)", "weight_decay": "[0, inf)", "folded": None}


def hparams(name: str) -> tuple:
    return tuple(Hparam(k, v, TORCH_NAMES[k][0], TORCH_NAMES[k][1], choices=(0, 1) if k == "folded" else None,
                        bounds=BOUNDS[k]) for k, v in DEFAULTS[name][1].items())


def torch_optimizer(name: str):
    def build(params, **kw):
        return topt.build(name, params, **kw)
    build.__doc__ = f"torch_ref.optim.build({name!r}, params, **PyTorch-named hyperparameters)"
    return shows(build, topt.OPTIMIZERS[name])


class RuleOptimizer:
    """An optimizer written as a per-parameter rule ``rule(state, p, g, t, hparams)`` (in place): how a
    catalogue writes a mistaken update in a few lines."""

    rule = None

    def __init__(self, **hparams):
        self.hparams, self.state, self.t = hparams, {}, 0

    def update(self, params, grads):
        self.t += 1
        for k in params:
            type(self).rule(self.state.setdefault(k, {}), params[k], grads[k], self.t, self.hparams)


def rule(fn):
    return type(fn.__name__, (RuleOptimizer,), {"rule": staticmethod(fn)})


@rule
def sgd_ascent(s, p, g, t, hparams):
    p += hparams["lr"] * g


@rule
def momentum_lr_twice(s, p, g, t, hparams):
    v = s.setdefault("v", np.zeros_like(p))
    v *= hparams["momentum"]
    v -= hparams["lr"] * g
    p += hparams["lr"] * v


@rule
def momentum_no_lr(s, p, g, t, hparams):
    v = s.setdefault("v", np.zeros_like(p))
    v *= hparams["momentum"]
    v -= g
    p += v


@rule
def nesterov_as_momentum(s, p, g, t, hparams):
    v = s.setdefault("v", np.zeros_like(p))
    v *= hparams["momentum"]
    v -= hparams["lr"] * g
    p += v


@rule
def nesterov_v_first(s, p, g, t, hparams):
    """v updated before it is used in the φ step (an older copy of the book's optimizer.py)."""
    mu = hparams["momentum"]
    v = s.setdefault("v", np.zeros_like(p))
    v *= mu
    v -= hparams["lr"] * g
    p += mu * mu * v - (1 + mu) * hparams["lr"] * g


@rule
def adagrad_no_accumulation(s, p, g, t, hparams):
    p -= hparams["lr"] * g / (np.abs(g) + hparams["eps"])


@rule
def adagrad_eps_inside(s, p, g, t, hparams):
    hh = s.setdefault("h", np.zeros_like(p))
    hh += g * g
    p -= hparams["lr"] * g / np.sqrt(hh + hparams["eps"])


@rule
def rmsprop_eps_inside(s, p, g, t, hparams):
    hh = s.setdefault("h", np.zeros_like(p))
    hh *= hparams["decay_rate"]
    hh += (1 - hparams["decay_rate"]) * g * g
    p -= hparams["lr"] * g / np.sqrt(hh + hparams["eps"])


def _adam_moments(s, p, g, hparams):
    m = s.setdefault("m", np.zeros_like(p))
    v = s.setdefault("v", np.zeros_like(p))
    m += (1 - hparams["beta1"]) * (g - m)
    v *= hparams["beta2"]
    v += (1 - hparams["beta2"]) * g * g
    return m, v


def _decay(p, hparams):
    if "weight_decay" in hparams:
        p *= 1 - hparams["lr"] * hparams["weight_decay"]


@rule
def adam_no_bias_correction(s, p, g, t, hparams):
    _decay(p, hparams)
    m, v = _adam_moments(s, p, g, hparams)
    p -= hparams["lr"] * m / (np.sqrt(v) + hparams["eps"])


@rule
def adam_eps_inside(s, p, g, t, hparams):
    _decay(p, hparams)
    m, v = _adam_moments(s, p, g, hparams)
    p -= hparams["lr"] / (1 - hparams["beta1"] ** t) * m / np.sqrt(v / (1 - hparams["beta2"] ** t) + hparams["eps"])


@rule
def adamw_coupled(s, p, g, t, hparams):
    m, v = _adam_moments(s, p, g + hparams["weight_decay"] * p, hparams)
    p -= hparams["lr"] / (1 - hparams["beta1"] ** t) * m / (np.sqrt(v) / math.sqrt(1 - hparams["beta2"] ** t) + hparams["eps"])


def folded_adam(cls):
    """The book's Adam form (η_t = η·√(1 − β₂ᵗ)/(1 − β₁ᵗ), ε on the uncorrected √v), taking no ``folded``."""

    class Folded(cls):
        def _step(self, state, p, g):
            if hasattr(self, "weight_decay"):
                p *= 1 - self.lr * self.weight_decay
            SO.AdamFolded._step(self, state, p, g)

    return hard_coded(Folded)


EPS7 = "the book's ε = 1e-7 (hard-coded in its AdaGrad, RMSprop and Adam); PyTorch's default is {}"
FOLDED = ("the book's folded Adam: η_t = η·√(1 − β₂ᵗ)/(1 − β₁ᵗ) with ε on the uncorrected √v, which is PyTorch's "
          "Adam with ε/√(1 − β₂ᵗ)")
ADAM_MISTAKES = (
    Mistake("Adam without bias correction (p ← p − η·m/(√v + ε)): divide m by 1 − β₁ᵗ and v by 1 − β₂ᵗ",
            adam_no_bias_correction),
    Mistake("ε inside the square root (√(v̂ + ε)); PyTorch adds ε after the root: √v̂ + ε", adam_eps_inside),
)

MISTAKES = {
    "sgd": (Mistake("the sign is flipped: p ← p + η·g climbs the loss", sgd_ascent),),
    "momentum": (Mistake("the learning rate is applied twice (v ← μv − ηg and then p ← p + η·v)", momentum_lr_twice),
                 Mistake("the learning rate is missing (v ← μv − g; p ← p + v)", momentum_no_lr)),
    "nesterov": (Mistake("this is plain momentum: Nesterov takes the gradient at the look-ahead point θ + μv",
                         nesterov_as_momentum),
                 Mistake("v is updated before it is used in the φ step (use the old v: φ ← φ + μ²v − (1 + μ)ηg, "
                         "then v ← μv − ηg)", nesterov_v_first)),
    "adagrad": (Mistake(EPS7.format("1e-10"), hard_coded(SO.AdaGrad, eps=1e-7), flag={"eps": 1e-7}),
                Mistake("h is not accumulated (h ← g² instead of h ← h + g²)", adagrad_no_accumulation),
                Mistake("ε inside the square root; PyTorch uses g/(√h + ε)", adagrad_eps_inside)),
    "rmsprop": (Mistake(EPS7.format("1e-8"), hard_coded(SO.RMSProp, eps=1e-7), flag={"eps": 1e-7}),
                Mistake("ε inside the square root; PyTorch uses g/(√h + ε)", rmsprop_eps_inside)),
    "adam": (Mistake(EPS7.format("1e-8"), hard_coded(SO.Adam, eps=1e-7), flag={"eps": 1e-7}),
             Mistake(FOLDED, folded_adam(SO.Adam), flag={"folded": 1}), *ADAM_MISTAKES),
    "adamw": (Mistake(FOLDED, folded_adam(SO.AdamW), flag={"folded": 1}), *ADAM_MISTAKES,
              Mistake("coupled decay (λp added to the gradient, as Adam(weight_decay)); AdamW decays p ← p(1 − ηλ) "
                      "before the step", adamw_coupled)),
}


PAIRS = [
    Pair(name, "optimizer", f"optim.{cls}", torch_optimizer(name),
         "a class whose constructor takes the hyperparameters ("
         + ", ".join(f"{k}={v}" for k, v in defaults.items() if k != "folded")
         + " unless --hparam says otherwise) and whose update(params, grads) changes the dict of ndarrays params in place",
         drive_optimizer, hparams(name), None, MISTAKES[name], NAMES[name])
    for name, (cls, defaults) in DEFAULTS.items()
]
