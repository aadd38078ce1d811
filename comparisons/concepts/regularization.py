"""L2, L1 and elastic penalties; weight decay in torch.optim; coupled vs decoupled decay (AdamW)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

import torch_ref.networks as tnet

from .. import data, plots, sides
from ..lockstep import flat, train
from ..outcomes import quote_accuracies, quote_gap
from ..training import AccuracyTracker, overfitting_setup, record_accuracies

DECAY_RELATION = "Adam + L2 and AdamW, step 1: p − η(g + λp)/(|g + λp| + ε) and p(1 − ηλ) − ηg/(|g| + ε)"


LAMBDA = 0.1


def run(ctx):
    _penalties(ctx)
    x_tr, t_tr, x_te, t_te, params0 = overfitting_setup(ctx)
    spe = int(np.ceil(len(x_tr) / 100))
    epochs = ctx.value("epochs", ctx.size(75, 201))
    ctx.value("training images", len(x_tr))
    ctx.value("pixels", x_tr.shape[1])
    all_batches = data.epoch_batches(ctx.rng, len(x_tr), 100, epochs)
    # Accuracy on 300 training and 1,000 test images costs as much as 4 epochs of training: at full
    # length it is taken after every third epoch (201 = 3 × 67, so the last epoch is one of them);
    # quick, after every fifth (75 = 5 × 15), which keeps the seed sweep inside its time budget.
    every = ctx.value("accuracy taken every", ctx.size(5, 3))
    variants = {
        "no regularisation": ({}, None, None),
        f"L2 λ={LAMBDA}": ({"weight_decay_lambda": LAMBDA}, lambda m: tnet.weight_decay_groups(m, LAMBDA), None),
        f"L1 λ={LAMBDA / 100:g}": ({"l1_lambda": LAMBDA / 100}, None, lambda m: tnet.l1_penalty(m, LAMBDA / 100)),
    }
    curves, weights, accuracies = {}, {}, {}
    for name, (net_kwargs, groups, penalty) in variants.items():
        tracker = AccuracyTracker(ctx, x_tr, t_tr, x_te, t_te)
        label = f"overfitting set-up, {name}"
        setup = sides.Setup(net=net_kwargs, torch_params=groups, torch_penalty=penalty)
        run_ = train(ctx, label, *sides.network(ctx, params0, (x_tr, t_tr), lambda: ctx.impl.optim.SGD(0.01),
                                                lambda ps: torch.optim.SGD(ps, lr=0.01), setup),
                     all_batches, steps_per_epoch=spe * every, on_epoch=tracker,
                     note="SGD" + ("; torch: weight_decay on a weights-only group" if groups else ""))
        frame = tracker.frame()
        frame["epoch"] *= every
        record_accuracies(ctx, f"overfitting set-up, {name}: accuracy per epoch", [tracker])
        curves[name] = frame
        accuracies[name] = quote_accuracies(ctx, name, frame)
        weights[name] = np.concatenate([run_.params_np[f"W{i}"].ravel() for i in range(1, 8)])
    quote_gap(ctx, "L2 narrows the train − test gap", accuracies["no regularisation"], accuracies[f"L2 λ={LAMBDA}"])
    ctx.value(f"L1 λ={LAMBDA / 100:g}: largest total pull", 0.01 * LAMBDA / 100 * len(all_batches))
    if ctx.dtype == "float64":
        _findings(ctx, curves, weights)
    decay_relation = _coupled_vs_decoupled_step(ctx)
    _adam_l2_vs_adamw(ctx, x_tr, t_tr, params0, decay_relation)
    ctx.table("final-accuracy", pd.DataFrame([{"variant": k, **f.iloc[-1].to_dict()} for k, f in curves.items()]))
    ctx.figure("accuracy", lambda: plots.accuracy_panels(
        curves, "300 training images, 6 hidden layers of 100: train vs test accuracy"))
    ctx.figure("weight-histograms", lambda: _plot_weights(weights))


def _findings(ctx, curves, weights):
    norm = {k: ctx.value(f"{k}: sum of squared weights", float(np.sum(w**2))) for k, w in weights.items()}
    ctx.finding("L2 keeps the weights smaller", bool(norm[f"L2 λ={LAMBDA}"] < norm["no regularisation"]),
                "Σ‖W‖² after training: " + ", ".join(f"{k} {v:.1f}" for k, v in norm.items())
                + ". (Whether the train − test gap narrows on 300 images depends on the seed: see the table.)")
    small = {k: ctx.value(f"{k}: weights within 1e-3 of 0", float(np.mean(np.abs(w) < 1e-3))) for k, w in weights.items()}
    ctx.finding("L1 makes weights sparse", bool(small[f"L1 λ={LAMBDA / 100:g}"] > 2 * small["no regularisation"]),
                "fraction of |w| < 1e-3: " + ", ".join(f"{k} {v:.3f}" for k, v in small.items()))


def _penalties(ctx):
    R = ctx.impl.regularization
    W = ctx.array(ctx.rng.normal(size=(6, 5)))
    W[0, :3] = 0.0  # exact zeros: L1's subgradient there
    Wt = ctx.tensor(W, requires_grad=True)
    for name, value_np, grad_np, torch_fn in [
        ("L2", R.l2_penalty([W], LAMBDA), R.l2_grad(W, LAMBDA), lambda w: 0.5 * LAMBDA * (w**2).sum()),
        ("L1", R.l1_penalty([W], LAMBDA), R.l1_grad(W, LAMBDA), lambda w: LAMBDA * w.abs().sum()),
        ("elastic", R.elastic_penalty([W], 0.05, LAMBDA), R.elastic_grad(W, 0.05, LAMBDA),
         lambda w: 0.05 * w.abs().sum() + 0.5 * LAMBDA * (w**2).sum()),
    ]:
        Wt.grad = None
        value = torch_fn(Wt)
        value.backward()
        ctx.compare(f"{name} penalty value", value_np, value)
        label = "L1 gradient with zeros = autograd (sign(0) = 0)" if name == "L1" else f"{name} gradient = autograd"
        ctx.compare(label, grad_np, Wt.grad)
    # SGD(weight_decay=λ) is exactly SGD on the L2-penalised loss, one step:
    g = ctx.array(ctx.rng.normal(size=W.shape))
    p_np = W - 0.01 * (g + R.l2_grad(W, LAMBDA))
    p_t = ctx.tensor(W, requires_grad=True)
    opt = torch.optim.SGD([p_t], lr=0.01, weight_decay=LAMBDA)
    p_t.grad = ctx.tensor(g)
    opt.step()
    ctx.compare("one SGD step: L2 gradient = weight_decay", p_np, p_t)


def _coupled_vs_decoupled_step(ctx):
    """One Adam step from a fresh state (m = v = 0, so m̂ = g and v̂ = g² for the gradient g it is
    given), the same p and loss gradient g on both sides, in closed form:

        Adam + L2 (coupled):   p − η·(g + λp)/(|g + λp| + ε)    the decay λp is divided by √v̂
        AdamW (decoupled):     p·(1 − ηλ) − η·g/(|g| + ε)       the decay is ηλp whatever g
    """
    lam, lr, eps = 0.05, 0.001, 1e-8
    p = ctx.array(ctx.rng.normal(size=(6, 5)))
    g = ctx.array(ctx.rng.normal(size=p.shape) * np.logspace(-3, 0, p.shape[1]))  # small to large gradients
    coupled, decoupled = {"W": p.copy()}, {"W": p.copy()}
    ctx.impl.optim.Adam(lr, eps=eps).update(coupled, {"W": g + ctx.impl.regularization.l2_grad(p, lam)})
    ctx.impl.optim.AdamW(lr, eps=eps, weight_decay=lam).update(decoupled, {"W": g})
    p64, g64 = p.astype(np.float64), g.astype(np.float64)
    g_l2 = g64 + lam * p64
    closed = np.stack([p64 - lr * g_l2 / (np.abs(g_l2) + eps), p64 * (1 - lr * lam) - lr * g64 / (np.abs(g64) + eps)])
    relation = ctx.compare(DECAY_RELATION, np.stack([coupled["W"], decoupled["W"]]), closed,
                           note="first step from m = v = 0: coupled p − η(g + λp)/(|g + λp| + ε), "
                                "decoupled p(1 − ηλ) − ηg/(|g| + ε)")
    ctx.observed("both step-1 formulas hold", relation.passed)  # the guide's name for it: '|' ends a marker's name
    return relation


def _adam_l2_vs_adamw(ctx, x_tr, t_tr, params0, decay_relation):
    lam, lr = 0.05, 0.001
    batches = data.epoch_batches(ctx.rng, len(x_tr), 100, 10)
    label = "Adam + L2 penalty = torch Adam(weight_decay)"
    coupled_setup = sides.Setup(net={"weight_decay_lambda": lam}, torch_params=lambda m: tnet.weight_decay_groups(m, lam))
    coupled = train(ctx, label, *sides.network(ctx, params0, (x_tr, t_tr), lambda: ctx.impl.optim.Adam(lr),
                                               lambda ps: torch.optim.Adam(ps, lr=lr, weight_decay=lam), coupled_setup),
                    batches)
    decoupled = train(ctx, "AdamW = torch AdamW", *sides.network(
        ctx, params0, (x_tr, t_tr), lambda: ctx.impl.optim.AdamW(lr, weight_decay=lam),
        lambda ps: torch.optim.AdamW(ps, lr=lr, weight_decay=lam)), batches)
    if decoupled.free_running:
        ctx.differs("Adam + L2 differs from AdamW", flat(coupled.params_np), flat(decoupled.params_np), relation=decay_relation,
                    note="coupled decay is divided by √v̂ per element; decoupled decay is not")


def _plot_weights(weights):
    fig, axes = plots.grid(len(weights), len(weights), size=(4, 3))
    for ax, (name, w) in zip(axes, weights.items()):
        ax.hist(w, bins=80, range=(-0.5, 0.5), color="tab:blue")
        ax.set_yscale("log")
        ax.set_xlabel("weight")
        ax.set_ylabel("count")
        ax.set_title(f"{name}: weights after training", fontsize=9)
    fig.tight_layout()
    return fig
