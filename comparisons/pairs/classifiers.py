"""Linear classifiers' losses (kind ``loss``), as CS231n writes them: ``svm_loss(x, y) -> (loss,
dx)`` on scores, and assignment 1's ``svm_loss_naive/vectorized(W, X, y, reg)`` and
``softmax_loss_naive/vectorized(W, X, y, reg) -> (loss, dW)`` — against ``nn.MultiMarginLoss``
(times the number of classes C: PyTorch divides each sample's sum by C, CS231n does not) and
``nn.CrossEntropyLoss`` on X W, plus reg·ΣW² (``reg_factor`` 0.5: the ½·reg·ΣW² of CS231n's
2015–2016 assignment 1 and of its networks), dW by autograd."""

from __future__ import annotations

import numpy as np
import scratch.classifiers as SC
import torch_ref.classifiers as tcls

from ._base import Hparam, Mistake, Pair, shows
from ._styles import drive_value_and_gradient
from .layers import hard_coded


def hinge_inputs(ctx):
    """(scores (N, C), labels): a batch, one sample, three classes, and rows with a margin of
    exactly 0 (sⱼ − s_y + 1 = 0: the hinge's kink, where both sides take the subgradient 0)."""
    kinks = ctx.rng.normal(size=(6, 4))
    labels = ctx.rng.integers(0, 4, 6)
    rows = np.arange(6)
    kinks[rows, labels] = 1.0
    kinks[rows, (labels + 1) % 4] = 0.0
    return {"scores 8×5": (ctx.array(ctx.rng.normal(size=(8, 5))), ctx.rng.integers(0, 5, 8)),
            "scores 1×10": (ctx.array(ctx.rng.normal(size=(1, 10))), ctx.rng.integers(0, 10, 1)),
            "scores 32×3": (ctx.array(ctx.rng.normal(0, 2, (32, 3))), ctx.rng.integers(0, 3, 32)),
            "scores 6×4 with margins of exactly 0 (kinks)": (ctx.array(kinks), labels)}


def linear_inputs(ctx, offset: bool = False):
    """(W (D, C), X (N, D), y, reg): with and without regularisation, one sample, and (``offset``,
    for softmax) every score raised by 1000 (X's first feature 1000, W's first row all ones): an unshifted exp overflows,
    while the differences between a row's scores, all that softmax depends on, stay small (so
    log of a shifted softmax stays finite, as log-softmax)."""
    def case(d, c, n, reg, offset=0.0):
        W, X = ctx.rng.normal(0, 0.1, (d, c)), ctx.rng.normal(0, 1, (n, d))
        if offset:
            W[0], X[:, 0] = 1.0, offset
        return ctx.array(W), ctx.array(X), ctx.rng.integers(0, c, n), reg

    cases = {"W 6×4, X 10×6, reg 0.1": case(6, 4, 10, 0.1), "W 5×3, X 1×5, reg 0": case(5, 3, 1, 0.0),
             "W 8×5, X 20×8, reg 2.5": case(8, 5, 20, 2.5)}
    if offset:
        cases["W 4×3, X 6×4, every score + 1000, reg 0.5"] = case(4, 3, 6, 0.5, 1e3)
    return cases


