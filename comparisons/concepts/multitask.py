"""Multi-task learning: a shared trunk, two softmax heads, a summed loss — the shared gradient is
the sum of the heads' gradients, on both sides, and training matches step by step."""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd
import torch

import torch_ref.multitask as tmt

from .. import bridge, data, plots
from ..lockstep import Lockstep, load_into
from ..training import free_running, he_params


def _load(model, params):
    bridge.load_linear(model.trunk[0], params["W1"], params["b1"])
    bridge.load_linear(model.head_a, params["Wa"], params["ba"])
    bridge.load_linear(model.head_b, params["Wb"], params["bb"])


def _torch_grads(model):
    return _torch_arrays(model, grad=True)


def run(ctx):
    x_tr, t_tr, x_te, t_te = data.image_data(ctx)
    tb_tr = (t_tr >= 5).astype(np.int64)
    p = he_params(ctx.rng, [x_tr.shape[1], 50, 10])
    params0 = {"W1": p["W1"], "b1": p["b1"], "Wa": p["W2"], "ba": p["b2"],
               "Wb": ctx.rng.normal(0, np.sqrt(2 / 50), size=(50, 2)), "bb": np.zeros(2)}
    net = ctx.impl.networks.MultiTaskNet({k: ctx.array(v) for k, v in params0.items()}, layers=ctx.impl.layers)
    model = tmt.MultiTaskNet(x_tr.shape[1], 50, 10, 2).to(dtype=ctx.torch_dtype, device=ctx.device)
    _load(model, params0)
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
    g_t = _torch_grads(model)
    for key in ("W1", "b1", "Wa", "ba", "Wb", "bb"):
        ctx.compare(f"gradient of L_a + L_b vs autograd: {key}", g_both[key], g_t[key])
    ctx.compare("head a's part of the trunk gradient vs autograd", g_a["W1"], ctx.numpy(ga_t).T)

    _train(ctx, params0, x_tr, t_tr, tb_tr, x_te, t_te)


def _torch_arrays(model, grad=False):
    out = {}
    for key, layer in (("1", model.trunk[0]), ("a", model.head_a), ("b", model.head_b)):
        arrays = bridge.linear_arrays(layer, grad=grad)
        out[f"W{key}"], out[f"b{key}"] = arrays["W"], arrays["b"]
    return out


def _torch_step(model, x, ta, tb):
    """Head losses and gradients of L_a + L_b at the model's parameters (no step taken)."""
    model.zero_grad()
    la, lb = tmt.losses(model, x, ta, tb)
    (la + lb).backward()
    return la.item(), lb.item(), _torch_arrays(model, grad=True)


def _numpy_step(net, x, ta, tb):
    grads = net.gradient(x, ta, tb)
    return net.head_losses["a"], net.head_losses["b"], grads


def _in_float64(ctx, state, x, ta, tb) -> dict:
    """Both sides' losses and gradients at ``state`` in float64 (the referee of a float32 step)."""
    params = {k: np.asarray(v, dtype=np.float64) for k, v in state.items()}
    net = ctx.impl.networks.MultiTaskNet(params, layers=ctx.impl.layers)
    model = tmt.MultiTaskNet(params["W1"].shape[0], params["W1"].shape[1], params["Wa"].shape[1],
                             params["Wb"].shape[1]).to(dtype=torch.float64, device=ctx.device)
    _load(model, params)
    ours = _numpy_step(net, np.asarray(x, dtype=np.float64), ta, tb)
    theirs = _torch_step(model, torch.as_tensor(np.asarray(x, dtype=np.float64), device=ctx.device), ctx.labels(ta),
                         ctx.labels(tb))
    return {"head losses": (ours[:2], theirs[:2]), "gradients": (ours[2], theirs[2])}


def _train(ctx, params0, x_tr, t_tr, tb_tr, x_te, t_te):
    """SGD on both sides from the same start: in lockstep (each step from torch's parameters), and
    in float64 free-running as well."""
    lock = ctx.impl.networks.MultiTaskNet({k: ctx.array(v) for k, v in params0.items()}, layers=ctx.impl.layers)
    free = ctx.impl.networks.MultiTaskNet({k: ctx.array(v) for k, v in params0.items()}, layers=ctx.impl.layers) \
        if free_running(ctx) else None
    opt_lock, opt_free = ctx.impl.optim.SGD(0.1), ctx.impl.optim.SGD(0.1)
    model = tmt.MultiTaskNet(x_tr.shape[1], 50, 10, 2).to(dtype=ctx.torch_dtype, device=ctx.device)
    _load(model, params0)
    opt_t = torch.optim.SGD(model.parameters(), lr=0.1)
    batches = data.epoch_batches(ctx.rng, len(x_tr), 100, ctx.size(10, 10))
    X, Xt, Ta, Tb = ctx.array(x_tr), ctx.tensor(x_tr), ctx.labels(t_tr), ctx.labels(tb_tr)
    lockstep = Lockstep(ctx, "SGD on L_a + L_b")
    rows = []
    for step, idx in enumerate(batches):
        with ctx.timed("torch"):
            before = _torch_arrays(model)
            i = torch.as_tensor(idx, device=ctx.device)
            la, lb, grads_t = _torch_step(model, Xt[i], Ta[i], Tb[i])
            opt_t.step()
            after = _torch_arrays(model)
        with ctx.timed("numpy"):
            load_into(lock.params, before)
            la_l, lb_l, grads = _numpy_step(lock, X[idx], t_tr[idx], tb_tr[idx])
            opt_lock.update(lock.params, {k: ctx.array(v) for k, v in grads_t.items()})
        lockstep.step(step, {"head losses": ((la_l, lb_l), (la, lb)), "gradients": (grads, grads_t)},
                      partial(_in_float64, ctx, before, x_tr[idx], t_tr[idx], tb_tr[idx]))
        lockstep.compare(step, "parameters after the step", lock.params, after)
        if free is not None:
            with ctx.timed("numpy"):
                la_np, lb_np, g = _numpy_step(free, X[idx], t_tr[idx], tb_tr[idx])
                opt_free.update(free.params, g)
        else:
            la_np, lb_np = la_l, lb_l
        rows.append({"step": len(rows) + 1, "digit loss NumPy": la_np, "digit loss torch": la,
                     "≥5 loss NumPy": lb_np, "≥5 loss torch": lb})
    lockstep.record(note=f"{len(batches)} SGD steps")
    frame = pd.DataFrame(rows)
    net = free or lock
    if free is not None:
        ctx.compare("per-head losses at every step (free-running)", frame[["digit loss NumPy", "≥5 loss NumPy"]].to_numpy(),
                    frame[["digit loss torch", "≥5 loss torch"]].to_numpy(), kind="trained", note=f"{len(batches)} SGD steps")
        p_t = _torch_arrays(model)
        keys = sorted(p_t)
        ctx.compare("final parameters (free-running)", np.concatenate([net.params[k].ravel() for k in keys]),
                    np.concatenate([p_t[k].ravel() for k in keys]), kind="trained")
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
