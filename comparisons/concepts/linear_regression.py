"""Linear regression y = ax + b by gradient descent, update by update against nn.Linear + optim.SGD."""

from __future__ import annotations

import numpy as np
import pandas as pd

import torch_ref.linear_regression as tlin

from .. import data, plots
from ..lockstep import lockstep_history
from ..training import free_running


A_STAR, B_STAR, A0, B0 = 2.0, 1.0, -2.0, -1.0


def run(ctx):
    x, y = data.linear(ctx.rng, n=100, a=A_STAR, b=B_STAR, noise=0.3)
    x, y = ctx.array(x), ctx.array(y)
    n = len(x)
    epochs_sgd = ctx.value("per-sample SGD epochs", ctx.size(30, 100))
    ctx.value("per-sample SGD updates", epochs_sgd * n)
    variants = {
        "per-sample SGD": (0.001, data.epoch_batches(ctx.rng, n, 1, epochs_sgd)),
        "full batch": (0.1, [np.arange(n)] * 100),
        "mini-batch of 10": (0.01, data.epoch_batches(ctx.rng, n, 10, 30)),
    }
    histories = {}
    for name, (lr, batches) in variants.items():
        with ctx.timed("torch"):
            a_t, b_t, loss_t = (ctx.numpy(v) for v in tlin.fit(ctx.tensor(x), ctx.tensor(y), A0, B0, lr, batches))

        def one_update(k, state, lr=lr, batches=batches):
            a, b, loss = ctx.impl.linear_regression.fit(x, y, state[0], state[1], lr, batches[k:k + 1])
            return a[0], b[0], loss[0]

        with ctx.timed("numpy"):
            lockstep_history(ctx, name, (A0, B0), list(zip(a_t, b_t, loss_t)), one_update,
                             ("a after the update", "b after the update", "loss before the update"),
                             note=f"{len(batches)} updates, lr {lr:g}, each from torch's a, b before it")
        if free_running(ctx):
            with ctx.timed("numpy"):
                a_np, b_np, loss_np = ctx.impl.linear_regression.fit(x, y, A0, B0, lr, batches)
            ctx.compare(f"{name}: a, b after every update (free-running)", np.stack([a_np, b_np]),
                        np.stack([a_t, b_t]), kind="trained", note=f"{len(batches)} updates, lr {lr:g}")
            ctx.compare(f"{name}: loss before every update (free-running)", loss_np, loss_t, kind="trained")
        else:
            a_np, b_np, loss_np = a_t, b_t, loss_t
        histories[name] = (a_np, b_np, a_t, b_t, loss_np, lr, len(batches))

    ctx.observed_checks("every fit agrees with PyTorch at every update",
                        lambda check: check.split(":")[0] in variants and ("a after" in check or "a, b after" in check))
    a_ls, b_ls = np.polyfit(x.astype(np.float64), y.astype(np.float64), 1)
    a_fit, b_fit = histories["full batch"][0][-1], histories["full batch"][1][-1]
    ctx.finding("full batch reaches the least-squares line", bool(abs(a_fit - a_ls) < 1e-3 and abs(b_fit - b_ls) < 1e-3),
                f"a = {a_fit:.5f}, b = {b_fit:.5f}; least squares a = {a_ls:.5f}, b = {b_ls:.5f}")
    a_sgd, b_sgd = histories["per-sample SGD"][0][-1], histories["per-sample SGD"][1][-1]
    for name, a, b in (("per-sample SGD", a_sgd, b_sgd), ("full batch", a_fit, b_fit), ("least squares", a_ls, b_ls)):
        ctx.value(f"{name}: a", float(a))
        ctx.value(f"{name}: b", float(b))
    ctx.value("per-sample SGD: distance to least squares", float(max(abs(a_sgd - a_ls), abs(b_sgd - b_ls))))
    ctx.finding("per-sample SGD ends near a* = 2, b* = 1", bool(abs(a_sgd - 2) < 0.15 and abs(b_sgd - 1) < 0.15),
                f"a = {a_sgd:.4f}, b = {b_sgd:.4f} after {epochs_sgd} epochs")
    ctx.table("final-parameters", pd.DataFrame([
        {"variant": k, "lr": h[5], "updates": h[6], "a NumPy": h[0][-1], "a torch": h[2][-1],
         "b NumPy": h[1][-1], "b torch": h[3][-1]} for k, h in histories.items()]
        + [{"variant": "least squares (np.polyfit)", "lr": None, "updates": None, "a NumPy": a_ls, "a torch": None,
            "b NumPy": b_ls, "b torch": None}]))
    ctx.figure("parameters", lambda: _plot_params(histories))
    ctx.figure("fit", lambda: _plot_fit(x, y, histories))
    ctx.figure("contours", lambda: _plot_contours(x, y, histories))


def _plot_params(histories):
    fig, axes = plots.grid(len(histories), len(histories), size=(4, 3))
    for ax, (name, (a_np, b_np, a_t, b_t, *_)) in zip(axes, histories.items()):
        steps = np.arange(1, len(a_np) + 1)
        plots.overlay(ax, steps, a_np, a_t, title=name, xlabel="update", ylabel="a and b", label="a")
        plots.overlay(ax, steps, b_np, b_t, color="tab:green", label="b")
        ax.axhline(A_STAR, color="gray", lw=0.6, ls=":")
        ax.axhline(B_STAR, color="gray", lw=0.6, ls=":")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.suptitle("a and b after every update (dotted: a* = 2, b* = 1)", fontsize=10)
    fig.tight_layout()
    return fig


def _plot_fit(x, y, histories):
    fig, axes = plots.grid(1, 1, size=(6, 4))
    ax = axes[0]
    ax.scatter(x, y, s=10, color="k", alpha=0.6, label="data y = 2x + 1 + 0.3·noise")
    xs = np.array([x.min(), x.max()])
    for name, (a_np, b_np, a_t, b_t, *_) in histories.items():
        line, = ax.plot(xs, a_np[-1] * xs + b_np[-1], lw=2, label=f"{name} (NumPy)")
        ax.plot(xs, a_t[-1] * xs + b_t[-1], lw=1, ls="--", color=line.get_color())
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.legend(fontsize=7)
    ax.set_title("Fitted lines (dashed: PyTorch)", fontsize=10)
    return fig


def _plot_contours(x, y, histories):
    fig, axes = plots.grid(1, 1, size=(6, 5))
    ax = axes[0]
    A, B = np.meshgrid(np.linspace(-3, 3.5, 150), np.linspace(-2, 2.5, 150))
    x64, y64 = x.astype(np.float64), y.astype(np.float64)
    J = np.mean((A[..., None] * x64 + B[..., None] - y64) ** 2, axis=-1)
    ax.contour(A, B, J, levels=np.geomspace(J.min() + 1e-3, J.max(), 15), colors="gray", linewidths=0.6)
    for name, (a_np, b_np, a_t, b_t, *_) in histories.items():
        line, = ax.plot(np.r_[A0, a_np], np.r_[B0, b_np], lw=2, label=f"{name} (NumPy)")
        ax.plot(np.r_[A0, a_t], np.r_[B0, b_t], lw=1, ls="--", color=line.get_color())
    ax.plot(A0, B0, "ko")
    ax.plot(A_STAR, B_STAR, "k*", ms=12)
    ax.set_xlabel("a")
    ax.set_ylabel("b")
    ax.set_title("Mean squared error over (a, b) and the paths (dashed: PyTorch)")
    ax.legend(fontsize=7)
    return fig
