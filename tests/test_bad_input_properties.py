"""Every public function, class and method of ``scratch``, driven with malformed input.

The rule, for each argument in turn (the others valid): the call either returns what torch returns
for the same input, or raises a ValueError or TypeError whose message names the argument.
Malformed means: other shapes (0-d and empty included), other dtypes (int, object, str, complex),
NaN and ±inf, None, Python scalars and lists where arrays go, and for numbers other types, values
out of their domain (negative sizes and rates, non-integers where integers go).

The table ``CASES`` is checked against the public names of the modules: a new public function,
class or method (with arguments) fails ``test_every_public_name_is_driven`` until it has an entry.
"""

from __future__ import annotations

import inspect
import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import scratch
import torch_ref.delta_rule as tdelta
import torch_ref.gradients as tgrad
import torch_ref.linear_regression as tlin
import torch_ref.optim as topt
import torch_ref.recurrent as trec
from comparisons import bridge
from scratch import recurrent as RC
from scratch import (activations as A, conv as C, delta_rule, gradients as G, init, layers as L,
                     linear_regression as LR, losses as LS, networks as N, optim as O, regularization as R, schedules as S,
                     search)

# --- how torch sees the same input ---------------------------------------------------------------


def T(a) -> torch.Tensor:
    """An array argument as torch gets it: real numbers as a float64 tensor (the NumPy API promotes
    integers the same way); anything else is refused, as torch refuses it."""
    if isinstance(a, torch.Tensor):
        return a
    arr = np.asarray(a)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"torch takes no {arr.dtype} array")
    return torch.as_tensor(arr.astype(np.float64))


def Tg(a) -> torch.Tensor:
    return T(a).clone().requires_grad_(True)


def labels(t) -> torch.Tensor:
    """Class labels as torch takes them: integers (integral floats converted)."""
    arr = np.asarray(t)
    if arr.dtype.kind not in "iuf" or (arr.dtype.kind == "f" and not np.all(np.isfinite(arr) & (arr == np.round(arr)))):
        raise TypeError("torch takes integer class labels")
    return torch.as_tensor(arr.astype(np.int64))


def targets(t, y) -> torch.Tensor:
    """Labels, or class probabilities of y's shape (torch's two forms of cross-entropy target)."""
    return T(t) if np.shape(t) == tuple(y.shape) else labels(t)


def grad_of(fn, *inputs, dout=None):
    """Gradients of fn(*inputs) by autograd, with upstream gradient dout (ones by default)."""
    out = fn(*inputs)
    out.backward(torch.ones_like(out) if dout is None else dout)
    return [x.grad for x in inputs]


# --- the valid inputs (fixed; hypothesis draws only the malformed one) ------------------------------

rng0 = np.random.default_rng(20240611)
X = rng0.normal(size=(3, 4))           # a batch of 3 samples with 4 features
DOUT = rng0.normal(size=(3, 4))
W, B = rng0.normal(size=(4, 3)), rng0.normal(size=3)
WK, BK = rng0.normal(size=(2, 4, 3)), rng0.normal(size=(2, 3))  # Maxout, k = 2 pieces
LOGITS, LABELS = rng0.normal(size=(3, 3)), np.array([0, 2, 1])
PROBS = A.softmax(LOGITS)
Y, TGT = rng0.uniform(0.1, 0.9, size=(3, 2)), rng0.uniform(0, 1, size=(3, 2))
MASK = np.array([[1, 0, 1, 1], [0, 1, 1, 0], [1, 1, 0, 1]], dtype=bool)
NET = {"W1": rng0.normal(size=(4, 5)), "b1": rng0.normal(size=5), "W2": rng0.normal(size=(5, 3)), "b2": rng0.normal(size=3)}
MT = {"W1": rng0.normal(size=(4, 5)), "b1": rng0.normal(size=5), "Wa": rng0.normal(size=(5, 3)),
      "ba": rng0.normal(size=3), "Wb": rng0.normal(size=(5, 2)), "bb": rng0.normal(size=2)}
TA, TB = np.array([0, 2, 1]), np.array([1, 0, 1])
DX, DD, DW = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1.0]]), np.array([0, 0, 1, 1.0]), rng0.normal(size=(1, 3))
DW1, DW2 = rng0.normal(size=(4, 3)), rng0.normal(size=(1, 4))
XS = np.linspace(-1, 1, 6)
YS = 2 * XS + 1 + rng0.normal(size=6) * 0.3
P0, G0 = rng0.normal(size=(2, 3)), rng0.normal(size=(2, 3))


# --- malformed values ----------------------------------------------------------------------------

NAN, INF = float("nan"), float("inf")
FLOATS = st.floats(-3, 3, allow_nan=False)
NOT_NUMBERS = [None, "0.5", [0.5], np.array([0.5, 0.5]), 1j, {"v": 0.5}]


def other_shapes(shape):
    return hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4).filter(lambda s: s != tuple(shape))


@dataclass
class Array:
    """An array argument. Malformed: other shapes (0-d, empty), object/str/complex dtypes, None; NaN
    or ±inf inside where the argument must be finite (``finite``: parameters, probabilities, masks);
    and, where torch defines a result to compare with, int dtype, a list, a Python scalar.

    (Where NaN and ±inf are valid they propagate, and exactly where a NaN rather than an inf comes
    out depends on each kernel's order of operations, on both sides; that is not input checking.)"""

    valid: Any
    extra: list = field(default_factory=list)
    finite: bool = False

    def strategy(self, comparable: bool):
        valid = np.asarray(self.valid)
        refused = [None, valid.astype(object), valid.astype(str), valid + 1j]
        options = [st.sampled_from(refused), hnp.arrays(np.float64, other_shapes(valid.shape), elements=FLOATS)]
        if self.extra:
            options.append(st.sampled_from(self.extra))
        if comparable:
            options.append(st.sampled_from([valid.astype(np.int64), valid.tolist(), float(valid.flat[0])]))
        if self.finite:
            options.append(st.tuples(st.integers(0, valid.size - 1), st.sampled_from([NAN, INF, -INF]))
                           .map(lambda iv: _put(valid, *iv)))
        return st.one_of(options)


def _put(valid, index, value):
    out = np.array(valid, dtype=np.float64)
    out.flat[index] = value
    return out


@dataclass
class Labels(Array):
    """Class labels in [0, classes): also out-of-range and non-integral ones."""

    classes: int = 3

    def strategy(self, comparable: bool):
        valid = np.asarray(self.valid)
        first = np.arange(valid.size).reshape(valid.shape) == 0  # labels of any shape: (N,) or (N, T)
        wrong = [np.where(first, self.classes, valid), np.where(first, -1, valid),
                 valid + 0.5, _put(valid, 0, NAN)]
        return st.one_of(super().strategy(False), st.sampled_from(wrong + [valid.astype(np.float64)]))


@dataclass
class Real:
    """A real hyperparameter in [low, high] (open ends as flagged); other types, values outside and
    (unless the number may be anything) NaN and ±inf are malformed."""

    valid: float
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    finite: bool = True  # False: NaN and ±inf are values like any other (they propagate)

    def strategy(self, comparable: bool):
        bad = NOT_NUMBERS + ([NAN, INF, -INF] if self.finite else [])
        options = []
        if self.low is not None:
            bad += [self.low] if self.low_open else []
            options.append(st.floats(self.low - 1e6, self.low - 1e-9))
        if self.high is not None:
            bad += [self.high] if self.high_open else []
            options.append(st.floats(self.high + 1e-9, self.high + 1e6))
        return st.one_of([st.sampled_from(bad)] + options)


@dataclass
class Int:
    """An integer >= minimum (a count, a size, an epoch)."""

    valid: int
    minimum: int = 0

    def strategy(self, comparable: bool):
        bad = [None, "3", [self.valid], np.array([1, 2]), NAN, INF, self.valid + 0.5, 1j]
        return st.one_of(st.sampled_from(bad), st.integers(self.minimum - 1000, self.minimum - 1))


@dataclass
class Other:
    """Any other argument: the malformed values are listed."""

    valid: Any
    bad: list

    def strategy(self, comparable: bool):
        return st.sampled_from(self.bad)


FLAG = Other(True, ["yes", None, 1.5, [True]])
RNG = Other(None, [42, "rng", np.random.RandomState(0), [1, 2]])


def rng_arg():
    return Other(np.random.default_rng(0), [None, 42, "rng", np.random.RandomState(0)])


def shape_arg(valid=(4, 3)):
    return Other(valid, [None, "ab", (4,), (4, 3, 2), (0, 3), (4, -1), (2.5, 3), (4, None), (NAN, 3), 7])


@dataclass
class DictOfArrays:
    """A dict of arrays (params, grads): not a dict, or its first entry malformed as an array argument."""

    valid: dict
    entry: Array

    def strategy(self, comparable: bool):
        key = next(iter(self.valid))
        not_dicts = st.sampled_from([None, list(self.valid.values()), "params", 3])
        return st.one_of(not_dicts, self.entry.strategy(comparable).map(lambda v: {**self.valid, key: v}))


# --- the table -------------------------------------------------------------------------------------


