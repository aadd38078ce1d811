"""Attention (kinds ``function`` and ``layer``): scaled dot-product attention as a function and the
book's chapter 8 layers (``WeightSum``, ``AttentionWeight``, ``Attention``, ``TimeAttention``) —
against ``F.scaled_dot_product_attention`` and autograd — and the calling of attention code that
:mod:`comparisons.pairs.mha` (multi-head attention) and :mod:`comparisons.pairs.transformer` share.

The code under test is called with what its parameters' names ask for (``q``/``query``, ``mask``,
``n_head``/``num_heads``, ``c_attn``, ``Wq`` …). A mask comes in three forms in the wild: additive
(0 where a query may attend, −1e10 where not: picoGPT's), boolean True-to-attend
(``F.scaled_dot_product_attention``'s) and boolean True-to-block (``nn.MultiheadAttention``'s).
The form is read off the code: the one under which the output at position i does not move when
the positions after i do (a causal mask that works). On a row that keeps a key, −1e10 and −∞ give
the very same weights (exp(−1e10 − max) is exactly 0), so every form is compared exactly; a row
with every key masked, where they part, is the lesson's (concept ``attention``), not a verdict.
"""

from __future__ import annotations

import numpy as np
import torch

import scratch.attention as SA
import torch_ref.attention as ta

from ..checks import close
from ._base import Comparison, Hparam, Mistake, Pair, TargetError, as_array, call, construct, parameters, tensorwise

MASK_NAMES = ("mask", "attn_mask", "attention_mask", "causal_mask", "masks")
CAUSAL_NAMES = ("is_causal", "causal")
HEAD_NAMES = ("n_head", "n_heads", "num_heads", "nhead", "heads", "head_count", "h_count")
SCALE = Hparam("scale", None, "scale", bounds="(0, inf)")

MASK_FORMS = {  # boolean forms first: a float mask 0/−1e10 is truthy exactly where it blocks
    "keep": ("a boolean mask, True where a query may attend (F.scaled_dot_product_attention's attn_mask)",
             lambda keep, dtype: np.array(keep, dtype=bool)),
    "block": ("a boolean mask, True where a query may NOT attend (nn.MultiheadAttention's attn_mask)",
              lambda keep, dtype: ~np.array(keep, dtype=bool)),
    "additive": ("an additive mask, 0 where a query may attend and −1e10 where it may not (picoGPT's): "
                 "exp(−1e10 − max) is exactly 0, so on every row that keeps a key it equals −∞ (the −1e10 convention)",
                 lambda keep, dtype: np.where(keep, 0.0, -1e10).astype(dtype)),
}


# --- calling the code under test -----------------------------------------------------------------


def takes(fn, names) -> str | None:
    """The first of ``names`` that ``fn``'s signature has (case-insensitive), or None."""
    params = {p.lower(): p for p in (parameters(fn) or {})}
    return next((params[n.lower()] for n in names if n.lower() in params), None)


def with_aliases(given: dict, aliases: dict) -> dict:
    """``given`` with each value also under its aliases (``{"q": q}`` → q, query, queries …)."""
    out = dict(given)
    for key, names in aliases.items():
        if key in given:
            out.update({n: given[key] for n in names})
    return out


def outputs(result, what: str) -> tuple:
    """(first array, second array or None) of a result that is an array or a tuple (out, weights/cache)."""
    if isinstance(result, tuple) and result:
        second = result[1] if len(result) > 1 and isinstance(result[1], np.ndarray) else None
        return as_array(result[0], what), second
    return as_array(result, what), None


def tried(run, label: str, optional: bool, make):
    """``make()`` (a call of the code under test); for an optional case whose call raises, the error
    is noted and None returned (code written for one sequence is not wrong on a batch)."""
    try:
        return make()
    except TargetError as exc:
        if not optional:
            raise
        run.notes.append(f"skipped '{label}': {exc}")
        return None


