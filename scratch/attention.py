"""Attention (어텐션) by hand: masked softmax, scaled dot-product attention, the book's attention
layers (Deep Learning from Scratch 2, ch. 8), multi-head attention. The book's seq2seq with
attention is :mod:`scratch.seq2seq`.

**Scaled dot-product attention** (Vaswani et al. 2017). Queries q (…, T_q, d) look up keys
k (…, T_k, d) and take the matching mixture of the values v (…, T_k, d_v):

    S = q kᵀ · scale           (…, T_q, T_k), scale = 1/√d unless given
    A = softmax(S) over the keys (each row of A sums to 1; masked keys get weight exactly 0)
    out = A v                  (…, T_q, d_v)

backward, for the upstream gradient dout:

    dv = Aᵀ dout,   dA = dout vᵀ,   dS = A ⊙ (dA − Σₖ dA ⊙ A)   (softmax's vector-Jacobian product)
    dq = dS k · scale,   dk = dSᵀ q · scale

The 1/√d keeps the scores' variance near 1 when q and k have unit-variance entries (a dot
product of d terms has variance d), so the softmax does not saturate. The book's attention uses
no scale (scale = 1): its ``AttentionWeight`` is this function with q = one decoder state.

**Masks.** A boolean mask is True where a query may look at a key (``F.scaled_dot_product_attention``'s
convention; ``nn.MultiheadAttention``'s boolean ``attn_mask`` is the opposite: True = masked out).
A masked score is set to −∞, so its weight is exp(−∞) = 0 exactly. A row with every key masked
has no weights to normalise; here its weights are defined as all 0 (so its output is 0 and no
gradient flows through it), where a plain softmax of −∞'s would give 0/0 = NaN.
Much NumPy code writes a large negative number instead (``mask_value=-1e10``): then a masked
weight is exp(−1e10 − max) which underflows to exactly 0 as well, *except* in a fully masked row,
whose scores are all −1e10, so its softmax is uniform (the mean of the values), not 0.
The causal mask lets query i see keys j ≤ i (``np.tril``, aligned at the top-left corner as in
PyTorch's ``is_causal``, also when T_q ≠ T_k).
"""

from __future__ import annotations

import math

import numpy as np

from . import activations as act
from ._checks import (as_dout, as_float_array, check_axis, check_flag, check_int, check_ndim, check_real, check_shape)
from .layers import Layer


# --- masked softmax ------------------------------------------------------------------------------


def _bool_mask(mask, shape, name="mask", target="x"):
    """A boolean mask broadcast to ``shape`` (True = keep)."""
    mask = np.asarray(mask)
    if mask.dtype != np.bool_:
        raise TypeError(f"{name} must be a boolean array (True = attend / keep), got dtype {mask.dtype}")
    try:
        return np.broadcast_to(mask, shape)
    except ValueError:
        raise ValueError(f"{name} of shape {mask.shape} cannot be broadcast to the shape of {target} {tuple(shape)}")


def masked_softmax(x, mask=None, axis: int = -1):
    """Softmax over ``axis`` of x where ``mask`` is True, 0 where it is False:

        yᵢ = maskᵢ·exp(xᵢ − m) / Σⱼ maskⱼ·exp(xⱼ − m),   m = max of the kept xⱼ

    which is softmax(x with the masked entries set to −∞). A row with no kept entry is defined as
    all zeros (a plain softmax would give NaN). ``mask`` (bool) broadcasts to x; None keeps all.
    """
    x = as_float_array(x, "x")
    axis = check_axis(axis, x.ndim)
    if mask is None:
        return act.softmax(x, axis=axis)
    keep = _bool_mask(mask, x.shape)
    scores = np.where(keep, x, -np.inf)
    m = np.max(scores, axis=axis, keepdims=True, initial=-np.inf)
    e = np.exp(scores - np.where(np.isfinite(m), m, 0.0))  # exp(−∞) = 0 at the masked entries
    total = e.sum(axis=axis, keepdims=True)
    return e / np.where(total > 0, total, 1.0)  # a fully masked row: 0/1 = 0


def masked_softmax_backward(y, dout, axis: int = -1):
    """Vector-Jacobian product of :func:`masked_softmax` from its output y:
    dx = y ⊙ (dout − Σ dout ⊙ y). Where y = 0 (masked entries, fully masked rows) dx is 0."""
    return act.softmax_backward(y, dout, axis=axis)


