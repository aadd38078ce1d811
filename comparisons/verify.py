"""Verify your own NumPy code against PyTorch: ``python -m comparisons verify`` and its Python API.

    python -m comparisons verify optimizer my_adam.py:Adam --against adam --hparam lr=0.01
    python -m comparisons verify activation mymod:sigmoid --against sigmoid
    python -m comparisons verify --list

Each reference (``--against``) knows the interface it expects, how to drive the user's object
through the same kind of comparison the ``scratch`` implementation goes through (random inputs of
several shapes and edge values, forward and backward, ≥ 100 optimizer steps on shared problems),
and which well-known mistakes to look for when the verdict is "differs": if the user's numbers
match a known wrong variant, the hint says which.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

import torch_ref.optim as topt

from .checks import close
from .context import ConceptContext, RunOptions
from .runner import configure_torch


class VerifyUsageError(Exception):
    """The target cannot be imported, or does not fit the interface (exit status 2)."""


@dataclass
class Reference:
    name: str
    kind: str
    interface: str
    hparams: dict  # name → default, passed to the user's constructor when it accepts the name
    drive: object  # (ctx, target, hparams, steps, reference, notes) -> [Comparison, ...]
    mistakes: dict = field(default_factory=dict)  # hint → function producing the mistaken numbers


@dataclass
class Comparison:
    """One quantity on both sides, and the inputs it came from (the arguments a known-mistake
    variant is called with when looking for a hint; None where no variant applies)."""

    label: str
    actual: object
    expected: object
    inputs: tuple | None = None


@dataclass
class VerifyResult:
    kind: str
    target: str
    against: str
    records: list
    hint: str | None
    notes: list

    @property
    def passed(self) -> bool:
        return bool(self.records) and all(r.passed for r in self.records)

    @property
    def first_failure(self):
        return next((r for r in self.records if not r.passed), None)


# --- loading the user's object ----------------------------------------------------------------------


def load_target(spec: str):
    """``module:name`` (a dotted module or a path to a .py file) → the object."""
    if ":" not in spec:
        raise VerifyUsageError(f"target must be MODULE:NAME (e.g. my_adam.py:Adam or mypkg.optim:Adam), got {spec!r}")
    module_part, _, name = spec.rpartition(":")
    try:
        if module_part.endswith(".py") or "/" in module_part or Path(module_part).is_file():
            path = Path(module_part)
            if not path.is_file():
                raise VerifyUsageError(f"no such file: {path}")
            mod_name = f"_verify_target_{abs(hash(str(path.resolve())))}"
            spec_ = importlib.util.spec_from_file_location(mod_name, path)
            module = importlib.util.module_from_spec(spec_)
            sys.modules[mod_name] = module
            spec_.loader.exec_module(module)
        else:
            module = importlib.import_module(module_part)
    except VerifyUsageError:
        raise
    except Exception as exc:  # the user's module failed to import
        raise VerifyUsageError(f"cannot import {module_part!r}: {type(exc).__name__}: {exc}") from None
    if not hasattr(module, name):
        public = sorted(k for k in vars(module) if not k.startswith("_"))
        raise VerifyUsageError(f"{module_part!r} has no attribute {name!r}; it defines {public}")
    return getattr(module, name)


def construct(cls, hparams: dict, reference: Reference, notes: list, positional=()):
    """Instantiate the user's class with the hyperparameters its constructor accepts."""
    if not callable(cls):
        raise VerifyUsageError(f"{reference.name} expects {reference.interface}; got a {type(cls).__name__}")
    try:
        sig = inspect.signature(cls)
    except (TypeError, ValueError):
        sig = None
    kwargs = dict(hparams)
    if sig is not None and not any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values()):
        accepted = {k: v for k, v in kwargs.items() if k in sig.parameters}
        ignored = sorted(set(kwargs) - set(accepted))
        if ignored:
            notes.append(f"the constructor does not take {ignored}: your own defaults are used for them, "
                         f"the reference uses {', '.join(f'{k}={kwargs[k]}' for k in ignored)}")
        kwargs = accepted
    try:
        return cls(*positional, **kwargs)
    except Exception as exc:
        raise VerifyUsageError(f"{reference.name} expects {reference.interface}; constructing it with "
                               f"{kwargs} failed: {type(exc).__name__}: {exc}") from None


