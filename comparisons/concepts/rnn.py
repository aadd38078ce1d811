"""Recurrent networks: the tanh RNN, the LSTM and the GRU, one step and a whole sequence, with
backpropagation through time; the embedding; clipping by the global norm; a character-level
language model trained on the study notes' own text — against nn.RNN/nn.LSTM/nn.GRU and autograd.
The trained runs are :mod:`comparisons.concepts._rnn_training`."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

import scratch.recurrent
import torch_ref.recurrent as trec

from .. import bridge, plots
from ..checks import close, measure
from ..context import DTYPES
from ._rnn_training import clipped_training, language_model

GATES = {"rnn": None, "lstm": scratch.recurrent.LSTM_GATES, "gru": None}
G = {"rnn": 1, "lstm": 4, "gru": 3}
NAMES = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}


def run(ctx):
    values = {}
    _cells(ctx)
    outputs = _sequences(ctx)
    _lstm_mapping(ctx, outputs["lstm"], values)
    _gru_forms(ctx, values)
    _embedding(ctx, values)
    _time_layers(ctx)
    _clipping(ctx)
    _gradient_flow(ctx, values)
    clipped_training(ctx, values)
    language_model(ctx, values)
    for name, value in values.items():
        ctx.value(name, value)


# --- shared parameters ------------------------------------------------------------------------------


def _torch_layout(ctx, kind, D, H, scale=0.5):
    """PyTorch-layout parameters drawn from the run's generator: weight_ih, weight_hh, bias_ih, bias_hh."""
    g = G[kind] * H
    return {"weight_ih": ctx.array(ctx.rng.normal(0, scale, (g, D))),
            "weight_hh": ctx.array(ctx.rng.normal(0, scale, (g, H))),
            "bias_ih": ctx.array(ctx.rng.normal(0, 0.5, g)), "bias_hh": ctx.array(ctx.rng.normal(0, 0.5, g))}


def _numpy_layer(ctx, kind, tp, cell=False, **kwargs):
    p = bridge.recurrent_from_torch(kind, **tp, gates=GATES[kind])
    name = NAMES[kind] + ("Cell" if cell else "")
    cls = getattr(ctx.impl.recurrent, name)
    return cls(p["Wx"], p["Wh"], p["bx"], p["bh"], **kwargs) if kind == "gru" else cls(p["Wx"], p["Wh"], p["b"])


TORCH_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def _torch_module(ctx, kind, tp, cell=False):
    return trec.recurrent(kind, *(ctx.tensor(tp[k]) for k in TORCH_NAMES), cell=cell)


def _as(dtype, device):
    """Converters to ``dtype`` ('float32'/'float64'): (NumPy array, tensor on ``device``)."""
    np_dtype, torch_dtype = DTYPES[dtype]
    return (lambda a: np.asarray(a, dtype=np_dtype),
            lambda a: torch.as_tensor(np.asarray(a, dtype=np_dtype), dtype=torch_dtype, device=device))


def _compare_refereed(ctx, label, compute):
    """Compare every quantity ``compute(dtype)`` returns (name → (NumPy, PyTorch)). In float32 a
    quantity that parts is re-taken in float64 from the same inputs (float32 values are exact in
    float64), as :class:`comparisons.lockstep.Lockstep` does for a training step: a weight gradient
    is a sum over N·T terms that can cancel to far below their size, and the two sides' float32
    roundings of the terms then differ by more than float32's one-step tolerance of the sum. The
    check records the float64 errors and says so. Returns the records by name."""
    pairs, redo, records = compute(ctx.dtype), None, {}
    atol, rtol = ctx.tolerance("exact")
    for name, (a, e) in pairs.items():
        a, e = ctx.numpy(a), ctx.numpy(e)
        if ctx.dtype == "float64" or a.shape != e.shape or np.all(close(a, e, atol, rtol)):
            records[name] = ctx.compare(f"{label}: {name}", a, e)
            continue
        redo = redo or compute("float64")
        a64, e64 = redo[name]
        abs32, _ = measure(a, e)
        records[name] = ctx.compare_in_float64(
            f"{label}: {name}", a64, e64,
            f"float32 parted by {abs32:.1e} (max abs err), a sum whose terms cancel; re-taken in float64 from the "
            "same inputs: the errors shown are float64's.")
    return records


