"""Multi-task learning: a shared trunk, two softmax heads, a summed loss — the shared gradient is
the sum of the heads' gradients, on both sides, and training matches step by step."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

import torch_ref.multitask as tmt

from .. import bridge, data, plots, sides
from ..lockstep import train
from ..training import he_params


def run(ctx):
    x_tr, t_tr, x_te, t_te = data.image_data(ctx)
    tb_tr = (t_tr >= 5).astype(np.int64)
    p = he_params(ctx.rng, [x_tr.shape[1], 50, 10])
    params0 = {"W1": p["W1"], "b1": p["b1"], "Wa": p["W2"], "ba": p["b2"],
               "Wb": ctx.rng.normal(0, np.sqrt(2 / 50), size=(50, 2)), "bb": np.zeros(2)}
    net = ctx.impl.networks.MultiTaskNet({k: ctx.array(v) for k, v in params0.items()}, layers=ctx.impl.layers)
    model = tmt.MultiTaskNet(x_tr.shape[1], 50, 10, 2).to(dtype=ctx.torch_dtype, device=ctx.device)
    bridge.load_multitask(model, params0)
    xb, ta, tb = ctx.array(x_tr[:100]), t_tr[:100], tb_tr[:100]

    g_both = net.gradient(xb, ta, tb)
    g_a = {k: v.copy() for k, v in net.gradient(xb, ta, tb, heads=("a",)).items()}
    g_b = {k: v.copy() for k, v in net.gradient(xb, ta, tb, heads=("b",)).items()}
    ctx.compare("shared gradient = head a + head b (NumPy)", g_both["W1"], g_a["W1"] + g_b["W1"])
    ctx.finding("each head moves the shared trunk (NumPy)", bool(np.abs(g_a["W1"]).max() > 0 and np.abs(g_b["W1"]).max() > 0))

    loss_a, loss_b = tmt.losses(model, ctx.tensor(xb), ctx.labels(ta), ctx.labels(tb))
    trunk = [model.trunk[0].weight]
    ga_t = torch.autograd.grad(loss_a, trunk, retain_graph=True)[0]
    gb_t = torch.autograd.grad(loss_b, trunk, retain_graph=True)[0]
    (loss_a + loss_b).backward()
    ctx.compare("shared gradient = head a + head b (torch)", model.trunk[0].weight.grad, ga_t + gb_t)
    g_t = bridge.multitask_arrays(model, grad=True)
    for key in ("W1", "b1", "Wa", "ba", "Wb", "bb"):
        ctx.compare(f"gradient of L_a + L_b vs autograd: {key}", g_both[key], g_t[key])
    ctx.compare("head a's part of the trunk gradient vs autograd", g_a["W1"], ctx.numpy(ga_t).T)

    _train(ctx, params0, x_tr, t_tr, tb_tr, x_te, t_te)


def _train(ctx, params0, x_tr, t_tr, tb_tr, x_te, t_te):
    """SGD on both sides from the same start, through the one trainer: in lockstep (each step from
    torch's parameters), and in float64 free-running as well."""
    batches = data.epoch_batches(ctx.rng, len(x_tr), 100, ctx.size(10, 10))
    run_ = train(ctx, "SGD on L_a + L_b", *sides.multitask(ctx, params0, (x_tr, t_tr, tb_tr), lambda: ctx.impl.optim.SGD(0.1),
                                                           lambda ps: torch.optim.SGD(ps, lr=0.1)),
                 batches, note=f"{len(batches)} SGD steps")
    ours, theirs = np.array(run_.losses_np, dtype=np.float64), np.array(run_.losses_t, dtype=np.float64)
    frame = pd.DataFrame({"step": np.arange(1, len(ours) + 1), "digit loss NumPy": ours[:, 0], "digit loss torch": theirs[:, 0],
                          "≥5 loss NumPy": ours[:, 1], "≥5 loss torch": theirs[:, 1]})
    net = run_.numpy.net
    scores_a = net.heads["a"].forward(net.trunk[1].forward(net.trunk[0].forward(ctx.array(x_te))))
    acc = float(np.mean(np.argmax(scores_a, axis=1) == t_te))
    ctx.finding("the shared trunk serves the digit head (test accuracy > 0.85)", acc > 0.85, f"digit test accuracy {acc:.3f}")
    scores_b = net.heads["b"].forward(net.trunk[1].forward(net.trunk[0].forward(ctx.array(x_te))))
    ctx.value("digit test accuracy", acc)
    ctx.value("≥5 test accuracy", float(np.mean(np.argmax(scores_b, axis=1) == (t_te >= 5))))
    ctx.value("input width", x_tr.shape[1])
    ctx.value("steps", len(batches))
    ctx.table("losses", frame.iloc[::10])
    ctx.observed_checks("both heads' losses agree at every step", lambda check: "head losses" in check)
    ctx.figure("losses", lambda: _plot(frame))


def _plot(frame):
    fig, axes = plots.grid(2, 2, size=(4.2, 3.2))
    for ax, head in zip(axes, ("digit", "≥5")):
        plots.overlay(ax, frame["step"], frame[f"{head} loss NumPy"], frame[f"{head} loss torch"],
                      title=f"head '{head}' loss", xlabel="step", ylabel="loss")
        ax.set_yscale("log")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    return fig
