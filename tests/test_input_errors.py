"""Bad input gets a clear error that names the argument and the expected form."""

import numpy as np
import pytest

from scratch import activations, gradients, layers, linear_regression, losses


def test_loss_shape_mismatch():
    with pytest.raises(ValueError, match=r"y and t must have the same shape"):
        losses.mean_squared_error(np.zeros(3), np.zeros(4))


def test_labels_out_of_range():
    with pytest.raises(ValueError, match=r"expected every label in \[0, 3\)"):
        losses.softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match="integer class labels"):
        losses.softmax_cross_entropy(np.zeros((2, 3)), np.array([0.5, 1.0]))


def test_targets_of_wrong_shape():
    with pytest.raises(ValueError, match=r"one-hot of shape \(2, 3\) or integer labels of shape \(2,\)"):
        losses.cross_entropy_error(np.full((2, 3), 1 / 3), np.zeros((2, 2)))


def test_probabilities_out_of_range():
    with pytest.raises(ValueError, match=r"y must hold probabilities in \[0, 1\]"):
        losses.cross_entropy_error(np.array([[1.5, -0.5]]), np.array([0]))
    with pytest.raises(ValueError, match="probabilities"):
        losses.binary_cross_entropy(np.array([2.0]), np.array([1.0]))


def test_negative_delta_lr_h():
    with pytest.raises(ValueError, match="delta must be a finite number >= 0"):
        losses.cross_entropy_error(np.array([[0.5, 0.5]]), np.array([0]), delta=-1)
    with pytest.raises(ValueError, match="lr must be a finite number >= 0"):
        gradients.gradient_descent(lambda x: x, np.ones(2), lr=-0.1, steps=3)
    with pytest.raises(ValueError, match="h must be a finite number > 0"):
        gradients.numerical_diff(np.sin, 1.0, h=0)
    with pytest.raises(ValueError, match="method must be one of"):
        gradients.numerical_diff(np.sin, 1.0, method="backward")
    with pytest.raises(ValueError, match="lr must be"):
        linear_regression.fit(np.ones(3), np.ones(3), 0, 0, -1, [np.arange(3)])


def test_layer_shapes():
    with pytest.raises(ValueError, match=r"W of shape \(in, out\) and b of shape \(out,\)"):
        layers.Linear(np.zeros((3, 2)), np.zeros(3))
    with pytest.raises(ValueError, match="expects inputs with 3 features"):
        layers.Linear(np.zeros((3, 2)), np.zeros(2)).forward(np.zeros((4, 5)))
    with pytest.raises(ValueError, match="contains NaN"):
        layers.Linear(np.array([[np.nan]]), np.zeros(1))
    with pytest.raises(ValueError, match=r"maxout expects x \(N, in\)"):
        activations.maxout(np.zeros((2, 3)), np.zeros((2, 4, 5)), np.zeros((2, 5)))


def test_non_numeric_input():
    with pytest.raises(TypeError, match="x must be a real numeric array"):
        activations.sigmoid(np.array(["a", "b"]))


def test_numerical_gradient_needs_float_array():
    with pytest.raises(TypeError, match="floating-point ndarray"):
        gradients.numerical_gradient(np.sum, [1, 2, 3])
