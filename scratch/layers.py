"""Layers with ``forward(x)`` and ``backward(dout) -> dx``, the book's computational-graph style.

A layer keeps what its backward pass needs from the forward pass. Layers with parameters hold them
in ``params`` and, after ``backward``, their gradients under the same keys in ``grads``; an
optimizer's ``update(params, grads)`` then changes ``params`` in place.

Weight layout: ``Linear`` keeps W with shape (in, out) so the forward pass reads ``x @ W + b`` as
the book writes it. PyTorch's ``nn.Linear.weight`` has shape (out, in) and computes ``x @ W.T``;
the comparisons transpose at that single border.
"""

from __future__ import annotations

import numpy as np

from . import activations as act
from ._checks import as_float_array, check_finite, check_positive
from .losses import softmax_cross_entropy, _logits_and_onehot


class Layer:
    """Base class: a layer without parameters has empty ``params`` and ``grads``."""

    def __init__(self):
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}

    def forward(self, x):  # pragma: no cover - interface
        raise NotImplementedError

    def backward(self, dout):  # pragma: no cover - interface
        raise NotImplementedError

    def __repr__(self):
        shapes = ", ".join(f"{k}{v.shape}" for k, v in self.params.items())
        return f"{type(self).__name__}({shapes})"

    def _need_forward(self, cache):
        if cache is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")


class Linear(Layer):
    """Affine layer (완전연결 계층, the book's ``Affine``): out = x @ W + b.

    backward: dx = dout @ Wᵀ,  dW = xᵀ @ dout,  db = Σₙ doutₙ (summed over the batch, because b
    was broadcast to every row in the forward pass).
    """

    def __init__(self, W, b):
        super().__init__()
        W = as_float_array(W, "W")
        b = as_float_array(b, "b")
        if W.ndim != 2 or b.shape != (W.shape[1],):
            raise ValueError(f"Linear expects W of shape (in, out) and b of shape (out,), got W{W.shape} and b{b.shape}")
        check_finite(W, "W")
        check_finite(b, "b")
        self.params = {"W": W, "b": b}
        self.grads = {"W": np.zeros_like(W), "b": np.zeros_like(b)}
        self._x = None
        self._x_shape = None

    def forward(self, x):
        x = as_float_array(x, "x")
        W, b = self.params["W"], self.params["b"]
        self._x_shape = x.shape
        x2 = x.reshape(x.shape[0], -1) if x.ndim > 1 else x.reshape(1, -1)
        if x2.shape[1] != W.shape[0]:
            raise ValueError(f"Linear expects inputs with {W.shape[0]} features, got x{x.shape}")
        self._x = x2
        return x2 @ W + b

    def backward(self, dout):
        self._need_forward(self._x)
        dout = as_float_array(dout, "dout")
        W = self.params["W"]
        self.grads["W"] = self._x.T @ dout
        self.grads["b"] = np.sum(dout, axis=0)
        return (dout @ W.T).reshape(self._x_shape)


class _Elementwise(Layer):
    """An activation layer: out = h(x), dx = dout ⊙ h'(x)."""

    def __init__(self):
        super().__init__()
        self._x = None

    def forward(self, x):
        self._x = as_float_array(x, "x")
        return self._fn(self._x)

    def backward(self, dout):
        self._need_forward(self._x)
        return as_float_array(dout, "dout") * self._grad(self._x)


class _SavesOutput(Layer):
    """An activation whose derivative is cheapest from its output y: dx = dout ⊙ h'(y)."""

    def __init__(self):
        super().__init__()
        self._y = None

    def forward(self, x):
        self._y = self._fn(x)
        return self._y

    def backward(self, dout):
        self._need_forward(self._y)
        return as_float_array(dout, "dout") * self._grad_from_output(self._y)


class Sigmoid(_SavesOutput):
    """σ(x) = 1/(1 + e⁻ˣ); backward dx = dout ⊙ y(1 − y), using the saved output y."""

    _fn = staticmethod(act.sigmoid)

    @staticmethod
    def _grad_from_output(y):
        return y * (1.0 - y)


class Tanh(_SavesOutput):
    """tanh(x); backward dx = dout ⊙ (1 − y²), using the saved output y (see ``tanh_grad``)."""

    _fn = staticmethod(act.tanh)
    _grad_from_output = staticmethod(act.tanh_grad_from_output)