def detect_mask_form(ctx, run_with, inputs, keep, run, what="the mask") -> str:
    """The mask form under which ``run_with(mask, *inputs)`` keeps the future out: its output at the
    first positions does not move when every input after them changes (``inputs``: arrays (…, T, ·)
    whose positions are the second-to-last axis). Named in the notes; the additive form when none
    does (the code has a mistake; it is judged under that form, as the catalogue's are)."""
    T = inputs[0].shape[-2]
    cut = T // 2
    moved = []
    for a in inputs:
        b = a.copy()
        b[..., cut:, :] += 3.0
        moved.append(b)
    atol, rtol = ctx.tolerance("exact")
    for name, (text, make) in MASK_FORMS.items():
        try:
            before = np.asarray(run_with(make(keep, ctx.np_dtype), *inputs), dtype=np.float64)
            after = np.asarray(run_with(make(keep, ctx.np_dtype), *moved), dtype=np.float64)
        except TargetError:
            continue
        if before.shape == after.shape and np.all(np.isfinite(before)) and \
                np.all(close(before[..., :cut, :], after[..., :cut, :], atol, rtol)):
            run.notes.append(f"{what}: {text}")
            return name
    run.notes.append(f"{what}: no mask form kept the future out of the causal case, so it is compared as "
                     f"{MASK_FORMS['additive'][0].split(' (')[0]}")
    return "additive"


def _keep_tensor(ctx, keep):
    return None if keep is None else torch.as_tensor(np.asarray(keep, dtype=bool), device=ctx.device)


# --- scaled dot-product attention (a function) ----------------------------------------------------

QKV_ALIASES = {"q": ("q", "query", "queries"), "k": ("k", "key", "keys"), "v": ("v", "value", "values")}


def attention_inputs(ctx):
    """label → (q, k, v, keep, optional): one sequence (T, d), T_q ≠ T_k and d_v ≠ d_k; causal;
    a padding mask in which every query keeps a key; scores in the thousands (a softmax without the
    max shift overflows); and batches (N, T, d) and heads (N, n_head, T, d), optional: code written
    for one sequence (``k.T``) is not wrong."""
    r = ctx.rng

    def qkv(lead, t_q, t_k, d=4, d_v=6):
        return (ctx.array(r.normal(size=lead + (t_q, d))), ctx.array(r.normal(size=lead + (t_k, d))),
                ctx.array(r.normal(size=lead + (t_k, d_v))))

    padding = r.random((5, 7)) < 0.6
    padding[np.arange(5), r.integers(0, 7, 5)] = True  # every query keeps at least one key
    return {"q (5, 4), k (7, 4), v (7, 6)": (*qkv((), 5, 7), None, False),
            "causal, T = 6": (*qkv((), 6, 6), SA.causal_mask(6), False),
            "padding mask (5, 7)": (*qkv((), 5, 7), padding, False),
            "scores up to ±1000s, exact (integer q, k; d = 16)": _large_scores(ctx),
            "batch (2, 5, 4), causal": (*qkv((2,), 5, 5), SA.causal_mask(5), True),
            "heads (2, 3, 6, 4), causal": (*qkv((2, 3), 6, 6), SA.causal_mask(6), True)}


def _large_scores(ctx):
    """Scores in the hundreds and thousands (an unshifted exp overflows) that both sides compute
    exactly: integer q, k with d = 16, so q kᵀ/√d and SDPA's q·√(1/√d) are exact in either dtype and
    only the softmax's own rounding is compared (rounded scores would be amplified by exp)."""
    r = ctx.rng
    return (ctx.array(r.integers(-40, 41, (4, 16))), ctx.array(r.integers(-40, 41, (5, 16))),
            ctx.array(r.normal(size=(5, 6))), None, False)


def _call_attention(fn, pair, hparams, run, q, k, v, mask=None, causal=None):
    given = {"q": q.copy(), "k": k.copy(), "v": v.copy()}
    if mask is not None:
        given.update({n: mask.copy() for n in MASK_NAMES})
    if causal is not None:
        given.update({n: causal for n in CAUSAL_NAMES})
    result = construct(fn, pair, hparams, with_aliases(given, QKV_ALIASES), run)
    return outputs(result, "its result")


