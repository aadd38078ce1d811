"""Layers over whole sequences (kind ``layer``, and one ``loss``): the embedding, the book's
``TimeBiLSTM`` (against ``nn.LSTM(bidirectional=True)``), ``TimeDropout``, ``TimeSoftmaxWithLoss``
(labels −1 ignored) and ``TimeAffine``, and CS231n's masked
``temporal_softmax_loss`` — against ``nn.Embedding``, ``nn.Dropout``,
``nn.CrossEntropyLoss(ignore_index=−1)``, ``nn.Linear`` on the last axis and the unreduced
``F.cross_entropy`` summed under the mask.

A sequence is (N, T, D), batch first. The book's time layers keep their parameters and gradients
in lists (``grads[0]`` is W's) and switch dropout with the attribute ``train_flg``; CS231n writes
functions returning (loss, dx). Where the two normalisations differ (the mean over the unmasked
positions against CS231n's sum over time divided by N) each has its own pair, and each names the
other when a user's numbers match it."""

from __future__ import annotations

import numpy as np
import torch

import scratch.sequence as SQ
import scratch.sequence_models as SM
import torch_ref.layers as tlayers
import torch_ref.recurrent as trec
import torch_ref.sequence as tseq

from .. import bridge
from ..checks import close, linear_term_scales
from ._base import Comparison, Hparam, Mistake, Pair, TargetError, as_array, call, construct, tensorwise
from ._styles import drive_value_and_gradient, gradients, set_mode
from . import nlp, train_eval
from .recurrent import GATE_NAMES, _gate_orders, layer_grads

SEQUENCE = (20, 25, 20)  # N, T, D of the dropout input: 10,000 units, for the keep rate


# --- TimeDropout -------------------------------------------------------------------------------------


def _torch_dropout(ctx, x, dout, p, scale):
    """nn.Dropout's (output, dx) and its keep-mask, times ``scale`` (1, or 1 − p for the book's
    non-inverted form)."""
    y_t, dx_t = (scale * ctx.numpy(v) for v in tlayers.dropout(ctx.tensor(x), p, True, ctx.tensor(dout)))
    return y_t, dx_t, y_t != 0


def drive_time_dropout(ctx, pair, cls, hparams, run):
    """Two training steps and one evaluation step on x (N, T, D) against ``nn.Dropout``. Where the
    layer takes a mask (``set_mask``), it is given PyTorch's and every element is compared; else
    each side draws its own and the units both kept are compared, with the keep rate checked
    statistically (as :func:`comparisons.pairs.train_eval.drive_dropout`)."""
    p = float(hparams["p"])
    scale = 1.0 if hparams.get("inverted", 1) else 1.0 - p
    layer = construct(cls, pair, hparams, {}, run)
    out = []
    for step in (1, 2):
        x = ctx.array(ctx.rng.normal(size=SEQUENCE) + 0.5)
        x[x == 0] = 1.0  # no exact zeros: a kept unit is out != 0
        dout = ctx.array(ctx.rng.normal(size=SEQUENCE))
        y_t, dx_t, kept_t = _torch_dropout(ctx, x, dout, p, scale)
        given = callable(getattr(layer, "set_mask", None))
        if given:
            call(layer.set_mask, "set_mask(PyTorch's mask)", kept_t.copy())
        kwargs = set_mode(layer, True)
        y = as_array(call(layer.forward, f"forward in training on x{x.shape}", x.copy(), **kwargs), "forward's result")
        dx = as_array(call(layer.backward, "backward in training", dout.copy()), "backward's result")
        label = f"training step {step}"
        if given or y.shape != x.shape:
            out += [Comparison(f"{label}: forward with PyTorch's mask", y, y_t),
                    Comparison(f"{label}: backward with PyTorch's mask", dx, dx_t)]
            continue
        kept = y != 0
        both = kept & kept_t
        out += [Comparison(f"{label}: kept units on both sides have one value", y[both], y_t[both],
                           hint_value=np.median(y[kept] / x[kept]) if kept.any() else 0.0),
                Comparison(f"{label}: backward on the units both kept", dx[both], dx_t[both],
                           hint_value=np.median(dx[kept] / dout[kept]) if kept.any() else 0.0),
                Comparison(f"{label}: backward blocks the dropped units", dx[~kept], np.zeros(int((~kept).sum())),
                           hint_value=np.abs(dx[~kept]).max(initial=0.0)),
                Comparison(f"{label}: keep rate within 6σ of 1 − p = {1 - p:g}", np.array(kept.mean()), np.array(1 - p),
                           kind="statistical", tol=6 * np.sqrt(p * (1 - p) / x.size), hint_value=np.round(kept.mean(), 1))]
    x = ctx.array(ctx.rng.normal(size=SEQUENCE))
    y = as_array(call(layer.forward, "forward in evaluation", x.copy(), **set_mode(layer, False)), "forward's result")
    y_eval, _ = tlayers.dropout(ctx.tensor(x), p, False, ctx.tensor(np.ones_like(x)))
    out.append(Comparison("evaluation: forward", y, scale * ctx.numpy(y_eval)))
    if not hasattr(layer, "set_mask"):
        run.notes.append("the layer takes no mask (set_mask): each side drew its own; the units both kept are compared "
                         "exactly and the keep rate statistically")
    return out


