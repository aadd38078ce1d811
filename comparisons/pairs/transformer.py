"""The transformer's pieces (kinds ``function`` and ``layer``): layer normalization as a function
(picoGPT's ``layer_norm(x, g, b, eps)``) and as a layer (CS231n's ``layernorm_forward``/``_backward``
through :mod:`~comparisons.pairs.functional`), the sinusoidal positional encoding, the transformer
block as a function of GPT-2's nested dicts and as a class with forward and backward — against
nn.LayerNorm, the position table of PyTorch's tutorial and nn.TransformerEncoderLayer (causal,
GELU, dropout 0). GPT-2's whole forward pass is :mod:`comparisons.pairs.gpt`.

Conventions with their flags: the tanh GELU (GPT-2's, ``approximate=tanh``), a LayerNorm ε other
than PyTorch's 1e-5 (``eps``), the post-LN block of the 2017 paper (``norm_first=0``; GPT-2 and this
reference by default are pre-LN). GELU's default here is nn.GELU()'s exact erf form."""

from __future__ import annotations

import numpy as np
import torch

import scratch.gpt as SG
import scratch.normalization as SN
import scratch.transformer as ST
import torch_ref.normalization as tn
import torch_ref.transformer as tt

from .. import transformer_bridge as tb
from ..variants import normalization_variants
from ._base import Comparison, Hparam, Mistake, Pair, VerifyUsageError, as_array, call, construct, tensorwise
from ._styles import gradients
from .activations import APPROXIMATE, GELU_TANH
from .attention import HEAD_NAMES, outputs, takes, tried, with_aliases
from .mha import CAUSAL_OFF_BY_ONE, bias_scales, grad_comparison, mha_variant
from .layers import hard_coded

EPS = Hparam("eps", 1e-5, "eps", aliases=("epsilon",), bounds="[0, inf)")
NORM_FIRST = Hparam("norm_first", 1, "norm_first", choices=(0, 1))
CAUSAL = Hparam("causal", 1, None, aliases=("is_causal",), choices=(0, 1))
AFFINE_ALIASES = {"g": ("g", "gamma", "weight", "w", "scale", "a_2"), "b": ("b", "beta", "bias", "shift", "b_2")}
SIZE_NAMES = ("D", "d", "d_model", "dim", "features", "num_features", "normalized_shape", "embed_dim", "hidden_size",
              "n_embd", "size")
EPS_CONVENTION = ("a LayerNorm ε of 1e-6 (the Annotated Transformer's, TensorFlow models'); nn.LayerNorm's is 1e-5 "
                  "— it matters for rows whose variance is near ε")
POST_LN = ("a post-LN block (the 2017 paper's, nn.TransformerEncoderLayer's default norm_first=False): "
           "x = LN(x + f(x)); GPT-2 and this reference by default are pre-LN: x = x + f(LN(x))")
MISSING_RESIDUAL = ("a residual connection is missing: the block adds each sublayer's output to its input, "
                    "x = x + MHA(LN₁(x)), then x = x + MLP(LN₂(x))")
GELU_TANH_HINT = GELU_TANH.hint


# --- layer normalization, a function -------------------------------------------------------------


def layer_norm_inputs(ctx):
    """A batch, rows whose variance (~1e-6) is near ε (where ε's size and place show), positions of
    a sequence (…, T, D), and rows offset by 100 (the mean is most of each value)."""
    r = ctx.rng
    tiny = r.normal(size=(4, 10))
    tiny[1] *= 1e-3
    tiny[3] *= 2e-3
    return {"x (4, 10)": ctx.array(r.normal(size=(4, 10))), "x (4, 10), two rows of variance ~1e-6": ctx.array(tiny),
            "x (2, 5, 8)": ctx.array(r.normal(size=(2, 5, 8))), "x (3, 7) offset by 100": ctx.array(100 + 2 * r.normal(size=(3, 7)))}


