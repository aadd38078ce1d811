"""Derivatives by automatic differentiation, and gradient descent with ``torch.optim.SGD``."""

from __future__ import annotations

import torch

from .optim import minimize


def autograd_gradient(f, x: torch.Tensor) -> torch.Tensor:
    """∇f(x) by reverse-mode autograd: exact up to rounding, with no step size h."""
    x = x.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(f(x), x)
    return grad


def gradient_descent(f, init_x: torch.Tensor, lr: float, steps: int) -> torch.Tensor:
    """Minimise ``f`` with ``torch.optim.SGD``: each step is x ← x − lr·∇f(x).

    Returns the path, shape (steps + 1, *x.shape), starting with ``init_x``.
    """
    path, _ = minimize(f, init_x, lambda params: torch.optim.SGD(params, lr=lr), steps)
    return path


# Functions whose exact gradient a numerical gradient is compared with (``verify numerical-gradient``).
TEST_FUNCTIONS = {
    "sum of squares": lambda x: (x ** 2).sum(),
    "sum of sin(x)·x": lambda x: (torch.sin(x) * x).sum(),
    "log-sum-exp": lambda x: torch.logsumexp(x.reshape(-1), 0),  # each partial derivative depends on every element
}


def softmax_loss_of(A, labels):
    """W ↦ mean cross-entropy of softmax(A @ W) against ``labels``: ``nn.CrossEntropyLoss``."""
    A_t, labels_t = torch.as_tensor(A, dtype=torch.float64), torch.as_tensor(labels)

    def loss(W):
        return torch.nn.functional.cross_entropy(A_t @ W, labels_t)
    return loss
