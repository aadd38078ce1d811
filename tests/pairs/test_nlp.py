"""The word2vec pairs (:mod:`comparisons.pairs.nlp` and :mod:`comparisons.pairs.sampling`), beyond what every declaration is tested for
(tests/pairs/test_declarations.py): the book's own classes are
judged through their list-style gradients and replaceable sampler, and the textbook-against-PyTorch
relations hold exactly."""

import numpy as np
import pytest
import torch

import scratch.nlp as SN
import torch_ref.nlp as tnlp
from comparisons.pairs import nlp, sampling
from comparisons.verify import format_result, judge

from .judging import book2, pair_of

WORD2VEC = nlp.PAIRS + sampling.PAIRS


def test_the_books_matmul_and_embedding_dot_agree_with_their_gradients_in_lists():
    layers = book2("common/layers.py")
    for pid, cls in (("matmul", layers.MatMul), ("embedding-dot", book2("ch04/negative_sampling_layer.py").EmbeddingDot)):
        result = judge(pair_of(WORD2VEC, pid), cls, cls.__name__)
        assert result.passed, format_result(result)


@pytest.mark.parametrize("pid, relative, name", [("sigmoid-with-loss", "common/layers.py", "SigmoidWithLoss"),
                                                 ("negative-sampling-loss", "ch04/negative_sampling_layer.py",
                                                  "NegativeSamplingLoss")])
def test_the_books_delta_is_named_as_a_convention(pid, relative, name):
    """Both losses go through the book's cross_entropy_error, δ = 1e-7 inside the log. The negative
    sample PyTorch draws reaches the book's layer through its ``sampler``, and its six list entries
    of dW (one per EmbeddingDot, all for the same W) are added up."""
    cls = getattr(book2(relative), name)
    result = judge(pair_of(WORD2VEC, pid), cls, name)
    assert result.verdict == "differs" and "--hparam delta=1e-07" in result.hint, format_result(result)
    again = judge(pair_of(WORD2VEC, pid), cls, name, {"delta": 1e-7})
    assert again.passed, format_result(again)


def test_the_books_unigram_sampler_draws_from_the_right_distribution():
    cls = book2("ch04/negative_sampling_layer.py").UnigramSampler
    result = judge(pair_of(WORD2VEC, "unigram-sampler"), cls, "UnigramSampler")
    assert result.passed, format_result(result)
    assert any("power the frequencies imply" in r.check for r in result.records)


def test_the_books_cos_similarity_is_named_and_its_relation_to_pytorch_holds():
    fn = book2("common/util.py").cos_similarity
    result = judge(pair_of(WORD2VEC, "cos-similarity"), fn, "cos_similarity")
    assert result.verdict == "differs" and "--hparam eps_on_norms=1" in result.hint, format_result(result)
    assert judge(pair_of(WORD2VEC, "cos-similarity"), fn, "cos_similarity", {"eps_on_norms": 1}).passed


@pytest.mark.parametrize("scale", [1.0, 1e-3])
def test_cosine_book_form_is_pytorchs_times_the_ratio_of_the_norms(scale):
    """x/(‖x‖ + ε)·y/(‖y‖ + ε) = F.cosine_similarity(x, y)·‖x‖‖y‖/((‖x‖ + ε)(‖y‖ + ε)) for norms ≥ ε,
    a difference of ε(1/‖x‖ + 1/‖y‖) relative, far above float64's resolution for short vectors."""
    rng = np.random.default_rng(7)
    for _ in range(20):
        x, y = rng.normal(size=6) * scale, rng.normal(size=6) * scale
        nx, ny, eps = np.linalg.norm(x), np.linalg.norm(y), 1e-8
        torch_cos = tnlp.cosine_similarity(torch.tensor(x), torch.tensor(y)).item()
        book = SN.cos_similarity(x, y, eps_on_norms=True)
        np.testing.assert_allclose(book, torch_cos * nx * ny / ((nx + eps) * (ny + eps)), rtol=1e-12, atol=1e-15)
        if scale < 1:
            assert abs(book - torch_cos) > 1e-10 * abs(torch_cos)


def test_negative_sampling_is_k_plus_one_sigmoid_losses_over_embedding_dots():
    """The book's composition: one SigmoidWithLoss (label 1) on the target's EmbeddingDot score,
    one (label 0) on each negative's, the K + 1 means added."""
    rng = np.random.default_rng(3)
    W, h = rng.normal(size=(10, 4)), rng.normal(size=(5, 4))
    target, neg = rng.integers(0, 10, 5), rng.integers(0, 10, (5, 3))
    layer = SN.NegativeSamplingLoss(W, sampling.corpus_of(sampling.WORD_COUNTS), sample_size=3)
    loss = layer.forward(h, target, neg)
    parts = [(target, np.ones(5))] + [(neg[:, k], np.zeros(5)) for k in range(3)]
    total = sum(SN.SigmoidWithLoss().forward(SN.EmbeddingDot(W).forward(h, idx), t) for idx, t in parts)
    np.testing.assert_allclose(loss, total, rtol=1e-14)


def test_negative_sampling_draws_with_its_sampler_when_given_no_sample():
    """Without negatives given, forward draws them with its UnigramSampler: the loss is the one of
    the negatives a sampler seeded alike draws (k distinct words per row, never the target)."""
    corpus, W = sampling.corpus_of(sampling.WORD_COUNTS), np.random.default_rng(1).normal(size=(10, 2))
    h, target = np.random.default_rng(2).normal(size=(10, 2)), np.arange(10)
    layer = SN.NegativeSamplingLoss(W, corpus, sample_size=4, rng=np.random.default_rng(0))
    drawn = SN.UnigramSampler(corpus, sample_size=4, rng=np.random.default_rng(0)).get_negative_sample(target)
    assert drawn.shape == (10, 4) and not np.any(drawn == target[:, None])
    assert all(len(set(row)) == 4 for row in drawn.tolist())
    given = SN.NegativeSamplingLoss(W, corpus, sample_size=4).forward(h, target, drawn)
    assert layer.forward(h, target) == given
