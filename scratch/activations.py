"""Activation functions (활성화 함수) and their derivatives, by hand in NumPy.

Each function maps the total input of a neuron, ``a = x @ W + b``, to its output ``h(a)``. The
derivative functions (``*_grad``) return ``dh/da`` element by element; the layers in
``scratch.layers`` multiply them by the upstream gradient in ``backward``.

Conventions at the kinks follow PyTorch so the two sides can be compared exactly:
ReLU'(0) = 0, LeakyReLU'(0) = negative_slope, step'(x) = 0 everywhere (the derivative at 0 does
not exist; we use 0 there as well). At NaN too: ReLU'(NaN) = 1 (PyTorch blocks the gradient only
where the output is <= 0, and NaN <= 0 is false), LeakyReLU'(NaN) = negative_slope, ELU'(NaN) = 1.
"""

from __future__ import annotations

import numpy as np

from ._checks import as_float_array, check_axis, check_positive, check_real, check_shape


def step(x):
    """Step function (계단 함수): h(x) = 1 if x > 0 else 0."""
    x = as_float_array(x, "x")
    return (x > 0).astype(x.dtype)


def step_grad(x):
    """Derivative of the step function: 0 everywhere (undefined at 0, taken as 0)."""
    x = as_float_array(x, "x")
    return np.zeros_like(x)


def identity(x):
    """Identity function (항등 함수): h(x) = x. Used at the output of a regression network."""
    return as_float_array(x, "x").copy()


def identity_grad(x):
    """Derivative of the identity: 1 everywhere."""
    return np.ones_like(as_float_array(x, "x"))


def sigmoid(x):
    """Sigmoid (시그모이드), the logistic function: σ(x) = 1 / (1 + exp(−x)).

    Written in the form that never overflows: with z = exp(−|x|) ≤ 1,
    σ(x) = 1 / (1 + z) for x ≥ 0 and σ(x) = z / (1 + z) for x < 0.
    """
    x = as_float_array(x, "x")
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))


def sigmoid_grad(x):
    """σ'(x) = σ(x)(1 − σ(x)). Its largest value is 0.25, at x = 0."""
    y = sigmoid(x)
    return y * (1.0 - y)


def tanh(x):
    """Hyperbolic tangent (하이퍼볼릭탄젠트): tanh(x) = (eˣ − e⁻ˣ)/(eˣ + e⁻ˣ) = 2σ(2x) − 1. Zero-centred."""
    return np.tanh(as_float_array(x, "x"))


def tanh_grad(x):
    """tanh'(x) = 1 − tanh(x)², evaluated as (1 − y)(1 + y) with y = tanh(x).

    Where tanh saturates (|y| → 1), 1 − y·y subtracts two nearly equal numbers and keeps only the
    rounding error of y·y (up to ~1e-9 relative error at |x| ≈ 9 in float64). 1 − y is exact for
    y ≥ ½, so the factored form loses nothing; it also agrees with PyTorch's kernel, which
    evaluates 1 − y·y with one fused multiply-add.
    """
    y = tanh(x)
    return tanh_grad_from_output(y)


def tanh_grad_from_output(y):
    """1 − y² as (1 − y)(1 + y), given the output y = tanh(x)."""
    y = as_float_array(y, "y")
    return (1.0 - y) * (1.0 + y)


def relu(x):
    """Rectified linear unit: ReLU(x) = max(0, x)."""
    x = as_float_array(x, "x")
    return np.maximum(x, 0.0).astype(x.dtype)


def relu_grad(x):
    """ReLU'(x) = 0 if x <= 0 else 1 (0 at x = 0, as PyTorch; 1 at NaN, as PyTorch, whose backward
    blocks the gradient where the output is <= 0: the book's ``mask = (x <= 0)`` does the same)."""
    x = as_float_array(x, "x")
    return (~(x <= 0)).astype(x.dtype)


