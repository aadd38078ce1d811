"""The layers a from-scratch text writes by hand, as a PyTorch user builds them: ``nn.Linear``,
``nn.Dropout``, ``nn.BatchNorm1d``, ``nn.CrossEntropyLoss``, with gradients from autograd.

Every function here takes tensors (or plain numbers) and returns tensors: the weights arrive in
PyTorch's layout (``weight`` of shape (out, in)); ``comparisons.bridge`` converts at the border.
"""

from __future__ import annotations

import torch
from torch import nn


def linear(weight: torch.Tensor, bias: torch.Tensor | None = None) -> nn.Linear:
    """``nn.Linear`` holding ``weight`` (out, in) and ``bias`` (out,), or no bias when None, in
    their dtype and on their device: y = x Wᵀ + b over the last axis of x."""
    layer = nn.Linear(weight.shape[1], weight.shape[0], bias=bias is not None).to(dtype=weight.dtype,
                                                                                  device=weight.device)
    with torch.no_grad():
        layer.weight.copy_(weight)
        if bias is not None:
            layer.bias.copy_(bias)
    return layer


def linear_chain(weights) -> nn.Sequential:
    """Bias-free ``nn.Linear`` layers holding ``weights`` (each (out, in)), one after the other: a
    deep *linear* network, y = x W₁ᵀ W₂ᵀ …, which one layer with the product of the weights computes too."""
    return nn.Sequential(*[linear(w) for w in weights])


def flatten_linear(weight: torch.Tensor, bias: torch.Tensor) -> nn.Sequential:
    """``nn.Flatten()`` then ``nn.Linear`` holding ``weight`` (out, in) and ``bias`` (out,):
    the book's ``Affine``, which reshapes an input (N, C, H, W) to (N, C·H·W) before x @ W + b."""
    return nn.Sequential(nn.Flatten(), linear(weight, bias))


def linear_relu(weight: torch.Tensor, bias: torch.Tensor) -> nn.Sequential:
    """:func:`flatten_linear` followed by ``nn.ReLU``: CS231n's affine → ReLU sandwich."""
    return nn.Sequential(*flatten_linear(weight, bias), nn.ReLU())


def dropout_module(p: float | None = None, training: bool = True) -> nn.Dropout:
    """``nn.Dropout(p)`` in training (or eval) mode; ``nn.Dropout()``, at PyTorch's default
    p = 0.5, when ``p`` is None."""
    return (nn.Dropout() if p is None else nn.Dropout(p)).train(training)


def dropout(x: torch.Tensor, p: float, training: bool, dout: torch.Tensor):
    """``nn.Dropout(p)`` on a leaf copy of ``x``, backpropagating ``dout``: (output, dx).

    Inverted dropout: in training a unit is kept with probability 1 − p and scaled by 1/(1 − p);
    in evaluation the layer is the identity. PyTorch draws the mask."""
    layer = dropout_module(p, training)
    x = x.detach().clone().requires_grad_(True)
    out = layer(x)
    out.backward(dout)
    return out.detach(), x.grad.detach()


def batchnorm1d(gamma: torch.Tensor, beta: torch.Tensor, momentum: float = 0.1, eps: float = 1e-5,
                running_var_init: float = 1.0, unbiased_running_var: bool = True) -> nn.BatchNorm1d:
    """``nn.BatchNorm1d`` with γ, β given; ``momentum`` is PyTorch's (the weight of the *new* batch
    statistic: the book's 0.9 is 0.1 here).

    ``running_var_init`` fills ``running_var`` before the first step (PyTorch starts at 1, the book
    at 0). PyTorch stores the unbiased batch variance in ``running_var``; ``unbiased_running_var=False``
    (the book, CS231n) has no PyTorch option, so a forward hook replaces the update with the biased
    variance by hand: running_var ← (1 − m)·running_var + m·var_biased(x)."""
    layer = nn.BatchNorm1d(gamma.shape[0], eps=eps, momentum=momentum).to(dtype=gamma.dtype, device=gamma.device)
    with torch.no_grad():
        layer.weight.copy_(gamma)
        layer.bias.copy_(beta)
        layer.running_var.fill_(running_var_init)
    if not unbiased_running_var:
        biased_running_var(layer, momentum, dims=(0,))
    return layer


def biased_running_var(layer: nn.Module, momentum: float, dims) -> nn.Module:
    """Make a batch-norm module store the *biased* batch variance over ``dims`` in ``running_var``
    (the book, CS231n): running_var ← (1 − m)·running_var + m·var_biased(x). PyTorch has no such
    option (it stores the unbiased one), so forward hooks redo the update by hand."""
    saved = {}

    def before(module, args):
        saved["var"] = module.running_var.detach().clone()

    def after(module, args, output):
        if module.training:
            biased = args[0].detach().var(dim=dims, unbiased=False)
            # a new tensor, not copy_: autograd saved the old one for the backward pass
            module.running_var = (1 - momentum) * saved["var"] + momentum * biased

    layer.register_forward_pre_hook(before)
    layer.register_forward_hook(after)
    return layer


def batchnorm1d_at_defaults(num_features: int) -> nn.BatchNorm1d:
    """``nn.BatchNorm1d(num_features)`` with nothing else given: PyTorch's defaults, momentum 0.1
    (the weight of the new batch statistic), ε = 1e-5, γ = 1, β = 0, running variance from 1."""
    return nn.BatchNorm1d(num_features)


def forward_backward(module: nn.Module, x: torch.Tensor, dout: torch.Tensor):
    """Apply ``module`` to a leaf copy of ``x`` and backpropagate ``dout``: (output, dx)."""
    x = x.detach().clone().requires_grad_(True)
    out = module(x)
    out.backward(dout)
    return out.detach(), x.grad.detach()
