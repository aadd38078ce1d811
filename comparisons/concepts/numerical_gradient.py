"""Numerical differentiation and gradient checks against autograd; truncation against rounding."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

import torch_ref.gradients as tgrad

from .. import plots


def f1(x):
    return 0.01 * x**2 + 0.1 * x


def f2(x):
    return x[0] ** 2 + x[1] ** 2


def run(ctx):
    G = ctx.impl.gradients
    h = ctx.h

    for x0, expected in [(5.0, 0.2), (10.0, 0.3)]:
        with ctx.timed("numpy"):
            num = G.numerical_diff(f1, ctx.np_dtype(x0), h=h)
        with ctx.timed("torch"):
            auto = tgrad.autograd_gradient(f1, ctx.tensor(x0))
        ctx.compare(f"f(x)=0.01x²+0.1x: numerical vs autograd at x={x0:g}", num, auto, kind="gradcheck")
        ctx.value(f"numerical f'({x0:g})", float(num))
        ctx.compare(f"f(x)=0.01x²+0.1x: autograd at x={x0:g} = {expected}", auto, expected)

    for point, expected in [((3.0, 4.0), (6.0, 8.0)), ((0.0, 2.0), (0.0, 4.0)), ((3.0, 0.0), (6.0, 0.0))]:
        x = ctx.array(point)
        with ctx.timed("numpy"):
            num = G.numerical_gradient(f2, x, h=h)
        with ctx.timed("torch"):
            auto = tgrad.autograd_gradient(f2, ctx.tensor(point))
        ctx.compare(f"∇(x0²+x1²) at {point}: numerical vs autograd", num, auto, kind="gradcheck")
        ctx.compare(f"∇(x0²+x1²) at {point}: autograd = {expected}", auto, ctx.array(expected))
        ctx.finding(f"numerical_gradient leaves x unchanged at {point}", bool(np.all(x == ctx.array(point))))

    _matrix_gradcheck(ctx)
    sweep = _h_sweep(ctx)
    ctx.figure("error-vs-h", lambda: _plot_sweep(sweep))


def _matrix_gradcheck(ctx):
    """Gradient check on f(W) = Σ tanh(X W) for a 4×3 matrix W, the way one checks a layer."""
    G = ctx.impl.gradients
    X = ctx.array(ctx.rng.normal(size=(5, 4)))
    W = ctx.array(ctx.rng.normal(size=(4, 3)))
    num = G.numerical_gradient(lambda W_: float(np.sum(np.tanh(X @ W_))), W, h=ctx.h)
    auto = tgrad.autograd_gradient(lambda W_: torch.tanh(ctx.tensor(X) @ W_).sum(), ctx.tensor(W))
    bound = _central_difference_bound(ctx, X, W)
    rec = ctx.compare("gradient check of Σ tanh(XW) (matrix W)", num, auto, kind="gradcheck",
                      scale=bound / ctx.tolerance("gradcheck")[1])
    rec.note = (f"CS231n relative error {rec.max_rel_err:.1e}. An element passes within the usual tolerance or within "
                f"the central difference's own error bound (h²/6·|∂³f| + rounding/h, largest {bound.max():.1e})")
    rel = G.relative_error(num, ctx.numpy(auto))
    ctx.compare("relative_error = |a−b|/max(|a|,|b|)", rel,
                np.abs(num - ctx.numpy(auto)) / np.maximum(np.abs(num), np.abs(ctx.numpy(auto))))


def _central_difference_bound(ctx, X, W) -> np.ndarray:
    """A bound on |central difference − ∂f/∂W| for f(W) = Σ tanh(XW), element by element:

        truncation  h²/6 · max|∂³f/∂W_ij³| ≤ h²/6 · 2·Σ_n |X_ni|³      (|tanh‴| ≤ 2)
        rounding    δf/h with δf ≤ (N·K + 3)·u·N·K, u the unit roundoff (f: N·K terms, each |tanh| ≤ 1)
    """
    h, u = ctx.h, float(np.finfo(ctx.np_dtype).eps) / 2
    n_terms = X.shape[0] * W.shape[1]
    truncation = h**2 / 6 * 2 * np.sum(np.abs(X.astype(np.float64)) ** 3, axis=0)[:, None] * np.ones(W.shape)
    return truncation + (n_terms + 3) * u * n_terms / h


def _h_sweep(ctx):
    """Error of forward and central differences of f(x) = eˣ at x = 1 as h goes from 1e-1 to 1e-15."""
    G = ctx.impl.gradients
    x = ctx.np_dtype(1.0)
    exact = float(ctx.numpy(tgrad.autograd_gradient(torch.exp, ctx.tensor(1.0))))
    rows = []
    for k in range(1, 16):
        h = 10.0**-k
        fwd = float(G.numerical_diff(np.exp, x, h=h, method="forward"))
        cen = float(G.numerical_diff(np.exp, x, h=h, method="central"))
        rows.append({"h": h, "forward": fwd, "central": cen, "autograd": exact,
                     "forward error": abs(fwd - exact), "central error": abs(cen - exact)})
    frame = pd.DataFrame(rows)
    ctx.table("error-vs-h", frame)
    at_h = frame[np.isclose(frame.h, ctx.h)].iloc[0]
    ctx.value("forward error at the check h", float(at_h["forward error"]))
    ctx.value("central error at the check h", float(at_h["central error"]))
    ctx.finding("forward difference is worse than central at the gradient-check h",
                bool(at_h["forward error"] > 10 * at_h["central error"]),
                f"h = {ctx.h:g}: forward error {at_h['forward error']:.1e}, central {at_h['central error']:.1e}")
    if ctx.dtype == "float64":
        best_fwd = frame.h[frame["forward error"].idxmin()]
        best_cen = frame.h[frame["central error"].idxmin()]
        ctx.value("best forward h", float(best_fwd))
        ctx.value("best central h", float(best_cen))
        ctx.finding("best h: forward near √ε (1e-7…1e-9), central near ε^(1/3) (1e-4…1e-6)",
                    1e-9 <= best_fwd <= 1e-7 and 1e-6 <= best_cen <= 1e-4,
                    f"best forward h = {best_fwd:.0e}, best central h = {best_cen:.0e}")
    with np.errstate(invalid="ignore", divide="ignore"):
        lost = float(G.numerical_diff(f1, ctx.np_dtype(5.0), h=1e-50))
    ctx.value("derivative with h = 1e-50", lost)
    ctx.finding("h = 1e-50 is lost in rounding: no derivative survives", lost == 0.0 or np.isnan(lost),
                f"got {lost}: 5 + 1e-50 == 5, so f(x + h) − f(x − h) = 0 (in float32 h itself is 0, and 0/0 = nan)")
    return frame


def _plot_sweep(frame):
    fig, axes = plots.grid(1, 1, size=(6.4, 4.2))
    ax = axes[0]
    ax.loglog(frame.h, frame["forward error"].clip(lower=1e-17), "o-", label="forward (f(x+h) − f(x))/h")
    ax.loglog(frame.h, frame["central error"].clip(lower=1e-17), "s-", label="central (f(x+h) − f(x−h))/2h")
    ax.set_xlabel("step h (small on the left, large on the right)")
    ax.set_ylabel("|numerical − autograd|")
    ax.set_title("d/dx eˣ at x = 1: rounding error (left) against truncation error (right)", fontsize=10)
    ax.annotate("rounding: slope −1", xy=(1e-13, 1e-3), fontsize=8, color="gray")
    ax.annotate("truncation: slope 1 (forward), 2 (central)", xy=(1e-6, 1e-1), fontsize=8, color="gray", ha="center")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="lower left")
    return fig
