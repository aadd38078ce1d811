"""Lockstep: a training run compared one step at a time, from a state both sides share.

A long training run can be compared two ways:

* **free-running** — each side trains on its own from the shared start and the trajectories are
  compared. In float64 the same math stays within ~1e-12 over thousands of steps. In float32 it
  does not have to: each step rounds a little differently on the two sides, training amplifies
  it, and a pre-activation within rounding of 0 switches a ReLU on one side only. From then on
  the runs are two different, equally valid float32 trainings.
* **lockstep** — before step k both sides hold the *same* state: torch's parameters are copied
  into the NumPy side. Each side takes one step from there and the one-step results are compared
  at the one-step ('exact') tolerance:

      loss_k        NumPy's loss at θ_k          vs  torch's loss at θ_k
      gradients_k   NumPy's ∇L(θ_k)              vs  the gradient torch's optimizer acts on
      parameters_k  NumPy's update(θ_k, g_k)     vs  torch's θ_{k+1}

  The update is given torch's gradient g_k, so it checks the optimizer's arithmetic on the very
  same input; the gradient is checked on its own line. Optimizer state (momentum, AdaGrad's h,
  Adam's m and v) stays on each side, but it is built from the same gradients g_1 … g_k, so the
  two states differ only by the rounding of their own arithmetic — nothing feeds back into them.
  Rounding never accumulates through the parameters, so every step of a run is checked, in
  float32 as in float64, and a mistake in the math shows at the step where it first matters.

  A gradient is compared tensorwise: each element's rounding is judged against the largest
  |element| of its own parameter's gradient. Its elements are sums over the batch (and back through
  the layers) that can cancel to near 0, leaving the rounding of their much larger terms (measured:
  the book's std-1 net without batch norm, loss 1e5 at step 0, where an element of 0.98 differs in
  its 10th digit). A mistake in the math moves a whole tensor, far beyond that.

Every training comparison in the suite records its lockstep checks with :class:`Lockstep`, and in
float64 its free-running trajectories besides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

import numpy as np

from .checks import close
from .lockstep_checks import Lockstep, finite, load_into, tensorwise_scale

__all__ = ["Lockstep", "Run", "Side", "Trainer", "compare_free_running", "diverged", "finite", "flat", "free_running",
           "load_into", "tensorwise_scale", "train"]


# --- the one trainer ---------------------------------------------------------------------------------


class Side:
    """One side of a training comparison: an adapter of a network, a sequence model, an optimizer on
    a fixed problem or a user's network to what :func:`train` needs. A subclass gives:

    * ``state()``: the parameters, a dict of arrays in the NumPy layout (a snapshot);
    * ``load(state)``: set the parameters to ``state``;
    * ``loss_and_gradients(batch, draws)``: the loss at the current parameters on ``batch`` (what the
      trainer was given: an index array, a pair of arrays …) and the gradients the optimizer acts on
      (a dict, the keys of ``state()``). ``draws`` are the random choices the torch side made at this
      step (dropout masks), for the NumPy side to use;
    * ``update(gradients)``: one optimizer step; ``gradients`` None means its own.

    A side that takes whole steps (a textbook's training function called for one step, or a torch
    run replayed step by step) returns None for its gradients: then the loss and the parameters after
    the step are compared, and its ``update(None)`` completes its own step.

    and may give ``draws()`` (the random choices of the last step), ``in_float64()`` (a fresh side of
    the same set-up in float64: the referee of a float32 step that parts at a kink), ``extra_state()``
    (other state a run ends with, e.g. batch norm's running statistics), ``start_epoch(epoch)`` and
    ``end_epoch(epoch)`` (a learning-rate schedule) and ``lr`` (the learning rate now)."""

    loss_name = "loss"

    def draws(self):
        return None

    def in_float64(self):
        return None

    def extra_state(self) -> dict:
        return {}

    def start_epoch(self, epoch: int) -> None:
        pass

    def end_epoch(self, epoch: int) -> None:
        pass

    lr = None


@dataclass
class Run:
    """A training comparison after :func:`train`: both sides, their losses per step (the NumPy ones
    free-running in float64, else lockstep), the lockstep checks, the learning rates per step
    (NumPy's, torch's; where the sides have one) and where torch's run diverged (None: it did not)."""

    label: str
    numpy: Side  # the free-running side where there is one, else the lockstep side
    torch: Side
    lockstep: Lockstep
    free_running: bool
    losses_np: list = field(default_factory=list)
    losses_t: list = field(default_factory=list)
    lrs: list = field(default_factory=list)
    path_np: list = field(default_factory=list)  # with ``trajectory``: the free-running parameters after every step
    path_t: list = field(default_factory=list)
    diverged_at: int | None = None
    numpy_diverges_too: bool | None = None
    parting: str | None = None  # the note of a chaotic free-running parting (see compare_free_running)
    final_t: dict | None = None  # torch's parameters after its last step, kept by the trainer

    @property
    def params_np(self) -> dict:
        return self.numpy.state()

    @property
    def params_t(self) -> dict:
        """torch's parameters after its last step (its model may have moved on since: a restore)."""
        return self.final_t if self.final_t is not None else self.torch.state()

    def loss_drop(self, first: int = 5, last: int = 20) -> tuple:
        """(start, end) of NumPy's losses and of torch's: the mean of the ``first`` steps' losses
        and of the ``last`` steps', as a trained run's "the loss fell" finding reads them."""
        np_losses, t_losses = np.array(self.losses_np, dtype=float), np.array(self.losses_t, dtype=float)
        return (float(np.mean(np_losses[:first])), float(np.mean(np_losses[-last:])),
                float(np.mean(t_losses[:first])), float(np.mean(t_losses[-last:])))


def train(ctx, label: str, numpy_side: Side, torch_side: Side, batches, *, steps_per_epoch: int | None = None,
          on_epoch=None, epoch_of_step=None, lock: Lockstep | None = None, scales: dict | None = None, note: str = "",
          kind: str = "trained", exclude=(), trajectory: bool = False, stop_at_divergence: bool = True,
          free: bool = True) -> Run:
    """Train both sides on ``batches`` and compare them: every step in lockstep (recorded as
    ``"<label>: lockstep <quantity>"`` checks), and in float64 the whole free-running run besides (a
    ``fresh()`` NumPy side from the shared start training on its own; :func:`compare_free_running`,
    at the ``kind`` tolerance, less the parameters in ``exclude``).

    Step k: torch takes its step from its parameters θ_k; the NumPy side is loaded with θ_k, computes
    its loss and gradients there (given the random draws torch made), and its optimizer is given
    torch's gradients; loss, gradients and the parameters after the step are compared at the one-step
    tolerance. In float32, a step whose loss or gradients part is re-taken by both sides in float64
    from θ_k (``in_float64()`` of both sides) before it counts (see :class:`Lockstep`).

    ``steps_per_epoch`` / ``epoch_of_step`` give epochs: a side's ``start_epoch``/``end_epoch`` run
    at their borders (a schedule), and ``on_epoch(epoch, run)`` after each (evaluate; True stops the
    run). ``lock``: an existing :class:`Lockstep` the steps are added to (one set of checks over
    several runs): the caller records it, and compares the free-running runs its own way. ``scales``: quantity → function of torch's value giving
    the size of its terms (see :func:`comparisons.checks.close`). ``trajectory``: compare the
    free-running parameters after every step, not only the final ones (for small problems: they are
    all kept). ``free=False``: lockstep only, also in float64 (a run that explodes on purpose, where
    float64 rounding is amplified without bound and only the step-by-step comparison is meaningful).

    A run whose torch side diverges (:func:`diverged`) stops there, unless ``stop_at_divergence`` is
    False (a divergence that is the lesson, in exact arithmetic); the NumPy side's step from the same
    state is judged alike (``run.numpy_diverges_too``)."""
    if epoch_of_step is None and steps_per_epoch:
        epoch_of_step = [k // steps_per_epoch for k in range(len(batches))]
    epochs = epoch_of_step is not None
    trainer = Trainer(ctx, label, numpy_side, torch_side, lock=lock, scales=scales, trajectory=trajectory,
                      exclude=exclude, stop_at_divergence=stop_at_divergence, free=free)
    for k, batch in enumerate(batches):
        epoch = epoch_of_step[k] if epochs else 0
        if epochs and (k == 0 or epoch_of_step[k - 1] != epoch):
            trainer.start_epoch(epoch)
        if not trainer.step(batch):
            break
        if epochs and (k + 1 == len(batches) or epoch_of_step[k + 1] != epoch):
            torch_side.end_epoch(epoch)
            if on_epoch and on_epoch(epoch, trainer.run):
                break
    return trainer.finish(note, kind)


class Trainer:
    """The one trainer, a step at a time: what :func:`train` runs, for a loop that is not the
    trainer's own (e.g. a ``torch_ref`` training loop that calls back for each epoch's steps).
    ``step(batch)`` takes one compared step; ``finish(note)`` records the checks and returns the
    :class:`Run`."""

    def __init__(self, ctx, label: str, numpy_side: Side, torch_side: Side, *, lock: Lockstep | None = None,
                 scales: dict | None = None, trajectory: bool = False, exclude=(), stop_at_divergence: bool = True,
                 free: bool = True):
        self.ctx, self.numpy_side, self.torch_side, self.scales = ctx, numpy_side, torch_side, scales
        self.trajectory, self.exclude, self.stop_at_divergence, self.own_lock = trajectory, exclude, stop_at_divergence, lock is None
        self.free = numpy_side.fresh() if free and free_running(ctx) and hasattr(numpy_side, "fresh") else None
        self.run = Run(label, self.free or numpy_side, torch_side, lock or Lockstep(ctx, label), self.free is not None)
        self.losses_lock: list = []
        self.after = torch_side.state()

    def start_epoch(self, epoch: int) -> None:
        for side in filter(None, (self.numpy_side, self.free)):
            side.start_epoch(epoch)

    def step(self, batch) -> bool:
        """One step on ``batch``, compared; False when torch's run diverged (the run ends there)."""
        ctx, run, side, torch_side, k = self.ctx, self.run, self.numpy_side, self.torch_side, len(self.run.losses_t)
        if side.lr is not None:
            run.lrs.append((side.lr, torch_side.lr))
        with ctx.timed("torch"):
            before = self.after
            loss_t, grads_t = torch_side.loss_and_gradients(batch, None)
            torch_side.update(None)
            self.after = torch_side.state()
        draws = torch_side.draws()
        first = run.losses_t[0] if run.losses_t else loss_t
        if self.stop_at_divergence and diverged(loss_t, first, self.after):
            run.diverged_at = k
            side.load(before)
            with np.errstate(all="ignore"):
                loss, grads = side.loss_and_gradients(batch, draws)
            run.numpy_diverges_too = diverged(loss, first, grads)
            side.load(before)
            torch_side.load(before)
            self.after = before  # the last finite parameters
            return False
        self.losses_lock.append(_lockstep_step(ctx, run.lockstep, k, side, torch_side, before, batch, draws,
                                               loss_t, grads_t, self.after, self.scales))
        if self.free is not None:
            with ctx.timed("numpy"):
                run.losses_np.append(_free_step(self.free, batch, draws))
            if self.trajectory:
                run.path_np.append(flat(self.free.state(), self.exclude))
                run.path_t.append(flat(self.after, self.exclude))
        run.losses_t.append(loss_t)
        return True

    def finish(self, note: str = "", kind: str = "trained") -> Run:
        """Record the lockstep checks and compare the free-running run (unless the caller owns the
        :class:`Lockstep`); the run."""
        run = self.run
        run.final_t = self.after
        if self.free is None:
            run.losses_np = self.losses_lock
        if self.own_lock:
            run.lockstep.record(note)
            compare_free_running(self.ctx, run, kind=kind, note=note, exclude=self.exclude, lockstep_side=self.numpy_side)
        return run


def _lockstep_step(ctx, lock, k, side, torch_side, before, batch, draws, loss_t, grads_t, after, scales):
    """Step k of the NumPy side from torch's parameters ``before``, compared; returns its loss.

    The referee re-takes what a kink can flip: the loss and the gradients. The parameters after the
    step are the optimizer's arithmetic on torch's gradients (its state built from the same ones),
    compared as they are; only a side without gradients, whose step is one stateless function,
    has its parameters after the step re-taken too."""
    with ctx.timed("numpy"), np.errstate(over="ignore", invalid="ignore"):
        loss, grads, params = _numpy_step(side, before, batch, draws, grads_t)
    whole_step = grads is None
    pairs = _pairs(side.loss_name, (loss, loss_t), (grads, grads_t), (params, after) if whole_step else None, scales)
    lock.step(k, pairs, partial(_referee, side, torch_side, before, batch, draws, scales))
    if not whole_step:
        lock.compare(k, "parameters after the step", params, after)
    return loss


def _numpy_step(side, state, batch, draws, grads_t):
    """The NumPy side's step from ``state``: its loss and gradients there, and its parameters after
    its optimizer took torch's gradients ``grads_t`` (or, for a side without gradients, its own step)."""
    side.load(state)
    loss, grads = side.loss_and_gradients(batch, draws)
    side.update(grads_t if grads is not None else None)
    return loss, grads, side.state()


def _referee(side, torch_side, state, batch, draws, scales) -> dict:
    """The same step by both sides from ``state`` in float64: the referee of a float32 step that
    parted (see :class:`Lockstep`); {} where a side cannot be re-made in float64."""
    np64, torch64 = side.in_float64(), torch_side.in_float64()
    if np64 is None or torch64 is None:
        return {}
    state64 = {key: np.asarray(v, dtype=np.float64) for key, v in state.items()}
    torch64.load(state64)
    np64.load(state64)
    loss_t, grads_t = torch64.loss_and_gradients(batch, draws)
    loss, grads = np64.loss_and_gradients(batch, draws)
    after = None
    if grads is None:  # a whole step: its parameters after it are re-taken too
        torch64.update(None)
        np64.update(None)
        after = (np64.state(), torch64.state())
    return _pairs(side.loss_name, (loss, loss_t), (grads, grads_t), after, scales)


def _pairs(loss_name, losses, grads, params, scales) -> dict:
    """The quantities of one step, (NumPy's, torch's) each, where both sides give them: the loss,
    the gradients, the parameters after the step."""
    pairs = {loss_name: losses, "gradients": grads, "parameters after the step": params}
    return {q: (a, e, scales[q](e)) if scales and q in scales else (a, e)
            for q, (a, e) in ((q, v) for q, v in pairs.items() if v is not None) if a is not None and e is not None}


def _free_step(side, batch, draws) -> float:
    if not finite(*side.state().values()):
        return float("nan")
    loss, grads = side.loss_and_gradients(batch, draws)
    side.update(grads)
    return loss


def free_running(ctx) -> bool:
    """Whether training runs are also compared free-running (each side on its own from the shared
    start): in float64, where the same math stays within ~1e-12 over whole runs. float32 runs are
    compared in lockstep only."""
    return ctx.dtype == "float64"


DIVERGENCE = 1e6


def diverged(loss, first_loss, arrays: dict) -> bool:
    """Whether a run has diverged: its loss or ``arrays`` are not finite, or the loss has grown past
    ``DIVERGENCE`` (10⁶) times the run's first loss (and 10⁶ itself). Past that the activations are
    so large that one rounding of a summand exceeds the comparison's tolerance, and sums that cancel
    part by more than rounding allows (measured: the book's std-1 network without batch norm, whose
    weights reach 1e188 before they overflow). The run is compared up to there."""
    if loss is None:  # a side that reports no loss: its parameters decide
        return not finite(*arrays.values())
    loss, first = np.max(np.abs(loss)), np.max(np.abs(first_loss))
    return not finite(loss, *arrays.values()) or loss > DIVERGENCE * max(1.0, first)


def flat(params: dict, exclude=()) -> np.ndarray:
    """All parameters in one vector, keys in sorted order (less ``exclude``)."""
    return np.concatenate([np.asarray(params[k], dtype=np.float64).ravel() for k in sorted(params) if k not in exclude])


def compare_free_running(ctx, run: Run, kind: str = "trained", note: str = "", exclude=(), lockstep_side=None) -> None:
    """The free-running comparison of a run (float64): all final parameters at once (less the keys
    in ``exclude``), the loss at every step, and the other state both sides end with
    (``extra_state()``, e.g. batch norm's running statistics; checked as ``"<label>: <name>"``).
    Without a free-running side, only that other state, of the lockstep side. A run that diverged
    is compared up to its last finite step. A chaotic run that parts although every lockstep step
    agreed is recorded as the finding it is (:func:`_parting_note`; ``run.parting``)."""
    label = run.label
    theirs = run.torch.extra_state()
    state = {name: (value, theirs[name]) for name, value in (run.numpy if run.free_running else lockstep_side).extra_state().items()}
    if not run.free_running:
        for name, (a, e) in state.items():
            ctx.compare(f"{label}: {name}", a, e, kind=kind, note=note)
        return
    steps = len(run.losses_np)
    if run.path_np:
        params = {"parameters after every step (free-running)": (np.array(run.path_np), np.array(run.path_t),
                                                                 f"{len(run.path_np[0])} parameters, {steps} steps.")}
    else:
        final_np, final_t = flat(run.params_np, exclude), flat(run.params_t, exclude)
        params = {"final parameters (free-running)": (final_np, final_t, f"{final_np.size} parameters after {steps} steps.")}
    if run.losses_t and run.losses_t[0] is not None:  # a replayed run may keep no losses
        params["loss at every step (free-running)"] = (np.asarray(run.losses_np), np.asarray(run.losses_t), "")
    compared = {**params, **{name: (a, e, "") for name, (a, e) in state.items()}}
    atol, rtol = ctx.tolerance(kind)
    parts = not all(np.all(close(a, e, atol, rtol)) for a, e, _ in compared.values())
    run.parting = _parting_note(ctx, run) if parts and run.lockstep.passed else None
    for name, (a, e, what) in compared.items():
        if run.parting:
            ctx.finding(f"{label}: {name}", True, run.parting, a, e)
        else:
            ctx.compare(f"{label}: {name}", a, e, kind=kind, note=" ".join(filter(None, [what, note])))


def _parting_note(ctx, run: Run) -> str | None:
    """A free-running pair that parts although every lockstep step agreed: shown as the finding it
    is, not a failure. Recognised only when the trajectories start at rounding level and the loss
    gap grows from there: rounding amplified step after step by a chaotic run (e.g. batch norm over
    weights so small that its variance is below ε). The same math is proved step by step by the
    lockstep checks; a mistake would show there, at the step where it first matters. Returns the
    finding's note, or None where the pair did not part that way."""
    losses_np, losses_t = (np.asarray(v, dtype=np.float64).reshape(len(v), -1).sum(1) for v in (run.losses_np, run.losses_t))
    gap = np.abs(losses_np - losses_t) / np.maximum(np.abs(losses_t), 1e-300)
    if len(gap) < 10 or not np.all(np.isfinite(gap)):
        return None
    start, end = max(gap[:3].max(), np.finfo(np.float64).eps), gap[-max(1, len(gap) // 10):].max()
    if start > ctx.tolerance("exact")[1] or end < 100 * start:
        return None
    growth = (end / start) ** (1 / (len(gap) - 1))
    return (f"Every step agrees in lockstep (the '{run.label}: lockstep …' checks), so both sides compute the same steps. "
            f"Free-running, the relative loss gap is {start:.1e} over the first steps and {end:.1e} at the end (×{growth:.2f} "
            f"per step on average): float64 rounding amplified by a chaotic run, not a difference in the math.")
