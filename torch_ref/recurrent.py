"""Recurrent networks as a PyTorch user writes them: ``nn.RNN``, ``nn.LSTM``, ``nn.GRU`` (and their
one-step ``nn.RNNCell``/``nn.LSTMCell``/``nn.GRUCell``), ``nn.Embedding``,
``nn.utils.clip_grad_norm_``, and a character-level language model (embedding → LSTM → linear).

PyTorch's layout: ``weight_ih_l0`` (G·H, D) and ``weight_hh_l0`` (G·H, H), the G gates stacked
in the rows, and two biases ``bias_ih_l0`` and ``bias_hh_l0`` (G·H,):

    nn.RNN:   h' = tanh(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh)
    nn.LSTM:  gates in the order i, f, g, o:  (i, f, g, o) = (σ, σ, tanh, σ)(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh)
              c' = f ⊙ c + i ⊙ g,  h' = o ⊙ tanh(c')
    nn.GRU:   gates r, z, n:  r = σ(x W_irᵀ + b_ir + h W_hrᵀ + b_hr),  z likewise,
              n = tanh(x W_inᵀ + b_in + r ⊙ (h W_hnᵀ + b_hn)),  h' = (1 − z) ⊙ n + z ⊙ h

Sequences are batch first, (N, T, D), as the NumPy side keeps them.
"""

from __future__ import annotations

import torch
from torch import nn

KINDS = {"rnn": (nn.RNN, nn.RNNCell), "lstm": (nn.LSTM, nn.LSTMCell), "gru": (nn.GRU, nn.GRUCell)}


def recurrent(kind: str, weight_ih: torch.Tensor, weight_hh: torch.Tensor, bias_ih: torch.Tensor,
              bias_hh: torch.Tensor, cell: bool = False) -> nn.Module:
    """``nn.RNN`` (tanh), ``nn.LSTM`` or ``nn.GRU`` with one layer, batch first (or, with ``cell``,
    its one-step ``nn.RNNCell``/``nn.LSTMCell``/``nn.GRUCell``), holding the given parameters."""
    seq_cls, cell_cls = KINDS[kind]
    D, H = weight_ih.shape[1], weight_hh.shape[1]
    module = cell_cls(D, H) if cell else seq_cls(D, H, batch_first=True)
    module = module.to(dtype=weight_ih.dtype, device=weight_ih.device)
    suffix = "" if cell else "_l0"
    with torch.no_grad():
        for name, value in (("weight_ih", weight_ih), ("weight_hh", weight_hh), ("bias_ih", bias_ih),
                            ("bias_hh", bias_hh)):
            getattr(module, name + suffix).copy_(value)
    return module


def bidirectional_lstm(forward: dict, backward: dict) -> nn.LSTM:
    """``nn.LSTM(bidirectional=True)``, one layer, batch first, holding two sets of parameters
    (``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh`` as tensors): ``forward``'s reads the
    sequence from t = 0, ``backward``'s (PyTorch's ``*_reverse``) from t = T − 1; the output at t is
    the two hidden states side by side, (N, T, 2H)."""
    D, H = forward["weight_ih"].shape[1], forward["weight_hh"].shape[1]
    module = nn.LSTM(D, H, batch_first=True, bidirectional=True).to(dtype=forward["weight_ih"].dtype,
                                                                    device=forward["weight_ih"].device)
    with torch.no_grad():
        for suffix, values in (("_l0", forward), ("_l0_reverse", backward)):
            for name, value in values.items():
                getattr(module, name + suffix).copy_(value)
    return module


