"""Batch vs stochastic vs mini-batch gradient descent, two ways of drawing mini-batches, and the
speed of batch processing on both sides."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import torch

import torch_ref.networks as tnet

from .. import bridge, data, plots
from ..training import compare_params, he_params, train_pair


BATCH_SIZES = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]


def run(ctx):
    x_tr, t_tr, _, _ = data.image_data(ctx)
    # the report's time budget: the full batch is the whole training set at every update, so the
    # MNIST run trains on its first 1,000 images (the 8×8 digits have 1,437) for 150 updates
    x_tr, t_tr = x_tr[:1000], t_tr[:1000]
    n = ctx.value("training images", len(x_tr))
    ctx.value("pixels", x_tr.shape[1])
    sizes = [x_tr.shape[1], 50, 10]
    params0 = he_params(ctx.rng, sizes)
    steps = ctx.value("updates", 150)
    bs = min(100, n)
    variants = {
        "batch (all samples)": (0.5, [np.arange(n)] * steps),
        "SGD (batch 1)": (0.02, data.epoch_batches(ctx.rng, n, 1, steps // n + 1)[:steps]),
        f"mini-batch {bs}, shuffled": (0.1, data.epoch_batches(ctx.rng, n, bs, steps // -(-n // bs) + 1)[:steps]),
        f"mini-batch {bs}, with replacement": (0.1, data.sampled_batches(ctx.rng, n, bs, steps)),
    }
    curves = {}
    for name, (lr, batches) in variants.items():
        t0 = dict(ctx.timings)
        run_ = train_pair(ctx, name, params0, "relu", lambda: ctx.impl.optim.SGD(lr), lambda ps: torch.optim.SGD(ps, lr=lr),
                          x_tr, t_tr, batches)
        compare_params(ctx, name, run_, note=f"lr {lr}.")
        seconds = {side: ctx.timings.get(side, 0) - t0.get(side, 0) for side in ("numpy", "torch")}
        curves[name] = (run_.losses_np, run_.losses_t, seconds)

    _coverage(ctx, n)
    timing = _timing(ctx, x_tr, t_tr, sizes, params0)
    ctx.table("time-per-sample", timing)
    ctx.figure("loss", lambda: _plot_loss(curves))
    ctx.figure("time-per-sample", lambda: _plot_timing(timing))


def _coverage(ctx, n):
    """Fraction of distinct samples in n draws with replacement: mean 1 − (1 − 1/n)ⁿ, with the
    exact variance of the number of distinct values (occupancy problem)."""
    bs = min(100, n)
    draws = np.concatenate(data.sampled_batches(ctx.rng, n, bs, n // bs))
    draws = np.concatenate([draws, ctx.rng.choice(n, n - len(draws))])
    seen = len(np.unique(draws)) / n
    q1, q2 = (1 - 1 / n) ** n, (1 - 2 / n) ** n
    mean = 1 - q1
    var = (n * q1 + n * (n - 1) * q2 - n**2 * q1**2) / n**2
    ctx.statistical("sampled with replacement: fraction seen in one epoch ≈ 1 − 1/e", seen, mean, 5 * np.sqrt(var),
                    note=f"seen {seen:.4f}, expected {mean:.4f} ± {np.sqrt(var):.4f} (tolerance 5σ); shuffled partitions see 1.0")
    parts = np.concatenate(data.epoch_batches(ctx.rng, n, bs, 1))
    ctx.finding("shuffled partitions: every sample exactly once per epoch", bool(np.array_equal(np.sort(parts), np.arange(n))))


def _median_time(fn, min_total=0.02, max_repeats=50):
    """Median over repeats of one call; repeats until ``min_total`` seconds or ``max_repeats``."""
    fn()  # warm-up
    times, start = [], time.perf_counter()
    while len(times) < 5 or (time.perf_counter() - start < min_total and len(times) < max_repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), float(np.percentile(times, 25)), float(np.percentile(times, 75))


def _timing(ctx, x, t, sizes, params0):
    net = ctx.impl.networks.MultiLayerNet({k: ctx.array(v) for k, v in params0.items()}, layers=ctx.impl.layers)
    opt = ctx.impl.optim.SGD(0.0)  # lr 0: the parameters stay put while we time
    model = tnet.mlp(sizes).to(dtype=ctx.torch_dtype, device=ctx.device)
    bridge.load_mlp(model, params0)
    opt_t = torch.optim.SGD(model.parameters(), lr=0.0)
    X, Xt, Tt = ctx.array(x), ctx.tensor(x), ctx.labels(t)
    rows = []
    for bs in [b for b in BATCH_SIZES if b <= len(x)]:
        xb, tb, xbt, tbt = X[:bs], t[:bs], Xt[:bs], Tt[:bs]

        def numpy_step():
            opt.update(net.params, net.gradient(xb, tb))

        def torch_step():
            tnet.train_step(model, opt_t, xbt, tbt)
            if ctx.device.type == "cuda":
                torch.cuda.synchronize()

        med_np, lo_np, hi_np = _median_time(numpy_step)
        med_t, lo_t, hi_t = _median_time(torch_step)
        rows.append({"batch size": bs, "NumPy µs/step": med_np * 1e6, "torch µs/step": med_t * 1e6,
                     "NumPy µs/sample": med_np / bs * 1e6, "torch µs/sample": med_t / bs * 1e6,
                     "NumPy IQR µs/step": f"{lo_np * 1e6:.0f}–{hi_np * 1e6:.0f}",
                     "torch IQR µs/step": f"{lo_t * 1e6:.0f}–{hi_t * 1e6:.0f}",
                     "torch / NumPy": med_t / med_np})
    frame = pd.DataFrame(rows)
    first, last = frame.iloc[0], frame.iloc[-1]
    for row, name in ((first, "smallest"), (last, "largest")):
        ctx.value(f"{name} batch", int(row["batch size"]))
        ctx.value(f"torch / NumPy at the {name} batch", float(row["torch / NumPy"]))
        ctx.value(f"NumPy µs/sample at the {name} batch", float(row["NumPy µs/sample"]))
    ctx.observed("NumPy is faster on the smallest batch", first["torch / NumPy"] > 1)
    return frame


def _plot_loss(curves):
    fig, axes = plots.grid(2, 2, size=(5.2, 3.6))
    for name, (l_np, l_t, seconds) in curves.items():
        steps = np.arange(1, len(l_np) + 1)
        line, = axes[0].plot(steps, l_np, lw=1.8, label=name)
        axes[0].plot(steps, l_t, lw=1, ls="--", color=line.get_color())
        axes[1].plot(np.linspace(0, seconds["numpy"], len(l_np)), l_np, lw=1.8, color=line.get_color())
        axes[1].plot(np.linspace(0, seconds["torch"], len(l_t)), l_t, lw=1, ls="--", color=line.get_color())
    axes[0].set_xlabel("update")
    axes[1].set_xlabel("seconds (this run; NumPy solid, PyTorch dashed)")
    for ax in axes:
        ax.set_yscale("log")
        ax.set_ylabel("training loss")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def _plot_timing(frame):
    fig, axes = plots.grid(1, 1, size=(6, 4))
    ax = axes[0]
    ax.loglog(frame["batch size"], frame["NumPy µs/sample"], "o-", label="NumPy (scratch)")
    ax.loglog(frame["batch size"], frame["torch µs/sample"], "s--", label="PyTorch")
    ax.set_xlabel("batch size")
    ax.set_ylabel("µs per sample (one training step / batch size)")
    ax.set_title("Batch processing: time per sample, 64→50→10 MLP")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return fig
