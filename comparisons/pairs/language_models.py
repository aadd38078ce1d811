"""Word-level language models (kind ``network``) as the book's second volume writes them
(``SimpleRnnlm``, ``Rnnlm``: TimeEmbedding → TimeRNN or TimeLSTM → TimeAffine → TimeSoftmaxWithLoss;
``BetterRnnlm``: two LSTMs, dropout, the affine weight tied to the embedding), against
:class:`torch_ref.recurrent.WordLM` and :class:`torch_ref.recurrent.TiedLSTMLM` (nn.Embedding →
nn.RNN/nn.LSTM → nn.Linear → nn.CrossEntropyLoss) and autograd.

The book's calling style: ``Rnnlm(vocab_size, wordvec_size, hidden_size)``, ``params``/``grads``
lists in layer order (embedding W; Wx, Wh, b; affine W, b), ``forward(xs, ts) -> loss``, then
``backward()`` fills ``grads``; its recurrent layer is stateful (the hidden state carries from one
batch to the next, ``reset_state()`` forgets it). Judged on consecutive batches: the loss and every
gradient, each batch from PyTorch's parameters (an SGD step on them between batches), the hidden
state carried on both sides as truncated backpropagation through time carries it."""

from __future__ import annotations

import numpy as np
import torch

import scratch.sequence_models as SM
import torch_ref.recurrent as trec

from .. import bridge
from ..checks import close
from ._base import Comparison, Hparam, Mistake, Pair, VerifyUsageError, as_array, call, construct
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


def _gates_by_loss(ctx, model_for, batch, loss, run):
    """The LSTM gate order whose PyTorch model (``model_for(order)``) gives the user's first loss."""
    xs, ts = batch
    for order in _gate_orders():
        with torch.no_grad():
            value, _ = model_for(order).loss(ctx.labels(xs), ctx.labels(ts))
        if np.all(close(np.array(loss), ctx.numpy(value), *ctx.tolerance("exact"))):
            return order
    run.notes.append("no gate order reproduces the first loss: compared in PyTorch's order i, f, g, o")
    return "ifgo"


def _lm_gates(ctx, values, batch, loss, run):
    """The gate order of a one-LSTM language model (:func:`_gates_by_loss`)."""
    V, D, H = LM_SIZES

    def model_for(order):
        model = trec.WordLM(V, D, H, "lstm").to(dtype=ctx.torch_dtype)
        return bridge.load_sequence_model(model, _as_torch(values, order), order)

    return _gates_by_loss(ctx, model_for, batch, loss, run)


# --- the book's BetterRnnlm: two LSTMs, dropout, the output weight tied to the embedding -------------

TIED_KEYS = ("embed W (tied: + affine Wᵀ)", "Wx 1", "Wh 1", "b 1", "Wx 2", "Wh 2", "b 2", "affine b")


def _tied_arrays(net, V, H):
    """The book's nine arrays (embed W; Wx, Wh, b twice; affine W = embed Wᵀ, a view; affine b), checked."""
    params = getattr(net, "params", None)
    shapes = [(V, H), (H, 4 * H), (H, 4 * H), (4 * H,), (H, 4 * H), (H, 4 * H), (4 * H,), (H, V), (V,)]
    if not isinstance(params, (list, tuple)) or [np.shape(p) for p in params] != shapes:
        raise VerifyUsageError(f"network better-rnnlm: built with vocab_size={V}, wordvec_size=hidden_size={H}, its "
                               f"params must have the shapes {shapes} (embedding; two LSTMs; affine W, b)")
    if not np.shares_memory(params[0], params[7]):
        raise VerifyUsageError("network better-rnnlm: the affine weight must be the embedding's, transposed (weight "
                               "tying: TimeAffine(embed_W.T, b))")
    return list(params)


def _tied_load(arrays, values):
    """values: E, Wx1, Wh1, b1, Wx2, Wh2, b2, bo; the tied affine W (a view of E) follows E."""
    for a, v in zip(arrays[:7] + arrays[8:], values):
        a[...] = v


def _tied_torch(ctx, V, H, values, gates):
    model = trec.TiedLSTMLM(V, H, dropout=0.0).to(dtype=ctx.torch_dtype)
    E, Wx1, Wh1, b1, Wx2, Wh2, b2, bo = values
    with torch.no_grad():
        model.embed.weight.copy_(torch.as_tensor(E, dtype=ctx.torch_dtype))
        model.out.bias.copy_(torch.as_tensor(bo, dtype=ctx.torch_dtype))
    bridge.load_recurrent(model.rnn1, {"Wx": Wx1, "Wh": Wh1, "b": b1}, gates)
    bridge.load_recurrent(model.rnn2, {"Wx": Wx2, "Wh": Wh2, "b": b2}, gates)
    return model


def _tied_values(model, gates, grad=False):
    """The model's eight arrays (or their gradients) in the book's layout; the embedding's gradient
    holds both of the tied weight's uses, as autograd adds them."""
    pick = (lambda p: p.grad) if grad else (lambda p: p)
    one, two = (bridge.recurrent_arrays(m, grad, gates) for m in (model.rnn1, model.rnn2))
    return [pick(model.embed.weight).detach().cpu().numpy().copy(), one["Wx"], one["Wh"], one["b"],
            two["Wx"], two["Wh"], two["b"], pick(model.out.bias).detach().cpu().numpy().copy()]


