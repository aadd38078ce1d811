"""The border between the two layouts of attention and transformer weights.

``nn.MultiheadAttention`` packs the three input projections into ``in_proj_weight`` (3E, E): rows
0…E−1 are W_q, rows E…2E−1 W_k, rows 2E…3E−1 W_v, each in ``nn.Linear``'s (out, in) layout, and
``in_proj_bias`` (3E,) = [b_q, b_k, b_v]. NumPy code keeps W (in, out) for ``x @ W + b``, so

    Wq = in_proj_weight[:E].T,   Wk = in_proj_weight[E:2E].T,   Wv = in_proj_weight[2E:].T,   Wo = out_proj.weight.T

and back, ``in_proj_weight = concat([Wq.T, Wk.T, Wv.T])``: transposes and slices, so both
directions are exact. A ``nn.TransformerEncoderLayer`` (norm1, self_attn, norm2, linear1, linear2)
maps onto a scratch block's ln1, attn, ln2, mlp.W1/b1, mlp.W2/b2, and a TinyGPT's modules onto
wte, wpe, blocks.{i}.…, ln_f, head.W. The book's seq2seq with attention crosses as its list of
params. Gradients come back under the NumPy keys and in the NumPy layout.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from . import bridge
from scratch.attention import PACKED_KEYS
from scratch.transformer import block_keys, tinygpt_keys


# --- parameters as named NumPy arrays --------------------------------------------------------------


def module_arrays(module: nn.Module, grad: bool = False, of=None) -> dict:
    """``{name: ndarray}`` of the module's parameters, their gradients, or ``of(parameter)`` (e.g.
    an optimizer's state for it), by ``named_parameters`` (a tied parameter appears once, under its
    first name)."""
    get = bridge._getter(grad, of)
    out = {}
    for name, p in module.named_parameters():
        value = get(p)
        out[name] = None if value is None else value.detach().cpu().numpy().copy()
    return out


def load_arrays(module: nn.Module, arrays: dict) -> nn.Module:
    """Copy ``{name: ndarray}`` into the module's parameters of those names (every parameter must be
    given), keeping their dtype and device."""
    params = dict(module.named_parameters())
    if set(params) != set(arrays):
        raise ValueError(f"the module's parameters are {sorted(params)}, got {sorted(arrays)}")
    with torch.no_grad():
        for name, value in arrays.items():
            p = params[name]
            if tuple(p.shape) != np.shape(value):
                raise ValueError(f"{name} has shape {tuple(p.shape)}, got {np.shape(value)}")
            p.copy_(torch.as_tensor(np.asarray(value), dtype=p.dtype, device=p.device))
    return module


# --- multi-head attention ---------------------------------------------------------------------------


def packed_to_separate(packed: dict) -> dict:
    """PyTorch's packed (in_proj_weight (3E, E), in_proj_bias, out_proj_weight, out_proj_bias) as
    Wq, bq, Wk, bk, Wv, bv, Wo, bo with W (in, out)."""
    W, b = np.asarray(packed["in_proj_weight"]), np.asarray(packed["in_proj_bias"])
    E = W.shape[1]
    out = {}
    for i, name in enumerate("qkv"):
        out["W" + name] = W[i * E:(i + 1) * E].T.copy()
        out["b" + name] = b[i * E:(i + 1) * E].copy()
    out["Wo"] = np.asarray(packed["out_proj_weight"]).T.copy()
    out["bo"] = np.asarray(packed["out_proj_bias"]).copy()
    return out


def separate_to_packed(separate: dict) -> dict:
    """The inverse of :func:`packed_to_separate`: in_proj_weight = [Wqᵀ; Wkᵀ; Wvᵀ] (3E, E), …"""
    return {"in_proj_weight": np.concatenate([np.asarray(separate[k]).T for k in ("Wq", "Wk", "Wv")]),
            "in_proj_bias": np.concatenate([np.asarray(separate[k]) for k in ("bq", "bk", "bv")]),
            "out_proj_weight": np.asarray(separate["Wo"]).T.copy(), "out_proj_bias": np.asarray(separate["bo"]).copy()}


def _mha_from_named(named: dict, prefix: str, layout: str) -> dict:
    if prefix + "q_proj_weight" in named:  # kdim/vdim ≠ E: three separate (out, in) weights
        separate = {"W" + n: named[f"{prefix}{n}_proj_weight"].T.copy() for n in "qkv"}
        E = separate["Wq"].shape[1]
        b = named[prefix + "in_proj_bias"]
        separate.update({"b" + n: b[i * E:(i + 1) * E].copy() for i, n in enumerate("qkv")})
        separate.update(Wo=named[prefix + "out_proj.weight"].T.copy(), bo=named[prefix + "out_proj.bias"].copy())
        if layout == "packed":
            raise ValueError("a module with kdim/vdim != embed_dim has no packed in_proj_weight; use layout='separate'")
        return separate
    packed = {"in_proj_weight": named[prefix + "in_proj_weight"], "in_proj_bias": named[prefix + "in_proj_bias"],
              "out_proj_weight": named[prefix + "out_proj.weight"], "out_proj_bias": named[prefix + "out_proj.bias"]}
    return packed_to_separate(packed) if layout == "separate" else {k: v.copy() for k, v in packed.items()}


def _mha_to_named(params: dict, prefix: str, separate_weights: bool = False) -> dict:
    if separate_weights:
        out = {f"{prefix}{n}_proj_weight": np.asarray(params["W" + n]).T for n in "qkv"}
        out[prefix + "in_proj_bias"] = np.concatenate([params["b" + n] for n in "qkv"])
        out.update({prefix + "out_proj.weight": np.asarray(params["Wo"]).T, prefix + "out_proj.bias": params["bo"]})
        return out
    packed = params if set(params) == set(PACKED_KEYS) else separate_to_packed(params)
    return {prefix + "in_proj_weight": packed["in_proj_weight"], prefix + "in_proj_bias": packed["in_proj_bias"],
            prefix + "out_proj.weight": packed["out_proj_weight"], prefix + "out_proj.bias": packed["out_proj_bias"]}


def _layout_of(params: dict, prefix: str = "") -> str:
    return "packed" if prefix + "in_proj_weight" in params else "separate"


def mha_arrays(mha: nn.MultiheadAttention, grad: bool = False, layout: str = "separate") -> dict:
    """An ``nn.MultiheadAttention``'s parameters (or gradients) as a scratch ``MultiHeadAttention``'s
    params: layout 'separate' (Wq, bq, …, W (in, out)) or 'packed' (PyTorch's own four arrays)."""
    return _mha_from_named(module_arrays(mha, grad), "", layout)


def load_mha(mha: nn.MultiheadAttention, params: dict) -> nn.MultiheadAttention:
    """Copy a scratch ``MultiHeadAttention``'s params (either layout) into ``mha``."""
    return load_arrays(mha, _mha_to_named(params, "", separate_weights=not mha._qkv_same_embed_dim))


# --- LayerNorm, the block, TinyGPT ------------------------------------------------------------------

_BLOCK_NAMES = {"ln1.gamma": "norm1.weight", "ln1.beta": "norm1.bias", "ln2.gamma": "norm2.weight",
                "ln2.beta": "norm2.bias", "mlp.b1": "linear1.bias", "mlp.b2": "linear2.bias"}
_BLOCK_TRANSPOSED = {"mlp.W1": "linear1.weight", "mlp.W2": "linear2.weight"}


def layer_norm_arrays(module: nn.Module, grad: bool = False) -> dict:
    """``{"gamma": weight, "beta": bias}`` of an ``nn.LayerNorm`` or ``nn.GroupNorm`` (or their gradients)."""
    named = module_arrays(module, grad)
    return {"gamma": named["weight"], "beta": named["bias"]}


def _block_from_named(named: dict, prefix: str, layout: str) -> dict:
    out = {k: named[prefix + n].copy() for k, n in _BLOCK_NAMES.items()}
    out.update({k: named[prefix + n].T.copy() for k, n in _BLOCK_TRANSPOSED.items()})
    out.update({"attn." + k: v for k, v in _mha_from_named(named, prefix + "self_attn.", layout).items()})
    return out


def _block_to_named(params: dict, prefix: str) -> dict:
    out = {prefix + n: params[k] for k, n in _BLOCK_NAMES.items()}
    out.update({prefix + n: np.asarray(params[k]).T for k, n in _BLOCK_TRANSPOSED.items()})
    attn = {k[5:]: v for k, v in params.items() if k.startswith("attn.")}
    out.update(_mha_to_named(attn, prefix + "self_attn."))
    return out


def block_arrays(layer: nn.TransformerEncoderLayer, grad: bool = False, layout: str = "separate") -> dict:
    """An ``nn.TransformerEncoderLayer``'s parameters (or gradients) under a scratch
    ``TransformerBlock``'s keys (:func:`scratch.transformer.block_keys`)."""
    return _block_from_named(module_arrays(layer, grad), "", layout)


def load_block(layer: nn.TransformerEncoderLayer, params: dict) -> nn.TransformerEncoderLayer:
    """Copy a scratch block's params (either attention layout) into ``layer``."""
    return load_arrays(layer, _block_to_named(params, ""))


def tinygpt_arrays(model: nn.Module, grad: bool = False, layout: str = "separate", of=None) -> dict:
    """A ``torch_ref.transformer.TinyGPT``'s parameters (their gradients, or ``of(parameter)``,
    e.g. AdamW's exp_avg) under a scratch TinyGPT's keys. Tied, the head's weight is wte's own
    Parameter: its gradient (both uses summed) comes back as wte's."""
    named = module_arrays(model, grad, of)
    out = {"wte": named["wte.weight"], "wpe": named["wpe.weight"], "ln_f.gamma": named["ln_f.weight"],
           "ln_f.beta": named["ln_f.bias"]}
    for i in range(len(model.blocks)):
        out.update({f"blocks.{i}.{k}": v for k, v in _block_from_named(named, f"blocks.{i}.", layout).items()})
    if "head.weight" in named:
        out["head.W"] = named["head.weight"].T.copy()
    return out


def load_tinygpt(model: nn.Module, params: dict) -> nn.Module:
    """Copy a scratch TinyGPT's params into a ``torch_ref.transformer.TinyGPT`` (tied or not, as both are)."""
    named = {"wte.weight": params["wte"], "wpe.weight": params["wpe"], "ln_f.weight": params["ln_f.gamma"],
             "ln_f.bias": params["ln_f.beta"]}
    for i in range(len(model.blocks)):
        block = {k[len(f"blocks.{i}."):]: v for k, v in params.items() if k.startswith(f"blocks.{i}.")}
        named.update(_block_to_named(block, f"blocks.{i}."))
    if "head.W" in params:
        named["head.weight"] = np.asarray(params["head.W"]).T
    return load_arrays(model, named)


# --- shared initial weights -------------------------------------------------------------------------


def _normal(rng, shape, std, dtype, mean=0.0):
    return (mean + std * rng.standard_normal(shape)).astype(dtype)


def random_block_params(rng: np.random.Generator, d_model: int, dim_feedforward: int, layout: str = "separate",
                        std: float = 0.02, dtype=np.float64) -> dict:
    """A block's params drawn from ``rng``: every weight and bias N(0, std²), every γ 1 + N(0, std²)
    (all different from PyTorch's default γ = 1, β = 0, so that a mix-up shows)."""
    E, F = d_model, dim_feedforward
    shapes = {"mlp.W1": (E, F), "mlp.b1": (F,), "mlp.W2": (F, E), "mlp.b2": (E,),
              "attn.in_proj_weight": (3 * E, E), "attn.in_proj_bias": (3 * E,), "attn.out_proj_weight": (E, E),
              "attn.out_proj_bias": (E,)}
    out = {}
    for key in block_keys(layout):
        name = key.split(".")[-1]
        shape = shapes.get(key, (E, E) if name.startswith("W") else (E,))
        out[key] = _normal(rng, shape, std, dtype, 1.0 if name == "gamma" else 0.0)
    return out


def random_tinygpt_params(rng: np.random.Generator, vocab_size: int, d_model: int, n_layer: int, context_length: int,
                          dim_feedforward: int | None = None, tied: bool = False, layout: str = "separate",
                          std: float = 0.02, dtype=np.float64) -> dict:
    """A TinyGPT's params (:func:`scratch.transformer.tinygpt_keys`) drawn from ``rng`` as in
    :func:`random_block_params`; wte, wpe and head.W N(0, std²)."""
    V, E, T = vocab_size, d_model, context_length
    F = dim_feedforward or 4 * E
    out = {"wte": _normal(rng, (V, E), std, dtype), "wpe": _normal(rng, (T, E), std, dtype)}
    for i in range(n_layer):
        out.update({f"blocks.{i}.{k}": v for k, v in random_block_params(rng, E, F, layout, std, dtype).items()})
    out["ln_f.gamma"] = _normal(rng, (E,), std, dtype, 1.0)
    out["ln_f.beta"] = _normal(rng, (E,), std, dtype)
    if not tied:
        out["head.W"] = _normal(rng, (E, V), std, dtype)
    assert set(out) == set(tinygpt_keys(n_layer, tied, layout))
    return out


# --- the book's seq2seq with attention ----------------------------------------------------------------

_LSTM_GATES = "ifog"  # scratch.recurrent.LSTM's gate columns


def seq2seq_arrays(model: nn.Module, grad: bool = False) -> list:
    """A ``torch_ref.attention.AttentionSeq2seq``'s parameters (or gradients) as the scratch model's
    ``params`` list: encoder [embed W, Wx, Wh, b], decoder [embed W, Wx, Wh, b, affine W (2H, V), affine b]."""
    out = []
    for embed, lstm in ((model.enc_embed, model.enc_lstm), (model.dec_embed, model.dec_lstm)):
        w = embed.weight.grad if grad else embed.weight
        out.append(w.detach().cpu().numpy().copy())
        rec = bridge.recurrent_arrays(lstm, grad, gates=_LSTM_GATES)
        out += [rec["Wx"], rec["Wh"], rec["b"]]
    affine = bridge.linear_arrays(model.affine, grad)
    return out + [affine["W"], affine["b"]]


def load_seq2seq(model: nn.Module, params: list) -> nn.Module:
    """Copy the scratch seq2seq's ``params`` list (book order) into the torch model."""
    if len(params) != 10:
        raise ValueError(f"the seq2seq with attention has 10 parameter arrays, got {len(params)}")
    for (embed, lstm), start in (((model.enc_embed, model.enc_lstm), 0), ((model.dec_embed, model.dec_lstm), 4)):
        with torch.no_grad():
            embed.weight.copy_(torch.as_tensor(params[start], dtype=embed.weight.dtype))
        Wx, Wh, b = params[start + 1:start + 4]
        bridge.load_recurrent(lstm, {"Wx": Wx, "Wh": Wh, "b": b}, gates=_LSTM_GATES)
    bridge.load_linear(model.affine, params[8], params[9])
    return model


# --- GPT-2's nested dicts (picoGPT's layout) ------------------------------------------------------------


def gpt2_block(params: dict) -> dict:
    """A scratch block's params (either attention layout) as GPT-2's nested block dict:
    ln_1/ln_2 {g, b}, attn {c_attn {w (E, 3E), b}, c_proj {w, b}}, mlp {c_fc {w, b}, c_proj {w, b}},
    every w (in, out); ``c_attn.w = in_proj_weightᵀ = [Wq | Wk | Wv]``."""
    attn = {k[5:]: v for k, v in params.items() if k.startswith("attn.")}
    packed = attn if set(attn) == set(PACKED_KEYS) else separate_to_packed(attn)
    return {"ln_1": {"g": params["ln1.gamma"], "b": params["ln1.beta"]},
            "attn": {"c_attn": {"w": packed["in_proj_weight"].T.copy(), "b": packed["in_proj_bias"].copy()},
                     "c_proj": {"w": packed["out_proj_weight"].T.copy(), "b": packed["out_proj_bias"].copy()}},
            "ln_2": {"g": params["ln2.gamma"], "b": params["ln2.beta"]},
            "mlp": {"c_fc": {"w": params["mlp.W1"], "b": params["mlp.b1"]},
                    "c_proj": {"w": params["mlp.W2"], "b": params["mlp.b2"]}}}


def flat_block(block: dict) -> dict:
    """The inverse of :func:`gpt2_block`: a scratch block's params (packed attention layout)."""
    attn = block["attn"]
    return {"ln1.gamma": block["ln_1"]["g"], "ln1.beta": block["ln_1"]["b"], "ln2.gamma": block["ln_2"]["g"],
            "ln2.beta": block["ln_2"]["b"], "mlp.W1": block["mlp"]["c_fc"]["w"], "mlp.b1": block["mlp"]["c_fc"]["b"],
            "mlp.W2": block["mlp"]["c_proj"]["w"], "mlp.b2": block["mlp"]["c_proj"]["b"],
            "attn.in_proj_weight": np.asarray(attn["c_attn"]["w"]).T, "attn.in_proj_bias": attn["c_attn"]["b"],
            "attn.out_proj_weight": np.asarray(attn["c_proj"]["w"]).T, "attn.out_proj_bias": attn["c_proj"]["b"]}


def gpt2_params(params: dict, n_layer: int) -> dict:
    """A tied scratch TinyGPT's params as ``gpt2``'s arguments: {wte, wpe, blocks (a list), ln_f {g, b}}."""
    blocks = [gpt2_block({k[len(f"blocks.{i}."):]: v for k, v in params.items() if k.startswith(f"blocks.{i}.")})
              for i in range(n_layer)]
    return {"wte": params["wte"], "wpe": params["wpe"], "blocks": blocks,
            "ln_f": {"g": params["ln_f.gamma"], "b": params["ln_f.beta"]}}


def flat_gpt2(wte, wpe, blocks, ln_f) -> dict:
    """The inverse of :func:`gpt2_params`: a tied scratch TinyGPT's params (packed attention layout)."""
    out = {"wte": wte, "wpe": wpe, "ln_f.gamma": ln_f["g"], "ln_f.beta": ln_f["b"]}
    for i, block in enumerate(blocks):
        out.update({f"blocks.{i}.{k}": v for k, v in flat_block(block).items()})
    return out