# --- TimeSoftmaxWithLoss and temporal_softmax_loss ------------------------------------------------


def masked_inputs(ctx):
    """(scores (N, T, V), labels (N, T), mask (N, T)): padding at the ends of some rows, no padding
    at all, and huge scores (×1000: an unshifted exp overflows). In the huge case every label's
    score is its position's largest, so that log(softmax(x)[label]) stays finite where softmax is
    formed before its log (CS231n's and the book's code): the case tells the missing shift apart,
    not log-softmax from log of softmax. Padded positions carry the last class as their label (the
    class the book's ``ys[…, −1]`` reads there)."""
    cases = {}
    for label, (n, t, v), big in (("3×5×4, padded rows", (3, 5, 4), False), ("2×4×6, no padding", (2, 4, 6), False),
                                  ("4×3×5 huge scores (×1000), padded", (4, 3, 5), True)):
        x = ctx.rng.normal(size=(n, t, v)) * (1000 if big else 2)
        labels = ctx.rng.integers(0, v, (n, t))
        lengths = ctx.rng.integers(1, t + 1, n) if "padded" in label else np.full(n, t)
        mask = np.arange(t)[None, :] < lengths[:, None]
        if big:
            labels = np.where(mask, labels, v - 1)
            np.put_along_axis(x, labels[..., None], x.max(axis=-1, keepdims=True) + 1.0, axis=-1)
        cases[label] = (ctx.array(x), labels, mask)
    return cases


def drive_time_softmax_with_loss(ctx, pair, cls, hparams, run):
    """forward(x, t) with t = −1 (``ignore_label``) at the padding → the mean loss over the other
    positions, backward(1) → dx, against ``nn.CrossEntropyLoss(ignore_index)``; each case a new layer."""
    ignore = int(hparams["ignore_label"])
    out = []
    for label, (x, labels, mask) in pair.inputs(ctx).items():
        t = np.where(mask, labels, ignore)
        layer = construct(cls, pair, hparams, {}, run)
        if getattr(layer, "ignore_label", ignore) != ignore:
            layer.ignore_label = ignore  # the book's layer fixes it in __init__
        loss = as_array(call(layer.forward, f"forward(x{x.shape}, t{t.shape})", x.copy(), t.copy()), "the loss")
        dx = as_array(call(layer.backward, "backward(1)", 1.0), "backward's result")
        xt = ctx.tensor(x, requires_grad=True)
        value = pair.torch(xt, ctx.labels(t), ignore_index=ignore)
        (grad,) = torch.autograd.grad(value, xt)
        out += [Comparison(f"loss, {label}", loss, value.detach()), Comparison(f"backward dx, {label}", dx, grad)]
    return out


class TimeSoftmaxMeanOverAll(SQ.TimeSoftmaxWithLoss):
    """Divides by N·T: the ignored positions count in the mean."""

    def forward(self, x, t):
        loss = super().forward(x, t)
        dx, mask, count = self._cache
        self._cache = (dx, mask, mask.size)
        self.loss = loss * count / mask.size
        return self.loss


class TimeSoftmaxGradAtPadding(SQ.TimeSoftmaxWithLoss):
    """backward leaves softmax − onehot at the ignored positions instead of 0."""

    def backward(self, dout=1.0):
        dx, mask, count = self._cache
        return dout * dx / count


