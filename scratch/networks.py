"""A fully connected network of any depth, the book's ``MultiLayerNet``, built from ``scratch.layers``.

    x → Linear₁ → h → Linear₂ → h → … → Linear_L → SoftmaxWithLoss

``params`` holds W1, b1, …, WL, bL (W of shape (in, out)); the layers hold the *same* arrays, so
an optimizer's in-place ``update(net.params, grads)`` is seen by the next forward pass.
``gradient`` is backprop (오차역전파법); ``numerical_gradient`` the slow but simple reference for a
gradient check. Both return dicts with the keys of ``params``.
"""

from __future__ import annotations

import re

import numpy as np

from . import layers as L
from ._checks import (as_float_array, check_dict, check_provides, check_dropout_probability, check_finite, check_flag, check_int,
                      check_labels, check_positive, check_rng, check_shape)
from .gradients import numerical_gradient
from .regularization import l1_grad, l1_penalty, l2_grad, l2_penalty

ACTIVATIONS = {"relu": L.ReLU, "sigmoid": L.Sigmoid, "tanh": L.Tanh, "identity": L.Identity}


def layer_sizes(params: dict) -> list[int]:
    """[in, hidden…, out] read off W1 … WL."""
    n = num_linear(params)
    return [np.shape(params["W1"])[0]] + [np.shape(params[f"W{i}"])[1] for i in range(1, n + 1)]


def num_linear(params: dict) -> int:
    """L, the number of Linear layers: params holds W1, b1, …, WL, bL, each W 2-D (in, out)."""
    check_dict(params, "params")
    n = 0
    while f"W{n + 1}" in params:
        n += 1
    if n == 0 or set(params) != {f"{k}{i}" for i in range(1, n + 1) for k in ("W", "b")}:
        raise ValueError(f"params must hold W1, b1, …, WL, bL; got keys {sorted(params, key=str)}")
    for i in range(1, n + 1):
        as_float_array(params[f"b{i}"], f"params['b{i}']")
        if as_float_array(params[f"W{i}"], f"params['W{i}']").ndim != 2:
            raise ValueError(f"params['W{i}'] must be 2-D of shape (in, out), got shape {np.shape(params[f'W{i}'])}")
    return n


