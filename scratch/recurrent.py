"""Recurrent layers by hand (순환 신경망): a vanilla tanh RNN, the LSTM and the GRU, one step and a
whole sequence, with backpropagation through time (BPTT, truncated on request); clipping by the
global norm. The embedding, the time-distributed layers and the models built from them are in
:mod:`scratch.sequence_models`.

Layout: a sequence is (N, T, D) (batch first), a hidden state (N, H). Weights are kept for
``x @ Wx + h @ Wh + b``: Wx (D, G·H), Wh (H, G·H), b (G·H,), with the G gates side by side in
the columns. PyTorch keeps ``weight_ih`` (G·H, D) and ``weight_hh`` (G·H, H), the gates stacked in
the rows, and two biases ``bias_ih`` + ``bias_hh``; ``comparisons.bridge`` maps the two.

**Unrolling.** A recurrent layer applies the same step, with the same weights, at t = 0 … T − 1:
``h_t = step(x_t, h_{t−1})``. Unrolled in time it is a deep feed-forward network whose layers share
their weights, so its backward pass is ordinary backpropagation through that unrolled graph:

    dh_t = (gradient from the output at t) + (gradient from step t + 1, through h_t)     (BPTT)

and a shared weight's gradient is the *sum* over t of its gradient at every step. The input
projection ``x_t @ Wx + b`` does not depend on h, so it is computed for all t at once (one matrix
product) and only ``h @ Wh`` runs in the loop over time.

**Truncated BPTT.** ``backward(dh, truncate=k)`` lets no gradient pass from step t back into step
t − 1 at t = k, 2k, …: the forward pass is unchanged (the hidden state is carried across the
block boundaries), only the backward flow is cut. PyTorch does the same with ``h.detach()``
between blocks.
"""

from __future__ import annotations

import numpy as np

from ._checks import as_float_array, check_finite, check_flag, check_int, check_ndim, check_real, check_shape, is_finite
from .activations import sigmoid
from .layers import Layer

LSTM_GATES = "ifog"  # the column blocks of the LSTM's Wx, Wh, b (CS231n's order; PyTorch's is i, f, g, o)
GRU_GATES = "rzn"  # the column blocks of the GRU's weights (PyTorch's order)


# --- one step of each cell, on the input projection ax = x @ Wx + b ------------------------------
# Each _*_step_forward(ax, state…, Wh) returns the next state and a cache; each *_step_backward
# returns (dax, dstate_prev…, dWh): dax is the gradient of the step's input projection, from
# which the caller makes dx = dax @ Wxᵀ, dWx = xᵀ @ dax, db = Σ dax.


def _rnn_step_forward(ax, h_prev, Wh):
    """h = tanh(x Wx + h_prev Wh + b), with ax = x Wx + b."""
    h = np.tanh(ax + h_prev @ Wh)
    return h, (h_prev, h)


def _rnn_step_backward(dh, cache, Wh):
    """da = dh ⊙ (1 − h²) (tanh' = 1 − tanh²);  dh_prev = da Whᵀ;  dWh = h_prevᵀ da."""
    h_prev, h = cache
    da = dh * (1.0 - h * h)
    return da, da @ Wh.T, h_prev.T @ da


def _lstm_step_forward(ax, h_prev, c_prev, Wh):
    """The LSTM step, gates in the order i, f, o, g (the column blocks of a = x Wx + h_prev Wh + b):

        i = σ(a_i)  input gate      f = σ(a_f)  forget gate      o = σ(a_o)  output gate
        g = tanh(a_g)  candidate cell
        c = f ⊙ c_prev + i ⊙ g         h = o ⊙ tanh(c)
    """
    H = h_prev.shape[1]
    a = ax + h_prev @ Wh
    ifo = sigmoid(a[:, :3 * H])
    i, f, o = ifo[:, :H], ifo[:, H:2 * H], ifo[:, 2 * H:]
    g = np.tanh(a[:, 3 * H:])
    c = f * c_prev + i * g
    tc = np.tanh(c)
    h = o * tc
    return h, c, (h_prev, c_prev, i, f, o, g, tc)