class ReLU(_Elementwise):
    """max(0, x); backward passes dout where x > 0 and blocks it elsewhere (x = 0 included)."""

    _fn = staticmethod(act.relu)
    _grad = staticmethod(act.relu_grad)


class Identity(_Elementwise):
    """h(x) = x; backward passes dout unchanged."""

    _fn = staticmethod(act.identity)
    _grad = staticmethod(act.identity_grad)


class LeakyReLU(_Elementwise):
    """x if x > 0 else negative_slope·x."""

    def __init__(self, negative_slope: float = 0.01):
        super().__init__()
        self.negative_slope = negative_slope

    def _fn(self, x):
        return act.leaky_relu(x, self.negative_slope)

    def _grad(self, x):
        return act.leaky_relu_grad(x, self.negative_slope)


class ELU(_Elementwise):
    """x if x > 0 else α(eˣ − 1)."""

    def __init__(self, alpha: float = 1.0):
        super().__init__()
        check_positive(alpha, "alpha", allow_zero=True)
        self.alpha = alpha

    def _fn(self, x):
        return act.elu(x, self.alpha)

    def _grad(self, x):
        return act.elu_grad(x, self.alpha)


class Softmax(Layer):
    """Softmax over the last axis; backward is the vector-Jacobian product y ⊙ (dout − Σ dout ⊙ y)."""

    def __init__(self):
        super().__init__()
        self._y = None

    def forward(self, x):
        self._y = act.softmax(x, axis=-1)
        return self._y

    def backward(self, dout):
        self._need_forward(self._y)
        return act.softmax_backward(self._y, dout, axis=-1)


class Maxout(Layer):
    """Maxout with k linear pieces: out_j = maxᵢ (x @ W[i] + b[i])_j.

    backward: the gradient flows only into the piece that won the max (its argmax). Shapes:
    W (k, in, out), b (k, out).
    """

    def __init__(self, W, b):
        super().__init__()
        W = as_float_array(W, "W")
        b = as_float_array(b, "b")
        if W.ndim != 3 or b.shape != (W.shape[0], W.shape[2]):
            raise ValueError(f"Maxout expects W (k, in, out) and b (k, out), got W{W.shape} and b{b.shape}")
        self.params = {"W": W, "b": b}
        self.grads = {"W": np.zeros_like(W), "b": np.zeros_like(b)}
        self._x = None

    def forward(self, x):
        self._x = as_float_array(x, "x")
        if self._x.ndim != 2 or self._x.shape[1] != self.params["W"].shape[1]:
            raise ValueError(f"Maxout expects x of shape (N, {self.params['W'].shape[1]}), got {self._x.shape}")
        pieces = np.einsum("ni,kio->nko", self._x, self.params["W"]) + self.params["b"]
        self._winner = np.argmax(pieces, axis=1)  # (N, out): which piece won
        return pieces.max(axis=1)

    def backward(self, dout):
        self._need_forward(self._x)
        dout = as_float_array(dout, "dout")
        k = self.params["W"].shape[0]
        # route dout to the winning piece: mask (N, k, out)
        mask = self._winner[:, None, :] == np.arange(k)[None, :, None]
        dpieces = mask * dout[:, None, :]
        self.grads["W"] = np.einsum("ni,nko->kio", self._x, dpieces)
        self.grads["b"] = dpieces.sum(axis=0)
        return np.einsum("nko,kio->ni", dpieces, self.params["W"])


class SoftmaxWithLoss(Layer):
    """Softmax followed by cross-entropy, as one layer (the book's ``SoftmaxWithLoss``).

    forward(x, t) returns the mean loss; backward(dout=1) returns dx = dout · (y − t)/N.
    ``t`` is one-hot or integer labels.
    """

    def __init__(self):
        super().__init__()
        self._y = None

    def forward(self, x, t):
        x, t_onehot = _logits_and_onehot(x, t)
        self._t = t_onehot
        self._y = act.softmax(x, axis=1)
        self.loss = softmax_cross_entropy(x, t_onehot)
        return self.loss

    def backward(self, dout=1.0):
        self._need_forward(self._y)
        return dout * (self._y - self._t) / self._y.shape[0]