def _call(fn, what, reference, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except VerifyUsageError:
        raise
    except Exception as exc:
        raise VerifyUsageError(f"{reference.name} expects {reference.interface}; {what} raised "
                               f"{type(exc).__name__}: {exc}") from None


# --- inputs ---------------------------------------------------------------------------------------


def _activation_inputs(ctx):
    edge = np.array([0.0, -0.0, 1e-8, -1e-8, 1.0, -1.0, 20.0, -20.0, 500.0, -500.0])
    return {"edge values": ctx.array(edge), "vector (37,)": ctx.array(ctx.rng.normal(0, 3, 37)),
            "batch (16, 10)": ctx.array(ctx.rng.normal(0, 3, (16, 10))),
            "3-D (2, 3, 5)": ctx.array(ctx.rng.normal(0, 3, (2, 3, 5)))}


# --- activations ----------------------------------------------------------------------------------

_TORCH_ACT = {
    "sigmoid": lambda x, **k: torch.sigmoid(x), "tanh": lambda x, **k: torch.tanh(x), "relu": lambda x, **k: torch.relu(x),
    "identity": lambda x, **k: x,
    "leaky-relu": lambda x, negative_slope=0.01: nn.functional.leaky_relu(x, negative_slope),
    "elu": lambda x, alpha=1.0: nn.functional.elu(x, alpha),
    "step": lambda x, **k: torch.heaviside(x, torch.zeros((), dtype=x.dtype)),
    "softmax": lambda x, **k: torch.softmax(x, dim=-1),
}


def _drive_activation(name):
    def drive(ctx, fn, hparams, steps, reference, notes):
        out = []
        inputs = _activation_inputs(ctx)
        if name == "softmax":
            inputs["overflow [1010, 1000, 990]"] = ctx.array([1010.0, 1000.0, 990.0])
        for label, x in inputs.items():
            with np.errstate(all="ignore"):
                y = _call(fn, f"calling it on an array of shape {x.shape}", reference, x.copy(), **hparams)
            out.append(Comparison(f"forward, {label}", np.asarray(y), _TORCH_ACT[name](ctx.tensor(x), **hparams), (x,)))
        return out
    return drive


def _mistaken_activation(name):
    wrong = {
        "sigmoid": {"uses 1/(1 + e^x): the sign inside exp is flipped": lambda x: 1 / (1 + np.exp(x))},
        "softmax": {"softmax without subtracting the max overflows for large inputs (nan)":
                    lambda x: np.exp(x) / np.exp(x).sum(axis=-1, keepdims=True),
                    "normalised over the wrong axis (axis 0 instead of the last)":
                    lambda x: np.exp(x - x.max(axis=0, keepdims=True)) / np.exp(x - x.max(axis=0, keepdims=True)).sum(axis=0, keepdims=True)},
        "relu": {"returns the mask (x > 0), not max(0, x)": lambda x: (x > 0).astype(float)},
        "leaky-relu": {"the slope is applied to positive inputs": lambda x, negative_slope=0.01: np.where(x > 0, negative_slope * x, x)},
        "tanh": {"computes sigmoid instead of tanh": lambda x: 1 / (1 + np.exp(-x))},
    }
    return wrong.get(name, {})


# --- losses ---------------------------------------------------------------------------------------

def _loss_cases(ctx, name):
    cases = {}
    for n, k in ((1, 10), (8, 5), (32, 3)):
        logits = ctx.rng.normal(0, 2, (n, k))
        labels = ctx.rng.integers(0, k, n)
        probs = np.exp(logits - logits.max(1, keepdims=True))
        probs /= probs.sum(1, keepdims=True)
        if name in ("cross-entropy", "softmax-cross-entropy"):
            x = probs if name == "cross-entropy" else logits
            cases[f"batch {n}×{k}, labels"] = (ctx.array(x), labels)
            cases[f"batch {n}×{k}, one-hot"] = (ctx.array(x), ctx.array(np.eye(k)[labels]))
        elif name == "binary-cross-entropy":
            cases[f"batch {n}×{k}"] = (ctx.array(ctx.rng.uniform(0.01, 0.99, (n, k))), ctx.array(ctx.rng.integers(0, 2, (n, k))))
        else:
            cases[f"batch {n}×{k}"] = (ctx.array(ctx.rng.normal(size=(n, k))), ctx.array(ctx.rng.normal(size=(n, k))))
    if name == "softmax-cross-entropy":
        cases["huge logits (overflow)"] = (ctx.array(ctx.rng.normal(0, 1, (4, 3)) * 1000), ctx.rng.integers(0, 3, 4))
    if name == "cross-entropy":
        cases["seed example (0.6 at the answer)"] = (ctx.array([[0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0]]), np.array([2]))
    return cases


def _torch_loss(name, ctx, x, t, delta=0.0):
    xt = ctx.tensor(x)
    labels = ctx.labels(np.argmax(t, 1) if np.ndim(t) == 2 and name.endswith("cross-entropy") else t)
    if name == "cross-entropy":
        return nn.functional.nll_loss(torch.log(xt + delta), labels)
    if name == "softmax-cross-entropy":
        return nn.functional.cross_entropy(xt, labels)
    tt = ctx.tensor(t)
    return {"mse": lambda: nn.functional.mse_loss(xt, tt), "mae": lambda: nn.functional.l1_loss(xt, tt),
            "sse": lambda: 0.5 * nn.functional.mse_loss(xt, tt, reduction="sum"),
            "binary-cross-entropy": lambda: nn.functional.binary_cross_entropy(xt, tt)}[name]()


def _drive_loss(name):
    def drive(ctx, fn, hparams, steps, reference, notes):
        out = []
        delta = hparams.get("delta", 0.0)
        for label, (x, t) in _loss_cases(ctx, name).items():
            with np.errstate(all="ignore"):
                value = _call(fn, f"calling it on y{x.shape}, t{np.shape(t)}", reference, x.copy(), np.array(t, copy=True))
            out.append(Comparison(f"value, {label}", np.asarray(value, dtype=float), _torch_loss(name, ctx, x, t, delta),
                                  (x, t)))
        return out
    return drive


def _mistaken_loss(name):
    def ce_sum(y, t):
        y = np.atleast_2d(y)
        t = np.asarray(t)
        labels = t.argmax(1) if t.ndim == 2 else t
        return -np.sum(np.log(y[np.arange(len(y)), labels] + 1e-7))

    def ce_delta(y, t):
        y = np.atleast_2d(y)
        t = np.asarray(t)
        labels = t.argmax(1) if t.ndim == 2 else t
        return -np.mean(np.log(y[np.arange(len(y)), labels] + 1e-7))

    return {
        "cross-entropy": {"sums over the batch instead of taking the mean": ce_sum,
                          "adds the book's delta = 1e-7 inside the log (pass --hparam delta=1e-7 to compare with that form)": ce_delta},
        "sse": {"leaves out the ½": lambda y, t: np.sum((np.asarray(y) - t) ** 2)},
        "mse": {"adds the ½ of the sum of squares (½·mean)": lambda y, t: 0.5 * np.mean((np.asarray(y) - t) ** 2),
                "sums instead of taking the mean": lambda y, t: np.sum((np.asarray(y) - t) ** 2)},
    }.get(name, {})


# --- layers ---------------------------------------------------------------------------------------

_TORCH_LAYER = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU, "leaky-relu": nn.LeakyReLU, "elu": nn.ELU,
                "softmax": lambda: nn.Softmax(dim=-1), "identity": nn.Identity}


