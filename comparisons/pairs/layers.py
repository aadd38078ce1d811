"""Layers (kind ``layer``): a class with ``forward`` and ``backward``, parameters' gradients in
``grads`` or as ``dW``/``db`` attributes (the book), against ``torch.nn`` modules and autograd.

CS231n's functional pairs (``affine_forward(x, w, b) -> (out, cache)`` with
``affine_backward(dout, cache)``, …) go through the same drivers, wrapped by
:mod:`comparisons.pairs.functional`."""

from __future__ import annotations

import numpy as np
import torch

import scratch.layers as SL
import scratch.losses as SLoss
import torch_ref.activations as tact
import torch_ref.layers as tlayers

from .. import bridge
from ..checks import linear_term_scales
from ._base import (NAN_INF, NONFINITE, Comparison, Mistake, Pair, TargetError, as_array, call, construct, nonfinite,
                    not_handed_on, param_grad, shows)
from .activations import (ALPHA, APPROXIMATE, GELU_TANH, RELU_AT_ZERO, SLOPE, TANH_NOTE, softmax_nonfinite,
                          specials_of)
from .losses import DELTA, classification_inputs, torch_softmax_cross_entropy


def drive_elementwise_layer(ctx, pair, cls, hparams, run):
    """forward(x) and backward(dout) of an activation layer against the torch module's autograd."""
    out = []
    for label, x in pair.inputs(ctx).items():
        layer = construct(cls, pair, hparams, {}, run)
        y = as_array(call(layer.forward, f"forward on x{x.shape}", x.copy()), "forward's result", x.shape)
        dout = ctx.array(ctx.rng.normal(size=x.shape))
        y_t, dx_t = tlayers.forward_backward(pair.torch(**pair.torch_kwargs(hparams)), ctx.tensor(x), ctx.tensor(dout))
        note = pair.options.get("note", "")
        def along(axis, x=x):  # the reference applied along another axis (a softmax over the wrong one)
            module = pair.torch(**pair.torch_kwargs(hparams))
            with torch.no_grad():
                return np.moveaxis(ctx.numpy(module(ctx.tensor(np.moveaxis(x, axis, -1)))), -1, axis)

        out.append(Comparison(f"forward, {label}", y, y_t, note=note, context={"x": x, "along": along}))
        if not_handed_on(run, y, x.shape, label, "backward"):
            continue
        dx = as_array(call(layer.backward, f"backward on dout{dout.shape}", dout.copy()), "backward's result", x.shape)
        out.append(Comparison(f"backward dx, {label}", dx, dx_t, note=note,
                              context={"x": x, "y": ctx.numpy(y_t), "dout": dout}))
    return out


def drive_linear(ctx, pair, cls, hparams, run):
    """``Linear(W, b)`` / the book's ``Affine``: forward, dx, dW, db against ``nn.Flatten + nn.Linear``."""
    out = []
    for label, (x, d_out, optional) in pair.inputs(ctx).items():
        d_in = int(np.prod(x.shape[1:]))
        W, b = ctx.array(ctx.rng.normal(size=(d_in, d_out))), ctx.array(ctx.rng.normal(size=d_out))
        layer = construct(cls, pair, hparams, {"W": W.copy(), "b": b.copy()}, run)
        try:
            y = as_array(call(layer.forward, f"forward on x{x.shape}", x.copy()), "forward's result", (len(x), d_out))
        except TargetError as exc:
            if not optional:
                raise
            run.notes.append(f"skipped '{label}': {exc}")
            continue
        dout = ctx.array(ctx.rng.normal(size=(len(x), d_out)))
        module = pair.torch(ctx.tensor(W.T), ctx.tensor(b))  # Flatten → Linear (→ ReLU: a sandwich)
        y_t, dx_t = tlayers.forward_backward(module, ctx.tensor(x), ctx.tensor(dout))
        grads_t = bridge.linear_arrays(module[1], grad=True)
        sc = linear_term_scales(x, W, b, dout)
        out.append(Comparison(f"forward, {label}", y, y_t, scale=sc["forward"]))
        if not_handed_on(run, y, (len(x), d_out), label, "backward"):
            continue
        dx = as_array(call(layer.backward, f"backward on dout{dout.shape}", dout.copy()), "backward's result", x.shape)
        out += [Comparison(f"backward dx, {label}", dx, dx_t, scale=sc["dx"]),
                Comparison(f"backward dW, {label}", param_grad(layer, "W"), grads_t["W"], scale=sc["dW"]),
                Comparison(f"backward db, {label}", param_grad(layer, "b"), grads_t["b"], scale=sc["db"])]
    return out


