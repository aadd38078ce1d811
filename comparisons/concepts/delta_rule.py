"""The delta rule for a single-layer sigmoid network: SGD, batch and mini-batch, update by update
against nn.Linear + nn.Sigmoid + optim.SGD; and XOR, which one layer cannot learn."""

from __future__ import annotations

import numpy as np
import pandas as pd

import torch_ref.delta_rule as tdelta

from .. import data, plots
from ..lockstep import train
from ..sides import Replay, Stepper

VARIANTS = {"SGD": ("sgd", 1), "batch": ("batch", 4), "mini-batch of 2": ("minibatch", 2)}


def run(ctx):
    X = ctx.array(data.LOGIC_X)
    D = ctx.array(data.LOGIC_TARGETS["seed (x1)"])
    W0 = ctx.array(ctx.rng.uniform(-1.0, 1.0, size=(1, 3)))
    # the study notes run 10,000 epochs; 1,000 (4,000 SGD updates) reach the targets already, and
    # the report has a time budget: every update of every schedule is compared on both sides.
    # Quick (tests, the seed sweep): 500
    epochs = ctx.value("epochs", ctx.size(500, 1000))
    curves = {}
    for name, (variant, batch_size) in VARIANTS.items():
        W_np, loss_np = _compare_run(ctx, name, W0, X, D, epochs, variant, batch_size)
        curves[name] = loss_np
        y = ctx.impl.activations.sigmoid(X @ W_np[-1].T)[:, 0]
        ctx.value(f"{name}: largest output error", float(np.max(np.abs(y - D))))
        ctx.value(f"{name}: final loss", float(loss_np[0][-1]))
        ctx.finding(f"{name}: outputs approach D = [0, 0, 1, 1]", bool(np.max(np.abs(y - D)) < 0.25),
                    f"y = {np.round(y.astype(np.float64), 4).tolist()} after {epochs} epochs")
    ctx.timings["numpy"] = sum(v for k, v in ctx.timings.items() if k.startswith("numpy "))
    ctx.timings["torch"] = sum(v for k, v in ctx.timings.items() if k.startswith("torch "))

    final = {name: float(loss[0][-1]) for name, loss in curves.items()}
    ctx.observed("SGD has the lowest loss after the same epochs", final["SGD"] == min(final.values()))
    _one_step_is_gradient_descent(ctx, X, D, W0)
    xor = _xor(ctx, X, W0, epochs)
    ctx.table("final-outputs", pd.DataFrame(xor))
    times = pd.DataFrame([{"variant": name, "NumPy s": ctx.timings.get(f"numpy {name}", np.nan), "torch s": ctx.timings[f"torch {name}"],
                           "updates": epochs * 4 // VARIANTS[name][1]} for name in VARIANTS])
    ctx.table("time-per-variant", times)
    ctx.figure("loss", lambda: _plot_loss(curves))
    ctx.figure("time", lambda: _plot_time(times))


def _compare_run(ctx, name, W0, X, D, epochs, variant, batch_size=2):
    """Train both sides from W0: in lockstep (each epoch from torch's weights before it), and in
    float64 free-running as well. Returns NumPy's (weights, loss) after every epoch and torch's loss
    (free-running NumPy's in float64; torch's own trajectory in lockstep-only float32)."""
    with ctx.timed(f"torch {name}"):
        W_t, loss_t = (ctx.numpy(a) for a in tdelta.train(ctx.tensor(W0), ctx.tensor(X), ctx.tensor(D), 0.9, epochs,
                                                           batch_size))

    def one_epoch(params, _):
        W, loss = ctx.impl.delta_rule.train(params["W"], X, D, alpha=0.9, epochs=1, variant=variant, batch_size=batch_size)
        return {"W": W[0]}, loss[0]

    note = f"{epochs} epochs, {epochs * 4 // batch_size} updates; each step is an epoch, from torch's weights before it"
    with ctx.timed(f"numpy {name}"):
        run = train(ctx, name, Stepper({"W": W0}, one_epoch, ctx.np_dtype, loss_name="loss after the epoch"),
                    Replay({"W": W0}, (({"W": w}, loss) for w, loss in zip(W_t, loss_t))), range(epochs),
                    trajectory=True, note=note)
    W_np = np.array(run.path_np).reshape(-1, *W0.shape) if run.free_running else W_t
    loss_np = np.array(run.losses_np)
    return W_np, (loss_np, loss_t)


def _one_step_is_gradient_descent(ctx, X, D, W0):
    """ΔW of the delta rule = −α·∂(½(d − y)²)/∂W by autograd, for each sample."""
    import torch

    for k in range(len(X)):
        dW = ctx.impl.delta_rule.delta(W0, X[k:k + 1], D[k:k + 1], 0.9)
        W = ctx.tensor(W0, requires_grad=True)
        y = torch.sigmoid(ctx.tensor(X[k:k + 1]) @ W.T)
        tdelta.half_squared_error(y, ctx.tensor(D[k:k + 1]).reshape(1, 1)).backward()
        ctx.compare(f"ΔW = −α·∇½(d−y)² (sample {k})", dW, -0.9 * ctx.numpy(W.grad))


def _xor(ctx, X, W0, epochs):
    D_xor = ctx.array(data.LOGIC_TARGETS["XOR"])
    W_np, _ = _compare_run(ctx, "XOR, one layer", W0, X, D_xor, epochs, "sgd", 1)
    y = ctx.impl.activations.sigmoid(X @ W_np[-1].T)[:, 0]
    ctx.value("XOR: outputs", ", ".join(f"{v:.2f}" for v in y.astype(np.float64)))
    ctx.finding("XOR: a single layer cannot fit it", bool(np.max(np.abs(y - D_xor)) > 0.4),
                f"y = {np.round(y.astype(np.float64), 3).tolist()} for D = [0, 1, 1, 0] after {epochs} epochs")
    rows = []
    for name, (variant, _) in VARIANTS.items():
        W, _ = ctx.impl.delta_rule.train(W0, X, ctx.array(data.LOGIC_TARGETS["seed (x1)"]), 0.9, epochs, variant)
        rows.append({"targets": "D = [0, 0, 1, 1]", "variant": name,
                     **{f"y{i}": v for i, v in enumerate(ctx.impl.activations.sigmoid(X @ W[-1].T)[:, 0])}})
    rows.append({"targets": "XOR [0, 1, 1, 0]", "variant": "SGD", **{f"y{i}": v for i, v in enumerate(y)}})
    return rows


def _plot_loss(curves):
    fig, axes = plots.grid(1, 1, size=(6, 3.8))
    ax = axes[0]
    for name, (l_np, l_t) in curves.items():
        line, = ax.semilogy(np.arange(1, len(l_np) + 1), l_np, lw=2, label=f"{name} (NumPy)")
        ax.semilogy(np.arange(1, len(l_t) + 1), l_t, ls="--", lw=1, color=line.get_color())
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean ½(d − y)²")
    ax.set_title("Delta rule: loss per epoch (dashed: PyTorch)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    return fig


def _plot_time(times):
    fig, axes = plots.grid(1, 1, size=(5.5, 3.2))
    ax = axes[0]
    pos = np.arange(len(times))
    ax.bar(pos - 0.18, times["NumPy s"], width=0.36, label="NumPy")
    ax.bar(pos + 0.18, times["torch s"], width=0.36, label="PyTorch")
    ax.set_xticks(pos, times["variant"])
    ax.set_ylabel("seconds (this run)")
    ax.set_title("Training time per variant (tiny problem: per-call overhead dominates)")
    ax.legend(fontsize=8)
    return fig
