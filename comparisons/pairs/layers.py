"""Layers (kind ``layer``): a class with ``forward`` and ``backward``, parameters' gradients in
``grads`` or as ``dW``/``db`` attributes (the book), against ``torch.nn`` modules and autograd.

CS231n's functional pairs (``affine_forward(x, w, b) -> (out, cache)`` with
``affine_backward(dout, cache)``, …) go through the same drivers, wrapped by
:mod:`comparisons.pairs.functional`."""

from __future__ import annotations

import numpy as np

import scratch.layers as SL
import scratch.losses as SLoss
import torch_ref.activations as tact
import torch_ref.layers as tlayers

from ._base import Hparam, Mistake, Pair, shows
from ._drivers import (drive_batchnorm, drive_dropout, drive_elementwise_layer, drive_linear,
                       drive_softmax_with_loss)
from .activations import ALPHA, RELU_AT_ZERO, SLOPE
from .losses import DELTA, classification_inputs, torch_softmax_cross_entropy


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


def layer_inputs(ctx):
    """Three shapes, exact zeros (the kinks) and large magnitudes."""
    batch = ctx.rng.normal(0, 2, (16, 10))
    batch[ctx.rng.random(batch.shape) < 0.15] = 0.0
    return {"x 1×4": ctx.array(ctx.rng.normal(0, 2, (1, 4))), "x 16×10 with exact zeros": ctx.array(batch),
            "x 4×6 large magnitudes (±50)": ctx.array(ctx.rng.normal(0, 50, (4, 6))),
            "x 2×3×4 (any shape)": ctx.array(ctx.rng.normal(0, 2, (2, 3, 4)))}


def softmax_layer_inputs(ctx):
    return {"x 1×4": ctx.array(ctx.rng.normal(0, 2, (1, 4))), "x 16×10": ctx.array(ctx.rng.normal(0, 2, (16, 10))),
            "x 4×3 huge (×1000)": ctx.array(ctx.rng.normal(0, 1, (4, 3)) * 1000)}


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


class DropoutNonInverted:
    """The book's Dropout: keeps x·m in training and scales by 1 − p at test time."""

    def __init__(self, dropout_ratio=0.5):
        self.p, self.mask = dropout_ratio, None

    def forward(self, x, train_flg=True):
        if train_flg:
            self.mask = np.random.default_rng().random(x.shape) > self.p
            return x * self.mask
        return x * (1.0 - self.p)

    def backward(self, dout):
        return dout * self.mask


class DropoutNotRescaled(DropoutNonInverted):
    def forward(self, x, train_flg=True):
        return super().forward(x, train_flg) if train_flg else x


class BatchNormNoMeanTerms(SL.BatchNorm1d):
    """backward dx = γ·dout/σ only: the paths through μ and σ² (which depend on x) are missing."""

    def backward(self, dout):
        super().backward(dout)
        return dout * self.params["gamma"] / self._cache[1]


# --- declarations ---------------------------------------------------------------------------------


def _elementwise(pid, tname, sname, names, hps=(), mistakes=()):
    def module(**kw):
        return tact.module(tname, **kw)
    module.__doc__ = f"torch_ref.activations.module({tname!r})"
    shows(module, tact.module)
    return Pair(pid, "layer", f"layers.{sname}", module,
                "a class with forward(x) -> y and backward(dout) -> dx"
                + (f"; its constructor takes {[h.name for h in hps]}" if hps else ""),
                drive_elementwise_layer, hps, softmax_layer_inputs if pid == "softmax" else layer_inputs, mistakes, names)


P = Hparam("p", 0.5, "p", aliases=("dropout_ratio", "drop_prob", "ratio", "rate", "dropout"))
INVERTED = Hparam("inverted", 1, None, choices=(0, 1))
BN_HPARAMS = (Hparam("momentum", 0.9, "momentum", to_torch=lambda m: 1 - m),
              Hparam("eps", 1e-5, "eps", aliases=("epsilon",)),
              Hparam("running_var_init", 1.0, "running_var_init"),
              Hparam("unbiased_running_var", 1, "unbiased_running_var", to_torch=bool, choices=(0, 1)))

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
    _elementwise("tanh", "tanh", "Tanh", ("Tanh",)),
    _elementwise("leaky-relu", "leaky_relu", "LeakyReLU", ("LeakyRelu", "LeakyReLU"), (SLOPE,)),
    _elementwise("elu", "elu", "ELU", ("Elu", "ELU"), (ALPHA,)),
    _elementwise("identity", "identity", "Identity", ("Identity",)),
    _elementwise("softmax", "softmax", "Softmax", ("Softmax",)),
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
    Pair("dropout", "layer", "layers.Dropout", tlayers.dropout,
         "a class Dropout(p or dropout_ratio) with forward(x[, train_flg]) and backward(dout); train()/eval() or "
         "train_flg switch the modes",
         drive_dropout, (P, INVERTED), None,
         (Mistake("the book's non-inverted dropout: x·m in training and x·(1 − p) at test time; PyTorch scales the "
                  "kept units by 1/(1 − p) in training and passes x at test time (the two differ by the constant 1 − p)",
                  DropoutNonInverted, flag={"inverted": 0}),
          Mistake("dropout is not rescaled: training keeps x·m and evaluation passes x, so the expected output "
                  "shrinks by 1 − p between the two; scale the kept units by 1/(1 − p)", DropoutNotRescaled)),
         ("Dropout",)),
    Pair("batchnorm", "layer", "layers.BatchNorm1d", tlayers.batchnorm1d,
         "a class BatchNorm(gamma, beta[, momentum, eps]) with forward(x[, train_flg]) and backward(dout), "
         "dgamma/dbeta (or grads), and running_mean/running_var; momentum is the book's (the weight of the old value)",
         drive_batchnorm, BN_HPARAMS, None,
         (Mistake("the book's ε = 10e-7 = 1e-6 (PyTorch's default is 1e-5)", hard_coded(SL.BatchNorm1d, eps=1e-6),
                  flag={"eps": 1e-6}),
          Mistake("the running variance starts at 0 (PyTorch starts it at 1)",
                  hard_coded(SL.BatchNorm1d, running_var_init=0.0), flag={"running_var_init": 0}),
          Mistake("the running variance is updated with the biased batch variance (PyTorch stores the unbiased one, "
                  "·N/(N − 1))", hard_coded(SL.BatchNorm1d, unbiased_running_var=False), flag={"unbiased_running_var": 0}),
          Mistake("BN backward without its mean terms: dx = γ·dout/σ misses the paths through μ and σ², which depend "
                  "on every x; dx = (N·g − Σg − x̂·Σ(g·x̂))/(N·σ) with g = γ·dout", BatchNormNoMeanTerms)),
         ("BatchNormalization", "BatchNorm", "BatchNorm1d")),
]
