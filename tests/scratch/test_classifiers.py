"""scratch.classifiers: CS231n's hinge and the linear classifiers' losses (the comparisons with PyTorch are the
pairs': tests/pairs), and the arguments they refuse."""

import numpy as np
import pytest

import scratch.classifiers as SC


def test_input_errors_name_the_argument():
    with pytest.raises(ValueError, match="y holds labels in \\[0, 3\\], expected every label in \\[0, 3\\)"):
        SC.svm_loss(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match="X must be of shape \\(N, 4\\)"):
        SC.linear_svm_loss(np.zeros((4, 3)), np.zeros((2, 5)), np.array([0, 1]), 0.1)
    with pytest.raises(TypeError, match="reg must be a real number"):
        SC.linear_softmax_loss(np.zeros((4, 3)), np.zeros((2, 4)), np.array([0, 1]), "0.1")