def _grads_pairs(layer, module, kind):
    grads_t = bridge.recurrent_arrays(module, grad=True, gates=GATES[kind])
    return {f"d{key}": (layer.grads[key], grads_t[key]) for key in grads_t}


# --- one step and a sequence ------------------------------------------------------------------------


def _cells(ctx):
    N, D, H = 4, 5, 6
    for kind in ("rnn", "lstm", "gru"):
        tp = _torch_layout(ctx, kind, D, H)
        x, h, c, dh, dc = (ctx.rng.normal(size=s) for s in ((N, D), (N, H), (N, H), (N, H), (N, H)))
        states, douts = ((h, c), (dh, dc)) if kind == "lstm" else ((h,), (dh,))

        def compute(dtype, kind=kind, tp=tp, x=x, states=states, douts=douts):
            arr, ten = _as(dtype, ctx.device)
            tpd = {k: arr(v) for k, v in tp.items()}
            layer = _numpy_layer(ctx, kind, tpd, cell=True)
            with ctx.timed("numpy"):
                out = layer.forward(arr(x), *map(arr, states))
                back = layer.backward(*map(arr, douts))
            module = trec.recurrent(kind, *(ten(tpd[k]) for k in TORCH_NAMES), cell=True)
            with ctx.timed("torch"):
                outs_t, dx_t, dstate_t = trec.cell_backward(module, ten(x), tuple(map(ten, states)), tuple(map(ten, douts)))
            out = out if isinstance(out, tuple) else (out,)
            pairs = {f"{n} vs nn.{NAMES[kind]}Cell": (a, e) for n, a, e in zip(("h", "c"), out, outs_t)}
            pairs.update({f"{n} vs autograd": (a, e) for n, a, e in zip(("dx", "dh_prev", "dc_prev"), back,
                                                                           (dx_t, *dstate_t))})
            return {**pairs, **_grads_pairs(layer, module, kind)}

        _compare_refereed(ctx, f"{NAMES[kind]} step", compute)


def _sequences(ctx) -> dict:
    """Every kind over a sequence, full BPTT and truncated (blocks of 3): outputs, final state, and
    every gradient against the torch module. Returns each kind's outputs record (BPTT) with its inputs."""
    N, T, D, H = 3, 8, 5, 6
    records = {}
    for kind in ("rnn", "lstm", "gru"):
        tp = {k: ctx.numpy(v) for k, v in _torch_layout(ctx, kind, D, H).items()}
        x, dout = ctx.array(ctx.rng.normal(size=(N, T, D))), ctx.array(ctx.rng.normal(size=(N, T, H)))
        states = tuple(ctx.array(ctx.rng.normal(size=(N, H))) for _ in range(2 if kind == "lstm" else 1))
        for truncate in (None, 3):
            label = f"{NAMES[kind]} sequence ({'BPTT' if truncate is None else 'truncated BPTT, blocks of 3'})"
            hs_t = {}

            def compute(dtype, kind=kind, tp=tp, x=x, states=states, dout=dout, truncate=truncate):
                arr, ten = _as(dtype, ctx.device)
                tpd = {k: arr(v) for k, v in tp.items()}
                layer = _numpy_layer(ctx, kind, tpd)
                with ctx.timed("numpy"):
                    hs = layer.forward(arr(x), *map(arr, states))
                    dx, *dstates = layer.backward(arr(dout), truncate=truncate)
                module = trec.recurrent(kind, *(ten(tpd[k]) for k in TORCH_NAMES))
                with ctx.timed("torch"):
                    out_t, final_t, dx_t, dstates_t = trec.run_backward(module, ten(x), tuple(map(ten, states)),
                                                                        ten(dout), truncate)
                hs_t.setdefault(dtype, out_t)
                pairs = {f"h_t at every step vs nn.{NAMES[kind]}": (hs, out_t)}
                pairs.update({f"final {n}": (a, e) for n, a, e in zip(("h", "c"), layer.state, final_t)})
                pairs.update({f"{n} vs autograd": (a, e) for n, a, e in zip(("dx", "dh0", "dc0"), (dx, *dstates),
                                                                               (dx_t, *dstates_t))})
                return {**pairs, **_grads_pairs(layer, module, kind)}

            recs = _compare_refereed(ctx, label, compute)
            records.setdefault(kind, (recs[f"h_t at every step vs nn.{NAMES[kind]}"], tp, x, states, hs_t[ctx.dtype]))
    return records