@dataclass
class Case:
    """``run(**args)`` calls scratch; ``torch(**args)`` gives torch's result for the same arguments,
    where torch defines one (None: every malformed input must be refused)."""

    args: dict
    run: Callable
    torch: Callable | None = None
    rtol: float = 1e-9
    atol: float = 1e-12


def unary(fn, torch_fn, **more):
    """An elementwise function of x (and maybe a hyperparameter): compared with torch's function."""
    return Case({"x": Array(X), **more}, fn, lambda x, **kw: torch_fn(T(x), **kw))


def unary_grad(fn, torch_fn, **more):
    """The derivative of an elementwise function, compared with autograd's."""
    return Case({"x": Array(X), **more}, fn, lambda x, **kw: grad_of(lambda v: torch_fn(v, **kw), Tg(x))[0])


def torch_step(x):
    return (x > 0).to(x.dtype)


TORCH_UNARY = {
    "step": torch_step, "identity": lambda x: x * 1, "sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
}
ACTIVATION_CASES = {
    **{f"activations.{name}": unary(getattr(A, name), fn) for name, fn in TORCH_UNARY.items()},
    **{f"activations.{name}_grad": unary_grad(getattr(A, f"{name}_grad"), fn) for name, fn in TORCH_UNARY.items()
       if name != "step"},
    "activations.step_grad": Case({"x": Array(X)}, A.step_grad, lambda x: torch.zeros_like(T(x))),  # no autograd rule
    "activations.tanh_grad_from_output": Case({"y": Array(np.tanh(X))}, A.tanh_grad_from_output,
                                              lambda y: torch.ops.aten.tanh_backward(torch.ones_like(T(y)), T(y))),
    "activations.leaky_relu": unary(A.leaky_relu, F.leaky_relu, negative_slope=Real(0.01, finite=False)),
    "activations.leaky_relu_grad": unary_grad(A.leaky_relu_grad, F.leaky_relu, negative_slope=Real(0.01, finite=False)),
    "activations.elu": unary(A.elu, F.elu, alpha=Real(1.0, low=0)),
    "activations.elu_grad": unary_grad(A.elu_grad, F.elu, alpha=Real(1.0, low=0)),
    "activations.maxout": Case({"x": Array(X), "W": Array(WK), "b": Array(BK)}, A.maxout,
                               lambda x, W, b: (torch.einsum("ni,kio->nko", T(x), T(W)) + T(b)).max(dim=1).values),
    "activations.softmax": Case({"x": Array(X), "axis": Int(-1, minimum=-2)}, A.softmax,
                                lambda x, axis: torch.softmax(T(x), dim=axis)),
    "activations.softmax_naive": Case({"x": Array(X), "axis": Int(-1, minimum=-2)}, A.softmax_naive,
                                      lambda x, axis: T(x).exp() / T(x).exp().sum(dim=axis, keepdim=True)),
    "activations.softmax_backward": Case(
        {"y": Array(A.softmax(X)), "dout": Array(DOUT), "axis": Int(-1, minimum=-2)}, A.softmax_backward,
        lambda y, dout, axis: torch.ops.aten._softmax_backward_data(T(dout), T(y), axis, torch.float64)),
}


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


