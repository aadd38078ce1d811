"""Sequence losses as a PyTorch user writes them: ``nn.CrossEntropyLoss(ignore_index=…)`` on the
flattened (N·T, V) scores (the book's ``TimeSoftmaxWithLoss``), and CS231n's masked
``temporal_softmax_loss`` from the unreduced ``F.cross_entropy``. Dropout over (N, T, D) is
``nn.Dropout`` (:func:`torch_ref.layers.dropout`), the time-distributed affine layer ``nn.Linear``
on the last axis (:func:`torch_ref.layers.linear`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def time_softmax_with_loss(scores: torch.Tensor, targets: torch.Tensor, ignore_index: int = -1) -> torch.Tensor:
    """``nn.CrossEntropyLoss(ignore_index=ignore_index)`` on scores (N, T, V) and labels (N, T):
    the mean of −log softmax over the positions whose label is not ``ignore_index``."""
    V = scores.shape[-1]
    return nn.CrossEntropyLoss(ignore_index=ignore_index)(scores.reshape(-1, V), targets.reshape(-1))


def temporal_softmax_loss(scores: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """CS231n's masked loss: ``F.cross_entropy(…, reduction='none')`` at every position, times the
    mask, summed, divided by the batch size N (not by the number of unmasked positions)."""
    N, T, V = scores.shape
    losses = F.cross_entropy(scores.reshape(-1, V), targets.reshape(-1), reduction="none").reshape(N, T)
    return (losses * mask).sum() / N