def drive_attention(ctx, pair, fn, hparams, run):
    """``fn(q, k, v[, mask])`` on every input (its mask in the form the code reads, detected), against
    ``F.scaled_dot_product_attention``; a second array returned (the weights) is compared too."""
    cases = pair.inputs(ctx)
    mask_name, causal_name = takes(fn, MASK_NAMES), takes(fn, CAUSAL_NAMES)
    form = None
    if mask_name:
        q, k, v, keep, _ = cases["causal, T = 6"]
        form = detect_mask_form(ctx, lambda m, *qkv: _call_attention(fn, pair, hparams, run, *qkv, mask=m)[0],
                                (q, k, v), keep, run)
    elif causal_name is None:
        run.notes.append("it takes no mask: only the unmasked cases are compared")
    scale = hparams.get("scale")
    out = []
    for label, (q, k, v, keep, optional) in cases.items():
        if keep is not None and mask_name is None and (causal_name is None or "padding" in label):
            continue
        mask = None
        if mask_name:
            mask = MASK_FORMS[form][1](np.ones((q.shape[-2], k.shape[-2]), bool) if keep is None else keep, ctx.np_dtype)
        result = tried(run, label, optional, lambda: _call_attention(
            fn, pair, hparams, run, q, k, v, mask=mask, causal=True if keep is not None and mask is None else None))
        if result is None:
            continue
        y, weights = result
        tq, tk, tv = (ctx.tensor(a) for a in (q, k, v))
        with torch.no_grad():
            ref = pair.torch(tq, tk, tv, attn_mask=_keep_tensor(ctx, keep), scale=scale)
        out.append(Comparison(f"output, {label}", y, ref))
        if weights is not None and weights.shape == q.shape[:-1] + k.shape[-2:-1]:
            with torch.no_grad():
                ref_w = ta.attention_weights(tq, tk, _keep_tensor(ctx, keep), scale)
            out.append(Comparison(f"attention weights, {label}", weights, ref_w))
    return out


def stable_softmax(x, axis=-1):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def keys_transposed(k):
    return np.swapaxes(k, -1, -2)


def attention_unscaled(q, k, v, mask):
    return stable_softmax(q @ keys_transposed(k) + mask) @ v


def attention_query_axis(q, k, v, mask):
    return stable_softmax(q @ keys_transposed(k) / np.sqrt(q.shape[-1]) + mask, axis=-2) @ v


def attention_mask_after_softmax(q, k, v, mask):
    return (stable_softmax(q @ keys_transposed(k) / np.sqrt(q.shape[-1])) + mask) @ v


def attention_weights_kept_unnormalised(q, k, v, mask):
    """softmax(s) ⊙ keep, no renormalisation: the kept weights no longer sum to 1."""
    return (stable_softmax(q @ keys_transposed(k) / np.sqrt(q.shape[-1])) * (mask == 0)) @ v


MISSING_SCALE = ("the scores are not divided by √d_k: softmax(q kᵀ/√d_k) keeps their variance near 1 (PyTorch's "
                 "default scale); the book's chapter 8 attention has no scale: for that reference give --hparam scale=1")
QUERY_AXIS = ("softmax over the queries (axis −2) instead of the keys: each query's weights over the keys must sum to 1")
MASK_AFTER = ("the mask is added after the softmax: mask the scores (−∞ or −1e10 where a query may not attend), "
              "then take the softmax, so the kept weights sum to 1")

# --- the book's chapter 8 layers ---------------------------------------------------------------------

BOOK_SIZES = (3, 5, 4, 4)  # N, T_enc, H, T_dec


