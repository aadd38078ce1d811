"""Train the NumPy network and the PyTorch network side by side from the same initial weights on
the same batches, and hand back everything a comparison needs."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Callable

import numpy as np
import torch

import torch_ref.networks as tnet
import torch_ref.optim as topt

from . import bridge
from .checks import close
from .lockstep import Lockstep, finite, load_into


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


@dataclass(frozen=True)
class Architecture:
    """How the two networks of a training comparison are built from shared parameters.

    ``numpy(impl, params, activation, **net_kwargs)`` makes the NumPy network (``params``,
    ``loss(x, t)``, ``backward()``, ``accuracy(x, t)``, a ``dropouts`` list);
    ``torch(params, activation, **model_kwargs)`` the ``nn.Module`` of the same shapes, which
    ``bridge.load_mlp`` fills and ``bridge.mlp_arrays`` reads back in the NumPy layout (its
    ``nn.Conv2d`` and ``nn.Linear`` layers in order)."""

    numpy: Callable
    torch: Callable


MLP = Architecture(
    numpy=lambda impl, params, activation, **kw: impl.networks.MultiLayerNet(params, activation=activation,
                                                                             layers=impl.layers, **kw),
    torch=lambda params, activation, **kw: tnet.mlp(sizes_of(params), activation, **kw))


@dataclass
class PairRun:
    """The two sides after training: per-step losses and final parameters (NumPy layout).

    ``losses_np`` / ``params_np`` / ``net`` are the free-running NumPy side in float64, and the
    lockstep NumPy side in float32 (where there is no free-running run). ``diverged_at`` is the
    first step where torch's run diverged (:func:`diverged`; the run stops there), else None;
    ``numpy_diverges_too`` whether the NumPy side's step from the same state diverged too (see
    :func:`diverged`).
    """

    losses_np: list = field(default_factory=list)
    losses_t: list = field(default_factory=list)
    params_np: dict | None = None
    params_t: dict | None = None
    net: object = None
    model: object = None
    lrs: list = field(default_factory=list)
    lockstep: Lockstep | None = None
    free_running: bool = False
    diverged_at: int | None = None
    numpy_diverges_too: bool | None = None


def free_running(ctx) -> bool:
    """Whether training runs are also compared free-running (each side on its own from the shared
    start): in float64, where the same math stays within ~1e-12 over whole runs. float32 runs are
    compared in lockstep only (see :mod:`comparisons.lockstep`)."""
    return ctx.dtype == "float64"


def train_pair(ctx, label: str, params0: dict, activation: str, make_np_optimizer, make_torch_optimizer,
               x, t, batches, schedule=None, epoch_of_step=None, net_kwargs=None, model_kwargs=None,
               torch_params=None, torch_penalty=None, steps_per_epoch=None, on_epoch=None,
               lockstep: Lockstep | None = None, note: str = "", architecture: Architecture = MLP) -> PairRun:
    """Train ``ctx.impl.networks.MultiLayerNet`` and ``torch_ref.networks.mlp`` on the same batches,
    compared in lockstep at every step (recorded as ``"<label>: lockstep …"`` checks) and, in
    float64, free-running besides (compare those with :func:`compare_params`).

    ``make_np_optimizer()`` returns a scratch-style optimizer; ``make_torch_optimizer(params)`` a
    ``torch.optim`` optimizer over ``torch_params(model)`` (default ``model.parameters()``; e.g.
    weight-decay groups). ``net_kwargs`` / ``model_kwargs`` configure the two networks the same way
    (batch norm, dropout, penalties); ``torch_penalty(model)`` is added to the torch loss.

    With ``schedule`` = (np_schedule, make_torch_scheduler) and ``epoch_of_step``, the learning rate
    changes once per epoch: the NumPy side sets ``opt.lr = np_schedule(epoch)``, the torch side
    calls ``scheduler.step()`` after the last optimizer step of an epoch, where PyTorch documents it.

    With dropout, PyTorch decides the masks: its step runs first, forward hooks record the masks,
    and the NumPy networks are handed the same ones. ``on_epoch(epoch, run)`` is called every
    ``steps_per_epoch`` steps (e.g. to evaluate or stop early; return True to stop).

    A run whose torch side diverges (:func:`diverged`) stops there (``run.diverged_at``). Given
    ``lockstep``, the steps are added to it and the caller records it (one set of checks over
    several runs, e.g. every trial of a search). ``note`` goes into the lockstep checks' notes.

    ``architecture`` builds the two networks (:data:`MLP` by default; e.g. a convolutional net):
    the loop is the same for every network whose parameters ``bridge`` can carry across.
    """
    setup = Setup(activation, net_kwargs or {}, model_kwargs or {}, make_torch_optimizer, torch_params, torch_penalty,
                  architecture)
    lock = _numpy_side(ctx, params0, setup, make_np_optimizer)
    free = _numpy_side(ctx, params0, setup, make_np_optimizer) if free_running(ctx) else None
    model = architecture.torch(params0, activation, **(model_kwargs or {})).to(dtype=ctx.torch_dtype, device=ctx.device)
    bridge.load_mlp(model, params0)
    opt_t = make_torch_optimizer(torch_params(model) if torch_params else model.parameters())
    scheduler = schedule[1](opt_t) if schedule else None
    masks = bridge.DropoutMasks(model) if lock[0].dropouts else None
    x_np, x_t = ctx.array(x), ctx.tensor(x)
    t_t = ctx.labels(t)
    run = PairRun(net=(free or lock)[0], model=model, lockstep=lockstep or Lockstep(ctx, label),
                  free_running=free is not None)
    losses_lock = []
    layers = bridge.mlp_layers(model)
    after = bridge.mlp_arrays(model, layers=layers)
    for step, idx in enumerate(batches):
        if schedule:
            lr = schedule[0](epoch_of_step[step])
            for _, opt in filter(None, (lock, free)):
                opt.lr = lr
            run.lrs.append((lr, opt_t.param_groups[0]["lr"]))
        with ctx.timed("torch"):
            before = after  # torch's parameters before this step: those after the last one
            idx_t = torch.as_tensor(idx, device=ctx.device)
            loss_t, grads_t = torch_loss_and_gradients(model, opt_t, x_t[idx_t], t_t[idx_t], torch_penalty, layers)
            opt_t.step()
            after = bridge.mlp_arrays(model, layers=layers)
            last_of_epoch = schedule and (step + 1 == len(batches) or epoch_of_step[step + 1] != epoch_of_step[step])
            if last_of_epoch:
                scheduler.step()
        step_masks = masks.take() if masks is not None else None
        xb, tb = x_np[idx], t[idx]
        first_loss = run.losses_t[0] if run.losses_t else loss_t
        if diverged(loss_t, first_loss, after):
            run.diverged_at = step
            loss_np, grads_np, _ = _step_from(ctx, lock, before, xb, tb, step_masks, grads_t)
            run.numpy_diverges_too = diverged(loss_np, first_loss, grads_np)
            load_into(lock[0].params, before)
            break
        referee = partial(in_float64, ctx, setup, before, x[idx], t[idx], step_masks)
        losses_lock.append(lockstep_step(ctx, run.lockstep, step, lock, before, xb, tb, step_masks, loss_t, grads_t, after,
                                     referee))
        if free is not None:
            with ctx.timed("numpy"):
                run.losses_np.append(_free_step(free, xb, tb, step_masks))
        run.losses_t.append(loss_t)
        if on_epoch and steps_per_epoch and (step + 1) % steps_per_epoch == 0:
            if on_epoch((step + 1) // steps_per_epoch - 1, run):
                break
    if masks is not None:
        masks.remove()
    if lockstep is None:
        run.lockstep.record(note)
    if free is None:
        run.losses_np = losses_lock
    run.params_np = {k: v.copy() for k, v in run.net.params.items()}
    run.params_t = before if run.diverged_at is not None else bridge.mlp_arrays(model)
    return run


DIVERGENCE = 1e6


def diverged(loss: float, first_loss: float, arrays: dict) -> bool:
    """Whether a run has diverged: its loss or ``arrays`` are not finite, or the loss has grown past
    ``DIVERGENCE`` (10⁶) times the run's first loss (and 10⁶ itself). Past that the activations are
    so large that one rounding of a summand exceeds the comparison's tolerance, and sums that cancel
    part by more than rounding allows (measured: the book's std-1 network without batch norm, whose
    weights reach 1e188 before they overflow). The run is compared up to there."""
    return not finite(loss, *arrays.values()) or abs(loss) > DIVERGENCE * max(1.0, abs(first_loss))


def _numpy_side(ctx, params0, setup, make_np_optimizer):
    """A NumPy network holding a copy of ``params0`` in the run's dtype, and its optimizer."""
    params = {k: ctx.array(v) for k, v in params0.items()}
    return setup.architecture.numpy(ctx.impl, params, setup.activation, **setup.net_kwargs), make_np_optimizer()


