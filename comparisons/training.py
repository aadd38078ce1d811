"""Train the NumPy network and the PyTorch network side by side from the same initial weights on
the same batches, and hand back everything a comparison needs."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

import torch_ref.networks as tnet

from . import bridge


def he_params(rng: np.random.Generator, sizes, std=None) -> dict:
    """Shared initial weights W (in, out) ~ N(0, std²) with std = √(2/in) (He) unless given, b = 0."""
    params = {}
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        s = np.sqrt(2.0 / n_in) if std is None else std
        params[f"W{i}"] = rng.normal(0.0, s, size=(n_in, n_out))
        params[f"b{i}"] = np.zeros(n_out)
    return params


def sizes_of(params: dict) -> list[int]:
    """[in, hidden…, out] of W1 … WL."""
    depth = sum(1 for k in params if k.startswith("W"))
    return [params["W1"].shape[0]] + [params[f"W{i}"].shape[1] for i in range(1, depth + 1)]


@dataclass
class PairRun:
    """The two sides after training: per-step losses and final parameters (NumPy layout)."""

    losses_np: list = field(default_factory=list)
    losses_t: list = field(default_factory=list)
    params_np: dict | None = None
    params_t: dict | None = None
    net: object = None
    model: object = None
    lrs: list = field(default_factory=list)


def train_pair(ctx, params0: dict, activation: str, make_np_optimizer, make_torch_optimizer,
               x, t, batches, schedule=None, epoch_of_step=None, net_kwargs=None) -> PairRun:
    """Train ``ctx.impl.networks.MultiLayerNet`` and ``torch_ref.networks.mlp`` step by step.

    ``make_np_optimizer()`` returns a scratch-style optimizer; ``make_torch_optimizer(params)`` a
    ``torch.optim`` optimizer. With ``schedule`` = (np_schedule, make_torch_scheduler) and
    ``epoch_of_step`` (the epoch of each step), the learning rate changes once per epoch: the NumPy
    side sets ``opt.lr = np_schedule(epoch)``, the torch side calls ``scheduler.step()`` after the
    last optimizer step of an epoch, where PyTorch documents it.
    """
    params = {k: ctx.array(v) for k, v in params0.items()}
    net = ctx.impl.networks.MultiLayerNet(params, activation=activation, layers=ctx.impl.layers,
                                         **(net_kwargs or {}))
    opt_np = make_np_optimizer()
    model = tnet.mlp(sizes_of(params0), activation).to(dtype=ctx.torch_dtype, device=ctx.device)
    bridge.load_mlp(model, params0)
    opt_t = make_torch_optimizer(model.parameters())
    scheduler = schedule[1](opt_t) if schedule else None
    x_np, x_t = ctx.array(x), ctx.tensor(x)
    t_t = ctx.labels(t)
    run = PairRun(net=net, model=model)
    for step, idx in enumerate(batches):
        if schedule:
            opt_np.lr = schedule[0](epoch_of_step[step])
            run.lrs.append((opt_np.lr, opt_t.param_groups[0]["lr"]))
        with ctx.timed("numpy"):
            xb, tb = x_np[idx], t[idx]
            run.losses_np.append(float(net.loss(xb, tb)))
            opt_np.update(net.params, net.gradient(xb, tb))
        with ctx.timed("torch"):
            idx_t = torch.as_tensor(idx, device=ctx.device)
            run.losses_t.append(tnet.train_step(model, opt_t, x_t[idx_t], t_t[idx_t]))
            last_of_epoch = schedule and (step + 1 == len(batches) or epoch_of_step[step + 1] != epoch_of_step[step])
            if last_of_epoch:
                scheduler.step()
    run.losses_t = [float(v) for v in run.losses_t]
    run.params_np = {k: v.copy() for k, v in net.params.items()}
    run.params_t = bridge.mlp_arrays(model)
    return run


def compare_params(ctx, label: str, run: PairRun, kind: str = "trained") -> None:
    """One check over all parameters at once (concatenated), and the per-step losses."""
    keys = sorted(run.params_np)
    ctx.compare(f"{label}: final parameters", np.concatenate([run.params_np[k].ravel() for k in keys]),
                np.concatenate([run.params_t[k].ravel() for k in keys]), kind=kind,
                note=f"{sum(run.params_np[k].size for k in keys)} parameters after {len(run.losses_np)} steps")
    ctx.compare(f"{label}: loss at every step", run.losses_np, run.losses_t, kind=kind)
