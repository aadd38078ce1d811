"""The single border between the two weight layouts.

NumPy code keeps a linear layer's W as (in, out) for ``x @ W + b``; ``nn.Linear.weight`` is
(out, in) for ``x @ weight.T + bias``. Weights cross here, transposed, and torch's gradients come
back under the NumPy side's keys and layout, so a gradient check is one loop over keys.
"""

from __future__ import annotations

import re

import numpy as np
import torch
from torch import nn


def load_linear(layer: nn.Linear, W: np.ndarray, b: np.ndarray | None) -> nn.Linear:
    """Copy W (in, out) and b (out,) into ``layer`` (weight = Wᵀ), keeping its dtype and device."""
    w = layer.weight
    if W.shape != (w.shape[1], w.shape[0]):
        raise ValueError(f"W must have shape (in, out) = {(w.shape[1], w.shape[0])}, got {W.shape}")
    with torch.no_grad():
        w.copy_(torch.as_tensor(W.T, dtype=w.dtype, device=w.device))
        if b is not None:
            layer.bias.copy_(torch.as_tensor(b, dtype=w.dtype, device=w.device))
    return layer


def linear_from(W: np.ndarray, b: np.ndarray | None, dtype, device) -> nn.Linear:
    """A new ``nn.Linear`` holding W (in, out) and b, in the given dtype and on the device."""
    layer = nn.Linear(W.shape[0], W.shape[1], bias=b is not None).to(dtype=dtype, device=device)
    return load_linear(layer, W, b)


def _getter(grad: bool, of):
    """What to read of a parameter: ``of(p)`` when given, else its gradient or itself."""
    if of is not None:
        return of
    return (lambda p: p.grad) if grad else (lambda p: p)


def linear_arrays(layer: nn.Linear, grad: bool = False, of=None) -> dict:
    """``{"W": (in, out), "b": (out,)}`` of a layer's parameters, of their gradients, or of
    ``of(parameter)`` (e.g. the gradient an optimizer acts on)."""
    get = _getter(grad, of)
    out = {"W": get(layer.weight).detach().cpu().numpy().T.copy()}
    if layer.bias is not None:
        out["b"] = get(layer.bias).detach().cpu().numpy().copy()
    return out


def maxout_weight(W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Maxout pieces W (k, in, out), b (k, out) as one ``nn.Linear(in, k·out)``'s weight and bias:
    row i·out + j of the weight is piece i's column j."""
    k, n_in, n_out = W.shape
    return W.transpose(0, 2, 1).reshape(k * n_out, n_in), b.reshape(k * n_out)


def maxout_grads(weight_grad: np.ndarray, bias_grad: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The inverse of :func:`maxout_weight` for gradients: back to (k, in, out) and (k, out)."""
    n_out = weight_grad.shape[0] // k
    return (weight_grad.reshape(k, n_out, -1).transpose(0, 2, 1), bias_grad.reshape(k, n_out))


def weighted_layers(model: nn.Module) -> list:
    """The model's ``nn.Conv2d`` and ``nn.Linear`` layers in the order they are defined: the
    layers behind W1, b1, W2, b2, … ."""
    return [m for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]


def load_conv(layer: nn.Conv2d, W: np.ndarray, b: np.ndarray | None) -> nn.Conv2d:
    """Copy filters W (FN, C, FH, FW) and b (FN,) into ``layer``: the book's layout is PyTorch's,
    no transpose."""
    w = layer.weight
    if W.shape != tuple(w.shape):
        raise ValueError(f"W must have shape (FN, C, FH, FW) = {tuple(w.shape)}, got {W.shape}")
    with torch.no_grad():
        w.copy_(torch.as_tensor(W, dtype=w.dtype, device=w.device))
        if b is not None:
            layer.bias.copy_(torch.as_tensor(b, dtype=w.dtype, device=w.device))
    return layer


def load_mlp(model: nn.Module, params: dict) -> nn.Module:
    """Copy W1, b1, …, WL, bL into the model's ``nn.Conv2d`` / ``nn.Linear`` layers, in order (a
    Linear's W as (in, out), a convolution's as (FN, C, FH, FW)), and gamma1, beta1, … into its
    ``nn.BatchNorm1d`` layers where params has them."""
    layers = weighted_layers(model)
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm1d)]
    if sum(bool(re.fullmatch(r"[Wb]\d+", k)) for k in params) != 2 * len(layers):  # not beta1
        raise ValueError(f"the model has {len(layers)} weighted layers, params has keys {sorted(params)}")
    for i, layer in enumerate(layers, start=1):
        load = load_conv if isinstance(layer, nn.Conv2d) else load_linear
        load(layer, params[f"W{i}"], params[f"b{i}"])
    with torch.no_grad():
        for i, bn in enumerate(bns, start=1):
            if f"gamma{i}" in params:
                bn.weight.copy_(torch.as_tensor(params[f"gamma{i}"], dtype=bn.weight.dtype, device=bn.weight.device))
                bn.bias.copy_(torch.as_tensor(params[f"beta{i}"], dtype=bn.weight.dtype, device=bn.weight.device))
    return model


def mlp_arrays(model: nn.Module, grad: bool = False, of=None) -> dict:
    """The model's parameters (their gradients, or ``of(parameter)``) as W1, b1, … in the NumPy
    layout (convolution filters as they are, Linear weights transposed)."""
    out = {}
    get = _getter(grad, of)
    for i, layer in enumerate(weighted_layers(model), start=1):
        if isinstance(layer, nn.Conv2d):
            arrays = {"W": get(layer.weight).detach().cpu().numpy().copy()}
            if layer.bias is not None:
                arrays["b"] = get(layer.bias).detach().cpu().numpy().copy()
        else:
            arrays = linear_arrays(layer, grad, of)
        out[f"W{i}"] = arrays["W"]
        if "b" in arrays:
            out[f"b{i}"] = arrays["b"]
    for i, bn in enumerate((m for m in model.modules() if isinstance(m, nn.BatchNorm1d)), start=1):
        out[f"gamma{i}"] = get(bn.weight).detach().cpu().numpy().copy()
        out[f"beta{i}"] = get(bn.bias).detach().cpu().numpy().copy()
    return out


class DropoutMasks:
    """Records the keep-mask every ``nn.Dropout`` of a model drew in its last forward pass, with
    forward hooks, so the NumPy side can be given exactly the masks PyTorch decided.

    PyTorch's inverted dropout returns x·m/(1 − p), so m = (output ≠ 0) wherever x ≠ 0. Where x is
    exactly 0 (a ReLU's output) the mask is not recoverable and does not matter: the output is 0
    either way and the ReLU before it passes no gradient there.
    """

    def __init__(self, model: nn.Module):
        self.masks: list = []
        self._handles = [m.register_forward_hook(self._hook) for m in model.modules() if isinstance(m, nn.Dropout)]

    def _hook(self, module, inputs, output):
        if module.training:
            self.masks.append((output != 0).detach().cpu().numpy())

    def take(self) -> list:
        masks, self.masks = self.masks, []
        return masks

    def remove(self):
        for h in self._handles:
            h.remove()