def _set_masks(net, masks):
    if masks is not None:
        for layer, mask in zip(net.dropouts, masks):
            layer.set_mask(mask)


def _step_from(ctx, side, before, xb, tb, masks, grads_t):
    """The NumPy side's step from torch's state ``before``: (loss, gradients, parameters after the
    update with torch's gradients ``grads_t``)."""
    net, opt = side
    with ctx.timed("numpy"), np.errstate(over="ignore", invalid="ignore"):
        load_into(net.params, before)
        _set_masks(net, masks)
        loss = float(net.loss(xb, tb))
        grads = net.backward()
        opt.update(net.params, {k: ctx.array(v) for k, v in grads_t.items()})
    return loss, grads, net.params


def lockstep_step(ctx, lock, step, side, before, xb, tb, masks, loss_t, grads_t, after, referee) -> float:
    """One lockstep step of the NumPy side from torch's state ``before``, compared; returns its loss.
    ``referee()`` re-takes the loss and gradients in float64 (see :class:`Lockstep`)."""
    loss, grads, params = _step_from(ctx, side, before, xb, tb, masks, grads_t)
    lock.step(step, {"loss": (loss, loss_t), "gradients": (grads, grads_t)}, referee)
    lock.compare(step, "parameters after the step", params, after)
    return loss


