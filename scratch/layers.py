"""Layers with ``forward(x)`` and ``backward(dout) -> dx``, the book's computational-graph style.

A layer keeps what its backward pass needs from the forward pass. Layers with parameters hold them
in ``params`` and, after ``backward``, their gradients under the same keys in ``grads``; an
optimizer's ``update(params, grads)`` then changes ``params`` in place.

Weight layout: ``Linear`` keeps W with shape (in, out) so the forward pass reads ``x @ W + b`` as
the book writes it. PyTorch's ``nn.Linear.weight`` has shape (out, in) and computes ``x @ W.T``;
the comparisons transpose at that single border.
"""

from __future__ import annotations

import math

import numpy as np

from . import activations as act
from ._checks import (as_dout, as_float_array, check_dropout_probability, check_finite, check_flag, check_positive,
                      check_real, generator_or_global)
from .losses import softmax_cross_entropy, _logits_and_onehot


class Layer:
    """Base class: a layer without parameters has empty ``params`` and ``grads``.

    ``training`` says which mode the layer is in; only Dropout and BatchNorm1d behave differently
    in the two. ``train()`` and ``eval()`` switch it, as on ``torch.nn.Module``.
    """

    def __init__(self):
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.training = True

    def train(self):
        self.training = True
        return self

    def eval(self):
        self.training = False
        return self

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

    x is a batch (N, in), or one sample (in,) as ``nn.Linear`` accepts it (out then has shape
    (out,) and dout must too), or (N, d₁, d₂, …), flattened to (N, d₁·d₂·…) as the book's Affine does.

    ``needs_input_grad = False`` skips dx (backward returns None), as autograd does for an input
    that does not require a gradient: for a network's first layer dx is never used, and it costs
    as much as the forward matmul.
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
        self.needs_input_grad = True
        self._x = None
        self._x_shape = None

    def forward(self, x):
        x = as_float_array(x, "x")
        W, b = self.params["W"], self.params["b"]
        if x.ndim == 0:
            raise ValueError(f"Linear expects x of shape (N, {W.shape[0]}) or ({W.shape[0]},), got a 0-d x")
        self._x_shape = x.shape
        x2 = x.reshape(x.shape[0], math.prod(x.shape[1:])) if x.ndim > 1 else x.reshape(1, -1)
        if x2.shape[1] != W.shape[0]:
            raise ValueError(f"Linear expects inputs with {W.shape[0]} features, got x{x.shape}")
        self._x = x2
        out = x2 @ W + b
        out = out[0] if x.ndim == 1 else out  # one sample in, one sample out, as nn.Linear
        self._out_shape = out.shape
        return out

    def backward(self, dout):
        self._need_forward(self._x)
        W = self.params["W"]
        dout = as_dout(dout, self._out_shape).reshape(self._x.shape[0], W.shape[1])
        self.grads["W"] = self._x.T @ dout
        self.grads["b"] = np.sum(dout, axis=0)
        if not self.needs_input_grad:
            return None
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
        return as_dout(dout, self._x.shape) * self._grad(self._x)


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
        return as_dout(dout, self._y.shape) * self._grad_from_output(self._y)


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


class Chain(Layer):
    """Layers applied one after another as one layer (CS231n's ``layer_utils`` sandwiches, e.g.
    affine → ReLU): forward runs them in order, backward in reverse order, each backward taking the
    gradient the one after it returned (the chain rule, layer by layer). ``params`` and ``grads`` are
    the first layer's: the weighted one of a sandwich."""

    def __init__(self, *layers):
        super().__init__()
        self.layers = layers
        self.params = layers[0].params

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dout):
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        self.grads = self.layers[0].grads
        return dout


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
        check_real(negative_slope, "negative_slope")
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


