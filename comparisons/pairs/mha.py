"""Multi-head attention (kinds ``function`` and ``layer``): as a function of GPT-2's nested dicts
(picoGPT's ``mha``) and as a class with forward and backward, against ``nn.MultiheadAttention``'s
computation and autograd.

The code under test is called as :mod:`comparisons.pairs.attention` calls scaled dot-product
attention (its parameters' names read: ``n_head``/``num_heads``, ``c_attn``, ``Wq`` …, the mask in
the form the code uses). The weights are (in, out) as the book and GPT-2 keep them, or (out, in) as
``nn.Linear`` does when the layer says so (hyperparameter ``weight_layout``).
"""

from __future__ import annotations

import numpy as np
import torch

import scratch.attention as SA
import torch_ref.attention as ta

from .. import transformer_bridge as tb
from ._base import Comparison, Hparam, Mistake, Pair, VerifyUsageError, as_array, call, construct, parameters
from ._styles import gradients
from .attention import (CAUSAL_NAMES, HEAD_NAMES, MASK_FORMS, MASK_NAMES, MISSING_SCALE, detect_mask_form,
                        keys_transposed, outputs, stable_softmax, takes, tried, with_aliases)
from ._base import tensorwise

# --- multi-head attention as a function of GPT-2's nested dicts (picoGPT's mha) -----------------------

MHA_SIZES = (2, 5, 12, 3)  # N, T, E, n_head: d_h = 4; N ≠ n_head ≠ T


def mha_aliases():
    return {"c_attn": ("c_attn", "attn", "qkv"), "c_proj": ("c_proj", "proj", "out"), "n_head": HEAD_NAMES,
            "w_qkv": ("w_qkv", "qkv_w", "w_attn"), "b_qkv": ("b_qkv", "qkv_b", "b_attn"),
            "w_o": ("w_o", "w_out", "w_proj", "proj_w"), "b_o": ("b_o", "b_out", "b_proj", "proj_b")}


def random_mha(ctx, E, std=0.4):
    """Separate (in, out) weights Wq, bq, …, Wo, bo drawn from the run's generator."""
    rng = ctx.rng
    params = {w: ctx.array(std * rng.standard_normal((E, E))) for w in ("Wq", "Wk", "Wv", "Wo")}
    params.update({b: ctx.array(std * rng.standard_normal(E)) for b in ("bq", "bk", "bv", "bo")})
    return params


def nested_mha(params):
    """GPT-2's {c_attn: {w (E, 3E), b}, c_proj: {w, b}} from separate (in, out) weights."""
    block = tb.gpt2_block({**{f"attn.{k}": v for k, v in params.items()}, "ln1.gamma": 0, "ln1.beta": 0,
                           "ln2.gamma": 0, "ln2.beta": 0, "mlp.W1": 0, "mlp.b1": 0, "mlp.W2": 0, "mlp.b2": 0})
    return block["attn"]


def torch_causal_mha(ctx, params, x, n_head):
    """``nn.MultiheadAttention`` holding ``params`` on x (…, T, E) (one sequence: a batch of one),
    self-attention under the causal ``attn_mask``: its output, and the module (for its gradients)."""
    E = x.shape[-1]
    mha = tb.load_mha(ta.multihead_attention(E, n_head, ctx.torch_dtype), params).to(ctx.device)
    xt = ctx.tensor(x if x.ndim == 3 else x[None])
    with torch.no_grad():
        y, _ = mha(xt, xt, xt, attn_mask=ta.causal_attn_mask(x.shape[-2], device=ctx.device), is_causal=True,
                   need_weights=False)
    return y if x.ndim == 3 else y[0]


def mha_function_inputs(ctx):
    N, T, E, _ = MHA_SIZES
    return {"x (T = 6, E = 12)": (ctx.array(ctx.rng.normal(size=(6, E))), False),
            "x (T = 1, E = 12)": (ctx.array(ctx.rng.normal(size=(1, E))), False),
            f"batch x ({N}, {T}, {E})": (ctx.array(ctx.rng.normal(size=(N, T, E))), True)}