class MultiLayerNet:
    """Linear layers with ``activation`` between them and softmax-with-loss at the end; optionally
    batch norm after each hidden Linear and dropout after each hidden activation (the book's
    ``MultiLayerNetExtend``):

        x → [Linear → (BatchNorm) → h → (Dropout)] × (L − 1) → Linear → SoftmaxWithLoss

    ``weight_decay_lambda`` λ adds the L2 penalty (λ/2)·Σₗ ‖Wₗ‖² to the loss (weights only, not
    biases, as the book) and λ·Wₗ to each weight gradient; ``l1_lambda`` adds λ₁·Σₗ |Wₗ| and
    λ₁·sign(Wₗ). With ``use_batchnorm`` the params also
    hold gamma1, beta1, … (one per hidden layer; 1 and 0 unless given). ``layers`` is the module
    the layer classes come from (``scratch.layers`` by default), so other layer code can be put
    in. ``train()`` / ``eval()`` switch dropout and batch norm between their two modes;
    ``accuracy`` always evaluates in eval mode.
    """

    def __init__(self, params: dict, activation: str = "relu", weight_decay_lambda: float = 0.0, layers=None,
                 use_batchnorm: bool = False, dropout_ratio: float = 0.0, rng=None, bn_kwargs=None,
                 l1_lambda: float = 0.0):
        _check_options(activation, weight_decay_lambda, l1_lambda, use_batchnorm, dropout_ratio, rng, bn_kwargs)
        self._L = _classes(layers, L, ["Linear", "SoftmaxWithLoss", ACTIVATIONS[activation].__name__]
                           + ["BatchNorm1d"] * bool(use_batchnorm) + ["Dropout"] * bool(dropout_ratio > 0))
        self.l1_lambda = l1_lambda
        self.params, self.depth = _network_params(params, use_batchnorm)
        self.activation = activation
        self.weight_decay_lambda = weight_decay_lambda
        self.use_batchnorm = use_batchnorm
        self.linears, self.batchnorms, self.dropouts, self.layers = [], [], [], []
        for i in range(1, self.depth + 1):
            self.linears.append(self._L.Linear(self.params[f"W{i}"], self.params[f"b{i}"]))
            self.layers.append(self.linears[-1])
            if i == self.depth:
                break
            if use_batchnorm:
                bn = _batchnorm(self._L, self.params[f"gamma{i}"], self.params[f"beta{i}"], bn_kwargs)
                self.batchnorms.append(bn)
                self.layers.append(self.batchnorms[-1])
            self.layers.append(getattr(self._L, ACTIVATIONS[activation].__name__)())
            if dropout_ratio > 0:
                self.dropouts.append(self._L.Dropout(dropout_ratio, rng=rng))
                self.layers.append(self.dropouts[-1])
        self.last_layer = self._L.SoftmaxWithLoss()
        self.training = True
        if hasattr(self.linears[0], "needs_input_grad"):
            self.linears[0].needs_input_grad = False  # nobody needs ∂L/∂x: skip that matmul

    @property
    def num_classes(self) -> int:
        return self.params[f"W{self.depth}"].shape[1]

    def train(self):
        self.training = True
        for layer in self.batchnorms + self.dropouts:
            layer.train()
        return self

    def eval(self):
        self.training = False
        for layer in self.batchnorms + self.dropouts:
            layer.eval()
        return self

    def _bind(self):
        """Point the layers at the current arrays of ``params`` (a user may replace them)."""
        for i, layer in enumerate(self.linears, start=1):
            layer.params["W"], layer.params["b"] = self.params[f"W{i}"], self.params[f"b{i}"]
        for i, layer in enumerate(self.batchnorms, start=1):
            layer.params["gamma"], layer.params["beta"] = self.params[f"gamma{i}"], self.params[f"beta{i}"]

    def predict(self, x):
        """Scores (logits) of shape (N, classes); no softmax (it does not change the argmax)."""
        self._bind()
        out = as_float_array(x, "x")
        for layer in self.layers:
            out = layer.forward(out)
        return out

    def _weights(self):
        return [self.params[f"W{i}"] for i in range(1, self.depth + 1)]

    def penalty(self) -> float:
        """(λ/2)·Σ ‖Wₗ‖² + λ₁·Σ |Wₗ|, the terms added to the loss (nothing to compute when λ = 0)."""
        penalty = 0.0
        if self.weight_decay_lambda:
            penalty += l2_penalty(self._weights(), self.weight_decay_lambda)
        if self.l1_lambda:
            penalty += l1_penalty(self._weights(), self.l1_lambda)
        return penalty

    def loss(self, x, t):
        """Mean cross-entropy of softmax(scores) against t (labels or one-hot), plus the penalty."""
        x = as_float_array(x, "x")
        t = _check_targets(t, x, self.num_classes, "t")
        return self.last_layer.forward(self.predict(x), t) + self.penalty()

    def accuracy(self, x, t):
        x = as_float_array(x, "x")
        t = _check_targets(t, x, self.num_classes, "t")
        labels = np.argmax(t, axis=1) if t.ndim == 2 else t
        was_training = self.training
        self.eval()
        try:
            return float(np.mean(np.argmax(self.predict(x), axis=1) == labels))
        finally:
            if was_training:
                self.train()

    def gradient(self, x, t) -> dict:
        """Backprop: forward once, then every layer's backward in reverse order."""
        self.loss(x, t)
        return self.backward()

    def backward(self) -> dict:
        """Gradients of the last ``loss`` (use it after ``loss`` to avoid a second forward pass)."""
        dout = self.last_layer.backward(1.0)
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        grads = {}
        for i, layer in enumerate(self.linears, start=1):
            W = self.params[f"W{i}"]
            grads[f"W{i}"] = layer.grads["W"]
            if self.weight_decay_lambda:
                grads[f"W{i}"] = grads[f"W{i}"] + l2_grad(W, self.weight_decay_lambda)
            if self.l1_lambda:
                grads[f"W{i}"] = grads[f"W{i}"] + l1_grad(W, self.l1_lambda)
            grads[f"b{i}"] = layer.grads["b"]
        for i, layer in enumerate(self.batchnorms, start=1):
            grads[f"gamma{i}"] = layer.grads["gamma"]
            grads[f"beta{i}"] = layer.grads["beta"]
        return grads

    def numerical_gradient(self, x, t, h: float = 1e-4) -> dict:
        """Central differences on every parameter: slow (two forward passes per element)."""
        _check_targets(t, as_float_array(x, "x"), self.num_classes, "t")
        return {key: numerical_gradient(lambda _: float(self.loss(x, t)), p, h=h) for key, p in self.params.items()}