LOSS_CASES = {
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


# layers: forward(x) and backward(dout) against the torch function and its autograd


def forward_case(make, torch_fn, x=X):
    return Case({"x": Array(x)}, lambda x: make().forward(x), lambda x: torch_fn(T(x)))


def backward_case(make, torch_fn, x=X, dout=DOUT, grads=()):
    """dx (and the parameter gradients ``grads``) after forward(x), for an upstream dout."""
    def run(dout):
        layer = make()
        layer.forward(x)
        return [layer.backward(dout)] + [layer.grads[k] for k in grads]
    return Case({"dout": Array(dout)}, run, lambda dout: torch_fn(Tg(x), T(dout)))


def autograd_layer(torch_fn):
    def backward(xt, dout):
        out = torch_fn(xt)
        out.backward(dout)
        return [xt.grad]
    return backward


def fitting(x, W, axis=0):
    """x resized to as many features as W has inputs (along ``axis``): a constructor that took a W
    of another size is then driven with an input that fits it."""
    return np.resize(x, (len(x), np.shape(W)[axis]))


def flattened(x):
    """(N, d₁, d₂, …) as (N, d₁·d₂·…), as the book's Affine takes it (torch: ``nn.Flatten``)."""
    return x.flatten(1) if x.ndim > 2 else x


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


BN = {"gamma": rng0.uniform(0.5, 1.5, size=4), "beta": rng0.normal(size=4)}


def batchnorm_backward(xt, dout):
    g, b = Tg(BN["gamma"]), Tg(BN["beta"])
    F.batch_norm(xt, None, None, g, b, training=True, eps=1e-5).backward(dout)
    return [xt.grad, g.grad, b.grad]


def dropout_run(x=X, mask=MASK, p=0.5, rng=None):
    layer = L.Dropout(p, rng=rng)
    layer.set_mask(mask)
    return layer.forward(x)


ELEMENTWISE_LAYERS = {"Sigmoid": torch.sigmoid, "Tanh": torch.tanh, "ReLU": torch.relu, "Identity": lambda x: x * 1,
                      "LeakyReLU": F.leaky_relu, "ELU": F.elu, "Softmax": lambda x: torch.softmax(x, dim=-1)}
LAYER_CASES = {
    **{f"layers.{name}.forward": forward_case(getattr(L, name), fn) for name, fn in ELEMENTWISE_LAYERS.items()},
    **{f"layers.{name}.backward": backward_case(getattr(L, name), autograd_layer(fn))
       for name, fn in ELEMENTWISE_LAYERS.items()},
    "layers.LeakyReLU": Case({"negative_slope": Real(0.01, finite=False)}, lambda negative_slope: L.LeakyReLU(negative_slope).forward(X),
                             lambda negative_slope: F.leaky_relu(T(X), negative_slope)),
    "layers.ELU": Case({"alpha": Real(1.0, low=0)}, lambda alpha: L.ELU(alpha).forward(X), lambda alpha: F.elu(T(X), alpha)),
    "layers.Linear": Case({"W": Array(W, finite=True), "b": Array(B, finite=True)}, lambda W, b: L.Linear(W, b).forward(fitting(X, W)),
                          lambda W, b: linear_t(fitting(X, W), W, b)),
    "layers.Linear.forward": forward_case(lambda: L.Linear(W, B), lambda x: linear_t(x, W, B)),
    "layers.Linear.backward": backward_case(lambda: L.Linear(W, B), linear_backward, dout=DOUT[:, :3], grads=("W", "b")),
    "layers.Maxout": Case({"W": Array(WK), "b": Array(BK)}, lambda W, b: L.Maxout(W, b).forward(fitting(X, W, 1)),
                          lambda W, b: maxout_t(T(fitting(X, W, 1)), T(W), T(b))),
    "layers.Maxout.forward": forward_case(lambda: L.Maxout(WK, BK), lambda x: maxout_t(x, T(WK), T(BK))),
    "layers.Maxout.backward": backward_case(lambda: L.Maxout(WK, BK), maxout_backward, dout=DOUT[:, :3],
                                            grads=("W", "b")),
    "layers.SoftmaxWithLoss.forward": Case({"x": Array(LOGITS), "t": Labels(LABELS)},
                                           lambda x, t: L.SoftmaxWithLoss().forward(x, t),
                                           lambda x, t: F.cross_entropy(T(x), targets(t, T(x)))),
    "layers.SoftmaxWithLoss.backward": Case(
        {"dout": Array(1.5)}, lambda dout: _forwarded(L.SoftmaxWithLoss(), LOGITS, LABELS).backward(dout),
        lambda dout: grad_of(lambda v: F.cross_entropy(v, labels(LABELS)), Tg(LOGITS), dout=T(dout))[0]),
    "layers.Dropout": Case({"p": Real(0.5, low=0, high=1, high_open=True), "rng": RNG},
                           lambda p, rng: dropout_run(p=p, rng=rng), lambda p, rng: T(X) * T(MASK) / (1 - p)),
    "layers.Dropout.forward": Case({"x": Array(X)}, lambda x: dropout_run(x=x), lambda x: T(x) * T(MASK) / 0.5),
    "layers.Dropout.set_mask": Case({"mask": Array(MASK, extra=[MASK * 0.5, MASK * 2], finite=True)}, lambda mask: dropout_run(mask=mask),
                                    lambda mask: T(X) * T(mask) / 0.5),
    "layers.Dropout.backward": backward_case(lambda: _masked_dropout(), autograd_layer(lambda x: x * T(MASK) / 0.5)),
    "layers.BatchNorm1d": Case(
        {"gamma": Array(BN["gamma"]), "beta": Array(BN["beta"]), "momentum": Real(0.9, low=0, high=1),
         "eps": Real(1e-5, low=0, low_open=True), "running_var_init": Real(1.0, low=0), "unbiased_running_var": FLAG},
        lambda **kw: batchnorm_run(X, **kw),
        lambda gamma, beta, momentum, eps, running_var_init, unbiased_running_var:
            batchnorm_t(T(X), gamma, beta, momentum, eps, running_var_init)),
    "layers.BatchNorm1d.forward": Case({"x": Array(X)}, lambda x: batchnorm_run(x, **BN),
                                       lambda x: batchnorm_t(T(x), **BN)),
    "layers.BatchNorm1d.backward": backward_case(lambda: L.BatchNorm1d(**BN), batchnorm_backward,
                                                 grads=("gamma", "beta")),
    "layers.GELU": Case({"approximate": Other("none", ["exact", None, 1, "TANH"])},
                        lambda approximate: L.GELU(approximate).forward(X), lambda approximate: F.gelu(T(X), approximate=approximate)),
    "layers.GELU.forward": forward_case(L.GELU, F.gelu),
    "layers.GELU.backward": backward_case(L.GELU, autograd_layer(F.gelu)),
    "activations.erf": Case({"x": Array(X)}, A.erf, lambda x: torch.erf(T(x))),
    "activations.gelu": unary(A.gelu, F.gelu, approximate=Other("none", ["exact", None, 1, "TANH"])),
    "activations.gelu_grad": unary_grad(A.gelu_grad, F.gelu, approximate=Other("none", ["exact", None, 1, "TANH"])),
    "schedules.WarmupCosine": Case({"lr0": Real(0.1, low=0), "warmup_steps": Int(2), "total_steps": Int(10, minimum=3),
                                    "min_lr": Real(0.0, low=0, high=0.1)},
                                   lambda **kw: [S.WarmupCosine(**kw)(t) for t in range(12)]),
    "schedules.WarmupCosine.__call__": Case({"t": Int(3)}, lambda t: S.WarmupCosine(0.1, 2, 10)(t)),
}


# convolution: images (N, C, H, W); filters (FN, C, FH, FW)

XI = rng0.normal(size=(2, 2, 5, 6))
WC, BC = rng0.normal(size=(3, 2, 3, 2)), rng0.normal(size=3)
DOUT_C = rng0.normal(size=(2, 3, 3, 5))  # XI ⋆ WC, stride 1, no padding
DOUT_P = rng0.normal(size=(2, 2, 4, 4))  # XI pooled 2×3, stride 1
BN2 = {"gamma": rng0.uniform(0.5, 1.5, size=2), "beta": rng0.normal(size=2)}
COL = C.im2col(XI, 3, 2)
WINDOW = {"filter_h": Int(3, minimum=1), "filter_w": Int(2, minimum=1), "stride": Int(1, minimum=1),
          "pad": Int(0, minimum=0)}
POOLING = {"pool_h": Int(2, minimum=1), "pool_w": Int(3, minimum=1), "stride": Int(1, minimum=1), "pad": Int(0, minimum=0)}


def im2col_t(x, filter_h, filter_w, stride, pad, pad_value):
    xp = F.pad(T(x), (pad,) * 4, value=pad_value)
    cols = F.unfold(xp, (filter_h, filter_w), stride=stride)
    return cols.transpose(1, 2).reshape(-1, cols.shape[1])


def col2im_t(col, input_shape, filter_h, filter_w, stride, pad):
    n, c, h, w = input_shape
    cols = T(col).reshape(n, -1, c * filter_h * filter_w).transpose(1, 2)
    return F.fold(cols, (h, w), (filter_h, filter_w), stride=stride, padding=pad)


def conv_backward(xt, dout):
    Wt, bt = Tg(WC), Tg(BC)
    F.conv2d(xt, Wt, bt).backward(dout)
    return [xt.grad, Wt.grad, bt.grad]


def bn2d_run(x, **kw):
    layer = C.BatchNorm2d(**kw)
    return [layer.forward(x), layer.running_mean, layer.running_var]


def bn2d_backward(xt, dout):
    g, b = Tg(BN2["gamma"]), Tg(BN2["beta"])
    F.batch_norm(xt, None, None, g, b, training=True, eps=1e-5).backward(dout)
    return [xt.grad, g.grad, b.grad]


def conv_layer_cases(name):
    cls = getattr(C, name)
    return {
        f"conv.{name}": Case({"W": Array(WC, finite=True), "b": Array(BC, finite=True), "stride": Int(1, minimum=1),
                              "pad": Int(0, minimum=0)},
                             lambda W, b, stride, pad: cls(W, b, stride, pad).forward(XI),
                             lambda W, b, stride, pad: F.conv2d(T(XI), T(W), T(b), stride=stride, padding=pad)),
        f"conv.{name}.forward": forward_case(lambda: cls(WC, BC), lambda x: F.conv2d(x, T(WC), T(BC)), x=XI),
        f"conv.{name}.backward": backward_case(lambda: cls(WC, BC), conv_backward, x=XI, dout=DOUT_C, grads=("W", "b")),
    }


def pooling_cases(name, torch_pool, **mode):
    cls = getattr(C, name)
    return {
        f"conv.{name}": Case({**POOLING, **mode}, lambda **kw: cls(**kw).forward(XI),
                             lambda pool_h, pool_w, stride, pad, **_: torch_pool(T(XI), (pool_h, pool_w), stride, pad)),
        f"conv.{name}.forward": forward_case(lambda: cls(2, 3), lambda x: torch_pool(x, (2, 3), 1), x=XI),
        f"conv.{name}.backward": backward_case(lambda: cls(2, 3), autograd_layer(lambda x: torch_pool(x, (2, 3), 1)),
                                               x=XI, dout=DOUT_P),
    }


CONV_CASES = {
    "conv.conv_output_size": Case(
        {"input_size": Int(5, minimum=1), "filter_size": Int(3, minimum=1), "stride": Int(1, minimum=1),
         "pad": Int(0, minimum=0)}, C.conv_output_size,
        lambda input_size, filter_size, stride, pad: F.conv2d(torch.zeros(1, 1, input_size, input_size),
                                                              torch.zeros(1, 1, filter_size, filter_size),
                                                              stride=stride, padding=pad).shape[2]),
    "conv.im2col": Case({"x": Array(XI), **WINDOW, "pad_value": Real(0.0, finite=False)}, C.im2col, im2col_t),
    "conv.col2im": Case({"col": Array(COL), "input_shape": Other(XI.shape, [None, "abcd", 7, (2, 2, 5), (2, 2, 5, 6, 1),
                                                                             (2, 0, 5, 6), (2, 2, -5, 6), (2, 2, 5.5, 6)]),
                         **WINDOW}, C.col2im, col2im_t),
    **conv_layer_cases("Convolution"),
    **conv_layer_cases("ConvolutionLoops"),
    **pooling_cases("Pooling", F.max_pool2d, mode=Other("max", [None, "min", "MAX", 3])),
    **pooling_cases("AvgPooling", F.avg_pool2d),
    "conv.BatchNorm2d": Case(
        {"gamma": Array(BN2["gamma"]), "beta": Array(BN2["beta"]), "momentum": Real(0.9, low=0, high=1),
         "eps": Real(1e-5, low=0, low_open=True), "running_var_init": Real(1.0, low=0), "unbiased_running_var": FLAG},
        lambda **kw: bn2d_run(XI, **kw),
        lambda gamma, beta, momentum, eps, running_var_init, unbiased_running_var:
            batchnorm_t(T(XI), gamma, beta, momentum, eps, running_var_init)),
    "conv.BatchNorm2d.forward": Case({"x": Array(XI)}, lambda x: bn2d_run(x, **BN2), lambda x: batchnorm_t(T(x), **BN2)),
    "conv.BatchNorm2d.backward": backward_case(lambda: C.BatchNorm2d(**BN2), bn2d_backward, x=XI,
                                               dout=rng0.normal(size=XI.shape), grads=("gamma", "beta")),
}


def _forwarded(layer, *inputs):
    layer.forward(*inputs)
    return layer


def _masked_dropout():
    layer = L.Dropout(0.5)
    layer.set_mask(MASK)
    return layer


# optimizers: one update from the same state; torch's counterpart by its builder in torch_ref

ADAM = {"lr": Real(0.1, low=0), "beta1": Real(0.9, low=0, high=1, high_open=True),
        "beta2": Real(0.999, low=0, high=1, high_open=True), "eps": Real(1e-8, low=0)}
OPTIMIZERS = {  # name → (hyperparameters and how they are malformed, torch builder from them)
    "SGD": ({"lr": Real(0.1, low=0)}, lambda ps, lr: topt.sgd(ps, lr)),
    "Momentum": ({"lr": Real(0.1, low=0), "momentum": Real(0.9, low=0, high=1, high_open=True)},
                 lambda ps, lr, momentum: topt.momentum(ps, lr, momentum)),
    "Nesterov": ({"lr": Real(0.1, low=0), "momentum": Real(0.9, low=0, high=1, high_open=True)},
                 lambda ps, lr, momentum: topt.nesterov(ps, lr, momentum)),
    "AdaGrad": ({"lr": Real(0.1, low=0), "eps": Real(1e-10, low=0)}, lambda ps, lr, eps: topt.adagrad(ps, lr, eps)),
    "RMSProp": ({"lr": Real(0.1, low=0), "decay_rate": Real(0.99, low=0, high=1), "eps": Real(1e-8, low=0)},
                lambda ps, lr, decay_rate, eps: topt.rmsprop(ps, lr, decay_rate, eps)),
    "Adam": ({**ADAM, "bias_correction": FLAG},
             lambda ps, lr, beta1, beta2, eps, bias_correction: topt.adam(ps, lr, (beta1, beta2), eps)),
    "AdamFolded": ({**ADAM, "bias_correction": FLAG},  # step 1 is torch's Adam with ε/√(1 − β₂)
                   lambda ps, lr, beta1, beta2, eps, bias_correction:
                       topt.adam(ps, lr, (beta1, beta2), eps / math.sqrt(1 - beta2))),
    "AdamW": ({**ADAM, "weight_decay": Real(0.01, low=0)},
              lambda ps, lr, beta1, beta2, eps, weight_decay: topt.adamw(ps, lr, (beta1, beta2), eps, weight_decay)),
}


def optimizer_cases(name):
    hyper, build = OPTIMIZERS[name]
    cls = getattr(O, name)
    valid = {k: a.valid for k, a in hyper.items()}

    def update(params, grads):
        params = fresh(params)
        cls(**valid).update(params, grads)
        return params["p"]

    def torch_update(params, grads):
        p = Tg(params["p"])
        p.grad = T(grads["p"])
        build([p], **valid).step()
        return p

    # a NumPy scalar, a Python float and a read-only array cannot be updated in place
    bad_params = DictOfArrays({"p": P0}, Array(P0, extra=[np.float64(1.0), 1.0, _read_only(P0)]))
    return {
        f"optim.{name}": Case(dict(hyper), lambda **kw: _constructed_update(cls, kw)),
        f"optim.{name}.update": Case({"params": bad_params, "grads": DictOfArrays({"p": G0}, Array(G0))},
                                     update, torch_update, rtol=1e-12),
    }


def _constructed_update(cls, kw):
    p = P0.copy()
    cls(**kw).update({"p": p}, {"p": G0})
    return p


def fresh(params):
    """A copy of a dict of arrays (flags kept), for a call that updates it in place."""
    if not isinstance(params, dict):
        return params
    copies = {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in params.items()}
    for k, v in params.items():
        if isinstance(v, np.ndarray):
            copies[k].flags.writeable = v.flags.writeable
    return copies


def _read_only(a):
    a = a.copy()
    a.flags.writeable = False
    return a


def nesterov_phi(theta0, lr, momentum, steps):
    """torch's Nesterov path on f = ½‖x‖² is φ = θ + μ·v of the look-ahead form (see optim.Nesterov)."""
    return topt.minimize(lambda x: 0.5 * (x**2).sum(), T(theta0), lambda ps: topt.nesterov(ps, lr, momentum), steps)[0]


def lookahead_phi(grad_f, theta0, lr, momentum, steps):
    thetas, vs = O.nesterov_lookahead(grad_f, theta0, lr, momentum, steps)
    return thetas + momentum * vs


OPTIM_CASES = {
    **{key: case for name in OPTIMIZERS for key, case in optimizer_cases(name).items()},
    "optim.nesterov_lookahead": Case(
        {"grad_f": Other(lambda x: x, [None, 3, lambda x: np.ones(7), lambda x: "g"]), "theta0": Array(P0[0]),
         "lr": Real(0.1, low=0), "momentum": Real(0.9, low=0, high=1, high_open=True), "steps": Int(3)},
        lookahead_phi, lambda grad_f, theta0, lr, momentum, steps: nesterov_phi(theta0, lr, momentum, steps),
        rtol=1e-12),
}


# networks, against the same network written with torch operations


def mlp_t(params, x, activation="relu", weight_decay_lambda=0.0, l1_lambda=0.0):
    """Scores of x through Linear → h → … → Linear, and the parameters as leaf tensors."""
    ps = {k: Tg(v) for k, v in params.items()}
    h = flattened(T(x))
    depth = len(ps) // 2
    for i in range(1, depth + 1):
        h = h @ ps[f"W{i}"] + ps[f"b{i}"]
        h = getattr(torch, activation)(h) if i < depth else h
    penalty = sum(0.5 * weight_decay_lambda * (ps[f"W{i}"] ** 2).sum() + l1_lambda * ps[f"W{i}"].abs().sum()
                  for i in range(1, depth + 1))
    return h, ps, penalty


def mlp_loss_and_grads_t(params, x, t, **kw):
    scores, ps, penalty = mlp_t(params, x, **kw)
    loss = F.cross_entropy(scores, targets(t, scores)) + penalty
    loss.backward()
    return [loss, {k: p.grad for k, p in ps.items()}]


def mlp_loss_and_grads(net, x, t):
    loss = net.loss(x, t)
    return [loss, net.backward()]


NET_OPTIONS = {
    "params": DictOfArrays(NET, Array(NET["W1"], extra=[np.ones(4)], finite=True)),
    "activation": Other("relu", ["softplus", None, ["relu"], 3]),
    "weight_decay_lambda": Real(0.0, low=0), "layers": Other(None, [3, "layers", object()]),
    "use_batchnorm": Other(False, ["yes", None, 1.5]), "dropout_ratio": Real(0.0, low=0, high=1, high_open=True),
    "rng": RNG, "bn_kwargs": Other(None, [{"eps": 1e-5}, 3, "bn"]), "l1_lambda": Real(0.0, low=0),
}


def multitask_t(params, x, ta, tb, heads=("a", "b")):
    ps = {k: Tg(v) for k, v in params.items()}
    h = torch.relu(flattened(T(x)) @ ps["W1"] + ps["b1"])
    loss_a = F.cross_entropy(scores_a := h @ ps["Wa"] + ps["ba"], targets(ta, scores_a))
    loss_b = F.cross_entropy(scores_b := h @ ps["Wb"] + ps["bb"], targets(tb, scores_b))
    (sum(loss for hd, loss in (("a", loss_a), ("b", loss_b)) if hd in heads)).backward()
    return [loss_a + loss_b, {k: p.grad if p.grad is not None else torch.zeros_like(p) for k, p in ps.items()}]


def multitask_run(net, x, ta, tb, heads=("a", "b")):
    grads = net.gradient(x, ta, tb, heads=heads)
    return [net.head_losses["a"] + net.head_losses["b"], grads]


XN = rng0.normal(size=(3, 1, 5, 5))  # 5×5 images → 3×3 maps (3×3 filters) → 1×1 after 2×2 pooling
CN = {"W1": rng0.normal(size=(2, 1, 3, 3)), "b1": rng0.normal(size=2), "W2": rng0.normal(size=(2, 3)),
      "b2": rng0.normal(size=3), "W3": rng0.normal(size=(3, 3)), "b3": rng0.normal(size=3)}


def convnet_t(params, x, t=None, stride=1, pad=0, pool=2):
    """The SimpleConvNet in torch's functions: scores, or [loss, gradients] given labels t."""
    ps = {k: Tg(v) for k, v in params.items()}
    h = F.max_pool2d(F.relu(F.conv2d(T(x), ps["W1"], ps["b1"], stride=stride, padding=pad)), pool)
    scores = F.relu(h.flatten(1) @ ps["W2"] + ps["b2"]) @ ps["W3"] + ps["b3"]
    if t is None:
        return scores
    loss = F.cross_entropy(scores, targets(t, scores))
    loss.backward()
    return [loss, {k: p.grad for k, p in ps.items()}]


NETWORK_CASES = {
    "networks.layer_sizes": Case({"params": NET_OPTIONS["params"]}, N.layer_sizes,
                                 lambda params: [T(params["W1"]).shape[0], T(params["W1"]).shape[1], T(params["W2"]).shape[1]]),
    "networks.num_linear": Case({"params": NET_OPTIONS["params"]}, N.num_linear, lambda params: len(params) // 2),
    "networks.MultiLayerNet": Case(
        NET_OPTIONS, lambda **kw: mlp_loss_and_grads(N.MultiLayerNet(**kw), fitting(X, kw["params"]["W1"]), LABELS),
        lambda params, activation, weight_decay_lambda, l1_lambda, **_: mlp_loss_and_grads_t(
            params, fitting(X, params["W1"]), LABELS, activation=activation, weight_decay_lambda=weight_decay_lambda,
            l1_lambda=l1_lambda)),
    "networks.MultiLayerNet.predict": Case({"x": Array(X)}, lambda x: N.MultiLayerNet(NET).predict(x),
                                           lambda x: mlp_t(NET, x)[0]),
    "networks.MultiLayerNet.loss": Case({"x": Array(X), "t": Labels(LABELS)}, lambda x, t: N.MultiLayerNet(NET).loss(x, t),
                                        lambda x, t: mlp_loss_and_grads_t(NET, x, t)[0]),
    "networks.MultiLayerNet.gradient": Case({"x": Array(X), "t": Labels(LABELS)},
                                            lambda x, t: N.MultiLayerNet(NET).gradient(x, t),
                                            lambda x, t: mlp_loss_and_grads_t(NET, x, t)[1]),
    "networks.MultiLayerNet.numerical_gradient": Case(
        {"x": Array(X), "t": Labels(LABELS), "h": Real(1e-4, low=0, low_open=True)},
        lambda x, t, h: N.MultiLayerNet(NET).numerical_gradient(x, t, h),
        lambda x, t, h: mlp_loss_and_grads_t(NET, x, t)[1], rtol=1e-5, atol=1e-6),
    "networks.MultiLayerNet.accuracy": Case(
        {"x": Array(X), "t": Labels(LABELS)}, lambda x, t: N.MultiLayerNet(NET).accuracy(x, t),
        lambda x, t: (mlp_t(NET, x)[0].argmax(dim=1) == (T(t).argmax(dim=1) if np.ndim(t) == 2 else labels(t)))
        .double().mean()),
    "networks.SimpleConvNet": Case(
        {"params": DictOfArrays(CN, Array(CN["W1"], finite=True)), "stride": Int(1, minimum=1), "pad": Int(0, minimum=0),
         "pool": Int(2, minimum=1), "layers": Other(None, [3, "layers", object()]),
         "conv": Other(None, [3, "conv", object()])},
        lambda params, stride, pad, pool, layers, conv: mlp_loss_and_grads(
            N.SimpleConvNet(params, stride, pad, pool, layers, conv), XN, LABELS),
        lambda params, stride, pad, pool, **_: convnet_t(params, XN, LABELS, stride, pad, pool)),
    "networks.SimpleConvNet.predict": Case({"x": Array(XN)}, lambda x: N.SimpleConvNet(CN).predict(x),
                                           lambda x: convnet_t(CN, x)),
    "networks.SimpleConvNet.loss": Case({"x": Array(XN), "t": Labels(LABELS)},
                                        lambda x, t: N.SimpleConvNet(CN).loss(x, t), lambda x, t: convnet_t(CN, x, t)[0]),
    "networks.SimpleConvNet.gradient": Case({"x": Array(XN), "t": Labels(LABELS)},
                                            lambda x, t: N.SimpleConvNet(CN).gradient(x, t),
                                            lambda x, t: convnet_t(CN, x, t)[1]),
    "networks.SimpleConvNet.numerical_gradient": Case(
        {"x": Array(XN), "t": Labels(LABELS), "h": Real(1e-4, low=0, low_open=True)},
        lambda x, t, h: N.SimpleConvNet(CN).numerical_gradient(x, t, h),
        lambda x, t, h: convnet_t(CN, x, t)[1], rtol=1e-5, atol=1e-6),
    "networks.SimpleConvNet.accuracy": Case(
        {"x": Array(XN), "t": Labels(LABELS), "batch_size": Int(2, minimum=1)},
        lambda x, t, batch_size: N.SimpleConvNet(CN).accuracy(x, t, batch_size),
        lambda x, t, batch_size: (convnet_t(CN, x).argmax(dim=1) == (T(t).argmax(dim=1) if np.ndim(t) == 2 else labels(t)))
        .double().mean()),
    "networks.MultiTaskNet": Case(
        {"params": DictOfArrays(MT, Array(MT["W1"], extra=[np.ones(4)], finite=True)),
         "layers": Other(None, [3, "layers", object()])},
        lambda params, layers: multitask_run(N.MultiTaskNet(params, layers), fitting(X, params["W1"]), TA, TB),
        lambda params, layers: multitask_t(params, fitting(X, params["W1"]), TA, TB)),
    "networks.MultiTaskNet.loss": Case(
        {"x": Array(X), "ta": Labels(TA), "tb": Labels(TB, classes=2)},
        lambda x, ta, tb: N.MultiTaskNet(MT).loss(x, ta, tb), lambda x, ta, tb: multitask_t(MT, x, ta, tb)[0]),
    "networks.MultiTaskNet.gradient": Case(
        {"x": Array(X), "ta": Labels(TA), "tb": Labels(TB, classes=2),
         "heads": Other(("a", "b"), [("c",), (), None, 3, ["a", "z"], "ab"])},
        lambda x, ta, tb, heads: multitask_run(N.MultiTaskNet(MT), x, ta, tb, heads),
        lambda x, ta, tb, heads: multitask_t(MT, x, ta, tb, heads)),
}


# the seeds' algorithms against their torch_ref counterparts


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
DELTA_CASES = {
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


def regression_t(x, y, a, b, loss):
    at, bt = torch.tensor(float(a), dtype=torch.float64, requires_grad=True), \
        torch.tensor(float(b), dtype=torch.float64, requires_grad=True)
    e = at * T(x) + bt - T(y)
    J = (e**2).mean() if loss == "squared" else e.abs().mean()
    J.backward()
    return [J, at.grad, bt.grad]


def real_number(value):
    if not isinstance(value, (int, float, np.integer, np.floating)) or isinstance(value, bool):
        raise TypeError("torch takes a real number here")
    return float(value)


BATCHES = [np.arange(6), np.array([0, 1]), np.array([5, 2, 3])]
REGRESSION_CASES = {
    "linear_regression.predict": Case({"x": Array(XS), "a": Real(2.0, finite=False), "b": Real(1.0, finite=False)}, LR.predict,
                                      lambda x, a, b: real_number(a) * T(x) + real_number(b)),
    "linear_regression.squared_error_and_grads": Case(
        {"x": Array(XS), "y": Array(YS), "a": Real(2.0, finite=False), "b": Real(1.0, finite=False)}, lambda **kw: list(LR.squared_error_and_grads(**kw)),
        lambda x, y, a, b: regression_t(x, y, real_number(a), real_number(b), "squared")),
    "linear_regression.absolute_error_and_grads": Case(
        {"x": Array(XS), "y": Array(YS), "a": Real(2.0, finite=False), "b": Real(1.0, finite=False)}, lambda **kw: list(LR.absolute_error_and_grads(**kw)),
        lambda x, y, a, b: regression_t(x, y, real_number(a), real_number(b), "absolute")),
    "linear_regression.fit": Case(
        {"x": Array(XS), "y": Array(YS), "a0": Real(0.0, finite=False), "b0": Real(0.0, finite=False), "lr": Real(0.1, low=0),
         "batches": Other(BATCHES, [None, 3, "batches", [np.array([0, 6])], [np.array([0.5, 1.0])], [np.array([], int)],
                                    [np.zeros((2, 2), int)], [[-7]]]),
         "loss": Other("squared", ["cubic", None, 3, ["squared"]])},
        lambda **kw: list(LR.fit(**kw)),
        lambda x, y, a0, b0, lr, batches, loss: list(tlin.fit(T(x), T(y), real_number(a0), real_number(b0), lr, batches, loss))),
}


def central_difference_t(x, h):
    x = T(x)
    return (torch.sin(x + h) - torch.sin(x - h)) / (2 * h)


def central_differences_t(f, x, h):
    """(f(x + h·eᵢ) − f(x − h·eᵢ)) / 2h for every element, on tensors."""
    grad = torch.zeros_like(x)
    for i in range(x.numel()):
        step = torch.zeros_like(x).reshape(-1)
        step[i] = h
        grad.reshape(-1)[i] = (f(x + step.reshape(x.shape)) - f(x - step.reshape(x.shape))) / (2 * h)
    return grad


def cube_sum(x):
    return float(np.sum(x**3))


GRADIENT_CASES = {
    "gradients.numerical_diff": Case(
        {"f": Other(np.sin, [None, 3, "sin"]), "x": Array(XS), "h": Real(1e-4, low=0, low_open=True),
         "method": Other("central", ["backward", None, 3, ["central"]])},
        G.numerical_diff, lambda f, x, h, method: central_difference_t(x, h)),
    "gradients.numerical_gradient": Case(
        {"f": Other(cube_sum, [None, 3, lambda x: x * 2, lambda x: "f"]), "x": Array(X, extra=[X.astype(np.float32)[0, 0]]),
         "h": Real(1e-4, low=0, low_open=True)},
        lambda f, x, h: G.numerical_gradient(f, x.copy() if isinstance(x, np.ndarray) else x, h),
        lambda f, x, h: central_differences_t(lambda v: (v**3).sum(), T(x), h), rtol=1e-9, atol=1e-9),
    "gradients.relative_error": Case({"a": Array(X), "b": Array(DOUT)}, G.relative_error, lambda a, b: torch.where(
        torch.maximum(T(a).abs(), T(b).abs()) > 0,
        (T(a) - T(b)).abs() / torch.maximum(T(a).abs(), T(b).abs()), torch.zeros_like(T(a) - T(b)))),
    "gradients.gradient_descent": Case(
        {"grad_f": Other(lambda x: x, [None, 3, lambda x: np.ones(7), lambda x: None]), "init_x": Array(XS),
         "lr": Real(0.1, low=0), "steps": Int(3)},
        G.gradient_descent, lambda grad_f, init_x, lr, steps: tgrad.gradient_descent(
            lambda v: 0.5 * (v**2).sum(), T(init_x), lr, steps)),
}


# initialisers: the random ones must refuse every malformed argument (there is no torch draw to compare)

INIT_CASES = {
    "init.zeros": Case({"shape": shape_arg()}, init.zeros, lambda shape: torch.zeros(shape)),
    "init.fans": Case({"shape": shape_arg()}, init.fans),
    "init.constant": Case({"shape": shape_arg(), "value": Real(0.5, finite=False)}, init.constant,
                          lambda shape, value: torch.full(shape, real_number(value))),
    "init.normal": Case({"rng": rng_arg(), "shape": shape_arg(), "std": Real(0.1, low=0)}, init.normal),
    "init.uniform": Case({"rng": rng_arg(), "shape": shape_arg(), "bound": Real(0.1, low=0)}, init.uniform),
    "init.xavier_normal": Case({"rng": rng_arg(), "shape": shape_arg(), "gain": Real(1.0, low=0)}, init.xavier_normal),
    "init.xavier_uniform": Case({"rng": rng_arg(), "shape": shape_arg(), "gain": Real(1.0, low=0)}, init.xavier_uniform),
    **{f"init.{name}": Case({"rng": rng_arg(), "shape": shape_arg()}, getattr(init, name))
       for name in ("lecun_normal", "lecun_uniform", "he_normal", "he_uniform", "torch_linear_default")},
}

WEIGHTS = [W, B[None, :]]
BAD_WEIGHTS = Other(WEIGHTS, [None, W, {"W1": W}, [W, "w"], [W, None], "weights", [W, W + 1j]])


def penalty_t(weights, l1=0.0, l2=0.0):
    ws = [T(w) for w in _as_list(weights)]
    return sum(l1 * w.abs().sum() + 0.5 * l2 * (w**2).sum() for w in ws)


def _as_list(weights):
    if not isinstance(weights, (list, tuple)):
        raise TypeError("a list of weights")
    return weights


def early_stopping_run(patience, min_delta):
    stopper = R.EarlyStopping(patience, min_delta)
    losses_ = [1.0, 0.9, 0.95, 0.96, 0.97, 0.89, 0.99, 1.0, 1.1, 1.2, 1.3, 1.4]
    stopped = next((epoch for epoch, loss in enumerate(losses_) if stopper.step(loss, {"w": np.ones(2) * loss})), None)
    return stopped, stopper.best_epoch


def restore_run(params):
    stopper = R.EarlyStopping()
    stopper.step(0.5, {"w": P0.copy()})
    return stopper.restore(params)["w"]


REGULARIZATION_CASES = {
    "regularization.l2_penalty": Case({"weights": BAD_WEIGHTS, "lam": Real(0.1, low=0)}, R.l2_penalty,
                                      lambda weights, lam: penalty_t(weights, l2=lam)),
    "regularization.l1_penalty": Case({"weights": BAD_WEIGHTS, "lam": Real(0.1, low=0)}, R.l1_penalty,
                                      lambda weights, lam: penalty_t(weights, l1=lam)),
    "regularization.elastic_penalty": Case({"weights": BAD_WEIGHTS, "l1": Real(0.1, low=0), "l2": Real(0.2, low=0)},
                                           R.elastic_penalty, penalty_t),
    "regularization.l2_grad": Case({"w": Array(W), "lam": Real(0.1, low=0)}, R.l2_grad,
                                   lambda w, lam: grad_of(lambda v: 0.5 * lam * (v**2).sum(), Tg(w))[0]),
    "regularization.l1_grad": Case({"w": Array(W), "lam": Real(0.1, low=0)}, R.l1_grad,
                                   lambda w, lam: grad_of(lambda v: lam * v.abs().sum(), Tg(w))[0]),
    "regularization.elastic_grad": Case({"w": Array(W), "l1": Real(0.1, low=0), "l2": Real(0.2, low=0)}, R.elastic_grad,
                                        lambda w, l1, l2: grad_of(lambda v: penalty_t([v], l1, l2), Tg(w))[0]),
    "regularization.EarlyStopping": Case({"patience": Int(2, minimum=1), "min_delta": Real(0.0, low=0)},
                                         early_stopping_run),
    "regularization.EarlyStopping.step": Case(
        {"val_loss": Real(0.5), "params": Other({"w": P0}, [None, [P0], "params", 3])},
        lambda val_loss, params: R.EarlyStopping().step(val_loss, params)),
    "regularization.EarlyStopping.restore": Case(
        {"params": Other({"w": P0}, [None, [P0], {}, {"v": P0}, {"w": P0[0]}, {"w": 1.0}, {"w": P0.astype(int)},
                                     {"w": _read_only(P0)}, {"w": P0.tolist()}])},
        lambda params: restore_run(fresh(params))),
}

SCHEDULE_CASES = {
    "schedules.StepDecay": Case({"lr0": Real(0.1, low=0), "step_size": Int(5, minimum=1), "gamma": Real(0.5, low=0)},
                                lambda **kw: [S.StepDecay(**kw)(t) for t in range(8)]),
    "schedules.ExponentialDecay": Case({"lr0": Real(0.1, low=0), "k": Real(0.1, low=0)},
                                       lambda **kw: [S.ExponentialDecay(**kw)(t) for t in range(8)]),
    "schedules.InverseTimeDecay": Case({"lr0": Real(0.1, low=0), "k": Real(0.1, low=0)},
                                       lambda **kw: [S.InverseTimeDecay(**kw)(t) for t in range(8)]),
    **{f"schedules.{name}.__call__": Case({"t": Int(3)}, lambda t, make=make: make()(t))
       for name, make in [("StepDecay", lambda: S.StepDecay(0.1, 5, 0.5)), ("ExponentialDecay", lambda: S.ExponentialDecay(0.1, 0.1)),
                          ("InverseTimeDecay", lambda: S.InverseTimeDecay(0.1, 0.1))]},
}

TRIALS = [{"lr": 1e-2, "wd": 1e-5}, {"lr": 1e-4, "wd": 1e-6}, {"lr": 1e-3, "wd": 1e-4}]
SEARCH_CASES = {
    "search.sample_trials": Case(
        {"rng": rng_arg(), "ranges": Other({"lr": (-4, -1)}, [None, [(-4, -1)], {"lr": (-1, -4)}, {"lr": (NAN, -1)},
                                                              {"lr": -4}, {"lr": ("a", -1)}, {"lr": (-4, -1, 0)}, {3: (-4, -1)}]),
         "n": Int(4)}, search.sample_trials),
    "search.narrow": Case(
        {"trials": Other(TRIALS, [None, [], "trials", [TRIALS[0], {"lr": 1e-3}], TRIALS[:2] + [{"lr": -1.0, "wd": 1e-3}],
                                  TRIALS[:2] + [{"lr": "a", "wd": 1e-3}], TRIALS[:2] + [3]]),
         "scores": Array([0.9, 0.1, 0.8]), "top_k": Int(2, minimum=1)}, search.narrow),
}

# recurrent layers: against nn.RNN / nn.LSTM / nn.GRU (and their cells), nn.Embedding, clip_grad_norm_

RN, RT, RD, RH, RV = 2, 3, 4, 3, 5
RX, RDH = rng0.normal(size=(RN, RT, RD)), rng0.normal(size=(RN, RT, RH))
RX2, RH0, RC0, RDH2, RDC2 = (rng0.normal(size=s) for s in ((RN, RD), (RN, RH), (RN, RH), (RN, RH), (RN, RH)))
RW = {kind: [rng0.normal(0, 0.5, s) for s in ((RD, g * RH), (RH, g * RH), (g * RH,))] + [rng0.normal(0, 0.5, g * RH)] * (kind == "gru")
      for kind, g in (("rnn", 1), ("lstm", 4), ("gru", 3))}
REC = {"rnn": (RC.RNN, RC.RNNCell), "lstm": (RC.LSTM, RC.LSTMCell), "gru": (RC.GRU, RC.GRUCell)}
TORCH_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def rec_module(kind, w, cell=False):
    """The torch module holding scratch-layout weights w = [Wx, Wh, b(, bh)] (LSTM columns i, f, o, g)."""
    w = [T(a).numpy() for a in w]
    tp = bridge.recurrent_to_torch(kind, w[0], w[1], w[2], gates=RC.LSTM_GATES if kind == "lstm" else None,
                                   bh=w[3] if kind == "gru" else None)
    return trec.recurrent(kind, *(torch.as_tensor(tp[n]) for n in TORCH_NAMES), cell=cell)


def states_t(kind, N, given):
    """The initial states as torch takes them: None → zeros."""
    n = 2 if kind == "lstm" else 1
    return tuple(torch.zeros(N, RH, dtype=torch.float64) if s is None else T(s) for s in (list(given) + [None] * n)[:n])


def seq_forward_t(kind, w, x, states=()):
    module = rec_module(kind, w)
    st = states_t(kind, T(x).shape[0], states)
    out, _ = module(T(x), tuple(s[None] for s in st) if kind == "lstm" else st[0][None])
    return out


def seq_backward_t(kind, w, x, states, dh, truncate):
    module = rec_module(kind, w)
    _, _, dx, dstates = trec.run_backward(module, T(x), states_t(kind, T(x).shape[0], states), T(dh), truncate)
    grads = bridge.recurrent_arrays(module, grad=True, gates=RC.LSTM_GATES if kind == "lstm" else None)
    return [dx, *dstates, *grads.values()]


def seq_backward_run(kind, states, dh, truncate):
    layer = REC[kind][0](*RW[kind])
    layer.forward(RX, *states)
    return [*layer.backward(dh, truncate), *layer.grads.values()]


def cell_forward_t(kind, w, x, states=()):
    module = rec_module(kind, w, cell=True)
    st = states_t(kind, T(x).shape[0], states)
    with torch.no_grad():
        out = module(T(x), st if kind == "lstm" else st[0])
    return list(out) if isinstance(out, tuple) else out


def cell_run(kind, dh, dc=None):
    layer = REC[kind][1](*RW[kind])
    states = (RH0, RC0) if kind == "lstm" else (RH0,)
    layer.forward(RX2, *states)
    back = layer.backward(dh, dc) if kind == "lstm" else layer.backward(dh)
    return [*back, *layer.grads.values()]


def cell_backward_t(kind, dh, dc=None):
    module = rec_module(kind, RW[kind], cell=True)
    states = (RH0, RC0) if kind == "lstm" else (RH0,)
    douts = (T(dh), torch.zeros(RN, RH, dtype=torch.float64) if dc is None else T(dc))[:len(states)]
    _, dx, dstates = trec.cell_backward(module, T(RX2), tuple(T(s) for s in states), douts)
    grads = bridge.recurrent_arrays(module, grad=True, gates=RC.LSTM_GATES if kind == "lstm" else None)
    return [dx, *dstates, *grads.values()]


def fit_x(x, Wx, ndim=3):
    """The input resized to as many features as Wx has rows (a constructor given another valid D)."""
    if np.ndim(Wx) == 2 and np.shape(Wx)[0] >= 1:
        return np.resize(x, np.shape(x)[:-1] + (np.shape(Wx)[0],))
    return x


def rec_weights(kind):
    names = ("Wx", "Wh", "bx", "bh") if kind == "gru" else ("Wx", "Wh", "b")
    return {n: Array(v, finite=True) for n, v in zip(names, RW[kind])}


def recurrent_cases(kind):
    name = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}[kind]
    seq, cell = f"recurrent.{name}", f"recurrent.{name}Cell"
    extra = {"reset_after": FLAG} if kind == "gru" else {}
    state_args = {"h0": Array(RH0), "c0": Array(RC0)} if kind == "lstm" else {"h0": Array(RH0)}
    prev_args = {"h_prev": Array(RH0), "c_prev": Array(RC0)} if kind == "lstm" else {"h_prev": Array(RH0)}
    states = (RH0, RC0) if kind == "lstm" else (RH0,)
    dcell = {"dh": Array(RDH2), "dc": Array(RDC2)} if kind == "lstm" else {"dh": Array(RDH2)}
    return {
        seq: Case({**rec_weights(kind), **extra},
                  lambda **kw: REC[kind][0](**kw).forward(fit_x(RX, kw["Wx"])),
                  lambda **kw: seq_forward_t(kind, [v for k, v in kw.items() if k != "reset_after"], fit_x(RX, kw["Wx"]))),
        f"{seq}.forward": Case({"x": Array(RX), **state_args}, lambda x, **st: REC[kind][0](*RW[kind]).forward(x, **st),
                               lambda x, **st: seq_forward_t(kind, RW[kind], x, st.values())),
        f"{seq}.backward": Case({"dh": Array(RDH), "truncate": Int(2, minimum=1)},
                                lambda dh, truncate: seq_backward_run(kind, states, dh, truncate),
                                lambda dh, truncate: seq_backward_t(kind, RW[kind], RX, states, dh, truncate)),
        cell: Case({**rec_weights(kind), **extra},
                   lambda **kw: REC[kind][1](**kw).forward(fit_x(RX2, kw["Wx"]), *states),
                   lambda **kw: cell_forward_t(kind, [v for k, v in kw.items() if k != "reset_after"],
                                               fit_x(RX2, kw["Wx"]), states)),
        f"{cell}.forward": Case({"x": Array(RX2), **prev_args}, lambda x, **st: REC[kind][1](*RW[kind]).forward(x, **st),
                                lambda x, **st: cell_forward_t(kind, RW[kind], x, st.values())),
        f"{cell}.backward": Case(dcell, lambda **d: cell_run(kind, **d), lambda **d: cell_backward_t(kind, **d)),
    }


EW, EIDX, EDOUT = rng0.normal(size=(RV, 3)), np.array([[1, 4, 1], [0, 1, 3]]), rng0.normal(size=(2, 3, 3))
TLW, TLB = rng0.normal(size=(RD, RV)), rng0.normal(size=RV)
TSX, TST = rng0.normal(size=(RN, RT, RV)), np.array([[0, 4, 2], [1, 1, 3]])
GR = {"a": rng0.normal(size=(3, 2)), "b": rng0.normal(size=4)}
LMP = {"E": rng0.normal(size=(RV, RD)), "Wx": RW["lstm"][0], "Wh": RW["lstm"][1], "b": RW["lstm"][2],
       "W": rng0.normal(size=(RH, RV)), "bo": rng0.normal(size=RV)}
SCP = {"Wx": RW["rnn"][0], "Wh": RW["rnn"][1], "b": RW["rnn"][2], "W": rng0.normal(size=(RH, 2)), "bo": rng0.normal(size=2)}
SCT = np.array([1, 0])


def embedding_backward(dout):
    layer = RC.Embedding(EW)
    layer.forward(EIDX)
    layer.backward(dout)
    return layer.grads["W"]


def embedding_backward_t(dout):
    w = Tg(EW)
    F.embedding(torch.as_tensor(EIDX), w).backward(T(dout))
    return w.grad


def time_linear_backward(xt, dout):
    w, b = Tg(TLW), Tg(TLB)
    F.linear(xt, w.T, b).backward(dout)
    return [xt.grad, w.grad, b.grad]


def grads_list(grads):
    return list(grads.values()) if isinstance(grads, dict) else list(grads)


def global_norm_t(grads):
    return torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(T(g)) for g in grads_list(grads)]))