def _book_draws(ctx, layer_id):
    """The forward inputs of one call of a book layer, and its upstream gradient."""
    N, T, H, T_dec = BOOK_SIZES
    r = ctx.rng
    hs = ctx.array(r.normal(size=(N, T, H)))
    if layer_id == "weight-sum":
        a = ctx.array(np.exp(r.normal(size=(N, T))))
        return (hs, a / a.sum(axis=1, keepdims=True)), ctx.array(r.normal(size=(N, H)))
    if layer_id == "attention-weight":
        return (hs, ctx.array(r.normal(size=(N, H)))), ctx.array(r.normal(size=(N, T)))
    if layer_id == "attention":
        return (hs, ctx.array(r.normal(size=(N, H)))), ctx.array(r.normal(size=(N, H)))
    return (hs, ctx.array(r.normal(size=(N, T_dec, H)))), ctx.array(r.normal(size=(N, T_dec, H)))


BOOK_NAMES = {"weight-sum": ("hs", "a", "dhs", "da"), "attention-weight": ("hs", "h", "dhs", "dh"),
              "attention": ("hs", "h", "dhs", "dh"), "time-attention": ("hs_enc", "hs_dec", "dhs_enc", "dhs_dec")}


def drive_book_layer(ctx, pair, cls, hparams, run):
    """One of the book's chapter 8 layers (``pair.options['layer']``), built without arguments as the
    book builds them: forward(hs, ·) and backward(dout) → the two input gradients, twice on the same
    object with new inputs, against the ``torch_ref.attention`` function and autograd."""
    layer_id = pair.options["layer"]
    first, second, d_first, d_second = BOOK_NAMES[layer_id]
    layer = construct(cls, pair, hparams, {}, run)
    has_backward = callable(getattr(layer, "backward", None))
    if not has_backward:
        run.notes.append("the layer has no backward: its forward pass is compared")
    out = []
    for call_no in (1, 2):
        (a, b), dout = _book_draws(ctx, layer_id)
        label = f"call {call_no}"
        y = as_array(call(layer.forward, f"forward({first}{a.shape}, {second}{b.shape})", a.copy(), b.copy()),
                     "forward's result")
        ta_, tb_ = ctx.tensor(a, requires_grad=True), ctx.tensor(b, requires_grad=True)
        kwargs = {"scale": hparams["scale"]} if layer_id in ("attention", "time-attention") and hparams.get("scale", 1) != 1 else {}
        y_t = _book_reference(pair.torch, ta_, tb_, **kwargs)
        y_t.backward(ctx.tensor(dout))
        out.append(Comparison(f"forward, {label}", y, y_t.detach()))
        if not has_backward:
            continue
        back = call(layer.backward, f"backward(dout{dout.shape})", dout.copy())
        if not (isinstance(back, tuple) and len(back) == 2):
            raise TargetError(f"backward must return ({d_first}, {d_second}), got {type(back).__name__}")
        out += [Comparison(f"backward {d_first}, {label}", as_array(back[0], d_first), ta_.grad, scale=tensorwise(ta_.grad)),
                Comparison(f"backward {d_second}, {label}", as_array(back[1], d_second), tb_.grad,
                           scale=tensorwise(tb_.grad))]
    return out


def _book_reference(fn, a, b, scale=None):
    if scale is None:
        return fn(a, b)
    if fn is ta.book_attention:
        return ta.sdpa(b.unsqueeze(1), a, a, scale=scale).squeeze(1)
    return ta.sdpa(b, a, a, scale=scale)


class WeightSumUnweightedDhs(SA.WeightSum):
    def backward(self, dc):
        dhs, da = super().backward(dc)
        return np.broadcast_to(np.asarray(dc)[:, None, :], dhs.shape).copy(), da


class AttentionWeightNoSoftmaxJacobian(SA.AttentionWeight):
    def backward(self, da):
        hs, h, a = self.cache
        ds = np.asarray(da)
        return ds[:, :, None] * h[:, None, :], (ds[:, None, :] @ hs)[:, 0]


class AttentionOnePath(SA.Attention):
    def backward(self, dc):
        dhs_sum, da = self.weight_sum_layer.backward(dc)
        _, dh = self.attention_weight_layer.backward(da)
        return dhs_sum, dh