def _network_params(params, use_batchnorm):
    """(params as float arrays, L): W1, b1, …, WL, bL that chain, and with batch norm gamma1, beta1, …
    for every hidden layer (1 and 0 unless given)."""
    check_dict(params, "params")
    params = {k: as_float_array(v, f"params[{k!r}]") for k, v in params.items()}
    for k, v in params.items():
        check_finite(v, f"params[{k!r}]")
    linear_params = {k: v for k, v in params.items() if re.fullmatch(r"[Wb]\d+", str(k))}  # not beta1
    depth = num_linear(linear_params)
    sizes = layer_sizes(linear_params)
    for i in range(1, depth + 1):
        check_shape(params[f"b{i}"], (sizes[i],), f"params['b{i}']")
        if i > 1 and params[f"W{i}"].shape[0] != sizes[i - 1]:
            raise ValueError(f"W{i} must have {sizes[i - 1]} rows to follow W{i - 1}, got {params[f'W{i}'].shape}")
    bn_keys = {f"{k}{i}" for i in range(1, depth) for k in ("gamma", "beta")} if use_batchnorm else set()
    for i in range(1, depth) if use_batchnorm else ():
        params.setdefault(f"gamma{i}", np.ones(sizes[i], dtype=params["W1"].dtype))
        params.setdefault(f"beta{i}", np.zeros(sizes[i], dtype=params["W1"].dtype))
        check_shape(params[f"gamma{i}"], (sizes[i],), f"params['gamma{i}']")
        check_shape(params[f"beta{i}"], (sizes[i],), f"params['beta{i}']")
    unused = set(params) - set(linear_params) - bn_keys
    if unused:
        raise ValueError(f"params holds {sorted(unused, key=str)}, which no layer uses "
                         f"(gamma/beta are used only with use_batchnorm=True)")
    return params, depth


def _check_options(activation, weight_decay_lambda, l1_lambda, use_batchnorm, dropout_ratio, rng, bn_kwargs):
    """MultiLayerNet's options, each checked with a message that names it."""
    if not isinstance(activation, str) or activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
    check_positive(weight_decay_lambda, "weight_decay_lambda", allow_zero=True)
    check_positive(l1_lambda, "l1_lambda", allow_zero=True)
    check_flag(use_batchnorm, "use_batchnorm")
    check_dropout_probability(dropout_ratio, "dropout_ratio")
    if rng is not None:
        check_rng(rng)
    if bn_kwargs is not None:
        check_dict(bn_kwargs, "bn_kwargs")
        if not use_batchnorm:
            raise ValueError("bn_kwargs is given, but use_batchnorm is False: there is no batch norm to configure")


def _classes(given, default, names, name="layers"):
    """The layer classes a network is built from: ``default`` (this package's) unless ``given``."""
    if given is None:
        return default
    check_provides(given, names, name)
    return given


def _batchnorm(layers, gamma, beta, bn_kwargs):
    """A batch-norm layer with the user's keyword arguments; an error in them names bn_kwargs."""
    try:
        return layers.BatchNorm1d(gamma, beta, **(bn_kwargs or {}))
    except (TypeError, ValueError) as error:
        raise type(error)(f"bn_kwargs: {error}") from None


def _check_targets(t, x, num_classes: int, name: str = "t"):
    """Targets for a batch x: ``name`` holds N labels in [0, num_classes) or a one-hot (N, num_classes)."""
    if x.ndim < 2:
        raise ValueError(f"x must be a batch of shape (N, features), got x{x.shape}")
    n = x.shape[0]
    t = np.asarray(t)
    if t.ndim == 1:
        if t.shape != (n,):
            raise ValueError(f"{name} must hold {n} labels to match x, got shape {t.shape}")
        check_labels(t, num_classes, name)
    elif t.shape != (n, num_classes):
        raise ValueError(f"one-hot {name} must have shape ({n}, {num_classes}), got {t.shape}")
    else:
        as_float_array(t, name)
    return t


