"""Word-level language models (kind ``network``) as the book's second volume writes them
(``SimpleRnnlm``, ``Rnnlm``: TimeEmbedding → TimeRNN or TimeLSTM → TimeAffine → TimeSoftmaxWithLoss),
against :class:`torch_ref.recurrent.WordLM` (nn.Embedding → nn.RNN/nn.LSTM → nn.Linear →
nn.CrossEntropyLoss) and autograd.

The book's calling style: ``Rnnlm(vocab_size, wordvec_size, hidden_size)``, ``params``/``grads``
lists in layer order (embedding W; Wx, Wh, b; affine W, b), ``forward(xs, ts) -> loss``, then
``backward()`` fills ``grads``; its recurrent layer is stateful (the hidden state carries from one
batch to the next, ``reset_state()`` forgets it). Judged on consecutive batches: the loss and every
gradient, each batch from PyTorch's parameters (an SGD step on them between batches), the hidden
state carried on both sides as truncated backpropagation through time carries it."""

from __future__ import annotations

import numpy as np
import torch

import torch_ref.recurrent as trec

from .. import bridge
from ..checks import close
from ._base import Comparison, Hparam, Pair, VerifyUsageError, as_array, call, construct
from .recurrent import GATE_NAMES, _gate_orders

LM_SIZES = (7, 4, 5)  # V, D, H: all different, so that a transposed weight cannot pass
LM_DATA = (3, 5, 4)  # N, T, batches
KEYS = ("embed W", "Wx", "Wh", "b", "affine W", "affine b")
LR = 0.1


class _Model:
    """The network under test in either calling style: the book's second volume (``params``/``grads``
    lists, ``forward(xs, ts)``, ``backward()``, ``reset_state()``) or a dict of E, Wx, Wh, b, W, bo with
    ``loss(x, t)`` and ``backward()`` (or ``gradient(x, t)``), as scratch's ``CharLM``. A network
    without ``reset_state`` is stateless: each batch starts from h = 0 on both sides."""

    def __init__(self, net):
        self.net = net
        params = getattr(net, "params", None)
        if isinstance(params, (list, tuple)) and len(params) == 6:
            self.keys, self.arrays = None, list(params)
        elif isinstance(params, dict) and len(params) == 6:
            self.keys = [k for k in DICT_KEYS if k in params] if set(DICT_KEYS) <= set(params) else list(params)
            self.arrays = [params[k] for k in self.keys]
        else:
            raise VerifyUsageError("network rnnlm expects six parameters in layer order (embedding W; Wx, Wh, b; affine "
                                   "W, b): the book's params list, or a dict E, Wx, Wh, b, W, bo")
        self.stateful = callable(getattr(net, "reset_state", None))

    def reset(self):
        if self.stateful:
            call(self.net.reset_state, "reset_state()")

    def load(self, values):
        for a, v in zip(self.arrays, values):
            a[...] = v

    def step(self, xs, ts):
        """The loss and the gradients (copies, in layer order) on one batch."""
        net, what = self.net, f"(xs{xs.shape}, ts{ts.shape})"
        if self.keys is None:
            loss = call(net.forward, f"forward{what}", xs.copy(), ts.copy())
            call(net.backward, "backward()")
            grads = getattr(net, "grads", None)
        elif callable(getattr(net, "gradient", None)):
            loss = call(net.loss, f"loss{what}", xs.copy(), ts.copy())
            grads = call(net.gradient, f"gradient{what}", xs.copy(), ts.copy())
        else:
            loss = call(net.loss, f"loss{what}", xs.copy(), ts.copy())
            grads = call(net.backward, "backward()")
        if isinstance(grads, dict) and self.keys is not None:
            grads = [grads.get(k) for k in self.keys]
        if not isinstance(grads, (list, tuple)) or len(grads) != 6 or any(g is None for g in grads):
            raise VerifyUsageError("after backward, the gradients must be one per parameter: the list grads beside "
                                   "params, or a dict with the keys of params")
        return float(as_array(loss, "the loss")), [np.array(as_array(g, f"the gradient {k}")) for k, g in zip(KEYS, grads)]


DICT_KEYS = ("E", "Wx", "Wh", "b", "W", "bo")


def _as_torch(values, gates):
    return dict(zip(DICT_KEYS, values))


def _torch_step(model, xs, ts, state, ctx):
    model.zero_grad()
    loss, state = model.loss(ctx.labels(xs), ctx.labels(ts), state)
    loss.backward()
    grads = bridge.sequence_model_arrays(model, grad=True, gates=model.gates)
    state = tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()
    return loss.detach(), [grads[k] for k in ("E", "Wx", "Wh", "b", "W", "bo")], state