class TimeSoftmaxCS231n(SQ.TimeSoftmaxWithLoss):
    """CS231n's normalisation: the sum over the unmasked positions divided by N."""

    def forward(self, x, t):
        loss = super().forward(x, t)
        dx, mask, count = self._cache
        self._cache = (dx, mask, mask.shape[0])
        self.loss = loss * count / mask.shape[0]
        return self.loss


class TimeSoftmaxNoIgnore:
    """The labels −1 are not ignored: every position counts in the mean over N·T, and −1 reads the
    last class's score (the book's Simple_TimeSoftmaxWithLoss, with the δ = 1e-7 of its
    cross_entropy_error)."""

    def forward(self, x, t):
        x = np.asarray(x, dtype=float)
        N, T, V = x.shape
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        y = (e / e.sum(axis=-1, keepdims=True)).reshape(N * T, V)
        t = np.asarray(t).reshape(N * T)
        self._cache = (y, t, (N, T, V))
        return -np.sum(np.log(y[np.arange(N * T), t] + 1e-7)) / (N * T)

    def backward(self, dout=1.0):
        y, t, shape = self._cache
        dx = y.copy()
        dx[np.arange(len(t)), t] -= 1
        return (dout * dx / len(t)).reshape(shape)


def temporal_loss_over_mask(x, y, mask):
    """Divides by Σ mask (the book's and PyTorch's mean) instead of N."""
    loss, dx = SQ.temporal_softmax_loss(x, y, mask)
    scale = np.shape(x)[0] / np.sum(mask)
    return loss * scale, dx * scale


def temporal_loss_dx_unmasked(x, y, mask):
    """dx is not masked: the padded positions get softmax − onehot."""
    loss, _ = SQ.temporal_softmax_loss(x, y, mask)
    _, dx = SQ.temporal_softmax_loss(x, y, np.ones_like(mask))
    return loss, dx


def temporal_loss_over_nt(x, y, mask):
    """Divides by N·T."""
    loss, dx = SQ.temporal_softmax_loss(x, y, mask)
    T = np.shape(x)[1]
    return loss / T, dx / T


# --- TimeAffine --------------------------------------------------------------------------------------


def drive_time_affine(ctx, pair, cls, hparams, run):
    """``TimeAffine(W, b)`` on x (N, T, D): forward x W + b at every step, dx, dW, db (summed over
    the batch and the time steps), against ``nn.Linear`` on the last axis."""
    out = []
    for label, (n, t, d, m) in (("x 3×5×4 → 6", (3, 5, 4, 6)), ("x 1×1×3 → 2", (1, 1, 3, 2)),
                                ("x 4×2×7 → 7", (4, 2, 7, 7))):
        x = run.draw(ctx, lambda c: c.array(c.rng.normal(size=(n, t, d))))
        dout = ctx.array(ctx.rng.normal(size=(n, t, m)))
        W, b = ctx.array(ctx.rng.normal(size=(d, m))), ctx.array(ctx.rng.normal(size=m))
        layer = construct(cls, pair, hparams, {"W": W.copy(), "b": b.copy()}, run)
        y = as_array(call(layer.forward, f"forward on x{x.shape}", x.copy()), "forward's result")
        dx = as_array(call(layer.backward, f"backward on dout{dout.shape}", dout.copy()), "backward's result")
        module = pair.torch(ctx.tensor(W.T), ctx.tensor(b))
        y_t, dx_t = tlayers.forward_backward(module, ctx.tensor(x), ctx.tensor(dout))
        grads = gradients(layer, ["W", "b"])
        sc = linear_term_scales(x.reshape(-1, d), W, b, dout.reshape(-1, m))
        out += [Comparison(f"forward, {label}", y, y_t, scale=sc["forward"].reshape(n, t, m)),
                Comparison(f"backward dx, {label}", dx, dx_t, scale=sc["dx"].reshape(n, t, d)),
                Comparison(f"backward dW, {label}", grads["W"], module.weight.grad.T, scale=sc["dW"]),
                Comparison(f"backward db, {label}", grads["b"], module.bias.grad, scale=sc["db"])]
    return out


class TimeAffineLastStep(SM.TimeLinear):
    """dW and db from the last time step only."""

    def backward(self, dout):
        dx = super().backward(dout)
        self.grads["W"] = self._x[:, -1].T @ np.asarray(dout)[:, -1]
        self.grads["b"] = np.asarray(dout)[:, -1].sum(axis=0)
        return dx


