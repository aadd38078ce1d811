"""word2vec's pieces (the second volume of "Deep Learning from Scratch", ch. 2–4): the bias-free
``MatMul``, ``SigmoidWithLoss``, ``EmbeddingDot`` (kind ``layer``), ``cos_similarity`` and
``convert_one_hot`` (kind ``function``) — against ``nn.Linear(bias=False)``,
``nn.BCEWithLogitsLoss``, ``nn.Embedding``, ``F.cosine_similarity`` and ``F.one_hot``. The negative
sampling loss and its sampler are :mod:`comparisons.pairs.sampling`."""

from __future__ import annotations

import numpy as np
import torch

import scratch.nlp as SN
import torch_ref.layers as tlayers
import torch_ref.nlp as tnlp

from ..checks import linear_term_scales
from ._base import Comparison, Hparam, Mistake, Pair, TargetError, accepted, as_array, call, construct
from ._styles import gradients
from .layers import hard_coded
from .losses import DELTA

SIGMAS = 6  # a statistical bound is 6 standard errors wide: a correct draw leaves it with p < 2e-9


# --- MatMul ------------------------------------------------------------------------------------------


def matmul_inputs(ctx):
    """(x, out features, optional): one row, a batch, a square W, and a sequence (N, T, D) (optional:
    the book's MatMul takes rows only)."""
    return {"x 1×4 → 3": (ctx.array(ctx.rng.normal(0, 2, (1, 4))), 3, False),
            "x 16×10 → 7": (ctx.array(ctx.rng.normal(0, 2, (16, 10))), 7, False),
            "x 5×6 → 6 (square W)": (ctx.array(ctx.rng.normal(0, 2, (5, 6))), 6, False),
            "x 2×3×4 → 5 (a sequence)": (ctx.array(ctx.rng.normal(0, 2, (2, 3, 4))), 5, True)}


def drive_matmul(ctx, pair, cls, hparams, run):
    """``MatMul(W)``: forward x W, dx and dW against a bias-free ``nn.Linear`` holding Wᵀ."""
    out = []
    for label, (x, d_out, optional) in pair.inputs(ctx).items():
        W = ctx.array(ctx.rng.normal(size=(x.shape[-1], d_out)))
        layer = construct(cls, pair, hparams, {"W": W.copy()}, run)
        dout = ctx.array(ctx.rng.normal(size=x.shape[:-1] + (d_out,)))
        try:
            y = as_array(call(layer.forward, f"forward on x{x.shape}", x.copy()), "forward's result")
            dx = as_array(call(layer.backward, f"backward on dout{dout.shape}", dout.copy()), "backward's result")
        except TargetError as exc:
            if not optional:
                raise
            run.notes.append(f"skipped '{label}': {exc}")
            continue
        module = pair.torch(ctx.tensor(W.T))
        y_t, dx_t = tlayers.forward_backward(module, ctx.tensor(x), ctx.tensor(dout))
        rows = x.reshape(-1, x.shape[-1])
        sc = linear_term_scales(rows, W, np.zeros(d_out), dout.reshape(-1, d_out))
        out += [Comparison(f"forward, {label}", y, y_t, scale=sc["forward"].reshape(y_t.shape)),
                Comparison(f"backward dx, {label}", dx, dx_t, scale=sc["dx"].reshape(x.shape)),
                Comparison(f"backward dW, {label}", gradients(layer, ["W"])["W"], module.weight.grad.T, scale=sc["dW"])]
    return out


class MatMulDWTransposed(SN.MatMul):
    def backward(self, dout):
        dx = super().backward(dout)
        self.grads["W"] = self.grads["W"].T
        return dx


class MatMulDWAveraged(SN.MatMul):
    def backward(self, dout):
        dx = super().backward(dout)
        self.grads["W"] = self.grads["W"] / self._x.reshape(-1, self._x.shape[-1]).shape[0]
        return dx


# --- SigmoidWithLoss ---------------------------------------------------------------------------------