def _lstm_step_backward(dh, dc, cache, Wh):
    """Backward of the LSTM step. The cell receives the gradient of both its outputs:

        dc_total = dc + dh ⊙ o ⊙ (1 − tanh²(c))          (h = o ⊙ tanh(c): tanh' on the cell path)
        di = dc_total ⊙ g     df = dc_total ⊙ c_prev     dg = dc_total ⊙ i     do = dh ⊙ tanh(c)
        dc_prev = dc_total ⊙ f                            (the cell's own path: only ⊙ f, no squashing)
        da = [di ⊙ i(1 − i), df ⊙ f(1 − f), do ⊙ o(1 − o), dg ⊙ (1 − g²)]
        dh_prev = da Whᵀ,  dWh = h_prevᵀ da
    """
    h_prev, c_prev, i, f, o, g, tc = cache
    dct = dc + dh * o * (1.0 - tc * tc)
    da = np.concatenate([dct * g * i * (1.0 - i), dct * c_prev * f * (1.0 - f), dh * tc * o * (1.0 - o),
                         dct * i * (1.0 - g * g)], axis=1)
    return da, da @ Wh.T, dct * f, h_prev.T @ da


def _gru_step_forward(ax, h_prev, Wh, bh, reset_after=True):
    """The GRU step, gates in the order r, z, n (PyTorch's), with ax = x Wx + bx:

        r = σ(ax_r + h Wh_r + bh_r)    reset gate        z = σ(ax_z + h Wh_z + bh_z)    update gate
        n = tanh(ax_n + r ⊙ (h Wh_n + bh_n))             (reset_after=True: PyTorch, cuDNN)
        n = tanh(ax_n + (r ⊙ h) Wh_n + bh_n)             (reset_after=False: Cho et al. 2014)
        h' = (1 − z) ⊙ n + z ⊙ h

    The two forms of n differ: the reset gate acts after the recurrent product in PyTorch, before
    it in the original paper. They agree where Wh_n is diagonal and bh_n = 0 (r ⊙ (h W) = (r ⊙ h) W).
    """
    H = h_prev.shape[1]
    if reset_after:
        ah = h_prev @ Wh + bh
        rz = sigmoid(ax[:, :2 * H] + ah[:, :2 * H])
        r, z = rz[:, :H], rz[:, H:]
        hn = ah[:, 2 * H:]
        n = np.tanh(ax[:, 2 * H:] + r * hn)
    else:
        rz = sigmoid(ax[:, :2 * H] + h_prev @ Wh[:, :2 * H] + bh[:2 * H])
        r, z = rz[:, :H], rz[:, H:]
        hn = (r * h_prev) @ Wh[:, 2 * H:] + bh[2 * H:]
        n = np.tanh(ax[:, 2 * H:] + hn)
    h = (1.0 - z) * n + z * h_prev
    return h, (h_prev, r, z, n, hn, reset_after)


def _gru_step_backward(dh, cache, Wh):
    """Backward of the GRU step: returns (dax, dh_prev, dWh, dbh).

        dn = dh ⊙ (1 − z)    dz = dh ⊙ (h_prev − n)    dh_prev = dh ⊙ z + …
        dan = dn ⊙ (1 − n²)
        reset_after:  dr = dan ⊙ (h Wh_n + bh_n),  the recurrent part of n gets dan ⊙ r
        paper form:   d(r ⊙ h) = dan Wh_nᵀ,  dr = d(r ⊙ h) ⊙ h,  dh_prev += d(r ⊙ h) ⊙ r
    """
    h_prev, r, z, n, hn, reset_after = cache
    H = h_prev.shape[1]
    dan = dh * (1.0 - z) * (1.0 - n * n)
    daz = dh * (h_prev - n) * z * (1.0 - z)
    dh_prev = dh * z
    if reset_after:
        dar = dan * hn * r * (1.0 - r)
        dah = np.concatenate([dar, daz, dan * r], axis=1)
        dh_prev = dh_prev + dah @ Wh.T
        dWh = h_prev.T @ dah
        dbh = dah.sum(axis=0)
    else:
        drh = dan @ Wh[:, 2 * H:].T
        dar = drh * h_prev * r * (1.0 - r)
        drz = np.concatenate([dar, daz], axis=1)
        dh_prev = dh_prev + drz @ Wh[:, :2 * H].T + drh * r
        dWh = np.concatenate([h_prev.T @ drz, (r * h_prev).T @ dan], axis=1)
        dbh = np.concatenate([drz.sum(axis=0), dan.sum(axis=0)])
    return np.concatenate([dar, daz, dan], axis=1), dh_prev, dWh, dbh


