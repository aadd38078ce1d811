"""word2vec's pieces (the second volume of "Deep Learning from Scratch", ch. 2–4): the bias-free
``MatMul``, ``SigmoidWithLoss``, ``EmbeddingDot``, ``NegativeSamplingLoss`` and its
``UnigramSampler`` (kind ``layer``), ``cos_similarity`` and ``convert_one_hot`` (kind
``function``) — against ``nn.Linear(bias=False)``, ``nn.BCEWithLogitsLoss``, ``nn.Embedding``,
``torch.multinomial``, ``F.cosine_similarity`` and ``F.one_hot``.

The negative sample is random. For the exact check PyTorch draws it (``torch.multinomial``) and the
layer under test is given that draw: through ``forward(h, target, negative_samples)`` where it takes
one, else by replacing its ``sampler`` (the book's layer keeps one) with one that returns it. A
sampler itself is judged statistically: the shape, the target never drawn, no word twice in a row,
the frequencies and the power of the unigram distribution they imply."""

from __future__ import annotations

import math

import numpy as np
import torch

import scratch.nlp as SN
import torch_ref.layers as tlayers
import torch_ref.nlp as tnlp

from ..checks import linear_term_scales
from ._base import (Comparison, Hparam, Mistake, Pair, TargetError, VerifyUsageError, accepted, as_array, call, construct,
                    parameters, shows)
from ._styles import gradients, seeded
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


# --- NegativeSamplingLoss ----------------------------------------------------------------------------

WORD_COUNTS = np.array([81, 1, 16, 5, 2, 9, 3, 7, 12, 4])  # word w occurs WORD_COUNTS[w] times in the corpus


def corpus_of(counts) -> np.ndarray:
    """A corpus (1-D word ids) in which word w occurs counts[w] times, every word at least once."""
    return np.repeat(np.arange(len(counts)), counts)


class GivenDraw:
    """A sampler that returns a given draw: PyTorch's negative samples put into a layer that keeps
    a ``sampler`` (the book's ``NegativeSamplingLoss``)."""

    def __init__(self, negatives, sample_size: int):
        self.negatives, self.sample_size = negatives, sample_size

    def get_negative_sample(self, target):
        if np.shape(target)[0] != self.negatives.shape[0]:
            raise ValueError(f"the given draw has {self.negatives.shape[0]} rows, the target {np.shape(target)[0]}")
        return self.negatives.copy()


def _forward_with_draw(layer, hid, target, negatives, k):
    """The layer's forward on PyTorch's draw: as ``negative_samples`` where forward takes it, else
    through its ``sampler``."""
    if "negative_samples" in (parameters(layer.forward) or {}):
        return call(layer.forward, "forward(h, target, negative_samples)", hid.copy(), target.copy(),
                    negative_samples=negatives.copy())
    if not hasattr(layer, "sampler"):
        raise VerifyUsageError("the negative sample must be given to the layer: forward(h, target, negative_samples), "
                               "or a sampler attribute with get_negative_sample(target) that can be replaced")
    layer.sampler = GivenDraw(negatives, k)
    return call(layer.forward, "forward(h, target)", hid.copy(), target.copy())


def drive_negative_sampling(ctx, pair, cls, hparams, run):
    """forward(h, target) with the negative sample PyTorch draws (``torch.multinomial`` from the
    unigram distribution to the power ``power``, without the target), then backward(1) → dh and dW,
    against :class:`torch_ref.nlp.NegativeSampling` and autograd; two batches, each a new layer."""
    V, D = len(WORD_COUNTS), 4
    k = int(hparams["sample_size"])
    if not 1 <= k < V:
        raise VerifyUsageError(f"sample_size must be in [1, {V - 1}] for the {V}-word corpus of this check, got {k}")
    probs = tnlp.unigram_probabilities(torch.as_tensor(WORD_COUNTS), float(hparams["power"]))
    generator = torch.Generator().manual_seed(ctx.seed)
    delta = float(hparams.get("delta", 0.0))
    out = []
    for label, n in (("N = 6", 6), ("N = 12, repeated targets", 12)):
        W = ctx.array(ctx.rng.normal(0, 0.5, size=(V, D)))
        hid, target = run.draw(ctx, lambda c: (c.array(c.rng.normal(size=(n, D))), c.rng.integers(0, V, n)))
        negatives = pair.torch.draw(probs, torch.as_tensor(target), k, generator).numpy()
        layer = construct(cls, pair, hparams, {"W": W.copy(), "corpus": corpus_of(WORD_COUNTS), "rng": seeded(ctx.seed)}, run)
        loss = as_array(_forward_with_draw(layer, hid, target, negatives, k), "the loss")
        dh = as_array(call(layer.backward, "backward(1)", 1.0), "backward's result")
        module = pair.torch(ctx.tensor(W))
        ht = ctx.tensor(hid, requires_grad=True)
        args = (ht, ctx.labels(target), ctx.labels(negatives))
        module(*args).backward()
        with torch.no_grad():
            value = module(*args, delta=delta)
        out += [Comparison(f"loss, {label}", loss, value), Comparison(f"backward dh, {label}", dh, ht.grad),
                Comparison(f"backward dW, {label}", gradients(layer, ["W"])["W"], module.embed.weight.grad)]
    return out