def _drive_layer(name):
    def drive(ctx, cls, hparams, steps, reference, notes):
        out = []
        for n, d_in, d_out in ((1, 4, 3), (16, 10, 7), (64, 32, 5)):
            x = ctx.array(ctx.rng.normal(0, 2, (n, d_in)))
            if name == "linear":
                W, b = ctx.array(ctx.rng.normal(size=(d_in, d_out))), ctx.array(ctx.rng.normal(size=d_out))
                layer = construct(cls, {}, reference, notes, positional=(W.copy(), b.copy()))
                module = nn.Linear(d_in, d_out).to(ctx.torch_dtype)
                with torch.no_grad():
                    module.weight.copy_(ctx.tensor(W.T))
                    module.bias.copy_(ctx.tensor(b))
            else:
                layer = construct(cls, hparams, reference, notes)
                module = _TORCH_LAYER[name](**hparams)
            y = _call(layer.forward, f"forward on x{x.shape}", reference, x.copy())
            dout = ctx.array(ctx.rng.normal(size=np.shape(y)))
            dx = _call(layer.backward, f"backward on dout{dout.shape}", reference, dout.copy())
            xt = ctx.tensor(x, requires_grad=True)
            yt = module(xt)
            yt.backward(ctx.tensor(dout))
            label = f"x {n}×{d_in}"
            out.append(Comparison(f"forward, {label}", np.asarray(y), yt))
            out.append(Comparison(f"backward dx, {label}", np.asarray(dx), xt.grad))
            if name == "linear":
                grads = getattr(layer, "grads", None)
                if not isinstance(grads, dict) or not {"W", "b"} <= set(grads):
                    raise VerifyUsageError(f"{reference.name} expects {reference.interface}; after backward, "
                                           "layer.grads must be a dict with 'W' and 'b'")
                out.append(Comparison(f"backward dW, {label}", np.asarray(grads["W"]), module.weight.grad.T))
                out.append(Comparison(f"backward db, {label}", np.asarray(grads["b"]), module.bias.grad))
        return out
    return drive