class MultiTaskNet:
    """Multi-task learning (멀티태스크 학습): one shared trunk, two softmax heads, one summed loss.

        h = ReLU(x·W1 + b1)                      (shared)
        L = CE(h·Wa + ba, ta) + CE(h·Wb + bb, tb)

    In backprop the two heads each send a gradient into h, and the trunk receives their sum:
    ∂L/∂h = ∂L_a/∂h + ∂L_b/∂h, hence ∂L/∂W1 = ∂L_a/∂W1 + ∂L_b/∂W1. ``gradient(..., heads=("a",))``
    backpropagates one head only, to see each contribution.
    """

    HEADS = ("a", "b")

    def __init__(self, params: dict, layers=None):
        self._L = _classes(layers, L, ["Linear", "ReLU", "SoftmaxWithLoss"])
        check_dict(params, "params")
        expected = {"W1", "b1", "Wa", "ba", "Wb", "bb"}
        if set(params) != expected:
            raise ValueError(f"params must hold {sorted(expected)}, got {sorted(params, key=str)}")
        self.params = {k: as_float_array(v, f"params[{k!r}]") for k, v in params.items()}
        for k, v in self.params.items():
            check_finite(v, f"params[{k!r}]")
        num_linear({"W1": self.params["W1"], "b1": self.params["b1"]})  # W1 is 2-D (in, hidden)
        hidden = self.params["W1"].shape[1]
        for hd in self.HEADS:
            if self.params[f"W{hd}"].ndim != 2 or self.params[f"W{hd}"].shape[0] != hidden:
                raise ValueError(f"params['W{hd}'] must have shape ({hidden}, classes) to follow W1"
                                 f"{self.params['W1'].shape}, got {self.params[f'W{hd}'].shape}")
        self.trunk = [self._L.Linear(self.params["W1"], self.params["b1"]), self._L.ReLU()]
        self.heads = {h: self._L.Linear(self.params[f"W{h}"], self.params[f"b{h}"]) for h in ("a", "b")}
        self.losses = {h: self._L.SoftmaxWithLoss() for h in ("a", "b")}

    def loss(self, x, ta, tb):
        """Forward through trunk and both heads; returns L_a + L_b (``head_losses`` holds each)."""
        h = as_float_array(x, "x")
        ta = _check_targets(ta, h, self.params["Wa"].shape[1], "ta")
        tb = _check_targets(tb, h, self.params["Wb"].shape[1], "tb")
        for layer in self.trunk:
            h = layer.forward(h)
        self.head_losses = {hd: float(self.losses[hd].forward(self.heads[hd].forward(h), t))
                            for hd, t in (("a", ta), ("b", tb))}
        return self.head_losses["a"] + self.head_losses["b"]

    def gradient(self, x, ta, tb, heads=("a", "b")) -> dict:
        heads = self._check_heads(heads)
        self.loss(x, ta, tb)
        grads, dh = {}, 0.0
        for hd in self.HEADS:
            if hd in heads:
                dh = dh + self.heads[hd].backward(self.losses[hd].backward(1.0))
                grads[f"W{hd}"], grads[f"b{hd}"] = self.heads[hd].grads["W"], self.heads[hd].grads["b"]
            else:
                grads[f"W{hd}"], grads[f"b{hd}"] = np.zeros_like(self.params[f"W{hd}"]), np.zeros_like(self.params[f"b{hd}"])
        for layer in reversed(self.trunk):
            dh = layer.backward(dh)
        grads["W1"], grads["b1"] = self.trunk[0].grads["W"], self.trunk[0].grads["b"]
        return grads

    def _check_heads(self, heads):
        """The heads to backpropagate: a non-empty collection of names among ``HEADS`` (or one name)."""
        heads = (heads,) if isinstance(heads, str) else heads
        if not isinstance(heads, (tuple, list, set, frozenset)) or not heads:
            raise ValueError(f"heads must name at least one of the heads {self.HEADS}, got {heads!r}")
        unknown = [hd for hd in heads if hd not in self.HEADS]
        if unknown:
            raise ValueError(f"heads names unknown heads {unknown}; the known heads are {self.HEADS}")
        return heads