def causal_mask(t_q: int, t_k: int | None = None) -> np.ndarray:
    """The causal mask (T_q, T_k), True where key j ≤ query i: ``np.tril`` of ones, aligned at the
    top-left corner (PyTorch's ``is_causal``). T_k defaults to T_q."""
    t_q = check_int(t_q, "t_q", minimum=1)
    t_k = t_q if t_k is None else check_int(t_k, "t_k", minimum=1)
    return np.tril(np.ones((t_q, t_k), dtype=bool))


# --- scaled dot-product attention ----------------------------------------------------------------


def _check_qkv(q, k, v):
    q, k, v = as_float_array(q, "q"), as_float_array(k, "k"), as_float_array(v, "v")
    for t, name in ((q, "q"), (k, "k"), (v, "v")):
        if t.ndim < 2 or 0 in t.shape:
            raise ValueError(f"{name} must have shape (…, T, d) with T, d >= 1, got {name}{t.shape}")
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"q and k must have the same last dimension d (one dot product per query-key pair), "
                         f"got q{q.shape} and k{k.shape}")
    if k.shape[:-1] != v.shape[:-1]:
        raise ValueError(f"k and v must have the same shape but for the last dimension (one value per key), "
                         f"got k{k.shape} and v{v.shape}")
    if q.shape[:-2] != k.shape[:-2]:
        raise ValueError(f"q, k and v must have the same batch dimensions (…), got q{q.shape} and k{k.shape}")
    return q, k, v


def _keep_mask(mask, is_causal, shape):
    """The boolean keep-mask of the scores (…, T_q, T_k), or None when nothing is masked."""
    if mask is not None and is_causal:
        raise ValueError("give either mask or is_causal=True, not both (as F.scaled_dot_product_attention); "
                         "combine them into one mask with causal_mask() & mask")
    if is_causal:
        return np.broadcast_to(causal_mask(shape[-2], shape[-1]), shape)
    if mask is None:
        return None
    return _bool_mask(mask, shape, "mask", "the scores (…, T_q, T_k)")


def scaled_dot_product_attention(q, k, v, mask=None, is_causal: bool = False, scale=None, mask_value=-np.inf):
    """out = softmax(q kᵀ · scale, masked) v for q (…, T_q, d), k (…, T_k, d), v (…, T_k, d_v).

    Returns (out (…, T_q, d_v), cache); ``cache["weights"]`` is the attention map A (…, T_q, T_k).
    ``mask``: boolean, True = attend, broadcastable to (…, T_q, T_k); ``is_causal``: the causal
    mask (not together with ``mask``); ``scale``: 1/√d when None (the book's attention: 1).
    ``mask_value``: what a masked score becomes: −∞ (exact zero weights; a fully masked row gets
    all-zero weights) or a finite number such as −1e10 (a fully masked row then gets uniform
    weights, see the module's docstring).
    """
    q, k, v = _check_qkv(q, k, v)
    is_causal = check_flag(is_causal, "is_causal")
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else check_real(scale, "scale")
    check_real(mask_value, "mask_value")
    if np.isnan(mask_value) or mask_value > 0:
        raise ValueError(f"mask_value must be -inf or a (large) negative number, got {mask_value}")
    scores = (q @ np.swapaxes(k, -1, -2)) * scale
    keep = _keep_mask(mask, is_causal, scores.shape)
    if keep is None:
        weights = act.softmax(scores, axis=-1)
    elif mask_value == -np.inf:
        weights = masked_softmax(scores, keep)
    else:
        weights = act.softmax(np.where(keep, scores, mask_value), axis=-1)
    cache = {"q": q, "k": k, "v": v, "weights": weights, "scale": scale, "keep": keep}
    return weights @ v, cache


def scaled_dot_product_attention_backward(dout, cache):
    """(dq, dk, dv) of :func:`scaled_dot_product_attention` for the upstream gradient dout (…, T_q, d_v).

    A masked score was replaced by a constant, so nothing flows back through it: dS = 0 there
    (with −∞ its weight is 0 and dS is 0 already; with a finite mask_value a fully masked row has
    non-zero weights, and only this line keeps its gradient from reaching q and k)."""
    q, k, v, a, scale, keep = (cache[n] for n in ("q", "k", "v", "weights", "scale", "keep"))
    dout = as_dout(dout, q.shape[:-1] + v.shape[-1:])
    dv = np.swapaxes(a, -1, -2) @ dout
    da = dout @ np.swapaxes(v, -1, -2)
    ds = a * (da - np.sum(da * a, axis=-1, keepdims=True))
    if keep is not None:
        ds = np.where(keep, ds, 0.0)
    ds = ds * scale
    return ds @ k, np.swapaxes(ds, -1, -2) @ q, dv


# --- the book's attention layers (Deep Learning from Scratch 2, ch. 8) ------------------------------
# Its calling style: ``params`` and ``grads`` are lists; these layers have no parameters.