class TimeAffineAveraged(SM.TimeLinear):
    """dW and db divided by the number of positions N·T."""

    def backward(self, dout):
        dx = super().backward(dout)
        positions = self._x.shape[0] * self._x.shape[1]
        self.grads = {k: g / positions for k, g in self.grads.items()}
        return dx


def time_sigmoid_inputs(ctx):
    """(scores (N, T), labels, optional): labels with an exact 0 score, scores of ±40 (σ rounds to 0 or
    1), one sequence of one step, and soft targets (optional: the book's layer takes labels)."""
    x = ctx.rng.normal(0, 2, (4, 3))
    x[1, 2] = 0.0
    big = ctx.rng.choice([-40.0, 40.0], (2, 3))
    return {"scores 4×3, labels, an exact 0": (ctx.array(x), ctx.rng.integers(0, 2, (4, 3)), False),
            "scores 2×3 of ±40, labels against them": (ctx.array(big), (big < 0).astype(np.int64), False),
            "scores 1×1, label 1": (ctx.array(ctx.rng.normal(size=(1, 1))), np.array([[1]]), False),
            "scores 3×2, soft targets": (ctx.array(ctx.rng.normal(size=(3, 2))), ctx.array(ctx.rng.uniform(size=(3, 2))),
                                         True)}


# --- Embedding (a lookup whose gradient adds up over repeated indices) ------------------------------

def drive_embedding(ctx, pair, cls, hparams, run):
    """forward(idx) → W[idx] and backward(dout) → the gradient of W (repeated indices add up),
    against nn.Embedding and autograd."""
    V, D = 5, 3
    W = ctx.array(ctx.rng.normal(size=(V, D)))
    comps = []
    for label, idx in (("idx 4×6 (repeats)", run.draw(ctx, lambda c: c.rng.integers(0, V, size=(4, 6)))),
                       ("idx 8 (repeats)", run.draw(ctx, lambda c: c.rng.integers(0, V, 8)))):
        layer = construct(cls, pair, hparams, {"W": W.copy()}, run)
        try:
            out = as_array(call(layer.forward, f"forward(idx{idx.shape})", idx.copy()), "forward's result")
        except TargetError as exc:
            if idx.ndim == 2:
                raise
            run.notes.append(f"skipped '{label}' (optional: a layer for (N, T) indices only, as the book's "
                             f"TimeEmbedding): {exc}")
            continue
        dout = ctx.array(ctx.rng.normal(size=idx.shape + (D,)))
        call(layer.backward, f"backward(dout{dout.shape})", dout.copy())
        module = trec.embedding(ctx.tensor(W))
        out_t = module(ctx.labels(idx))
        out_t.backward(ctx.tensor(dout))
        comps += [Comparison(f"forward, {label}", out, out_t),
                  Comparison(f"backward dW, {label}", layer_grads(layer, ["W"])["W"], module.weight.grad)]
    return comps


class EmbeddingAssigns(SM.Embedding):
    """dW[idx] = dout: a row used several times keeps only one of its gradients."""

    def backward(self, dout):
        dW = np.zeros_like(self.params["W"])
        dW[self._idx] = dout
        self.grads["W"] = dW


# --- a bidirectional LSTM (the book's TimeBiLSTM) ---------------------------------------------------

BI_SIZES = (3, 5, 4, 6)  # N, T, D, H


def _bi_reference(ctx, w, gates):
    to_torch = lambda i: {k: ctx.tensor(v) for k, v in bridge.recurrent_to_torch(  # noqa: E731
        "lstm", w[f"Wx{i}"], w[f"Wh{i}"], w[f"b{i}"], gates=gates).items()}
    return trec.bidirectional_lstm(to_torch(1), to_torch(2))


def _bi_grads(module, gates):
    out = {}
    for i, suffix in ((1, "_l0"), (2, "_l0_reverse")):
        grads = [getattr(module, n + suffix).grad.detach().cpu().numpy() for n in ("weight_ih", "weight_hh", "bias_ih")]
        arrays = bridge.recurrent_from_torch("lstm", *grads, np.zeros_like(grads[2]), gates=gates)
        out.update({f"{k}{i}": arrays[k] for k in ("Wx", "Wh", "b")})
    return out