def drive_mha_function(ctx, pair, fn, hparams, run):
    """``mha(x, c_attn, c_proj, n_head)``: causal self-attention of x (T, E) with GPT-2's packed
    (in, out) weights, against ``nn.MultiheadAttention`` (``in_proj_weight = c_attn.wᵀ``) under the
    causal mask."""
    _, _, E, H = MHA_SIZES
    params = random_mha(ctx, E)
    nested = nested_mha(params)
    flat = {"w_qkv": nested["c_attn"]["w"], "b_qkv": nested["c_attn"]["b"], "w_o": nested["c_proj"]["w"],
            "b_o": nested["c_proj"]["b"]}
    out = []
    for label, (x, optional) in pair.inputs(ctx).items():
        given = {"x": x.copy(), "c_attn": {k: v.copy() for k, v in nested["c_attn"].items()},
                 "c_proj": {k: v.copy() for k, v in nested["c_proj"].items()}, "n_head": H,
                 **{k: v.copy() for k, v in flat.items()}}
        result = tried(run, label, optional, lambda: construct(
            fn, pair, hparams, with_aliases(given, {**mha_aliases(), "x": ("x", "inputs")}), run))
        if result is None:
            continue
        y, _ = outputs(result, "its result")
        out.append(Comparison(f"output, {label}", y, torch_causal_mha(ctx, params, x, H)))
    return out


