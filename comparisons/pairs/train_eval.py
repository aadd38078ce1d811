"""Layers with a training and an evaluation mode (kind ``layer``): dropout and batch norm, against
``nn.Dropout`` and ``nn.BatchNorm1d``. Each is driven through both modes, its state (a mask, the
running statistics) carried from one call to the next as a network would carry it."""

from __future__ import annotations

import numpy as np
import torch

import scratch.layers as SL
import torch_ref.layers as tlayers

from ..checks import batchnorm_term_scales
from ..variants import normalization_variants
from ._base import Comparison, Hparam, Mistake, Pair, as_array, call, construct, mode_kwargs, param_grad
from .layers import hard_coded


def drive_dropout(ctx, pair, cls, hparams, run):
    """Training and evaluation against ``nn.Dropout`` (inverted: scale 1/(1 − p) in training).

    The two sides draw their own masks: the exact checks cover the units both kept; the user's
    keep rate is checked statistically. With ``inverted=0`` (the book's form, scaled by 1 − p at
    test time) the reference is (1 − p) times PyTorch's in both modes: the same network up to that
    constant."""
    p = float(hparams["p"])
    scale = 1.0 if hparams.get("inverted", 1) else 1.0 - p
    x = ctx.array(ctx.rng.normal(size=(200, 50)) + 0.5)  # no exact zeros: a kept unit is out != 0
    x[x == 0] = 1.0
    dout = ctx.array(ctx.rng.normal(size=x.shape))
    layer = construct(cls, pair, hparams, {}, run)
    y = as_array(call(layer.forward, "forward in training", x.copy(), **mode_kwargs(layer, True)), "forward's result")
    dx = as_array(call(layer.backward, "backward in training", dout.copy()), "backward's result")
    y_t, dx_t = (scale * ctx.numpy(v) for v in tlayers.dropout(ctx.tensor(x), p, True, ctx.tensor(dout)))
    if y.shape != x.shape:
        return [Comparison("forward in training", y, y_t)]
    kept = y != 0
    both = kept & (y_t != 0)
    n = x.size
    out = [
        Comparison("training: kept units on both sides have one value", y[both], y_t[both],
                   hint_value=np.median(y[kept] / x[kept]) if kept.any() else 0.0),
        Comparison("training: backward on the units both kept", dx[both], dx_t[both],
                   hint_value=np.median(dx[kept] / dout[kept]) if kept.any() else 0.0),
        Comparison("training: backward blocks the dropped units", dx[~kept], np.zeros(int((~kept).sum())),
                   hint_value=np.abs(dx[~kept]).max(initial=0.0)),
        Comparison(f"training: keep rate within 6σ of 1 − p = {1 - p:g}", np.array(kept.mean()), np.array(1 - p),
                   kind="statistical", tol=6 * np.sqrt(p * (1 - p) / n), hint_value=np.round(kept.mean(), 1)),
    ]
    x_eval = ctx.array(ctx.rng.normal(size=(16, 10)))
    y_eval = as_array(call(layer.forward, "forward in evaluation", x_eval.copy(), **mode_kwargs(layer, False)),
                      "forward's result")
    y_eval_t, _ = tlayers.dropout(ctx.tensor(x_eval), p, False, ctx.tensor(np.ones_like(x_eval)))
    out.append(Comparison("evaluation: forward", y_eval, scale * ctx.numpy(y_eval_t)))
    return out


