"""word2vec's negative sampling (the second volume of "Deep Learning from Scratch", ch. 4):
``NegativeSamplingLoss`` and its ``UnigramSampler`` (kind ``layer``), against ``nn.Embedding``,
``nn.BCEWithLogitsLoss`` and ``torch.multinomial``.

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
import torch_ref.nlp as tnlp

from ._base import Comparison, Hparam, Mistake, Pair, TargetError, VerifyUsageError, as_array, call, construct, parameters, shows
from ._styles import gradients, seeded
from .layers import hard_coded
from .losses import DELTA
from .nlp import SIGMAS

POWER = Hparam("power", 0.75, None, bounds="[0, inf)")
SAMPLE_SIZE = Hparam("sample_size", 5, None, aliases=("k", "negatives", "num_negatives"), bounds="[1, inf)",
                     integer=True)

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


# --- declarations ------------------------------------------------------------------------------------

PAIRS = [
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
]
