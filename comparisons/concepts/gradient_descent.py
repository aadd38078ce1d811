"""Gradient descent step by step against torch.optim.SGD; learning rates too large and too small."""

from __future__ import annotations

import numpy as np
import pandas as pd

import torch_ref.gradients as tgrad

from .. import plots
from ..lockstep import lockstep_history
from ..training import free_running


def f_1d(x):
    return (x - 1) ** 2 / 10


def df_1d(x):
    return (x - 1) / 5


def f_2d(x):
    return (x**2).sum()


def df_2d(x):
    return 2 * x


def run(ctx):
    G = ctx.impl.gradients
    paths = {}
    setups = [
        ("(x-1)²/10 from 10, lr 1", f_1d, df_1d, [10.0], 1.0, 100),
        ("x0²+x1² from (-3,4), lr 0.1", f_2d, df_2d, [-3.0, 4.0], 0.1, 100),
        ("x0²+x1² from (-3,4), lr 10", f_2d, df_2d, [-3.0, 4.0], 10.0, 100),
        ("x0²+x1² from (-3,4), lr 1e-10", f_2d, df_2d, [-3.0, 4.0], 1e-10, 100),
    ]
    for label, f, df, x0, lr, steps in setups:
        with ctx.timed("numpy"), np.errstate(over="ignore", invalid="ignore"):  # lr 10 is meant to blow up
            path_np = G.gradient_descent(df, ctx.array(x0), lr=lr, steps=steps)
        with ctx.timed("torch"):
            path_t = ctx.numpy(tgrad.gradient_descent(f, ctx.tensor(x0), lr=lr, steps=steps))

        def one_step(_, state, df=df, lr=lr):
            with np.errstate(over="ignore", invalid="ignore"):
                return (G.gradient_descent(df, ctx.array(state[0]), lr=lr, steps=1)[1],)

        lockstep_history(ctx, label, (path_t[0],), [(p,) for p in path_t[1:]], one_step, ("x after the step",))
        if free_running(ctx):
            ctx.compare(f"{label}: every step (free-running)", path_np, path_t, kind="trained")
        paths[label] = (path_np, path_t)

    final = {k: v[0][-1] for k, v in paths.items()}
    ctx.finding("(x-1)²/10: x → 1 (x − 1 = 9·0.8¹⁰⁰)", bool(abs(final["(x-1)²/10 from 10, lr 1"][0] - 1) < 1e-6),
                f"x after 100 steps = {final['(x-1)²/10 from 10, lr 1'][0]:.10f}")
    for lr, key in (("0.1", "x0²+x1² from (-3,4), lr 0.1"), ("10", "x0²+x1² from (-3,4), lr 10"),
                    ("1e-10", "x0²+x1² from (-3,4), lr 1e-10")):
        ctx.value(f"lr {lr}: x0", float(final[key][0]))
        ctx.value(f"lr {lr}: x1", float(final[key][1]))
    x = final["x0²+x1² from (-3,4), lr 0.1"]
    ctx.compare("lr 0.1: x = (−3, 4)·0.8¹⁰⁰ (book: −6.1e-10, 8.1e-10)", x, ctx.array([-3.0, 4.0]) * 0.8**100, kind="trained")
    big = final["x0²+x1² from (-3,4), lr 10"]
    with np.errstate(invalid="ignore"):
        diverged = bool(np.all(~np.isfinite(big) | (np.abs(big) > 1e10)))
    ctx.finding("lr 10 diverges", diverged, f"x after 100 steps = {big} (float32 overflows to inf, then inf − inf = nan)")
    tiny = final["x0²+x1² from (-3,4), lr 1e-10"]
    ctx.finding("lr 1e-10 barely moves", bool(np.all(np.abs(tiny - np.array([-3.0, 4.0])) < 1e-6)),
                f"x after 100 steps = {tiny}")

    book = G.gradient_descent(lambda x: G.numerical_gradient(f_2d, x.copy(), h=ctx.h), ctx.array([-3.0, 4.0]),
                              lr=0.1, steps=100)
    ctx.compare("book form with numerical gradient (x0²+x1², lr 0.1)", book, paths["x0²+x1² from (-3,4), lr 0.1"][1],
                kind="gradcheck", note="central differences are exact for a quadratic up to rounding")

    sweep = _lr_sweep(ctx)
    ctx.table("lr-sweep", sweep)
    ctx.table("paths", pd.DataFrame({
        "step": np.arange(101),
        "x (1-D, NumPy)": paths["(x-1)²/10 from 10, lr 1"][0][:, 0],
        "x (1-D, torch)": paths["(x-1)²/10 from 10, lr 1"][1][:, 0],
        "x0 (2-D, NumPy)": paths["x0²+x1² from (-3,4), lr 0.1"][0][:, 0],
        "x1 (2-D, NumPy)": paths["x0²+x1² from (-3,4), lr 0.1"][0][:, 1],
    }).iloc[[0, 1, 2, 5, 10, 20, 50, 100]])
    ctx.figure("path-1d", lambda: _plot_1d(paths["(x-1)²/10 from 10, lr 1"]))
    ctx.figure("path-contours", lambda: _plot_2d(paths["x0²+x1² from (-3,4), lr 0.1"]))
    ctx.figure("lr-sweep", lambda: _plot_sweep(ctx, G))