def _lstm_mapping(ctx, lstm, values):
    """b = b_ih + b_hh and the gate permutation, each shown by the mistake that skips it."""
    relation, tp, x, states, hs_t = lstm
    S = ctx.impl.sequence_models
    plain = {"Wx": tp["weight_ih"].T, "Wh": tp["weight_hh"].T}  # PyTorch's blocks, read as (i, f, o, g)
    unpermuted = S.LSTM(plain["Wx"], plain["Wh"], tp["bias_ih"] + tp["bias_hh"]).forward(x, *states)
    ctx.differs("LSTM gates taken in PyTorch's row order, unpermuted", unpermuted, hs_t,
                "Wx = weight_ihᵀ without swapping the g and o blocks: the o gate is read as g and g as o.",
                relation=relation)
    values["gate-order-error"] = float(np.max(np.abs(unpermuted - ctx.numpy(hs_t))))
    p = bridge.recurrent_from_torch("lstm", **{**tp, "bias_hh": 0 * tp["bias_hh"]}, gates=GATES["lstm"])
    one_bias = S.LSTM(p["Wx"], p["Wh"], p["b"]).forward(x, *states)
    ctx.differs("LSTM with b = b_ih alone (b_hh dropped)", one_bias, hs_t, relation=relation)

    module = _torch_module(ctx, "lstm", tp)
    out, _ = module(ctx.tensor(x), tuple(ctx.tensor(s)[None] for s in states))
    out.sum().backward()
    ctx.compare("autograd: ∂L/∂b_ih = ∂L/∂b_hh (only their sum enters the gates)", module.bias_ih_l0.grad,
                module.bias_hh_l0.grad)
    lr = 0.1
    grad_b = bridge.recurrent_arrays(module, grad=True, gates=GATES["lstm"])["b"]
    before = bridge.recurrent_arrays(module, gates=GATES["lstm"])["b"]
    torch.optim.SGD(module.parameters(), lr=lr).step()
    moved = bridge.recurrent_arrays(module, gates=GATES["lstm"])["b"] - before
    rel = ctx.compare("one SGD step of nn.LSTM moves b_ih + b_hh by −2·lr·∂L/∂b", moved, -2 * lr * grad_b)
    ctx.differs("one SGD step on the one-bias layer vs the change of b_ih + b_hh", -lr * grad_b, moved,
                "The NumPy layer has one bias b; PyTorch trains b_ih and b_hh, each by −lr·g.", relation=rel)


