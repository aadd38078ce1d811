"""Numerical differentiation (수치 미분), gradients (기울기) and gradient descent (경사하강법).

The derivative is the limit f'(x) = lim_{h→0} (f(x + h) − f(x)) / h. A computer cannot take the
limit: it uses a small but finite h, and two errors pull in opposite directions.

* truncation error: the forward difference (f(x+h) − f(x))/h is off by about h·f''/2; the
  central difference (f(x+h) − f(x−h))/(2h) by about h²·f'''/6 (미분의 오차를 줄이는 중심 차분);
* rounding error: f(x+h) − f(x) loses digits when h is tiny; in float64 it grows like ε/h with
  ε ≈ 2.2e-16. h = 1e-50 even rounds to 0 in x + h.

The book's choice h = 1e-4 balances the two for the central difference.
"""

from __future__ import annotations

import numpy as np

from ._checks import as_float_array, check_callable, check_int, check_positive, check_same_shape, gradient_at

_METHODS = ("central", "forward")


def numerical_diff(f, x, h: float = 1e-4, method: str = "central"):
    """Derivative of a scalar function of one variable at ``x``.

    central: (f(x + h) − f(x − h)) / 2h      forward: (f(x + h) − f(x)) / h
    """
    check_callable(f, "f")
    as_float_array(x, "x")  # checked only: x goes to f as it was given
    check_positive(h, "h")
    if method == "central":
        return (f(x + h) - f(x - h)) / (2 * h)
    if method == "forward":
        return (f(x + h) - f(x)) / h
    raise ValueError(f"method must be one of {_METHODS}, got {method!r}")


def numerical_gradient(f, x, h: float = 1e-4):
    """Gradient of a scalar function ``f(x)`` for an ndarray ``x`` of any shape, by central differences.

    ∂f/∂xᵢ ≈ (f(x + h·eᵢ) − f(x − h·eᵢ)) / 2h for every element i (편미분 each in turn).

    ``x`` is perturbed in place, one element at a time, and restored, so ``f`` may close over
    ``x`` (as the book's networks do with their ``params``). This is the one loop over elements in
    the project: each element needs its own two evaluations of f.
    """
    check_callable(f, "f")
    check_positive(h, "h")
    if not isinstance(x, np.ndarray) or not np.issubdtype(x.dtype, np.floating):
        raise TypeError("x must be a floating-point ndarray (it is perturbed in place)")
    if not x.flags.writeable:
        raise ValueError("x is read-only, but it is perturbed in place")
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        original = x[idx]
        x[idx] = original + h
        f_plus = _scalar(f(x))
        x[idx] = original - h
        f_minus = _scalar(f(x))
        x[idx] = original
        grad[idx] = (f_plus - f_minus) / (2 * h)
    return grad


def _scalar(value):
    """f's value, which must be one real number (returned as f gave it)."""
    if as_float_array(value, "the value of f").size != 1:
        raise ValueError(f"f must return a scalar, got an array of shape {np.shape(value)}")
    return value


def relative_error(a, b):
    """CS231n's relative error of a gradient check: |a − b| / max(|a|, |b|), 0 where both are 0.

    Rule of thumb in float64: > 1e-2 the gradient is probably wrong; 1e-4…1e-2 uncomfortable;
    < 1e-7 fine for smooth functions (kinks such as ReLU's can give 1e-4 legitimately).
    """
    a = as_float_array(a, "a")
    b = as_float_array(b, "b")
    check_same_shape(a, b, "a", "b")
    diff = np.abs(a - b)
    scale = np.maximum(np.abs(a), np.abs(b))
    return np.divide(diff, scale, out=np.zeros_like(diff), where=scale > 0)


def gradient_descent(grad_f, init_x, lr: float, steps: int):
    """Gradient descent: x ← x − lr · ∇f(x), repeated ``steps`` times.

    Returns the whole path, an array of shape (steps + 1, *x.shape) starting with ``init_x``.
    Too large a learning rate (학습률) overshoots and diverges; too small barely moves.
    """
    check_callable(grad_f, "grad_f")
    check_positive(lr, "lr", allow_zero=True)
    steps = check_int(steps, "steps", minimum=0)
    x = as_float_array(init_x, "init_x").copy()
    path = [x.copy()]
    for _ in range(steps):
        x = x - lr * gradient_at(grad_f, x)
        path.append(x.copy())
    return np.array(path)