class TimeAttentionLastStepOnly(SA.TimeAttention):
    """dhs_enc from the last decoder step only (= where += is needed)."""

    def backward(self, dout):
        dout = np.asarray(dout)
        last_only = np.zeros_like(dout)
        last_only[:, -1] = dout[:, -1]
        dhs_enc, _ = super().backward(last_only)
        _, dhs_dec = super().backward(dout)
        return dhs_enc, dhs_dec


class TimeAttentionScaled(SA.TimeAttention):
    def forward(self, hs_enc, hs_dec):
        hs_enc, hs_dec = np.asarray(hs_enc), np.asarray(hs_dec)
        out, self.cache = SA.scaled_dot_product_attention(hs_dec, hs_enc, hs_enc)
        return out


# --- declarations ------------------------------------------------------------------------------------

BOOK_SCALE = Hparam("scale", 1, "scale", bounds="(0, inf)")


def _book_pair(pid, name, reference, names, interface, mistakes=(), hparams=()):
    return Pair(pid, "layer", f"attention.{name}", reference, interface, drive_book_layer, hparams, None, mistakes, names,
                {"layer": pid})


PAIRS = [
    Pair("attention", "function", "attention.scaled_dot_product_attention", ta.sdpa,
         "a function attention(q (…, T_q, d), k (…, T_k, d), v (…, T_k, d_v)[, mask]) -> softmax(q kᵀ/√d + mask) v "
         "(or (out, weights)); the mask additive (0 / −1e10) or boolean, read off the code",
         drive_attention, (SCALE,), attention_inputs,
         (Mistake(MISSING_SCALE, attention_unscaled), Mistake(QUERY_AXIS, attention_query_axis),
          Mistake(MASK_AFTER, attention_mask_after_softmax),
          Mistake("the mask is applied after the softmax (weights ⊙ keep, not renormalised): the kept weights no "
                  "longer sum to 1; mask the scores before the softmax", attention_weights_kept_unnormalised)),
         ("attention", "scaled_dot_product_attention", "sdpa", "dot_product_attention", "scaled_attention")),
    _book_pair("weight-sum", "WeightSum", ta.weight_sum, ("WeightSum",),
               "the book's WeightSum: forward(hs (N, T, H), a (N, T)) -> c (N, H), backward(dc) -> (dhs, da)",
               (Mistake("dhs is dc copied to every step: the weighted sum's gradient is aₜ · dc", WeightSumUnweightedDhs),)),
    _book_pair("attention-weight", "AttentionWeight", ta.attention_weight, ("AttentionWeight",),
               "the book's AttentionWeight: forward(hs (N, T, H), h (N, H)) -> a = softmax(hs·h) (N, T), "
               "backward(da) -> (dhs, dh)",
               (Mistake("backward skips the softmax: ds = a ⊙ (da − Σ da ⊙ a), not da",
                        AttentionWeightNoSoftmaxJacobian),)),
    _book_pair("attention", "Attention", ta.book_attention, ("Attention",),
               "the book's Attention: forward(hs (N, T, H), h (N, H)) -> the context (N, H), backward(dc) -> (dhs, dh)",
               (Mistake("dhs comes only from the weighted sum: hs also made the weights, so dhs is the sum of both "
                        "paths' gradients", AttentionOnePath),), (BOOK_SCALE,)),
    _book_pair("time-attention", "TimeAttention", ta.time_attention, ("TimeAttention",),
               "the book's TimeAttention: forward(hs_enc (N, T_enc, H), hs_dec (N, T_dec, H)) -> (N, T_dec, H), "
               "backward(dout) -> (dhs_enc, dhs_dec)",
               (Mistake("dhs_enc keeps the last decoder step's gradient only: every step attends over hs_enc, so "
                        "their gradients add up (+=)", TimeAttentionLastStepOnly),
                Mistake("the scores are divided by √H (the transformer's scaled dot product): the book's attention "
                        "has no scale", TimeAttentionScaled)), (BOOK_SCALE,)),
]