def _gru_forms(ctx, values):
    """The reset gate before the product (Cho et al.) and after it (PyTorch)."""
    N, D, H = 4, 5, 6
    tp = _torch_layout(ctx, "gru", D, H)
    x, h, dh = (ctx.array(ctx.rng.normal(size=s)) for s in ((N, D), (N, H), (N, H)))
    names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    module = _torch_module(ctx, "gru", tp, cell=True)
    with torch.no_grad():
        h_torch = module(ctx.tensor(x), ctx.tensor(h))
    torch_form = _numpy_layer(ctx, "gru", tp, cell=True).forward(x, h)
    rec = ctx.compare("GRU PyTorch form r ⊙ (h U_n + b_hn) vs nn.GRUCell", torch_form, h_torch)
    values["gru-torch-error"] = float(rec.max_abs_err)

    diag = dict(tp)  # U_n diagonal and b_hn = 0: the two forms agree
    diag["weight_hh"] = tp["weight_hh"].copy()
    diag["weight_hh"][2 * H:] = np.diag(np.diag(tp["weight_hh"][2 * H:]))
    diag["bias_hh"] = tp["bias_hh"].copy()
    diag["bias_hh"][2 * H:] = 0
    with torch.no_grad():
        h_diag_t = _torch_module(ctx, "gru", diag, cell=True)(ctx.tensor(x), ctx.tensor(h))
    relation = ctx.compare("GRU paper form = nn.GRUCell where U_n is diagonal and b_hn = 0",
                           _numpy_layer(ctx, "gru", diag, cell=True, reset_after=False).forward(x, h), h_diag_t)
    paper = _numpy_layer(ctx, "gru", tp, cell=True, reset_after=False)
    h_paper = paper.forward(x, h)
    ctx.differs("GRU paper form vs nn.GRUCell (a general U_n)", h_paper, h_torch, relation=relation)
    values["gru-paper-difference"] = float(np.max(np.abs(h_paper - ctx.numpy(h_torch))))

    dx, dh_prev = paper.backward(dh)
    xt, ht = ctx.tensor(x, requires_grad=True), ctx.tensor(h, requires_grad=True)
    params = [ctx.tensor(tp[k], requires_grad=True) for k in names]
    trec.gru_cell_reset_before(xt, ht, *params).backward(ctx.tensor(dh))
    ctx.compare("GRU paper form: h vs the formula in PyTorch", h_paper, trec.gru_cell_reset_before(xt, ht, *params))
    ctx.compare("GRU paper form: dx vs autograd", dx, xt.grad)
    ctx.compare("GRU paper form: dh_prev vs autograd", dh_prev, ht.grad)
    grads_t = bridge.recurrent_from_torch("gru", *(ctx.numpy(p.grad) for p in params))
    for key, value in grads_t.items():
        ctx.compare(f"GRU paper form: d{key} vs autograd", paper.grads[key], value)


# --- embedding, time-distributed layers, clipping ---------------------------------------------------


def _embedding(ctx, values):
    V, D = 7, 4
    W = ctx.array(ctx.rng.normal(size=(V, D)))
    idx = ctx.rng.integers(0, V, size=(5, 6))  # 30 indices into 7 rows: repeats certain
    dout = ctx.array(ctx.rng.normal(size=(5, 6, D)))
    layer = ctx.impl.sequence_models.Embedding(W.copy())
    out = layer.forward(idx)
    layer.backward(dout)
    module = trec.embedding(ctx.tensor(W))
    out_t = module(ctx.labels(idx))
    out_t.backward(ctx.tensor(dout))
    ctx.compare("embedding: forward vs nn.Embedding", out, out_t)
    rec = ctx.compare("embedding: dE with repeated indices (scatter-add) vs autograd", layer.grads["W"], module.weight.grad)
    assigned = np.zeros_like(W)
    assigned[idx] = dout
    ctx.differs("embedding: dE[idx] = dout (assigning) vs nn.Embedding", assigned, module.weight.grad,
                "Assigning keeps one gradient per row; a row used k times must get the sum of k.", relation=rec)
    values["embedding-count"] = int(idx.size)
    values["embedding-repeats"] = int(idx.size - np.unique(idx).size)
    values["embedding-assign-error"] = float(np.max(np.abs(assigned - ctx.numpy(module.weight.grad))))


