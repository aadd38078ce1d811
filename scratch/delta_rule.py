"""The delta rule (델타 규칙) for a single-layer sigmoid network, as the seed writes it.

One layer, no hidden units: y = σ(W·x) with W of shape (1, n) and a constant input 1 in x playing
the bias. For a sample (x, d) the generalised delta rule is

    e = d − y,    δ = σ′(v)·e = y(1 − y)(d − y),    ΔW = α·δ·x

which is exactly one step of gradient descent with learning rate α on the loss ½(d − y)²:
∂/∂W ½(d − y)² = −(d − y)·y(1 − y)·x, so W − α·∂L/∂W = W + α·δ·x.

Three ways to use it per epoch: SGD updates after every sample; batch averages ΔW over all samples
and updates once; mini-batch averages over each group of ``batch_size`` samples.
"""

from __future__ import annotations

import numpy as np

from ._checks import as_float_array, check_int, check_positive
from .activations import sigmoid

VARIANTS = ("sgd", "batch", "minibatch")


def delta(W, x, d, alpha):
    """ΔW for one sample or the mean ΔW over a batch: α·mean(δ·x) with δ = y(1 − y)(d − y)."""
    x, d = np.atleast_2d(as_float_array(x, "x")), np.atleast_1d(as_float_array(d, "d"))
    W, x, d = _check_data(W, x, d, ("W", "x", "d"))
    check_positive(alpha, "alpha")
    return _delta(W, x, d, alpha)


def _delta(W, x, d, alpha):
    y = sigmoid(x @ W.T)[:, 0]
    dlt = y * (1.0 - y) * (d - y)
    return alpha * (dlt[:, None] * x).mean(axis=0, keepdims=True)


def epoch(W, X, D, alpha, variant="sgd", batch_size=2):
    """One epoch over the samples in order; returns the new W (1, n)."""
    W, X, D = _check_data(W, X, D)
    check_positive(alpha, "alpha")
    return _epoch(W, X, D, alpha, _batch_size(variant, batch_size, len(X)))


def _epoch(W, X, D, alpha, batch_size):
    W = W.copy()
    for start in range(0, len(X), batch_size):
        # the mean ΔW of *this* batch: the accumulator starts from zero for every batch
        W = W + _delta(W, X[start:start + batch_size], D[start:start + batch_size], alpha)
    return W


def loss(W, X, D):
    """Mean over the samples of ½(d − y)²."""
    return _loss(*_check_data(W, X, D))


def _loss(W, X, D):
    y = sigmoid(X @ W.T)[:, 0]
    return float(np.mean(0.5 * (D - y) ** 2))


def train(W0, X, D, alpha=0.9, epochs=10_000, variant="sgd", batch_size=2):
    """Train from W0 (1, n); returns (W after every epoch (epochs, 1, n), loss after every epoch)."""
    W, X, D = _check_data(W0, X, D, ("W0", "X", "D"))
    W = W.copy()
    check_positive(alpha, "alpha")
    epochs = check_int(epochs, "epochs", minimum=0)
    batch_size = _batch_size(variant, batch_size, len(X))
    history, losses = [], []
    for _ in range(epochs):
        W = _epoch(W, X, D, alpha, batch_size)
        history.append(W)
        losses.append(_loss(W, X, D))
    return np.array(history), np.array(losses)


def train_two_layer(W1, W2, X, D, alpha=0.9, epochs=10_000):
    """Backprop on a sigmoid network without biases (the constant input plays the bias):
    h = σ(W1·x), y = σ(W2·h), per-sample SGD on ½(d − y)². W1 (hidden, n), W2 (1, hidden).

        δ₂ = y(1 − y)(d − y)      δ₁ = h(1 − h) ⊙ (W2ᵀ δ₂)      W2 += α·δ₂·hᵀ      W1 += α·δ₁·xᵀ

    Returns (W1 and W2 after every epoch, loss after every epoch)."""
    W1, W2 = as_float_array(W1, "W1").copy(), as_float_array(W2, "W2").copy()
    X, D = as_float_array(X, "X"), as_float_array(D, "D")
    if X.ndim != 2 or X.shape[0] == 0 or D.shape != (X.shape[0],) or W1.ndim != 2 or W1.shape[1] != X.shape[1] \
            or W2.shape != (1, W1.shape[0]):
        raise ValueError("expected W1 (hidden, n), W2 (1, hidden), X (N, n) with N >= 1 and D (N,); "
                         f"got W1{W1.shape}, W2{W2.shape}, X{X.shape}, D{D.shape}")
    check_positive(alpha, "alpha")
    epochs = check_int(epochs, "epochs", minimum=0)
    h1, h2, losses = [], [], []
    for _ in range(epochs):
        for x, d in zip(X, D):
            h = sigmoid(W1 @ x)
            y = sigmoid(W2 @ h)
            d2 = y * (1 - y) * (d - y)
            d1 = h * (1 - h) * (W2.T @ d2)
            W2 = W2 + alpha * np.outer(d2, h)
            W1 = W1 + alpha * np.outer(d1, x)
        h1.append(W1)
        h2.append(W2)
        y_all = sigmoid(W2 @ sigmoid(W1 @ X.T))[0]
        losses.append(float(np.mean(0.5 * (D - y_all) ** 2)))
    return np.array(h1), np.array(h2), np.array(losses)


def _check_data(W, X, D, names=("W", "X", "D")):
    """W (1, n), X (N, n) with N >= 1 and D (N,), as float arrays; the error names all three."""
    W, X, D = (as_float_array(a, name) for a, name in zip((W, X, D), names))
    if X.ndim != 2 or X.shape[0] == 0 or W.shape != (1, X.shape[1]) or D.shape != (X.shape[0],):
        w, x, d = names
        n = X.shape[1] if X.ndim == 2 else "n"
        raise ValueError(f"expected {w} (1, {n}), {x} (N, {n}) with N >= 1 and {d} (N,); "
                         f"got {w}{W.shape}, {x}{X.shape}, {d}{D.shape}")
    return W, X, D


def _batch_size(variant, batch_size, n):
    """The samples per update: 1 for "sgd", all n for "batch", ``batch_size`` (an integer >= 1)
    for "minibatch". batch_size is checked whichever the variant."""
    if not isinstance(variant, str) or variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    return {"sgd": 1, "batch": n, "minibatch": batch_size}[variant]
