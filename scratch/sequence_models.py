"""Sequence models by hand: the embedding lookup, a time-distributed affine layer, and the
models built from them, :mod:`scratch.recurrent`'s layers and :mod:`scratch.sequence`'s
softmax-with-loss over time (the one loss layer of every sequence model here): a
character-level language model (embedding → LSTM → linear), the book's two-LSTM language model
with its output weight tied to the embedding, and a sequence classifier (an RNN's last hidden
state → linear).

A sequence is (N, T, D) (batch first). The time-distributed layers apply one layer at every step by
folding T into the batch: (N, T, D) → (N·T, D) → (N, T, out).
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from ._checks import (as_dout, as_float_array, check_dict, check_dropout_probability, check_finite, check_flag, check_int,
                      check_ndim, check_shape, generator_or_global)
from .layers import Layer, Linear, SoftmaxWithLoss
from .recurrent import LSTM, RNN
from .sequence import TimeDropout, TimeSoftmaxWithLoss


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


class BiLSTM(Layer):
    """A bidirectional LSTM over a sequence (the book's ``TimeBiLSTM``): one LSTM reads x from
    t = 0, another from t = T − 1, and the output at t is their two hidden states side by side:

        h→_t = LSTM₁(x_0 … x_t),   h←_t = LSTM₂(x_{T−1} … x_t),   out_t = [h→_t, h←_t]   (N, T, 2H)

    backward(dout (N, T, 2H)) → dx: the first H columns go back through LSTM₁, the last H through
    LSTM₂ in reversed time, and the two gradients of x add up. Both start from h = c = 0.
    ``params``/``grads``: Wx1, Wh1, b1 (the forward LSTM's), Wx2, Wh2, b2 (gates i, f, o, g)."""

    def __init__(self, Wx1, Wh1, b1, Wx2, Wh2, b2):
        super().__init__()
        given = {"Wx1": Wx1, "Wh1": Wh1, "b1": b1, "Wx2": Wx2, "Wh2": Wh2, "b2": b2}
        arrays = {k: as_float_array(v, k) for k, v in given.items()}
        with _naming("Wx1, Wh1, b1 (the forward LSTM's)"):
            self.forward_lstm = LSTM(arrays["Wx1"], arrays["Wh1"], arrays["b1"])
        with _naming("Wx2, Wh2, b2 (the backward LSTM's)"):
            self.backward_lstm = LSTM(arrays["Wx2"], arrays["Wh2"], arrays["b2"])
        if self.forward_lstm.params["Wx"].shape != self.backward_lstm.params["Wx"].shape:
            raise ValueError(f"the two LSTMs must have one shape: Wx1{self.forward_lstm.params['Wx'].shape}, "
                             f"Wx2{self.backward_lstm.params['Wx'].shape}")
        self.params = {f"{k}{i}": lstm.params[k] for i, lstm in ((1, self.forward_lstm), (2, self.backward_lstm))
                       for k in ("Wx", "Wh", "b")}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self._x_shape = None

    def forward(self, x):
        x = as_float_array(x, "x")
        check_ndim(x, 3, "x", "(N, T, D)")
        self._x_shape = x.shape
        ahead = self.forward_lstm.forward(x)
        behind = self.backward_lstm.forward(x[:, ::-1])[:, ::-1]
        return np.concatenate((ahead, behind), axis=2)

    def backward(self, dout):
        self._need_forward(self._x_shape)
        H = self.forward_lstm.hidden_size
        dout = as_dout(dout, self._x_shape[:2] + (2 * H,))
        dx = self.forward_lstm.backward(dout[:, :, :H])[0]
        dx = dx + self.backward_lstm.backward(dout[:, ::-1, H:])[0][:, ::-1]
        for i, lstm in ((1, self.forward_lstm), (2, self.backward_lstm)):
            for k in ("Wx", "Wh", "b"):
                self.grads[f"{k}{i}"] = lstm.grads[k]
        return dx


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
        self.loss_layer = TimeSoftmaxWithLoss(ignore_label=None)
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


class TiedLSTMLM:
    """The book's ``BetterRnnlm`` by hand (second volume, ch. 6): embedding → dropout → LSTM → dropout
    → LSTM → dropout → affine whose weight *is* the embedding's, transposed (weight tying), then
    softmax-with-loss over the next word at every position:

        e_t = E[idx_t],   h¹_t = LSTM₁(drop(e_t)),   h²_t = LSTM₂(drop(h¹_t)),   s_t = drop(h²_t) Eᵀ + b

    One weight with two uses gets the sum of both gradients: ∂L/∂E = (the embedding's rows, added
    up) + (the output's, Σ_t ∂L/∂s_tᵀ drop(h²_t)). The book keeps the two in ``grads`` and its
    optimizer adds them (``remove_duplicate``); so do the lists here: ``params`` holds nine arrays
    (E; Wx, Wh, b of each LSTM (gates i, f, o, g); the affine W = Eᵀ, a view of the same numbers;
    the affine b), ``grads`` the nine gradients in that order. The LSTMs carry their state from one
    batch to the next (the book's ``stateful=True``) until ``reset_state()``. Tying needs
    wordvec_size = hidden_size. Initial weights as the book's: E ~ N(0, 1)/100, Wx ~ N(0, 1)/√D,
    Wh ~ N(0, 1)/√H, biases 0, drawn from ``rng`` (default: seeded from NumPy's global generator).
    """

    def __init__(self, vocab_size, wordvec_size, hidden_size, dropout_ratio: float = 0.5, rng=None):
        V, D, H = (check_int(vocab_size, "vocab_size", minimum=1), check_int(wordvec_size, "wordvec_size", minimum=1),
                   check_int(hidden_size, "hidden_size", minimum=1))
        if D != H:
            raise ValueError(f"wordvec_size must equal hidden_size (the output weight is the embedding's transpose), "
                             f"got wordvec_size={D}, hidden_size={H}")
        check_dropout_probability(dropout_ratio, "dropout_ratio")
        rng = generator_or_global(rng)
        self.embed = Embedding(rng.standard_normal((V, D)) / 100)
        self.lstms = [LSTM(rng.standard_normal((D, 4 * H)) / np.sqrt(D), rng.standard_normal((H, 4 * H)) / np.sqrt(H),
                           np.zeros(4 * H)) for _ in range(2)]
        self.drops = [TimeDropout(dropout_ratio, rng=rng) for _ in range(3)]
        self.b = np.zeros(V)
        self.loss_layer = TimeSoftmaxWithLoss(ignore_label=None)
        self._states = ((None, None), (None, None))
        self._grads = None
        self._h = None

    @property
    def params(self) -> list:
        E = self.embed.params["W"]
        return [E, *(l.params[k] for l in self.lstms for k in ("Wx", "Wh", "b")), E.T, self.b]

    @property
    def grads(self) -> list:
        if self._grads is None:
            return [np.zeros_like(p) for p in self.params]
        return self._grads

    def reset_state(self) -> None:
        """Forget the carried hidden states: the next batch starts from h = c = 0."""
        self._states = ((None, None), (None, None))

    def forward(self, xs, ts, train_flg: bool = True) -> float:
        """The mean cross-entropy of the next words ts (N, T) after xs (N, T); dropout in training only."""
        check_ndim(np.asarray(xs), 2, "xs", "(N, T) of word ids")
        check_flag(train_flg, "train_flg")
        for drop in self.drops:
            drop.training = bool(train_flg)
        with _naming("xs"):
            h = self.drops[0].forward(self.embed.forward(xs))
        states = []
        for lstm, drop, state in zip(self.lstms, self.drops[1:], self._states):
            h = drop.forward(lstm.forward(h, *state))
            states.append(lstm.state)
        self._states, self._h = tuple(states), h
        scores = h @ self.embed.params["W"].T + self.b
        with _naming("ts"):
            return float(self.loss_layer.forward(scores, ts))

    def backward(self, dout: float = 1.0) -> None:
        """Fill ``grads`` (the tied weight's two gradients in their two places, as the book's)."""
        if self._h is None:
            raise RuntimeError("TiedLSTMLM.backward called before forward")
        E, h = self.embed.params["W"], self._h
        ds = self.loss_layer.backward(dout)
        dW_out = h.reshape(-1, h.shape[-1]).T @ ds.reshape(-1, ds.shape[-1])  # the affine W's (H, V)
        dh = ds @ E
        for lstm, drop in zip(reversed(self.lstms), reversed(self.drops[1:])):
            dh = lstm.backward(drop.backward(dh))[0]
        self.embed.backward(self.drops[0].backward(dh))
        self._grads = [self.embed.grads["W"], *(l.grads[k] for l in self.lstms for k in ("Wx", "Wh", "b")), dW_out,
                       ds.sum(axis=(0, 1))]


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
