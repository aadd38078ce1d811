"""Linear classifiers' losses as a PyTorch user writes them: ``nn.MultiMarginLoss`` (the
multiclass hinge) and ``nn.CrossEntropyLoss`` on the scores X W, plus an L2 penalty on W.

``nn.MultiMarginLoss`` divides each sample's sum of margins by the number of classes C; CS231n's
``svm_loss`` does not. :func:`multiclass_svm_loss` multiplies by C to give CS231n's number (and
says so). The L2 term is written into the loss, as CS231n does, rather than as an optimizer's
``weight_decay``: ``reg_factor``·reg·ΣW² has the gradient 2·reg_factor·reg·W, which SGD's
``weight_decay`` = 2·reg_factor·reg adds to the gradient instead.
"""

from __future__ import annotations

import torch
from torch import nn


def multiclass_svm_loss(scores: torch.Tensor, labels: torch.Tensor, margin: float = 1.0,
                        divide_by_classes: bool = False) -> torch.Tensor:
    """``nn.MultiMarginLoss(margin=margin)``: mean over the batch of Σ_{j ≠ y} max(0, margin − s_y + s_j) / C.
    Unless ``divide_by_classes``, times C: CS231n's svm_loss, (1/N) Σₙ Σ_{j ≠ yₙ} max(0, …)."""
    loss = nn.MultiMarginLoss(margin=margin)(scores, labels)
    return loss if divide_by_classes else loss * scores.shape[1]


def l2_penalty(W: torch.Tensor, reg: float, reg_factor: float = 1.0) -> torch.Tensor:
    """reg_factor·reg·ΣW² (CS231n: reg_factor 1 in assignment 1 since 2017, ½ before and in its networks)."""
    return reg_factor * reg * (W ** 2).sum()


def linear_classifier_loss(kind: str, W: torch.Tensor, X: torch.Tensor, labels: torch.Tensor, reg: float,
                           reg_factor: float = 1.0) -> torch.Tensor:
    """The loss of the linear classifier s = X W: ``kind`` 'svm' (:func:`multiclass_svm_loss`) or
    'softmax' (``nn.CrossEntropyLoss``), plus :func:`l2_penalty`. dW comes from autograd."""
    scores = X @ W
    data = multiclass_svm_loss(scores, labels) if kind == "svm" else nn.CrossEntropyLoss()(scores, labels)
    return data + l2_penalty(W, reg, reg_factor)