class _BookLayer:
    """A layer without parameters in the book's second volume's style: ``params = grads = []``."""

    def __init__(self):
        self.params, self.grads = [], []
        self.cache = None

    def _need_forward(self):
        if self.cache is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")


def _check_hs(hs, name="hs"):
    hs = as_float_array(hs, name)
    check_ndim(hs, 3, name, "(N, T, H)")
    if 0 in hs.shape:
        raise ValueError(f"{name} must have shape (N, T, H) with N, T, H >= 1, got {name}{hs.shape}")
    return hs


class WeightSum(_BookLayer):
    """The context vector: the attention-weighted sum of the encoder's states,

        c = Σₜ aₜ · hsₜ          hs (N, T, H), a (N, T) → c (N, H)

    backward(dc) → (dhs, da):  dhsₜ = aₜ · dc,   daₜ = hsₜ · dc (a dot product over H)."""

    def forward(self, hs, a):
        hs = _check_hs(hs)
        a = as_float_array(a, "a")
        check_shape(a, hs.shape[:2], "a", f" (N, T) to weight hs{hs.shape}")
        self.cache = (hs, a)
        return (a[:, None, :] @ hs)[:, 0]

    def backward(self, dc):
        self._need_forward()
        hs, a = self.cache
        dc = as_dout(dc, (hs.shape[0], hs.shape[2]))
        return a[:, :, None] * dc[:, None, :], (hs @ dc[:, :, None])[:, :, 0]


class AttentionWeight(_BookLayer):
    """The attention weights of one decoder state h over the encoder's states hs:

        sₜ = hsₜ · h (a dot product, no scaling)     a = softmax(s)     hs (N, T, H), h (N, H) → a (N, T)

    backward(da) → (dhs, dh):  ds = a ⊙ (da − Σ da ⊙ a),   dhsₜ = dsₜ · h,   dh = Σₜ dsₜ · hsₜ."""

    def forward(self, hs, h):
        hs = _check_hs(hs)
        h = as_float_array(h, "h")
        check_shape(h, (hs.shape[0], hs.shape[2]), "h", f" (N, H) to match hs{hs.shape}")
        a = act.softmax((hs @ h[:, :, None])[:, :, 0], axis=1)
        self.cache = (hs, h, a)
        return a

    def backward(self, da):
        self._need_forward()
        hs, h, a = self.cache
        ds = act.softmax_backward(a, as_dout(da, a.shape), axis=1)
        return ds[:, :, None] * h[:, None, :], (ds[:, None, :] @ hs)[:, 0]


class Attention(_BookLayer):
    """AttentionWeight then WeightSum: forward(hs, h) → the context c (N, H); backward(dc) → (dhs, dh).
    hs reaches c along two paths (the weights and the sum), so dhs is the sum of both.
    ``attention_weight`` keeps the last weights a (N, T)."""

    def __init__(self):
        super().__init__()
        self.attention_weight_layer = AttentionWeight()
        self.weight_sum_layer = WeightSum()
        self.attention_weight = None

    def forward(self, hs, h):
        a = self.attention_weight_layer.forward(hs, h)
        self.attention_weight = a
        self.cache = True
        return self.weight_sum_layer.forward(hs, a)

    def backward(self, dc):
        self._need_forward()
        dhs_sum, da = self.weight_sum_layer.backward(dc)
        dhs_weight, dh = self.attention_weight_layer.backward(da)
        return dhs_sum + dhs_weight, dh


class TimeAttention(_BookLayer):
    """Attention for every decoder step: forward(hs_enc (N, T_enc, H), hs_dec (N, T_dec, H)) →
    (N, T_dec, H), row t the context of decoder state t; backward(dout) → (dhs_enc, dhs_dec).

    The book loops over t with one ``Attention`` layer per step. The T_dec steps are independent,
    so they are computed at once: this is :func:`scaled_dot_product_attention` with q = hs_dec,
    k = v = hs_enc and scale = 1 (the book's unscaled score); hs_enc is both keys and values, so
    dhs_enc = dk + dv. ``attention_weights`` lists the weights (N, T_enc) of every step, as the book's."""

    def __init__(self):
        super().__init__()
        self.attention_weights = None

    def forward(self, hs_enc, hs_dec):
        hs_enc, hs_dec = _check_hs(hs_enc, "hs_enc"), _check_hs(hs_dec, "hs_dec")
        if hs_dec.shape[0] != hs_enc.shape[0] or hs_dec.shape[2] != hs_enc.shape[2]:
            raise ValueError(f"hs_dec must have shape (N, T_dec, H) with N and H of hs_enc{hs_enc.shape}, "
                             f"got hs_dec{hs_dec.shape}")
        out, self.cache = scaled_dot_product_attention(hs_dec, hs_enc, hs_enc, scale=1.0)
        weights = self.cache["weights"]
        self.attention_weights = [weights[:, t] for t in range(weights.shape[1])]
        return out

    def backward(self, dout):
        self._need_forward()
        dq, dk, dv = scaled_dot_product_attention_backward(dout, self.cache)
        return dk + dv, dq


