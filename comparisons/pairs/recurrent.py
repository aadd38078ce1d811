"""Recurrent layers (kind ``layer``) and clipping (kind ``function``): one step and a whole
sequence of a tanh RNN, an LSTM (its gate order detected from the forward pass: CS231n writes
i, f, o, g, PyTorch i, f, g, o, the book's second volume f, g, i, o) and a GRU; the embedding;
clipping by the global norm — against nn.RNN/nn.LSTM/nn.GRU (and their cells), nn.Embedding and
nn.utils.clip_grad_norm_.

Class style: ``RNNCell(Wx, Wh, b)`` with forward(x, h_prev) and backward(dh) → (dx, dh_prev);
``LSTM(Wx, Wh, b)`` with forward(xs, h0, c0) → hs and backward(dhs) → (dxs, dh0, dc0); gradients
in ``grads`` (a dict, or a list in the order Wx, Wh, b as the book keeps them). CS231n's
functional pairs (rnn_step_forward/rnn_step_backward, …, word_embedding_forward/backward) are
wrapped into the same interface by :mod:`comparisons.pairs.functional`."""

from __future__ import annotations

import numpy as np

import scratch.recurrent as SR
import torch_ref.recurrent as trec

from ._base import Hparam, Mistake, Pair
from ._drivers import drive_clip_grad_norm, drive_embedding, drive_recurrent_sequence, drive_recurrent_step

GATE_ORDER = Hparam("gate_order", "auto", None, aliases=("gates",))
RESET_AFTER = Hparam("reset_after", 1, None, choices=(0, 1))


# --- catalogued mistakes (each a scratch class with one thing wrong) -------------------------------


def _no_carry(cls):
    """``cls`` whose BPTT takes only the output's gradient at each step: dh from the later steps is
    not added (an LSTM's dc still flows)."""

    class NoCarry(cls):
        def backward(self, dh, truncate=None):
            N, T, D = self._x.shape
            H = self.hidden_size
            dhs = np.asarray(dh, dtype=self._x.dtype)
            self._begin_backward()
            dax = np.empty((N, T, self.GATES * H), dtype=dhs.dtype)
            dstate = tuple(np.zeros((N, H), dtype=dhs.dtype) for _ in self.STATES)
            for t in reversed(range(T)):
                dstate = (dhs[:, t],) + dstate[1:]  # the mistake: + dstate[0] is missing
                dax[:, t], dstate = self._step_backward(dstate, self._caches[t])
            dax2 = dax.reshape(N * T, -1)
            self.grads["Wx"] = self._x.reshape(N * T, D).T @ dax2
            self._end_backward(dax2)
            return (dax2 @ self.params["Wx"].T).reshape(N, T, D), *dstate

    NoCarry.__name__ = NoCarry.__qualname__ = f"{cls.__name__}NoCarry"
    return NoCarry


RNNNoCarry, LSTMNoCarry = _no_carry(SR.RNN), _no_carry(SR.LSTM)


def _lstm_with(step_backward, name):
    """An LSTM sequence and cell whose step backward is ``step_backward``."""

    class Sequence(SR.LSTM):
        def _step_backward(self, dstate, cache):
            da, dh_prev, dc_prev, dWh = step_backward(dstate[0], dstate[1], cache, self.params["Wh"])
            self.grads["Wh"] += dWh
            return da, (dh_prev, dc_prev)

    class Cell(SR.LSTMCell):
        SEQUENCE = Sequence

    Sequence.__name__ = Sequence.__qualname__ = f"LSTM{name}"
    Cell.__name__ = Cell.__qualname__ = f"LSTMCell{name}"
    return Sequence, Cell


def _swapped_gates_backward(dh, dc, cache, Wh):
    """Forward reads the columns as (i, f, o, g); this backward stacks da as (i, f, g, o)."""
    da, _, dc_prev, _ = SR._lstm_step_backward(dh, dc, cache, Wh)
    H = dh.shape[1]
    da = np.concatenate([da[:, :2 * H], da[:, 3 * H:], da[:, 2 * H:3 * H]], axis=1)
    return da, da @ Wh.T, dc_prev, cache[0].T @ da


def _no_tanh_grad_backward(dh, dc, cache, Wh):
    """dc_total = dc + dh ⊙ o, without tanh'(c) = 1 − tanh²(c)."""
    h_prev, c_prev, i, f, o, g, tc = cache
    dct = dc + dh * o  # the mistake: ⊙ (1 − tanh²(c)) is missing
    da = np.concatenate([dct * g * i * (1.0 - i), dct * c_prev * f * (1.0 - f), dh * tc * o * (1.0 - o),
                         dct * i * (1.0 - g * g)], axis=1)
    return da, da @ Wh.T, dct * f, h_prev.T @ da


LSTMSwappedGates, LSTMCellSwappedGates = _lstm_with(_swapped_gates_backward, "SwappedGates")
LSTMNoTanhGrad, LSTMCellNoTanhGrad = _lstm_with(_no_tanh_grad_backward, "NoTanhGrad")


class RNNCellNoTanhGrad(SR.RNNCell):
    """backward passes dh straight to the affine part: da = dh, without tanh' = 1 − h²."""

    class SEQUENCE(SR.RNN):
        def _step_backward(self, dstate, cache):
            h_prev, _ = cache
            da = dstate[0]
            self.grads["Wh"] += h_prev.T @ da
            return da, (da @ self.params["Wh"].T,)


class GRUCellPaper(SR.GRUCell):
    """The GRU step of Cho et al. (2014): the reset gate before the recurrent product."""

    def __init__(self, Wx, Wh, bx, bh):
        super().__init__(Wx, Wh, bx, bh, reset_after=False)