def drive_softmax_with_loss(ctx, pair, cls, hparams, run):
    """forward(x, t) → the mean loss, then backward(1) → dx, against ``nn.CrossEntropyLoss``.
    The book's forward keeps δ = 1e-7 in the log but its backward (y − t)/N is the exact gradient
    without δ: dx is always compared with the gradient of the loss without δ."""
    out = []
    torch_h = pair.torch_kwargs(hparams)
    if torch_h.get("delta"):
        run.notes.append("dx is compared with the exact gradient (softmax(x) − t)/N: the book's backward ignores "
                         "the δ of its own forward")
    for label, (x, t, optional) in pair.inputs(ctx).items():
        layer = construct(cls, pair, hparams, {}, run)
        try:
            loss = as_array(call(layer.forward, f"forward on x{x.shape}, t{np.shape(t)}", x.copy(),
                                 np.array(t, copy=True)), "forward's result", ())
        except TargetError as exc:
            if optional:
                run.notes.append(f"skipped '{label}': {exc}")
                continue
            raise
        dx = as_array(call(layer.backward, "backward(1)", 1.0), "backward's result", x.shape)
        xt = ctx.tensor(x, requires_grad=True)
        (grad,) = torch.autograd.grad(pair.torch(ctx, xt, t, **{**torch_h, "delta": 0.0}), xt)
        value_t = pair.torch(ctx, xt, t, **torch_h)
        out += [Comparison(f"loss, {label}", loss, value_t.detach()),
                Comparison(f"backward dx, {label}", dx, grad)]
    return out


def hard_coded(cls, **fixed):
    """``cls`` with some keyword arguments fixed and removed from its signature: how a catalogue
    writes a user's class that hard-codes a constant (the book's ε = 1e-7) instead of taking it."""
    import inspect

    sig = inspect.signature(cls)

    def make(*args, **kwargs):
        return cls(*args, **{**kwargs, **fixed})

    make.__signature__ = sig.replace(parameters=[p for n, p in sig.parameters.items() if n not in fixed])
    make.__name__ = make.__qualname__ = f"{cls.__name__}({', '.join(f'{k}={v}' for k, v in fixed.items())})"
    return make


def layer_inputs(ctx, specials=NAN_INF):
    """Three shapes, exact zeros (the kinks), large magnitudes, and ``specials`` (NaN, ±inf where
    PyTorch's forward and backward are defined) among random values."""
    batch = ctx.rng.normal(0, 2, (16, 10))
    batch[ctx.rng.random(batch.shape) < 0.15] = 0.0
    cases = {"x 1×4": ctx.array(ctx.rng.normal(0, 2, (1, 4))), "x 16×10 with exact zeros": ctx.array(batch),
             "x 4×6 large magnitudes (±50)": ctx.array(ctx.rng.normal(0, 50, (4, 6))),
             "x 2×3×4 (any shape)": ctx.array(ctx.rng.normal(0, 2, (2, 3, 4)))}
    if specials:
        cases[f"x 4×16, {NONFINITE}"] = nonfinite(ctx, (4, 16), specials)
    return cases


def softmax_layer_inputs(ctx):
    return {"x 1×4": ctx.array(ctx.rng.normal(0, 2, (1, 4))), "x 16×10": ctx.array(ctx.rng.normal(0, 2, (16, 10))),
            "x 4×3 huge (×1000)": ctx.array(ctx.rng.normal(0, 1, (4, 3)) * 1000),
            f"x 8×3, {NONFINITE} rows": softmax_nonfinite(ctx)}


def linear_inputs(ctx):
    """(x, out features, optional): a single row, a batch, a non-square W, and a 4-D input that
    the book's Affine flattens (optional: a layer for 2-D inputs only is not wrong)."""
    return {"x 1×4 → 3": (ctx.array(ctx.rng.normal(0, 2, (1, 4))), 3, False),
            "x 16×10 → 7": (ctx.array(ctx.rng.normal(0, 2, (16, 10))), 7, False),
            "x 64×32 → 5": (ctx.array(ctx.rng.normal(0, 2, (64, 32))), 5, False),
            "x 8×2×3×2 (flattened) → 4": (ctx.array(ctx.rng.normal(0, 2, (8, 2, 3, 2))), 4, True)}


# --- catalogued mistakes (each a layer class with one thing wrong) --------------------------------


class LinearDWSign(SL.Linear):
    def backward(self, dout):
        dx = super().backward(dout)
        self.grads["W"] = -self.grads["W"]
        return dx


class LinearDbNotSummed(SL.Linear):
    def backward(self, dout):
        dx = super().backward(dout)
        self.grads["b"] = np.mean(dout, axis=0)
        return dx


class LinearDWTransposed(SL.Linear):
    def backward(self, dout):
        dx = super().backward(dout)
        self.grads["W"] = self.grads["W"].T
        return dx


class ReLUMaskAtZero(SL.ReLU):
    """mask = (x < 0): the gradient passes where x = 0."""

    _grad = staticmethod(lambda x: (np.asarray(x) >= 0).astype(np.asarray(x).dtype))


class SigmoidMissingFactor(SL.Sigmoid):
    def backward(self, dout):
        return dout * self._y


class SoftmaxWithLossNotAveraged(SL.SoftmaxWithLoss):
    def backward(self, dout=1.0):
        return super().backward(dout) * self._y.shape[0]