def clip_run(grads, max_norm, eps):
    grads = {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in grads.items()} if isinstance(grads, dict) \
        else [v.copy() if isinstance(v, np.ndarray) else v for v in grads] if isinstance(grads, list) else grads
    norm = RC.clip_grad_norm(grads, max_norm, eps)
    return [norm, *grads_list(grads)]


def clip_t(grads, max_norm, eps):
    tensors = [T(g).clone().requires_grad_(True) for g in grads_list(grads)]
    for t in tensors:
        t.grad = t.detach().clone()
    norm = trec.clip_grad_norm(tensors, max_norm)
    return [norm, *(t.grad for t in tensors)]


def lm_t(params):
    """torch's CharLM holding ``params`` (scratch layout)."""
    p = {k: T(v).numpy() for k, v in params.items()}
    (V, D), H = p["E"].shape, p["Wh"].shape[0]
    model = trec.CharLM(V, D, H).double()
    return bridge.load_sequence_model(model, p, gates=RC.LSTM_GATES)


def lm_loss_t(params, idx, t, grads=False):
    model = lm_t(params)
    loss = model.loss(torch.as_tensor(np.asarray(idx)), labels(t))
    if not grads:
        return loss
    loss.backward()
    return bridge.sequence_model_arrays(model, grad=True, gates=RC.LSTM_GATES)


