"""Inverted dropout: the exact check with the masks PyTorch drew, NumPy's own masks checked
statistically, and the book's overfitting set-up with and without dropout."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

import torch_ref.layers as tlayers

from .. import data, plots, sides
from ..lockstep import train
from ..outcomes import quote_accuracies, quote_gap
from ..training import AccuracyTracker, overfitting_setup, record_accuracies

P = 0.2


def run(ctx):
    _layer(ctx)
    _statistics(ctx)
    x_tr, t_tr, x_te, t_te, params0 = overfitting_setup(ctx)
    torch.manual_seed(ctx.seed)
    spe = int(np.ceil(len(x_tr) / 100))
    epochs = ctx.value("epochs", ctx.size(75, 301))
    ctx.value("training images", len(x_tr))
    ctx.value("pixels", x_tr.shape[1])
    batches = data.epoch_batches(ctx.rng, len(x_tr), 100, epochs)
    # Accuracy on 300 training and 1,000 test images costs as much as 4 epochs of training: at full
    # length it is taken after every seventh epoch (301 = 7 × 43, so the last epoch is one of them);
    # quick, after every fifth (75 = 5 × 15), which keeps the seed sweep inside its time budget.
    every = ctx.value("accuracy taken every", ctx.size(5, 7))
    curves, train_loss, accuracies = {}, {}, {}
    for name, ratio in (("without dropout", 0.0), (f"dropout {P}", P)):
        tracker = AccuracyTracker(ctx, x_tr, t_tr, x_te, t_te)
        setup = sides.Setup(net={"dropout_ratio": ratio}, model={"dropout": ratio})
        note = "NumPy given the masks torch drew (forward hooks)" if ratio else ""
        run_ = train(ctx, f"overfitting set-up, {name}", *sides.network(
            ctx, params0, (x_tr, t_tr), lambda: ctx.impl.optim.SGD(0.01), lambda ps: torch.optim.SGD(ps, lr=0.01), setup),
            batches, steps_per_epoch=spe * every, on_epoch=tracker, note=note)
        net = run_.numpy.net
        net.eval()
        train_loss[name] = ctx.value(f"{name}: training loss", float(net.loss(ctx.array(x_tr), t_tr)))
        frame = tracker.frame()
        frame["epoch"] *= every
        record_accuracies(ctx, f"overfitting set-up, {name}: accuracy per epoch", [tracker])
        curves[name] = frame
        accuracies[name] = quote_accuracies(ctx, name, frame)
    quote_gap(ctx, "dropout narrows the train − test gap", accuracies["without dropout"], accuracies[f"dropout {P}"])
    ctx.observed("dropout's test accuracy is lower after the same epochs",
                 accuracies[f"dropout {P}"]["test"] < accuracies["without dropout"]["test"])
    if ctx.dtype == "float64":
        ctx.finding("dropout keeps the training loss higher (it trains thinned networks)",
                    bool(train_loss[f"dropout {P}"] > train_loss["without dropout"]),
                    "final training loss in eval mode: " + ", ".join(f"{k} {v:.4f}" for k, v in train_loss.items())
                    + ". (Whether the train − test gap narrows on 300 images depends on the seed: see the table.)")
    ctx.table("final-accuracy", pd.DataFrame([{"variant": k, **f.iloc[-1].to_dict()} for k, f in curves.items()]))
    ctx.figure("accuracy", lambda: plots.accuracy_panels(curves))


def _layer(ctx):
    torch.manual_seed(ctx.seed)
    x = ctx.array(ctx.rng.normal(size=(64, 50)))  # no exact zeros: the mask is read off the output
    dout = ctx.array(ctx.rng.normal(size=x.shape))
    module = tlayers.dropout_module(P)
    xt = ctx.tensor(x, requires_grad=True)
    out_t = module(xt)
    out_t.backward(ctx.tensor(dout))
    mask = ctx.numpy(out_t) != 0
    layer = ctx.impl.layers.Dropout(P)
    layer.set_mask(mask)
    out_np = layer.forward(x)
    ctx.compare("dropout forward with torch's mask", out_np, out_t)
    ctx.compare("dropout backward with torch's mask", layer.backward(dout), xt.grad)
    default_t = tlayers.dropout_module()
    out_t = default_t(ctx.tensor(x))
    default_np = ctx.impl.layers.Dropout()
    default_np.set_mask(ctx.numpy(out_t) != 0)
    ctx.compare("Dropout() default p 0.5 = nn.Dropout() default, with torch's mask", default_np.forward(x), out_t,
                note="the kept units are scaled by 1/(1 − p) = 2 on both sides")
    ctx.compare("dropout in eval mode is the identity", ctx.impl.layers.Dropout(P).eval().forward(x),
                tlayers.dropout_module(P, training=False)(ctx.tensor(x)))


def _statistics(ctx):
    """NumPy's own masks: keep rate 1 − p and E[out] = x, with 5-standard-error tolerances."""
    n = 200_000
    layer = ctx.impl.layers.Dropout(P, rng=np.random.default_rng(ctx.rng.integers(2**32)))
    x = ctx.array(np.ones(n))
    out = layer.forward(x)
    keep = float(np.mean(out != 0))
    ctx.statistical("NumPy's masks: keep rate = 1 − p", keep, 1 - P, 5 * np.sqrt(P * (1 - P) / n),
                    note=f"{n} units, p = {P}")
    ctx.statistical("NumPy's masks: mean output = mean input", float(out.mean()), 1.0, 5 * np.sqrt(P / (1 - P) / n),
                    note="inverted scaling keeps the expectation")
    y = tlayers.dropout_module(P)(ctx.tensor(np.ones(n)))
    ctx.statistical("torch's masks: keep rate = 1 − p", float((y != 0).double().mean()), 1 - P, 5 * np.sqrt(P * (1 - P) / n))

