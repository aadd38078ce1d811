"""Loss functions as PyTorch provides them (``torch.nn`` losses), with gradients from autograd."""

from __future__ import annotations

import torch
from torch import nn


def sum_squared_error(y, t):
    """½ Σ (y − t)²: PyTorch has no SSE module; it is half of ``MSELoss(reduction='sum')``."""
    return 0.5 * nn.MSELoss(reduction="sum")(y, t)


def mean_squared_error(y, t):
    """mean (y − t)² over every element: ``MSELoss()`` (reduction 'mean')."""
    return nn.MSELoss()(y, t)


def mean_absolute_error(y, t):
    """mean |y − t| over every element: ``L1Loss()``; its gradient sign(y − t)/n is 0 at a tie."""
    return nn.L1Loss()(y, t)


def cross_entropy_error(y, labels, delta: float = 0.0):
    """Cross-entropy on probabilities: ``NLLLoss`` on ``log y`` (no δ: log(0) would be −inf).

    ``delta`` > 0 gives the book's form −mean log(y + δ): PyTorch has no such option, so δ is
    added to y before the log by hand."""
    return nn.NLLLoss()(torch.log(y + delta) if delta else torch.log(y), labels)


def softmax_cross_entropy(logits, labels, delta: float = 0.0):
    """Softmax-with-loss on raw scores: ``nn.CrossEntropyLoss`` (log-softmax + NLL in one).

    ``delta`` > 0 gives the book's ``SoftmaxWithLoss`` forward, −mean log(softmax(x) + δ), which
    PyTorch has no option for: softmax, then δ, then ``NLLLoss`` on the log."""
    if delta:
        return nn.NLLLoss()(torch.log(torch.softmax(logits, dim=1) + delta), labels)
    return nn.CrossEntropyLoss()(logits, labels)


def binary_cross_entropy(y, t):
    """``nn.BCELoss``: −mean(t log y + (1 − t) log(1 − y)), each log clamped at −100."""
    return nn.BCELoss()(y, t)


def value_and_grad(loss_fn, y: torch.Tensor, t: torch.Tensor):
    """Evaluate ``loss_fn(y, t)`` and its gradient with respect to ``y`` by autograd."""
    y = y.detach().clone().requires_grad_(True)
    loss = loss_fn(y, t)
    loss.backward()
    return loss.detach(), y.grad.detach()
