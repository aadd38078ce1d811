"""Early stopping on the validation loss, restoring the best weights, on both sides."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

import scratch.regularization
import torch_ref.early_stopping as tes
import torch_ref.networks as tnet

from .. import bridge, data, plots
from ..training import flat, he_params

ID = "early-stopping"
TITLE = "Early stopping (조기 종료)"

GUIDE = r"""
Training longer keeps lowering the training loss, but past some epoch the validation loss, on
images the network never trains on, stops improving: from there on the network learns the
training set by heart (overfitting, 오버피팅) instead of what generalises. **Early stopping**
(조기 종료) watches the validation loss after every epoch and stops once it has not improved for
`patience` epochs in a row (by more than `min_delta`), then **restores the weights of the best
epoch**, not the last ones, which are already `patience` epochs past it.

Set-up: 300 training images and a separate validation split of 150 (never trained on, 검증
데이터), a 64 → 100 → 10 ReLU network, SGD with learning rate 0.3 and batches of 100, patience 10,
at most 300 epochs. The validation loss is measured in evaluation mode after each epoch.

{{figure:validation-loss|The validation loss after every epoch, NumPy line and PyTorch markers, with the best epoch (whose weights are restored) and the epoch where training stopped.}}

{{table:validation-loss|The validation loss per epoch on both sides.}}

PyTorch has no early-stopping class (the libraries built on it do); a PyTorch user writes the loop:
keep `copy.deepcopy(model.state_dict())` of the best epoch and `load_state_dict` it at the end.
`scratch.regularization.EarlyStopping` does the same with the NumPy parameters. The checks: both
sides see the same validation losses, stop at the same epoch, pick the same best epoch, and end
with the same (best) weights.
"""

CODE = [(scratch.regularization.EarlyStopping, tes.train_with_early_stopping)]

DIFFERENCES = [
    ("the tool", "`EarlyStopping(patience, min_delta)`", "no class: a loop with `state_dict` copies", "both sides stop at the same epoch"),
    ("the weights kept", "the best epoch's", "the best epoch's (`load_state_dict`)", "restored weights = torch's best weights"),
]

PATIENCE, MAX_EPOCHS, LR = 10, 300, 0.3


def run(ctx):
    x_all, t_all, _, _ = data.image_data(ctx)
    x_tr, t_tr, x_val, t_val = x_all[:300], t_all[:300], x_all[300:450], t_all[300:450]
    sizes = [x_tr.shape[1], 100, 10]
    params0 = he_params(ctx.rng, sizes)
    epochs = [data.epoch_batches(ctx.rng, len(x_tr), 100, 1) for _ in range(MAX_EPOCHS)]

    with ctx.timed("numpy"):
        net, stopper, val_np = _numpy_side(ctx, params0, x_tr, t_tr, x_val, t_val, epochs)
    with ctx.timed("torch"):
        model, val_t, best_t, stopped_t, best_params_t = _torch_side(ctx, sizes, params0, x_tr, t_tr, x_val, t_val, epochs)

    n = min(len(val_np), len(val_t))
    ctx.compare("validation loss after every epoch", val_np[:n], val_t[:n], kind="trained")
    ctx.compare("both sides stop at the same epoch", [stopper.stopped_epoch if stopper.stopped_epoch is not None else -1],
                [stopped_t if stopped_t is not None else -1], note=f"NumPy {stopper.stopped_epoch}, torch {stopped_t}")
    ctx.compare("both sides keep the same best epoch", [stopper.best_epoch], [best_t])
    ctx.compare("restored weights = torch's best weights", flat(net.params), flat(bridge.mlp_arrays(model)), kind="trained")
    ctx.compare("restored weights are the best epoch's, not the last", flat(net.params), flat(best_params_t), kind="trained",
                note="torch's weights as they were at the end of the best epoch")
    ctx.finding("training stopped before the last epoch", stopper.stopped_epoch is not None and stopper.stopped_epoch < MAX_EPOCHS - 1,
                f"best epoch {stopper.best_epoch + 1}, stopped at epoch {None if stopper.stopped_epoch is None else stopper.stopped_epoch + 1}")
    ctx.table("validation-loss", pd.DataFrame({"epoch": np.arange(1, len(val_np) + 1), "NumPy": val_np,
                                               "torch": np.r_[val_t, [np.nan] * (len(val_np) - len(val_t))][:len(val_np)]}))
    ctx.figure("validation-loss", lambda: _plot(val_np, val_t, stopper))


def _numpy_side(ctx, params0, x_tr, t_tr, x_val, t_val, epochs):
    net = ctx.impl.networks.MultiLayerNet({k: ctx.array(v) for k, v in params0.items()}, layers=ctx.impl.layers)
    opt = ctx.impl.optim.SGD(LR)
    stopper = ctx.impl.regularization.EarlyStopping(patience=PATIENCE)
    X, Xv = ctx.array(x_tr), ctx.array(x_val)
    val_losses = []
    for batches in epochs:
        net.train()
        for idx in batches:
            net.loss(X[idx], t_tr[idx])
            opt.update(net.params, net.backward())
        net.eval()
        val_losses.append(float(net.loss(Xv, t_val)))
        if stopper.step(val_losses[-1], net.params):
            break
    stopper.restore(net.params)
    return net, stopper, np.array(val_losses)


def _torch_side(ctx, sizes, params0, x_tr, t_tr, x_val, t_val, epochs):
    model = tnet.mlp(sizes).to(dtype=ctx.torch_dtype, device=ctx.device)
    bridge.load_mlp(model, params0)
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)
    X, T = ctx.tensor(x_tr), ctx.labels(t_tr)
    snapshots = []

    def epoch_fn(batches):
        def train_epoch():
            for idx in batches:
                idx_t = torch.as_tensor(idx, device=ctx.device)
                tnet.train_step(model, optimizer, X[idx_t], T[idx_t])
            snapshots.append(bridge.mlp_arrays(model))  # the harness keeps every epoch's weights
        return train_epoch

    val, best, stopped = tes.train_with_early_stopping(model, optimizer, (epoch_fn(b) for b in epochs),
                                                       ctx.tensor(x_val), ctx.labels(t_val), patience=PATIENCE)
    return model, np.array(val), best, stopped, snapshots[best]


def _plot(val_np, val_t, stopper):
    fig, axes = plots.grid(1, 1, size=(6, 3.6))
    ax = axes[0]
    plots.overlay(ax, np.arange(1, len(val_np) + 1), val_np, np.r_[val_t, [np.nan] * (len(val_np) - len(val_t))][:len(val_np)],
                  xlabel="epoch", ylabel="validation loss")
    ax.axvline(stopper.best_epoch + 1, color="tab:green", ls=":", label=f"best epoch {stopper.best_epoch + 1} (restored)")
    if stopper.stopped_epoch is not None:
        ax.axvline(stopper.stopped_epoch + 1, color="tab:red", ls=":", label=f"stopped at {stopper.stopped_epoch + 1}")
    ax.set_title(f"Early stopping, patience {PATIENCE}")
    ax.legend(fontsize=8)
    return fig