def layer_norm_term_scales(x, gamma, beta, dout, eps) -> dict:
    """The size of the terms each result of layer norm is made of (the ``scale`` of
    :func:`comparisons.checks.close`), with a = (|x| + |μ|)/s the size of the terms of x̂ = (x − μ)/s,
    s = √(σ² + ε): forward |γ|a + |β|; dγ Σ_rows |dout|·a; dβ Σ|dout|; dx (D|g| + Σ|g| + a·Σ|g|a)/(D s)
    with g = γ ⊙ dout. Rows offset far from 0 (x ≈ 100 ± 2) keep the rounding of x itself in x − μ."""
    x, dout = np.asarray(x, dtype=np.float64), np.asarray(dout, dtype=np.float64)
    mu, s = x.mean(axis=-1, keepdims=True), np.sqrt(x.var(axis=-1, keepdims=True) + eps)
    a = (np.abs(x) + np.abs(mu)) / s
    g = np.abs(np.asarray(gamma) * dout)
    D = x.shape[-1]
    return {"forward": np.abs(gamma) * a + np.abs(beta), "dgamma": np.sum(np.abs(dout) * a, axis=0),
            "dbeta": np.sum(np.abs(dout), axis=0),
            "dx": (D * g + g.sum(axis=-1, keepdims=True) + a * np.sum(g * a, axis=-1, keepdims=True)) / (D * s)}


def _affine(ctx, D):
    return ctx.array(1 + 0.3 * ctx.rng.normal(size=D)), ctx.array(0.3 * ctx.rng.normal(size=D))


def drive_layer_norm_function(ctx, pair, fn, hparams, run):
    """``layer_norm(x, g, b[, eps])`` over the last axis, against ``nn.LayerNorm(D, eps)``."""
    out = []
    for label, x in pair.inputs(ctx).items():
        g, b = _affine(ctx, x.shape[-1])
        given = with_aliases({"x": x.copy(), "g": g.copy(), "b": b.copy()}, {**AFFINE_ALIASES, "x": ("x", "inputs")})
        y, _ = outputs(construct(fn, pair, hparams, given, run), "its result")
        with torch.no_grad():
            ref = pair.torch(ctx.tensor(g), ctx.tensor(b), eps=hparams["eps"])(ctx.tensor(x))
        scale = layer_norm_term_scales(x, g, b, 0 * x, hparams["eps"])["forward"]
        out.append(Comparison(f"output, {label}", y, ref, scale=scale))
    return out


def _ln(x, g, b, eps, axis=-1, ddof=0, eps_inside=True):
    mu = x.mean(axis=axis, keepdims=True)
    var = x.var(axis=axis, keepdims=True, ddof=ddof)
    std = np.sqrt(var + eps) if eps_inside else np.sqrt(var) + eps
    return g * (x - mu) / std + b


def layer_norm_over_batch(x, g, b, eps=1e-5):
    return _ln(x, g, b, eps, axis=0)


def layer_norm_unbiased(x, g, b, eps=1e-5):
    return _ln(x, g, b, eps, ddof=1)


def layer_norm_eps_outside(x, g, b, eps=1e-5):
    return _ln(x, g, b, eps, eps_inside=False)


def layer_norm_eps_1e6(x, g, b):
    return _ln(x, g, b, 1e-6)


OVER_BATCH = ("normalised over the batch axis (axis 0): that is batch norm's axis; layer norm takes the mean and "
              "variance of each row, over its own features (the last axis)")
UNBIASED = "the unbiased variance (÷ (D − 1)): layer norm, like nn.LayerNorm, divides by D"
EPS_OUTSIDE = "ε is added to the standard deviation, (x − μ)/(σ + ε): nn.LayerNorm adds it to the variance, (x − μ)/√(σ² + ε)"


# --- layer normalization, a layer ------------------------------------------------------------------


def layer_norm_layer_inputs(ctx):
    """Rows (N, D), grouped by D: one layer object per D is called on each of its inputs in turn."""
    r = ctx.rng
    tiny = r.normal(size=(6, 10))
    tiny[2] *= 1e-3
    return {10: {"x (4, 10)": ctx.array(r.normal(size=(4, 10))), "x (6, 10), a row of variance ~1e-6": ctx.array(tiny)},
            7: {"x (3, 7) offset by 100": ctx.array(100 + 2 * r.normal(size=(3, 7)))},
            5: {"x (1, 5), one row": ctx.array(r.normal(size=(1, 5)))}}