def drive_batchnorm(ctx, pair, cls, hparams, run):
    """Two training steps (outputs, dx, dγ, dβ, running statistics) and one evaluation step,
    against ``nn.BatchNorm1d`` configured with the same conventions."""
    out = []
    axes = pair.options.get("axes", (0,))  # the axes a channel's statistics are taken over
    for shape in pair.options.get("shapes", ((8, 5), (32, 10))):
        d = shape[1]
        gamma, beta = ctx.array(ctx.rng.uniform(0.5, 1.5, d)), ctx.array(ctx.rng.normal(size=d))
        layer = construct(cls, pair, hparams, {"gamma": gamma.copy(), "beta": beta.copy()}, run)
        module = pair.torch(ctx.tensor(gamma), ctx.tensor(beta), **pair.torch_kwargs(hparams))
        module.train()
        label = "x " + "×".join(map(str, shape))
        for step in (1, 2):
            x = ctx.array(ctx.rng.normal(2.0, 3.0, size=shape))
            dout = ctx.array(ctx.rng.normal(size=shape))
            y = as_array(call(layer.forward, f"forward in training on x{x.shape}", x.copy(),
                              **mode_kwargs(layer, True)), "forward's result")
            dx = as_array(call(layer.backward, "backward", dout.copy()), "backward's result")
            y_t, dx_t = tlayers.forward_backward(module, ctx.tensor(x), ctx.tensor(dout))
            sc = batchnorm_term_scales(x, dout, axes=axes)
            channel = (1, d) + (1,) * (len(shape) - 2)
            variants = normalization_variants(x, axes, float(hparams["eps"]), gamma.reshape(channel), beta.reshape(channel))
            out += [Comparison(f"training step {step}: forward, {label}", y, y_t, context={"variants": variants}),
                    Comparison(f"training step {step}: backward dx, {label}", dx, dx_t),
                    Comparison(f"training step {step}: dgamma, {label}", param_grad(layer, "gamma"),
                               ctx.numpy(module.weight.grad), scale=sc["dgamma"]),
                    Comparison(f"training step {step}: dbeta, {label}", param_grad(layer, "beta"),
                               ctx.numpy(module.bias.grad), scale=sc["dbeta"])]
            module.zero_grad()
        for stat in ("running_mean", "running_var"):
            if getattr(layer, stat, None) is not None:
                out.append(Comparison(f"{stat} after two steps, {label}", as_array(getattr(layer, stat), stat),
                                      getattr(module, stat)))
        x = ctx.array(ctx.rng.normal(2.0, 3.0, size=shape))
        y = as_array(call(layer.forward, "forward in evaluation", x.copy(), **mode_kwargs(layer, False)),
                     "forward's result")
        module.eval()
        with torch.no_grad():
            out.append(Comparison(f"evaluation: forward with the running statistics, {label}", y,
                                  module(ctx.tensor(x))))
    return out



# --- catalogued mistakes ---------------------------------------------------------------------------


class DropoutNonInverted:
    """The book's Dropout: keeps x·m in training and scales by 1 − p at test time."""

    def __init__(self, dropout_ratio=0.5):
        self.p, self.mask = dropout_ratio, None

    def forward(self, x, train_flg=True):
        if train_flg:
            self.mask = np.random.rand(*x.shape) > self.p  # as the book draws it
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

P = Hparam("p", 0.5, "p", aliases=("dropout_ratio", "drop_prob", "ratio", "rate", "dropout"), bounds="[0, 1)")
INVERTED = Hparam("inverted", 1, None, choices=(0, 1))
# the driver itself calls one object for two training steps and an evaluation, its running statistics carried
# (as PyTorch's module's): a second run over the same object would carry them further than a fresh reference
CALLED_AGAIN = {"again": False}
BN_HPARAMS = (Hparam("momentum", 0.9, "momentum", to_torch=lambda m: 1 - m, bounds="[0, 1]"),
              Hparam("eps", 1e-5, "eps", aliases=("epsilon",), bounds="[0, inf)"),
              Hparam("running_var_init", 1.0, "running_var_init", bounds="[0, inf)"),
              Hparam("unbiased_running_var", 1, "unbiased_running_var", to_torch=bool, choices=(0, 1)))

PAIRS = [
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
         ("BatchNormalization", "BatchNorm", "BatchNorm1d"), CALLED_AGAIN),
]