def _negative_sampling(weight):
    """:class:`torch_ref.nlp.NegativeSampling` holding ``weight`` (V, D); ``.draw`` is
    :func:`torch_ref.nlp.negative_samples`."""
    return tnlp.NegativeSampling(weight)


_negative_sampling.draw = tnlp.negative_samples
shows(_negative_sampling, tnlp.NegativeSampling)


class NegativeSamplingNegativesLabelledOne(SN.NegativeSamplingLoss):
    """Every score gets the label 1: the negatives are pulled towards the target."""

    def forward(self, h, target, negative_samples=None):
        super().forward(h, target, negative_samples)
        h, words, residual = self._cache
        scores = np.einsum("nkd,nd->nk", self.params["W"][words], h)
        self.loss = np.sum(SN.softplus(-scores)) / h.shape[0]
        self._cache = (h, words, SN.sigmoid(scores) - 1.0)
        return self.loss


class NegativeSamplingDhPositiveOnly(SN.NegativeSamplingLoss):
    def backward(self, dout=1.0):
        super().backward(dout)
        h, words, residual = self._cache
        ds = dout * residual[:, 0] / h.shape[0]
        return ds[:, None] * self.params["W"][words[:, 0]]


class NegativeSamplingAveraged(SN.NegativeSamplingLoss):
    """The K + 1 binary losses averaged instead of added."""

    def forward(self, h, target, negative_samples=None):
        loss = super().forward(h, target, negative_samples)
        self._k1 = self._cache[1].shape[1]
        self.loss = loss / self._k1
        return self.loss

    def backward(self, dout=1.0):
        return super().backward(dout) / self._k1


# --- UnigramSampler ----------------------------------------------------------------------------------

RARE, FREQUENT = 1, 0  # two words 81 times apart in WORD_COUNTS: their frequencies give the power
DRAWS = 20000


def _draw(sampler, target, what):
    got = np.asarray(call(sampler.get_negative_sample, what, target.copy()))
    if got.dtype.kind not in "iu":
        raise TargetError(f"{what} returned {got.dtype} values: word ids must be integers")
    return got


def _power_estimate(draws, counts):
    """log(n_frequent / n_rare) / log(c_frequent / c_rare): the power of the unigram distribution a
    draw implies (½ added to each count so that a word never drawn does not give ∞)."""
    n_f, n_r = (np.sum(draws == w) + 0.5 for w in (FREQUENT, RARE))
    return math.log(n_f / n_r) / math.log(counts[FREQUENT] / counts[RARE])


def sampler_checks(label, draws, target, word_p, counts, power):
    """The statistical checks of one-word draws (``sample_size`` 1) for ``target``: every word's
    frequency against P(w)/(1 − P(target)) averaged over the rows, and the power they imply."""
    n = target.size
    p = np.broadcast_to(word_p, (n, word_p.size)).copy()
    p[np.arange(n), target] = 0.0
    expected = (p / p.sum(axis=1, keepdims=True)).mean(axis=0)
    freq = np.bincount(draws.ravel(), minlength=word_p.size)[:word_p.size] / n
    z = np.abs(freq - expected) / np.sqrt(expected * (1 - expected) / n)
    worst = float(z.max())
    se = math.sqrt(1 / (n * expected[FREQUENT]) + 1 / (n * expected[RARE])) / math.log(counts[FREQUENT] / counts[RARE])
    estimate = _power_estimate(draws, counts)
    return [Comparison(f"{label}: every word's frequency within {SIGMAS} s.e. of P(w)/(1 − P(target))",
                       np.array(worst), np.array(0.0), kind="statistical", tol=SIGMAS),
            Comparison(f"{label}: the power the frequencies imply ≈ {power:g} (±{SIGMAS} s.e.)", np.array(estimate),
                       np.array(power), kind="statistical", tol=SIGMAS * se)]