def _time_layers(ctx):
    N, T, D, V = 3, 5, 6, 7
    x = ctx.array(ctx.rng.normal(size=(N, T, D)))
    W, b = ctx.array(ctx.rng.normal(size=(D, V))), ctx.array(ctx.rng.normal(size=V))
    t = ctx.rng.integers(0, V, size=(N, T))
    S = ctx.impl.sequence_models
    affine, loss_layer = S.TimeLinear(W.copy(), b.copy()), S.TimeSoftmaxWithLoss()
    loss = loss_layer.forward(affine.forward(x), t)
    dx = affine.backward(loss_layer.backward(1.0))
    linear = bridge.linear_from(W, b, ctx.torch_dtype, ctx.device)
    xt = ctx.tensor(x, requires_grad=True)
    loss_t = torch.nn.functional.cross_entropy(linear(xt).reshape(-1, V), ctx.labels(t).reshape(-1))
    loss_t.backward()
    ctx.compare("time-distributed softmax-with-loss: loss", np.array(loss), loss_t,
                note="The mean over all N·T positions, as nn.CrossEntropyLoss; CS231n's temporal_softmax_loss is T times it.")
    ctx.compare("time-distributed affine: dx vs autograd", dx, xt.grad)
    grads_t = bridge.linear_arrays(linear, grad=True)
    ctx.compare("time-distributed affine: dW vs autograd", affine.grads["W"], grads_t["W"])
    ctx.compare("time-distributed affine: db vs autograd", affine.grads["b"], grads_t["b"])


def _clipping(ctx):
    shapes = {"Wx": (5, 8), "Wh": (8, 8), "b": (8,)}
    grads0 = {k: ctx.array(ctx.rng.normal(size=s)) for k, s in shapes.items()}
    total = float(np.sqrt(sum(np.sum(np.asarray(g, dtype=np.float64) ** 2) for g in grads0.values())))
    for factor in (0.3, 2.0):
        max_norm = factor * total
        grads = {k: v.copy() for k, v in grads0.items()}
        norm = ctx.impl.recurrent.clip_grad_norm(grads, max_norm)
        tensors = [ctx.tensor(v, requires_grad=True) for v in grads0.values()]
        for p, g in zip(tensors, grads0.values()):
            p.grad = ctx.tensor(g)
        norm_t = trec.clip_grad_norm(tensors, max_norm)
        what = "clips" if factor < 1 else "leaves them"
        ctx.compare(f"clip_grad_norm (max_norm = {factor}·‖g‖, {what}): the norm returned", np.array(norm), norm_t)
        rec = ctx.compare(f"clip_grad_norm (max_norm = {factor}·‖g‖, {what}): gradients vs clip_grad_norm_",
                          np.concatenate([g.ravel() for g in grads.values()]),
                          torch.cat([p.grad.ravel() for p in tensors]))
        if factor < 1:
            per_tensor = {k: v * min(1.0, max_norm / (np.linalg.norm(v) + 1e-6)) for k, v in grads0.items()}
            ctx.differs("clipping each tensor by its own norm vs clip_grad_norm_",
                        np.concatenate([g.ravel() for g in per_tensor.values()]),
                        torch.cat([p.grad.ravel() for p in tensors]), relation=rec)


# --- gradient flow ------------------------------------------------------------------------------------


