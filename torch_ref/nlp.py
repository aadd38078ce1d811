"""word2vec's pieces as a PyTorch user writes them: ``nn.Linear(bias=False)`` for the book's
``MatMul`` (see :func:`torch_ref.layers.linear`), ``nn.BCEWithLogitsLoss`` for ``SigmoidWithLoss``,
``nn.Embedding`` for the output vectors of ``EmbeddingDot`` and the negative-sampling loss,
``torch.multinomial`` for the unigram draw, ``F.cosine_similarity`` and ``F.one_hot``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def sigmoid_with_loss(scores: torch.Tensor, targets: torch.Tensor, delta: float = 0.0) -> torch.Tensor:
    """``nn.BCEWithLogitsLoss()``: −mean[t·log σ(s) + (1 − t)·log(1 − σ(s))], computed from the raw
    scores without forming σ (so it never takes log 0).

    ``delta`` > 0 is the book's forward, with δ inside each log: PyTorch has no such option, so that
    one is written by hand, σ then ``torch.log(… + δ)``."""
    if delta:
        y = torch.sigmoid(scores)
        return -(targets * torch.log(y + delta) + (1 - targets) * torch.log(1 - y + delta)).mean()
    return nn.BCEWithLogitsLoss()(scores, targets)


class EmbeddingDot(nn.Module):
    """The score of word idx[n] for the hidden vector h[n]: (embed(idx) * h).sum(-1), with
    ``nn.Embedding(V, D)`` holding the output vectors (its ``weight`` is the book's W (V, D))."""

    def __init__(self, weight: torch.Tensor):
        super().__init__()
        self.embed = nn.Embedding.from_pretrained(weight.detach().clone(), freeze=False)

    def forward(self, h: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        return (self.embed(idx) * h).sum(-1)


class NegativeSampling(nn.Module):
    """word2vec's negative-sampling loss: one ``nn.Embedding`` of output vectors, the target scored
    with label 1 and each negative with label 0 by ``F.binary_cross_entropy_with_logits``, the K + 1
    means over the batch added up (as the book's layer adds its K + 1 ``SigmoidWithLoss``):

        L = BCE(s⁺, 1) + Σₖ BCE(s⁻ₖ, 0) = BCE(s⁺, 1) + K·BCE(s⁻, 0)   (each BCE a mean)

    ``delta`` > 0: the book's δ inside each log (hand math: PyTorch has no such option)."""

    def __init__(self, weight: torch.Tensor):
        super().__init__()
        self.embed = nn.Embedding.from_pretrained(weight.detach().clone(), freeze=False)

    def forward(self, h: torch.Tensor, target: torch.Tensor, negatives: torch.Tensor, delta: float = 0.0):
        positive = (self.embed(target) * h).sum(-1)  # (N,)
        negative = (self.embed(negatives) * h[:, None, :]).sum(-1)  # (N, K)
        k = negative.shape[1]
        return (sigmoid_with_loss(positive, torch.ones_like(positive), delta)
                + k * sigmoid_with_loss(negative, torch.zeros_like(negative), delta))


def unigram_probabilities(counts: torch.Tensor, power: float = 0.75) -> torch.Tensor:
    """P(w) ∝ count(w)^power (0 for a word that never occurs)."""
    p = torch.where(counts > 0, counts.double() ** power, torch.zeros((), dtype=torch.float64))
    return p / p.sum()


def negative_samples(probs: torch.Tensor, target: torch.Tensor, k: int,
                     generator: torch.Generator | None = None) -> torch.Tensor:
    """``torch.multinomial`` without replacement: k different words per target, each drawn from
    ``probs`` restricted to the words not drawn yet, the target itself excluded (probability 0)."""
    p = probs.expand(target.shape[0], -1).clone()
    p[torch.arange(target.shape[0]), target] = 0
    return torch.multinomial(p, k, replacement=False, generator=generator)


def cosine_similarity(x: torch.Tensor, y: torch.Tensor, eps: float = 1e-8, eps_on_norms: bool = False):
    """``F.cosine_similarity(x, y, dim=-1, eps)``: x·y / (max(‖x‖, ε)·max(‖y‖, ε)).

    ``eps_on_norms``: the book's x/(‖x‖ + ε) · y/(‖y‖ + ε), written by hand (PyTorch has no such
    option); the two differ by the factor ‖x‖‖y‖/((‖x‖ + ε)(‖y‖ + ε)) where both norms are ≥ ε."""
    if eps_on_norms:
        return ((x / (torch.linalg.vector_norm(x) + eps)) * (y / (torch.linalg.vector_norm(y) + eps))).sum(-1)
    return F.cosine_similarity(x, y, dim=-1, eps=eps)


def one_hot(ids: torch.Tensor, num_classes: int) -> torch.Tensor:
    """``F.one_hot(ids, num_classes)``: int64 rows with a 1 at each id, for ids of any shape."""
    return F.one_hot(ids, num_classes)