# --- the layers ------------------------------------------------------------------------------------


def _weights(Wx, Wh, b, gates: int, who: str, b_name: str = "b"):
    Wx, Wh, b = (as_float_array(v, n) for v, n in ((Wx, "Wx"), (Wh, "Wh"), (b, b_name)))
    check_ndim(Wx, 2, "Wx", f"(D, {gates}·H)")
    check_ndim(Wh, 2, "Wh", f"(H, {gates}·H)")
    H = Wh.shape[0]
    if H == 0 or Wx.shape[0] == 0 or Wh.shape[1] != gates * H or Wx.shape[1] != gates * H or b.shape != (gates * H,):
        raise ValueError(f"{who} expects Wx (D, {gates}·H), Wh (H, {gates}·H) and {b_name} ({gates}·H,) with D, H >= 1; "
                         f"got Wx{Wx.shape}, Wh{Wh.shape}, {b_name}{b.shape}")
    for v, n in ((Wx, "Wx"), (Wh, "Wh"), (b, b_name)):
        check_finite(v, n)
    return Wx, Wh, b


def _state(h, N, H, name, dtype, x_text=""):
    if h is None:
        return np.zeros((N, H), dtype=dtype)
    h = as_float_array(h, name)
    check_shape(h, (N, H), name, f" (N, H), N from {x_text}" if x_text else " (N, H)")
    return h