def run_backward(module: nn.Module, x: torch.Tensor, state: tuple, dout: torch.Tensor, truncate: int | None = None):
    """Run ``module`` on the sequence x (N, T, D) from ``state`` ((h0,) or (h0, c0), each (N, H)),
    backpropagate ``dout`` (N, T, H) into the outputs: (outputs, final state, x.grad, state grads).

    With ``truncate = k`` the sequence runs in blocks of k steps, the hidden state ``detach()``ed
    between blocks: truncated backpropagation through time, as a PyTorch training loop writes it."""
    x = x.detach().clone().requires_grad_(True)
    state = tuple(s.detach().clone().requires_grad_(True) for s in state)
    lstm = isinstance(module, nn.LSTM)
    outputs, carried = [], state
    step = truncate or x.shape[1]
    for start in range(0, x.shape[1], step):
        if start > 0:
            carried = tuple(s.detach() for s in carried)
        out, final = module(x[:, start:start + step], tuple(s[None] for s in carried) if lstm else carried[0][None])
        final = tuple(s[0] for s in final) if lstm else (final[0],)
        carried = final
        outputs.append(out)
    out = torch.cat(outputs, dim=1)
    out.backward(dout)
    return out.detach(), tuple(s.detach() for s in carried), x.grad, tuple(s.grad for s in state)


def cell_backward(module: nn.Module, x: torch.Tensor, state: tuple, douts: tuple):
    """One step of a cell: (outputs, x.grad, state grads), backpropagating ``douts`` ((dh,) or (dh, dc))."""
    x = x.detach().clone().requires_grad_(True)
    state = tuple(s.detach().clone().requires_grad_(True) for s in state)
    out = module(x, state if len(state) == 2 else state[0])
    out = out if isinstance(out, tuple) else (out,)
    torch.autograd.backward(out, douts)
    return tuple(o.detach() for o in out), x.grad, tuple(s.grad for s in state)


def embedding(weight: torch.Tensor) -> nn.Embedding:
    """``nn.Embedding(V, D)`` holding ``weight`` (V, D): out = weight[idx]; autograd accumulates
    the gradient of a repeated index (a scatter-add into ``weight.grad``)."""
    module = nn.Embedding(*weight.shape).to(dtype=weight.dtype, device=weight.device)
    with torch.no_grad():
        module.weight.copy_(weight)
    return module


def clip_grad_norm(parameters, max_norm: float) -> torch.Tensor:
    """``nn.utils.clip_grad_norm_``: scales every ``.grad`` in place by min(1, max_norm/(‖g‖ + 1e-6)),
    ‖g‖ the norm over all of them together; returns ‖g‖ before clipping."""
    return nn.utils.clip_grad_norm_(parameters, max_norm)


def one_bias(module: nn.RNNBase) -> nn.RNNBase:
    """Freeze ``bias_hh_l0`` at 0, leaving one trainable bias (bias_ih_l0) as the textbook's b.

    Only the sum b_ih + b_hh enters an RNN or LSTM, but both are parameters: an optimizer moves
    each by its own step, so SGD moves their sum by −2·lr·g, twice the textbook's step on one b."""
    with torch.no_grad():
        module.bias_hh_l0.zero_()
    module.bias_hh_l0.requires_grad_(False)
    return module


