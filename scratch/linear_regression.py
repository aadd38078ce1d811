"""Linear regression (선형 회귀) y = a·x + b, fitted by gradient descent in NumPy.

The parameters are a and b; learning moves them toward the target function's a*, b*. With the
squared error over a batch of n points,

    J(a, b) = (1/n) Σ (a·xᵢ + b − yᵢ)²,   ∂J/∂a = (2/n) Σ eᵢ·xᵢ,   ∂J/∂b = (2/n) Σ eᵢ,   eᵢ = a·xᵢ + b − yᵢ,

and with the absolute error J = (1/n) Σ |eᵢ| the gradients are (1/n) Σ sign(eᵢ)·xᵢ and
(1/n) Σ sign(eᵢ): every point pulls with the same strength, however far away, so an outlier
(아웃라이어) moves the fit much less.
"""

from __future__ import annotations

import numpy as np

from ._checks import as_float_array, check_positive, check_real, check_same_shape
from .losses import _sign


def predict(x, a, b):
    """ŷ = a·x + b."""
    x = as_float_array(x, "x")
    return check_real(a, "a") * x + check_real(b, "b")


def squared_error_and_grads(x, y, a, b):
    """Return (J, ∂J/∂a, ∂J/∂b) for the mean squared error on the batch (x, y)."""
    x, y = _batch(x, y)
    e = predict(x, a, b) - y
    return np.mean(e**2), 2.0 * np.mean(e * x), 2.0 * np.mean(e)


def absolute_error_and_grads(x, y, a, b):
    """Return (J, ∂J/∂a, ∂J/∂b) for the mean absolute error; sign(0) = 0 at the kink (and
    sign(NaN) = 0, as torch's; see :func:`scratch.losses._sign`)."""
    x, y = _batch(x, y)
    e = predict(x, a, b) - y
    s = _sign(e)
    return np.mean(np.abs(e)), np.mean(s * x), np.mean(s)


LOSSES = {"squared": squared_error_and_grads, "absolute": absolute_error_and_grads}


def fit(x, y, a0, b0, lr, batches, loss="squared"):
    """Gradient descent on (a, b) over the given batches, in order.

    ``batches`` is a sequence of index arrays (one per update), so the caller decides between
    full-batch, per-sample (SGD) and mini-batch updates and both sides can read one order.
    Returns arrays ``a``, ``b`` and ``losses`` with one entry per update (a and b after it,
    the loss before it).
    """
    check_positive(lr, "lr", allow_zero=True)
    if not isinstance(loss, str) or loss not in LOSSES:
        raise ValueError(f"loss must be one of {sorted(LOSSES)}, got {loss!r}")
    x, y = _batch(x, y)
    if x.ndim != 1:
        raise ValueError(f"x and y must be 1-D arrays of points, got x{x.shape}")
    loss_and_grads = LOSSES[loss]
    a, b = x.dtype.type(check_real(a0, "a0")), x.dtype.type(check_real(b0, "b0"))
    batches = [_batch_indices(idx, len(x), f"batches[{i}]") for i, idx in enumerate(_sequence(batches))]
    a_hist, b_hist, losses = [], [], []
    for idx in batches:
        J, da, db = loss_and_grads(x[idx], y[idx], a, b)
        a = a - lr * da
        b = b - lr * db
        a_hist.append(a)
        b_hist.append(b)
        losses.append(J)
    return np.array(a_hist), np.array(b_hist), np.array(losses)


def _batch(x, y):
    x = as_float_array(x, "x")
    y = as_float_array(y, "y").astype(x.dtype, copy=False)
    check_same_shape(x, y, "x", "y")
    if x.size == 0:
        raise ValueError(f"x and y must hold at least one point, got x{x.shape}")
    return x, y


def _sequence(batches):
    if isinstance(batches, (str, bytes)) or not hasattr(batches, "__iter__"):
        raise TypeError(f"batches must be a sequence of index arrays, got {type(batches).__name__}")
    return batches


def _batch_indices(idx, n, name):
    """One batch: a non-empty integer index array into the n points."""
    idx = np.asarray(idx)
    if idx.dtype.kind not in "iu" or idx.ndim != 1 or idx.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array of integer indices, got {idx!r}")
    if idx.min() < -n or idx.max() >= n:
        raise ValueError(f"{name} holds indices in [{idx.min()}, {idx.max()}], expected every index in [0, {n})")
    return idx
