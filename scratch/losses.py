"""Loss functions (손실 함수) and their gradients with respect to the prediction, in NumPy.

``y`` is the network's output (prediction), ``t`` the target (정답 레이블). Batch losses are the
mean over the batch (평균 손실 함수) except the sum of squares, which the book defines as a sum.
Each ``*_grad`` returns ∂L/∂y with the shape of ``y``.
"""

from __future__ import annotations

import numpy as np

from ._checks import as_float_array, check_labels, check_positive, check_same_shape
from .activations import softmax


def sum_squared_error(y, t):
    """Sum of squares for error (오차제곱합, SSE): E = ½ Σₖ (yₖ − tₖ)²."""
    y, t = _pair(y, t)
    return 0.5 * np.sum((y - t) ** 2)


def sum_squared_error_grad(y, t):
    """∂E/∂y = y − t (the ½ cancels the 2 of the square)."""
    y, t = _pair(y, t)
    return y - t


def mean_squared_error(y, t):
    """Mean squared error (평균제곱오차, MSE): E = (1/n) Σ (y − t)² over all n elements."""
    y, t = _pair(y, t)
    return _mean((y - t) ** 2)


def mean_squared_error_grad(y, t):
    """∂E/∂y = 2(y − t)/n, evaluated as (2/n)·(y − t) as PyTorch does (2·(y − t) would overflow
    first for |y − t| above half the largest float)."""
    y, t = _pair(y, t)
    return (2.0 / y.size) * (y - t)


def mean_absolute_error(y, t):
    """Mean absolute error (평균절대오차, MAE): E = (1/n) Σ |y − t|. Less sensitive to outliers."""
    y, t = _pair(y, t)
    return _mean(np.abs(y - t))


def mean_absolute_error_grad(y, t):
    """∂E/∂y = sign(y − t)/n, with sign(0) = 0 (a subgradient; |·| has no derivative at 0) and
    sign(NaN) = 0 (see :func:`_sign`)."""
    y, t = _pair(y, t)
    return _sign(y - t) / y.size


def _sign(x):
    """sign(x): −1, 0 or 1, and 0 at NaN, as ``torch.sign`` and the gradient of ``torch.abs``
    (``np.sign`` gives NaN there). The derivative of |x|, taken as 0 at the kink x = 0."""
    x = as_float_array(x, "x")
    return np.where(np.isnan(x), 0.0, np.sign(x)).astype(x.dtype)


def cross_entropy_error(y, t, delta: float = 1e-7):
    """Cross-entropy error (교차 엔트로피 오차, CEE) on probabilities, mean over the batch.

    E = −(1/N) Σₙ Σₖ tₙₖ log(yₙₖ + δ)

    ``y`` holds probabilities, shape (N, K) or (K,) for one sample. ``t`` is one-hot (same shape
    as ``y``) or integer labels (shape (N,) or a scalar). δ = 1e-7 keeps log(0) = −inf away, as the
    book writes it; δ = 0 is the exact definition PyTorch uses (``nn.NLLLoss`` on ``log y``).
    """
    y, t_onehot = _probabilities_and_onehot(y, t)
    check_positive(delta, "delta", allow_zero=True)
    with np.errstate(divide="ignore"):
        log_y = np.log(y + delta)
    picked = np.where(t_onehot != 0, t_onehot * log_y, 0.0)  # 0·log 0 counts as 0
    return _batch_mean(-np.sum(picked), y.shape[0])


