"""Word-vector layers of the second volume ("Deep Learning from Scratch 2", ch. 2–4) by hand: the
bias-free ``MatMul``, ``SigmoidWithLoss`` (binary cross-entropy on a raw score), ``EmbeddingDot``,
the ``UnigramSampler`` and ``NegativeSamplingLoss`` of word2vec, ``cos_similarity`` and
``convert_one_hot``.

Parameters and gradients are dicts here (``params['W']``, ``grads['W']``), as everywhere in this
package. The book keeps them in lists (``params = [W]``, ``grads[0][...] = dW``); the two hold
the same arrays in another container.

**Negative sampling.** Scoring every word of the vocabulary with a softmax costs O(V) per target.
word2vec replaces it by K + 1 binary questions: "is the target word the right one?" (label 1) and,
for K words drawn at random, "is this one?" (label 0). The draw follows the unigram distribution
raised to the power 0.75, P(w) ∝ count(w)^0.75, which gives rare words a little more weight.
The draw is the layer's only randomness: :class:`NegativeSamplingLoss` takes it from its
``sampler`` or, for an exact comparison, from ``negative_samples`` given to ``forward``.
"""

from __future__ import annotations

import numpy as np

from ._checks import (as_dout, as_float_array, check_finite, check_flag, check_int, check_ndim, check_positive, generator_or_global,
                      check_shape)
from .activations import sigmoid
from .layers import Layer


def _weights(W, form: str = "(D, H)") -> np.ndarray:
    W = as_float_array(W, "W")
    check_ndim(W, 2, "W", form)
    if 0 in W.shape:
        raise ValueError(f"W must be of shape {form} with both sizes >= 1, got W{W.shape}")
    check_finite(W, "W")
    return W


def _indices(idx, V: int, name: str) -> np.ndarray:
    """Integer word ids in [0, V)."""
    idx = np.asarray(idx)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integer word ids, got dtype {idx.dtype}")
    if idx.size and (idx.min() < 0 or idx.max() >= V):
        raise ValueError(f"{name} must hold word ids in [0, {V}) (the rows of W), got values from {idx.min()} to "
                         f"{idx.max()}")
    return idx


def softplus(x):
    """softplus(x) = log(1 + eˣ), written so that it never overflows: max(x, 0) + log1p(e^(−|x|)).
    −log σ(x) = softplus(−x) and −log(1 − σ(x)) = softplus(x): the two halves of the binary
    cross-entropy on a raw score."""
    x = as_float_array(x, "x")
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def binary_cross_entropy_with_logits(x, t, delta: float = 0.0):
    """The binary cross-entropy of targets t ∈ [0, 1] given raw scores x, mean over all elements:

        L = −mean[t·log σ(x) + (1 − t)·log(1 − σ(x))] = mean[t·softplus(−x) + (1 − t)·softplus(x)]

    (``nn.BCEWithLogitsLoss``). ``delta`` > 0 is the book's form, −mean[t·log(σ + δ) + (1 − t)·log(1 − σ + δ)]
    (its ``cross_entropy_error`` adds δ = 1e-7 inside the log), which PyTorch has no option for."""
    x, t = as_float_array(x, "x"), as_float_array(t, "t")
    check_shape(t, x.shape, "t", " (the shape of x)")
    if np.any((t < 0) | (t > 1)):
        raise ValueError("t must hold targets in [0, 1] (1: the right answer, 0: a wrong one)")
    check_positive(delta, "delta", allow_zero=True)
    if delta:
        y = sigmoid(x)
        return -np.mean(t * np.log(y + delta) + (1.0 - t) * np.log(1.0 - y + delta))
    return np.mean(t * softplus(-x) + (1.0 - t) * softplus(x))


class MatMul(Layer):
    """A fully connected layer without bias (the book's ``MatMul``): out = x W.

    backward: dx = dout Wᵀ, dW = xᵀ dout (x taken as rows: an input (N, T, D) is N·T rows of D).
    ``nn.Linear(D, H, bias=False)`` computes the same with ``weight`` = Wᵀ."""

    def __init__(self, W):
        super().__init__()
        W = _weights(W)
        self.params = {"W": W}
        self.grads = {"W": np.zeros_like(W)}
        self._x = None

    def forward(self, x):
        x = as_float_array(x, "x")
        D = self.params["W"].shape[0]
        if x.ndim == 0 or x.shape[-1] != D:
            raise ValueError(f"MatMul expects x of shape (..., {D}), got x{x.shape}")
        self._x = x
        return x @ self.params["W"]

    def backward(self, dout):
        self._need_forward(self._x)
        W = self.params["W"]
        dout = as_dout(dout, self._x.shape[:-1] + (W.shape[1],))
        self.grads["W"] = self._x.reshape(-1, W.shape[0]).T @ dout.reshape(-1, W.shape[1])
        return dout @ W.T