class SoftmaxWithLossBookDelta(SL.SoftmaxWithLoss):
    """The book's forward: cross_entropy_error(softmax(x), t) with δ = 1e-7; backward (y − t)/N."""

    def forward(self, x, t):
        super().forward(x, t)
        self.loss = SLoss.cross_entropy_error(self._y, self._t, delta=1e-7)
        return self.loss


class SoftmaxWithLossNoShift(SL.SoftmaxWithLoss):
    def forward(self, x, t):
        super().forward(x, t)
        e = np.exp(np.asarray(x, dtype=float))
        self._y = e / e.sum(axis=-1, keepdims=True)
        self.loss = -np.sum(self._t * np.log(self._y)) / self._y.shape[0]
        return self.loss


# --- declarations ---------------------------------------------------------------------------------

GELU_TANH_LAYER = Mistake(GELU_TANH.hint, hard_coded(SL.GELU, approximate="tanh"), flag=GELU_TANH.flag)



def _layer_inputs(pid: str):
    """A layer's inputs: those of its function, NaN and ±inf where both its function and derivative
    are defined (ELU's derivative at NaN is not: ±inf only)."""
    specials = tuple(v for v in specials_of(pid) if v in specials_of(f"{pid}-grad"))  # NAN_INF's own objects

    def inputs(ctx):
        return layer_inputs(ctx, specials)
    return inputs


def _elementwise(pid, tname, sname, names, hps=(), mistakes=(), note=""):
    def module(**kw):
        return tact.module(tname, **kw)
    module.__doc__ = f"torch_ref.activations.module({tname!r})"
    shows(module, type(tact.module(tname)))  # nn.Sigmoid, nn.ReLU, … as a PyTorch user writes them
    return Pair(pid, "layer", f"layers.{sname}", module,
                "a class with forward(x) -> y and backward(dout) -> dx"
                + (f"; its constructor takes {[h.name for h in hps]}" if hps else ""),
                drive_elementwise_layer, hps, softmax_layer_inputs if pid == "softmax" else _layer_inputs(pid), mistakes, names,
                {"note": note})


PAIRS = [
    Pair("linear", "layer", "layers.Linear", tlayers.flatten_linear,
         "a class Linear(W, b) (the book's Affine) with W (in, out): forward(x) -> x @ W + b (x flattened to (N, in)), "
         "backward(dout) -> dx, and the gradients in grads['W'], grads['b'] or dW, db",
         drive_linear, (), linear_inputs,
         (Mistake("dW has the wrong sign: dW = xᵀ·dout", LinearDWSign),
          Mistake("db is not summed over the batch: b was added to every row, so db = Σₙ doutₙ", LinearDbNotSummed),
          Mistake("dW is transposed: dW = xᵀ·dout has the shape of W (in, out)", LinearDWTransposed)),
         ("Affine", "Linear", "Dense", "FullyConnected")),
    _elementwise("relu", "relu", "ReLU", ("Relu", "ReLU"), (RELU_AT_ZERO,),
                 (Mistake("the mask at 0: mask = (x < 0) lets the gradient through where x = 0 (ReLU'(0) = 1); "
                          "PyTorch blocks it (mask = (x <= 0))", ReLUMaskAtZero, flag={"grad_at_zero": 1}),)),
    _elementwise("sigmoid", "sigmoid", "Sigmoid", ("Sigmoid",), (),
                 (Mistake("backward misses the (1 − y) factor: dx = dout·y(1 − y)", SigmoidMissingFactor),)),
    _elementwise("tanh", "tanh", "Tanh", ("Tanh",), note=TANH_NOTE),
    _elementwise("leaky-relu", "leaky_relu", "LeakyReLU", ("LeakyRelu", "LeakyReLU"), (SLOPE,)),
    _elementwise("elu", "elu", "ELU", ("Elu", "ELU"), (ALPHA,)),
    _elementwise("identity", "identity", "Identity", ("Identity",)),
    _elementwise("softmax", "softmax", "Softmax", ("Softmax",)),
    _elementwise("gelu", "gelu", "GELU", ("GELU", "Gelu"), (APPROXIMATE,), (GELU_TANH_LAYER,)),
    Pair("softmax-with-loss", "layer", "layers.SoftmaxWithLoss", torch_softmax_cross_entropy,
         "a class with forward(x, t) -> mean loss (t labels or one-hot) and backward(dout=1) -> dx",
         drive_softmax_with_loss, (DELTA,), lambda ctx: classification_inputs(ctx, False, one_sample=False),
         (Mistake("backward is not divided by the batch size: the loss is a mean, so dx = (y − t)/N",
                  SoftmaxWithLossNotAveraged),
          Mistake("the book's δ = 1e-7 inside the log of the forward: PyTorch has no δ", SoftmaxWithLossBookDelta,
                  flag={"delta": 1e-7}),
          Mistake("softmax without the max shift: exp overflows to nan for large scores; subtract max(x) first",
                  SoftmaxWithLossNoShift)),
         ("SoftmaxWithLoss", "SoftmaxCrossEntropy", "SoftmaxLoss")),
]