def sigmoid_loss_inputs(ctx):
    """(scores, targets, optional): labels 0/1 with an exact 0 score, scores of ±40 (σ rounds to
    0 or 1: log σ overflows), soft targets and a 2-D batch (optional: the book's layer takes
    integer labels of a 1-D batch)."""
    x = ctx.rng.normal(0, 2, 8)
    x[2] = 0.0
    big = ctx.rng.choice([-40.0, 40.0], 6)
    return {"scores (8,), labels, an exact 0": (ctx.array(x), ctx.rng.integers(0, 2, 8), False),
            "scores (6,) of ±40, labels against them": (ctx.array(big), (big < 0).astype(np.int64), False),
            "scores (1,), label 1": (ctx.array(ctx.rng.normal(size=1)), np.array([1]), False),
            "scores (5,), soft targets in [0, 1]": (ctx.array(ctx.rng.normal(size=5)), ctx.array(ctx.rng.uniform(size=5)),
                                                    True),
            "scores 4×3, labels": (ctx.array(ctx.rng.normal(size=(4, 3))), ctx.rng.integers(0, 2, (4, 3)), True)}


def drive_sigmoid_with_loss(ctx, pair, cls, hparams, run):
    """forward(x, t) → the mean binary cross-entropy, backward(1) → dx, against
    ``nn.BCEWithLogitsLoss`` (or the book's δ form). dx is compared with the gradient of the loss
    without δ: the book's backward (σ − t)/n ignores the δ of its forward."""
    out = []
    delta = float(hparams.get("delta", 0.0))
    if delta:
        run.notes.append("dx is compared with the exact gradient (σ(x) − t)/n: the book's backward ignores the δ of "
                         "its own forward")
    for label, (x, t, optional) in pair.inputs(ctx).items():
        layer = construct(cls, pair, hparams, {}, run)
        try:
            loss = call(layer.forward, f"forward on x{x.shape}, t{t.shape}", x.copy(), t.copy())
            dx = as_array(call(layer.backward, "backward(1)", 1.0), "backward's result")
        except TargetError as exc:
            if not optional:
                raise
            run.notes.append(f"skipped '{label}': {exc}")
            continue
        xt, tt = ctx.tensor(x, requires_grad=True), ctx.tensor(t)
        (grad,) = torch.autograd.grad(pair.torch(xt, tt), xt)
        with torch.no_grad():
            value = pair.torch(xt, tt, delta)
        out += [Comparison(f"loss, {label}", as_array(loss, "the loss"), value),
                Comparison(f"backward dx, {label}", dx, grad)]
    return out


class SigmoidWithLossNotAveraged(SN.SigmoidWithLoss):
    def backward(self, dout=1.0):
        return super().backward(dout) * self._cache[0].size


class SigmoidWithLossNaiveLog(SN.SigmoidWithLoss):
    """−mean(t log σ(x) + (1 − t) log(1 − σ(x))) with σ formed first: log 0 where σ rounds to 0 or 1."""

    def forward(self, x, t):
        super().forward(x, t)
        y, t = self._cache
        with np.errstate(divide="ignore", invalid="ignore"):
            self.loss = -np.mean(t * np.log(y) + (1 - t) * np.log(1 - y))
        return self.loss


# --- EmbeddingDot ------------------------------------------------------------------------------------

EMBED_SIZES = (6, 4)  # V, D: D ≠ V, so a transposed W cannot pass


