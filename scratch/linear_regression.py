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

from ._checks import as_float_array, check_positive, check_same_shape


def predict(x, a, b):
    """ŷ = a·x + b."""
    return a * as_float_array(x, "x") + b


def squared_error_and_grads(x, y, a, b):
    """Return (J, ∂J/∂a, ∂J/∂b) for the mean squared error on the batch (x, y)."""
    x, y = _batch(x, y)
    e = predict(x, a, b) - y
    return np.mean(e**2), 2.0 * np.mean(e * x), 2.0 * np.mean(e)


def absolute_error_and_grads(x, y, a, b):
    """Return (J, ∂J/∂a, ∂J/∂b) for the mean absolute error; sign(0) = 0 at the kink."""
    x, y = _batch(x, y)
    e = predict(x, a, b) - y
    s = np.sign(e)
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
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {sorted(LOSSES)}, got {loss!r}")
    x, y = _batch(x, y)
    loss_and_grads = LOSSES[loss]
    a, b = x.dtype.type(a0), x.dtype.type(b0)
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
    return x, y