class _Recurrent(Layer):
    """The time loop shared by the RNN, LSTM and GRU layers; a subclass gives the step.

    forward(x (N, T, D), h0[, c0]) → hs (N, T, H), the hidden state at every step (the final
    state in ``state``). backward(dh (N, T, H), truncate=None) → (dx, dh0[, dc0]): dh is the
    gradient of the loss with respect to every h_t from outside (the output at t); BPTT adds to it
    the gradient that flows back from step t + 1. Weight gradients are summed over t into
    ``grads``; the total gradient reaching every h_t, ∂L/∂h_t, is kept in ``dh`` (N, T, H).
    """

    GATES = 1
    STATES = ("h0",)
    INPUT_BIAS = "b"  # the bias added to the input projection x Wx

    def __init__(self, Wx, Wh, b):
        super().__init__()
        Wx, Wh, b = _weights(Wx, Wh, b, self.GATES, type(self).__name__, self.INPUT_BIAS)
        self.params = {"Wx": Wx, "Wh": Wh, self.INPUT_BIAS: b}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self._caches = None

    @property
    def hidden_size(self) -> int:
        return self.params["Wh"].shape[0]

    def _forward(self, x, state0, x_name="x", names=None):
        Wx = self.params["Wx"]
        x = as_float_array(x, x_name)
        check_ndim(x, 3, x_name, f"(N, T, {Wx.shape[0]})")
        N, T, D = x.shape
        if D != Wx.shape[0] or N == 0 or T == 0:
            raise ValueError(f"{type(self).__name__} expects {x_name} of shape (N, T, {Wx.shape[0]}) with N, T >= 1, "
                             f"got {x_name}{x.shape}")
        H = self.hidden_size
        state = tuple(_state(s, N, H, name, x.dtype, f"{x_name}{x.shape}") for s, name in zip(state0, names or self.STATES))
        ax = (x.reshape(N * T, D) @ Wx + self.params[self.INPUT_BIAS]).reshape(N, T, -1)  # all time steps at once
        hs = np.empty((N, T, H), dtype=np.result_type(x, Wx, *state))
        self._caches = []
        for t in range(T):  # the loop over time is the lesson
            state, cache = self._step_forward(ax[:, t], state)
            self._caches.append(cache)
            hs[:, t] = state[0]
        self._x, self.state = x, state
        return hs

    def backward(self, dh, truncate=None):
        """(dx, dh0[, dc0]) for the upstream gradient dh (N, T, H); ``truncate = k``: truncated BPTT
        in blocks of k steps."""
        self._need_forward(self._caches)
        N, T, D = self._x.shape
        H = self.hidden_size
        dhs = _named_dout(dh, (N, T, H), "dh")
        if truncate is not None:
            truncate = check_int(truncate, "truncate", minimum=1)
        self._begin_backward()
        dax = np.empty((N, T, self.GATES * H), dtype=np.result_type(dhs, self._x))
        dstate = tuple(np.zeros((N, H), dtype=dax.dtype) for _ in self.STATES)  # from step T: none
        self.dh = np.empty((N, T, H), dtype=dax.dtype)  # ∂L/∂h_t, everything that reaches h_t (kept for study)
        for t in reversed(range(T)):
            dstate = (dhs[:, t] + dstate[0],) + dstate[1:]  # BPTT: the output's gradient + the later steps'
            self.dh[:, t] = dstate[0]
            dax[:, t], dstate = self._step_backward(dstate, self._caches[t])
            if truncate and t % truncate == 0 and t > 0:
                dstate = tuple(np.zeros_like(d) for d in dstate)  # h.detach() at the block boundary
        dax2 = dax.reshape(N * T, -1)
        self.grads["Wx"] = self._x.reshape(N * T, D).T @ dax2
        self._end_backward(dax2)
        return (dax2 @ self.params["Wx"].T).reshape(N, T, D), *dstate

    def _begin_backward(self):
        self.grads["Wh"] = np.zeros_like(self.params["Wh"])

    def _end_backward(self, dax2):
        self.grads[self.INPUT_BIAS] = dax2.sum(axis=0)


def _named_dout(dout, shape, name):
    """An upstream gradient of the given shape, the error naming ``name``."""
    dout = as_float_array(dout, name)
    check_shape(dout, shape, name, " (the shape of the forward output)")
    return dout


class RNN(_Recurrent):
    """Vanilla RNN (tanh): h_t = tanh(x_t Wx + h_{t−1} Wh + b), like ``nn.RNN`` with
    b = bias_ih + bias_hh. forward(x, h0=None) → hs; backward(dh, truncate=None) → (dx, dh0)."""

    def forward(self, x, h0=None):
        return self._forward(x, (h0,))

    def _step_forward(self, ax, state):
        h, cache = _rnn_step_forward(ax, state[0], self.params["Wh"])
        return (h,), cache

    def _step_backward(self, dstate, cache):
        da, dh_prev, dWh = _rnn_step_backward(dstate[0], cache, self.params["Wh"])
        self.grads["Wh"] += dWh
        return da, (dh_prev,)


class LSTM(_Recurrent):
    """LSTM (장단기 메모리) over a sequence, gates in the column order i, f, o, g (see
    :func:`_lstm_step_forward`). forward(x, h0=None, c0=None) → hs (the final cell state is
    ``state[1]``); backward(dh, truncate=None) → (dx, dh0, dc0).

    Why the gates help: the cell is updated additively, c_t = f_t ⊙ c_{t−1} + i_t ⊙ g_t, so the
    gradient along the cell path is multiplied by f_t at each step (dc_{t−1} = dc_t ⊙ f_t), not by a
    weight matrix and a squashing derivative as in the tanh RNN; with f near 1 it survives many steps."""

    GATES = 4
    STATES = ("h0", "c0")

    def forward(self, x, h0=None, c0=None):
        return self._forward(x, (h0, c0))

    def _step_forward(self, ax, state):
        h, c, cache = _lstm_step_forward(ax, state[0], state[1], self.params["Wh"])
        return (h, c), cache

    def _step_backward(self, dstate, cache):
        da, dh_prev, dc_prev, dWh = _lstm_step_backward(dstate[0], dstate[1], cache, self.params["Wh"])
        self.grads["Wh"] += dWh
        return da, (dh_prev, dc_prev)