def _load_affine(layer, gamma, beta) -> bool:
    """Set the layer's own γ and β (in a ``params`` dict or as attributes, under the usual names) to
    ``gamma``, ``beta`` in place; False where it has none that fit."""
    for gname, bname in (("gamma", "beta"), ("weight", "bias"), ("g", "b"), ("a_2", "b_2")):
        params = getattr(layer, "params", None)
        holders = [(params, params.get(gname) if isinstance(params, dict) else None,
                    params.get(bname) if isinstance(params, dict) else None),
                   (layer, getattr(layer, gname, None), getattr(layer, bname, None))]
        for _, g, b in holders:
            if isinstance(g, np.ndarray) and isinstance(b, np.ndarray) and g.shape == gamma.shape == b.shape:
                g[...], b[...] = gamma, beta
                return True
    return False


def _affine_grads(layer) -> dict:
    for names in (("gamma", "beta"), ("weight", "bias"), ("g", "b")):
        try:
            grads = gradients(layer, list(names))
        except VerifyUsageError:
            continue
        return dict(zip(("gamma", "beta"), grads.values()))
    raise VerifyUsageError("after backward, the layer must hold the gradients of γ and β: grads['gamma'] and "
                           "grads['beta'] (or the list [dgamma, dbeta], or dgamma, dbeta)")


def _build_layer_norm(ctx, pair, cls, hparams, run, gamma, beta):
    given = with_aliases({"g": gamma.copy(), "b": beta.copy()}, AFFINE_ALIASES)
    takes_affine = takes(cls, AFFINE_ALIASES["g"])
    if not takes_affine:
        if not takes(cls, SIZE_NAMES):
            raise VerifyUsageError("a LayerNorm class must take γ and β (gamma, beta) or the feature size (D, d_model, …)")
        given.update({n: gamma.shape[0] for n in SIZE_NAMES})
    layer = construct(cls, pair, hparams, given, run)
    if not takes_affine and not _load_affine(layer, gamma, beta):
        raise VerifyUsageError("the layer was built from its size, but it keeps no γ and β under a known name "
                               "(params['gamma'], gamma, weight, g) to set")
    return layer


def drive_layer_norm_layer(ctx, pair, cls, hparams, run):
    """forward(x (N, D)) and backward(dout) → dx, dγ, dβ against ``nn.LayerNorm`` and autograd; one
    layer object per D, called on each of its inputs."""
    out = []
    for D, cases in pair.inputs(ctx).items():
        gamma, beta = _affine(ctx, D)
        layer = _build_layer_norm(ctx, pair, cls, hparams, run, gamma, beta)
        has_backward = callable(getattr(layer, "backward", None))
        for label, x in cases.items():
            y = as_array(call(layer.forward, f"forward on x{x.shape}", x.copy()), "forward's result")
            dout = ctx.array(ctx.rng.normal(size=x.shape))
            y_t, dx_t, dg_t, db_t = tn.forward_backward(pair.torch(ctx.tensor(gamma), ctx.tensor(beta), eps=hparams["eps"]),
                                                        ctx.tensor(x), ctx.tensor(dout))
            sc = layer_norm_term_scales(x, gamma, beta, dout, hparams["eps"])
            out.append(Comparison(f"forward, {label}", y, y_t, scale=sc["forward"],  # variants: the relation search's
                                  context={"variants": normalization_variants(x, -1, hparams["eps"], gamma, beta)}))
            if not has_backward:
                run.notes.append("the layer has no backward: its forward pass is compared")
                continue
            dx = as_array(call(layer.backward, f"backward(dout{dout.shape})", dout.copy()), "backward's result")
            grads = _affine_grads(layer)
            out += [Comparison(f"backward dx, {label}", dx, dx_t, scale=sc["dx"]),
                    Comparison(f"backward dgamma, {label}", grads["gamma"], dg_t, scale=sc["dgamma"]),
                    Comparison(f"backward dbeta, {label}", grads["beta"], db_t, scale=sc["dbeta"])]
    return out


