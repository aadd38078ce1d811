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

import torch_ref.layers as tlayers


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
    return tlayers.linear(torch.as_tensor(np.asarray(W).T, dtype=dtype, device=device),
                          None if b is None else torch.as_tensor(b, dtype=dtype, device=device))


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


NORMS = (nn.BatchNorm1d, nn.LayerNorm)  # a network's normalization layers: gamma1, beta1, … in order


def load_mlp(model: nn.Module, params: dict) -> nn.Module:
    """Copy W1, b1, …, WL, bL into the model's ``nn.Conv2d`` / ``nn.Linear`` layers, in order (a
    Linear's W as (in, out), a convolution's as (FN, C, FH, FW)), and gamma1, beta1, … into its
    ``nn.BatchNorm1d`` (or ``nn.LayerNorm``) layers where params has them."""
    layers = weighted_layers(model)
    bns = [m for m in model.modules() if isinstance(m, NORMS)]
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


def mlp_layers(model: nn.Module) -> tuple[list, list]:
    """The model's weighted layers (:func:`weighted_layers`) and its ``nn.BatchNorm1d`` layers, in
    order: what :func:`mlp_arrays` reads (a training loop finds them once and passes them on)."""
    return weighted_layers(model), [m for m in model.modules() if isinstance(m, NORMS)]


def mlp_arrays(model: nn.Module, grad: bool = False, of=None, layers=None) -> dict:
    """The model's parameters (their gradients, or ``of(parameter)``) as W1, b1, … in the NumPy
    layout (convolution filters as they are, Linear weights transposed). ``layers``: the model's
    :func:`mlp_layers`, when the caller has them."""
    weighted, bns = layers or mlp_layers(model)
    get = _getter(grad, of)
    out = {}
    for i, layer in enumerate(weighted, start=1):
        W = get(layer.weight).detach().cpu().numpy()
        out[f"W{i}"] = W.copy() if isinstance(layer, nn.Conv2d) else W.T.copy()
        if layer.bias is not None:
            out[f"b{i}"] = get(layer.bias).detach().cpu().numpy().copy()
    for i, bn in enumerate(bns, start=1):
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


# --- recurrent layers: gate order and the two biases ----------------------------------------------

TORCH_GATES = {"rnn": "h", "lstm": "ifgo", "gru": "rzn"}  # the row blocks of weight_ih / weight_hh


def gate_permutation(ours: str, theirs: str) -> list:
    """For each of ``theirs``' gate blocks (e.g. PyTorch's 'ifgo'), the index of that gate's block
    in ``ours`` (e.g. CS231n's 'ifog'): [0, 1, 3, 2]."""
    if sorted(ours) != sorted(theirs):
        raise ValueError(f"gate orders {ours!r} and {theirs!r} name different gates")
    return [ours.index(g) for g in theirs]


def _blocks(a: np.ndarray, order: list, axis: int) -> np.ndarray:
    """The gate blocks of ``a`` along ``axis`` (G equal blocks), rearranged into ``order``."""
    parts = np.split(a, len(order), axis=axis)
    return np.concatenate([parts[i] for i in order], axis=axis)


def recurrent_to_torch(kind: str, Wx, Wh, b, gates: str | None = None, bh=None) -> dict:
    """NumPy-layout weights (Wx (D, G·H), Wh (H, G·H), b (G·H,), gate columns in order ``gates``)
    as PyTorch's weight_ih (G·H, D), weight_hh (G·H, H), bias_ih, bias_hh (gate rows in PyTorch's
    order). One bias b is given to bias_ih and bias_hh = 0 (only their sum b = b_ih + b_hh enters an
    RNN or LSTM); a GRU's ``bh`` is its own (it sits inside r ⊙ (h W_hn + b_hn))."""
    order = gate_permutation(gates or TORCH_GATES[kind], TORCH_GATES[kind])
    to_rows = lambda a: _blocks(np.asarray(a), order, axis=-1).T  # noqa: E731
    return {"weight_ih": to_rows(Wx), "weight_hh": to_rows(Wh), "bias_ih": to_rows(b),
            "bias_hh": np.zeros_like(np.asarray(b)) if bh is None else to_rows(bh)}