class GRU(_Recurrent):
    """GRU over a sequence, gates r, z, n (PyTorch's order). It keeps two biases, ``bx`` (PyTorch's
    bias_ih) and ``bh`` (bias_hh): the reset gate multiplies h Wh_n + bh_n, so bh_n cannot be
    merged into bx. ``reset_after=False`` is the original paper's form (see :func:`_gru_step_forward`).
    forward(x, h0=None) → hs; backward(dh, truncate=None) → (dx, dh0)."""

    GATES = 3
    INPUT_BIAS = "bx"

    def __init__(self, Wx, Wh, bx, bh, reset_after: bool = True):
        super().__init__(Wx, Wh, bx)
        bh = as_float_array(bh, "bh")
        check_shape(bh, self.params["bx"].shape, "bh", " (3·H,)")
        check_finite(bh, "bh")
        self.params["bh"] = bh
        self.grads["bh"] = np.zeros_like(bh)
        self.reset_after = check_flag(reset_after, "reset_after")

    def forward(self, x, h0=None):
        return self._forward(x, (h0,))

    def _step_forward(self, ax, state):
        h, cache = _gru_step_forward(ax, state[0], self.params["Wh"], self.params["bh"], self.reset_after)
        return (h,), cache

    def _step_backward(self, dstate, cache):
        dax, dh_prev, dWh, dbh = _gru_step_backward(dstate[0], cache, self.params["Wh"])
        self.grads["Wh"] += dWh
        self.grads["bh"] += dbh
        return dax, (dh_prev,)

    def _begin_backward(self):
        super()._begin_backward()
        self.grads["bh"] = np.zeros_like(self.params["bh"])


class _Cell(Layer):
    """One step as a layer: the sequence layer's step on a single time step (T = 1)."""

    SEQUENCE = None
    STATE_NAMES = ("h_prev",)

    def __init__(self, sequence: _Recurrent):
        super().__init__()
        self._seq = sequence
        self.params, self.grads = self._seq.params, self._seq.grads

    def _forward(self, x, *state):
        x = as_float_array(x, "x")
        check_ndim(x, 2, "x", f"(N, {self.params['Wx'].shape[0]})")
        self._seq._forward(x[:, None, :], state, "x", self.STATE_NAMES)
        self.grads = self._seq.grads
        return self._seq.state if len(self._seq.state) > 1 else self._seq.state[0]

    def _backward(self, dh, dc=None):
        seq = self._seq
        seq._need_forward(seq._caches)
        shape = seq.state[0].shape
        dh = _named_dout(dh, shape, "dh")
        dc = np.zeros_like(dh) if dc is None else _named_dout(dc, shape, "dc")
        seq._begin_backward()
        dax, dstate = seq._step_backward((dh, dc)[:len(seq.STATES)], seq._caches[0])
        x = seq._x[:, 0]
        seq.grads["Wx"] = x.T @ dax
        seq._end_backward(dax)
        self.grads = seq.grads
        return (dax @ seq.params["Wx"].T, *dstate)


class RNNCell(_Cell):
    """One tanh RNN step: forward(x, h_prev=None) → h; backward(dh) → (dx, dh_prev)."""

    SEQUENCE = RNN

    def __init__(self, Wx, Wh, b):
        super().__init__(self.SEQUENCE(Wx, Wh, b))

    def forward(self, x, h_prev=None):
        return self._forward(x, h_prev)

    def backward(self, dh):
        return self._backward(dh)


