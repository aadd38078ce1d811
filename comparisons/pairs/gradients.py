"""The numerical gradient (kind ``function``): ``numerical_gradient(f, x)`` by central
differences, against autograd's exact gradient of the same function (``torch_ref.gradients``)."""

from __future__ import annotations

import numpy as np
import torch

import torch_ref.gradients as tgrad

from ._base import Comparison, Mistake, Pair, as_array, call


def drive_numerical_gradient(ctx, pair, fn, hparams, run):
    """``numerical_gradient(f, x)`` against autograd's exact gradient of the same f, at the
    gradient-check tolerance; and x must come back unchanged (f may close over it)."""
    out = []
    for label, (f_np, f_t, x0) in pair.inputs(ctx).items():
        x = np.array(x0, dtype=np.float64)  # finite differences with h = 1e-4 need float64
        grad = as_array(call(fn, f"numerical_gradient(f, x{x.shape})", lambda v: f_np(v, x), x), "its result")
        exact = tgrad.autograd_gradient(lambda v: f_t(v), torch.tensor(x0, dtype=torch.float64))
        out.append(Comparison(f"gradient, {label}", grad, exact, kind="gradcheck"))
        out.append(Comparison(f"x restored after the call, {label}", x, np.asarray(x0, dtype=np.float64)))
    run.notes.append("numerical gradients are judged in float64 at the gradient-check tolerance")
    return out


def inputs(ctx):
    """(f in NumPy, the same f in torch, x): the book's f(x0, x1) = x0² + x1² at (3, 4), (0, 2),
    (3, 0); a 2-D x (the book walks it with np.nditer); and f that ignores its argument and closes
    over x, as the book's networks do (``lambda W: self.loss(x, t)``), which only works when x is
    perturbed in place."""
    A = ctx.rng.normal(size=(5, 4))
    labels = ctx.rng.integers(0, 3, 5)
    W = ctx.rng.normal(size=(4, 3))

    def closes_over(_, x):
        z = A @ x
        z = z - z.max(1, keepdims=True)
        return float(np.mean(np.log(np.exp(z).sum(1)) - z[np.arange(5), labels]))

    cases = {f"x0² + x1² at {p}": (lambda v, x: float(np.sum(v ** 2)), tgrad.TEST_FUNCTIONS["sum of squares"], np.array(p, float))
             for p in ((3.0, 4.0), (0.0, 2.0), (3.0, 0.0))}
    cases["Σ sin(x)·x, x (3, 4)"] = (lambda v, x: float(np.sum(np.sin(v) * v)), tgrad.TEST_FUNCTIONS["sum of sin(x)·x"],
                                     ctx.rng.normal(size=(3, 4)))
    cases["log Σ exp(x), x (5,) (every partial derivative depends on every element)"] = (
        _log_sum_exp, tgrad.TEST_FUNCTIONS["log-sum-exp"], ctx.rng.normal(size=5))
    cases["log Σ exp(x), x (2, 3)"] = (_log_sum_exp, tgrad.TEST_FUNCTIONS["log-sum-exp"], ctx.rng.normal(size=(2, 3)))
    cases["a softmax loss closing over W (4, 3)"] = (closes_over, tgrad.softmax_loss_of(A, labels), W)
    return cases


def _log_sum_exp(v, x):
    """log Σ exp(v): its gradient softmax(v) depends on every element (Σx² does not tell f(x) from
    f(x[i]): x[i]² has the same derivative)."""
    v = np.asarray(v, dtype=np.float64)
    return float(np.log(np.sum(np.exp(v - v.max()))) + v.max())


def forward_difference(f, x, h=1e-4):
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        original = x[idx]
        fx = f(x)
        x[idx] = original + h
        grad[idx] = (f(x) - fx) / h
        x[idx] = original
    return grad


def one_element(f, x, h=1e-4):
    """f evaluated at the element alone, f(x[i] ± h), instead of at the whole x with x[i] moved."""
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        v = float(x[idx])
        grad[idx] = (f(np.array(v + h)) - f(np.array(v - h))) / (2 * h)
    return grad


def not_restored(f, x, h=1e-4):
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        original = x[idx]
        x[idx] = original + h
        f_plus = f(x)
        x[idx] = original - h
        grad[idx] = (f_plus - f(x)) / (2 * h)
    return grad


PAIRS = [
    Pair("numerical-gradient", "function", "gradients.numerical_gradient", tgrad.autograd_gradient,
         "a function numerical_gradient(f, x) -> ndarray of x's shape; f(x) -> float may close over x "
         "(perturb x in place and restore it)",
         drive_numerical_gradient, (), inputs,
         (Mistake("the forward difference (f(x + h) − f(x))/h: use the central difference (f(x + h) − f(x − h))/2h",
                  forward_difference),
          Mistake("x is not restored after each element: put the original value back", not_restored),
          Mistake("f is evaluated at the element alone, f(x[i] ± h): move x[i] inside x and evaluate f(x), the "
                  "function of every element", one_element)),
         ("numerical_gradient", "numerical_grad", "eval_numerical_gradient")),
]
