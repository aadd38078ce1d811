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
import torch

import scratch.recurrent as SR
import torch_ref.recurrent as trec

from .. import bridge
from ..checks import close
from ._base import (Comparison, Hparam, Mistake, NONFINITE, Pair, TargetError, _outputs, _takes_positional, as_array,
                    call, construct, param_grad, parameters, tensorwise)
from ._running import DriveOptions

RECURRENT_SIZES = (3, 5, 4, 6)  # N, T, D, H: H ≠ D, so a transposed weight cannot pass


GATE_GUESSES = ("ifog", "ifgo", "fgio")  # CS231n's, PyTorch's, the book's (vol. 2); then every other order


GATE_NAMES = {"ifog": "CS231n's", "ifgo": "PyTorch's", "fgio": "the book's (Deep Learning from Scratch 2)"}


def _gate_orders():
    from itertools import permutations

    rest = ["".join(p) for p in permutations("ifgo") if "".join(p) not in GATE_GUESSES]
    return list(GATE_GUESSES) + rest


def _recurrent_weights(ctx, kind: str):
    """Shared weights in the NumPy layout (columns = gates): Wx (D, G·H), Wh (H, G·H), b (and a
    GRU's bh). The gate order is whatever the code under test reads them as."""
    _, _, D, H = RECURRENT_SIZES
    G = {"rnn": 1, "lstm": 4, "gru": 3}[kind]
    w = {"Wx": ctx.array(ctx.rng.normal(0, 0.5, (D, G * H))), "Wh": ctx.array(ctx.rng.normal(0, 0.5, (H, G * H))),
         "b": ctx.array(ctx.rng.normal(0, 0.5, G * H))}
    if kind == "gru":
        w = {"Wx": w["Wx"], "Wh": w["Wh"], "bx": w["b"], "bh": ctx.array(ctx.rng.normal(0, 0.5, G * H))}
    return w