def drive_bilstm(ctx, pair, cls, hparams, run):
    """forward(xs (N, T, D)) → (N, T, 2H) and backward(dout) → dxs with the six weights' gradients
    (the book's list grads: Wx1, Wh1, b1, Wx2, Wh2, b2), against nn.LSTM(bidirectional=True) and
    autograd; the gate order read off the forward pass, as for the one-way LSTM."""
    N, T, D, H = BI_SIZES
    w = {f"{k}{i}": ctx.array(ctx.rng.normal(0, s, shape)) for i in (1, 2)
         for k, s, shape in (("Wx", 1 / np.sqrt(D), (D, 4 * H)), ("Wh", 1 / np.sqrt(H), (H, 4 * H)), ("b", 0.1, (4 * H,)))}
    x = run.draw(ctx, lambda c: c.array(c.rng.normal(size=(N, T, D))))
    dout = run.draw(ctx, lambda c: c.array(c.rng.normal(size=(N, T, 2 * H))))
    layer = construct(cls, pair, hparams, {k: v.copy() for k, v in w.items()}, run)
    out = as_array(call(layer.forward, f"forward(xs{x.shape})", x.copy()), "forward's result")
    gates = None
    for order in _gate_orders():
        with torch.no_grad():
            ref, _ = _bi_reference(ctx, w, order)(ctx.tensor(x))
        if np.shape(out) == tuple(ref.shape) and np.all(close(out, ctx.numpy(ref), *ctx.tolerance("exact"))):
            gates = order
            break
    if gates is None:
        gates = "ifgo"
        run.notes.append("no gate order reproduces the forward pass: compared in PyTorch's order i, f, g, o")
    elif gates in GATE_NAMES:
        run.notes.append(f"gate order {', '.join(gates)} ({GATE_NAMES[gates]})")
    dx = as_array(call(layer.backward, f"backward(dout{dout.shape})", dout.copy()), "backward's result")
    module = _bi_reference(ctx, w, gates)
    xt = ctx.tensor(x, requires_grad=True)
    ref, _ = module(xt)
    ref.backward(ctx.tensor(dout))
    grads, grads_t = layer_grads(layer, list(w)), _bi_grads(module, gates)
    # a weight's gradient is a sum over N·T steps whose terms can cancel: judged tensorwise
    return ([Comparison("forward: [h→_t, h←_t] at every step", out, ref.detach()), Comparison("backward dxs", dx, xt.grad)]
            + [Comparison(f"backward d{k}", grads[k], grads_t[k], scale=tensorwise(grads_t[k])) for k in w])


class BiLSTMSecondUnreversed(SM.BiLSTM):
    """Runs the backward LSTM over x in reverse but does not reverse its outputs back into time order."""

    def forward(self, x):
        out = super().forward(x)
        H = self.forward_lstm.hidden_size
        return np.concatenate((out[:, :, :H], out[:, ::-1, H:]), axis=2)


# --- declarations ------------------------------------------------------------------------------------

SIGMOID_LOSS = next(p for p in nlp.PAIRS if p.id == "sigmoid-with-loss")
DROPOUT = next(p for p in train_eval.PAIRS if p.id == "dropout")  # its hyperparameters and catalogue serve here too
IGNORE = Hparam("ignore_label", -1, "ignore_index", aliases=("ignore_index",), integer=True)
_CS231N_NOTE = ("CS231n's temporal_softmax_loss divides the sum over the unmasked positions by N, the book and "
                "nn.CrossEntropyLoss(ignore_index) by the number of those positions")

