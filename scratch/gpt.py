"""GPT-2's forward pass as functions of nested parameter dicts, the layout NumPy re-implementations
of GPT-2 (picoGPT, "GPT in 60 lines of NumPy") load OpenAI's checkpoint into:

    wte (V, E), wpe (T_max, E)                       token and position embeddings
    blocks[l] = {"ln_1": {"g", "b"}, "attn": {"c_attn": {"w" (E, 3E), "b" (3E,)}, "c_proj": {"w" (E, E), "b"}},
                 "ln_2": {"g", "b"}, "mlp": {"c_fc": {"w" (E, F), "b"}, "c_proj": {"w" (F, E), "b"}}}
    ln_f = {"g", "b"}                                the final LayerNorm

Every weight is stored (in, out) for ``x @ w + b`` (OpenAI's TensorFlow ``conv1d`` layout), and the
three projections of attention are packed side by side in the columns of ``c_attn.w``:
``[W_q | W_k | W_v]``. ``nn.MultiheadAttention`` packs them in the *rows* of ``in_proj_weight``
(3E, E), each (out, in): ``in_proj_weight = c_attn.w.T``.

    gpt2(inputs, wte, wpe, blocks, ln_f, n_head):
        x = wte[inputs] + wpe[0 … T−1]
        x = x + mha(layer_norm(x, ln_1), attn)          for each block (pre-LN, causal)
        x = x + ffn(layer_norm(x, ln_2), mlp)
        logits = layer_norm(x, ln_f) · wteᵀ             the head is the token embedding (tied)

Forward only (inference), as those re-implementations are: the trained model with a backward pass
is :class:`scratch.transformer.TinyGPT`. Inputs are one sequence (T,) of token ids, the
activations (T, E); the functions also take a batch (…, T, E). GELU is the exact erf form unless
``approximate='tanh'`` (GPT-2's own), the two as ``nn.GELU(approximate=…)``.
"""

from __future__ import annotations

import numpy as np

from . import activations as act
from ._checks import as_float_array, check_dict, check_int, check_ndim, check_positive
from .attention import causal_mask, scaled_dot_product_attention
from .normalization import standardize


def layer_norm(x, g, b, eps: float = 1e-5):
    """g ⊙ (x − μ)/√(σ² + ε) + b over the last axis (μ and the biased σ² of each row): ``nn.LayerNorm``."""
    x = as_float_array(x, "x")
    check_positive(eps, "eps")
    xhat, _ = standardize(x, eps)
    return np.asarray(g) * xhat + np.asarray(b)


def linear(x, w, b):
    """x @ w + b with w stored (in, out)."""
    return np.asarray(x) @ np.asarray(w) + np.asarray(b)


def ffn(x, c_fc, c_proj, approximate: str = "none"):
    """The position-wise MLP: GELU(x W_fc + b_fc) W_proj + b_proj."""
    return linear(act.gelu(linear(x, **c_fc), approximate), **c_proj)


def split_heads(x, n_head: int):
    """(…, T, E) → (…, n_head, T, E/n_head): the columns of each head, moved in front of the positions."""
    *lead, T, E = x.shape
    return np.moveaxis(x.reshape(*lead, T, n_head, E // n_head), -2, -3)


def merge_heads(x):
    """The inverse of :func:`split_heads`: (…, n_head, T, d_h) → (…, T, n_head·d_h)."""
    x = np.moveaxis(x, -3, -2)
    return x.reshape(*x.shape[:-2], -1)


def mha(x, c_attn, c_proj, n_head: int):
    """Causal multi-head self-attention of x (…, T, E):

        [q | k | v] = x c_attn.w + c_attn.b,   each split into n_head heads of E/n_head columns
        head_h = softmax(q_h k_hᵀ/√d_h, causal) v_h,   out = concat(heads) c_proj.w + c_proj.b

    The same computation as ``nn.MultiheadAttention`` with ``in_proj_weight = c_attn.w.T`` and a
    causal ``attn_mask``."""
    n_head = check_int(n_head, "n_head", minimum=1)
    x = as_float_array(x, "x")
    E = x.shape[-1]
    if E % n_head:
        raise ValueError(f"the width E = {E} of x must be divisible by n_head = {n_head}")
    q, k, v = np.split(linear(x, **c_attn), 3, axis=-1)
    T = x.shape[-2]
    heads, _ = scaled_dot_product_attention(split_heads(q, n_head), split_heads(k, n_head), split_heads(v, n_head),
                                            mask=causal_mask(T))
    return linear(merge_heads(heads), **c_proj)


def transformer_block(x, mlp, attn, ln_1, ln_2, n_head: int, approximate: str = "none", eps: float = 1e-5):
    """One pre-LN block (GPT-2): x + mha(LN₁(x)), then + ffn(LN₂(·))."""
    x = x + mha(layer_norm(x, **ln_1, eps=eps), **attn, n_head=n_head)
    return x + ffn(layer_norm(x, **ln_2, eps=eps), **mlp, approximate=approximate)


def gpt2(inputs, wte, wpe, blocks, ln_f, n_head: int, approximate: str = "none", eps: float = 1e-5):
    """Logits (T, V) for the next token after each of ``inputs`` (T,) token ids (or (N, T) → (N, T, V)):
    the module docstring's forward pass, the head tied to ``wte``."""
    idx = np.asarray(inputs)
    if idx.ndim not in (1, 2) or idx.shape[-1] == 0 or idx.dtype.kind not in "iu":
        raise ValueError(f"inputs must be token ids of shape (T,) or (N, T) with T >= 1, got {idx.dtype} {idx.shape}")
    wte, wpe = as_float_array(wte, "wte"), as_float_array(wpe, "wpe")
    check_ndim(wte, 2, "wte", "(V, E)")
    if idx.shape[-1] > wpe.shape[0]:
        raise ValueError(f"inputs has T = {idx.shape[-1]} tokens, more than the {wpe.shape[0]} positions of wpe")
    if not isinstance(blocks, (list, tuple)):
        raise TypeError(f"blocks must be a list of the blocks' nested dicts, got {type(blocks).__name__}")
    check_dict(ln_f, "ln_f")
    x = wte[idx] + wpe[:idx.shape[-1]]
    for block in blocks:
        x = transformer_block(x, **block, n_head=n_head, approximate=approximate, eps=eps)
    return layer_norm(x, **ln_f, eps=eps) @ wte.T
