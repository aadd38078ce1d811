"""Normalization of images beside batch norm (kind ``layer``): batch norm of images (CS231n's
*spatial* batch norm: per channel over N, H, W) and group norm — against ``nn.BatchNorm2d`` and
``nn.GroupNorm``. (Layer norm is declared with the transformer's layers: :mod:`comparisons.pairs.transformer`.)

Class style: ``BatchNorm2d(gamma, beta[, momentum, eps])``,
``GroupNorm(num_groups, gamma, beta[, eps])`` with ``forward(x)``/``backward(dout)`` and the
gradients of γ, β in ``grads`` or ``dgamma``/``dbeta``. CS231n's
``spatial_batchnorm_*`` and ``spatial_groupnorm_*`` couples are wrapped into the same interface by
:mod:`comparisons.pairs.functional`."""

from __future__ import annotations

import numpy as np

import scratch.conv as SC
import scratch.normalization as SN
import torch_ref.conv as tconv
import torch_ref.normalization as tnorm

from ..variants import normalization_variants, normalize
from ._base import Comparison, Hparam, Mistake, Pair, as_array, call, construct, param_grad
from .layers import hard_coded
from .train_eval import BN_HPARAMS, CALLED_AGAIN, drive_batchnorm

EPS = Hparam("eps", 1e-5, "eps", aliases=("epsilon",), bounds="[0, inf)")
GROUPS = Hparam("num_groups", 2, None, aliases=("G", "groups"), bounds="[1, inf)", integer=True)


def _norm_checks(ctx, layer, module, x, dout, label, xhat, param_axes, variants):
    """forward, dx, dγ, dβ of ``layer`` against the torch ``module`` (its weight and bias γ, β); dγ and
    dβ are sums over ``param_axes``, judged against the size of their terms (x̂ the reference's)."""
    y = as_array(call(layer.forward, f"forward on x{x.shape}", x.copy()), "forward's result")
    dx = as_array(call(layer.backward, f"backward on dout{dout.shape}", dout.copy()), "backward's result")
    y_t, dx_t, dgamma_t, dbeta_t = tnorm.forward_backward(module, ctx.tensor(x), ctx.tensor(dout))
    d = np.abs(np.asarray(dout, dtype=np.float64))
    return [Comparison(f"forward, {label}", y, y_t, context={"variants": variants}),
            Comparison(f"backward dx, {label}", dx, dx_t),
            Comparison(f"backward dgamma, {label}", param_grad(layer, "gamma").reshape(-1), dgamma_t,
                       scale=(d * np.abs(xhat)).sum(axis=param_axes)),
            Comparison(f"backward dbeta, {label}", param_grad(layer, "beta").reshape(-1), dbeta_t,
                       scale=d.sum(axis=param_axes))]


def drive_groupnorm(ctx, pair, cls, hparams, run):
    """``GroupNorm(num_groups, gamma, beta, eps)`` on images (N, C, H, W), forward, dx, dγ, dβ against
    ``nn.GroupNorm(G, C)``; G from ``num_groups``, and 1 and C (layer norm and instance norm of images)."""
    eps, G = float(hparams["eps"]), int(hparams["num_groups"])
    out = []
    for shape, groups in (((3, 4, 2, 3), G), ((2, 6, 3, 2), 3), ((2, 4, 2, 2), 1)):
        N, C = shape[:2]
        if C % groups:
            continue
        gamma, beta = ctx.array(ctx.rng.uniform(0.5, 1.5, C)), ctx.array(ctx.rng.normal(size=C))
        x = run.draw(ctx, lambda c: c.array(c.rng.normal(1.0, 3.0, size=shape)))
        dout = ctx.array(ctx.rng.normal(size=shape))
        layer = construct(cls, pair, {**hparams, "num_groups": groups},
                          {"gamma": gamma.copy(), "beta": beta.copy(), "num_groups": groups}, run)
        module = pair.torch(groups, ctx.tensor(gamma), ctx.tensor(beta), eps=eps)
        grouped = x.reshape(N, groups, -1)
        variants = normalization_variants(grouped, -1, eps, gamma.reshape(1, C, 1, 1), beta.reshape(1, C, 1, 1),
                                          reshape=lambda v: v.reshape(shape))
        out += _norm_checks(ctx, layer, module, x, dout, f"x {'×'.join(map(str, shape))}, G = {groups}",
                            normalize(grouped, -1, eps).reshape(shape), (0, 2, 3), variants)
    return out


# --- catalogued mistakes ---------------------------------------------------------------------------


class GroupNormPerChannel(SN.GroupNorm):
    """Each channel normalised on its own (instance norm): the groups are ignored."""

    def __init__(self, num_groups, gamma, beta, eps=1e-5):
        super().__init__(num_groups, gamma, beta, eps)
        self.num_groups = np.shape(gamma)[0]


# --- declarations ------------------------------------------------------------------------------------

BN2D_SHAPES = ((4, 3, 2, 3), (8, 2, 3, 3))

PAIRS = [
    Pair("spatial-batchnorm", "layer", "conv.BatchNorm2d", tconv.batchnorm2d,
         "a class BatchNorm2d(gamma (C,), beta (C,)[, momentum, eps]) with forward(x (N, C, H, W)[, train_flg]) "
         "normalising each channel over N, H, W, backward(dout), dgamma/dbeta and running_mean/running_var; momentum "
         "is the book's (the weight of the old value)",
         drive_batchnorm, BN_HPARAMS, None,
         (Mistake("the running variance starts at 0 (PyTorch starts it at 1)",
                  hard_coded(SC.BatchNorm2d, running_var_init=0.0), flag={"running_var_init": 0}),
          Mistake("the running variance is updated with the biased batch variance (PyTorch stores the unbiased one, "
                  "·M/(M − 1), M = N·H·W)", hard_coded(SC.BatchNorm2d, unbiased_running_var=False),
                  flag={"unbiased_running_var": 0})),
         ("SpatialBatchNorm", "BatchNorm2d", "SpatialBatchNormalization"),
         {"shapes": BN2D_SHAPES, "axes": (0, 2, 3), **CALLED_AGAIN}),
    Pair("groupnorm", "layer", "normalization.GroupNorm", tnorm.group_norm,
         "a class GroupNorm(num_groups, gamma (C,), beta (C,)[, eps]) with forward(x (N, C, H, W)) normalising each "
         "sample's groups of C/G channels and backward(dout) -> dx; dgamma, dbeta per channel",
         drive_groupnorm, (GROUPS, EPS), None,
         (Mistake("each channel is normalised on its own (instance norm): a group's C/G channels share one mean and "
                  "variance", GroupNormPerChannel),),
         ("GroupNorm", "SpatialGroupNorm", "GroupNormalization")),
]
