"""scratch.nlp: the word2vec layers and helpers of the book's second volume (the comparisons with PyTorch are
the pairs': tests/pairs), and the arguments they refuse."""

import numpy as np
import pytest

import scratch.nlp as SN


def test_input_errors_name_the_argument():
    with pytest.raises(ValueError, match="idx must hold word ids in \\[0, 6\\)"):
        SN.EmbeddingDot(np.zeros((6, 3))).forward(np.zeros((2, 3)), np.array([0, 6]))
    with pytest.raises(ValueError, match="MatMul expects x of shape \\(..., 4\\)"):
        SN.MatMul(np.zeros((4, 2))).forward(np.zeros((3, 5)))
    with pytest.raises(ValueError, match="t must hold targets in \\[0, 1\\]"):
        SN.SigmoidWithLoss().forward(np.zeros(3), np.array([0.0, 2.0, 1.0]))
    with pytest.raises(ValueError, match="sample_size must leave a target out"):
        SN.UnigramSampler(np.array([0, 1, 2]), sample_size=3)
    with pytest.raises(ValueError, match="corpus must hold word ids in \\[0, 3\\)"):
        SN.convert_one_hot(np.array([0, 3]), 3)