class LayerNormOverBatch(SN.LayerNorm):
    """Batch norm's standardisation (statistics per feature, over the rows) with layer norm's γ, β."""

    def forward(self, x):
        xhat, std = SN.standardize(np.asarray(x).T, self.eps)
        self._cache = (xhat.T, std.T, self.params["gamma"])
        return self.params["gamma"] * xhat.T + self.params["beta"]

    def backward(self, dout):
        xhat, std, gamma = self._cache
        self.grads["gamma"], self.grads["beta"] = np.sum(dout * xhat, axis=0), np.sum(dout, axis=0)
        return SN.standardize_backward((dout * gamma).T, xhat.T, std.T).T


class LayerNormBackwardMissingTerm(SN.LayerNorm):
    def backward(self, dout):
        dx = super().backward(dout)
        xhat, std, gamma = self._cache
        g = np.asarray(dout) * gamma
        D = xhat.shape[-1]
        return dx + xhat * np.sum(g * xhat, axis=-1, keepdims=True) / (D * std)


class LayerNormDgammaAveraged(SN.LayerNorm):
    def backward(self, dout):
        dx = super().backward(dout)
        self.grads["gamma"] = self.grads["gamma"] / np.shape(dout)[0]
        return dx


# --- the sinusoidal positional encoding ------------------------------------------------------------

LENGTH_NAMES = ("max_len", "seq_len", "n_position", "n_positions", "length", "t", "max_seq_len", "position",
                "positions", "num_positions", "context_length", "max_length", "t_max", "block_size", "n_pos", "seq_length")
WIDTH_NAMES = ("d_model", "d", "dim", "embed_dim", "d_hid", "hidden_size", "e", "d_emb", "n_embd", "depth", "d_pos")
BASE = Hparam("base", 10000.0, None, aliases=("n", "max_wavelength", "theta", "wave_base"), bounds="(0, inf)")


def positional_inputs(ctx):
    """(T, d, optional): the table for two sizes, and an odd d (optional: code for even d only is not wrong)."""
    return {"T = 16, d = 8": (16, 8, False), "T = 50, d = 16": (50, 16, False), "T = 10, d = 7 (odd d)": (10, 7, True)}


def drive_positional_encoding(ctx, pair, fn, hparams, run):
    """``positional_encoding(T, d)`` → the table (T, d), PE[t, 2i] = sin(t/base^(2i/d)), PE[t, 2i+1] =
    cos(t/base^(2i/d)), against the table of PyTorch's tutorial (computed in float64)."""
    out = []
    for label, (T, d, optional) in pair.inputs(ctx).items():
        given = {**{n: T for n in LENGTH_NAMES}, **{n: d for n in WIDTH_NAMES}}
        by_name = takes(fn, LENGTH_NAMES) and takes(fn, WIDTH_NAMES)
        result = tried(run, label, optional, lambda: construct(fn, pair, hparams, given, run) if by_name
                       else call(fn, f"calling it as f({T}, {d})", T, d))
        if result is None:
            continue
        y, _ = outputs(result, "its result")
        y = y.reshape(y.shape[-2:]) if y.ndim == 3 and y.shape[0] == 1 else y
        out.append(Comparison(f"table, {label}", y[:T] if y.ndim == 2 else y,
                              pair.torch(T, d, float(hparams["base"]), ctx.torch_dtype)))
    return out


