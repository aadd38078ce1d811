"""The sequence pairs (:mod:`comparisons.pairs.sequence`), beyond what every declaration is tested
for (tests/pairs/test_declarations.py): the book's own time
layers are judged as they are written, and the two normalisations of a masked sequence loss are
related exactly."""

import numpy as np
import pytest
import torch

import scratch.sequence as SQ
import torch_ref.sequence as tseq
from comparisons.pairs import sequence
from comparisons.verify import format_result, judge

from .judging import assert_scratch_agrees, book2, pair_of


@pytest.mark.parametrize("pid, name", [("time-affine", "TimeAffine"), ("time-softmax-with-loss", "TimeSoftmaxWithLoss"),
                                       ("time-dropout", "TimeDropout")])
def test_the_books_time_layers_agree(pid, name):
    """TimeAffine keeps [dW, db] in a list; TimeSoftmaxWithLoss averages over the labels ≠ −1;
    TimeDropout switches with its train_flg attribute and draws its own mask (float32, exact
    for p = 0.5)."""
    cls = getattr(book2("common/time_layers.py"), name)
    result = judge(pair_of(sequence.PAIRS, pid), cls, name)
    assert result.passed, format_result(result)


def test_scratch_time_dropout_takes_pytorchs_mask():
    result = assert_scratch_agrees(pair_of(sequence.PAIRS, "time-dropout"), 0, "float64")
    assert any("with PyTorch's mask" in r.check for r in result.records)


def test_cs231n_normalisation_is_the_unmasked_count_over_n_times_the_books():
    """temporal_softmax_loss = (Σ mask / N) · TimeSoftmaxWithLoss(ignore −1 where mask is 0), in
    value and gradient; with no mask at all, T times it."""
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(4, 6, 5)), rng.integers(0, 5, (4, 6))
    for mask in (rng.random((4, 6)) < 0.7, np.ones((4, 6), dtype=bool)):
        loss, dx = SQ.temporal_softmax_loss(x, y, mask)
        layer = SQ.TimeSoftmaxWithLoss()
        mean = layer.forward(x, np.where(mask, y, -1))
        ratio = mask.sum() / x.shape[0]
        np.testing.assert_allclose(loss, ratio * mean, rtol=1e-13)
        np.testing.assert_allclose(dx, ratio * layer.backward(), rtol=1e-12, atol=1e-16)
    np.testing.assert_allclose(ratio, x.shape[1])


def test_pytorchs_ignore_index_mean_is_the_books():
    rng = np.random.default_rng(6)
    x, t = rng.normal(size=(3, 4, 5)), rng.integers(0, 5, (3, 4))
    t[0, 2:] = -1
    ours = SQ.TimeSoftmaxWithLoss().forward(x, t)
    theirs = tseq.time_softmax_with_loss(torch.tensor(x), torch.tensor(t)).item()
    np.testing.assert_allclose(ours, theirs, rtol=1e-13)


def test_every_label_ignored_gives_nan_as_pytorch():
    x, t = np.zeros((1, 2, 3)), np.full((1, 2), -1)
    assert np.isnan(SQ.TimeSoftmaxWithLoss().forward(x, t))
    assert torch.isnan(tseq.time_softmax_with_loss(torch.tensor(x), torch.tensor(t)))


def test_without_an_ignore_label_it_is_cross_entropy_at_its_default():
    """The sequence models' loss, TimeSoftmaxWithLoss(ignore_label=None): forward and backward are
    nn.functional.cross_entropy over the N·T positions flattened, at its default (mean, nothing ignored)."""
    rng = np.random.default_rng(9)
    x, t = rng.normal(size=(3, 4, 5)), rng.integers(0, 5, (3, 4))
    layer = SQ.TimeSoftmaxWithLoss(ignore_label=None)
    xt = torch.tensor(x, requires_grad=True)
    loss_t = torch.nn.functional.cross_entropy(xt.reshape(-1, 5), torch.tensor(t).reshape(-1))
    loss_t.backward()
    np.testing.assert_allclose(layer.forward(x, t), loss_t.item(), rtol=1e-13)
    np.testing.assert_allclose(layer.backward(1.0), xt.grad.numpy(), rtol=1e-12, atol=1e-15)
