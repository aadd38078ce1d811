"""Batch normalization: forward, backward and running statistics against nn.BatchNorm1d, and the
book's weight-scale grid with and without it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

import torch_ref.layers as tlayers

from .. import data, pairs, plots, sides
from ..lockstep import train
from ..training import AccuracyTracker


def run(ctx):
    _layer(ctx)
    _book_relation(ctx)
    _defaults(ctx)
    grid = _grid(ctx)
    ctx.table("weight-scale-grid", grid[0])
    ctx.figure("weight-scale-grid", lambda: _plot(grid[1]))


def _layer(ctx):
    """The layer through its declaration (:mod:`comparisons.pairs.train_eval`): two training steps of
    two batch shapes (outputs, dx, dγ, dβ), the running statistics, and evaluation; then what the
    lesson adds: backward in evaluation mode, where the running statistics are constants."""
    pair = pairs.get("layer", "batchnorm")
    pairs.check(ctx, pair, pair.scratch_object(ctx.impl), prefix="BatchNorm1d: ")
    n, d = 32, 6
    gamma, beta = ctx.array(ctx.rng.uniform(0.5, 1.5, size=d)), ctx.array(ctx.rng.normal(size=d))
    bn_np = ctx.impl.layers.BatchNorm1d(gamma.copy(), beta.copy(), momentum=0.9, eps=1e-5)
    bn_t = tlayers.batchnorm1d(ctx.tensor(gamma), ctx.tensor(beta), momentum=0.1, eps=1e-5)
    for _ in range(3):  # running statistics away from their start
        x = ctx.array(ctx.rng.normal(2.0, 3.0, size=(n, d)))
        bn_np.forward(x)
        bn_t(ctx.tensor(x))
    bn_np.eval()
    bn_t.eval()
    x, dout = ctx.array(ctx.rng.normal(2.0, 3.0, size=(n, d))), ctx.array(ctx.rng.normal(size=(n, d)))
    bn_np.forward(x)
    xt = ctx.tensor(x, requires_grad=True)
    bn_t(xt).backward(ctx.tensor(dout))
    ctx.compare(EVAL_BACKWARD, bn_np.backward(dout), xt.grad,
                note="in evaluation mode dx = γ·dout/√(running_var + ε): the statistics do not depend on x")


EVAL_BACKWARD = "BatchNorm backward dx (eval)"


def _book_relation(ctx):
    """The book's running variance (biased, starting at 0) against torch's (unbiased, from 1)."""
    n, d, steps = 20, 4, 6
    book = ctx.impl.layers.BatchNorm1d(np.ones(d, dtype=ctx.np_dtype), np.zeros(d, dtype=ctx.np_dtype), momentum=0.9,
                                       eps=1e-5, running_var_init=0.0, unbiased_running_var=False)
    bn_t = tlayers.batchnorm1d(ctx.tensor(np.ones(d)), ctx.tensor(np.zeros(d)), momentum=0.1, eps=1e-5)
    for _ in range(steps):
        x = ctx.array(ctx.rng.normal(0.0, 2.0, size=(n, d)))
        book.forward(x)
        bn_t(ctx.tensor(x))
    relation = 0.9**steps + n / (n - 1) * book.running_var
    proved = ctx.compare("book running_var relation: torch = 0.9ᵗ + N/(N−1)·book", relation, bn_t.running_var,
                         note=f"after t = {steps} batches of N = {n}")
    ctx.differs("book running_var differs from torch's", book.running_var, bn_t.running_var, relation=proved,
                note="torch starts at 1 (the 0.9ᵗ term) and stores the unbiased variance (the N/(N − 1) factor)")


def _defaults(ctx):
    """``BatchNorm1d(γ, β)`` with no other argument against ``nn.BatchNorm1d(d)``: the book's momentum
    0.9 (weight of the old value) is torch's 0.1 (weight of the new), ε 1e-5 on both. Features of
    spread 0.01 (σ² = 1e-4) make ε visible: a wrong ε changes x̂ by about ε/(2σ²)."""
    n, d = 16, 5
    ours = ctx.impl.layers.BatchNorm1d(np.ones(d, dtype=ctx.np_dtype), np.zeros(d, dtype=ctx.np_dtype))
    theirs = tlayers.batchnorm1d_at_defaults(d).to(dtype=ctx.torch_dtype, device=ctx.device)
    outs_np, outs_t = [], []
    for _ in range(3):
        x = ctx.array(ctx.rng.normal(0.0, 0.01, size=(n, d)))
        outs_np.append(ours.forward(x))
        outs_t.append(ctx.numpy(theirs(ctx.tensor(x))))
    x = ctx.array(ctx.rng.normal(0.0, 0.01, size=(n, d)))
    ours.eval()
    theirs.eval()
    outs_np.append(ours.forward(x))
    outs_t.append(ctx.numpy(theirs(ctx.tensor(x))))
    ctx.compare("BatchNorm1d defaults = nn.BatchNorm1d defaults: 3 training batches, then eval", np.stack(outs_np),
                np.stack(outs_t), note="momentum 0.9 (old value's weight) = torch's 0.1 (new value's weight), ε 1e-5; "
                                       "eval uses the running statistics the three batches left")


PRE_BN_BIASES = ("The biases just before batch norm have a zero gradient (batch norm subtracts the mean), so they "
                 "hold only rounding noise: two ulp-level numbers, whose relative error is of order 1 while their "
                 "absolute error stays at rounding.")


def _grid(ctx):
    x_all, t_all, _, _ = data.image_data(ctx)
    x_tr, t_tr = x_all[:1000], t_all[:1000]
    n_scales = ctx.size(8, 16)
    scales = np.logspace(0, -4, n_scales)
    # the time budget: float32's lockstep takes every other scale (the report: 8 of the book's 16
    # from 1 to 1e-4; quick, 4 of 8); float64 runs them all, free-running and in lockstep
    float32_scales = scales[::2]
    ctx.value("scales in float32", len(float32_scales))
    if ctx.dtype == "float32":
        scales = float32_scales
    epochs = ctx.size(5, 20)
    sizes = [x_tr.shape[1]] + [100] * 5 + [10]
    spe = int(np.ceil(len(x_tr) / 100))
    batches = data.epoch_batches(ctx.rng, len(x_tr), 100, epochs)
    rows, curves = [], {}
    for scale in scales:
        params0 = {}
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
            params0[f"W{i}"] = ctx.rng.normal(0.0, scale, size=(a, b))
            params0[f"b{i}"] = np.zeros(b)
        for bn in (False, True):
            tracker = AccuracyTracker(ctx, x_tr, t_tr)
            label = f"scale {scale:.1e}, {'with' if bn else 'without'} BN"
            # the largest scales blow up to inf/nan without batch norm, as in the book: compared up
            # to the last finite step, and the divergence recorded as a finding
            # biases just before batch norm have a zero gradient: they hold only rounding noise,
            # so they are checked to stay at 0 instead of being compared elementwise
            pre_bn = {f"b{i}" for i in range(1, len(sizes) - 1)} if bn else set()
            setup = sides.Setup(net={"use_batchnorm": bn}, model={"batchnorm": bn})
            with np.errstate(over="ignore", invalid="ignore"):
                run_ = train(ctx, label, *sides.network(ctx, params0, (x_tr, t_tr), lambda: ctx.impl.optim.SGD(0.01),
                                                        lambda ps: torch.optim.SGD(ps, lr=0.01), setup),
                             batches, steps_per_epoch=spe if ctx.artifacts else None, on_epoch=tracker,
                             note=PRE_BN_BIASES if bn else "", exclude=pre_bn)
            curves[(scale, bn)] = tracker.frame()
            if run_.diverged_at is not None:
                ctx.finding(f"{label}: diverges on both sides", bool(run_.numpy_diverges_too),
                            f"torch's loss passes 1e6 × its first value, or stops being finite, at step {run_.diverged_at}; "
                            f"NumPy's step from the same state {'does too' if run_.numpy_diverges_too else 'does not'}. The weights are "
                            "too large to train at lr 0.01 without batch norm (the book's figure shows it too); the steps "
                            "before are compared")
            if bn:
                atol = ctx.tolerance("trained")[0]
                drift = max(float(np.abs(p[k]).max()) for p in (run_.params_np, run_.params_t) for k in pre_bn)
                ctx.finding(f"{label}: biases before batch norm stay 0 (both sides)", drift <= atol,
                            f"largest |b| = {drift:.1e}: batch norm subtracts the mean, so their gradient is 0 up to rounding")
            with np.errstate(over="ignore", invalid="ignore"):
                acc = run_.numpy.net.accuracy(ctx.array(x_tr), t_tr)
            rows.append({"weight std": scale, "batch norm": bn, "final train accuracy": acc,
                         "final loss NumPy": run_.losses_np[-1] if run_.losses_np else np.nan,
                         "final loss torch": run_.losses_t[-1] if run_.losses_t else np.nan,
                         "diverged at step": run_.diverged_at if run_.diverged_at is not None else ""})
    ctx.observed_checks("every run of the grid agrees with PyTorch step by step",
                        lambda check: check.startswith("scale ") and ": lockstep " in check)
    frame = pd.DataFrame(rows)
    _quote(ctx, frame, len(scales), epochs, x_tr)
    if ctx.dtype == "float64":
        with_bn = frame[frame["batch norm"]]["final train accuracy"]
        without = frame[~frame["batch norm"]]["final train accuracy"]
        ctx.finding("batch norm learns at more weight scales", bool((with_bn > 0.5).sum() > (without > 0.5).sum()),
                    f"scales reaching train accuracy > 0.5: with BN {(with_bn > 0.5).sum()}, without {(without > 0.5).sum()} of {len(scales)}")
    return frame, curves


def _quote(ctx, frame, n_scales, epochs, x_tr):
    """The grid's outcome in numbers for the guide: at how many scales each variant reaches 0.8,
    where the plain network diverges, and where it ends above batch norm."""
    ctx.value("scales", n_scales)
    ctx.value("epochs", epochs)
    ctx.value("training images", len(x_tr))
    ctx.value("pixels", x_tr.shape[1])
    acc = frame.pivot(index="weight std", columns="batch norm", values="final train accuracy").fillna(0.0)
    with_bn = int((acc[True] >= 0.8).sum())
    without = int((acc[False] >= 0.8).sum())
    ctx.value("scales with BN reaching 0.8", with_bn)
    ctx.value("scales without BN reaching 0.8", without)
    ctx.observed("batch norm reaches 0.8 at more weight scales", with_bn > without)
    plain = frame[~frame["batch norm"]]
    diverged = ctx.value("scales where no-BN diverges", int((plain["diverged at step"] != "").sum()))
    ctx.observed("no-BN diverges at some scale", diverged > 0)
    ctx.value("scales where no-BN stays near chance", int((acc[False] < 0.2).sum()))
    fading = plain[(plain["diverged at step"] == "") & (plain["final train accuracy"] < 0.2)]
    ctx.value("scales where no-BN stays near chance without diverging", len(fading))
    higher = acc.index[acc[False] > acc[True]]
    ctx.value("scales where no-BN ends higher", len(higher))
    ctx.observed("no-BN ends higher at some scale", len(higher) > 0)
    ctx.value("no-BN ends higher at std", ", ".join(f"{s:.2g}" for s in sorted(higher, reverse=True)) or "none")


def _plot(curves):
    scales = sorted({s for s, _ in curves}, reverse=True)
    fig, axes = plots.grid(len(scales), 4, size=(3.1, 2.5))
    for ax, scale in zip(axes, scales):
        for bn, color, ls, name in ((True, "tab:blue", "-", "with batch norm"), (False, "tab:orange", "--", "without")):
            f = curves[(scale, bn)]
            if f.empty:
                continue
            ax.plot(f["epoch"], f["train NumPy"], color=color, lw=2, ls=ls, label=f"{name} (NumPy)")
            plots.torch_points(ax, f["epoch"], f["train torch"], color=color, label=f"{name} (PyTorch)", ms=4)
        ax.set_title(f"weight std {scale:.2g}", fontsize=9)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("epoch", fontsize=8)
        ax.set_ylabel("train accuracy", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    legend = {}  # every label once, from whichever panel drew it (the largest scale's plain run draws nothing)
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            legend.setdefault(label, handle)
    if legend:  # empty when the runs were shorter than an epoch
        axes[0].legend(list(legend.values()), list(legend), fontsize=6, loc="center right")
    fig.suptitle("Training accuracy per epoch by initial weight scale (5 hidden layers of 100)", fontsize=10)
    fig.tight_layout()
    return fig
