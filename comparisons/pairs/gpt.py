"""GPT-2's whole forward pass as a function (kind ``function``): ``gpt2(inputs, wte, wpe, blocks,
ln_f, n_head)`` of GPT-2's nested dicts (picoGPT's) against a TinyGPT built of PyTorch's layers
(``torch_ref.transformer``), its head tied to the token embedding. The blocks are those of
:mod:`comparisons.pairs.transformer`, with the same flags: the tanh GELU (``approximate=tanh``),
the LayerNorm ε (``eps``), the post-LN block (``norm_first=0``)."""

from __future__ import annotations

import numpy as np
import torch

import scratch.gpt as SG
import torch_ref.transformer as tt

from .. import transformer_bridge as tb
from ._base import Comparison, Mistake, Pair, construct, tensorwise
from .attention import HEAD_NAMES, outputs, tried, with_aliases
from .mha import CAUSAL_OFF_BY_ONE
from .transformer import BLOCK_HPARAMS, GELU_TANH_HINT, MISSING_RESIDUAL, OFF_BY_ONE_MHA, POST_LN, block_variant, deep_copy

GPT_SIZES = (11, 12, 3, 2, 10, 20)  # V, E, n_head, n_layer, T_max, F
GPT_ALIASES = {"inputs": ("inputs", "ids", "tokens", "idx", "input_ids", "x"), "n_head": HEAD_NAMES}


def gpt2_inputs(ctx):
    V, _, _, _, T_max, _ = GPT_SIZES
    return {"7 tokens": ([int(i) for i in ctx.rng.integers(0, V, 7)], False),
            f"{T_max} tokens (the whole context)": ([int(i) for i in ctx.rng.integers(0, V, T_max)], False),
            "a batch (2, 7)": (ctx.rng.integers(0, V, (2, 7)), True)}


def drive_gpt2(ctx, pair, fn, hparams, run):
    """``gpt2(inputs, wte, wpe, blocks, ln_f, n_head)`` → logits (T, V), forward only, against a
    ``torch_ref.transformer.TinyGPT`` holding the same weights, its head tied to wte."""
    V, E, H, L, T_max, F = GPT_SIZES
    params = tb.random_tinygpt_params(ctx.rng, V, E, L, T_max, F, tied=True, layout="packed", std=0.3, dtype=ctx.np_dtype)
    nested = tb.gpt2_params(params, L)
    model = pair.torch(V, E, H, L, T_max, F, tied=True, norm_first=bool(hparams["norm_first"]), dtype=ctx.torch_dtype,
                       approximate=hparams["approximate"], eps=hparams["eps"])
    model = tb.load_tinygpt(model.to(ctx.device), params)
    out = []
    for label, (inputs, optional) in pair.inputs(ctx).items():
        given = with_aliases({"inputs": deep_copy(inputs), **deep_copy(nested), "n_head": H}, GPT_ALIASES)
        result = tried(run, label, optional, lambda: construct(fn, pair, hparams, given, run))
        if result is None:
            continue
        y, _ = outputs(result, "its result")
        idx = np.asarray(inputs)
        with torch.no_grad():
            ref = model(ctx.labels(idx if idx.ndim == 2 else idx[None]))
        ref = ref if idx.ndim == 2 else ref[0]
        out.append(Comparison(f"logits, {label}", y, ref, scale=tensorwise(ref)))
    return out


def gpt2_variant(final_ln=True, **block):
    """picoGPT's ``gpt2(inputs, wte, wpe, blocks, ln_f, n_head)`` with one difference switched on."""
    transformer_block = block_variant(**block)

    def gpt2(inputs, wte, wpe, blocks, ln_f, n_head):
        x = wte[inputs] + wpe[:np.shape(inputs)[-1]]
        for b in blocks:
            x = transformer_block(x, **b, n_head=n_head)
        return (SG.layer_norm(x, **ln_f) if final_ln else x) @ wte.T
    return gpt2


# --- declarations ------------------------------------------------------------------------------------

PAIRS = [
    Pair("gpt2", "function", "gpt.gpt2", tt.TinyGPT,
         "a function gpt2(inputs (T,) token ids, wte (V, E), wpe (T_max, E), blocks [nested dicts], ln_f {g, b}, n_head) "
         "-> logits (T, V): GPT-2's forward pass, pre-LN, causal, the head tied to wte",
         drive_gpt2, BLOCK_HPARAMS, gpt2_inputs,
         (Mistake(MISSING_RESIDUAL, gpt2_variant(residual=False)),
          Mistake(CAUSAL_OFF_BY_ONE, gpt2_variant(mha=OFF_BY_ONE_MHA)),
          Mistake("the final LayerNorm (ln_f) is not applied before the head", gpt2_variant(final_ln=False)),
          Mistake(POST_LN, gpt2_variant(post_ln=True), flag={"norm_first": 0}),
          Mistake(GELU_TANH_HINT, gpt2_variant(approximate="tanh"), flag={"approximate": "tanh"})),
         ("gpt2", "gpt", "gpt_forward", "gpt2_forward")),
]
