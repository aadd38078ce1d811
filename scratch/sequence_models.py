"""Sequence models by hand: the embedding lookup, a time-distributed affine layer and
softmax-with-loss, and the models built from them and :mod:`scratch.recurrent`'s layers: a
character-level language model (embedding → LSTM → linear) and a sequence classifier (an RNN's
last hidden state → linear).

A sequence is (N, T, D) (batch first). The time-distributed layers apply one layer at every step by
folding T into the batch: (N, T, D) → (N·T, D) → (N, T, out).
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from ._checks import as_dout, as_float_array, check_dict, check_finite, check_int, check_ndim, check_shape
from .layers import Layer, Linear, SoftmaxWithLoss
from .recurrent import LSTM, RNN


class Embedding(Layer):
    """Embedding lookup (임베딩): out = W[idx], one row of W (V, D) per index; idx of any shape.

    backward: dW[v] = Σ of dout over every position where idx = v. An index that appears twice gets
    both gradients *added*: ``np.add.at(dW, idx, dout)``. ``dW[idx] = dout`` (or ``dW[idx] += dout``,
    which buffers) keeps only the last one. The indices get no gradient (backward returns None)."""

    def __init__(self, W):
        super().__init__()
        W = as_float_array(W, "W")
        check_ndim(W, 2, "W", "(V, D)")
        if 0 in W.shape:
            raise ValueError(f"Embedding expects W of shape (V, D) with V, D >= 1, got W{W.shape}")
        self.params = {"W": W}
        self.grads = {"W": np.zeros_like(W)}
        self._idx = None

    def forward(self, idx):
        idx = np.asarray(idx)
        V = self.params["W"].shape[0]
        if idx.dtype.kind not in "iu":
            raise TypeError(f"Embedding expects integer indices idx, got dtype {idx.dtype}")
        if idx.size and (idx.min() < 0 or idx.max() >= V):
            raise ValueError(f"Embedding indices idx must be in [0, {V}) (the rows of W{self.params['W'].shape}), got "
                             f"values from {idx.min()} to {idx.max()}")
        self._idx = idx
        return self.params["W"][idx]

    def backward(self, dout):
        self._need_forward(self._idx)
        W = self.params["W"]
        dout = as_dout(dout, self._idx.shape + (W.shape[1],))
        dW = np.zeros_like(W)
        np.add.at(dW, self._idx, dout)  # scatter-add: repeated indices accumulate
        self.grads["W"] = dW
        return None


class TimeLinear(Layer):
    """The same affine layer at every time step: out[:, t] = x[:, t] @ W + b, for x (N, T, D)
    (``nn.Linear`` on the last axis). backward: dW = Σₙₜ xₙₜᵀ doutₙₜ, db = Σₙₜ doutₙₜ."""

    def __init__(self, W, b):
        super().__init__()
        W, b = as_float_array(W, "W"), as_float_array(b, "b")
        check_ndim(W, 2, "W", "(D, M)")
        if 0 in W.shape:
            raise ValueError(f"TimeLinear expects W of shape (D, M) with D, M >= 1, got W{W.shape}")
        check_shape(b, (W.shape[1],), "b", f" (M,) to follow W{W.shape}")
        self.params = {"W": W, "b": b}
        self.grads = {"W": np.zeros_like(W), "b": np.zeros_like(b)}
        self._x = None

    def forward(self, x):
        x = as_float_array(x, "x")
        if x.shape[-1:] != self.params["W"].shape[:1]:
            raise ValueError(f"TimeLinear expects x of shape (…, {self.params['W'].shape[0]}), got x{x.shape}")
        self._x = x
        W = self.params["W"]
        # as one (N·T, D) matrix: one BLAS call (NumPy's matmul on stacks of matrices is far slower)
        return (x.reshape(-1, W.shape[0]) @ W + self.params["b"]).reshape(x.shape[:-1] + (W.shape[1],))

    def backward(self, dout):
        self._need_forward(self._x)
        W = self.params["W"]
        dout = as_dout(dout, self._x.shape[:-1] + (W.shape[1],))
        x2, d2 = self._x.reshape(-1, W.shape[0]), dout.reshape(-1, W.shape[1])
        self.grads["W"], self.grads["b"] = x2.T @ d2, d2.sum(axis=0)
        return (d2 @ W.T).reshape(self._x.shape)


class TimeSoftmaxWithLoss(Layer):
    """Softmax-with-loss at every time step, averaged over all N·T positions (as
    ``nn.CrossEntropyLoss`` on the flattened (N·T, V) scores). CS231n's temporal_softmax_loss
    sums over t and divides by N only: T times this loss."""

    def __init__(self):
        super().__init__()
        self._inner = SoftmaxWithLoss()
        self._shape = None

    def forward(self, x, t):
        x = as_float_array(x, "x")
        check_ndim(x, 3, "x", "(N, T, V)")
        t = np.asarray(t)
        check_shape(t, x.shape[:2], "t", f" (N, T): labels for x{x.shape}")
        self._shape = x.shape
        return self._inner.forward(x.reshape(-1, x.shape[2]), t.reshape(-1))

    def backward(self, dout=1.0):
        self._need_forward(self._shape)
        return self._inner.backward(dout).reshape(self._shape)


# --- models ----------------------------------------------------------------------------------------


def _network_params(params, keys) -> dict:
    """``params`` as a dict of finite float arrays under exactly ``keys`` (the arrays themselves
    where they already are float arrays, so that an optimizer's in-place update trains the network)."""
    check_dict(params, "params")
    if set(params) != set(keys):
        raise ValueError(f"params must hold {sorted(keys)}, got {sorted(params, key=str)}")
    out = {k: as_float_array(params[k], f"params[{k!r}]") for k in keys}
    for k, v in out.items():
        check_finite(v, f"params[{k!r}]")
    return out


@contextmanager
def _naming(name: str):
    """Re-raise a layer's ValueError/TypeError with ``name`` (the argument it came from) in front."""
    try:
        yield
    except (ValueError, TypeError) as exc:
        raise type(exc)(f"{name}: {exc}") from None


class _NextTokenModel:
    """The interface of a language model that scores the next token at every position, the book's
    network interface: a subclass gives ``scores(idx)`` (N, T, V), ``backward()`` → grads and a
    ``loss_layer`` (``TimeSoftmaxWithLoss``)."""

    def loss(self, idx, t) -> float:
        """The mean cross-entropy of the next tokens ``t`` (N, T) after idx (N, T)."""
        return float(self.loss_layer.forward(self.scores(idx), t))

    def gradient(self, idx, t) -> dict:
        """The loss's gradients under the keys of ``params`` (forward included)."""
        self.loss(idx, t)
        return self.backward()


class CharLM(_NextTokenModel):
    """A character-level language model (문자 단위 언어 모델): embedding → LSTM → time-distributed
    affine → softmax-with-loss over the next character at every position.

        e_t = E[idx_t],   h_t = LSTM(e_t, h_{t−1}, c_{t−1}),   s_t = h_t W + b,   L = mean_t CE(s_t, next_t)

    ``params``: E (V, D), Wx (D, 4H), Wh (H, 4H), b (4H,) (LSTM gates i, f, o, g), W (H, V), bo (V,).
    The layers hold these very arrays, so an optimizer's in-place ``update(params, grads)`` trains it.
    """

    def __init__(self, params: dict):
        self.params = _network_params(params, ("E", "Wx", "Wh", "b", "W", "bo"))
        p = self.params
        with _naming("params"):
            self.embed = Embedding(p["E"])
            self.lstm = LSTM(p["Wx"], p["Wh"], p["b"])
            self.out = TimeLinear(p["W"], p["bo"])
        (V, D), H = p["E"].shape, self.lstm.hidden_size
        if p["Wx"].shape[0] != D or p["W"].shape != (H, V):
            raise ValueError(f"params must fit together: E (V, D), Wx (D, 4H), W (H, V); got E{p['E'].shape}, "
                             f"Wx{p['Wx'].shape}, Wh{p['Wh'].shape}, W{p['W'].shape}")
        self.loss_layer = TimeSoftmaxWithLoss()
        self._layers = ((self.embed, {"W": "E"}), (self.lstm, {"Wx": "Wx", "Wh": "Wh", "b": "b"}),
                        (self.out, {"W": "W", "b": "bo"}))

    def scores(self, idx, h0=None, c0=None):
        """Scores (N, T, V) for the next character after each of idx (N, T); the final (h, c) in
        ``self.lstm.state``."""
        check_ndim(np.asarray(idx), 2, "idx", "(N, T) of character indices")
        e = self.embed.forward(idx)
        return self.out.forward(self.lstm._forward(e, (h0, c0), "idx"))

    def backward(self) -> dict:
        dh = self.out.backward(self.loss_layer.backward(1.0))
        dx, _, _ = self.lstm.backward(dh)
        self.embed.backward(dx)
        return {outer: layer.grads[inner] for layer, keys in self._layers for inner, outer in keys.items()}

    def next_probabilities(self, char: int, state=None):
        """Probabilities of the character after ``char`` given the LSTM state (h, c), each (1, H)
        (None: zeros): (p (V,), the new state)."""
        V, H = self.params["E"].shape[0], self.lstm.hidden_size
        char = check_int(char, "char", minimum=0)
        if char >= V:
            raise ValueError(f"char must be a character index in [0, {V}), got {char}")
        if state is None:
            state = (None, None)
        elif not (isinstance(state, (tuple, list)) and len(state) == 2):
            raise TypeError(f"state must be None or the pair (h, c) of the LSTM, got {type(state).__name__}")
        else:
            state = tuple(as_float_array(v, f"state[{i}]") for i, v in enumerate(state))
            for i, v in enumerate(state):
                check_shape(v, (1, H), f"state[{i}]", " (1, H)")
        s = self.scores(np.array([[char]]), *state)[0, 0]
        e = np.exp(s - s.max())
        return e / e.sum(), self.lstm.state


class SequenceClassifier:
    """Many-to-one: a tanh RNN reads the sequence, an affine layer scores its last hidden state,
    softmax-with-loss takes the class. ``params``: Wx (D, H), Wh (H, H), b (H,), W (H, C), bo (C,).

        h_t = tanh(x_t Wx + h_{t−1} Wh + b),   s = h_{T−1} W + bo,   L = CE(s, t)
    """

    def __init__(self, params: dict):
        self.params = _network_params(params, ("Wx", "Wh", "b", "W", "bo"))
        p = self.params
        with _naming("params"):
            self.rnn = RNN(p["Wx"], p["Wh"], p["b"])
            self.out = Linear(p["W"], p["bo"])
        if p["W"].shape[0] != self.rnn.hidden_size:
            raise ValueError(f"params must fit together: Wh (H, H), W (H, C); got Wh{p['Wh'].shape}, W{p['W'].shape}")
        self.loss_layer = SoftmaxWithLoss()

    def loss(self, x, t) -> float:
        """The mean cross-entropy of the class labels t (N,) given the sequences x (N, T, D)."""
        self._hs = self.rnn.forward(x)
        return float(self.loss_layer.forward(self.out.forward(self._hs[:, -1]), t))

    def gradient(self, x, t) -> dict:
        """The loss's gradients under the keys of ``params`` (forward included)."""
        self.loss(x, t)
        return self.backward()

    def backward(self) -> dict:
        dhs = np.zeros_like(self._hs)
        dhs[:, -1] = self.out.backward(self.loss_layer.backward(1.0))  # only the last step has an output
        self.rnn.backward(dhs)
        return {**self.rnn.grads, "W": self.out.grads["W"], "bo": self.out.grads["b"]}