# --- optimizers -----------------------------------------------------------------------------------

OPT_DEFAULTS = {
    "sgd": {"lr": 0.1},
    "momentum": {"lr": 0.01, "momentum": 0.9},
    "nesterov": {"lr": 0.01, "momentum": 0.9},
    "adagrad": {"lr": 0.1, "eps": 1e-10},
    "rmsprop": {"lr": 0.01, "decay_rate": 0.99, "eps": 1e-8},
    "adam": {"lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
    "adamw": {"lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.01},
}


def _torch_optimizer(name, params, h):
    if name == "sgd":
        return topt.sgd(params, h["lr"])
    if name == "momentum":
        return topt.momentum(params, h["lr"], h["momentum"])
    if name == "nesterov":
        return topt.nesterov(params, h["lr"], h["momentum"])
    if name == "adagrad":
        return topt.adagrad(params, h["lr"], h["eps"])
    if name == "rmsprop":
        return topt.rmsprop(params, h["lr"], h["decay_rate"], h["eps"])
    if name == "adam":
        return topt.adam(params, h["lr"], (h["beta1"], h["beta2"]), h["eps"])
    return topt.adamw(params, h["lr"], (h["beta1"], h["beta2"]), h["eps"], h["weight_decay"])


def _problems(ctx):
    """Shared problems: the book's x²/20 + y² from (−7, 2), and a least-squares fit with a weight
    matrix and a bias (two parameters of different shapes, gradients of mixed sizes and signs)."""
    A = ctx.rng.normal(size=(40, 6))
    W_true = ctx.rng.normal(size=(6, 3))
    Y = A @ W_true + 0.1 * ctx.rng.normal(size=(40, 3))
    A, Y = ctx.array(A), ctx.array(Y)

    def book_grad(p):
        return {"xy": np.array([p["xy"][0] / 10, 2 * p["xy"][1]], dtype=p["xy"].dtype)}

    def book_torch(ps):
        return ps[0][0] ** 2 / 20 + ps[0][1] ** 2

    def lsq_grad(p):
        err = A @ p["W"] + p["b"] - Y
        return {"W": 2 * A.T @ err / err.size, "b": 2 * err.sum(0) / err.size}

    def lsq_torch(ps):
        W, b = ps
        return ((ctx.tensor(A) @ W + b - ctx.tensor(Y)) ** 2).mean()

    return {
        "x²/20 + y² from (−7, 2)": ({"xy": ctx.array([-7.0, 2.0])}, book_grad, book_torch),
        "least squares, W (6, 3) and b (3,)": ({"W": ctx.array(ctx.rng.normal(size=(6, 3))), "b": ctx.array(np.zeros(3))},
                                                lsq_grad, lsq_torch),
    }


def _numpy_steps(opt, params0, grad_fn, steps, reference):
    params = {k: v.copy() for k, v in params0.items()}
    path = [np.concatenate([v.ravel() for v in params.values()])]
    for step in range(steps):
        grads = grad_fn(params)
        result = _call(opt.update, f"update(params, grads) at step {step + 1}", reference, params, grads)
        if result is not None and isinstance(result, dict) and result is not params:
            params = result  # a functional update that returns new params is accepted too
        path.append(np.concatenate([np.asarray(v, dtype=float).ravel() for v in params.values()]))
    return np.array(path)


def _torch_steps(ctx, name, params0, torch_loss, h, steps):
    tensors = [ctx.tensor(v, requires_grad=True) for v in params0.values()]
    opt = _torch_optimizer(name, tensors, h)
    path = [np.concatenate([ctx.numpy(t).ravel() for t in tensors])]
    for _ in range(steps):
        opt.zero_grad()
        torch_loss(tensors).backward()
        opt.step()
        path.append(np.concatenate([ctx.numpy(t).ravel() for t in tensors]))
    return np.array(path)


def _drive_optimizer(name):
    def drive(ctx, cls, hparams, steps, reference, notes):
        out = []
        for label, (params0, grad_fn, torch_loss) in _problems(ctx).items():
            opt = construct(cls, hparams, reference, notes)
            if not hasattr(opt, "update"):
                raise VerifyUsageError(f"{reference.name} expects {reference.interface}; the object has no update method")
            ours = _numpy_steps(opt, params0, grad_fn, steps, reference)
            theirs = _torch_steps(ctx, name, params0, torch_loss, hparams, steps)
            out.append(Comparison(f"parameters after every step, {label}", ours, theirs, (params0, grad_fn)))
        return out
    return drive


def _variant_path(ctx, variant_step, params0, grad_fn, steps):
    """Run a mistaken update rule (a function (state, p, g, t) → None, in place) for the hints."""
    params = {k: v.copy() for k, v in params0.items()}
    states = {k: {} for k in params}
    path = [np.concatenate([v.ravel() for v in params.values()])]
    for t in range(1, steps + 1):
        grads = grad_fn(params)
        for k in params:
            variant_step(states[k], params[k], grads[k], t)
        path.append(np.concatenate([v.ravel() for v in params.values()]))
    return np.array(path)


def _optimizer_mistakes(name, h):
    lr = h.get("lr", 0.01)

    def momentum_lr_twice(s, p, g, t):
        v = s.setdefault("v", np.zeros_like(p))
        v *= h["momentum"]
        v -= lr * g
        p += lr * v

    def momentum_no_lr_in_v(s, p, g, t):  # v = μv − g, p += lr·v is fine; p += v is the bug
        v = s.setdefault("v", np.zeros_like(p))
        v *= h["momentum"]
        v -= g
        p += v

    def nesterov_as_momentum(s, p, g, t):
        v = s.setdefault("v", np.zeros_like(p))
        v *= h["momentum"]
        v -= lr * g
        p += v

    def nesterov_reordered(s, p, g, t):  # v updated before it is used in the φ step
        mu = h["momentum"]
        v = s.setdefault("v", np.zeros_like(p))
        v *= mu
        v -= lr * g
        p += mu * mu * v - (1 + mu) * lr * g

    def adagrad_no_accumulation(s, p, g, t):
        p -= lr * g / (np.abs(g) + h["eps"])

    def adagrad_eps_inside(s, p, g, t):
        hh = s.setdefault("h", np.zeros_like(p))
        hh += g * g
        p -= lr * g / np.sqrt(hh + h["eps"])

    def rmsprop_eps_inside(s, p, g, t):
        hh = s.setdefault("h", np.zeros_like(p))
        hh *= h["decay_rate"]
        hh += (1 - h["decay_rate"]) * g * g
        p -= lr * g / np.sqrt(hh + h["eps"])

    def adam_parts(s, p, g, t):
        m = s.setdefault("m", np.zeros_like(p))
        v = s.setdefault("v", np.zeros_like(p))
        m += (1 - h["beta1"]) * (g - m)
        v *= h["beta2"]
        v += (1 - h["beta2"]) * g * g
        return m, v

    def adam_no_bias_correction(s, p, g, t):
        if "weight_decay" in h:
            p *= 1 - lr * h["weight_decay"]
        m, v = adam_parts(s, p, g, t)
        p -= lr * m / (np.sqrt(v) + h["eps"])

    def adam_eps_inside(s, p, g, t):
        if "weight_decay" in h:
            p *= 1 - lr * h["weight_decay"]
        m, v = adam_parts(s, p, g, t)
        p -= lr / (1 - h["beta1"] ** t) * m / np.sqrt(v / (1 - h["beta2"] ** t) + h["eps"])

    def adam_folded(s, p, g, t):
        if "weight_decay" in h:
            p *= 1 - lr * h["weight_decay"]
        m, v = adam_parts(s, p, g, t)
        p -= lr * math.sqrt(1 - h["beta2"] ** t) / (1 - h["beta1"] ** t) * m / (np.sqrt(v) + h["eps"])

    def adamw_coupled(s, p, g, t):
        m, v = adam_parts(s, p, g + h["weight_decay"] * p, t)
        p -= lr / (1 - h["beta1"] ** t) * m / (np.sqrt(v) / math.sqrt(1 - h["beta2"] ** t) + h["eps"])

    def sgd_plus(s, p, g, t):
        p += lr * g

    adam_hints = {
        "Adam without bias correction (p ← p − η·m/(√v + ε)): divide m by 1 − β₁ᵗ and v by 1 − β₂ᵗ": adam_no_bias_correction,
        "ε inside the square root (√(v̂ + ε)); PyTorch adds ε after the root: √v̂ + ε": adam_eps_inside,
        "the book's folded form (η·√(1 − β₂ᵗ)/(1 − β₁ᵗ), ε on the uncorrected √v): close, but ε acts differently": adam_folded,
    }
    return {
        "sgd": {"the sign is flipped: p ← p + η·g climbs the loss": sgd_plus},
        "momentum": {"the learning rate is applied twice (v ← μv − ηg and then p ← p + η·v)": momentum_lr_twice,
                     "the learning rate is missing (v ← μv − g; p ← p + v)": momentum_no_lr_in_v},
        "nesterov": {"this is plain momentum: Nesterov takes the gradient at the look-ahead point θ + μv": nesterov_as_momentum,
                     "v is updated before it is used in the φ step (use the old v: φ ← φ + μ²v − (1 + μ)ηg, then v ← μv − ηg)": nesterov_reordered},
        "adagrad": {"h is not accumulated (h ← g² instead of h ← h + g²)": adagrad_no_accumulation,
                    "ε inside the square root; PyTorch uses g/(√h + ε)": adagrad_eps_inside},
        "rmsprop": {"ε inside the square root; PyTorch uses g/(√h + ε)": rmsprop_eps_inside},
        "adam": adam_hints,
        "adamw": {**adam_hints, "coupled decay (λp added to the gradient, as Adam(weight_decay)); AdamW decays p ← p(1 − ηλ) before the step": adamw_coupled},
    }.get(name, {})


# --- schedules ------------------------------------------------------------------------------------

SCHED_DEFAULTS = {"step-decay": {"lr0": 0.1, "step_size": 5, "gamma": 0.5},
                  "exponential-decay": {"lr0": 0.1, "k": 0.1}, "inverse-time-decay": {"lr0": 0.1, "k": 0.1}}


def _drive_schedule(name):
    def drive(ctx, cls, hparams, steps, reference, notes):
        h = hparams
        schedule = construct(cls, h, reference, notes) if inspect.isclass(cls) else cls
        if not callable(schedule):
            raise VerifyUsageError(f"{reference.name} expects {reference.interface}")
        p = torch.zeros(1, requires_grad=True)
        opt = torch.optim.SGD([p], lr=h["lr0"])
        sched = {"step-decay": lambda o: topt.step_lr(o, int(h["step_size"]), h["gamma"]),
                 "exponential-decay": lambda o: topt.exponential_lr(o, h["k"]),
                 "inverse-time-decay": lambda o: topt.inverse_time_lr(o, h["k"])}[name](opt)
        ours, theirs = [], []
        for t in range(steps):
            value = _call(schedule, f"calling it with t = {t}", reference, t) if inspect.isclass(cls) else \
                _call(schedule, f"calling it with t = {t}", reference, t, **h)
            ours.append(float(value))
            theirs.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
        return [Comparison(f"learning rate at epochs 0…{steps - 1}", np.array(ours), np.array(theirs))]
    return drive


# --- the registry of references -------------------------------------------------------------------

def _references() -> dict:
    refs = {}
    for name in ("sigmoid", "tanh", "relu", "leaky-relu", "elu", "identity", "step", "softmax"):
        h = {"leaky-relu": {"negative_slope": 0.01}, "elu": {"alpha": 1.0}}.get(name, {})
        refs[name] = Reference(name, "activation", "a function f(x: ndarray) -> ndarray of the same shape"
                               + (f", taking {list(h)} as keyword arguments" if h else ""), h, _drive_activation(name),
                               _mistaken_activation(name))
    for name in ("cross-entropy", "softmax-cross-entropy", "mse", "mae", "sse", "binary-cross-entropy"):
        what = {"cross-entropy": "probabilities y (N, K) and t as labels (N,) or one-hot (N, K); mean over the batch",
                "softmax-cross-entropy": "scores (logits) (N, K) and t as labels or one-hot; mean over the batch",
                "binary-cross-entropy": "probabilities y and 0/1 targets t of one shape",
                "sse": "y and t of one shape; ½·Σ(y − t)²"}.get(name, "y and t of one shape")
        refs[name] = Reference(name, "loss", f"a function f(y, t) -> float: {what}",
                               {"delta": 0.0} if name == "cross-entropy" else {}, _drive_loss(name), _mistaken_loss(name))
    refs["linear"] = Reference("linear", "layer", "a class Linear(W, b) with W (in, out), forward(x) -> x @ W + b, "
                               "backward(dout) -> dx, and grads['W'], grads['b'] after backward", {}, _drive_layer("linear"))
    for name in ("sigmoid", "relu", "tanh", "leaky-relu", "elu", "softmax", "identity"):
        h = {"leaky-relu": {"negative_slope": 0.01}, "elu": {"alpha": 1.0}}.get(name, {})
        refs[f"{name}-layer"] = Reference(f"{name}-layer", "layer",
                                          "a class with forward(x) -> y and backward(dout) -> dx" +
                                          (f"; its constructor takes {list(h)}" if h else "; its constructor takes no arguments"),
                                          h, _drive_layer(name))
    for name, h in OPT_DEFAULTS.items():
        refs[name] = Reference(name, "optimizer", f"a class whose constructor takes the hyperparameters "
                               f"({', '.join(f'{k}={v}' for k, v in h.items())} unless --hparam says otherwise) and whose "
                               "update(params, grads) changes the dict of ndarrays params in place", h, _drive_optimizer(name))
    for name, h in SCHED_DEFAULTS.items():
        refs[name] = Reference(name, "schedule", f"a class taking ({', '.join(h)}) whose instances are called with the epoch "
                               "t = 0, 1, … and return the learning rate (or a function f(t, **hparams))", h, _drive_schedule(name))
    return refs


REFERENCES = _references()
KINDS = ("activation", "loss", "layer", "optimizer", "schedule")


def list_references() -> str:
    lines = []
    for kind in KINDS:
        lines.append(f"{kind}:")
        for ref in REFERENCES.values():
            if ref.kind == kind:
                lines.append(f"  {ref.name:24s} {ref.interface}")
    return "\n".join(lines)


def parse_hparams(pairs) -> dict:
    out = {}
    for pair in pairs or []:
        if "=" not in pair:
            raise VerifyUsageError(f"--hparam takes key=value, got {pair!r}")
        key, value = pair.split("=", 1)
        try:
            out[key.strip()] = int(value) if value.strip().lstrip("-").isdigit() else float(value)
        except ValueError:
            raise VerifyUsageError(f"--hparam {key}: {value!r} is not a number") from None
    return out


def verify(kind: str, target, against: str, hparams: dict | None = None, dtype: str = "float64", seed: int = 0,
           steps: int = 100) -> VerifyResult:
    """Compare ``target`` (an object, or a ``MODULE:NAME`` string) with the PyTorch reference
    ``against``. Raises :class:`VerifyUsageError` when the target cannot be used."""
    if kind not in KINDS:
        raise VerifyUsageError(f"KIND must be one of {', '.join(KINDS)}, got {kind!r}")
    if against not in REFERENCES:
        raise VerifyUsageError(f"unknown reference {against!r}; see `python -m comparisons verify --list`")
    reference = REFERENCES[against]
    if reference.kind != kind:
        raise VerifyUsageError(f"{against!r} is a {reference.kind} reference, not a {kind}")
    if steps < 1:
        raise VerifyUsageError(f"--steps must be >= 1, got {steps}")
    name = target if isinstance(target, str) else getattr(target, "__qualname__", repr(target))
    obj = load_target(target) if isinstance(target, str) else target
    unknown = set(hparams or {}) - set(reference.hparams)
    if unknown:
        raise VerifyUsageError(f"{against} takes the hyperparameters {sorted(reference.hparams)}; unknown: {sorted(unknown)}")
    h = {**reference.hparams, **(hparams or {})}
    configure_torch("cpu")
    ctx = ConceptContext(f"verify {against}", RunOptions(seed=seed), dtype, None)
    notes: list[str] = []
    comparisons = reference.drive(ctx, obj, h, steps, reference, notes)
    notes = list(dict.fromkeys(notes))  # once each
    for c in comparisons:
        ctx.compare(c.label, c.actual, c.expected, kind="trained" if kind == "optimizer" else "exact")
    hint = None
    if any(not r.passed for r in ctx.records):
        hint = _find_hint(ctx, reference, h, steps, comparisons)
    return VerifyResult(kind, name, against, ctx.records, hint, notes)


def _find_hint(ctx, reference, h, steps, comparisons):
    """Does the user's output match a known mistake on every comparison that has inputs?
    Return its description, or None."""
    atol, rtol = ctx.tolerance("trained")
    if reference.kind == "optimizer":
        mistakes = _optimizer_mistakes(reference.name, h)

        def wrong(variant, inputs):
            return _variant_path(ctx, variant, *inputs, steps)
    else:
        mistakes = reference.mistakes

        def wrong(variant, inputs):
            return variant(*inputs)
    usable = [c for c in comparisons if c.inputs is not None]
    for hint, variant in mistakes.items():
        matched = bool(usable)
        for c in usable:
            with np.errstate(all="ignore"):
                numbers = wrong(variant, c.inputs)
            if np.shape(numbers) != np.shape(c.actual) or not np.all(close(c.actual, numbers, atol, rtol)):
                matched = False
                break
        if matched:
            return f"your numbers match a known mistake: {hint}"
    return None


def format_result(result: VerifyResult) -> str:
    lines = [f"verify {result.kind} {result.target} against {result.against} (PyTorch)", ""]
    lines.append(f"{'check':58s} {'passed':>6s} {'max_abs_err':>12s} {'max_rel_err':>12s}")
    for r in result.records:
        lines.append(f"{r.check[:58]:58s} {'yes' if r.passed else 'NO':>6s} "
                     f"{(f'{r.max_abs_err:.1e}' if isinstance(r.max_abs_err, float) else '-'):>12s} "
                     f"{(f'{r.max_rel_err:.1e}' if isinstance(r.max_rel_err, float) else '-'):>12s}")
    for note in result.notes:
        lines.append(f"note: {note}")
    first = result.first_failure
    if first is None:
        lines.append(f"\nAGREES with PyTorch: {len(result.records)} checks passed.")
    else:
        lines.append(f"\nDIFFERS from PyTorch: first failing check '{first.check}'.")
        if first.note:
            lines.append(f"  {first.note}")
        if first.first_mismatch:
            m = first.first_mismatch
            where = f"step {m['index'][0]}, element {m['index'][1:]}" if result.kind == "optimizer" and len(m["index"]) > 1 \
                else f"index {m['index']}"
            lines.append(f"  first mismatch at {where}: yours {m['actual']!r}, PyTorch {m['expected']!r}")
        if result.hint:
            lines.append(f"  hint: {result.hint}")
    return "\n".join(lines)