def _reference(ctx, kind, w, gates, cell, reset_after=True):
    """The torch module (or, for the GRU's paper form, the hand-written cell) holding ``w`` read
    with the gate order ``gates``."""
    b, bh = (w["bx"], w["bh"]) if kind == "gru" else (w["b"], None)
    tp = bridge.recurrent_to_torch(kind, w["Wx"], w["Wh"], b, gates=gates, bh=bh)
    tensors = [ctx.tensor(tp[k]) for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    if kind == "gru" and not reset_after:
        return (trec.GRUCellResetBefore if cell else trec.GRUResetBefore)(*tensors)
    return trec.recurrent(kind, *tensors, cell=cell)


def _reference_grads(module, kind, gates):
    if isinstance(module, trec.GRUCellResetBefore):  # and GRUResetBefore
        arrays = [getattr(module, n).grad.detach().cpu().numpy() for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
        return bridge.recurrent_from_torch(kind, *arrays)
    return bridge.recurrent_arrays(module, grad=True, gates=gates)


def layer_grads(layer, keys):
    """The parameters' gradients after backward: ``grads`` as a dict, or as a list in the order of
    the constructor's arrays (the book, vol. 2), or ``dWx``-style attributes."""
    grads = getattr(layer, "grads", None)
    if isinstance(grads, (list, tuple)) and len(grads) == len(keys):
        return {k: as_array(g, f"grads[{i}]") for i, (k, g) in enumerate(zip(keys, grads))}
    return {k: param_grad(layer, k) for k in keys}


# --- a GRU written with one bias (the book's second volume) ----------------------------------------

GRU_LAYOUTS = {"book": "the book's: columns z, r, h̃ and h' = (1 − z)·h + z·h̃ (its z is PyTorch's 1 − z)",
               "torch": "PyTorch's: columns r, z, n and h' = (1 − z)·n + z·h"}


def _one_bias(cls) -> bool:
    params = parameters(cls) or {}
    return "b" in params and "bx" not in params and "bh" not in params


def _to_layout(a, layout):
    """PyTorch-ordered gate columns (r, z, n) of ``a`` in ``layout``: the book's z, r, n with z negated
    (σ(−a) = 1 − σ(a): the book's update gate is PyTorch's 1 − z)."""
    r, z, n = np.split(np.asarray(a), 3, axis=-1)
    return np.concatenate([-z, r, n], axis=-1) if layout == "book" else np.asarray(a)


def _from_layout(g, layout):
    if layout != "book":
        return np.asarray(g)
    z, r, n = np.split(np.asarray(g), 3, axis=-1)
    return np.concatenate([r, -z, n], axis=-1)


class OneBiasGRU:
    """A GRU layer written with one bias, ``(Wx, Wh, b)``, seen as the pair's ``(Wx, Wh, bx, bh)``: its
    b is bx + bh (with the reset gate before the recurrent product, as the book's GRU, the two biases
    enter every gate as their sum), its columns in ``layout``. Every other attribute is the layer's."""

    def __init__(self, layer, layout):
        self.__dict__["_layer"], self.__dict__["_layout"] = layer, layout

    def __getattr__(self, name):
        return getattr(self._layer, name)

    @property
    def grads(self):
        g = layer_grads(self._layer, ["Wx", "Wh", "b"])
        db = _from_layout(g["b"], self._layout)
        return {"Wx": _from_layout(g["Wx"], self._layout), "Wh": _from_layout(g["Wh"], self._layout), "bx": db, "bh": db}


def _gru_layer(cls, pair, hparams, w, run, layout, extra=None):
    """The user's one-bias GRU built from the pair's weights in ``layout``."""
    given = {"Wx": _to_layout(w["Wx"], layout), "Wh": _to_layout(w["Wh"], layout),
             "b": _to_layout(w["bx"] + w["bh"], layout), **(extra or {})}
    return OneBiasGRU(construct(cls, pair, hparams, given, run), layout)


def _pick_layout(ctx, run, make, forward, reference):
    """(layer, its forward outputs) in the first one-bias GRU layout whose forward reproduces the
    reference's; the book's when none does (the verdict then says how they differ). Noted."""
    chosen = None
    for layout in GRU_LAYOUTS:
        layer = make(layout)
        out = forward(layer)
        chosen = chosen or (layer, out, layout)
        if all(u.shape == r.shape and np.all(close(u, r, *ctx.tolerance("exact"))) for u, r in zip(out, reference)):
            chosen = (layer, out, layout)
            break
    layer, out, layout = chosen
    run.notes.append(f"one bias b (Wx, Wh, b), gate layout {GRU_LAYOUTS[layout]}: compared with PyTorch's GRU with "
                     "bias_ih + bias_hh = b" + (", its z columns negated" if layout == "book" else ""))
    return layer, out


def _detect_gates(ctx, kind, w, run, user_out, reference_out, fixed):
    """The LSTM gate order the code under test reads its columns in: the first order whose
    reference reproduces its forward outputs. Named in the notes."""
    if kind != "lstm":
        return None
    if fixed != "auto":
        return fixed
    for order in _gate_orders():
        ref = reference_out(order)
        if all(u.shape == r.shape and np.all(close(u, r, *ctx.tolerance("exact"))) for u, r in zip(user_out, ref)):
            name = GATE_NAMES.get(order, "")
            run.notes.append(f"gate order detected: {', '.join(order)}{f' ({name})' if name else ''}; nn.LSTM stacks "
                             "i, f, g, o: its rows are permuted to your columns for the comparison")
            return order
    run.notes.append("no gate order reproduces the forward pass: compared in PyTorch's order i, f, g, o")
    return "ifgo"


def drive_recurrent_step(ctx, pair, cls, hparams, run):
    """One step of a tanh RNN, LSTM or GRU cell (``pair.options['kind']``): forward(x, h_prev[, c_prev])
    and backward(dh[, dc]) → (dx, dh_prev[, dc_prev]), with the weights' gradients, against
    nn.RNNCell/nn.LSTMCell/nn.GRUCell (an LSTM's gate order detected from its forward pass)."""
    kind = pair.options["kind"]
    N, _, D, H = RECURRENT_SIZES
    reset_after = bool(hparams.get("reset_after", 1))
    w = _recurrent_weights(ctx, kind)
    n_state = 2 if kind == "lstm" else 1
    x, states = run.draw(ctx, lambda c: (c.array(c.rng.normal(size=(N, D))),
                                         tuple(c.array(c.rng.normal(size=(N, H))) for _ in range(n_state))))
    douts = tuple(ctx.array(ctx.rng.normal(size=(N, H))) for _ in range(n_state))
    def forward(layer):
        return _outputs(call(layer.forward, f"forward(x{x.shape}, {'h_prev, c_prev' if n_state == 2 else 'h_prev'})",
                             x.copy(), *(s.copy() for s in states)), n_state, "forward's result")

    def reference_out(order):
        with torch.no_grad():
            module = _reference(ctx, kind, w, order, True, reset_after)
            ref = module(ctx.tensor(x), tuple(ctx.tensor(s) for s in states) if n_state == 2 else ctx.tensor(states[0]))
        return tuple(ctx.numpy(r) for r in (ref if isinstance(ref, tuple) else (ref,)))

    if kind == "gru" and _one_bias(cls):
        layer, out = _pick_layout(ctx, run, lambda layout: _gru_layer(cls, pair, hparams, w, run, layout), forward,
                                  reference_out(None))
    else:
        layer = construct(cls, pair, hparams, {k: v.copy() for k, v in w.items()}, run)
        out = forward(layer)

    gates = _detect_gates(ctx, kind, w, run, out, reference_out, hparams.get("gate_order", "auto"))
    back = _outputs(call(layer.backward, f"backward({'dh, dc' if n_state == 2 else 'dh'})", *(d.copy() for d in douts)),
                    1 + n_state, "backward's result")
    module = _reference(ctx, kind, w, gates, True, reset_after)
    outs_t, dx_t, dstates_t = trec.cell_backward(module, ctx.tensor(x), tuple(ctx.tensor(s) for s in states),
                                                 tuple(ctx.tensor(d) for d in douts))
    names = ("h", "c")[:n_state]
    comps = [Comparison(f"forward {n}", a, e) for n, a, e in zip(names, out, outs_t)]
    comps += [Comparison(f"backward {n}", a, e) for n, a, e in zip(("dx", "dh_prev", "dc_prev"), back, (dx_t, *dstates_t))]
    grads_t = _reference_grads(module, kind, gates)
    grads = layer_grads(layer, list(w))
    comps += [Comparison(f"backward d{k}", grads[k], grads_t[k]) for k in w]
    return comps


def drive_recurrent_sequence(ctx, pair, cls, hparams, run):
    """A tanh RNN or LSTM over a sequence: forward(xs (N, T, D), h0[, c0]) → hs (N, T, H) and
    backward(dhs) → (dxs, dh0[, dc0]) with the weights' gradients (BPTT), against nn.RNN/nn.LSTM and
    autograd. An LSTM runs from c0 = 0 (CS231n's lstm_forward takes no c0), then, where the forward
    takes c0, from a random one. A forward that takes no h0 (the book's TimeRNN) starts from its
    ``set_state`` or from 0."""
    kind = pair.options["kind"]
    N, T, D, H = RECURRENT_SIZES
    w = _recurrent_weights(ctx, kind)
    n_state = 2 if kind == "lstm" else 1
    draws = [run.draw(ctx, lambda c: (c.array(c.rng.normal(size=(N, T, D))), c.array(c.rng.normal(size=(N, T, H))),
                                      tuple(c.array(c.rng.normal(size=(N, H))) for _ in range(n_state))))
             for _ in range(n_state)]
    if kind == "lstm":  # the first case from c0 = 0
        x, dout, (h0, c0) = draws[0]
        draws[0] = (x, dout, (h0, np.zeros_like(c0)))
    comps, gates = [], hparams.get("gate_order", "auto")
    reset_after = bool(hparams.get("reset_after", 1))
    for case, (x, dout, states) in enumerate(draws):
        label = "" if kind == "rnn" else ", c0 = 0" if case == 0 else ", c0 random"
        probe = construct(cls, pair, hparams, {**{k: v.copy() for k, v in w.items()}, "stateful": True}, run) \
            if not (kind == "gru" and _one_bias(cls)) else _gru_layer(cls, pair, hparams, w, run, "book", {"stateful": True})
        given = n_state if _takes_positional(probe.forward, 1 + n_state) else 1 if _takes_positional(probe.forward, 2) else 0
        passed = given  # the states passed to forward; set_state takes them otherwise (the book's TimeRNN)
        by_set_state = given == 0 and callable(getattr(probe, "set_state", None))
        if by_set_state:
            given = n_state
            if case == 0:
                run.notes.append("the forward takes no h0: it is given by set_state(h0[, c0]), the layer built with "
                                 "stateful=True where its constructor takes it")
        if case == 1 and given < 2:
            break  # the forward takes no c0: the c0 = 0 case was all there is to compare
        if given < n_state:
            states = tuple(s if i < given else np.zeros_like(s) for i, s in enumerate(states))
            if given == 0:
                run.notes.append("the forward takes no h0: it starts from 0")

        def forward(layer, x=x, states=states, by_set_state=by_set_state, passed=passed):
            if by_set_state:
                call(layer.set_state, "set_state(h0[, c0])", *(s.copy() for s in states))
            elif passed == 0 and run.again is not None and callable(getattr(layer, "reset_state", None)):
                call(layer.reset_state, "reset_state()")  # a stateful layer starting from 0 again, as the reference
            args = (x.copy(), *(s.copy() for s in states[:passed]))
            return _outputs(call(layer.forward, f"forward(xs{x.shape}, …)", *args), 1, "forward's result")

        def reference_out(order, x=x, states=states):
            with torch.no_grad():
                module = _reference(ctx, kind, w, order, False, reset_after)
                ref, _ = module(ctx.tensor(x), tuple(ctx.tensor(s)[None] for s in states) if n_state == 2
                                else ctx.tensor(states[0])[None])
            return (ctx.numpy(ref),)

        if kind == "gru" and _one_bias(cls):
            layer, (hs,) = _pick_layout(ctx, run if case == 0 else DriveOptions(), lambda layout: _gru_layer(
                cls, pair, hparams, w, run, layout, {"stateful": True}), forward, reference_out(None))
        else:
            layer = probe
            (hs,) = forward(layer)
        gates = _detect_gates(ctx, kind, w, run, (hs,), reference_out, gates)
        back = _outputs(call(layer.backward, f"backward(dhs{dout.shape})", dout.copy()), 1 + passed, "backward's result")
        module = _reference(ctx, kind, w, gates, False, reset_after)
        hs_t, _, dx_t, dstates_t = trec.run_backward(module, ctx.tensor(x), tuple(ctx.tensor(s) for s in states),
                                                     ctx.tensor(dout))
        comps.append(Comparison(f"forward h_t at every step{label}", hs, hs_t))
        comps += [Comparison(f"backward {n}{label}", a, e)
                  for n, a, e in zip(("dxs", "dh0", "dc0"), back, (dx_t, *dstates_t))]
        if len(back) == 1 and getattr(layer, "dh", None) is not None and np.shape(layer.dh) == (N, H):
            comps.append(Comparison(f"backward dh0 (the layer's dh){label}", as_array(layer.dh, "dh"), dstates_t[0]))
        grads_t = _reference_grads(module, kind, gates)
        grads = layer_grads(layer, list(w))
        # a weight's gradient is a sum over N·T steps whose terms can cancel: judged tensorwise (see tensorwise)
        comps += [Comparison(f"backward d{k}{label}", grads[k], grads_t[k], scale=tensorwise(grads_t[k])) for k in w]
    return comps


# PyTorch's clip_grad_norm_ with NaN or ±inf among the gradients: a NaN makes the norm NaN and every gradient NaN;
# an infinity makes the norm inf, the finite entries 0 and the infinite ones NaN (inf·0)
CLIP_NONFINITE = ((f"{NONFINITE}: a NaN gradient, max_norm = 1", (np.nan, 1.0)),
                  (f"{NONFINITE}: a +inf gradient, max_norm = 1", (np.inf, 1.0)),
                  (f"{NONFINITE}: a −inf gradient, max_norm = 100", (-np.inf, 100.0)))


def drive_clip_grad_norm(ctx, pair, fn, hparams, run):
    """``fn(grads, max_norm)`` clips a list of gradient arrays in place (or returns them) by their
    global norm, against nn.utils.clip_grad_norm_; a returned number is compared with its norm."""
    shapes = ((4, 6), (6, 6), (6,))
    comps = []
    for label, factor in (("max_norm = 0.3·‖g‖ (clips)", 0.3), ("max_norm = 2·‖g‖ (leaves them)", 2.0),
                          ("one tensor 100× the others (clips)", 0.1), *CLIP_NONFINITE):
        grads0 = [ctx.array(ctx.rng.normal(size=s)) for s in shapes]
        if factor == 0.1:
            grads0[0] = grads0[0] * 100
        if isinstance(factor, tuple):  # NaN or ±inf in the first gradient: its value, then max_norm itself
            value, factor = factor
            grads0[0].flat[3] = value
            max_norm = factor
        else:
            total = float(np.sqrt(sum(np.sum(np.asarray(g, dtype=np.float64) ** 2) for g in grads0)))
            max_norm = factor * total
        grads = [g.copy() for g in grads0]
        try:
            result = call(fn, f"calling it on {len(grads)} gradients with max_norm={max_norm:.4g}", grads, max_norm)
        except TargetError as exc:
            if NONFINITE not in label:
                raise
            run.notes.append(f"the cases with NaN and ±inf were left out: {exc}")
            continue
        if isinstance(result, (list, tuple)) and len(result) == len(grads):
            grads = [as_array(g, "the clipped gradient") for g in result]
        tensors = [ctx.tensor(g, requires_grad=True) for g in grads0]
        for p, g in zip(tensors, grads0):
            p.grad = ctx.tensor(g)
        norm_t = trec.clip_grad_norm(tensors, max_norm)
        comps.append(Comparison(f"clipped gradients, {label}", np.concatenate([np.ravel(g) for g in grads]),
                                torch.cat([p.grad.ravel() for p in tensors])))
        if isinstance(result, (int, float, np.floating)) or (isinstance(result, np.ndarray) and result.ndim == 0):
            comps.append(Comparison(f"the norm returned, {label}", as_array(result, "the norm"), norm_t))
    return comps

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


class GRUPaper(SR.GRU):
    """The GRU of Cho et al. (2014) over a sequence: the reset gate before the recurrent product."""

    def __init__(self, Wx, Wh, bx, bh):
        super().__init__(Wx, Wh, bx, bh, reset_after=False)


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
_RESET_BEFORE = ("the reset gate is applied before the recurrent product, (r ⊙ h) W_hn (Cho et al. 2014, and the book's "
                 "GRU); nn.GRU applies it after: r ⊙ (h W_hn + b_hn)")
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
         "a class GRUCell(Wx (D, 3H), Wh (H, 3H), bx (3H,), bh (3H,)) with gates r, z, n, or the book's GRU(Wx, Wh, b) "
         "(one bias, columns z, r, h̃, h' = (1 − z)·h + z·h̃): forward(x, h_prev) and backward(dh) -> (dx, dh_prev); "
         "weight gradients in grads (dict or list) or dWx, dWh, dbx, dbh (db)",
         drive_recurrent_step, (RESET_AFTER,), None, (Mistake(_RESET_BEFORE, GRUCellPaper, flag={"reset_after": 0}),),
         ("GRUCell", "GRUStep"), {"kind": "gru"}),
    Pair("gru", "layer", "recurrent.GRU", trec.run_backward,
         "a class GRU(Wx (D, 3H), Wh (H, 3H), bx (3H,), bh (3H,)) with forward(xs (N, T, D), h0) -> hs and "
         "backward(dhs) -> (dxs, dh0), or the book's TimeGRU(Wx, Wh, b) (one bias, columns z, r, h̃; h0 by set_state, "
         "dh0 in dh); weight gradients in grads (dict or list) or dWx, dWh, dbx, dbh",
         drive_recurrent_sequence, (RESET_AFTER,), None, (Mistake(_RESET_BEFORE, GRUPaper, flag={"reset_after": 0}),),
         ("GRU", "TimeGRU"), {"kind": "gru"}),
    Pair("clip-grad-norm", "function", "recurrent.clip_grad_norm", trec.clip_grad_norm,
         "a function clip(grads, max_norm) scaling a list of gradient arrays in place by min(1, max_norm/‖g‖), "
         "‖g‖ their global norm (optionally returning it)",
         drive_clip_grad_norm, (), None,
         (Mistake("each tensor is clipped by its own norm: clip_grad_norm_ scales all of them by one factor, "
                  "max_norm/‖g‖ with ‖g‖ the norm of all gradients together", clip_per_tensor),),
         ("clip_grad_norm", "clip_grads", "clip_gradients", "clip_grad_norm_")),
]