def torch_loss_and_gradients(model, optimizer, x, t, penalty, layers=None):
    """torch's loss and gradients at its current parameters (NumPy layout), as its optimizer sees
    them: coupled weight decay added to both (``torch_ref.optim.effective_loss``/``_gradient``).
    ``layers``: the model's ``bridge.mlp_layers``, when the caller has them."""
    loss = tnet.loss_and_backward(model, optimizer, x, t, penalty=penalty)
    grads = bridge.mlp_arrays(model, of=lambda p: topt.effective_gradient(optimizer, p), layers=layers)
    return float(topt.effective_loss(optimizer, loss)), grads


@dataclass
class Setup:
    """How the two networks of a run are built (what a float64 re-take of a step needs)."""

    activation: str
    net_kwargs: dict
    model_kwargs: dict
    make_torch_optimizer: object
    torch_params: object
    torch_penalty: object
    architecture: Architecture = MLP


def in_float64(ctx, setup, state, x, t, masks) -> dict:
    """Loss and gradients of both sides at ``state`` on the batch (x, t), in float64: the referee
    of a float32 lockstep step (see :class:`comparisons.lockstep.Lockstep`)."""
    params = {k: np.asarray(v, dtype=np.float64) for k, v in state.items()}
    net = setup.architecture.numpy(ctx.impl, params, setup.activation, **setup.net_kwargs)
    _set_masks(net, masks)
    loss = float(net.loss(np.asarray(x, dtype=np.float64), t))
    grads = net.backward()
    model = setup.architecture.torch(params, setup.activation, **setup.model_kwargs).to(dtype=torch.float64,
                                                                                         device=ctx.device)
    bridge.load_mlp(model, params)
    if masks is not None:
        tnet.with_fixed_masks(model, masks)
    opt = setup.make_torch_optimizer(setup.torch_params(model) if setup.torch_params else model.parameters())
    x_t = torch.as_tensor(np.asarray(x, dtype=np.float64), device=ctx.device)
    loss_t, grads_t = torch_loss_and_gradients(model, opt, x_t, ctx.labels(t), setup.torch_penalty)
    return {"loss": (loss, loss_t), "gradients": (grads, grads_t)}