class CharLM(nn.Module):
    """A character-level language model: embedding → one-layer LSTM → linear scores over the
    vocabulary; trained with ``nn.CrossEntropyLoss`` on the next character at every position.
    The LSTM keeps one trainable bias (:func:`one_bias`), as the NumPy side."""

    def __init__(self, vocab: int, embed: int, hidden: int):
        super().__init__()
        self.embed = nn.Embedding(vocab, embed)
        self.rnn = one_bias(nn.LSTM(embed, hidden, batch_first=True))
        self.out = nn.Linear(hidden, vocab)

    def forward(self, idx: torch.Tensor, state=None):
        """Scores (N, T, V) for the next character after each of idx (N, T), and the final (h, c)."""
        h, state = self.rnn(self.embed(idx), state)
        return self.out(h), state

    def loss(self, idx: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """The mean cross-entropy over all N·T positions."""
        scores, _ = self(idx)
        return nn.functional.cross_entropy(scores.reshape(-1, scores.shape[-1]), targets.reshape(-1))


class WordLM(nn.Module):
    """A word-level language model as the book's second volume builds it (``SimpleRnnlm``, ``Rnnlm``):
    embedding → one-layer RNN (tanh) or LSTM → linear scores over the vocabulary at every position,
    trained with ``nn.CrossEntropyLoss`` (the mean over all N·T positions). One trainable bias in the
    recurrent layer (:func:`one_bias`), as the book's b. ``forward(idx, state)`` carries the hidden
    state from one batch to the next when given the last one (truncated backpropagation through time,
    as the book's ``stateful=True`` layers)."""

    def __init__(self, vocab: int, embed: int, hidden: int, kind: str = "rnn"):
        super().__init__()
        self.embed = nn.Embedding(vocab, embed)
        self.rnn = one_bias(KINDS[kind][0](embed, hidden, batch_first=True))
        self.out = nn.Linear(hidden, vocab)

    def forward(self, idx: torch.Tensor, state=None):
        """Scores (N, T, V) after each of idx (N, T), and the final state (detach it to carry it on)."""
        h, state = self.rnn(self.embed(idx), state)
        return self.out(h), state

    def loss(self, idx: torch.Tensor, targets: torch.Tensor, state=None):
        """(the mean cross-entropy over all N·T positions, the final state)."""
        scores, state = self(idx, state)
        return nn.functional.cross_entropy(scores.reshape(-1, scores.shape[-1]), targets.reshape(-1)), state


class TiedLSTMLM(nn.Module):
    """The book's ``BetterRnnlm`` (second volume, ch. 6): embedding → dropout → LSTM → dropout → LSTM →
    dropout → linear, the linear layer's weight *being* the embedding's (weight tying: Press & Wolf
    2017, Inan et al. 2017), so the embedding width equals the hidden size and the tied weight's
    gradient is the sum of both uses'. ``nn.CrossEntropyLoss`` over all N·T positions; one trainable
    bias per LSTM (:func:`one_bias`). ``forward(idx, state)`` carries both LSTMs' states on."""

    def __init__(self, vocab: int, hidden: int, dropout: float = 0.5):
        super().__init__()
        self.embed = nn.Embedding(vocab, hidden)
        self.rnn1 = one_bias(nn.LSTM(hidden, hidden, batch_first=True))
        self.rnn2 = one_bias(nn.LSTM(hidden, hidden, batch_first=True))
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(hidden, vocab)
        self.out.weight = self.embed.weight  # tied: one parameter, two uses

    def forward(self, idx: torch.Tensor, state=None):
        """Scores (N, T, V) after each of idx (N, T), and the two LSTMs' final states."""
        first, second = state if state is not None else (None, None)
        h, first = self.rnn1(self.drop(self.embed(idx)), first)
        h, second = self.rnn2(self.drop(h), second)
        return self.out(self.drop(h)), (first, second)

    def loss(self, idx: torch.Tensor, targets: torch.Tensor, state=None):
        """(the mean cross-entropy over all N·T positions, the final states)."""
        scores, state = self(idx, state)
        return nn.functional.cross_entropy(scores.reshape(-1, scores.shape[-1]), targets.reshape(-1)), state


class SequenceClassifier(nn.Module):
    """Many-to-one: ``nn.RNN`` (tanh) over the sequence, ``nn.Linear`` on its last hidden state,
    ``nn.CrossEntropyLoss``. One trainable bias in the RNN (:func:`one_bias`)."""

    def __init__(self, inputs: int, hidden: int, classes: int):
        super().__init__()
        self.rnn = one_bias(nn.RNN(inputs, hidden, batch_first=True))
        self.out = nn.Linear(hidden, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, _ = self.rnn(x)
        return self.out(h[:, -1])

    def loss(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return nn.functional.cross_entropy(self(x), t)


def hidden_gradients(cell: nn.Module, x: torch.Tensor, state: tuple, d_last: torch.Tensor) -> torch.Tensor:
    """∂L/∂h_t for every t, L = Σ d_last ⊙ h_{T−1}: the sequence unrolled by hand with the one-step
    cell, every h_t kept with ``retain_grad()``. Returns (N, T, H)."""
    hs, state = [], tuple(s.clone() for s in state)
    for t in range(x.shape[1]):
        out = cell(x[:, t], state if len(state) == 2 else state[0])
        state = out if isinstance(out, tuple) else (out,)
        state[0].retain_grad()
        hs.append(state[0])
    hs[-1].backward(d_last)
    return torch.stack([h.grad for h in hs], dim=1)


class GRUCellResetBefore(nn.Module):
    """:func:`gru_cell_reset_before` as a cell module with ``nn.GRUCell``'s parameter names
    (PyTorch has no such module): ``cell(x, h)`` is one step, the parameters copies of the tensors given."""

    def __init__(self, weight_ih, weight_hh, bias_ih, bias_hh):
        super().__init__()
        for name, t in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"), (weight_ih, weight_hh, bias_ih, bias_hh)):
            setattr(self, name, nn.Parameter(t.detach().clone()))

    def forward(self, x, h):
        return gru_cell_reset_before(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)


class GRUResetBefore(GRUCellResetBefore):
    """:func:`gru_cell_reset_before` unrolled over a sequence x (N, T, D), batch first, called as
    ``nn.GRU`` is: ``module(x, h0[None]) -> (outputs (N, T, H), h_T[None])``. PyTorch has no such
    module; autograd differentiates the loop (backpropagation through time)."""

    def forward(self, x, h0):
        h, outputs = h0[0], []
        for t in range(x.shape[1]):
            h = gru_cell_reset_before(x[:, t], h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
            outputs.append(h)
        return torch.stack(outputs, dim=1), h[None]


def gru_cell_reset_before(x, h, weight_ih, weight_hh, bias_ih, bias_hh):
    """The GRU step as Cho et al. (2014) write it, the reset gate applied to h *before* the
    recurrent product: n = tanh(x W_inᵀ + b_in + (r ⊙ h) W_hnᵀ + b_hn). PyTorch has no such
    module (``nn.GRU`` applies r after the product), so this is hand math, differentiated by autograd."""
    H = h.shape[1]
    ax = x @ weight_ih.T + bias_ih
    rz = torch.sigmoid(ax[:, :2 * H] + h @ weight_hh[:2 * H].T + bias_hh[:2 * H])
    r, z = rz[:, :H], rz[:, H:]
    n = torch.tanh(ax[:, 2 * H:] + (r * h) @ weight_hh[2 * H:].T + bias_hh[2 * H:])
    return (1 - z) * n + z * h


def clipped_backward(model: CharLM, optimizer: torch.optim.Optimizer, idx, targets, max_norm: float):
    """The first half of :func:`train_step`: zero_grad, loss, backward, clip_grad_norm_ — the clipped
    gradients are in ``p.grad``. Returns (loss, the norm before clipping)."""
    optimizer.zero_grad()
    loss = model.loss(idx, targets)
    loss.backward()
    norm = nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    return loss.item(), norm.item()


def train_step(model: CharLM, optimizer: torch.optim.Optimizer, idx, targets, max_norm: float):
    """One step as a PyTorch training loop writes it: zero_grad, loss, backward, clip_grad_norm_,
    step. Returns (loss, the norm before clipping)."""
    loss, norm = clipped_backward(model, optimizer, idx, targets, max_norm)
    optimizer.step()
    return loss, norm


@torch.no_grad()
def next_char_probabilities(model: CharLM, text_idx: torch.Tensor) -> torch.Tensor:
    """softmax of the scores after every prefix of ``text_idx`` (T,): (T, V)."""
    scores, _ = model(text_idx[None])
    return torch.softmax(scores[0], dim=-1)