class LSTMCell(_Cell):
    """One LSTM step (gates i, f, o, g): forward(x, h_prev=None, c_prev=None) → (h, c);
    backward(dh, dc=None) → (dx, dh_prev, dc_prev)."""

    SEQUENCE = LSTM
    STATE_NAMES = ("h_prev", "c_prev")

    def __init__(self, Wx, Wh, b):
        super().__init__(self.SEQUENCE(Wx, Wh, b))

    def forward(self, x, h_prev=None, c_prev=None):
        return self._forward(x, h_prev, c_prev)

    def backward(self, dh, dc=None):
        return self._backward(dh, dc)


class GRUCell(_Cell):
    """One GRU step (gates r, z, n): forward(x, h_prev=None) → h; backward(dh) → (dx, dh_prev)."""

    SEQUENCE = GRU

    def __init__(self, Wx, Wh, bx, bh, reset_after: bool = True):
        super().__init__(self.SEQUENCE(Wx, Wh, bx, bh, reset_after))

    def forward(self, x, h_prev=None):
        return self._forward(x, h_prev)

    def backward(self, dh):
        return self._backward(dh)


# --- clipping ------------------------------------------------------------------------------------


def _arrays(grads, in_place: bool = False) -> list:
    """The gradient arrays of ``grads`` (a dict or a list/tuple of arrays), checked."""
    if isinstance(grads, dict):
        items = list(grads.items())
    elif isinstance(grads, (list, tuple)):
        items = list(enumerate(grads))
    else:
        raise TypeError(f"grads must be a dict or a list of gradient arrays, got {type(grads).__name__}")
    arrays = []
    for key, g in items:
        name = f"grads[{key!r}]"
        if in_place and not (isinstance(g, np.ndarray) and g.dtype.kind == "f"):
            raise TypeError(f"{name} must be a float ndarray (clipping scales it in place), got {type(g).__name__}"
                            + (f" of dtype {g.dtype}" if isinstance(g, np.ndarray) else ""))
        arrays.append(as_float_array(g, name))
    return arrays


def global_norm(grads) -> float:
    """‖g‖ over all gradients (a dict or a list of arrays) as one vector: √(Σ_tensors ‖g_k‖²)."""
    return float(np.sqrt(sum(float(np.linalg.norm(np.ravel(g))) ** 2 for g in _arrays(grads))))


def clip_grad_norm(grads, max_norm: float, eps: float = 1e-6) -> float:
    """Clip by the global norm (기울기 클리핑), in place; returns the norm before clipping.
    ``grads``: a dict or a list of float arrays.

        total = ‖(g_1, …, g_K)‖₂,   coef = max_norm / (total + eps),   g_k ← g_k · min(coef, 1)

    every tensor is scaled by the *same* factor, so the direction of the whole gradient is kept.
    (Clipping each tensor by its own norm changes the direction.) eps = 1e-6 as PyTorch's
    ``clip_grad_norm_``; max_norm = inf never clips a finite gradient (the norm is still returned).

    A gradient that is not finite is scaled as PyTorch scales it (``error_if_nonfinite=False``):
    with a NaN the norm is NaN, so is coef, and every gradient becomes NaN; with an infinity the
    norm is inf, coef = 0, and the finite entries become 0, the infinite ones NaN (inf·0) — every
    entry NaN when max_norm = inf too (inf/inf)."""
    check_real(max_norm, "max_norm")
    if not max_norm > 0:
        raise ValueError(f"max_norm must be a number > 0 (inf: no clipping), got {max_norm}")
    check_real(eps, "eps")
    if not (is_finite(eps) and eps >= 0):
        raise ValueError(f"eps must be a finite number >= 0, got {eps}")
    arrays = _arrays(grads, in_place=True)
    norms = np.array([np.linalg.norm(np.ravel(g)) for g in arrays])
    total = np.linalg.norm(norms)
    with np.errstate(invalid="ignore"):
        coef = np.minimum(max_norm / (total + eps), 1.0)  # NaN stays NaN (Python's min(nan, 1.0) would not)
        for g in arrays:
            g *= np.asarray(coef, dtype=g.dtype)
    return float(total)