def _tied_step(net, xs, ts):
    loss = call(net.forward, f"forward(xs{xs.shape}, ts{ts.shape})", xs.copy(), ts.copy())
    call(net.backward, "backward()")
    grads = getattr(net, "grads", None)
    if not isinstance(grads, (list, tuple)) or len(grads) != 9:
        raise VerifyUsageError("after backward, grads must hold nine arrays beside params")
    g = [np.array(as_array(x, f"grads[{i}]")) for i, x in enumerate(grads)]
    return float(as_array(loss, "the loss")), [g[0] + g[7].T, *g[1:7], g[8]]


def drive_better_rnnlm(ctx, pair, cls, hparams, run):
    """Consecutive batches, as :func:`drive_rnnlm`, of the book's BetterRnnlm built with
    dropout_ratio = 0 (dropout's masks are the dropout pair's lesson): the loss and every gradient,
    the tied weight's as the sum of the embedding's and the affine's (transposed), which is what
    autograd gives the one tied parameter and what the book's optimizer applies (remove_duplicate)."""
    V, H = LM_SIZES[0], LM_SIZES[2]
    N, T, n_batches = LM_DATA
    rng = ctx.rng
    net = construct(cls, pair, hparams, {"vocab_size": V, "wordvec_size": H, "hidden_size": H, "dropout_ratio": 0.0},
                    run)
    arrays = _tied_arrays(net, V, H)
    scale = ((0.5, (V, H)), (1 / np.sqrt(H), (H, 4 * H)), (1 / np.sqrt(H), (H, 4 * H)), (0.1, (4 * H,)),
             (1 / np.sqrt(H), (H, 4 * H)), (1 / np.sqrt(H), (H, 4 * H)), (0.1, (4 * H,)), (0.1, (V,)))
    values = [ctx.array(rng.normal(0, s, shape)) for s, shape in scale]
    batches = [(rng.integers(0, V, (N, T)), rng.integers(0, V, (N, T))) for _ in range(n_batches)]
    reset = lambda: call(net.reset_state, "reset_state()") if callable(getattr(net, "reset_state", None)) else None  # noqa: E731
    _tied_load(arrays, values)
    reset()
    loss0, _ = _tied_step(net, *batches[0])
    gates = _gates_by_loss(ctx, lambda order: _tied_torch(ctx, V, H, values, order), batches[0], loss0, run)
    model = _tied_torch(ctx, V, H, values, gates)
    out, state = [], None
    reset()
    for k, (xs, ts) in enumerate(batches):
        _tied_load(arrays, _tied_values(model, gates))
        loss, grads = _tied_step(net, xs, ts)
        model.zero_grad()
        loss_t, state = model.loss(ctx.labels(xs), ctx.labels(ts), state)
        loss_t.backward()
        state = tuple(tuple(s.detach() for s in layer) for layer in state)
        label = f"batch {k + 1}" + (" (the hidden states carried from the batch before)" if k else " (from h = 0)")
        out.append(Comparison(f"loss, {label}", np.array(loss), loss_t.detach()))
        out += [Comparison(f"gradient {name}, {label}", g, e)
                for name, g, e in zip(TIED_KEYS, grads, _tied_values(model, gates, grad=True))]
        with torch.no_grad():
            for p in model.parameters():
                if p.grad is not None:
                    p -= LR * p.grad
    run.notes.append(f"two-LSTM language model with the output weight tied to the embedding, built with dropout_ratio=0, "
                     f"gate order {', '.join(gates)}{' (' + GATE_NAMES[gates] + ')' if gates in GATE_NAMES else ''}; "
                     f"{n_batches} consecutive batches, each from PyTorch's parameters (an SGD step of lr {LR} between "
                     "them), the hidden states carried on")
    return out


class TiedGradientFromEmbeddingOnly(SM.TiedLSTMLM):
    """Leaves the output scores' use of the tied weight out of its gradient (the affine's entry is 0)."""

    def backward(self, dout=1.0):
        super().backward(dout)
        self._grads[7] = np.zeros_like(self._grads[7])


TIED_ONE_USE = ("the tied weight's gradient holds the embedding's use only: E is used twice, by the lookup and by the "
                "output scores s = h Eᵀ + b, so its gradient is the sum of both (the affine's dW, transposed, added)")


def _tied_lm(vocab, hidden, dropout=0.0):
    """``torch_ref.recurrent.TiedLSTMLM``: embedding → LSTM → LSTM → linear tied to the embedding."""
    return trec.TiedLSTMLM(vocab, hidden, dropout)


_tied_lm.torch_ref = trec.TiedLSTMLM


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
    Pair("better-rnnlm", "network", "sequence_models.TiedLSTMLM", _tied_lm,
         "the book's BetterRnnlm(vocab_size, wordvec_size, hidden_size, dropout_ratio): two stateful TimeLSTMs, "
         "TimeDropout after the embedding and each LSTM, TimeAffine(embed_W.T, b) tied to the embedding; params and grads "
         "lists of nine arrays, forward(xs, ts[, train_flg]) -> the mean loss, backward(), reset_state(); judged built "
         "with dropout_ratio=0",
         drive_better_rnnlm, (), None, (Mistake(TIED_ONE_USE, TiedGradientFromEmbeddingOnly),),
         ("BetterRnnlm", "BetterRNNLM", "TiedRnnlm")),
]
