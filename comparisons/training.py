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
               x, t, batches, schedule=None, epoch_of_step=None, net_kwargs=None, model_kwargs=None,
               torch_params=None, torch_penalty=None, steps_per_epoch=None, on_epoch=None,
               amplifies_rounding: bool = False) -> PairRun:
    """Train ``ctx.impl.networks.MultiLayerNet`` and ``torch_ref.networks.mlp`` step by step.

    ``make_np_optimizer()`` returns a scratch-style optimizer; ``make_torch_optimizer(params)`` a
    ``torch.optim`` optimizer over ``torch_params(model)`` (default ``model.parameters()``; e.g.
    weight-decay groups). ``net_kwargs`` / ``model_kwargs`` configure the two networks the same way
    (batch norm, dropout, penalties); ``torch_penalty(model)`` is added to the torch loss.

    With ``schedule`` = (np_schedule, make_torch_scheduler) and ``epoch_of_step``, the learning rate
    changes once per epoch: the NumPy side sets ``opt.lr = np_schedule(epoch)``, the torch side
    calls ``scheduler.step()`` after the last optimizer step of an epoch, where PyTorch documents it.

    With dropout, PyTorch decides the masks: its step runs first, forward hooks record the masks,
    and the NumPy network is handed the same ones. ``on_epoch(epoch, run)`` is called every
    ``steps_per_epoch`` steps (e.g. to evaluate or stop early; return True to stop).

    In float32 only the start of the run is trained and compared (see :func:`horizon`).
    """
    batches = horizon(ctx, batches, amplifies_rounding)
    params = {k: ctx.array(v) for k, v in params0.items()}
    net = ctx.impl.networks.MultiLayerNet(params, activation=activation, layers=ctx.impl.layers, **(net_kwargs or {}))
    opt_np = make_np_optimizer()
    model = tnet.mlp(sizes_of(params0), activation, **(model_kwargs or {})).to(dtype=ctx.torch_dtype, device=ctx.device)
    bridge.load_mlp(model, params0)
    opt_t = make_torch_optimizer(torch_params(model) if torch_params else model.parameters())
    scheduler = schedule[1](opt_t) if schedule else None
    masks = bridge.DropoutMasks(model) if net.dropouts else None
    x_np, x_t = ctx.array(x), ctx.tensor(x)
    t_t = ctx.labels(t)
    run = PairRun(net=net, model=model)
    for step, idx in enumerate(batches):
        if schedule:
            opt_np.lr = schedule[0](epoch_of_step[step])
            run.lrs.append((opt_np.lr, opt_t.param_groups[0]["lr"]))
        with ctx.timed("torch"):
            idx_t = torch.as_tensor(idx, device=ctx.device)
            run.losses_t.append(tnet.train_step(model, opt_t, x_t[idx_t], t_t[idx_t], penalty=torch_penalty))
            last_of_epoch = schedule and (step + 1 == len(batches) or epoch_of_step[step + 1] != epoch_of_step[step])
            if last_of_epoch:
                scheduler.step()
        if masks is not None:
            for layer, mask in zip(net.dropouts, masks.take()):
                layer.set_mask(mask)
        with ctx.timed("numpy"):
            xb, tb = x_np[idx], t[idx]
            run.losses_np.append(float(net.loss(xb, tb)))
            opt_np.update(net.params, net.backward())
        if on_epoch and steps_per_epoch and (step + 1) % steps_per_epoch == 0:
            if on_epoch((step + 1) // steps_per_epoch - 1, run):
                break
    if masks is not None:
        masks.remove()
    run.losses_t = [float(v) for v in run.losses_t]
    run.params_np = {k: v.copy() for k, v in net.params.items()}
    run.params_t = bridge.mlp_arrays(model)
    return run


def flat(params: dict) -> np.ndarray:
    """All parameters in one vector, keys in sorted order."""
    return np.concatenate([np.asarray(params[k]).ravel() for k in sorted(params)])


def compare_params(ctx, label: str, run: PairRun, kind: str = "trained", note: str = "") -> None:
    """One check over all parameters at once (concatenated), and the per-step losses; the note
    says how long the run was (and, in float32, that only its start was trained)."""
    steps = len(run.losses_np)
    ctx.compare(f"{label}: final parameters", flat(run.params_np), flat(run.params_t), kind=kind,
                note=" ".join(filter(None, [f"{flat(run.params_np).size} parameters after {steps} steps.", note,
                                            horizon_note(ctx, steps)])))
    ctx.compare(f"{label}: loss at every step", run.losses_np, run.losses_t, kind=kind)


def overfitting_setup(ctx, n_train: int = 300, hidden: int = 6):
    """The book's overfitting set-up: few training images (300) and a deep net of 100-unit ReLU
    layers (6 hidden), He-initialised. Returns x_train, t_train, x_test, t_test, params0."""
    from . import data

    x_tr, t_tr, x_te, t_te = data.image_data(ctx)
    sizes = [x_tr.shape[1]] + [100] * hidden + [10]
    return x_tr[:n_train], t_tr[:n_train], x_te, t_te, he_params(ctx.rng, sizes)


def accuracy_tracker(ctx, x_tr, t_tr, x_te=None, t_te=None):
    """(rows, on_epoch): ``on_epoch`` appends train (and, given a test set, test) accuracy of both
    sides to ``rows``."""
    sets = {"train": (x_tr, t_tr)} if x_te is None else {"train": (x_tr, t_tr), "test": (x_te, t_te)}
    arrays = {k: (ctx.array(x), t, ctx.tensor(x), ctx.labels(t)) for k, (x, t) in sets.items()}
    rows = []

    def on_epoch(epoch, run):
        row = {"epoch": epoch + 1}
        for name, (X, t, Xt, Tt) in arrays.items():
            row[f"{name} NumPy"] = run.net.accuracy(X, t)
            row[f"{name} torch"] = tnet.accuracy(run.model, Xt, Tt)
        rows.append(row)

    return rows, on_epoch


FLOAT32_STEPS = 12
FLOAT32_SHORT_STEPS = 3


def horizon(ctx, batches, amplifies_rounding: bool = False):
    """The batches a training comparison runs over: all of them in float64; the first
    ``FLOAT32_STEPS`` (or ``FLOAT32_SHORT_STEPS``) in float32.

    Why float32 compares only the start of a long run: every step rounds a little differently on
    the two sides, and training amplifies it. Smoothly (a sigmoid net after thousands of steps
    drifts past float32's tolerance), and in jumps: a pre-activation within float32 rounding of 0
    switches a ReLU on one side and not the other, and from that step on the two runs are two
    different, equally valid float32 trainings. Such a flip can come at any step (measured over
    seeds 0–3: after 28 steps of a 7-layer net, after 105 steps of a 2-layer one). In float64 the
    same math agrees to ~1e-12 over every whole run, which is where the checks prove it; a
    mistake in the formula shows from the first step, so the float32 start still catches it.

    ``amplifies_rounding``: updates that turn rounding-level numbers into full-size steps part
    sooner — L1's λ·sign(w) for weights at 0; batch norm's (x − μ)/√(σ² + ε) when tiny weights
    make x − μ cancel. Adaptive optimizers go further (see :func:`compares_adaptive_on_networks`).
    """
    if ctx.dtype == "float64":
        return list(batches)
    return list(batches)[: FLOAT32_SHORT_STEPS if amplifies_rounding else FLOAT32_STEPS]


def compares_adaptive_on_networks(ctx) -> bool:
    """Whether AdaGrad, RMSProp, Adam and AdamW are compared step by step on a network.

    float64: yes, over the whole run. float32: no. These optimizers divide every gradient element
    by its own running magnitude, so an element whose float32 gradient is mostly rounding error (a
    sum over the batch that nearly cancels) still moves by about η, in a direction rounding decides:
    on the digits MLP the float32 sides part from the second step (measured, seed 2). On the shared
    problems with exact gradients (the ``optimizers`` concept's x²/20 + y², 100 steps) float32 is
    compared as well."""
    return ctx.dtype == "float64"


def horizon_note(ctx, steps: int) -> str:
    return "" if ctx.dtype == "float64" else f"float32: the first {steps} steps (see training.horizon)"
