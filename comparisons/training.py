"""What the training comparisons of networks share beyond the trainer (:func:`comparisons.lockstep.train`,
with the sides of :mod:`comparisons.sides`): the shared initial weights, the book's overfitting
set-up, and the accuracy of both sides per epoch."""

from __future__ import annotations

import numpy as np

import torch_ref.networks as tnet


def he_params(rng: np.random.Generator, sizes, std=None) -> dict:
    """Shared initial weights W (in, out) ~ N(0, std²) with std = √(2/in) (He) unless given, b = 0."""
    params = {}
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        s = np.sqrt(2.0 / n_in) if std is None else std
        params[f"W{i}"] = rng.normal(0.0, s, size=(n_in, n_out))
        params[f"b{i}"] = np.zeros(n_out)
    return params


def overfitting_setup(ctx, n_train: int = 300, hidden: int = 6):
    """The book's overfitting set-up: few training images (300) and a deep net of 100-unit ReLU
    layers (6 hidden), He-initialised. Returns x_train, t_train, x_test, t_test, params0."""
    from . import data

    x_tr, t_tr, x_te, t_te = data.image_data(ctx)
    sizes = [x_tr.shape[1]] + [100] * hidden + [10]
    return x_tr[:n_train], t_tr[:n_train], x_te, t_te, he_params(ctx.rng, sizes)


class AccuracyTracker:
    """Train (and test) accuracy of both sides once per epoch: pass it as the trainer's
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
            run.numpy.load(run.torch.state())
        net, model = run.numpy.net, run.torch.model
        row = {"epoch": epoch + 1}
        for name, (X, t, Xt, Tt) in self.arrays.items():
            row[f"{name} NumPy"] = net.accuracy(X, t)
            row[f"{name} torch"] = tnet.accuracy(model, Xt, Tt)
            if not run.free_running and row[f"{name} NumPy"] != row[f"{name} torch"]:
                self._judge_tie(epoch, net, model, X, Xt)
        self.rows.append(row)

    def _judge_tie(self, epoch, net, model, X, Xt):
        z_np = _eval_outputs(net, X)
        z_t = tnet.outputs(model, Xt).cpu().numpy()
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
