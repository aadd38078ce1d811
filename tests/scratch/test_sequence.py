"""scratch.sequence: the time layers and masked sequence losses (the comparisons with PyTorch are the pairs':
tests/pairs), and the arguments they refuse."""

import numpy as np
import pytest

import scratch.sequence as SQ
import scratch.sequence_models as SM


def test_input_errors_name_the_argument():
    with pytest.raises(ValueError, match="t must have shape \\(2, 3\\)"):
        SQ.TimeSoftmaxWithLoss().forward(np.zeros((2, 3, 4)), np.zeros((2, 2), dtype=int))
    with pytest.raises(ValueError, match="labels in \\[0, 4\\) or ignore_label=-1"):
        SQ.TimeSoftmaxWithLoss().forward(np.zeros((1, 2, 4)), np.array([[0, 4]]))
    with pytest.raises(ValueError, match="mask must have shape \\(1, 2\\)"):
        SQ.temporal_softmax_loss(np.zeros((1, 2, 3)), np.zeros((1, 2), dtype=int), np.ones(2))
    with pytest.raises(ValueError, match="x must be 3-D of shape \\(N, T, D\\)"):
        SQ.TimeDropout().forward(np.zeros((2, 3)))


@pytest.mark.parametrize("layer", [SQ.TimeSoftmaxWithLoss, SM.TimeSoftmaxWithLoss])
def test_scores_without_a_class_are_refused_naming_x(layer):
    with pytest.raises(ValueError, match=r"x must have at least one class .*\(2, 3, 0\)"):
        layer().forward(np.zeros((2, 3, 0)), np.zeros((2, 3), dtype=int))


def test_without_an_ignore_label_every_label_must_be_a_class():
    """``ignore_label=None`` (the sequence models' loss) ignores nothing: −1 is refused as any label
    outside [0, V), as nn.CrossEntropyLoss() refuses it at its default."""
    with pytest.raises(ValueError, match=r"t must hold labels in \[0, 4\)$"):
        SQ.TimeSoftmaxWithLoss(ignore_label=None).forward(np.zeros((1, 2, 4)), np.array([[0, -1]]))
    x, t = np.random.default_rng(3).normal(size=(2, 3, 4)), np.array([[0, 1, 2], [3, 0, 1]])
    assert SQ.TimeSoftmaxWithLoss(ignore_label=None).forward(x, t) == SQ.TimeSoftmaxWithLoss().forward(x, t)


def test_labels_that_do_not_fit_the_scores_name_both():
    """Either may be the wrong one: the error gives t's shape and the scores x's."""
    with pytest.raises(ValueError, match=r"t must have shape \(0, 0\).* of the scores x\(0, 0, 1\), got t\(2, 3\)"):
        SQ.TimeSoftmaxWithLoss().forward(np.zeros((0, 0, 1)), np.zeros((2, 3), dtype=int))


def test_one_hot_labels_must_have_the_scores_shape():
    """One-hot rows (the book's other form of t) have one column per class of x: (2, 3, 2) for
    scores (2, 3, 5) is refused, naming t, as torch refuses it."""
    x = np.zeros((2, 3, 5))
    with pytest.raises(ValueError, match=r"t must be labels of shape \(2, 3\) or one-hot rows of x's shape \(2, 3, 5\), got t\(2, 3, 2\)"):
        SQ.TimeSoftmaxWithLoss().forward(x, np.zeros((2, 3, 2)))
    assert SQ.TimeSoftmaxWithLoss().forward(x, np.eye(5)[[[0, 1, 2], [3, 4, 0]]]) == \
        SQ.TimeSoftmaxWithLoss().forward(x, np.array([[0, 1, 2], [3, 4, 0]]))