def cross_entropy_error_grad(y, t, delta: float = 1e-7):
    """∂E/∂y = −t / (N (y + δ)), with the shape of y."""
    shape = np.shape(y)
    y, t_onehot = _probabilities_and_onehot(y, t)
    check_positive(delta, "delta", allow_zero=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        grad = -t_onehot / (y + delta)
    grad = np.where(t_onehot != 0, grad, 0.0)
    return (grad / y.shape[0]).reshape(shape)


def softmax_cross_entropy(logits, t):
    """Softmax-with-loss on raw scores, mean over the batch.

    E = −(1/N) Σₙ log softmax(xₙ)[tₙ], with log softmax(x)ₖ = xₖ − max(x) − log Σᵢ exp(xᵢ − max(x)).

    Computing log-softmax directly (log-sum-exp) never takes log(0), so no δ is needed.
    ``t`` is one-hot (same shape as ``logits``) or integer labels. A class with t = 0 adds nothing,
    even at a logit of −∞ (0·log 0 = 0), as torch's loss on labels (torch's soft-target form
    multiplies and gives nan there).
    """
    x, t_onehot = _logits_and_onehot(logits, t)
    shifted = x - np.max(x, axis=1, keepdims=True, initial=-np.inf)
    with np.errstate(invalid="ignore", divide="ignore"):  # an empty row: log 0, as torch's nan
        log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
        picked = np.where(t_onehot != 0, t_onehot * log_probs, 0.0)
    return _batch_mean(-np.sum(picked), x.shape[0])


def softmax_cross_entropy_grad(logits, t):
    """∂E/∂x = (softmax(x)·Σₖtₖ − t)/N, with the shape of x. For one-hot t, or any t whose rows
    sum to 1, it is the famously clean gradient of softmax-with-loss, (softmax(x) − t)/N."""
    shape = np.shape(logits)
    x, t_onehot = _logits_and_onehot(logits, t)
    return ((softmax(x, axis=1) * t_onehot.sum(axis=1, keepdims=True) - t_onehot) / x.shape[0]).reshape(shape)


def binary_cross_entropy(y, t):
    """Binary cross-entropy (이진 교차 엔트로피): E = −mean(t log y + (1 − t) log(1 − y)).

    As in PyTorch's ``nn.BCELoss``, each log is clamped at −100 so that y ∈ {0, 1} gives a large
    finite loss instead of inf.
    """
    y, t = _pair(y, t)
    _check_probabilities(y, "y")
    _check_probabilities(t, "t")
    with np.errstate(divide="ignore"):
        log_y = np.maximum(np.log(y), -100.0)
        log_1my = np.maximum(np.log1p(-y), -100.0)
    return -_mean(t * log_y + (1.0 - t) * log_1my)


def binary_cross_entropy_grad(y, t):
    """∂E/∂y = (y − t) / (n · y(1 − y)); the denominator is clamped at 1e-12 as PyTorch does."""
    y, t = _pair(y, t)
    _check_probabilities(y, "y")
    _check_probabilities(t, "t")
    return (y - t) / np.maximum(y * (1.0 - y), 1e-12) / y.size


# --- helpers -------------------------------------------------------------------------------------


def _pair(y, t):
    y = as_float_array(y, "y")
    t = as_float_array(t, "t").astype(y.dtype, copy=False)
    check_same_shape(y, t, "y", "t")
    return y, t


def _mean(e):
    """The mean of the elements; nan for no elements (as torch's mean reduction), without a warning."""
    return _batch_mean(np.sum(e), e.size)


def _batch_mean(total, n):
    with np.errstate(invalid="ignore"):
        return total / n if n else total * np.nan


def _check_probabilities(y, name):
    if np.any((y < 0) | (y > 1)) or np.any(np.isnan(y)):
        raise ValueError(f"{name} must hold probabilities in [0, 1] (all elements of {name} should be between 0 and 1)")


def _as_batch(y, t, name="y"):
    """Promote one sample (K,) to a batch (1, K), as the book's ``y.reshape(1, y.size)``."""
    if y.ndim == 1:
        y = y.reshape(1, -1)
        t = np.asarray(t)
        if t.size == y.size:
            t = t.reshape(1, -1)
        elif t.ndim == 0:
            t = t.reshape(1)
    if y.ndim != 2:
        raise ValueError(f"{name} must be a batch of shape (N, K) or one sample of shape (K,), got {name}{y.shape}")
    if y.shape[1] == 0:
        raise ValueError(f"{name} must have at least one class (K >= 1), got {name}{y.shape}")
    return y, t


def _onehot(y, t, name="y"):
    """Return t as a one-hot (or soft) matrix of y's shape, from either form."""
    t = np.asarray(t)
    if t.shape == y.shape:
        return as_float_array(t, "t").astype(y.dtype, copy=False)
    if t.shape != (y.shape[0],):
        raise ValueError(
            f"t must be one-hot of shape {y.shape} or integer labels of shape ({y.shape[0]},) to match "
            f"{name}{y.shape}, got {t.shape}"
        )
    labels = check_labels(t, y.shape[1], "t", classes_of=f"{name}{y.shape}")
    onehot = np.zeros_like(y)
    onehot[np.arange(y.shape[0]), labels] = 1.0
    return onehot


def _probabilities_and_onehot(y, t):
    y = as_float_array(y, "y")
    y, t = _as_batch(y, t)
    _check_probabilities(y, "y")
    return y, _onehot(y, t)


def _logits_and_onehot(logits, t, name="logits"):
    x = as_float_array(logits, name)
    x, t = _as_batch(x, t, name)
    return x, _onehot(x, t, name)