def drive_unigram_sampler(ctx, pair, cls, hparams, run):
    """``UnigramSampler(corpus, power, sample_size)``'s ``get_negative_sample(target)``, judged
    statistically (the draws are its own): one word per target, 20,000 times, against the
    distribution P(w)/(1 − P(target)); then ``sample_size`` 3: the shape, no target and no word
    twice in a row (exact), and each word's share against ``torch.multinomial``'s draw."""
    counts, power = WORD_COUNTS, float(hparams["power"])
    V = len(counts)
    word_p = tnlp.unigram_probabilities(torch.as_tensor(counts), power).numpy()
    others = np.setdiff1d(np.arange(V), [RARE, FREQUENT])
    given = {"corpus": corpus_of(counts), "rng": seeded(ctx.seed)}
    one = construct(cls, pair, {**hparams, "sample_size": 1}, given, run)
    target = ctx.rng.choice(others, DRAWS)
    draws = _draw(one, target, f"get_negative_sample(target of {DRAWS} words), sample_size 1")
    out = [Comparison("sample_size 1: shape of the draw", np.array(draws.shape), np.array((DRAWS, 1)))]
    if draws.shape != (DRAWS, 1):
        return out
    out += sampler_checks("sample_size 1", draws, target, word_p, counts, power)
    k, n = 3, 5000
    three = construct(cls, pair, {**hparams, "sample_size": k}, given, run)
    target = ctx.rng.integers(0, V, n)
    draws = _draw(three, target, f"get_negative_sample(target of {n} words), sample_size {k}")
    out.append(Comparison(f"sample_size {k}: shape of the draw", np.array(draws.shape), np.array((n, k))))
    if draws.shape != (n, k):
        return out
    with_target = int(np.sum(np.any(draws == target[:, None], axis=1)))
    repeats = int(np.sum([len(set(row)) < k for row in draws.tolist()]))
    theirs = pair.torch(torch.as_tensor(word_p), torch.as_tensor(target), k,
                        torch.Generator().manual_seed(ctx.seed)).numpy()
    share = [np.bincount(d.ravel(), minlength=V)[:V] / n for d in (draws, theirs)]
    pooled = (share[0] + share[1]) / 2
    z = np.abs(share[0] - share[1]) / np.sqrt(np.maximum(2 * pooled * (1 - pooled) / n, 1e-300))
    out += [Comparison(f"sample_size {k}: rows that hold their own target", np.array(with_target), np.array(0),
                       hint_value=float(with_target > 0)),
            Comparison(f"sample_size {k}: rows that hold a word twice", np.array(repeats), np.array(0),
                       hint_value=float(repeats > 0)),
            Comparison(f"sample_size {k}: each word's share within {SIGMAS} s.e. of torch.multinomial's",
                       np.array(float(z.max())), np.array(0.0), kind="statistical", tol=SIGMAS)]
    return out


class SamplerWithTarget(SN.UnigramSampler):
    """The target is not excluded: a word can be its own negative."""

    def get_negative_sample(self, target):
        keys = np.log(self.word_p + 1e-300) + self.rng.gumbel(size=(len(target), self.vocab_size))
        return np.argsort(-keys, axis=1)[:, :self.sample_size]


class SamplerWithReplacement(SN.UnigramSampler):
    """Each word drawn independently: the same negative can appear twice in a row."""

    def get_negative_sample(self, target):
        p = np.broadcast_to(self.word_p, (len(target), self.vocab_size)).copy()
        p[np.arange(len(target)), target] = 0.0
        cdf = np.cumsum(p / p.sum(axis=1, keepdims=True), axis=1)
        u = self.rng.random((len(target), self.sample_size, 1))
        return np.minimum((u > cdf[:, None, :]).sum(axis=2), self.vocab_size - 1)


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

POWER = Hparam("power", 0.75, None, bounds="[0, inf)")
SAMPLE_SIZE = Hparam("sample_size", 5, None, aliases=("k", "negatives", "num_negatives"), bounds="[1, inf)",
                     integer=True)
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
    Pair("negative-sampling-loss", "layer", "nlp.NegativeSamplingLoss", _negative_sampling,
         "a class NegativeSamplingLoss(W, corpus[, power, sample_size]) with forward(h, target[, negative_samples]) -> "
         "the loss and backward(dout=1) -> dh; the negative sample is given to forward or put into its sampler; the "
         "gradient of W in grads['W'] (or the book's list, one entry per sub-layer, added up)",
         drive_negative_sampling, (POWER, SAMPLE_SIZE, DELTA), None,
         (Mistake("the negatives are labelled 1: each negative word's score must be pushed down, "
                  "−log(1 − σ(s⁻)) = softplus(s⁻)", NegativeSamplingNegativesLabelledOne),
          Mistake("dh misses the negatives: h gets the gradient of every score, ds⁺·W[target] + Σₖ ds⁻ₖ·W[negₖ]",
                  NegativeSamplingDhPositiveOnly),
          Mistake("the K + 1 binary losses are averaged: the book adds them (the positive's loss plus each "
                  "negative's)", NegativeSamplingAveraged),
          Mistake("the book's δ = 1e-7 inside each log (its SigmoidWithLoss): PyTorch has no δ",
                  hard_coded(SN.NegativeSamplingLoss, delta=1e-7), flag={"delta": 1e-7})),
         ("NegativeSamplingLoss",)),
    Pair("unigram-sampler", "layer", "nlp.UnigramSampler", tnlp.negative_samples,
         "a class UnigramSampler(corpus, power, sample_size) with get_negative_sample(target (N,)) -> (N, sample_size) "
         "word ids: distinct words, never the target, drawn from P(w) ∝ count(w)^power",
         drive_unigram_sampler, (POWER, SAMPLE_SIZE), None,
         (Mistake("the power is not applied: P(w) must be proportional to count(w)^0.75, not to count(w)",
                  hard_coded(SN.UnigramSampler, power=1.0)),
          Mistake("the target is not excluded: set its probability to 0 (and renormalise) before drawing its "
                  "negatives", SamplerWithTarget),
          Mistake("the negatives are drawn with replacement: a row must hold sample_size different words "
                  "(np.random.choice(..., replace=False))", SamplerWithReplacement)),
         ("UnigramSampler",), {"methods": ("get_negative_sample",)}),
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