LR_SWEEP = [1e-10, 1e-3, 0.01, 0.1, 0.5, 0.9, 1.0, 1.05]


def _lr_sweep(ctx):
    G = ctx.impl.gradients
    rows = []
    for lr in LR_SWEEP:
        p_np = G.gradient_descent(df_2d, ctx.array([-3.0, 4.0]), lr=lr, steps=20)
        p_t = ctx.numpy(tgrad.gradient_descent(f_2d, ctx.tensor([-3.0, 4.0]), lr=lr, steps=20))
        ctx.compare(f"lr sweep {lr:g}: 20 steps", p_np, p_t, kind="trained")
        rows.append({"lr": lr, "factor per step 1 − 2·lr": 1 - 2 * lr, "f after 20 steps (NumPy)": float(f_2d(p_np[-1])),
                     "f after 20 steps (torch)": float(f_2d(p_t[-1]))})
    return pd.DataFrame(rows)


def _plot_1d(paths):
    path_np, path_t = paths
    fig, axes = plots.grid(1, 1, size=(6, 4))
    ax = axes[0]
    xs = np.linspace(-1, 11, 200)
    ax.plot(xs, f_1d(xs), color="gray", lw=1, label="f(x)")
    ax.plot(path_np[:, 0], f_1d(path_np[:, 0]), "o-", ms=4, color="tab:blue", lw=1.5, label="NumPy (scratch)")
    ax.plot(path_t[:, 0], f_1d(path_t[:, 0]), "x", ms=7, color="tab:orange", label="PyTorch (optim.SGD)")
    ax.set_title("f(x) = (x − 1)²/10 from x = 10, learning rate 1 (study notes)", fontsize=10)
    ax.set_xlabel("x")
    ax.set_ylabel("f(x)")
    ax.legend(fontsize=8)
    return fig


def _plot_2d(paths):
    path_np, path_t = paths
    fig, axes = plots.grid(1, 1, size=(5.5, 5))
    ax = axes[0]
    g = np.linspace(-4.5, 4.5, 200)
    X0, X1 = np.meshgrid(g, g)
    ax.contour(X0, X1, X0**2 + X1**2, levels=12, colors="gray", linewidths=0.6)
    ax.plot(path_np[:20, 0], path_np[:20, 1], "o-", ms=4, color="tab:blue", label="NumPy (first 20 steps)")
    ax.plot(path_t[:20, 0], path_t[:20, 1], "x", ms=7, color="tab:orange", label="PyTorch optim.SGD")
    ax.plot(0, 0, "k+", ms=12)
    ax.set_aspect("equal")
    ax.set_xlabel("x₀")
    ax.set_ylabel("x₁")
    ax.set_title("x₀² + x₁² from (−3, 4), learning rate 0.1", fontsize=10)
    ax.legend(fontsize=8)
    return fig


def _plot_sweep(ctx, G):
    fig, axes = plots.grid(len(LR_SWEEP), 4, size=(3.2, 2.5))
    steps = np.arange(21)
    for ax, lr in zip(axes, LR_SWEEP):
        p_np = G.gradient_descent(df_2d, ctx.array([-3.0, 4.0]), lr=lr, steps=20)
        p_t = ctx.numpy(tgrad.gradient_descent(f_2d, ctx.tensor([-3.0, 4.0]), lr=lr, steps=20))
        for i, color in ((0, "tab:blue"), (1, "tab:green")):
            ax.plot(steps, p_np[:, i], "-", color=color, lw=1.8, label=f"x{'₀₁'[i]} NumPy")
            ax.plot(steps, p_t[:, i], "o", color=color, ms=4, mfc="none", label=f"x{'₀₁'[i]} PyTorch")
        ax.axhline(0, color="gray", lw=0.6)
        ax.set_title(f"lr {lr:g}: factor 1 − 2·lr = {1 - 2 * lr:.4g}", fontsize=9)
        ax.set_xlabel("step")
        ax.set_ylabel("x")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=6, ncol=2, loc="center right")
    fig.suptitle("Gradient descent on x₀² + x₁² from (−3, 4) at eight learning rates", fontsize=10)
    fig.tight_layout()
    return fig