class EmbeddingAssigns(SR.Embedding):
    """dW[idx] = dout: a row used several times keeps only one of its gradients."""

    def backward(self, dout):
        dW = np.zeros_like(self.params["W"])
        dW[self._idx] = dout
        self.grads["W"] = dW


def clip_per_tensor(grads, max_norm):
    """Each gradient clipped by its own norm: the direction of the whole gradient changes."""
    for g in grads:
        norm = np.linalg.norm(g)
        if norm > max_norm:
            g *= max_norm / (norm + 1e-6)


# --- declarations ---------------------------------------------------------------------------------

_NO_CARRY = "dh is not accumulated from later steps: in BPTT dh_t = dout_t + (the gradient step t + 1 sends back through h_t)"
_SWAPPED = ("the gate blocks are in a different order in backward than in forward: stack da in the order forward "
            "sliced a (CS231n: i, f, o, g)")
_NO_TANH = ("tanh' is missing on the cell path: h = o ⊙ tanh(c), so the cell gets dc + dh ⊙ o ⊙ (1 − tanh²(c))")
_STEP_IFACE = "forward(x, h_prev{}) and backward(dh{}) -> (dx, dh_prev{}); weight gradients in grads (dict or list) or dWx, dWh, db"

PAIRS = [
    Pair("rnn-step", "layer", "recurrent.RNNCell", trec.recurrent,
         "a class RNNCell(Wx (D, H), Wh (H, H), b (H,)) with " + _STEP_IFACE.format("", "", ""),
         drive_recurrent_step, (), None,
         (Mistake("tanh' is missing: h = tanh(a), so da = dh ⊙ (1 − h²)", RNNCellNoTanhGrad),),
         ("RNNCell", "RNNStep"), {"kind": "rnn"}),
    Pair("rnn", "layer", "recurrent.RNN", trec.run_backward,
         "a class RNN(Wx (D, H), Wh (H, H), b (H,)) with forward(xs (N, T, D), h0) -> hs (N, T, H) and "
         "backward(dhs) -> (dxs, dh0); weight gradients in grads or dWx, dWh, db",
         drive_recurrent_sequence, (), None, (Mistake(_NO_CARRY, RNNNoCarry),),
         ("RNN", "TimeRNN", "VanillaRNN"), {"kind": "rnn"}),
    Pair("lstm-step", "layer", "recurrent.LSTMCell", trec.cell_backward,
         "a class LSTMCell(Wx (D, 4H), Wh (H, 4H), b (4H,)) with " + _STEP_IFACE.format(", c_prev", ", dc", ", dc_prev")
         + "; the gate order of the columns is detected",
         drive_recurrent_step, (GATE_ORDER,), None,
         (Mistake(_SWAPPED, LSTMCellSwappedGates), Mistake(_NO_TANH, LSTMCellNoTanhGrad)),
         ("LSTMCell", "LSTMStep"), {"kind": "lstm"}),
    Pair("lstm", "layer", "recurrent.LSTM", trec.run_backward,
         "a class LSTM(Wx (D, 4H), Wh (H, 4H), b (4H,)) with forward(xs (N, T, D), h0[, c0]) -> hs and "
         "backward(dhs) -> (dxs, dh0[, dc0]); the gate order of the columns is detected",
         drive_recurrent_sequence, (GATE_ORDER,), None,
         (Mistake(_NO_CARRY, LSTMNoCarry), Mistake(_SWAPPED, LSTMSwappedGates), Mistake(_NO_TANH, LSTMNoTanhGrad)),
         ("LSTM", "TimeLSTM"), {"kind": "lstm"}),
    Pair("gru-step", "layer", "recurrent.GRUCell", trec.gru_cell_reset_before,
         "a class GRUCell(Wx (D, 3H), Wh (H, 3H), bx (3H,), bh (3H,)) with gates r, z, n: forward(x, h_prev) and "
         "backward(dh) -> (dx, dh_prev); weight gradients in grads or dWx, dWh, dbx, dbh",
         drive_recurrent_step, (RESET_AFTER,), None,
         (Mistake("the reset gate is applied before the recurrent product, (r ⊙ h) W_hn (Cho et al. 2014); nn.GRU "
                  "applies it after: r ⊙ (h W_hn + b_hn)", GRUCellPaper,
                  flag={"reset_after": 0}),),
         ("GRUCell", "GRUStep"), {"kind": "gru"}),
    Pair("embedding", "layer", "recurrent.Embedding", trec.embedding,
         "a class Embedding(W (V, D)) with forward(idx) -> W[idx] and backward(dout); the gradient of W in "
         "grads['W'] (or grads[0], dW)",
         drive_embedding, (), None,
         (Mistake("the backward assigns dW[idx] = dout: a row used several times must get the sum of its "
                  "gradients, np.add.at(dW, idx, dout)", EmbeddingAssigns),),
         ("Embedding", "TimeEmbedding", "WordEmbedding")),
    Pair("clip-grad-norm", "function", "recurrent.clip_grad_norm", trec.clip_grad_norm,
         "a function clip(grads, max_norm) scaling a list of gradient arrays in place by min(1, max_norm/‖g‖), "
         "‖g‖ their global norm (optionally returning it)",
         drive_clip_grad_norm, (), None,
         (Mistake("each tensor is clipped by its own norm: clip_grad_norm_ scales all of them by one factor, "
                  "max_norm/‖g‖ with ‖g‖ the norm of all gradients together", clip_per_tensor),),
         ("clip_grad_norm", "clip_grads", "clip_gradients", "clip_grad_norm_")),
]