def _angles(T, d, base, per_column=False):
    i = np.arange(d) if per_column else 2 * (np.arange(d) // 2)
    return np.arange(T)[:, None] / base ** (i / d)


def pe_sin_cos_swapped(T, d):
    a = _angles(T, d, 10000.0)
    return np.where(np.arange(d) % 2 == 0, np.cos(a), np.sin(a))


def pe_column_exponent(T, d):
    a = np.arange(T)[:, None] / 10000.0 ** (2 * np.arange(d) / d)
    return np.where(np.arange(d) % 2 == 0, np.sin(a), np.cos(a))


def pe_concatenated(T, d):
    a = np.arange(T)[:, None] / 10000.0 ** (2 * np.arange((d + 1) // 2) / d)
    return np.concatenate([np.sin(a), np.cos(a)], axis=1)[:, :d]


# --- the transformer block: GPT-2's nested dicts, and a class ---------------------------------------

BLOCK_SIZES = (12, 3, 20)  # E, n_head, F (F ≠ 4E: the MLP's width is read from its weights)
BLOCK_ALIASES = {"n_head": HEAD_NAMES, "x": ("x", "inputs", "h")}


def block_function_inputs(ctx):
    E = BLOCK_SIZES[0]
    return {"x (T = 6, E = 12)": (ctx.array(ctx.rng.normal(size=(6, E))), False),
            "x (T = 1, E = 12)": (ctx.array(ctx.rng.normal(size=(1, E))), False),
            "batch x (2, 5, 12)": (ctx.array(ctx.rng.normal(size=(2, 5, E))), True)}


def torch_block(ctx, params, hparams, E, H, F):
    """``nn.TransformerEncoderLayer`` (dropout 0, GELU, batch first, ``norm_first`` and ε of ``hparams``)
    holding a scratch block's ``params``."""
    layer = tt.encoder_layer(E, H, F, bool(hparams.get("norm_first", 1)), ctx.torch_dtype,
                             hparams.get("approximate", "none"), hparams.get("eps", 1e-5))
    return tb.load_block(layer, params).to(ctx.device)


def drive_block_function(ctx, pair, fn, hparams, run):
    """``transformer_block(x, mlp, attn, ln_1, ln_2, n_head)`` on x (T, E), GPT-2's nested dicts,
    causal self-attention, against ``nn.TransformerEncoderLayer`` under the causal mask."""
    E, H, F = BLOCK_SIZES
    params = tb.random_block_params(ctx.rng, E, F, layout="packed", std=0.3, dtype=ctx.np_dtype)
    nested = tb.gpt2_block(params)
    layer = torch_block(ctx, params, hparams, E, H, F)
    out = []
    for label, (x, optional) in pair.inputs(ctx).items():
        given = with_aliases({"x": x.copy(), **deep_copy(nested), "n_head": H}, BLOCK_ALIASES)
        result = tried(run, label, optional, lambda: construct(fn, pair, hparams, given, run))
        if result is None:
            continue
        y, _ = outputs(result, "its result")
        x3 = x if x.ndim == 3 else x[None]
        y_t, _ = tt.block_forward_backward(layer, ctx.tensor(x3), ctx.tensor(np.ones_like(x3)))
        out.append(Comparison(f"output, {label}", y, y_t if x.ndim == 3 else y_t[0], scale=tensorwise(y_t)))
    return out


def deep_copy(value):
    if isinstance(value, dict):
        return {k: deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [deep_copy(v) for v in value]
    return value.copy() if isinstance(value, np.ndarray) else value


def block_variant(residual=True, post_ln=False, approximate="none", mha=SG.mha):
    """picoGPT's ``transformer_block(x, mlp, attn, ln_1, ln_2, n_head)`` with one difference switched on."""
    def transformer_block(x, mlp, attn, ln_1, ln_2, n_head):
        def ffn(z):
            return SG.ffn(z, **mlp, approximate=approximate)

        def attend(z):
            return mha(z, **attn, n_head=n_head)

        if post_ln:
            x = SG.layer_norm(x + attend(x), **ln_1)
            return SG.layer_norm(x + ffn(x), **ln_2)
        x = (x if residual else 0) + attend(SG.layer_norm(x, **ln_1))
        return x + ffn(SG.layer_norm(x, **ln_2))
    return transformer_block


BLOCK_LAYER_SIZES = (3, 5, 12, 3, 20)  # N, T, E, n_head, F


def drive_block_layer(ctx, pair, cls, hparams, run):
    """A block class (``params`` under scratch's keys, ``n_head``): forward(x (N, T, E)) twice on one
    object, and where it has one backward(dout) → dx and every parameter's gradient, against
    ``nn.TransformerEncoderLayer`` (causal unless ``causal=0``) and autograd."""
    N, T, E, H, F = BLOCK_LAYER_SIZES
    params = tb.random_block_params(ctx.rng, E, F, std=0.3, dtype=ctx.np_dtype)
    layer = construct(cls, pair, hparams, with_aliases({"params": {k: v.copy() for k, v in params.items()}, "n_head": H},
                                                       BLOCK_ALIASES), run)
    torch_layer = torch_block(ctx, params, hparams, E, H, F)
    has_backward = callable(getattr(layer, "backward", None))
    if not has_backward:
        run.notes.append("the block has no backward: its forward pass is compared")
    out = []
    for call_no in (1, 2):
        x, dout = ctx.array(ctx.rng.normal(size=(N, T, E))), ctx.array(ctx.rng.normal(size=(N, T, E)))
        label = f"call {call_no}"
        y = as_array(call(layer.forward, f"forward on x{x.shape}", x.copy()), "forward's result")
        y_t, dx_t = tt.block_forward_backward(torch_layer, ctx.tensor(x), ctx.tensor(dout), causal=bool(hparams["causal"]))
        out.append(Comparison(f"forward, {label}", y, y_t, scale=tensorwise(y_t)))
        if not has_backward:
            continue
        dx = as_array(call(layer.backward, f"backward(dout{dout.shape})", dout.copy()), "backward's result")
        grads_t = tb.block_arrays(torch_layer, grad=True)
        grads, scales = gradients(layer, list(params)), bias_scales(grads_t, "attn.")
        out.append(Comparison(f"backward dx, {label}", dx, dx_t, scale=tensorwise(dx_t)))
        out += [grad_comparison(f"backward d{k}, {label}", k, grads[k], grads_t[k], scales) for k in params]
    return out


class BlockMissingResidual(ST.TransformerBlock):
    """Pre-LN without the residual around attention: h = MHA(LN₁(x)), y = h + MLP(LN₂(h))."""

    def forward(self, x):
        x = np.asarray(x)
        self._x_shape = x.shape
        h = self.attn.forward(self.ln1.forward(x), is_causal=self.causal)
        return h + self._mlp(self.ln2.forward(h))

    def backward(self, dy):
        dh = dy + self.ln2.backward(self._mlp_backward(dy))
        dx = self.ln1.backward(self.attn.backward(dh))
        self.grads = self._collect("grads")
        return dx


class BlockBackwardDropsResidual(ST.TransformerBlock):
    """Forward right; backward returns the attention path's gradient without the identity path's."""

    def backward(self, dy):
        super().backward(dy)
        dh = dy + self.ln2.backward(self._mlp_backward(dy))
        return self.ln1.backward(self.attn.backward(dh))


# --- declarations ------------------------------------------------------------------------------------

BLOCK_HPARAMS = (NORM_FIRST, APPROXIMATE, EPS)
OFF_BY_ONE_MHA = mha_variant(diagonal_masked=True)

PAIRS = [
    Pair("layer-norm", "function", "gpt.layer_norm", tn.layer_norm,
         "a function layer_norm(x (…, D), g (D,), b (D,)[, eps]) -> g ⊙ (x − μ)/√(σ² + ε) + b over the last axis",
         drive_layer_norm_function, (EPS,), layer_norm_inputs,
         (Mistake(OVER_BATCH, layer_norm_over_batch), Mistake(UNBIASED, layer_norm_unbiased),
          Mistake(EPS_OUTSIDE, layer_norm_eps_outside), Mistake(EPS_CONVENTION, layer_norm_eps_1e6, flag={"eps": 1e-6})),
         ("layer_norm", "layernorm", "layer_normalization", "ln")),
    Pair("layer-norm", "layer", "normalization.LayerNorm", tn.layer_norm,
         "a class LayerNorm(gamma (D,), beta (D,)[, eps]) (or built from D) with forward(x (N, D)) and backward(dout) "
         "-> dx; dgamma, dbeta in grads (dict or list) or as attributes",
         drive_layer_norm_layer, (EPS,), layer_norm_layer_inputs,
         (Mistake(OVER_BATCH, LayerNormOverBatch),
          Mistake("backward misses the term −x̂·Σ(g ⊙ x̂)/D: x̂ depends on x through σ as well as through μ",
                  LayerNormBackwardMissingTerm),
          Mistake("dγ is averaged over the rows: the upstream gradient already carries the loss's mean, dγ = Σ dout ⊙ x̂",
                  LayerNormDgammaAveraged),
          Mistake(EPS_CONVENTION, hard_coded(SN.LayerNorm, eps=1e-6), flag={"eps": 1e-6})),
         ("LayerNorm", "LayerNormalization", "LayerNorm1d")),
    Pair("positional-encoding", "function", "transformer.sinusoidal_positional_encoding", tt.sinusoidal_encoding,
         "a function positional_encoding(T, d) -> the table (T, d): PE[t, 2i] = sin(t/10000^(2i/d)), "
         "PE[t, 2i+1] = cos(t/10000^(2i/d))",
         drive_positional_encoding, (BASE,), positional_inputs,
         (Mistake("sin and cos are swapped: the even columns 2i take the sine, the odd ones 2i + 1 the cosine",
                  pe_sin_cos_swapped),
          Mistake("each column has its own frequency 10000^(2j/d) (j the column): the two columns 2i, 2i + 1 of a "
                  "pair share 10000^(2i/d)", pe_column_exponent),
          Mistake("all the sines first, then all the cosines (tensor2tensor's layout): the 2017 paper and PyTorch's "
                  "tutorial interleave them, sine in column 2i, cosine in 2i + 1", pe_concatenated)),
         ("positional_encoding", "sinusoidal_positional_encoding", "get_positional_encoding", "positional_encodings",
          "sinusoid_encoding_table", "get_sinusoid_encoding_table", "position_encoding")),
    Pair("transformer-block", "function", "gpt.transformer_block", tt.encoder_layer,
         "a function transformer_block(x (T, E), mlp, attn, ln_1, ln_2, n_head) -> (T, E): GPT-2's pre-LN block with "
         "causal self-attention, the parameters as nested dicts (weights (in, out))",
         drive_block_function, BLOCK_HPARAMS, block_function_inputs,
         (Mistake(MISSING_RESIDUAL, block_variant(residual=False)),
          Mistake(POST_LN, block_variant(post_ln=True), flag={"norm_first": 0}),
          Mistake(GELU_TANH_HINT, block_variant(approximate="tanh"), flag={"approximate": "tanh"}),
          Mistake(CAUSAL_OFF_BY_ONE, block_variant(mha=OFF_BY_ONE_MHA))),
         ("transformer_block", "block", "decoder_block", "gpt_block")),
    Pair("transformer-block", "layer", "transformer.TransformerBlock", tt.encoder_layer,
         "a class TransformerBlock(params (scratch.transformer.block_keys), n_head) with forward(x (N, T, E)) and, where "
         "it has one, backward(dout) -> dx; causal self-attention; the gradients under the same keys",
         drive_block_layer, (NORM_FIRST, CAUSAL, APPROXIMATE, EPS), None,
         (Mistake(MISSING_RESIDUAL, BlockMissingResidual),
          Mistake("backward drops the residual path: y = x + f(x) sends dy straight back to x as well, dx = dy + "
                  "f'(x)ᵀdy", BlockBackwardDropsResidual),
          Mistake(POST_LN, hard_coded(ST.TransformerBlock, norm_first=False), flag={"norm_first": 0}),
          Mistake(GELU_TANH_HINT, hard_coded(ST.TransformerBlock, approximate="tanh"), flag={"approximate": "tanh"})),
         ("TransformerBlock", "Block", "DecoderBlock", "GPTBlock", "TransformerLayer")),
]