PAIRS = [
    Pair("bilstm", "layer", "sequence_models.BiLSTM", trec.bidirectional_lstm,
         "the book's TimeBiLSTM(Wx1, Wh1, b1, Wx2, Wh2, b2): forward(xs (N, T, D)) -> (N, T, 2H), the forward LSTM's "
         "states then the backward one's, backward(dout) -> dxs; grads a list of six (or a dict Wx1, …, b2)",
         drive_bilstm, (), None,
         (Mistake("the backward LSTM's outputs are left in reversed time: reverse them back, so that out_t holds both "
                  "directions' states at step t", BiLSTMSecondUnreversed),),
         ("TimeBiLSTM", "BiLSTM", "BidirectionalLSTM", "BiTimeLSTM")),
    Pair("embedding", "layer", "sequence_models.Embedding", trec.embedding,
         "a class Embedding(W (V, D)) with forward(idx) -> W[idx] and backward(dout); the gradient of W in "
         "grads['W'] (or grads[0], dW)",
         drive_embedding, (), None,
         (Mistake("the backward assigns dW[idx] = dout: a row used several times must get the sum of its "
                  "gradients, np.add.at(dW, idx, dout)", EmbeddingAssigns),),
         ("Embedding", "TimeEmbedding", "WordEmbedding")),
    Pair("time-dropout", "layer", "sequence.TimeDropout", tlayers.dropout,
         "a class TimeDropout(p or dropout_ratio) with forward(xs (N, T, D)) and backward(dout); train()/eval(), a "
         "train_flg argument or a train_flg attribute switch the modes; set_mask(mask) is used when there",
         drive_time_dropout, DROPOUT.hparams, None, DROPOUT.mistakes, ("TimeDropout",)),
    Pair("time-softmax-with-loss", "layer", "sequence.TimeSoftmaxWithLoss", tseq.time_softmax_with_loss,
         "a class with forward(xs (N, T, V), ts (N, T)) -> the mean loss over the positions whose label is not "
         "ignore_label (−1), and backward(dout=1) -> dxs",
         drive_time_softmax_with_loss, (IGNORE,), masked_inputs,
         (Mistake("the mean is taken over all N·T positions: the ignored ones must not count, divide by the number "
                  "of labels ≠ −1", TimeSoftmaxMeanOverAll),
          Mistake("the ignored positions get a gradient: multiply dx by the mask (label ≠ −1)",
                  TimeSoftmaxGradAtPadding),
          Mistake("the sum is divided by the batch size N (CS231n's temporal_softmax_loss): " + _CS231N_NOTE,
                  TimeSoftmaxCS231n),
          Mistake("the labels −1 are not ignored: every position counts in the mean over N·T and −1 reads the last "
                  "class (the book's Simple_TimeSoftmaxWithLoss, which has no ignore label; with its δ = 1e-7 in "
                  "the log)", TimeSoftmaxNoIgnore)),
         ("TimeSoftmaxWithLoss",)),
    Pair("time-sigmoid-with-loss", "layer", "nlp.SigmoidWithLoss", SIGMOID_LOSS.torch,
         "a class with forward(xs (N, T), ts (N, T)) -> the mean binary cross-entropy over the N·T scores and "
         "backward(dout=1) -> dxs (the book's TimeSigmoidWithLoss)",
         SIGMOID_LOSS.drive, SIGMOID_LOSS.hparams, time_sigmoid_inputs, SIGMOID_LOSS.mistakes,
         ("TimeSigmoidWithLoss",)),
    Pair("temporal-softmax-loss", "loss", "sequence.temporal_softmax_loss", tseq.temporal_softmax_loss,
         "a function temporal_softmax_loss(x (N, T, V), y (N, T), mask (N, T)) -> (loss, dx): the masked sum of "
         "−log softmax over the positions, divided by N",
         drive_value_and_gradient, (), masked_inputs,
         (Mistake("the sum is divided by the number of unmasked positions (the book's and nn.CrossEntropyLoss's "
                  "mean): " + _CS231N_NOTE, temporal_loss_over_mask),
          Mistake("dx is not masked: the masked positions must get no gradient", temporal_loss_dx_unmasked),
          Mistake("the sum is divided by N·T: CS231n divides by the batch size N only", temporal_loss_over_nt)),
         ("temporal_softmax_loss",)),
    Pair("time-affine", "layer", "sequence_models.TimeLinear", tlayers.linear,
         "a class TimeAffine(W (D, M), b (M,)) with forward(xs (N, T, D)) -> xs @ W + b and backward(dout) -> dxs; "
         "the gradients in grads (a dict, or the book's list [dW, db]) or dW, db",
         drive_time_affine, (), None,
         (Mistake("dW and db from the last time step only: the same W acts at every step, so its gradient is the "
                  "sum over all N·T positions", TimeAffineLastStep),
          Mistake("dW and db are divided by N·T: the upstream gradient already carries the loss's mean",
                  TimeAffineAveraged)),
         ("TimeAffine", "TemporalAffine")),
]
