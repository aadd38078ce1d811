"""Activation functions and their derivatives (kind ``function``): ``f(x) -> ndarray`` of x's
shape, against the torch function (or autograd's elementwise derivative of the torch module)."""

from __future__ import annotations

import numpy as np
import torch

import scratch.activations as SA
import torch_ref.activations as tact

from ._base import NAN_INF, NONFINITE, Comparison, Hparam, Mistake, Pair, accepted, as_array, call, nonfinite, shows


def drive_function(ctx, pair, fn, hparams, run):
    """``fn(x)`` on every input, against the torch function of the pair (elementwise or softmax)."""
    out = []
    kwargs = accepted(fn, pair, hparams)
    torch_kwargs = pair.torch_kwargs(hparams)

    def along(x):  # the reference applied along another axis (a softmax over the wrong one)
        return lambda axis: np.moveaxis(ctx.numpy(pair.torch(ctx.tensor(np.moveaxis(x, axis, -1)), **torch_kwargs)), -1, axis)

    for label, x in pair.inputs(ctx).items():
        y = as_array(call(fn, f"calling it on x{x.shape}", x.copy(), **kwargs), "its result", x.shape)
        out.append(Comparison(f"{label}", y, pair.torch(ctx.tensor(x), **torch_kwargs), note=pair.options.get("note", ""),
                              context={"x": x, "along": along(x)}))
    return out

EDGES = [0.0, -0.0, 1e-8, -1e-8, 1.0, -1.0, 20.0, -20.0, 500.0, -500.0]


def elementwise_inputs(ctx, specials=NAN_INF):
    """Exact zeros (the kinks), tiny and large magnitudes, random arrays of three shapes, and ``specials``
    (NaN, ±inf: those where PyTorch's result is defined) among random values."""
    batch = ctx.rng.normal(0, 3, (16, 10))
    batch[ctx.rng.random(batch.shape) < 0.1] = 0.0  # exact zeros inside a batch, too
    cases = {"edge values incl. 0 and ±500": ctx.array(EDGES), "vector (37,)": ctx.array(ctx.rng.normal(0, 3, 37)),
             "batch (16, 10) with exact zeros": ctx.array(batch),
             "3-D (2, 3, 5)": ctx.array(ctx.rng.normal(0, 3, (2, 3, 5)))}
    if specials:
        cases[f"{NONFINITE}: {', '.join(map(_shown, specials))} in (4, 16)"] = nonfinite(ctx, (4, 16), specials)
    return cases


def _shown(v) -> str:
    return "NaN" if v != v else "+inf" if v > 0 else "−inf"


# Where PyTorch's value at NaN or ±inf is its rule, not an accident of its kernels. ELU's derivative at NaN is
# dout on a scalar tail and NaN in vectorised blocks; GELU in float32 gives NaN at +inf where float64 gives inf:
# left out. Elsewhere: NaN in, NaN out; σ(±inf) = 1, 0; tanh(±inf) = ±1 with derivative 0; ReLU'(NaN) = 1 (its
# mask blocks x <= 0 only, as the book's mask = (x <= 0)), LeakyReLU'(NaN) = negative_slope; step(NaN) = 0.
SPECIALS = {"elu-grad": NAN_INF[1:], "gelu": (), "gelu-grad": ()}


def specials_of(pid: str) -> tuple:
    return SPECIALS.get(pid, NAN_INF)


SOFTMAX_ROWS = [[np.inf, 1.0, 0.0], [-np.inf, 1.0, 0.0], [-np.inf, -np.inf, -np.inf], [np.nan, 1.0, 0.0],
                [np.inf, np.inf, 0.0], [1.0, -np.inf, 0.5]]


def softmax_inputs(ctx):
    """A vector, batches (N, K), the overflow case [1010, 1000, 990], and rows with NaN and ±inf (a row
    holding +inf or NaN, or only −inf, is NaN everywhere; a −inf logit gets probability 0)."""
    return {"vector (10,)": ctx.array(ctx.rng.normal(0, 3, 10)), "batch (16, 10)": ctx.array(ctx.rng.normal(0, 3, (16, 10))),
            "batch (1, 5)": ctx.array(ctx.rng.normal(0, 3, (1, 5))),
            "overflow [1010, 1000, 990]": ctx.array([1010.0, 1000.0, 990.0]),
            "overflow batch ×1000": ctx.array(ctx.rng.normal(0, 1, (4, 3)) * 1000),
            f"{NONFINITE}: rows with +inf, −inf, NaN": softmax_nonfinite(ctx)}


def softmax_nonfinite(ctx):
    """The rows of :data:`SOFTMAX_ROWS` and two random ones, (8, 3)."""
    return ctx.array(np.vstack([SOFTMAX_ROWS, ctx.rng.normal(0, 3, (2, 3))]))


def _module_fn(name):
    def fn(x, **kw):
        with torch.no_grad():
            return tact.module(name, **kw)(x)
    fn.__doc__ = f"torch_ref.activations.module({name!r}) applied to x"
    return shows(fn, type(tact.module(name)))  # the guide shows nn.Sigmoid, nn.ReLU, … as a PyTorch user writes them


def _derivative_fn(name):
    def fn(x, **kw):
        return tact.derivative(name, x, **kw)
    fn.__doc__ = f"torch_ref.activations.derivative({name!r}, x): autograd of the module, backpropagating ones"
    return shows(fn, tact.derivative)


TANH_NOTE = ("1 − y² cancels where tanh saturates: np.tanh and torch.tanh can differ by one ulp of y there, which "
             "1 − y² amplifies by 1/(1 − y²) (the absolute error stays at rounding); the concept activations proves "
             "the backward formulas the same from torch's own y")