class SigmoidWithLoss(Layer):
    """Sigmoid followed by the binary cross-entropy, as one layer (the book's ``SigmoidWithLoss``).

    forward(x, t) returns :func:`binary_cross_entropy_with_logits` (the mean over the n elements of
    x; t is 1 for the right answer, 0 for a wrong one). backward(dout=1) returns

        dx = dout · (σ(x) − t)/n

    the sigmoid's derivative σ(1 − σ) cancels against the log's 1/σ: the same clean form as
    softmax-with-loss. With the book's δ the forward changes by O(δ) but its backward does not."""

    def __init__(self, delta: float = 0.0):
        super().__init__()
        check_positive(delta, "delta", allow_zero=True)
        self.delta = delta
        self._cache = None

    def forward(self, x, t):
        x, t = as_float_array(x, "x"), as_float_array(t, "t")
        self.loss = binary_cross_entropy_with_logits(x, t, self.delta)
        self._cache = (sigmoid(x), t.astype(x.dtype, copy=False))
        return self.loss

    def backward(self, dout=1.0):
        self._need_forward(self._cache)
        y, t = self._cache
        as_dout(dout, ())
        return dout * (y - t) / y.size


class EmbeddingDot(Layer):
    """The score of a word for a hidden vector: out[n] = W[idx[n]] · h[n] (the book's ``EmbeddingDot``).

    W (V, D) holds one output vector per word; h (N, D); idx (N,). backward(dout (N,)):

        dh[n] = dout[n]·W[idx[n]],   dW[v] = Σ_{n: idx[n] = v} dout[n]·h[n]   (repeated words add up)
    """

    def __init__(self, W):
        super().__init__()
        W = _weights(W, "(V, D)")
        self.params = {"W": W}
        self.grads = {"W": np.zeros_like(W)}
        self._cache = None

    def forward(self, h, idx):
        W = self.params["W"]
        h = as_float_array(h, "h")
        check_ndim(h, 2, "h", f"(N, {W.shape[1]})")
        if h.shape[1] != W.shape[1]:
            raise ValueError(f"EmbeddingDot expects h of shape (N, {W.shape[1]}), got h{h.shape}")
        idx = _indices(idx, W.shape[0], "idx")
        check_shape(idx, h.shape[:1], "idx", f" (N,): one word per row of h{h.shape}")
        target_W = W[idx]
        self._cache = (h, idx, target_W)
        return np.sum(target_W * h, axis=1)

    def backward(self, dout):
        self._need_forward(self._cache)
        h, idx, target_W = self._cache
        dout = as_dout(dout, idx.shape)[:, None]
        dW = np.zeros_like(self.params["W"])
        np.add.at(dW, idx, dout * h)
        self.grads["W"] = dW
        return dout * target_W


def unigram_distribution(corpus, power: float = 0.75) -> np.ndarray:
    """P(w) = count(w)^power / Σ_v count(v)^power over the word ids 0 … max(corpus)."""
    corpus = np.asarray(corpus)
    if corpus.dtype.kind not in "iu" or corpus.ndim != 1 or corpus.size == 0 or corpus.min() < 0:
        raise ValueError(f"corpus must be a non-empty 1-D array of word ids >= 0, got {corpus.dtype} of shape "
                         f"{corpus.shape}")
    check_positive(power, "power", allow_zero=True)
    counts = np.bincount(corpus).astype(np.float64)
    p = np.where(counts > 0, counts ** power, 0.0)  # an id absent from the corpus is never drawn
    return p / p.sum()


class UnigramSampler:
    """Draws the negative examples of word2vec: for each target, ``sample_size`` different words,
    none of them the target, from P(w) ∝ count(w)^power (:func:`unigram_distribution`).

    The draw without replacement is *successive sampling*: the first word from P restricted to the
    non-target words, the next from P restricted to the words not drawn yet, and so on (what
    ``np.random.choice(V, K, replace=False, p=p)`` and ``torch.multinomial(p, K)`` do). It is
    written here in one vectorised step with the Gumbel-top-k trick: give word w the key
    log P(w) + G_w, G_w ~ Gumbel(0, 1) independent; the K largest keys, in decreasing order, are
    distributed exactly as K successive draws. The target's key is −∞."""

    def __init__(self, corpus, power: float = 0.75, sample_size: int = 5, rng=None):
        self.word_p = unigram_distribution(corpus, power)
        self.vocab_size = self.word_p.size
        self.sample_size = check_int(sample_size, "sample_size", minimum=1)
        if self.sample_size > np.count_nonzero(self.word_p) - 1:
            raise ValueError(f"sample_size must leave a target out of the {np.count_nonzero(self.word_p)} words the "
                             f"corpus holds, got sample_size={sample_size}")
        self.rng = generator_or_global(rng)

    def get_negative_sample(self, target):
        """(N, sample_size) word ids for the targets (N,): each row distinct words, never its target."""
        target = _indices(target, self.vocab_size, "target")
        check_ndim(target, 1, "target", "(N,)")
        with np.errstate(divide="ignore"):
            log_p = np.broadcast_to(np.log(self.word_p), (target.size, self.vocab_size)).copy()
        log_p[np.arange(target.size), target] = -np.inf
        keys = log_p + self.rng.gumbel(size=log_p.shape)
        return np.argsort(-keys, axis=1, kind="stable")[:, :self.sample_size]