def _free_step(side, xb, tb, masks) -> float:
    net, opt = side
    _set_masks(net, masks)
    if not finite(*net.params.values()):
        return float("nan")
    loss = float(net.loss(xb, tb))
    opt.update(net.params, net.backward())
    return loss


def flat(params: dict) -> np.ndarray:
    """All parameters in one vector, keys in sorted order."""
    return np.concatenate([np.asarray(params[k]).ravel() for k in sorted(params)])


def compare_params(ctx, label: str, run: PairRun, kind: str = "trained", note: str = "", exclude=(),
                   state: dict | None = None) -> str | None:
    """The free-running comparison of a run (float64): all final parameters at once
    (concatenated, less the keys in ``exclude``), the loss at every step, and any other ``state``
    the run ends with ({name: (NumPy's, torch's)}, e.g. batch norm's running statistics; checked as
    ``"<label>: <name>"``; without a free-running pair, the lockstep run's). A run that diverged is
    compared up to its last finite step. The lockstep checks were recorded by :func:`train_pair`
    itself. Returns the note of a chaotic parting (see :func:`_parting_note`), else None."""
    if not run.free_running:
        for name, (a, e) in (state or {}).items():
            ctx.compare(f"{label}: {name}", a, e, kind=kind, note=note)
        return None
    final_np = flat({k: v for k, v in run.params_np.items() if k not in exclude})
    final_t = flat({k: v for k, v in run.params_t.items() if k not in exclude})
    steps = len(run.losses_np)
    compared = {"final parameters (free-running)": (final_np, final_t, f"{final_np.size} parameters after {steps} steps."),
                "loss at every step (free-running)": (run.losses_np, run.losses_t, ""),
                **{name: (a, e, "") for name, (a, e) in (state or {}).items()}}
    atol, rtol = ctx.tolerance(kind)
    parts = not all(np.all(close(a, e, atol, rtol)) for a, e, _ in compared.values())
    parting = _parting_note(ctx, label, run) if parts and run.lockstep.passed else None
    for name, (a, e, what) in compared.items():
        if parting:
            ctx.finding(f"{label}: {name}", True, parting, a, e)
        else:
            ctx.compare(f"{label}: {name}", a, e, kind=kind, note=" ".join(filter(None, [what, note])))
    return parting