def lm_scores_t(idx, h0, c0):
    st = states_t("lstm", np.shape(idx)[0], (h0, c0))
    with torch.no_grad():
        scores, _ = lm_t(LMP)(torch.as_tensor(np.asarray(idx)), tuple(s[None] for s in st))
    return scores


def lm_next_t(char, state):
    st = states_t("lstm", 1, state or ())
    with torch.no_grad():
        scores, (h, c) = lm_t(LMP)(torch.as_tensor([[char]]), tuple(s[None] for s in st))
    return [torch.softmax(scores[0, 0], dim=-1), h[0], c[0]]


def classifier_t(params, x, t, grads=False):
    p = {k: T(v).numpy() for k, v in params.items()}
    model = bridge.load_sequence_model(trec.SequenceClassifier(p["Wx"].shape[0], p["Wh"].shape[0], p["W"].shape[1]).double(), p)
    loss = model.loss(T(x), labels(t))
    if not grads:
        return loss
    loss.backward()
    return bridge.sequence_model_arrays(model, grad=True)


RX_SC = rng0.normal(size=(RN, RT, RD))
RECURRENT_CASES = {
    **recurrent_cases("rnn"), **recurrent_cases("lstm"), **recurrent_cases("gru"),
    "recurrent.Embedding": Case({"W": Array(EW)}, lambda W: RC.Embedding(W).forward(EIDX),
                                lambda W: F.embedding(torch.as_tensor(EIDX), T(W))),
    "recurrent.Embedding.forward": Case({"idx": Array(EIDX, extra=[np.array([[RV, 0]]), np.array([-1])])},
                                        lambda idx: RC.Embedding(EW).forward(idx),
                                        lambda idx: F.embedding(torch.as_tensor(np.asarray(idx)), T(EW))),
    "recurrent.Embedding.backward": Case({"dout": Array(EDOUT)}, embedding_backward, embedding_backward_t),
    "recurrent.TimeLinear": Case({"W": Array(TLW), "b": Array(TLB)}, lambda W, b: RC.TimeLinear(W, b).forward(fit_x(RX, W)),
                                 lambda W, b: F.linear(T(fit_x(RX, W)), T(W).T, T(b))),
    "recurrent.TimeLinear.forward": forward_case(lambda: RC.TimeLinear(TLW, TLB), lambda x: F.linear(x, T(TLW).T, T(TLB)),
                                                 x=RX),
    "recurrent.TimeLinear.backward": backward_case(lambda: RC.TimeLinear(TLW, TLB), time_linear_backward, x=RX,
                                                   dout=rng0.normal(size=(RN, RT, RV)), grads=("W", "b")),
    "recurrent.TimeSoftmaxWithLoss.forward": Case(
        {"x": Array(TSX), "t": Labels(TST, classes=RV)}, lambda x, t: RC.TimeSoftmaxWithLoss().forward(x, t),
        lambda x, t: F.cross_entropy(T(x).reshape(-1, T(x).shape[-1]), labels(t).reshape(-1))),
    "recurrent.TimeSoftmaxWithLoss.backward": Case(
        {"dout": Array(1.5)}, lambda dout: _forwarded(RC.TimeSoftmaxWithLoss(), TSX, TST).backward(dout),
        lambda dout: grad_of(lambda v: F.cross_entropy(v.reshape(-1, RV), labels(TST).reshape(-1)), Tg(TSX),
                             dout=T(dout))[0]),
    "recurrent.global_norm": Case({"grads": DictOfArrays(GR, Array(GR["a"]))}, RC.global_norm, global_norm_t),
    "recurrent.clip_grad_norm": Case(
        {"grads": DictOfArrays(GR, Array(GR["a"])), "max_norm": Real(0.5, low=0, low_open=True),
         "eps": Other(1e-6, [None, "1e-6", -1e-6, NAN, INF, [1e-6], 1j])}, clip_run, clip_t),
    "recurrent.CharLM": Case({"params": DictOfArrays(LMP, Array(LMP["E"], finite=True))},
                             lambda params: RC.CharLM(params).loss(EIDX, TST[:, :3]),
                             lambda params: lm_loss_t(params, EIDX, TST[:, :3])),
    "recurrent.CharLM.scores": Case({"idx": Array(EIDX, extra=[np.array([[RV]])]), "h0": Array(RH0), "c0": Array(RC0)},
                                    lambda idx, h0, c0: RC.CharLM(LMP).scores(idx, h0, c0), lm_scores_t),
    "recurrent.CharLM.loss": Case({"idx": Array(EIDX, extra=[np.array([[RV]])]), "t": Labels(TST[:, :3], classes=RV)},
                                  lambda idx, t: RC.CharLM(LMP).loss(idx, t), lambda idx, t: lm_loss_t(LMP, idx, t)),
    "recurrent.CharLM.gradient": Case({"idx": Array(EIDX, extra=[np.array([[RV]])]), "t": Labels(TST[:, :3], classes=RV)},
                                      lambda idx, t: RC.CharLM(LMP).gradient(idx, t),
                                      lambda idx, t: lm_loss_t(LMP, idx, t, grads=True)),
    "recurrent.CharLM.next_probabilities": Case(
        {"char": Int(2), "state": Other(None, [3, "state", (RH0[:1],), (RH0, RC0), [None, None], {"h": RH0[:1]}])},
        lambda char, state: list(RC.CharLM(LMP).next_probabilities(char, state)[:1]) + list(RC.CharLM(LMP).next_probabilities(char, state)[1]),
        lm_next_t),
    "recurrent.SequenceClassifier": Case({"params": DictOfArrays(SCP, Array(SCP["Wx"], finite=True))},
                                         lambda params: RC.SequenceClassifier(params).loss(fit_x(RX_SC, params.get("Wx") if isinstance(params, dict) else None), SCT),
                                         lambda params: classifier_t(params, fit_x(RX_SC, params["Wx"]), SCT)),
    "recurrent.SequenceClassifier.loss": Case({"x": Array(RX_SC), "t": Labels(SCT, classes=2)},
                                              lambda x, t: RC.SequenceClassifier(SCP).loss(x, t),
                                              lambda x, t: classifier_t(SCP, x, t)),
    "recurrent.SequenceClassifier.gradient": Case({"x": Array(RX_SC), "t": Labels(SCT, classes=2)},
                                                  lambda x, t: RC.SequenceClassifier(SCP).gradient(x, t),
                                                  lambda x, t: classifier_t(SCP, x, t, grads=True)),
}

