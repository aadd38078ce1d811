"""Random search for lr and weight decay on a validation split, with a narrowing round; every
trial trained on both sides."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

import torch_ref.networks as tnet

from .. import data, plots, sides
from ..lockstep import Lockstep, flat, train
from ..training import AccuracyTracker, he_params, record_accuracies

RANGES = {"lr": (-6.0, -2.0), "weight_decay": (-8.0, -4.0)}


def run(ctx):
    x_all, t_all, _, _ = data.image_data(ctx)
    x, t = x_all[:500], t_all[:500]
    n_val = 100
    x_tr, t_tr, x_val, t_val = x[n_val:], t[n_val:], x[:n_val], t[:n_val]
    sizes = [x.shape[1]] + [100] * 6 + [10]
    spe = int(np.ceil(len(x_tr) / 100))
    epochs = ctx.value("epochs", ctx.size(10, 50))
    n1, n2 = ctx.value("first-round trials", 8), ctx.value("narrowed trials", 4)
    ctx.value("pixels", x.shape[1])

    trial_rng_seed = int(ctx.rng.integers(2**32))
    first = ctx.impl.search.sample_trials(np.random.default_rng(trial_rng_seed), RANGES, n1)
    again = ctx.impl.search.sample_trials(np.random.default_rng(trial_rng_seed), RANGES, n1)
    ctx.compare("the same seed samples the same trials", [[tr["lr"], tr["weight_decay"]] for tr in first],
                [[tr["lr"], tr["weight_decay"]] for tr in again])
    exps = np.log10([[tr["lr"], tr["weight_decay"]] for tr in first])
    ctx.finding("trials lie inside the log ranges", bool(np.all((exps[:, 0] >= -6) & (exps[:, 0] <= -2)
                                                                 & (exps[:, 1] >= -8) & (exps[:, 1] <= -4))))

    results = []
    lockstep = Lockstep(ctx, "every trial")
    for round_no, trials in ((1, first), (2, None)):
        if trials is None:
            scores = [r["val NumPy"] for r in results]
            narrowed = ctx.impl.search.narrow(first, scores, top_k=ctx.value("trials kept", max(1, n1 // 4)))
            for key, name in (("lr", "lr"), ("weight_decay", "weight decay")):
                ctx.value(f"narrowed {name} from", narrowed[key][0])
                ctx.value(f"narrowed {name} to", narrowed[key][1])
            trials = ctx.impl.search.sample_trials(np.random.default_rng(trial_rng_seed + 1), narrowed, n2)
        for hp in trials:
            params0 = he_params(ctx.rng, sizes)
            batches = data.epoch_batches(ctx.rng, len(x_tr), 100, epochs)
            tracker = AccuracyTracker(ctx, x_tr, t_tr, x_val, t_val)
            lr, wd = hp["lr"], hp["weight_decay"]
            setup = sides.Setup(net={"weight_decay_lambda": wd}, torch_params=lambda m, wd=wd: tnet.weight_decay_groups(m, wd))
            run_ = train(ctx, "every trial", *sides.network(ctx, params0, (x_tr, t_tr), lambda: ctx.impl.optim.SGD(lr),
                                                            lambda ps: torch.optim.SGD(ps, lr=lr), setup),
                         batches, steps_per_epoch=spe, on_epoch=tracker, lock=lockstep)
            frame = tracker.frame().rename(columns=lambda c: c.replace("test", "val"))
            results.append({"round": round_no, "lr": lr, "weight_decay": wd,
                            "val NumPy": frame.iloc[-1]["val NumPy"], "val torch": frame.iloc[-1]["val torch"],
                            "params_np": flat(run_.params_np), "params_t": flat(run_.params_t), "curve": frame,
                            "tracker": tracker})
    lockstep.record(note=f"{len(results)} trials, every step of each.")
    record_accuracies(ctx, "every trial: validation accuracy per epoch", [r["tracker"] for r in results], sets=("test",),
                      note=f"{len(results)} trials")
    if run_.free_running:
        ctx.compare("every trial: final parameters (free-running)", np.concatenate([r["params_np"] for r in results]),
                    np.concatenate([r["params_t"] for r in results]), kind="trained", note=f"{len(results)} trials.")
    table = pd.DataFrame([{k: v for k, v in r.items() if k not in ("params_np", "params_t", "curve", "tracker")} for r in results])
    table = table.sort_values("val NumPy", ascending=False, kind="stable")
    if ctx.dtype == "float64":
        first_round = table[table["round"] == 1]
        best_lr, median_lr = first_round.iloc[0]["lr"], float(np.median(first_round["lr"]))
        ctx.value("median lr of round 1", median_lr)
        # a tendency, not a law: at seed 85 (quick, then 12 trials) the best had lr 6.7e-6 below the median
        ctx.observed("the best trial uses a larger learning rate than the median trial", bool(best_lr > median_lr))
    ctx.value("best validation accuracy", float(table.iloc[0]["val NumPy"]))
    ctx.value("best lr", float(table.iloc[0]["lr"]))
    ctx.value("best weight decay", float(table.iloc[0]["weight_decay"]))
    ctx.table("best-trials", table.head(20))
    ctx.figure("scatter", lambda: _plot_scatter(table))
    ctx.figure("best-curves", lambda: _plot_best(results))


def _plot_scatter(table):
    fig, axes = plots.grid(1, 1, size=(6, 4.4))
    ax = axes[0]
    for round_no, marker in ((1, "o"), (2, "^")):
        sub = table[table["round"] == round_no]
        sc = ax.scatter(sub["lr"], sub["weight_decay"], c=sub["val NumPy"], cmap="viridis", vmin=0, vmax=1,
                        marker=marker, s=60, edgecolors="k", label=f"round {round_no}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("weight decay λ")
    ax.set_title("Random search: validation accuracy (NumPy = PyTorch)")
    fig.colorbar(sc, ax=ax, label="validation accuracy")
    ax.legend(fontsize=8)
    return fig


def _plot_best(results):
    best = sorted(results, key=lambda r: -r["val NumPy"])[:6]
    fig, axes = plots.grid(len(best), 3, size=(3.6, 2.6))
    for ax, r in zip(axes, best):
        f = r["curve"]
        ax.plot(f["epoch"], f["val NumPy"], lw=2, label="val NumPy")
        ax.plot(f["epoch"], f["val torch"], lw=1, ls="--", label="val PyTorch")
        ax.plot(f["epoch"], f["train NumPy"], lw=1, color="gray", label="train NumPy")
        ax.set_title(f"lr {r['lr']:.1e}, λ {r['weight_decay']:.1e}", fontsize=8)
        ax.set_ylim(0, 1)
        ax.set_xlabel("epoch", fontsize=8)
        ax.set_ylabel("accuracy", fontsize=8)
    axes[0].legend(fontsize=6)
    fig.tight_layout()
    return fig