def _parting_note(ctx, label: str, run: PairRun) -> str | None:
    """A free-running pair that parts although every lockstep step agreed: shown as the finding it
    is, not a failure. Recognised only when the trajectories start at rounding level and the loss
    gap grows from there: rounding amplified step after step by a chaotic run (e.g. batch norm over
    weights so small that its variance is below ε). The same math is proved step by step by the
    lockstep checks; a mistake would show there, at the step where it first matters. Returns the
    finding's note, or None where the pair did not part that way."""
    gap = np.abs(np.subtract(run.losses_np, run.losses_t)) / np.maximum(np.abs(run.losses_t), 1e-300)
    if len(gap) < 10 or not np.all(np.isfinite(gap)):
        return None
    start, end = max(gap[:3].max(), np.finfo(np.float64).eps), gap[-max(1, len(gap) // 10):].max()
    if start > ctx.tolerance("exact")[1] or end < 100 * start:
        return None
    growth = (end / start) ** (1 / (len(gap) - 1))
    return (f"Every step agrees in lockstep (the '{label}: lockstep …' checks), so both sides compute the same steps. "
            f"Free-running, the relative loss gap is {start:.1e} over the first steps and {end:.1e} at the end (×{growth:.2f} "
            f"per step on average): float64 rounding amplified by a chaotic run, not a difference in the math.")


def overfitting_setup(ctx, n_train: int = 300, hidden: int = 6):
    """The book's overfitting set-up: few training images (300) and a deep net of 100-unit ReLU
    layers (6 hidden), He-initialised. Returns x_train, t_train, x_test, t_test, params0."""
    from . import data

    x_tr, t_tr, x_te, t_te = data.image_data(ctx)
    sizes = [x_tr.shape[1]] + [100] * hidden + [10]
    return x_tr[:n_train], t_tr[:n_train], x_te, t_te, he_params(ctx.rng, sizes)


class AccuracyTracker:
    """Train (and test) accuracy of both sides once per epoch: pass it as ``train_pair``'s
    ``on_epoch``. Free-running sides (float64) are evaluated as they are; in lockstep, at the state
    both share (torch's parameters copied into the NumPy network).

    **Ties.** Accuracy counts argmax predictions. At one shared state the two sides compute the same
    outputs up to rounding, so they can only predict differently for an image whose top two outputs
    are within that rounding of each other: a tie that float32 cannot order (if NumPy picks a and
    torch b, then 0 ≤ z_t[b] − z_t[a] ≤ 2·max|z_np − z_t|). So an epoch where the accuracies differ
    is judged on the outputs they are computed from: if those agree at the one-step tolerance, each
    side's prediction is a correct float32 prediction and the epoch counts; the note says how many
    images and epochs that was.
    """

    def __init__(self, ctx, x_tr, t_tr, x_te=None, t_te=None):
        sets = {"train": (x_tr, t_tr)} if x_te is None else {"train": (x_tr, t_tr), "test": (x_te, t_te)}
        self.ctx = ctx
        self.arrays = {k: (ctx.array(x), np.asarray(t), ctx.tensor(x), ctx.labels(t)) for k, (x, t) in sets.items()}
        self.rows: list[dict] = []
        self.outputs = ctx.stepwise("exact")  # the outputs behind an epoch whose accuracies differ
        self.ties: dict[int, int] = {}  # epoch → images predicted differently at a tie

    def __call__(self, epoch, run):
        if not run.free_running:
            load_into(run.net.params, bridge.mlp_arrays(run.model))
        row = {"epoch": epoch + 1}
        for name, (X, t, Xt, Tt) in self.arrays.items():
            row[f"{name} NumPy"] = run.net.accuracy(X, t)
            row[f"{name} torch"] = tnet.accuracy(run.model, Xt, Tt)
            if not run.free_running and row[f"{name} NumPy"] != row[f"{name} torch"]:
                self._judge_tie(epoch, run, X, Xt)
        self.rows.append(row)

    def _judge_tie(self, epoch, run, X, Xt):
        z_np = _eval_outputs(run.net, X)
        z_t = tnet.outputs(run.model, Xt).cpu().numpy()
        if self.outputs.add(epoch, z_np, z_t):
            self.ties[epoch] = self.ties.get(epoch, 0) + int(np.sum(z_np.argmax(1) != z_t.argmax(1)))

    def frame(self):
        import pandas as pd

        return pd.DataFrame(self.rows)


def _eval_outputs(net, x):
    was_training = net.training
    net.eval()
    try:
        return np.asarray(net.predict(x))
    finally:
        if was_training:
            net.train()


def record_accuracies(ctx, check: str, trackers, sets=("train", "test"), note: str = ""):
    """One check over the accuracy per epoch of one or more runs (``AccuracyTracker``s): equal on
    both sides at every epoch, or, where they differ, the outputs behind them agree (a tie; see
    :class:`AccuracyTracker`)."""
    acc = ctx.stepwise("exact")
    ties, images, worst = 0, 0, None
    for tracker in trackers:
        frame = tracker.frame()
        cols = [s for s in sets if f"{s} NumPy" in frame]
        for epoch, (a, e) in enumerate(zip(frame[[f"{s} NumPy" for s in cols]].to_numpy(),
                                           frame[[f"{s} torch" for s in cols]].to_numpy())):
            if np.array_equal(a, e) or epoch not in tracker.ties:
                acc.add(epoch, a, e)
            else:
                acc.steps += 1
                ties, images = ties + 1, images + tracker.ties[epoch]
        if tracker.outputs.first_mismatch is not None:
            acc.problem = acc.problem or f"the outputs behind a differing accuracy disagree: {tracker.outputs.first_mismatch}"
        if tracker.outputs.steps:
            worst = max(worst or 0.0, tracker.outputs.max_abs_err)
    if ties:
        note = " ".join(filter(None, [note, (
            f"At {ties} epoch(s) {images} image(s) were predicted differently at a tie: the outputs at the shared state "
            f"agree to {worst:.1e} (max abs err), within rounding of their top two, so either class is a correct "
            "float32 prediction.")]))
    return ctx.record_stepwise(check, acc, note=note)