class SimpleConvNet:
    """The book's ``SimpleConvNet`` (ch. 7), built from ``params``:

        x (N, C, H, W) → Convolution(W1, b1, stride, pad) → ReLU → Pooling(pool, pool, stride=pool)
          → Linear(W2, b2) → ReLU → Linear(W3, b3) → SoftmaxWithLoss

    params: W1 (FN, C, FH, FW) and b1 (FN,) for the filters; W2 (FN·PH·PW, hidden), b2; W3
    (hidden, classes), b3, where PH × PW is the pooled map (Linear flattens it, channel first, as
    ``nn.Flatten`` does). The layers hold the arrays of ``params``, so an in-place
    ``update(net.params, grads)`` moves them. ``gradient`` is backprop; ``numerical_gradient``
    central differences. ``layers`` and ``conv`` are the modules the layer classes come from
    (``scratch.layers`` and ``scratch.conv`` unless given).
    """

    def __init__(self, params: dict, stride: int = 1, pad: int = 0, pool: int = 2, layers=None, conv=None):
        from . import conv as C

        check_dict(params, "params")
        expected = {"W1", "b1", "W2", "b2", "W3", "b3"}
        if set(params) != expected:
            raise ValueError(f"params must hold {sorted(expected)}, got {sorted(params, key=str)}")
        self.params = {k: as_float_array(v, f"params[{k!r}]") for k, v in params.items()}
        for k, v in self.params.items():
            check_finite(v, f"params[{k!r}]")
        if self.params["W1"].ndim != 4:
            raise ValueError(f"params['W1'] must be 4-D of shape (FN, C, FH, FW), got {self.params['W1'].shape}")
        for i in (1, 2, 3):
            if self.params[f"b{i}"].shape != (len(self.params[f"W{i}"]) if i == 1 else self.params[f"W{i}"].shape[-1],):
                raise ValueError(f"params['b{i}'] must have one entry per output of W{i}{self.params[f'W{i}'].shape}, "
                                 f"got shape {self.params[f'b{i}'].shape}")
        stride, pad, pool = check_int(stride, "stride", 1), check_int(pad, "pad", 0), check_int(pool, "pool", 1)
        self._L = _classes(layers, L, ["Linear", "ReLU", "SoftmaxWithLoss"])
        self._C = _classes(conv, C, ["Convolution", "Pooling"], "conv")
        self.conv = self._C.Convolution(self.params["W1"], self.params["b1"], stride=stride, pad=pad)
        self.pool = self._C.Pooling(pool, pool, stride=pool)
        self.linears = [self._L.Linear(self.params["W2"], self.params["b2"]),
                        self._L.Linear(self.params["W3"], self.params["b3"])]
        self.layers = [self.conv, self._L.ReLU(), self.pool, self.linears[0], self._L.ReLU(), self.linears[1]]
        self.last_layer = self._L.SoftmaxWithLoss()
        self.dropouts, self.training = [], True
        if hasattr(self.conv, "needs_input_grad"):
            self.conv.needs_input_grad = False  # nobody needs ∂L/∂x: skip col2im

    def train(self):
        self.training = True
        return self

    def eval(self):
        self.training = False
        return self

    def _bind(self):
        """Point the layers at the current arrays of ``params`` (a user may replace them)."""
        self.conv.params["W"], self.conv.params["b"] = self.params["W1"], self.params["b1"]
        for i, layer in enumerate(self.linears, start=2):
            layer.params["W"], layer.params["b"] = self.params[f"W{i}"], self.params[f"b{i}"]

    def predict(self, x):
        """Scores (logits) of shape (N, classes)."""
        self._bind()
        out = as_float_array(x, "x")
        for layer in self.layers:
            out = layer.forward(out)
        return out

    def loss(self, x, t):
        """Mean cross-entropy of softmax(scores) against t (labels or one-hot)."""
        x = as_float_array(x, "x")
        return self.last_layer.forward(self.predict(x), _check_targets(t, x, self.params["W3"].shape[1], "t"))

    def accuracy(self, x, t, batch_size: int = 500) -> float:
        """The fraction of images whose largest score is the label, predicted ``batch_size`` at a time."""
        x = as_float_array(x, "x")
        t = _check_targets(t, x, self.params["W3"].shape[1], "t")
        batch_size = check_int(batch_size, "batch_size", 1)
        labels = np.argmax(t, axis=1) if t.ndim == 2 else t
        hits = sum(int(np.sum(np.argmax(self.predict(x[i:i + batch_size]), axis=1) == labels[i:i + batch_size]))
                   for i in range(0, len(x), batch_size))
        return hits / len(x)

    def gradient(self, x, t) -> dict:
        self.loss(x, t)
        return self.backward()

    def backward(self) -> dict:
        """Gradients of the last ``loss``, under the keys of ``params``."""
        dout = self.last_layer.backward(1.0)
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        grads = {"W1": self.conv.grads["W"], "b1": self.conv.grads["b"]}
        for i, layer in enumerate(self.linears, start=2):
            grads[f"W{i}"], grads[f"b{i}"] = layer.grads["W"], layer.grads["b"]
        return grads

    def numerical_gradient(self, x, t, h: float = 1e-4) -> dict:
        """Central differences on every parameter: slow (two forward passes per element)."""
        return {key: numerical_gradient(lambda _: float(self.loss(x, t)), p, h=h) for key, p in self.params.items()}