def _split(x, n_head):
    T, E = x.shape[-2:]
    return np.moveaxis(x.reshape(*x.shape[:-1], n_head, E // n_head), -2, -3)


def _merge(x):
    x = np.moveaxis(x, -3, -2)
    return x.reshape(*x.shape[:-2], -1)


def _split_no_transpose(x, n_head):
    T, E = x.shape[-2:]
    return x.reshape(*x.shape[:-2], n_head, T, E // n_head)


def _merge_no_transpose(x):
    n_head, T, d = x.shape[-3:]
    return x.reshape(*x.shape[:-3], T, n_head * d)


def mha_variant(scaled=True, split=_split, merge=_merge, diagonal_masked=False):
    """picoGPT's ``mha(x, c_attn, c_proj, n_head)`` with one catalogued mistake switched on."""
    def mha(x, c_attn, c_proj, n_head):
        q, k, v = np.split(x @ c_attn["w"] + c_attn["b"], 3, axis=-1)
        T = x.shape[-2]
        mask = (1 - np.tri(T, k=-1 if diagonal_masked else 0)) * -1e10
        q, k, v = (split(a, n_head) for a in (q, k, v))
        s = q @ keys_transposed(k) / (np.sqrt(q.shape[-1]) if scaled else 1.0)
        return merge(stable_softmax(s + mask) @ v) @ c_proj["w"] + c_proj["b"]
    return mha


HEADS_NO_TRANSPOSE = ("the heads are split with a reshape alone, (T, E) → (n_head, T, d_h): that cuts the flat "
                      "array into blocks of T·d_h, mixing positions and heads; reshape to (T, n_head, d_h) and move "
                      "the head axis in front (transpose), and back the same way when merging")
CAUSAL_OFF_BY_ONE = ("the causal mask is off by one: it masks the diagonal too (np.tri(T, k=−1)), so a position "
                     "cannot see itself and the first one sees nothing; a query i may attend to keys j ≤ i")


# --- multi-head attention as a class --------------------------------------------------------------------

WEIGHT_LAYOUT = Hparam("weight_layout", "in_out", None, choices=("in_out", "out_in"))
LAYOUT_CONVENTION = ("your layer reads the separate weights as (out, in) and computes x Wᵀ (nn.Linear's layout); "
                     "NumPy code, and this reference by default, keeps W as (in, out) for x W")


def _layer_weights(params, layout):
    """The weights as the layer under test is given them: (in, out), or transposed for ``out_in``."""
    if layout == "out_in":
        return {k: (v.T.copy() if v.ndim == 2 else v.copy()) for k, v in params.items()}
    return {k: v.copy() for k, v in params.items()}


def _weight_aliases(params):
    """Wq is also asked for as W_q, bq as b_q."""
    return {k: (k, f"{k[0]}_{k[1:]}") for k in params}


def _asked_names(cls, params) -> dict:
    """key → the name the class's constructor asks for that weight by (``Wq``, or ``W_q``)."""
    asked = {p.lower(): p for p in (parameters(cls) or {})}
    return {k: next((asked[a.lower()] for a in aliases if a.lower() in asked), k) for k, aliases in _weight_aliases(params).items()}


def _build_mha(ctx, pair, cls, hparams, run, params, layout):
    given = {"params": _layer_weights(params, layout), "n_head": MHA_SIZES[3], "embed_dim": MHA_SIZES[2]}
    given.update(_layer_weights(params, layout))
    aliases = {**_weight_aliases(params), "n_head": HEAD_NAMES, "embed_dim": ("embed_dim", "d_model", "e", "dim")}
    if not (takes(cls, ("params",)) or takes(cls, ("Wq", "W_q"))):
        raise VerifyUsageError("a multi-head attention class must take its weights: params (a dict Wq, bq, Wk, bk, "
                               "Wv, bv, Wo, bo) or the arrays Wq, …, bo by name, and n_head")
    return construct(cls, pair, hparams, with_aliases(given, aliases), run)


def _attention_grads(layer, params, layout, names):
    """The layer's parameter gradients in the (in, out) layout, under scratch's keys (``Wq``) or the
    names its constructor asked for them by (``W_q``, whose gradient is then ``dW_q``)."""
    try:
        grads = gradients(layer, list(params))
    except VerifyUsageError:
        if all(names[k] == k for k in params):
            raise
        grads = dict(zip(params, gradients(layer, [names[k] for k in params]).values()))
    if layout == "out_in":
        grads = {k: (g.T if g.ndim == 2 else g) for k, g in grads.items()}
    return grads


def bias_scales(grads_t: dict, prefix: str = "") -> dict:
    """The scale each gradient is judged against: its own largest |element|, but for b_q, b_k, b_v the
    largest of the three. b_k's true gradient is exactly 0 (softmax ignores the shift q·b_k, the same
    for every key): each side returns only a rounding residue of its terms, judged, as inside
    PyTorch's packed ``in_proj_bias``, against the size of b_q's and b_v's."""
    sizes = {k: tensorwise(g) for k, g in grads_t.items()}
    together = [f"{prefix}b{n}" for n in "qkv"]
    if all(k in sizes for k in together):
        biggest = max(sizes[k] for k in together)
        sizes.update({k: biggest for k in together})
    return sizes


KEY_BIAS_NOTE = ("b_k's true gradient is exactly 0 (softmax ignores the shift q·b_k, the same for every key): each side "
                 "returns a rounding residue of a few ulp of its terms, judged against the size of b_q's and b_v's")


def grad_comparison(label, key, actual, expected, scales) -> Comparison:
    """A parameter's gradient against autograd's, at the scale of :func:`bias_scales` (b_k noted)."""
    return Comparison(label, actual, expected, scale=scales[key], note=KEY_BIAS_NOTE if key.endswith("bk") else "")


def _mha_cases(ctx, forward):
    """(label, x_q, x_kv or None, causal) the class is run on: self-attention, causal self-attention,
    and cross-attention (T_k ≠ T_q) where its forward takes a second input."""
    N, T, E, _ = MHA_SIZES
    cases = [("self-attention", ctx.array(ctx.rng.normal(size=(N, T, E))), None, False),
             ("causal self-attention", ctx.array(ctx.rng.normal(size=(N, T, E))), None, True)]
    if len([p for p in (parameters(forward) or {}).values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
            and p.default is p.empty]) >= 2 or takes(forward, ("x_kv", "kv", "context", "memory", "key")):
        cases.append(("cross-attention, T_k = 7", ctx.array(ctx.rng.normal(size=(N, T, E))),
                      ctx.array(ctx.rng.normal(size=(N, 7, E))), False))
    return cases


def _forward_kwargs(ctx, layer, causal, form, T):
    if not causal:
        return {}
    name = takes(layer.forward, CAUSAL_NAMES)
    if name:
        return {name: True}
    mask = takes(layer.forward, MASK_NAMES)
    return {mask: MASK_FORMS[form][1](SA.causal_mask(T), ctx.np_dtype)}


def drive_mha_layer(ctx, pair, cls, hparams, run):
    """A multi-head attention class (its weights in ``params`` or by name, ``n_head``): forward on
    self-, causal self- and cross-attention, then, where it has one, backward: dx and every
    parameter's gradient, against ``nn.MultiheadAttention`` and autograd. One layer object is run on
    every case (state must not leak between calls)."""
    N, T, E, H = MHA_SIZES
    layout = hparams.get("weight_layout", "in_out")
    params = random_mha(ctx, E)
    layer = _build_mha(ctx, pair, cls, hparams, run, params, layout)
    if not callable(getattr(layer, "forward", None)) and callable(layer):
        layer.forward = layer.__call__
    can_causal = takes(layer.forward, CAUSAL_NAMES) or takes(layer.forward, MASK_NAMES)
    form = None
    if can_causal and not takes(layer.forward, CAUSAL_NAMES):
        x0 = ctx.array(ctx.rng.normal(size=(N, T, E)))
        name = takes(layer.forward, MASK_NAMES)
        form = detect_mask_form(ctx, lambda m, x: as_array(call(layer.forward, "forward(x, mask)", x.copy(), **{name: m}),
                                                           "forward's result"), (x0,), SA.causal_mask(T), run)
    has_backward = callable(getattr(layer, "backward", None))
    if not has_backward:
        run.notes.append("the layer has no backward: its forward pass is compared")
    out = []
    for label, x_q, x_kv, causal in _mha_cases(ctx, layer.forward):
        if causal and not can_causal:
            run.notes.append(f"skipped '{label}': its forward takes neither is_causal nor a mask")
            continue
        args = (x_q.copy(),) if x_kv is None else (x_q.copy(), x_kv.copy())
        y = as_array(call(layer.forward, f"forward on x{x_q.shape}", *args, **_forward_kwargs(ctx, layer, causal, form, T)),
                     "forward's result")
        dout = ctx.array(ctx.rng.normal(size=x_q.shape))
        mha = tb.load_mha(ta.multihead_attention(E, H, ctx.torch_dtype), params).to(ctx.device)
        options = dict(attn_mask=ta.causal_attn_mask(T, device=ctx.device), is_causal=True) if causal else {}
        y_t, _, dxq_t, dxkv_t = ta.mha_forward_backward(mha, ctx.tensor(x_q), None if x_kv is None else ctx.tensor(x_kv),
                                                        ctx.tensor(dout), **options)
        out.append(Comparison(f"forward, {label}", y, y_t, scale=tensorwise(y_t)))
        if not has_backward:
            continue
        back = call(layer.backward, f"backward(dout{dout.shape})", dout.copy())
        back = back if isinstance(back, tuple) else (back,)
        if x_kv is None and len(back) == 3:  # (dq, dk, dv) of one input: its gradient is their sum
            back = (sum(as_array(b, "backward's result") for b in back),)
        out.append(Comparison(f"backward dx{'_q' if x_kv is not None else ''}, {label}", as_array(back[0], "dx"), dxq_t,
                              scale=tensorwise(dxq_t)))
        if x_kv is not None and len(back) > 1:
            out.append(Comparison(f"backward dx_kv, {label}", as_array(back[1], "dx_kv"), dxkv_t, scale=tensorwise(dxkv_t)))
        grads_t = tb.mha_arrays(mha, grad=True)
        grads, scales = _attention_grads(layer, params, layout, _asked_names(cls, params)), bias_scales(grads_t)
        out += [grad_comparison(f"backward d{k}, {label}", k, grads[k], grads_t[k], scales) for k in params]
    return out


class MHAHeadsNoTranspose(SA.MultiHeadAttention):
    def _split_heads(self, x):
        N, T, E = x.shape
        return x.reshape(N, self.n_head, T, E // self.n_head)

    @staticmethod
    def _merge_heads(x):
        N, n_head, T, d_h = x.shape
        return x.reshape(N, T, n_head * d_h)


class MHAUnscaled(SA.MultiHeadAttention):
    def __init__(self, params, n_head):
        super().__init__(params, n_head, scale=1.0)


class MHACausalOffByOne(SA.MultiHeadAttention):
    def forward(self, x_q, x_kv=None, mask=None, is_causal=False):
        if is_causal:
            T = np.shape(x_q)[1]
            return super().forward(x_q, x_kv, mask=np.tri(T, k=-1, dtype=bool))
        return super().forward(x_q, x_kv, mask=mask)


class MHABackwardQueryPathOnly(SA.MultiHeadAttention):
    """Self-attention's dx from the query projection only: x also made the keys and the values."""

    def backward(self, dout):
        x_q, x_kv, self_attention, attn, merged = self._cache
        self._cache = (x_q, x_kv, False, attn, merged)  # backward as if x_kv were another input
        dx_q, dx_kv = super().backward(dout)
        return dx_q if self_attention else (dx_q, dx_kv)


class MHAOutIn(SA.MultiHeadAttention):
    """Reads its separate weights as (out, in): x Wᵀ; its gradients in the same layout."""

    def _weights(self):
        Wq, bq, Wkv, bkv, Wo, bo = super()._weights()
        E = self.embed_dim
        return Wq.T, bq, np.concatenate([Wkv[:, :E].T, Wkv[:, E:].T], axis=1), bkv, Wo.T, bo

    def _store_grads(self, dWq, dbq, dWkv, dbkv, dWo, dbo):
        E = self.embed_dim
        super()._store_grads(dWq.T, dbq, np.concatenate([dWkv[:, :E].T, dWkv[:, E:].T], axis=1), dbkv, dWo.T, dbo)


# --- declarations ------------------------------------------------------------------------------------

PAIRS = [
    Pair("mha", "function", "gpt.mha", ta.multihead_attention,
         "a function mha(x (T, E), c_attn {w (E, 3E), b}, c_proj {w (E, E), b}, n_head) -> causal multi-head "
         "self-attention (GPT-2's nested dicts, weights (in, out), q, k, v packed in c_attn's columns)",
         drive_mha_function, (), mha_function_inputs,
         (Mistake(HEADS_NO_TRANSPOSE, mha_variant(split=_split_no_transpose, merge=_merge_no_transpose)),
          Mistake(MISSING_SCALE.split(";")[0], mha_variant(scaled=False)),
          Mistake(CAUSAL_OFF_BY_ONE, mha_variant(diagonal_masked=True))),
         ("mha", "multi_head_attention", "multihead_attention", "causal_self_attention")),
    Pair("mha", "layer", "attention.MultiHeadAttention", ta.multihead_attention,
         "a class MultiHeadAttention(params {Wq, bq, Wk, bk, Wv, bv, Wo, bo} (or those arrays by name), n_head) with "
         "forward(x[, x_kv][, mask or is_causal]) and, where it has one, backward(dout) -> dx (or (dx_q, dx_kv)); "
         "W (in, out); the gradients in grads or dWq, …",
         drive_mha_layer, (WEIGHT_LAYOUT,), None,
         (Mistake(HEADS_NO_TRANSPOSE, MHAHeadsNoTranspose), Mistake(MISSING_SCALE.split(";")[0], MHAUnscaled),
          Mistake(CAUSAL_OFF_BY_ONE, MHACausalOffByOne),
          Mistake("in self-attention x makes the queries, the keys and the values: dx is the sum of the three paths' "
                  "gradients, not the query path's alone", MHABackwardQueryPathOnly),
          Mistake(LAYOUT_CONVENTION, MHAOutIn, flag={"weight_layout": "out_in"})),
         ("MultiHeadAttention", "MultiHeadSelfAttention", "MultiheadAttention", "MultiHeadSelfAttn", "MHA",
          "CausalSelfAttention", "SelfAttention")),
]