def drive_embedding_dot(ctx, pair, cls, hparams, run):
    """forward(h, idx) → W[idx]·h row by row, backward(dout) → dh and dW (a repeated word's
    gradients add up), against ``nn.Embedding`` and autograd."""
    V, D = EMBED_SIZES
    out = []
    for label, n in (("N = 8, repeated words", 8), ("N = 1", 1)):
        W = ctx.array(ctx.rng.normal(size=(V, D)))
        hid, idx = run.draw(ctx, lambda c: (c.array(c.rng.normal(size=(n, D))),
                                            c.rng.integers(0, V // 2 if n > 1 else V, n)))
        dout = ctx.array(ctx.rng.normal(size=n))
        layer = construct(cls, pair, hparams, {"W": W.copy()}, run)
        y = as_array(call(layer.forward, f"forward(h{hid.shape}, idx{idx.shape})", hid.copy(), idx.copy()),
                     "forward's result")
        dh = as_array(call(layer.backward, f"backward(dout{dout.shape})", dout.copy()), "backward's result")
        module = pair.torch(ctx.tensor(W))
        ht = ctx.tensor(hid, requires_grad=True)
        y_t = module(ht, ctx.labels(idx))
        y_t.backward(ctx.tensor(dout))
        out += [Comparison(f"forward, {label}", y, y_t.detach()), Comparison(f"backward dh, {label}", dh, ht.grad),
                Comparison(f"backward dW, {label}", gradients(layer, ["W"])["W"], module.embed.weight.grad)]
    return out


class EmbeddingDotAssigns(SN.EmbeddingDot):
    """dW[idx] = dout·h: a word used twice keeps one of its gradients."""

    def backward(self, dout):
        dh = super().backward(dout)
        h, idx, _ = self._cache
        dW = np.zeros_like(self.params["W"])
        dW[idx] = np.asarray(dout)[:, None] * h
        self.grads["W"] = dW
        return dh


class EmbeddingDotDhFromH(SN.EmbeddingDot):
    def backward(self, dout):
        super().backward(dout)
        return np.asarray(dout)[:, None] * self._cache[0]


# --- cos_similarity, convert_one_hot -----------------------------------------------------------------


def cosine_inputs(ctx):
    """(x, y): random vectors, short ones (‖x‖ ~ 1e-3: where ε's place matters most), a parallel
    pair (cos = 1), a zero vector (0 on both sides, no division by zero)."""
    a = ctx.rng.normal(size=6)
    return {"x, y (5,)": (ctx.array(ctx.rng.normal(size=5)), ctx.array(ctx.rng.normal(size=5))),
            "x, y (4,) short (‖·‖ ≈ 1e-3)": (ctx.array(ctx.rng.normal(size=4) * 5e-4),
                                             ctx.array(ctx.rng.normal(size=4) * 5e-4)),
            "y = 3x (parallel)": (ctx.array(a), ctx.array(3 * a)),
            "x = 0 (a zero vector)": (ctx.array(np.zeros(3)), ctx.array(ctx.rng.normal(size=3)))}


def drive_cosine(ctx, pair, fn, hparams, run):
    """``fn(x, y)`` against ``F.cosine_similarity`` (or the book's ε on each norm)."""
    kwargs = accepted(fn, pair, hparams)
    out = []
    for label, (x, y) in pair.inputs(ctx).items():
        value = as_array(call(fn, f"calling it on x{x.shape}, y{y.shape}", x.copy(), y.copy(), **kwargs), "its result")
        out.append(Comparison(label, value, pair.torch(ctx.tensor(x), ctx.tensor(y), **pair.torch_kwargs(hparams))))
    return out


def cosine_without_y_norm(x, y, eps=1e-8):
    """x·y/‖x‖: y is not normalised."""
    return np.dot(x / (np.linalg.norm(x) + eps), y)


def cosine_squared_norms(x, y, eps=1e-8):
    """x·y/(‖x‖²‖y‖²): the square root is missing."""
    return np.dot(x, y) / (np.sum(x * x) * np.sum(y * y) + eps)


def one_hot_inputs(ctx):
    """(ids, vocab_size): ids (8,) that leave the last words of the vocabulary unused, and (3, 4)."""
    return {"ids (8,), vocab 7, ids < 5": (ctx.rng.integers(0, 5, 8), 7),
            "ids 3×4, vocab 6": (ctx.rng.integers(0, 6, (3, 4)), 6)}


def drive_one_hot(ctx, pair, fn, hparams, run):
    """``fn(ids, vocab_size)`` against ``F.one_hot`` (compared as numbers: int32 against int64)."""
    out = []
    for label, (ids, V) in pair.inputs(ctx).items():
        got = np.asarray(call(fn, f"calling it on ids{ids.shape} with vocab_size {V}", ids.copy(), V))
        out.append(Comparison(label, as_array(got.astype(np.float64) if got.dtype.kind in "biuf" else got, "its result"),
                              pair.torch(torch.as_tensor(ids), V).double()))
    run.notes.append("compared as numbers: the book's one-hot rows are int32, F.one_hot's int64")
    return out


def one_hot_width_from_ids(corpus, vocab_size):
    """The width is max(id) + 1, not vocab_size: the last words of the vocabulary are lost."""
    return np.eye(int(np.max(corpus)) + 1, dtype=np.int32)[corpus]


def one_hot_transposed(corpus, vocab_size):
    """One column per word position: (vocab_size, N) instead of (N, vocab_size)."""
    return np.moveaxis(np.eye(vocab_size, dtype=np.int32)[corpus], -1, 0)


# --- declarations ------------------------------------------------------------------------------------

EPS = Hparam("eps", 1e-8, "eps", aliases=("epsilon",), bounds="[0, inf)")
EPS_ON_NORMS = Hparam("eps_on_norms", 0, "eps_on_norms", to_torch=bool, choices=(0, 1))

PAIRS = [
    Pair("matmul", "layer", "nlp.MatMul", tlayers.linear,
         "a class MatMul(W) with W (D, H): forward(x) -> x @ W (no bias), backward(dout) -> dx, the gradient of W in "
         "grads['W'] (or grads[0], dW)",
         drive_matmul, (), matmul_inputs,
         (Mistake("dW is transposed: dW = xᵀ·dout has the shape of W (D, H)", MatMulDWTransposed),
          Mistake("dW is divided by the number of rows: the upstream gradient already carries the loss's 1/N, "
                  "so dW = xᵀ·dout", MatMulDWAveraged)),
         ("MatMul",)),
    Pair("sigmoid-with-loss", "layer", "nlp.SigmoidWithLoss", tnlp.sigmoid_with_loss,
         "a class with forward(x, t) -> the mean binary cross-entropy of the scores x for targets t (1 right, 0 wrong) "
         "and backward(dout=1) -> dx",
         drive_sigmoid_with_loss, (DELTA,), sigmoid_loss_inputs,
         (Mistake("backward is not divided by the number of scores: the loss is a mean, so dx = (σ(x) − t)/n",
                  SigmoidWithLossNotAveraged),
          Mistake("the book's δ = 1e-7 inside the log of the forward (its cross_entropy_error): PyTorch's "
                  "BCEWithLogitsLoss has no δ", hard_coded(SN.SigmoidWithLoss, delta=1e-7), flag={"delta": 1e-7}),
          Mistake("log σ(x) taken after σ: where σ rounds to 0 or 1 (|x| ≳ 37 in float64, 17 in float32) the log is "
                  "−∞; take it from the score, −log σ(x) = log(1 + e^(−x)) = softplus(−x)", SigmoidWithLossNaiveLog)),
         ("SigmoidWithLoss",)),
    Pair("embedding-dot", "layer", "nlp.EmbeddingDot", tnlp.EmbeddingDot,
         "a class EmbeddingDot(W) with W (V, D): forward(h (N, D), idx (N,)) -> (W[idx] * h).sum(1), backward(dout) -> "
         "dh, the gradient of W in grads['W'] (or grads[0], dW)",
         drive_embedding_dot, (), None,
         (Mistake("dW[idx] = dout·h assigns: a word used twice must get the sum of its gradients, "
                  "np.add.at(dW, idx, dout·h)", EmbeddingDotAssigns),
          Mistake("dh is dout·h: the score W[idx]·h has the derivative W[idx] with respect to h", EmbeddingDotDhFromH)),
         ("EmbeddingDot",)),
    Pair("cos-similarity", "function", "nlp.cos_similarity", tnlp.cosine_similarity,
         "a function cos_similarity(x, y[, eps]) of two vectors (D,) -> x·y/(‖x‖‖y‖), guarded against a zero vector",
         drive_cosine, (EPS, EPS_ON_NORMS), cosine_inputs,
         (Mistake("the book's ε on each norm, x/(‖x‖ + ε)·y/(‖y‖ + ε): F.cosine_similarity divides by "
                  "max(‖x‖, ε)·max(‖y‖, ε); the two differ by the factor ‖x‖‖y‖/((‖x‖ + ε)(‖y‖ + ε))",
                  hard_coded(SN.cos_similarity, eps_on_norms=True), flag={"eps_on_norms": 1}),
          Mistake("y is not normalised: divide by ‖y‖ too", cosine_without_y_norm),
          Mistake("the norms are squared: ‖x‖ = √(Σx²)", cosine_squared_norms)),
         ("cos_similarity", "cosine_similarity")),
    Pair("one-hot", "function", "nlp.convert_one_hot", tnlp.one_hot,
         "a function convert_one_hot(ids, vocab_size) -> one-hot rows of shape ids.shape + (vocab_size,)",
         drive_one_hot, (), one_hot_inputs,
         (Mistake("the width is max(ids) + 1, not vocab_size: words the batch does not use still need their column",
                  one_hot_width_from_ids),
          Mistake("the one-hot matrix is transposed: one row per id, one column per word", one_hot_transposed)),
         ("convert_one_hot", "one_hot")),
]