SLOPE = Hparam("negative_slope", 0.01, "negative_slope", aliases=("alpha_slope", "slope"))
ALPHA = Hparam("alpha", 1.0, "alpha", bounds="[0, inf)")
RELU_AT_ZERO = Hparam("grad_at_zero", 0, "grad_at_zero", choices=(0, 1))
APPROXIMATE = Hparam("approximate", "none", "approximate", choices=("none", "tanh"))
GELU_TANH_HINT = ("the tanh approximation ½x(1 + tanh(√(2/π)(x + 0.044715x³))) (GPT-2's); nn.GELU()'s default is the "
                  "exact x·Φ(x) with erf (they differ by up to 4.7e-4)")
GELU_TANH = Mistake(GELU_TANH_HINT, lambda x: SA.gelu(x, approximate="tanh"), flag={"approximate": "tanh"})
GELU_GRAD_TANH = Mistake(GELU_TANH_HINT, lambda x: SA.gelu_grad(x, approximate="tanh"), flag={"approximate": "tanh"})
GELU_SIGMOID = "the sigmoid approximation x·σ(1.702x), a third form that PyTorch does not offer (off by up to 0.02)"


def _softmax_naive(x):
    e = np.exp(x)
    return e / e.sum(axis=-1, keepdims=True)


def _softmax_axis0(x):
    e = np.exp(x - x.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


_FUNCTIONS = [
    # id, torch name, scratch name, names in a user's file, hparams, mistakes
    ("sigmoid", "sigmoid", "sigmoid", ("sigmoid",), (),
     (Mistake("uses 1/(1 + e^x): the sign inside exp is flipped", lambda x: 1 / (1 + np.exp(x))),)),
    ("tanh", "tanh", "tanh", ("tanh",), (), (Mistake("computes sigmoid instead of tanh", lambda x: 1 / (1 + np.exp(-x))),)),
    ("relu", "relu", "relu", ("relu",), (), (Mistake("returns the mask (x > 0), not max(0, x)", lambda x: (x > 0) * 1.0),)),
    ("leaky-relu", "leaky_relu", "leaky_relu", ("leaky_relu", "leakyrelu"), (SLOPE,),
     (Mistake("the slope is applied to positive inputs",
              lambda x, negative_slope=0.01: np.where(x > 0, negative_slope * x, x)),)),
    ("elu", "elu", "elu", ("elu",), (ALPHA,), ()),
    ("identity", "identity", "identity", ("identity", "identity_function"), (), ()),
    ("step", "step", "step", ("step", "step_function"), (), ()),
    ("gelu", "gelu", "gelu", ("gelu",), (APPROXIMATE,),
     (GELU_TANH, Mistake(GELU_SIGMOID, lambda x, approximate="none": x / (1 + np.exp(-1.702 * x))))),
]

_DERIVATIVES = [
    ("sigmoid-grad", "sigmoid", "sigmoid_grad", ("sigmoid_grad", "sigmoid_derivative", "dsigmoid"), (),
     (Mistake("computes x(1 − x): the formula y(1 − y) needs y = σ(x), not x", lambda x: x * (1 - x)),)),
    ("tanh-grad", "tanh", "tanh_grad", ("tanh_grad", "tanh_derivative", "dtanh"), (),
     (Mistake("computes 1 − x²: the formula 1 − y² needs y = tanh(x), not x", lambda x: 1 - x * x),)),
    ("relu-grad", "relu", "relu_grad", ("relu_grad", "relu_derivative", "drelu"), (RELU_AT_ZERO,),
     (Mistake("ReLU'(0) = 1 (x >= 0): PyTorch uses 0 at 0 (x > 0)", lambda x: (x >= 0) * 1.0, flag={"grad_at_zero": 1}),)),
    ("leaky-relu-grad", "leaky_relu", "leaky_relu_grad", ("leaky_relu_grad",), (SLOPE,), ()),
    ("elu-grad", "elu", "elu_grad", ("elu_grad",), (ALPHA,), ()),
    ("identity-grad", "identity", "identity_grad", ("identity_grad",), (), ()),
    ("gelu-grad", "gelu", "gelu_grad", ("gelu_grad", "gelu_derivative"), (APPROXIMATE,), (GELU_GRAD_TANH,)),
]


def _pairs():
    pairs = []
    for pid, tname, sname, names, hps, mistakes in _FUNCTIONS:
        pairs.append(Pair(pid, "function", f"activations.{sname}", _module_fn(tname),
                          "a function f(x: ndarray) -> ndarray of the same shape"
                          + (f", taking {[h.name for h in hps]} as keyword arguments" if hps else ""),
                          drive_function, hps, _inputs(pid), mistakes, names))
    pairs.append(Pair("softmax", "function", "activations.softmax", _module_fn("softmax"),
                      "a function softmax(x) over the last axis of a vector (K,) or a batch (N, K)",
                      drive_function, (), softmax_inputs,
                      (Mistake("softmax without the max shift: exp overflows to nan for large inputs; subtract max(x) "
                               "first (it leaves the result unchanged)", _softmax_naive),
                       Mistake("normalised over the wrong axis (axis 0 instead of the last)", _softmax_axis0)),
                      ("softmax",)))
    for pid, tname, sname, names, hps, mistakes in _DERIVATIVES:
        pairs.append(Pair(pid, "function", f"activations.{sname}", _derivative_fn(tname),
                          f"a function f(x: ndarray) -> the derivative of {tname} at x, element by element",
                          drive_function, hps, _inputs(pid), mistakes, names,
                          {"note": TANH_NOTE} if pid == "tanh-grad" else {}))
    return pairs


def _inputs(pid: str):
    def inputs(ctx):
        return elementwise_inputs(ctx, specials_of(pid))
    return inputs


PAIRS = _pairs()