class GELU(_Elementwise):
    """x·Φ(x) (``approximate='none'``, with erf) or its tanh form (``'tanh'``), as ``nn.GELU(approximate=…)``;
    backward dx = dout ⊙ GELU'(x) (see ``activations.gelu_grad``). The forward pass keeps GELU'(x),
    computed with GELU(x) from the same Φ(x) (erf is the costly part of a transformer's MLP)."""

    def __init__(self, approximate: str = "none"):
        super().__init__()
        self.approximate = act._gelu_form(approximate)
        self._derivative = None

    def _fn(self, x):
        y, self._derivative = act._gelu_and_grad(x, self.approximate)
        return y

    def _grad(self, x):
        return self._derivative


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
        return act.softmax_backward(self._y, as_dout(dout, self._y.shape), axis=-1)


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
        dout = as_dout(dout, self._winner.shape)
        k = self.params["W"].shape[0]
        # route dout to the winning piece: mask (N, k, out)
        mask = self._winner[:, None, :] == np.arange(k)[None, :, None]
        dpieces = np.where(mask, dout[:, None, :], 0.0)  # the losers get exactly 0, even from a NaN
        self.grads["W"] = np.einsum("ni,nko->kio", self._x, dpieces)
        self.grads["b"] = dpieces.sum(axis=0)
        return np.einsum("nko,kio->ni", dpieces, self.params["W"])


class SoftmaxWithLoss(Layer):
    """Softmax followed by cross-entropy, as one layer (the book's ``SoftmaxWithLoss``).

    forward(x, t) returns the mean loss; backward(dout=1) returns dx = dout · (y − t)/N.
    ``t`` is one-hot or integer labels (or rows of probabilities: then dx = dout · (y·Σₖtₖ − t)/N,
    which is the same when each row sums to 1).
    """

    def __init__(self):
        super().__init__()
        self._y = None

    def forward(self, x, t):
        self._x_shape = np.shape(x)
        x, t_onehot = _logits_and_onehot(x, t, "x")
        self._t = t_onehot
        self._y = act.softmax(x, axis=1)
        self.loss = softmax_cross_entropy(x, t_onehot)
        return self.loss

    def backward(self, dout=1.0):
        self._need_forward(self._y)
        as_dout(dout, ())  # the loss is a scalar, so is its upstream gradient
        dx = dout * (self._y * self._t.sum(axis=1, keepdims=True) - self._t) / self._y.shape[0]
        return dx.reshape(self._x_shape)


class Dropout(Layer):
    """Inverted dropout (드롭아웃): in training, keep each unit with probability 1 − p and scale the
    kept ones by 1/(1 − p); in evaluation, pass everything through unchanged.

        train: out = x ⊙ m / (1 − p),  m ~ Bernoulli(1 − p)      eval: out = x
        backward: dx = dout ⊙ m / (1 − p)

    The scaling keeps E[out] = x, so nothing needs to change at test time. (The book scales by
    1 − p at test time instead; CS231n's p is the *keep* probability. Here, as in PyTorch, p is
    the probability to drop.) The mask comes from ``rng`` (a ``numpy.random.Generator``; by default one seeded
    from NumPy's global generator, so ``np.random.seed`` repeats it), or from ``set_mask`` when
    another library's mask must be reproduced exactly.
    """

    def __init__(self, p: float = 0.5, rng=None):
        super().__init__()
        check_dropout_probability(p, "p")
        self.p = p
        self.rng = generator_or_global(rng)
        self._given_mask = None
        self.mask = None
        self._x_shape = None

    def set_mask(self, mask):
        """Use this boolean keep-mask (True = keep) for the next forward pass instead of drawing one."""
        values = as_float_array(mask, "mask")
        if np.any((values != 0) & (values != 1)):
            raise ValueError("mask must hold booleans (True = keep) or 0 and 1")
        self._given_mask = values.astype(bool)

    def forward(self, x):
        x = as_float_array(x, "x")
        self._x_shape = x.shape
        if not self.training or self.p == 0.0:
            self.mask = None
            return x
        if self._given_mask is not None:
            if self._given_mask.shape != x.shape:
                raise ValueError(f"the mask given to set_mask must have the shape of x, "
                                 f"got mask{self._given_mask.shape} and x{x.shape}")
            self.mask, self._given_mask = self._given_mask, None
        else:
            self.mask = self.rng.random(x.shape) >= self.p
        return x * (self.mask / (1.0 - self.p))

    def backward(self, dout):
        self._need_forward(self._x_shape)
        dout = as_dout(dout, self._x_shape)
        if self.mask is None:
            return dout
        return dout * (self.mask / (1.0 - self.p))


