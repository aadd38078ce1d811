"""A fully connected network of any depth, the book's ``MultiLayerNet``, built from ``scratch.layers``.

    x → Linear₁ → h → Linear₂ → h → … → Linear_L → SoftmaxWithLoss

``params`` holds W1, b1, …, WL, bL (W of shape (in, out)); the layers hold the *same* arrays, so
an optimizer's in-place ``update(net.params, grads)`` is seen by the next forward pass.
``gradient`` is backprop (오차역전파법); ``numerical_gradient`` the slow but simple reference for a
gradient check. Both return dicts with the keys of ``params``.
"""

from __future__ import annotations

import numpy as np

from . import layers as L
from ._checks import as_float_array, check_finite, check_labels
from .gradients import numerical_gradient

ACTIVATIONS = {"relu": L.ReLU, "sigmoid": L.Sigmoid, "tanh": L.Tanh, "identity": L.Identity}


def layer_sizes(params: dict) -> list[int]:
    """[in, hidden…, out] read off W1 … WL."""
    n = num_linear(params)
    return [params["W1"].shape[0]] + [params[f"W{i}"].shape[1] for i in range(1, n + 1)]


def num_linear(params: dict) -> int:
    n = 0
    while f"W{n + 1}" in params:
        n += 1
    if n == 0 or set(params) != {f"{k}{i}" for i in range(1, n + 1) for k in ("W", "b")}:
        raise ValueError(f"params must hold W1, b1, …, WL, bL; got keys {sorted(params)}")
    return n


class MultiLayerNet:
    """Linear layers with ``activation`` between them and softmax-with-loss at the end.

    ``weight_decay_lambda`` λ adds the L2 penalty (λ/2)·Σₗ ‖Wₗ‖² to the loss (weights only, not
    biases, as the book) and λ·Wₗ to each weight gradient. ``layers`` is the module the layer
    classes come from (``scratch.layers`` by default), so other layer code can be put in.
    """

    def __init__(self, params: dict, activation: str = "relu", weight_decay_lambda: float = 0.0, layers=None):
        self._L = L if layers is None else layers
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
        if weight_decay_lambda < 0:
            raise ValueError(f"weight_decay_lambda must be >= 0, got {weight_decay_lambda}")
        self.params = {k: as_float_array(v, k) for k, v in params.items()}
        for k, v in self.params.items():
            check_finite(v, k)
        self.depth = num_linear(self.params)
        sizes = layer_sizes(self.params)
        for i in range(1, self.depth + 1):
            if self.params[f"b{i}"].shape != (sizes[i],):
                raise ValueError(f"b{i} must have shape ({sizes[i]},), got {self.params[f'b{i}'].shape}")
            if i > 1 and self.params[f"W{i}"].shape[0] != sizes[i - 1]:
                raise ValueError(f"W{i} must have {sizes[i - 1]} rows to follow W{i - 1}, got {self.params[f'W{i}'].shape}")
        self.activation = activation
        self.weight_decay_lambda = weight_decay_lambda
        self.layers = []
        for i in range(1, self.depth + 1):
            self.layers.append(self._L.Linear(self.params[f"W{i}"], self.params[f"b{i}"]))
            if i < self.depth:
                self.layers.append(getattr(self._L, ACTIVATIONS[activation].__name__)())
        self.last_layer = self._L.SoftmaxWithLoss()

    @property
    def num_classes(self) -> int:
        return self.params[f"W{self.depth}"].shape[1]

    def _bind(self):
        """Point the Linear layers at the current arrays of ``params`` (a user may replace them)."""
        for i, layer in enumerate(self._linear_layers(), start=1):
            layer.params["W"], layer.params["b"] = self.params[f"W{i}"], self.params[f"b{i}"]

    def _linear_layers(self):
        return self.layers[::2]  # Linear, activation, Linear, activation, …, Linear

    def predict(self, x):
        """Scores (logits) of shape (N, classes); no softmax (it does not change the argmax)."""
        self._bind()
        out = as_float_array(x, "x")
        for layer in self.layers:
            out = layer.forward(out)
        return out

    def penalty(self) -> float:
        """(λ/2)·Σ ‖Wₗ‖², the L2 term added to the loss."""
        if self.weight_decay_lambda == 0:
            return 0.0
        return 0.5 * self.weight_decay_lambda * sum(np.sum(self.params[f"W{i}"] ** 2) for i in range(1, self.depth + 1))

    def loss(self, x, t):
        """Mean cross-entropy of softmax(scores) against t (labels or one-hot), plus the penalty."""
        t = self._targets(t, len(x))
        return self.last_layer.forward(self.predict(x), t) + self.penalty()

    def accuracy(self, x, t):
        t = np.asarray(t)
        labels = np.argmax(t, axis=1) if t.ndim == 2 else t
        return float(np.mean(np.argmax(self.predict(x), axis=1) == labels))

    def gradient(self, x, t) -> dict:
        """Backprop: forward once, then every layer's backward in reverse order."""
        self.loss(x, t)
        dout = self.last_layer.backward(1.0)
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        grads = {}
        for i, layer in enumerate(self._linear_layers(), start=1):
            grads[f"W{i}"] = layer.grads["W"] + self.weight_decay_lambda * self.params[f"W{i}"]
            grads[f"b{i}"] = layer.grads["b"]
        return grads

    def numerical_gradient(self, x, t, h: float = 1e-4) -> dict:
        """Central differences on every parameter: slow (two forward passes per element)."""
        return {key: numerical_gradient(lambda _: float(self.loss(x, t)), p, h=h) for key, p in self.params.items()}

    def _targets(self, t, n):
        t = np.asarray(t)
        if t.ndim == 1:
            if t.shape != (n,):
                raise ValueError(f"t must hold {n} labels to match x, got shape {t.shape}")
            check_labels(t, self.num_classes, "t")
        elif t.shape != (n, self.num_classes):
            raise ValueError(f"one-hot t must have shape ({n}, {self.num_classes}), got {t.shape}")
        return t