def linear_term_scales(W, X, y, reg):
    """The size of the terms the loss and dW of a linear classifier are summed from: the scores
    |X|·|W| (the loss takes differences of them) plus reg·Σ W², and |X|ᵀ(softmax + onehot)/N + 2·reg·|W|
    (a bound on |X|ᵀ|dscores|/N for the hinge and the softmax alike). With scores of 1000 in
    float32 the two sides round them alike, but a gradient that cancels keeps their rounding."""
    W, X = np.asarray(W, dtype=np.float64), np.asarray(X, dtype=np.float64)
    scores = X @ W
    p = np.exp(scores - scores.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    onehot = np.eye(W.shape[1])[y]
    size = np.abs(X) @ np.abs(W)
    loss_scale = size.max(axis=1).mean() + abs(reg) * np.sum(W * W)
    return loss_scale, np.abs(X).T @ (p + onehot) / len(y) + 2 * abs(reg) * np.abs(W)


def _linear_loss(kind):
    def loss(W, X, labels, reg, reg_factor=1.0):
        return tcls.linear_classifier_loss(kind, W, X, labels, reg, reg_factor)

    loss.__doc__ = f"``torch_ref.classifiers.linear_classifier_loss({kind!r}, …)``"
    loss.__name__ = loss.__qualname__ = f"linear_{kind}_loss"
    return shows(loss, tcls.linear_classifier_loss)


# --- catalogued mistakes -----------------------------------------------------------------------------


def svm_counts_correct_class(x, y):
    """The right class is not skipped: its own margin Δ = 1 is added for every sample."""
    x = np.asarray(x)
    N = x.shape[0]
    margins = np.maximum(0.0, x - x[np.arange(N), y][:, None] + 1.0)
    active = (margins > 0).astype(x.dtype)
    active[np.arange(N), y] -= active.sum(axis=1)
    return margins.sum() / N, active / N


def svm_no_correct_class_gradient(x, y):
    """dx of the right class is left at 0: it must be −(the number of active margins)/N."""
    loss, dx = SC.svm_loss(x, y)
    dx[np.arange(len(y)), y] = 0.0
    return loss, dx


def _reg_gradient_halved(f):
    def wrong(W, X, y, reg):
        loss, dW = f(W, X, y, reg)
        return loss, dW - reg * np.asarray(W)

    wrong.__doc__ = "loss + reg·ΣW² but dW + reg·W: the gradient of reg·ΣW² is 2·reg·W"
    wrong.__name__ = f"{f.__name__}_reg_gradient_halved"
    return wrong


def linear_svm_not_averaged(W, X, y, reg):
    """dW of the data loss is not divided by N."""
    W, X = np.asarray(W), np.asarray(X)
    loss, _ = SC.linear_svm_loss(W, X, y, reg)
    _, dscores = SC.svm_loss(X @ W, y)
    return loss, X.T @ (dscores * len(y)) + 2 * reg * W


def linear_softmax_unshifted(W, X, y, reg):
    """softmax without subtracting the row's maximum: exp overflows to inf, inf/inf = nan."""
    scores = np.asarray(X) @ np.asarray(W)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        e = np.exp(scores)
        p = e / e.sum(axis=1, keepdims=True)
        N = scores.shape[0]
        loss = -np.mean(np.log(p[np.arange(N), y])) + reg * np.sum(np.asarray(W) ** 2)
    p[np.arange(N), y] -= 1
    return loss, np.asarray(X).T @ p / N + 2 * reg * np.asarray(W)


# --- declarations ------------------------------------------------------------------------------------

MARGIN = Hparam("margin", 1.0, "margin", aliases=("delta",))
BY_CLASSES = Hparam("divide_by_classes", 0, "divide_by_classes", to_torch=bool, choices=(0, 1))
REG_FACTOR = Hparam("reg_factor", 1.0, "reg_factor", choices=(1.0, 0.5))
_HALF = ("the regulariser is ½·reg·ΣW² (gradient reg·W), as CS231n's assignment 1 in 2015–2016 and its networks in "
         "every year; its assignment 1 since 2017 adds reg·ΣW² (gradient 2·reg·W)")
_REG_GRAD = ("the regulariser's gradient does not match its loss: reg·ΣW² has the gradient 2·reg·W (or write "
             "½·reg·ΣW², whose gradient is reg·W)")



def _linear_pair(kind, scratch_fn, what, mistake):
    """CS231n's assignment-1 loss ``<kind>_loss_naive/vectorized(W, X, y, reg) -> (loss, dW)``: the
    regulariser's two factors (a convention) and its mismatched gradient, and one mistake of its own."""
    return Pair(f"linear-{kind}-loss", "loss", f"classifiers.{scratch_fn.__name__}", _linear_loss(kind),
                f"a function {kind}_loss(W (D, C), X (N, D), y (N,), reg) -> (loss, dW): {what} plus reg·ΣW²",
                drive_value_and_gradient, (REG_FACTOR,), lambda ctx: linear_inputs(ctx, offset=kind == "softmax"),
                (Mistake(_HALF, hard_coded(scratch_fn, reg_factor=0.5), flag={"reg_factor": 0.5}),
                 Mistake(_REG_GRAD, _reg_gradient_halved(scratch_fn)), mistake),
                (f"{kind}_loss_naive", f"{kind}_loss_vectorized"), {"gradient": "dW", "scales": linear_term_scales})


PAIRS = [
    Pair("svm-loss", "loss", "classifiers.svm_loss", tcls.multiclass_svm_loss,
         "a function svm_loss(x (N, C), y (N,)) -> loss or (loss, dx): (1/N) Σₙ Σ_{j ≠ yₙ} max(0, xₙⱼ − xₙ,yₙ + 1)",
         drive_value_and_gradient, (MARGIN, BY_CLASSES), hinge_inputs,
         (Mistake("the right class is counted: its own margin max(0, s_y − s_y + 1) = 1 is added for every sample; "
                  "skip j = y", svm_counts_correct_class),
          Mistake("dx misses the right class: it gets −(the number of wrong classes with a positive margin)/N",
                  svm_no_correct_class_gradient),
          Mistake("each sample's sum is divided by the number of classes C (nn.MultiMarginLoss); CS231n's svm_loss "
                  "does not", hard_coded(SC.svm_loss, divide_by_classes=True), flag={"divide_by_classes": 1})),
         ("svm_loss", "multiclass_svm_loss", "hinge_loss")),
    _linear_pair("svm", SC.linear_svm_loss, "the multiclass SVM loss of the scores X W",
                 Mistake("dW is not divided by N: the data loss is a mean over the batch", linear_svm_not_averaged)),
    _linear_pair("softmax", SC.linear_softmax_loss, "the mean cross-entropy of softmax(X W)",
                 Mistake("softmax without the max shift: exp overflows to inf for large scores; subtract each row's "
                         "maximum first", linear_softmax_unshifted)),
]