class BatchNorm1d(Layer):
    """Batch normalization (배치 정규화) over the batch axis of (N, D) inputs.

    train:  μ = mean(x),  σ² = mean((x − μ)²) (biased),  x̂ = (x − μ)/√(σ² + ε),  out = γ·x̂ + β
            running_mean ← m·running_mean + (1 − m)·μ
            running_var  ← m·running_var + (1 − m)·σ²·N/(N − 1)   (unbiased, as PyTorch stores it)
    eval:   x̂ = (x − running_mean)/√(running_var + ε)

    ``momentum`` m is the book's: the weight of the *old* running value (0.9). PyTorch's
    ``momentum`` is the weight of the *new* batch value, so the book's 0.9 is PyTorch's 0.1.
    PyTorch's defaults are ε = 1e-5, running_var starting at 1 and an unbiased running variance;
    the book uses ε = 1e-6 (written 10e-7), starts running_var at 0 and keeps the biased one —
    ``eps``, ``running_var_init`` and ``unbiased_running_var`` select either.

    backward (with x̂ and σ from the forward pass, g = dout·γ):
        dx = (1/(N·√(σ² + ε))) · (N·g − Σg − x̂·Σ(g·x̂)),   dγ = Σ dout·x̂,   dβ = Σ dout
    """

    def __init__(self, gamma, beta, momentum: float = 0.9, eps: float = 1e-5,
                 running_var_init: float = 1.0, unbiased_running_var: bool = True):
        super().__init__()
        gamma, beta = as_float_array(gamma, "gamma"), as_float_array(beta, "beta")
        if gamma.ndim != 1 or gamma.shape != beta.shape:
            raise ValueError(f"gamma and beta must be 1-D of one length, got {gamma.shape} and {beta.shape}")
        if not 0.0 <= check_real(momentum, "momentum") <= 1.0:
            raise ValueError(f"momentum must be in [0, 1] (the weight of the old running value), got {momentum}")
        check_positive(eps, "eps")
        check_positive(running_var_init, "running_var_init", allow_zero=True)
        check_flag(unbiased_running_var, "unbiased_running_var")
        self.params = {"gamma": gamma, "beta": beta}
        self.grads = {"gamma": np.zeros_like(gamma), "beta": np.zeros_like(beta)}
        self.momentum, self.eps, self.unbiased_running_var = momentum, eps, unbiased_running_var
        self.running_mean = np.zeros_like(gamma)
        self.running_var = np.full_like(gamma, running_var_init)
        self._cache = None

    def forward(self, x):
        x = as_float_array(x, "x")
        if x.ndim != 2 or x.shape[1] != self.params["gamma"].shape[0]:
            raise ValueError(f"BatchNorm1d expects x of shape (N, {self.params['gamma'].shape[0]}), got {x.shape}")
        if self.training:
            n = x.shape[0]
            if n < 2:
                raise ValueError(f"BatchNorm1d needs more than 1 value per channel in training (batch size >= 2), "
                                 f"got x{x.shape}")
            mu = x.mean(axis=0)
            xc = x - mu
            var = np.mean(xc**2, axis=0)
            std = np.sqrt(var + self.eps)
            xhat = xc / std
            m = self.momentum
            stored_var = var * n / (n - 1) if self.unbiased_running_var else var
            self.running_mean = m * self.running_mean + (1 - m) * mu
            self.running_var = m * self.running_var + (1 - m) * stored_var
            self._cache = (xhat, std)
        else:
            xhat = (x - self.running_mean) / np.sqrt(self.running_var + self.eps)
            self._cache = (xhat, None)
        return self.params["gamma"] * xhat + self.params["beta"]

    def backward(self, dout):
        self._need_forward(self._cache)
        xhat, std = self._cache
        dout = as_dout(dout, xhat.shape)
        self.grads["gamma"] = np.sum(dout * xhat, axis=0)
        self.grads["beta"] = np.sum(dout, axis=0)
        g = dout * self.params["gamma"]
        if std is None:  # eval mode: a fixed affine map
            return g / np.sqrt(self.running_var + self.eps)
        n = dout.shape[0]
        return (n * g - g.sum(axis=0) - xhat * np.sum(g * xhat, axis=0)) / (n * std)


class LinearReLU(Chain):
    """Linear(W, b) → ReLU: max(0, x W + b) (CS231n's ``affine_relu_forward``/``affine_relu_backward``)."""

    def __init__(self, W, b):
        super().__init__(Linear(W, b), ReLU())