def recurrent_from_torch(kind: str, weight_ih, weight_hh, bias_ih, bias_hh, gates: str | None = None) -> dict:
    """PyTorch's parameters (or their gradients) in the NumPy layout with gate columns in order
    ``gates``: Wx = weight_ihᵀ and Wh = weight_hhᵀ with their gate blocks permuted, and
    b = bias_ih + bias_hh (an RNN or LSTM: the two biases always enter as their sum, so the
    gradient of b equals the gradient of either; the sum of the gradients would count it twice);
    a GRU keeps bx = bias_ih and bh = bias_hh."""
    order = gate_permutation(TORCH_GATES[kind], gates or TORCH_GATES[kind])
    cols = lambda a: _blocks(np.asarray(a).T, order, axis=-1)  # noqa: E731
    out = {"Wx": cols(weight_ih), "Wh": cols(weight_hh)}
    if kind == "gru":
        out.update(bx=cols(bias_ih), bh=cols(bias_hh))
    else:
        out["b"] = cols(bias_ih) + cols(bias_hh)
    return out


def recurrent_arrays(module: nn.Module, grad: bool = False, gates: str | None = None) -> dict:
    """A torch RNN/LSTM/GRU (or cell) module's parameters, or their gradients, in the NumPy layout.
    For gradients of an RNN or LSTM, b's gradient is bias_ih's (equal to bias_hh's)."""
    kind = {nn.RNN: "rnn", nn.RNNCell: "rnn", nn.LSTM: "lstm", nn.LSTMCell: "lstm", nn.GRU: "gru",
            nn.GRUCell: "gru"}[type(module)]
    suffix = "_l0" if isinstance(module, nn.RNNBase) else ""
    get = _getter(grad, None)
    names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    if grad and kind != "gru":
        names = names[:3]  # b = b_ih + b_hh: its gradient is either one's (bias_hh may be frozen)
    arrays = [get(getattr(module, n + suffix)).detach().cpu().numpy() for n in names]
    if len(arrays) == 3:
        arrays.append(np.zeros_like(arrays[2]))
    return recurrent_from_torch(kind, *arrays, gates=gates)


def load_recurrent(module: nn.Module, params: dict, gates: str | None = None) -> nn.Module:
    """Copy NumPy-layout Wx, Wh, b (or bx, bh) into a torch RNN/LSTM/GRU module; b goes to
    bias_ih and bias_hh is set to 0."""
    kind = {nn.RNN: "rnn", nn.LSTM: "lstm", nn.GRU: "gru"}[type(module)]
    bias = (params["bx"], params["bh"]) if kind == "gru" else (params["b"], None)
    torch_params = recurrent_to_torch(kind, params["Wx"], params["Wh"], bias[0], gates=gates, bh=bias[1])
    with torch.no_grad():
        for name, value in torch_params.items():
            p = getattr(module, name + "_l0")
            p.copy_(torch.as_tensor(value, dtype=p.dtype, device=p.device))
    return module


def sequence_model_arrays(model: nn.Module, grad: bool = False, gates: str | None = None) -> dict:
    """A sequence model's parameters (or gradients) under the NumPy side's keys: ``embed``
    (nn.Embedding) → E, ``rnn`` → Wx, Wh, b, ``out`` (nn.Linear) → W, bo."""
    out = {}
    if hasattr(model, "embed"):
        w = model.embed.weight
        out["E"] = (w.grad if grad else w).detach().cpu().numpy().copy()
    out.update(recurrent_arrays(model.rnn, grad, gates))
    arrays = linear_arrays(model.out, grad)
    out["W"], out["bo"] = arrays["W"], arrays["b"]
    return out


def load_sequence_model(model: nn.Module, params: dict, gates: str | None = None) -> nn.Module:
    """The inverse of :func:`sequence_model_arrays`."""
    if "E" in params:
        with torch.no_grad():
            model.embed.weight.copy_(torch.as_tensor(params["E"], dtype=model.embed.weight.dtype))
    load_recurrent(model.rnn, params, gates)
    load_linear(model.out, params["W"], params["bo"])
    return model


# --- the multi-task net: a shared trunk and two heads ------------------------------------------------

MULTITASK_LAYERS = (("1", "trunk"), ("a", "head_a"), ("b", "head_b"))


def _multitask_layer(model: nn.Module, name: str) -> nn.Linear:
    return model.trunk[0] if name == "trunk" else getattr(model, name)


def load_multitask(model: nn.Module, params: dict) -> nn.Module:
    """W1, b1 into the trunk's Linear, Wa, ba and Wb, bb into the two heads (W as (in, out))."""
    for key, name in MULTITASK_LAYERS:
        load_linear(_multitask_layer(model, name), params[f"W{key}"], params[f"b{key}"])
    return model


def multitask_arrays(model: nn.Module, grad: bool = False) -> dict:
    """W1, b1, Wa, ba, Wb, bb of the model (or their gradients) in the NumPy layout."""
    out = {}
    for key, name in MULTITASK_LAYERS:
        arrays = linear_arrays(_multitask_layer(model, name), grad=grad)
        out[f"W{key}"], out[f"b{key}"] = arrays["W"], arrays["b"]
    return out
