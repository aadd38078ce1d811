"""Activations as PyTorch provides them: ``torch.nn`` modules, differentiated by autograd."""

from __future__ import annotations

import torch
from torch import nn


def module(name: str, **kwargs) -> nn.Module:
    """The ``torch.nn`` module for an activation name (``negative_slope``/``alpha`` pass through)."""
    factories = {
        "identity": nn.Identity,
        "sigmoid": nn.Sigmoid,
        "tanh": nn.Tanh,
        "relu": lambda grad_at_zero=0.0: nn.ReLU() if grad_at_zero == 0 else ReLUOneAtZero(),
        "leaky_relu": lambda negative_slope=0.01: nn.LeakyReLU(negative_slope),
        "elu": lambda alpha=1.0: nn.ELU(alpha),
        "softmax": lambda: nn.Softmax(dim=-1),
        "step": Step,
        "gelu": gelu,
    }
    if name not in factories:
        raise ValueError(f"unknown activation {name!r}; expected one of {sorted(factories)}")
    return factories[name](**kwargs)


def gelu(approximate: str = "none") -> nn.GELU:
    """``nn.GELU(approximate=…)``: 'none' is x·Φ(x) = ½x(1 + erf(x/√2)); 'tanh' is
    ½x(1 + tanh(√(2/π)(x + 0.044715x³))) (PyTorch's documented tanh form, GPT-2's)."""
    return nn.GELU(approximate=approximate)


class ReLUOneAtZero(nn.Module):
    """ReLU written as ``torch.where(x >= 0, x, 0)``: the same values as ``nn.ReLU``, but autograd
    differentiates the branch that was taken, so the derivative at exactly 0 is 1, not 0.

    This is the convention of the book's ``relu_grad`` (``grad[x >= 0] = 1``) and of a ReLU layer
    whose mask is ``x < 0``. PyTorch's own ReLU uses 0 at 0 (``threshold_backward``: x > 0).
    """

    def forward(self, x):
        return torch.where(x >= 0, x, torch.zeros((), dtype=x.dtype, device=x.device))


def derivative(name: str, x: torch.Tensor, **kwargs) -> torch.Tensor:
    """h'(x) element by element: autograd of the activation module, backpropagating ones."""
    _, grad = forward_backward(module(name, **kwargs), x, torch.ones_like(x))
    return grad


class Step(nn.Module):
    """The step function h(x) = 1 if x > 0 else 0, through ``torch.heaviside(x, 0)``.

    PyTorch has no step activation module; ``torch.heaviside`` has no derivative in autograd
    (it raises on backward), because the true derivative is 0 almost everywhere: the step function
    cannot be trained by gradient descent, which is why networks use sigmoid instead.
    """

    def forward(self, x):
        return torch.heaviside(x, torch.zeros((), dtype=x.dtype, device=x.device))


class Maxout(nn.Module):
    """Maxout with k pieces as a PyTorch user writes it: one ``nn.Linear(in, k·out)`` and ``amax``.

    PyTorch has no Maxout module. Output j is the maximum over the k pieces of linear unit
    (i·out + j). ``amax`` shares the gradient equally between tied maxima; ties have probability 0
    for real-valued inputs.
    """

    def __init__(self, in_features: int, out_features: int, pieces: int):
        super().__init__()
        self.pieces, self.out_features = pieces, out_features
        self.linear = nn.Linear(in_features, pieces * out_features)

    def forward(self, x):
        z = self.linear(x).view(x.shape[0], self.pieces, self.out_features)
        return z.amax(dim=1)


def forward_backward(fn, x: torch.Tensor, dout: torch.Tensor):
    """Apply ``fn`` to a leaf copy of ``x`` and backpropagate ``dout``; returns (y, dy/dx·dout)."""
    x = x.detach().clone().requires_grad_(True)
    y = fn(x)
    y.backward(dout)
    return y.detach(), x.grad.detach()