CASES = {**ACTIVATION_CASES, **LOSS_CASES, **LAYER_CASES, **CONV_CASES, **OPTIM_CASES, **NETWORK_CASES, **DELTA_CASES,
         **REGRESSION_CASES, **GRADIENT_CASES, **INIT_CASES, **REGULARIZATION_CASES, **SCHEDULE_CASES, **SEARCH_CASES,
         **RECURRENT_CASES}

NOT_DRIVEN = {  # public names with arguments that no malformed input can reach, and why
    "layers.Layer.forward": "abstract: raises NotImplementedError; every layer class is driven instead",
    "layers.Layer.backward": "abstract: raises NotImplementedError; every layer class is driven instead",
    "optim.Optimizer": "abstract base; its lr check is driven through every optimizer",
    "optim.Optimizer.update": "abstract: _step raises NotImplementedError; every optimizer's update is driven",
}


# --- the enumeration and the rule -----------------------------------------------------------------


def public_names() -> dict[str, list[str]]:
    """Every public function, class (constructor) and method of scratch that takes arguments,
    mapped to the names of those arguments."""
    names = {}
    for module_name in scratch.__all__:
        module = getattr(scratch, module_name)
        for name, obj in vars(module).items():
            if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
                continue
            if inspect.isfunction(obj) or inspect.isclass(obj):
                names[f"{module_name}.{name}"] = list(inspect.signature(obj).parameters)
            if inspect.isclass(obj):
                for method_name, method in inspect.getmembers(obj, inspect.isfunction):
                    if not method_name.startswith("_") or method_name == "__call__":
                        names[f"{module_name}.{name}.{method_name}"] = list(inspect.signature(method).parameters)[1:]
    return {name: args for name, args in names.items() if args}


