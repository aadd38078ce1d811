"""Layer and group normalization as PyTorch provides them: ``nn.LayerNorm`` and ``nn.GroupNorm``,
differentiated by autograd.

    nn.LayerNorm(D, eps):       y = (x − E[x])/√(Var[x] + ε) · weight + bias over the last axis (biased Var)
    nn.GroupNorm(G, C, eps):    the same over each sample's group of C/G channels × spatial positions,
                                weight and bias per channel (C,)

``weight`` and ``bias`` are the textbook γ and β.
"""

from __future__ import annotations

import torch
from torch import nn


def _load_affine(module: nn.Module, gamma: torch.Tensor, beta: torch.Tensor) -> nn.Module:
    module = module.to(dtype=gamma.dtype, device=gamma.device)
    with torch.no_grad():
        module.weight.copy_(gamma)
        module.bias.copy_(beta)
    return module


def layer_norm(gamma: torch.Tensor, beta: torch.Tensor, eps: float = 1e-5) -> nn.LayerNorm:
    """``nn.LayerNorm(D, eps=eps)`` over the last axis, holding γ (``weight``) and β (``bias``), each (D,)."""
    return _load_affine(nn.LayerNorm(gamma.shape[0], eps=eps), gamma, beta)


def group_norm(num_groups: int, gamma: torch.Tensor, beta: torch.Tensor, eps: float = 1e-5) -> nn.GroupNorm:
    """``nn.GroupNorm(num_groups, C, eps=eps)`` for x (N, C, *), holding γ and β, each (C,)."""
    return _load_affine(nn.GroupNorm(num_groups, gamma.shape[0], eps=eps), gamma, beta)


def forward_backward(module: nn.Module, x: torch.Tensor, dout: torch.Tensor):
    """Apply ``module`` to a leaf copy of ``x``, backpropagate ``dout``: (output, dx, dweight, dbias)."""
    module.zero_grad()
    x = x.detach().clone().requires_grad_(True)
    out = module(x)
    out.backward(dout)
    return out.detach(), x.grad.detach(), module.weight.grad.detach(), module.bias.grad.detach()
