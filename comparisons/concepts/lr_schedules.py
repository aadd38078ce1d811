"""Learning-rate schedules epoch by epoch against torch.optim.lr_scheduler."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

import torch_ref.optim as topt

from .. import data, pairs, plots
from ..lockstep import Lockstep
from ..training import compare_params, flat, free_running, he_params, train_pair


MOMENTUM_RELATION = "textbook momentum under a schedule = torch SGD(momentum) with b × η_old/η_new at each decay"
MOMENTUM_RELATION_CHECK = f"{MOMENTUM_RELATION}: lockstep parameters after the step"  # recorded by train_pair


EPOCHS = 30
LR0 = 0.2


SETTINGS = {  # label → (the declared schedule pair, its hyperparameters under scratch's names)
    "step: halve every 5": ("step-decay", {"step_size": 5, "gamma": 0.5}),
    "step: ×0.1 every 20": ("step-decay", {"step_size": 20, "gamma": 0.1}),
    "exponential k=0.1": ("exponential-decay", {"k": 0.1}),
    "1/t k=0.2": ("inverse-time-decay", {"k": 0.2}),
}


def schedules(impl):
    """label → (the implementation's schedule, a builder of the torch scheduler), both sides from
    the declaration of :mod:`comparisons.pairs.schedules`."""
    out = {}
    for label, (pair_id, h) in SETTINGS.items():
        pair = pairs.get("schedule", pair_id)
        out[label] = (pair.scratch_object(impl)(LR0, **h),
                      lambda optimizer, pair=pair, h=h: pair.torch(optimizer, **pair.torch_kwargs(h)))
    return out


def run(ctx):
    x_tr, t_tr, _, _ = data.digits(ctx.rng)
    x_tr, t_tr = x_tr[:500], t_tr[:500]
    params0 = he_params(ctx.rng, [64, 50, 10])
    ctx.value("epochs", EPOCHS)
    batches = data.epoch_batches(ctx.rng, len(x_tr), 50, EPOCHS)
    epoch_of_step = np.repeat(np.arange(EPOCHS), len(batches) // EPOCHS)
    results = {}
    for name, (sched_np, make_sched_t) in schedules(ctx.impl).items():
        run_ = train_pair(ctx, name, params0, "relu", lambda: ctx.impl.optim.SGD(LR0), lambda ps: topt.sgd(ps, LR0),
                          x_tr, t_tr, batches, schedule=(sched_np, make_sched_t), epoch_of_step=epoch_of_step)
        lr_np = np.array([a for a, _ in run_.lrs])[:: len(batches) // EPOCHS]
        lr_t = np.array([b for _, b in run_.lrs])[:: len(batches) // EPOCHS]
        ctx.compare(f"{name}: lr per epoch", lr_np, lr_t)
        compare_params(ctx, name, run_, note="SGD, scheduler stepped after each epoch.")
        results[name] = (lr_np, lr_t, run_.losses_np, run_.losses_t)
    closed = np.array([LR0 * math.exp(-0.1 * t) for t in range(EPOCHS)])
    rec = ctx.compare("exponential decay = η₀e^(−kt) in closed form", results["exponential k=0.1"][1],
                      closed[: len(results["exponential k=0.1"][1])])
    ctx.value("exponential decay vs closed form", rec.max_abs_err)
    ctx.observed_checks("every schedule's loss agrees at every step",
                        lambda check: check.split(":")[0] in results and "loss" in check)

    _momentum_under_schedule(ctx, x_tr, t_tr, params0, batches, epoch_of_step)
    _adamw_under_schedule(ctx, x_tr, t_tr, params0, batches, epoch_of_step)
    n_epochs = EPOCHS
    ctx.table("lr-per-epoch", pd.DataFrame({"epoch": np.arange(n_epochs),
                                            **{f"{k} (NumPy)": v[0][:n_epochs] for k, v in results.items()},
                                            **{f"{k} (torch)": v[1][:n_epochs] for k, v in results.items()}}).iloc[::3])
    ctx.figure("lr-curves", lambda: _plot_lr(results))
    ctx.figure("loss-curves", lambda: _plot_loss(results))


def _momentum_under_schedule(ctx, x, t, params0, batches, epoch_of_step):
    """Textbook momentum (scratch.optim.Momentum) against torch's SGD(momentum) under StepLR."""
    S = ctx.impl.schedules
    per_epoch = len(batches) // EPOCHS
    first = batches[: 5 * per_epoch]  # the epochs before the first decay
    make_np = lambda: ctx.impl.optim.Momentum(0.05, momentum=0.9)  # noqa: E731
    make_t = lambda ps: topt.momentum(ps, 0.05, 0.9)  # noqa: E731
    sched = (S.StepDecay(0.05, 5, 0.5), lambda o: topt.step_lr(o, 5, 0.5))
    before = train_pair(ctx, "textbook momentum before the first decay", params0, "relu", make_np, make_t, x, t, first,
                        schedule=sched, epoch_of_step=epoch_of_step)
    compare_params(ctx, "textbook momentum before the first decay", before, note="5 epochs at constant lr: v = −lr·b")
    after_lock = Lockstep(ctx, "textbook momentum over the whole schedule")
    after = train_pair(ctx, after_lock.label, params0, "relu", make_np, make_t, x, t, batches, schedule=sched,
                       epoch_of_step=epoch_of_step, lockstep=after_lock)
    parted = after_lock.parts["parameters after the step"].first_mismatch
    rescaled = train_pair(ctx, MOMENTUM_RELATION, params0, "relu", make_np, lambda ps: topt.momentum_textbook(ps, 0.05, 0.9),
                          x, t, batches, schedule=sched, epoch_of_step=epoch_of_step)
    compare_params(ctx, MOMENTUM_RELATION, rescaled, note="lr halved every 5 epochs: torch's SGD(momentum) with b multiplied "
                   "by η_old/η_new at every decay (torch_ref.optim.momentum_textbook)")
    relation = rescaled.lockstep.records["parameters after the step"]
    ctx.finding("textbook momentum parts from torch's at the first step after the first decay",
                after_lock.parts["gradients"].passed and parted is not None and parted["step"] == len(first),
                f"lockstep: the parameters first differ at step {parted and parted['step']} (the first step at the "
                f"new lr is {len(first)}); the gradients agree at every step. Relation checked exactly: “{relation.check}”")
    if free_running(ctx):
        ctx.differs("textbook momentum parts from torch's after the first decay", flat(after.params_np), flat(after.params_t),
                    relation=relation, note="free-running; v keeps the old lr inside it; torch scales its buffer by the new lr")


def _adamw_under_schedule(ctx, x, t, params0, batches, epoch_of_step):
    S = ctx.impl.schedules
    sched = (S.StepDecay(0.003, 5, 0.5), lambda o: topt.step_lr(o, 5, 0.5))
    label = "AdamW's decay follows the schedule (p ← p(1 − η_t λ))"
    run_ = train_pair(ctx, label, params0, "relu", lambda: ctx.impl.optim.AdamW(0.003, weight_decay=0.5),
                      lambda ps: topt.adamw(ps, 0.003, weight_decay=0.5), x, t, batches[: 10 * (len(batches) // EPOCHS)],
                      schedule=sched, epoch_of_step=epoch_of_step)
    compare_params(ctx, label, run_)


def _plot_lr(results):
    fig, axes = plots.grid(1, 1, size=(6, 3.8))
    ax = axes[0]
    for name, (lr_np, lr_t, _, _) in results.items():
        line, = ax.plot(lr_np, lw=2, label=f"{name}")
        plots.torch_points(ax, np.arange(len(lr_t)), lr_t, color=line.get_color(), label=None)
    ax.set_xlabel("epoch")
    ax.set_ylabel("learning rate")
    ax.set_title("Learning rate per epoch (lines: NumPy, markers: torch.optim.lr_scheduler)", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return fig


def _plot_loss(results):
    fig, axes = plots.grid(len(results), 4, size=(3.4, 2.6))
    for ax, (name, (_, _, l_np, l_t)) in zip(axes, results.items()):
        plots.overlay(ax, np.arange(1, len(l_np) + 1), l_np, l_t, title=name, xlabel="step", ylabel="training loss")
        ax.set_yscale("log")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    return fig