def leaky_relu(x, negative_slope: float = 0.01):
    """Leaky ReLU: x if x > 0 else negative_slope · x."""
    x = as_float_array(x, "x")
    check_real(negative_slope, "negative_slope")
    return np.where(x > 0, x, negative_slope * x).astype(x.dtype)


def leaky_relu_grad(x, negative_slope: float = 0.01):
    """Leaky ReLU'(x) = 1 if x > 0 else negative_slope (negative_slope at x = 0, as PyTorch)."""
    x = as_float_array(x, "x")
    check_real(negative_slope, "negative_slope")
    return np.where(x > 0, 1.0, negative_slope).astype(x.dtype)


def elu(x, alpha: float = 1.0):
    """Exponential linear unit: x if x > 0 else α(eˣ − 1)."""
    x = as_float_array(x, "x")
    check_positive(alpha, "alpha", allow_zero=True)
    # exp is evaluated only where it is used, so large positive x cannot overflow.
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0))).astype(x.dtype)


def elu_grad(x, alpha: float = 1.0):
    """ELU'(x) = α·eˣ if x ≤ 0 else 1 (torch's test, so a NaN gets 1 as in torch)."""
    x = as_float_array(x, "x")
    check_positive(alpha, "alpha", allow_zero=True)
    return np.where(x <= 0, alpha * np.exp(np.minimum(x, 0.0)), 1.0).astype(x.dtype)


def maxout(x, W, b):
    """Maxout with k pieces: h(x)_j = max_i (x @ W[i] + b[i])_j.

    Shapes: x (N, in), W (k, in, out), b (k, out) → (N, out). ReLU is the special case of two
    pieces where one piece is fixed at zero.
    """
    x = as_float_array(x, "x")
    W = as_float_array(W, "W")
    b = as_float_array(b, "b")
    if x.ndim != 2 or W.ndim != 3 or b.shape != (W.shape[0], W.shape[2]) or x.shape[1] != W.shape[1]:
        raise ValueError(
            "maxout expects x (N, in), W (k, in, out) and b (k, out); "
            f"got x{x.shape}, W{W.shape}, b{b.shape}"
        )
    pieces = np.einsum("ni,kio->nko", x, W) + b  # (N, k, out)
    return pieces.max(axis=1)


def softmax(x, axis: int = -1):
    """Softmax (소프트맥스): yₖ = exp(xₖ − C) / Σᵢ exp(xᵢ − C) with C = max(x).

    Subtracting any constant C leaves the result unchanged (multiply numerator and denominator by
    e^(−C)); choosing the maximum keeps every exponent ≤ 0, so nothing overflows.
    As in torch, an empty axis gives an empty result and a 0-d x is a vector of one element (→ 1).
    """
    x, axis, shape = _with_axis(x, axis)
    shifted = x - np.max(x, axis=axis, keepdims=True, initial=-np.inf)
    e = np.exp(shifted)
    return (e / np.sum(e, axis=axis, keepdims=True)).reshape(shape)


def softmax_naive(x, axis: int = -1):
    """Softmax without the shift: exp(x) / Σ exp(x). Overflows to nan for inputs like 1010."""
    x, axis, shape = _with_axis(x, axis)
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(x)
        return (e / np.sum(e, axis=axis, keepdims=True)).reshape(shape)


def softmax_backward(y, dout, axis: int = -1):
    """Vector-Jacobian product of softmax: dx = y ⊙ (dout − Σ(dout ⊙ y)), given y = softmax(x)."""
    y, axis, shape = _with_axis(y, axis, "y")
    dout = as_float_array(dout, "dout")
    check_shape(dout, shape, "dout", " (the shape of y)")
    dout = dout.reshape(y.shape)
    return (y * (dout - np.sum(dout * y, axis=axis, keepdims=True))).reshape(shape)


def _with_axis(x, axis, name="x"):
    """(x as a float array of at least one dimension, the checked axis, x's own shape).

    A 0-d x is taken as a vector of one element, as torch does for ``dim`` on a 0-d tensor."""
    x = as_float_array(x, name)
    return x.reshape(x.shape or (1,)), check_axis(axis, x.ndim), x.shape