def _gradient_flow(ctx, values):
    """‖∂L/∂h_t‖ for L = Σ d ⊙ h_{T−1}: vanishing and exploding in the tanh RNN, kept by the LSTM.

    Computed in float64 in both runs: the exploding case amplifies rounding by its own growth
    (float32's differences between the sides reach percents there, float64's stay near 1e-10 of
    the vector's norm), and the experiment is about the math, not the dtype. The comparison is
    normwise: each ∂L/∂h_t (N × H, one step) against its own norm, since an element that cancels
    to near 0 keeps the rounding of the tensor's size."""
    N, T, D, H = 16, 30, 4, 32
    rng = ctx.rng
    x = rng.normal(0, 1, (N, T, D))
    d_last = rng.normal(size=(N, H))
    setups = {"tanh RNN, small W_h (std 0.5/√H)": ("rnn", 0.5, None, "flow-small"),
              "tanh RNN, large W_h (std 3/√H)": ("rnn", 3.0, None, "flow-large"),
              "LSTM, forget bias 0": ("lstm", 0.5, 0.0, "flow-lstm0"),
              "LSTM, forget bias 3": ("lstm", 0.5, 3.0, "flow-lstm3")}
    rows, ratios = {"t": np.arange(T)}, {}
    as64 = lambda a: torch.as_tensor(a, dtype=torch.float64, device=ctx.device)  # noqa: E731
    for name, (kind, scale, forget, key) in setups.items():
        g = G[kind] * H
        tp = {"weight_ih": rng.normal(0, 1 / np.sqrt(D), (g, D)), "weight_hh": rng.normal(0, scale / np.sqrt(H), (g, H)),
              "bias_ih": np.zeros(g), "bias_hh": np.zeros(g)}
        if forget is not None:
            tp["bias_ih"][H:2 * H] = forget  # PyTorch's rows i, f, g, o: f is the second block
        layer = _numpy_layer(ctx, kind, tp)
        layer.forward(x)
        dhs = np.zeros((N, T, H))
        dhs[:, -1] = d_last
        layer.backward(dhs)
        cell = trec.recurrent(kind, *(as64(tp[k]) for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")), cell=True)
        zeros = tuple(as64(np.zeros((N, H))) for _ in range(2 if kind == "lstm" else 1))
        dh_t = ctx.numpy(trec.hidden_gradients(cell, as64(x), zeros, as64(d_last)))
        ctx.compare(f"gradient flow, {name}: ∂L/∂h_t at every t vs autograd (float64, normwise)", layer.dh, dh_t,
                    scale=np.linalg.norm(dh_t, axis=(0, 2), keepdims=True),
                    note="float64 in both runs; each ∂L/∂h_t (N × H) against its own norm: an element that cancels to "
                         "near 0 keeps the ulp-level rounding of its tensor's size.")
        norms, norms_t = np.linalg.norm(layer.dh, axis=(0, 2)), np.linalg.norm(dh_t, axis=(0, 2))
        ratios[key] = norms[0] / norms[-1]
        values[f"{key} NumPy"], values[f"{key} PyTorch"] = float(ratios[key]), float(norms_t[0] / norms_t[-1])
        rows[f"{name} NumPy"], rows[f"{name} torch"] = norms, norms_t
    span = f"‖∂L/∂h_0‖/‖∂L/∂h_{T - 1}‖"
    ctx.finding(f"gradient flow: vanishes over {T} steps with small W_h (ratio < 1e-3)", ratios["flow-small"] < 1e-3,
                f"{span} = {ratios['flow-small']:.2e}")
    ctx.finding(f"gradient flow: explodes over {T} steps with large W_h (ratio > 10)", ratios["flow-large"] > 10,
                f"{span} = {ratios['flow-large']:.2e}")
    ctx.finding("gradient flow: the LSTM with its forget gate open keeps 1000× more than the small-W_h RNN",
                ratios["flow-lstm3"] > 1000 * ratios["flow-small"],
                f"{span} = {ratios['flow-lstm3']:.2e} against {ratios['flow-small']:.2e}")
    values["flow-steps"] = int(T)
    frame = pd.DataFrame(rows)
    ctx.table("gradient-flow", frame.iloc[::3])
    ctx.figure("gradient-flow", lambda: _plot_flow(frame, setups))


def _plot_flow(frame, setups):
    fig, ax = plots.grid(1, 1, size=(6.0, 3.8))
    ax = ax[0]
    colors = ("tab:blue", "tab:red", "tab:gray", "tab:green")
    for (name, _), color in zip(setups.items(), colors):
        ax.plot(frame["t"], frame[f"{name} NumPy"], color=color, lw=2, label=name)
        plots.torch_points(ax, frame["t"], frame[f"{name} torch"], color=color, label=None)
    ax.set_yscale("log")
    ax.set_xlabel("time step t")
    ax.set_ylabel("‖∂L/∂h_t‖")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return fig