# --- multi-head attention --------------------------------------------------------------------------

PACKED_KEYS = ("in_proj_weight", "in_proj_bias", "out_proj_weight", "out_proj_bias")
SEPARATE_KEYS = ("Wq", "bq", "Wk", "bk", "Wv", "bv", "Wo", "bo")


class MultiHeadAttention(Layer):
    """Multi-head attention (멀티헤드 어텐션), n_head heads of size d_h = E/n_head:

        q = x_q Wq + bq,  k = x_kv Wk + bk,  v = x_kv Wv + bv          (N, T, E) each
        split E into n_head heads of d_h:  (N, n_head, T, d_h)
        head_h = softmax(q_h k_hᵀ/√d_h, masked) v_h                   scaled dot-product attention per head
        out = concat(head_1 … head_n) Wo + bo                          (N, T_q, E)

    ``params`` in one of two layouts (the arrays given are the ones trained):

    * separate, NumPy's (in, out): Wq (E, E), bq, Wk (E_kv, E), bk, Wv (E_kv, E), bv, Wo (E, E), bo;
    * packed, PyTorch's ``nn.MultiheadAttention``: in_proj_weight (3E, E) = [Wqᵀ; Wkᵀ; Wvᵀ] stacked
      in the rows (out, in), in_proj_bias (3E,) = [bq, bk, bv], out_proj_weight (E, E) = Woᵀ, out_proj_bias.

    ``scale`` multiplies the scores: 1/√d_h unless given (1 is the book's unscaled dot product).
    forward(x_q (N, T_q, E), x_kv=None (self-attention), mask=None, is_causal=False) → out;
    ``mask`` is boolean, True = attend, broadcastable to (N, n_head, T_q, T_k).
    backward(dout) → dx for self-attention (x reaches q, k and v: dx = dx_q + dx_k + dx_v), else
    (dx_q, dx_kv). ``attention_weights`` keeps the last maps (N, n_head, T_q, T_k).
    """

    def __init__(self, params: dict, n_head: int, scale=None):
        super().__init__()
        self.scale = None if scale is None else check_real(scale, "scale")
        if not isinstance(params, dict):
            raise TypeError(f"params must be a dict of the weights, got {type(params).__name__}")
        self.n_head = check_int(n_head, "n_head", minimum=1)
        keys = set(params)
        if keys == set(PACKED_KEYS):
            self.layout = "packed"
        elif keys == set(SEPARATE_KEYS):
            self.layout = "separate"
        else:
            raise ValueError(f"params must hold either {list(PACKED_KEYS)} (PyTorch's packed layout) or "
                             f"{list(SEPARATE_KEYS)} (separate (in, out) weights), got {sorted(params, key=str)}")
        self.params = {k: as_float_array(params[k], f"params[{k!r}]") for k in params}
        self._check_shapes()
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self._cache = None
        self.attention_weights = None

    @property
    def embed_dim(self) -> int:
        p = self.params
        return p["out_proj_weight"].shape[0] if self.layout == "packed" else p["Wo"].shape[1]

    def _check_shapes(self):
        p, E = self.params, self.embed_dim
        if self.layout == "packed":
            expected = {"in_proj_weight": (3 * E, E), "in_proj_bias": (3 * E,), "out_proj_weight": (E, E),
                        "out_proj_bias": (E,)}
        else:
            E_kv = p["Wk"].shape[0] if p["Wk"].ndim == 2 else -1
            expected = {"Wq": (E, E), "bq": (E,), "Wk": (E_kv, E), "bk": (E,), "Wv": (E_kv, E), "bv": (E,),
                        "Wo": (E, E), "bo": (E,)}
        for key, shape in expected.items():
            check_shape(p[key], shape, f"params[{key!r}]", f" (E = {E} from the output projection)")
        if E == 0 or E % self.n_head:
            raise ValueError(f"embed_dim must be divisible by n_head: E = {E}, n_head = {self.n_head}")

    def _weights(self):
        """(Wq, bq, Wkv, bkv, Wo, bo) in the (in, out) layout; Wkv = [Wk | Wv] (E_kv, 2E)."""
        p, E = self.params, self.embed_dim
        if self.layout == "packed":
            W, b = p["in_proj_weight"], p["in_proj_bias"]
            return W[:E].T, b[:E], W[E:].T, b[E:], p["out_proj_weight"].T, p["out_proj_bias"]
        return (p["Wq"], p["bq"], np.concatenate([p["Wk"], p["Wv"]], axis=1), np.concatenate([p["bk"], p["bv"]]),
                p["Wo"], p["bo"])

    def _split_heads(self, x):
        N, T, E = x.shape
        return x.reshape(N, T, self.n_head, E // self.n_head).transpose(0, 2, 1, 3)

    @staticmethod
    def _merge_heads(x):
        N, n_head, T, d_h = x.shape
        return x.transpose(0, 2, 1, 3).reshape(N, T, n_head * d_h)

    def forward(self, x_q, x_kv=None, mask=None, is_causal: bool = False):
        E = self.embed_dim
        x_q = as_float_array(x_q, "x_q")
        if x_q.ndim != 3 or x_q.shape[2] != E or 0 in x_q.shape:
            raise ValueError(f"x_q must have shape (N, T_q, {E}) (batch first, E = embed_dim), got x_q{x_q.shape}")
        self_attention = x_kv is None
        Wq, bq, Wkv, bkv, Wo, bo = self._weights()
        if not self_attention:
            x_kv = as_float_array(x_kv, "x_kv")
            if x_kv.ndim != 3 or x_kv.shape[0] != x_q.shape[0] or x_kv.shape[2] != Wkv.shape[0] or x_kv.shape[1] == 0:
                raise ValueError(f"x_kv must have shape ({x_q.shape[0]}, T_k, {Wkv.shape[0]}) (N of x_q, the "
                                 f"key/value features), got x_kv{x_kv.shape}")
        else:
            x_kv = x_q
        N, T_q, _ = x_q.shape
        T_k = x_kv.shape[1]
        q = (x_q.reshape(-1, E) @ Wq + bq).reshape(N, T_q, E)
        kv = (x_kv.reshape(N * T_k, -1) @ Wkv + bkv).reshape(N, T_k, 2 * E)
        heads, attn = scaled_dot_product_attention(self._split_heads(q), self._split_heads(kv[..., :E]),
                                                   self._split_heads(kv[..., E:]), mask=mask, is_causal=is_causal,
                                                   scale=self.scale)
        merged = self._merge_heads(heads)
        self.attention_weights = attn["weights"]
        self._cache = (x_q, x_kv, self_attention, attn, merged)
        return (merged.reshape(-1, E) @ Wo + bo).reshape(N, T_q, E)

    def backward(self, dout):
        self._need_forward(self._cache)
        x_q, x_kv, self_attention, attn, merged = self._cache
        Wq, _, Wkv, _, Wo, _ = self._weights()
        N, T_q, E = x_q.shape
        d2 = as_dout(dout, x_q.shape).reshape(-1, E)
        dWo, dbo = merged.reshape(-1, E).T @ d2, d2.sum(axis=0)
        dq, dk, dv = scaled_dot_product_attention_backward(self._split_heads((d2 @ Wo.T).reshape(N, T_q, E)), attn)
        dq2 = self._merge_heads(dq).reshape(-1, E)
        dkv2 = np.concatenate([self._merge_heads(dk), self._merge_heads(dv)], axis=2).reshape(-1, 2 * E)
        xq2, xkv2 = x_q.reshape(-1, E), x_kv.reshape(dkv2.shape[0], -1)
        self._store_grads(xq2.T @ dq2, dq2.sum(axis=0), xkv2.T @ dkv2, dkv2.sum(axis=0), dWo, dbo)
        dx_q = (dq2 @ Wq.T).reshape(x_q.shape)
        dx_kv = (dkv2 @ Wkv.T).reshape(x_kv.shape)
        return dx_q + dx_kv if self_attention else (dx_q, dx_kv)

    def _store_grads(self, dWq, dbq, dWkv, dbkv, dWo, dbo):
        E = self.embed_dim
        if self.layout == "packed":
            self.grads = {"in_proj_weight": np.concatenate([dWq, dWkv], axis=1).T,
                          "in_proj_bias": np.concatenate([dbq, dbkv]), "out_proj_weight": dWo.T, "out_proj_bias": dbo}
        else:
            self.grads = {"Wq": dWq, "bq": dbq, "Wk": dWkv[:, :E], "bk": dbkv[:E], "Wv": dWkv[:, E:],
                          "bv": dbkv[E:], "Wo": dWo, "bo": dbo}