class NegativeSamplingLoss(Layer):
    """word2vec's loss with negative sampling (the book's ``NegativeSamplingLoss``): for the hidden
    vectors h (N, D), their target words t (N,) and K negative words neg (N, K) per row,

        s⁺ = W[t]·h,   s⁻ₖ = W[negₖ]·h
        L = (1/N) Σₙ [ −log σ(s⁺ₙ) − Σₖ log(1 − σ(s⁻ₙₖ)) ] = (1/N) Σₙ [softplus(−s⁺ₙ) + Σₖ softplus(s⁻ₙₖ)]

    the sum of K + 1 binary cross-entropies (label 1 for the target, 0 for each negative), each a
    mean over the batch. backward(dout=1):

        ds⁺ = dout·(σ(s⁺) − 1)/N,  ds⁻ = dout·σ(s⁻)/N,  dh = ds⁺·W[t] + Σₖ ds⁻ₖ·W[negₖ],
        dW = Σ over every score of ds·h at that score's word (repeated words add up)

    The negatives come from ``negative_samples`` given to forward or else from ``sampler`` (by
    default a :class:`UnigramSampler` of the corpus). ``delta`` > 0: the book's forward, with δ
    inside each log (its backward is the same)."""

    def __init__(self, W, corpus, power: float = 0.75, sample_size: int = 5, rng=None, sampler=None,
                 delta: float = 0.0):
        super().__init__()
        W = _weights(W, "(V, D)")
        self.params = {"W": W}
        self.grads = {"W": np.zeros_like(W)}
        self.sampler = sampler if sampler is not None else UnigramSampler(corpus, power, sample_size, rng)
        self.sample_size = getattr(self.sampler, "sample_size", sample_size)
        check_positive(delta, "delta", allow_zero=True)
        self.delta = delta
        self._cache = None

    def forward(self, h, target, negative_samples=None):
        W = self.params["W"]
        h = as_float_array(h, "h")
        check_ndim(h, 2, "h", f"(N, {W.shape[1]})")
        target = _indices(target, W.shape[0], "target")
        check_shape(target, h.shape[:1], "target", f" (N,): one word per row of h{h.shape}")
        neg = self.sampler.get_negative_sample(target) if negative_samples is None else negative_samples
        neg = _indices(neg, W.shape[0], "negative_samples")
        check_ndim(neg, 2, "negative_samples", "(N, K)")
        check_shape(neg, (h.shape[0], neg.shape[1]), "negative_samples", " (N, K)")
        words = np.concatenate([target[:, None], neg], axis=1)  # (N, 1 + K): the target first
        scores = np.einsum("nkd,nd->nk", W[words], h)
        labels = np.zeros_like(scores)
        labels[:, 0] = 1.0
        self.loss = binary_cross_entropy_with_logits(scores, labels, self.delta) * scores.shape[1]
        self._cache = (h, words, sigmoid(scores) - labels)
        return self.loss

    def backward(self, dout=1.0):
        self._need_forward(self._cache)
        h, words, residual = self._cache
        as_dout(dout, ())
        dscores = dout * residual / h.shape[0]  # (N, 1 + K)
        W = self.params["W"]
        dW = np.zeros_like(W)
        np.add.at(dW, words, dscores[:, :, None] * h[:, None, :])
        self.grads["W"] = dW
        return np.einsum("nk,nkd->nd", dscores, W[words])


def cos_similarity(x, y, eps: float = 1e-8, eps_on_norms: bool = False):
    """Cosine similarity (코사인 유사도) of two vectors, the cosine of the angle between them.

    PyTorch (``F.cosine_similarity``; the default here):  x·y / (max(‖x‖, ε)·max(‖y‖, ε))
    The book (``eps_on_norms=True``, its ``common/util.py``):  x/(‖x‖ + ε) · y/(‖y‖ + ε)

    Both guard against a zero vector; they differ where neither norm is below ε by the factor
    ‖x‖‖y‖ / ((‖x‖ + ε)(‖y‖ + ε)) = 1 − ε(1/‖x‖ + 1/‖y‖) + O(ε²): a relative 1e-8 for unit
    vectors, larger for short ones."""
    x, y = as_float_array(x, "x"), as_float_array(y, "y")
    check_ndim(x, 1, "x", "(D,)")
    check_shape(y, x.shape, "y", " (the shape of x)")
    check_positive(eps, "eps")
    eps_on_norms = check_flag(eps_on_norms, "eps_on_norms")
    nx, ny = np.sqrt(np.sum(x * x)), np.sqrt(np.sum(y * y))
    if eps_on_norms:
        return np.dot(x / (nx + eps), y / (ny + eps))
    return np.dot(x / max(nx, eps), y / max(ny, eps))


def convert_one_hot(corpus, vocab_size: int):
    """One-hot rows for word ids of any shape: out[..., v] = 1 where corpus[...] = v (``F.one_hot``).
    The book returns int32 for ids (N,) or (N, C); PyTorch returns int64 — the same 0s and 1s."""
    vocab_size = check_int(vocab_size, "vocab_size", minimum=1)
    corpus = _indices(corpus, vocab_size, "corpus")
    return np.eye(vocab_size, dtype=np.int32)[corpus]