def test_every_public_name_is_driven():
    public = public_names()
    missing = sorted(set(public) - set(CASES) - set(NOT_DRIVEN))
    assert not missing, f"add these public names to CASES in {__file__}: {missing}"
    assert not set(CASES) - set(public), f"CASES names what is no longer public: {sorted(set(CASES) - set(public))}"
    for name, case in CASES.items():
        assert list(case.args) == public[name], f"{name}: CASES drives {list(case.args)}, it takes {public[name]}"


def names_argument(message: str, argument: str) -> bool:
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(argument)}(?![A-Za-z0-9_])", message) is not None


def numpy_of(value):
    """A result (nested lists, tuples and dicts of arrays, tensors and numbers) as plain NumPy."""
    if isinstance(value, torch.Tensor):
        return value.detach().numpy()
    if isinstance(value, dict):
        return {k: numpy_of(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [numpy_of(v) for v in value]
    return value


def assert_same_result(ours, theirs, rtol, atol, where):
    if isinstance(theirs, dict):
        assert isinstance(ours, dict) and sorted(ours) == sorted(theirs), f"{where}: keys {sorted(ours)} vs {sorted(theirs)}"
        for k in theirs:
            assert_same_result(ours[k], theirs[k], rtol, atol, f"{where}[{k!r}]")
    elif isinstance(theirs, list):
        assert isinstance(ours, (list, tuple)) and len(ours) == len(theirs), f"{where}: {ours!r} vs {theirs!r}"
        for i, (a, b) in enumerate(zip(ours, theirs)):
            assert_same_result(a, b, rtol, atol, f"{where}[{i}]")
    else:
        assert np.shape(ours) == np.shape(theirs), f"{where}: shape {np.shape(ours)}, torch's {np.shape(theirs)}"
        np.testing.assert_allclose(np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64),
                                   rtol=rtol, atol=atol, err_msg=where)


def check_malformed(name, case, argument, value):
    """The rule: torch's result for the same arguments, or a ValueError/TypeError naming the argument."""
    args = {k: a.valid for k, a in case.args.items()}
    args[argument] = value
    where = f"{name}({argument}={value!r})"
    try:
        with np.errstate(all="ignore"):
            ours = case.run(**args)
    except (ValueError, TypeError) as error:
        assert names_argument(str(error), argument), f"{where} raised {type(error).__name__} without naming {argument}: {error}"
        return
    except Exception as error:  # noqa: BLE001 - any other exception breaks the rule
        pytest.fail(f"{where} raised {type(error).__name__} (not ValueError/TypeError): {error}")
    assert case.torch is not None, f"{where} was accepted, and torch has no result to compare with: {ours!r}"
    try:
        theirs = case.torch(**args)
    except Exception as error:  # noqa: BLE001 - torch refusing is the finding
        pytest.fail(f"{where} was accepted, but torch refuses it ({type(error).__name__}: {error})")
    assert_same_result(numpy_of(ours), numpy_of(theirs), case.rtol, case.atol, where)


def test_valid_arguments_give_torchs_result():
    """The table's valid arguments are valid: the baseline every malformed input is a change from."""
    for name, case in CASES.items():
        args = {k: a.valid for k, a in case.args.items()}
        ours = case.run(**args)
        if case.torch is not None:
            assert_same_result(numpy_of(ours), numpy_of(case.torch(**args)), case.rtol, case.atol, name)


@pytest.mark.parametrize("name", sorted(CASES))
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_malformed_input_gives_torchs_result_or_names_the_argument(name, data):
    case = CASES[name]
    for argument, arg in case.args.items():
        value = data.draw(arg.strategy(case.torch is not None), label=argument)
        check_malformed(name, case, argument, value)
