"""Linear classifiers' losses by hand, as CS231n's assignment 1 writes them: the multiclass SVM
(hinge) loss on scores, and the SVM and softmax losses of a linear classifier s = X W with L2
regularisation, each returning (loss, gradient).

**The hinge's normalisation.** CS231n sums the margins of a sample over the wrong classes and
averages over the batch. ``nn.MultiMarginLoss`` also divides each sample's sum by the number of
classes C, so CS231n's loss is C times PyTorch's (``divide_by_classes`` selects PyTorch's).

**The regulariser's factor.** CS231n's assignment 1 adds reg·ΣW² since 2017 (gradient 2·reg·W);
its 2015–2016 versions, and its assignment 2 networks in every year, add ½·reg·ΣW² (gradient
reg·W). ``reg_factor`` is that factor: 1 or 0.5. In PyTorch the ½ form is SGD's
``weight_decay = reg``; the other is ``weight_decay = 2·reg``.
"""

from __future__ import annotations

import numpy as np

from ._checks import as_float_array, check_flag, check_labels, check_ndim, check_positive, check_real
from .losses import softmax_cross_entropy, softmax_cross_entropy_grad


def _scores_and_labels(x, y):
    x = as_float_array(x, "x")
    check_ndim(x, 2, "x", "(N, C)")
    return x, check_labels(y, x.shape[1], "y", f"x{x.shape}")


def svm_loss(x, y, margin: float = 1.0, divide_by_classes: bool = False):
    """Multiclass SVM (hinge) loss of scores x (N, C) for labels y (N,), CS231n's ``svm_loss``:

        L = (1/N) Σₙ Σ_{j ≠ yₙ} max(0, xₙⱼ − xₙ,yₙ + Δ),   Δ = margin = 1

    dx: +1/N at every wrong class with a positive margin, −(their count)/N at the right class. A
    margin of exactly 0 counts as inactive (the subgradient 0, as PyTorch's). ``divide_by_classes``:
    PyTorch's ``nn.MultiMarginLoss``, which divides each sample's sum by C too. Returns (loss, dx)."""
    x, y = _scores_and_labels(x, y)
    check_real(margin, "margin")
    divide_by_classes = check_flag(divide_by_classes, "divide_by_classes")
    N, C = x.shape
    rows = np.arange(N)
    margins = np.maximum(0.0, x - x[rows, y][:, None] + margin)
    margins[rows, y] = 0.0
    active = (margins > 0).astype(x.dtype)
    active[rows, y] = -active.sum(axis=1)
    scale = N * C if divide_by_classes else N
    return margins.sum() / scale, active / scale


def _l2(W, reg, reg_factor):
    """(reg_factor·reg·ΣW², its gradient 2·reg_factor·reg·W)."""
    check_real(reg, "reg")
    check_positive(reg_factor, "reg_factor", allow_zero=True)
    return reg_factor * reg * np.sum(W * W), 2.0 * reg_factor * reg * W


def _linear(W, X, y):
    W, X = as_float_array(W, "W"), as_float_array(X, "X")
    check_ndim(W, 2, "W", "(D, C)")
    check_ndim(X, 2, "X", f"(N, {W.shape[0]})")
    if X.shape[1] != W.shape[0]:
        raise ValueError(f"X must be of shape (N, {W.shape[0]}) to match W{W.shape}, got X{X.shape}")
    return W, X, X @ W


def linear_svm_loss(W, X, y, reg, reg_factor: float = 1.0):
    """CS231n's ``svm_loss_vectorized(W, X, y, reg)``: the hinge loss of the scores X W plus L2:

        L = svm_loss(X W, y) + reg_factor·reg·ΣW²,   dW = Xᵀ dscores + 2·reg_factor·reg·W

    Returns (loss, dW)."""
    W, X, scores = _linear(W, X, y)
    data_loss, dscores = svm_loss(scores, y)
    reg_loss, dreg = _l2(W, reg, reg_factor)
    return data_loss + reg_loss, X.T @ dscores + dreg


def linear_softmax_loss(W, X, y, reg, reg_factor: float = 1.0):
    """CS231n's ``softmax_loss_vectorized(W, X, y, reg)``: the mean cross-entropy of softmax(X W)
    plus L2:

        L = −(1/N) Σₙ log softmax(Xₙ W)[yₙ] + reg_factor·reg·ΣW²,   dW = Xᵀ (softmax − onehot)/N + 2·reg_factor·reg·W

    Returns (loss, dW)."""
    W, X, scores = _linear(W, X, y)
    y = check_labels(y, W.shape[1], "y", f"the scores X W of shape {scores.shape}")
    reg_loss, dreg = _l2(W, reg, reg_factor)
    return softmax_cross_entropy(scores, y) + reg_loss, X.T @ softmax_cross_entropy_grad(scores, y) + dreg