def drive_rnnlm(ctx, pair, cls, hparams, run):
    """Consecutive batches of (xs, ts) (N, T) word ids: the loss and the six gradients of each, the
    user's network loaded with PyTorch's parameters before each batch and both hidden states carried
    on (reset before the first). The recurrent layer's kind and (an LSTM's) gate order are read from
    the network: its Wx's width and the order that reproduces its first loss."""
    V, D, H = LM_SIZES
    N, T, n_batches = LM_DATA
    rng = ctx.rng
    start = {k: ctx.array(rng.normal(0, 0.5, shape)) for k, shape in
             zip(DICT_KEYS, ((V, D), (D, 4 * H), (H, 4 * H), (4 * H,), (H, V), (V,)))}  # for a net built from params
    model_ = _Model(construct(cls, pair, hparams, {"vocab_size": V, "wordvec_size": D, "hidden_size": H,
                                                   "embed_size": D, "params": start}, run))
    arrays = model_.arrays
    widths = {1: "rnn", 4: "lstm"}
    kind = widths.get(np.shape(arrays[1])[1] // H if np.ndim(arrays[1]) == 2 else 0)
    if kind is None or [np.shape(a) for a in arrays] != [(V, D), (D, (4 if kind == "lstm" else 1) * H),
                                                          (H, (4 if kind == "lstm" else 1) * H),
                                                          ((4 if kind == "lstm" else 1) * H,), (H, V), (V,)]:
        raise VerifyUsageError(f"network rnnlm: built with vocab_size={V}, wordvec_size={D}, hidden_size={H}, its params "
                               f"have the shapes {[np.shape(a) for a in arrays]}")
    G = 4 if kind == "lstm" else 1
    values = [ctx.array(rng.normal(0, s, shape)) for s, shape in
              ((0.5, (V, D)), (1 / np.sqrt(D), (D, G * H)), (1 / np.sqrt(H), (H, G * H)), (0.1, (G * H,)),
               (1 / np.sqrt(H), (H, V)), (0.1, (V,)))]
    batches = [(rng.integers(0, V, (N, T)), rng.integers(0, V, (N, T))) for _ in range(n_batches)]

    model_.load(values)
    model_.reset()
    loss0, _ = model_.step(*batches[0])
    gates = None
    if kind == "lstm":
        gates = _lm_gates(ctx, values, batches[0], loss0, run)
    model = trec.WordLM(V, D, H, kind).to(dtype=ctx.torch_dtype)
    model.gates = gates
    bridge.load_sequence_model(model, _as_torch(values, gates), gates)
    out, state = [], None
    model_.reset()
    for k, (xs, ts) in enumerate(batches):
        current = bridge.sequence_model_arrays(model, gates=gates)
        model_.load([current[key] for key in DICT_KEYS])
        loss, grads = model_.step(xs, ts)
        loss_t, grads_t, state = _torch_step(model, xs, ts, state if model_.stateful else None, ctx)
        label = f"batch {k + 1}" + (" (the hidden state carried from the batch before)" if k and model_.stateful
                                    else " (from h = 0)")
        out.append(Comparison(f"loss, {label}", np.array(loss), loss_t))
        out += [Comparison(f"gradient {name}, {label}", g, e) for name, g, e in zip(KEYS, grads, grads_t)]
        with torch.no_grad():
            for p in model.parameters():
                if p.grad is not None:
                    p -= LR * p.grad
    run.notes.append(f"{kind.upper()} language model" + (f", gate order {', '.join(gates)}"
                                                         f"{' (' + GATE_NAMES[gates] + ')' if gates in GATE_NAMES else ''}"
                                                         if gates else "")
                     + f"; {n_batches} consecutive batches, each from PyTorch's parameters (an SGD step of lr {LR} "
                     "between them), " + ("the hidden state carried on (stateful)" if model_.stateful else
                                          "each from h = 0 (no reset_state: stateless)"))
    return out


def _lm_gates(ctx, values, batch, loss, run):
    """The LSTM gate order whose PyTorch model gives the user's first loss."""
    V, D, H = LM_SIZES
    xs, ts = batch
    for order in _gate_orders():
        model = trec.WordLM(V, D, H, "lstm").to(dtype=ctx.torch_dtype)
        bridge.load_sequence_model(model, _as_torch(values, order), order)
        with torch.no_grad():
            value, _ = model.loss(ctx.labels(xs), ctx.labels(ts))
        if np.all(close(np.array(loss), ctx.numpy(value), *ctx.tolerance("exact"))):
            return order
    run.notes.append("no gate order reproduces the first loss: compared in PyTorch's order i, f, g, o")
    return "ifgo"


def _word_lm(vocab, embed, hidden, kind="rnn"):
    """``torch_ref.recurrent.WordLM``: embedding → RNN/LSTM → linear, cross-entropy over all positions."""
    return trec.WordLM(vocab, embed, hidden, kind)


_word_lm.torch_ref = trec.WordLM

PAIRS = [
    Pair("rnnlm", "network", "sequence_models.CharLM", _word_lm,
         "the book's language model: Rnnlm(vocab_size, wordvec_size, hidden_size) with params and grads lists in layer "
         "order (embedding W; Wx, Wh, b of a TimeRNN or TimeLSTM; affine W, b), forward(xs, ts) -> the mean loss, "
         "backward(), reset_state(); or a model built from params E, Wx, Wh, b, W, bo with loss(x, t) and backward()",
         drive_rnnlm, (Hparam("lr", LR, None, bounds="[0, inf)"),), None, (), ("SimpleRnnlm", "Rnnlm", "RNNLM", "RnnLM", "LSTMLM")),
]
