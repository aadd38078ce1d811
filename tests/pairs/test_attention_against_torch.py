"""Every NumPy attention and transformer piece against its PyTorch counterpart, through
``comparisons.transformer_bridge``: forward and backward (autograd), several seeds, float64 at the
exact tolerance and float32 at float32's; batch, sequence, width and head counts all different.
Where the two sides define a thing differently the difference is measured, not hidden."""

import math

import numpy as np
import pytest
import torch

from comparisons import transformer_bridge as tb
from comparisons import checks
from comparisons.checks import TOLERANCES
from scratch import activations as sact
from scratch import attention as sa
from scratch import seq2seq
from scratch import normalization as sn
from scratch import transformer as st
from scratch.layers import GELU
from scratch.optim import AdamW
from scratch.schedules import WarmupCosine
from torch_ref import activations as tact
from torch_ref import attention as ta
from torch_ref import normalization as tn
from torch_ref import optim as topt
from torch_ref import transformer as tt

DTYPES = ["float64", "float32"]
SEEDS = [0] + [pytest.param(seed, marks=pytest.mark.slow) for seed in range(1, 5)]  # seed 0 here, all in make test-all
TORCH_DTYPE = {"float64": torch.float64, "float32": torch.float32}
N, T_Q, T_K, E, HEADS, F = 2, 5, 7, 12, 3, 20  # all different


def tol(dtype, kind="exact"):
    atol, rtol = TOLERANCES[dtype][kind]
    return dict(atol=atol, rtol=rtol)


def close(ours, theirs, dtype, what="", tensorwise=False, scale=None):
    """|ours − theirs| ≤ atol + rtol·|theirs| elementwise at the dtype's exact tolerance.

    ``tensorwise`` (every gradient, as ``comparisons.lockstep`` compares them): the relative part
    is taken against the largest |element| of the tensor. A gradient element is a sum (over the
    batch, the positions, back through the layers) that can cancel to near 0 and keep the rounding
    of its much larger terms: in float32 up to 3.6e-6 here, where the tensor's largest entries are
    O(1). A mistake in the math moves a whole tensor, far beyond that. ``scale``: the size of the
    terms of each element, where known (:func:`comparisons.checks.close`)."""
    if isinstance(theirs, torch.Tensor):
        theirs = theirs.detach().cpu().numpy()
    assert np.asarray(ours).dtype == np.dtype(dtype), f"{what}: computed in {np.asarray(ours).dtype}, not {dtype}"
    atol, rtol = TOLERANCES[dtype]["exact"]
    if tensorwise:
        scale = float(np.max(np.abs(theirs), initial=0.0))
    ok = checks.close(ours, theirs, atol, rtol, scale)
    assert ok.all(), (f"{what} ({dtype}): max abs err {np.max(np.abs(np.asarray(ours, float) - theirs)):.3g}, "
                      f"first mismatch {checks.first_mismatch(ours, theirs, atol, rtol, scale)}")


def grad_close(ours, theirs, dtype, what=""):
    close(ours, theirs, dtype, what, tensorwise=True)


PACKED_TOGETHER = ({"Wq", "Wk", "Wv"}, {"bq", "bk", "bv"})


def grads_close(ours: dict, theirs: dict, dtype, where=""):
    """Every gradient of a dict compared tensorwise, the tensors PyTorch keeps as one (Wq, Wk, Wv in
    ``in_proj_weight``; bq, bk, bv in ``in_proj_bias``) taken as one tensor, as in the packed layout.
    This matters for b_k, whose true gradient is exactly 0 (softmax ignores the shift q·b_k, the same
    for every key): each side returns only a rounding residue of the sum of its terms (up to 6e-6 in
    float32 here), which is judged, as inside ``in_proj_bias``, against the size of b_q's and b_v's."""
    assert set(ours) == set(theirs), f"{where}: keys {sorted(ours)} vs {sorted(theirs)}"
    for k, g in theirs.items():
        prefix, _, name = k.rpartition(".")
        group = next((grp for grp in PACKED_TOGETHER if name in grp), {name})
        keys = [f"{prefix}.{n}" if prefix else n for n in group]
        scale = max(float(np.max(np.abs(theirs[key]))) for key in keys)
        close(ours[k], g, dtype, f"d{k} {where}", scale=scale)


def normal(rng, dtype, *shape, std=1.0):
    return (std * rng.standard_normal(shape)).astype(dtype)


def tensor(a, dtype):
    return torch.as_tensor(np.asarray(a), dtype=TORCH_DTYPE[dtype])


# --- normalization and GELU ------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", SEEDS)
def test_layer_norm_against_nn_layernorm(dtype, seed):
    rng = np.random.default_rng(seed)
    x, dout = normal(rng, dtype, 3, 5, 7), normal(rng, dtype, 3, 5, 7)
    gamma, beta = (1 + normal(rng, dtype, 7, std=0.3)).astype(dtype), normal(rng, dtype, 7, std=0.3)
    layer = sn.LayerNorm(gamma, beta)
    out, dx = layer.forward(x), layer.backward(dout)
    t_out, t_dx, t_dgamma, t_dbeta = tn.forward_backward(tn.layer_norm(tensor(gamma, dtype), tensor(beta, dtype)),
                                                         tensor(x, dtype), tensor(dout, dtype))
    close(out, t_out, dtype, "out")
    for what, a, b in [("dx", dx, t_dx), ("dgamma", layer.grads["gamma"], t_dgamma), ("dbeta", layer.grads["beta"], t_dbeta)]:
        grad_close(a, b, dtype, what)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("groups", [1, 3, 6])
def test_group_norm_against_nn_groupnorm(dtype, seed, groups):
    rng = np.random.default_rng(seed)
    x, dout = normal(rng, dtype, 2, 6, 3, 4), normal(rng, dtype, 2, 6, 3, 4)
    gamma, beta = (1 + normal(rng, dtype, 6, std=0.3)).astype(dtype), normal(rng, dtype, 6, std=0.3)
    layer = sn.GroupNorm(groups, gamma, beta)
    out, dx = layer.forward(x), layer.backward(dout)
    t_out, t_dx, t_dgamma, t_dbeta = tn.forward_backward(
        tn.group_norm(groups, tensor(gamma, dtype), tensor(beta, dtype)), tensor(x, dtype), tensor(dout, dtype))
    close(out, t_out, dtype, "out")
    for what, a, b in [("dx", dx, t_dx), ("dgamma", layer.grads["gamma"], t_dgamma), ("dbeta", layer.grads["beta"], t_dbeta)]:
        grad_close(a, b, dtype, what)


def gelu_inputs(rng, dtype):
    return np.concatenate([np.linspace(-8, 8, 1601), 3 * rng.standard_normal(500), [0.0, -0.0, 1e-8]]).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_against_nn_gelu(dtype, seed, approximate):
    rng = np.random.default_rng(seed)
    x = gelu_inputs(rng, dtype)
    dout = normal(rng, dtype, x.size)
    layer = GELU(approximate)
    out, dx = layer.forward(x), layer.backward(dout)
    t_out, t_dx = tact.forward_backward(tact.module("gelu", approximate=approximate), tensor(x, dtype),
                                        tensor(dout, dtype))
    close(out, t_out, dtype, "GELU(x)")
    scale = gelu_grad_terms(x, approximate)
    close(dx, t_dx, dtype, "dx", scale=np.abs(dout) * scale)
    close(sact.gelu_grad(x, approximate), tact.derivative("gelu", tensor(x, dtype), approximate=approximate),
          dtype, "GELU'(x)", scale=scale)


def gelu_grad_terms(x, approximate):
    """The size of the terms GELU'(x) is summed from, |Φ| + |x·φ| or, in the tanh form,
    ½(1 + |t|) + ½|x|(1 + t²)·√(2/π)(1 + 3·0.044715x²): where tanh saturates (x < −5) the terms
    1 + t and 1 − t² cancel, and torch's float32 kernel, whose tanh is then −1, returns 0 where the
    true GELU' is ~1e-6 (measured up to 1.5e-6 here)."""
    x = x.astype(np.float64)
    if approximate == "tanh":
        beta = math.sqrt(2 / math.pi)
        t = np.tanh(beta * (x + 0.044715 * x**3))
        return 0.5 * (1 + np.abs(t)) + 0.5 * np.abs(x) * (1 + t * t) * beta * (1 + 3 * 0.044715 * x * x)
    return 0.5 * (1 + np.abs(sact.erf(x / math.sqrt(2)))) + np.abs(x) * np.exp(-x * x / 2) / math.sqrt(2 * math.pi)


@pytest.mark.parametrize("dtype", DTYPES)
def test_erf_against_torch_erf(dtype):
    x = gelu_inputs(np.random.default_rng(0), dtype)
    close(sact.erf(x), torch.erf(tensor(x, dtype)), dtype, "erf")


def test_the_gelu_tanh_form_differs_from_erf_by_the_same_gap_on_both_sides():
    """A real difference, 4.73e-4 at most (near |x| = 2.70): 470 times float32's tolerance, so the
    two forms cannot stand in for each other in an exact check. Both libraries show the same gap."""
    x = np.linspace(-10, 10, 20001)
    ours = sact.gelu(x, "tanh") - sact.gelu(x)
    theirs = (tact.gelu("tanh")(torch.as_tensor(x)) - tact.gelu("none")(torch.as_tensor(x))).numpy()
    close(ours, theirs, "float64", "tanh − erf")
    assert 4.73e-4 < np.max(np.abs(ours)) < 4.74e-4


# --- scaled dot-product attention ------------------------------------------------------------------

SDPA_CASES = ["plain", "causal", "mask", "scale 1", "T_q > T_k causal", "T_q < T_k causal"]


def sdpa_inputs(rng, dtype, case):
    t_q, t_k = {"T_q > T_k causal": (7, 4), "T_q < T_k causal": (3, 6)}.get(case, (T_Q, T_K))
    q, k = normal(rng, dtype, N, HEADS, t_q, 4), normal(rng, dtype, N, HEADS, t_k, 4)
    v, dout = normal(rng, dtype, N, HEADS, t_k, 6), normal(rng, dtype, N, HEADS, t_q, 6)
    keep = rng.random((t_q, t_k)) < 0.6
    keep[:, 0] = True  # every query sees a key: fully masked rows have a test of their own
    options = {"causal": dict(is_causal=True), "T_q > T_k causal": dict(is_causal=True),
               "T_q < T_k causal": dict(is_causal=True), "mask": dict(mask=keep), "scale 1": dict(scale=1.0)}
    return q, k, v, dout, options.get(case, {})


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("case", SDPA_CASES)
def test_scaled_dot_product_attention_against_torch(dtype, seed, case):
    rng = np.random.default_rng(seed)
    compare_sdpa(*sdpa_inputs(rng, dtype, case), dtype)


def compare_sdpa(q, k, v, dout, options, dtype):
    """Both sides on the same inputs (``mask`` crosses as SDPA's boolean ``attn_mask``), output and
    gradients compared; returns (out, dq, dk, dv, torch's out, dq, dk, dv)."""
    out, cache = sa.scaled_dot_product_attention(q, k, v, **options)
    grads = sa.scaled_dot_product_attention_backward(dout, cache)
    t_opts = {k_: v_ for k_, v_ in options.items() if k_ != "mask"}
    if "mask" in options:
        t_opts["attn_mask"] = torch.as_tensor(options["mask"])
    t_out, *t_grads = ta.sdpa_forward_backward(*(tensor(a, dtype) for a in (q, k, v, dout)), **t_opts)
    close(out, t_out, dtype, "out")
    for name, a, b in zip(("dq", "dk", "dv"), grads, t_grads):
        grad_close(a, b, dtype, name)
    return (out, *grads, t_out, *t_grads)


SAFE_SOFTMAX = pytest.mark.skipif(tuple(int(p) for p in torch.__version__.split(".")[:2]) < (2, 5),
                                  reason="PyTorch's SDPA returns NaN for a fully masked row before 2.5 (pytorch#133882)")


@SAFE_SOFTMAX
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", SEEDS)
def test_a_fully_masked_row_gives_zero_output_and_gradient_on_both_sides(dtype, seed):
    """Both define it as all-zero weights (PyTorch's SDPA since 2.5, ``_safe_softmax``; a plain
    softmax of −∞'s is 0/0 = NaN)."""
    rng = np.random.default_rng(seed)
    q, k, v, dout, _ = sdpa_inputs(rng, dtype, "plain")
    keep = rng.random((T_Q, T_K)) < 0.6
    keep[:, 0], keep[2] = True, False
    out, dq, _, _, t_out, t_dq, _, _ = compare_sdpa(q, k, v, dout, dict(mask=keep), dtype)
    assert np.all(out[..., 2, :] == 0) and torch.all(t_out[..., 2, :] == 0)
    assert np.all(dq[..., 2, :] == 0) and torch.all(t_dq[..., 2, :] == 0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", SEEDS)
def test_minus_1e10_against_minus_inf(dtype, seed):
    """With mask_value = −1e10 every partially masked row equals PyTorch's −∞ result (exp(−1e10 − m)
    underflows to exactly 0); a fully masked row gets uniform weights, the mean of the values,
    where −∞ gives 0: the difference there is exactly |mean(v)|."""
    rng = np.random.default_rng(seed)
    q, k, v, dout, _ = sdpa_inputs(rng, dtype, "plain")
    keep = rng.random((T_Q, T_K)) < 0.6
    keep[:, 0], keep[2] = True, False
    ours, cache = sa.scaled_dot_product_attention(q, k, v, mask=keep, mask_value=-1e10)
    dq, dk, dv = sa.scaled_dot_product_attention_backward(dout, cache)
    t_out, t_dq, t_dk, t_dv = ta.sdpa_forward_backward(*(tensor(a, dtype) for a in (q, k, v, dout)),
                                                       attn_mask=torch.as_tensor(keep))
    partial = np.arange(T_Q) != 2
    close(ours[..., partial, :], t_out[..., partial, :], dtype, "out on partially masked rows")
    grad_close(dq[..., partial, :], t_dq[..., partial, :], dtype, "dq on partially masked rows")
    gap = np.abs(ours[..., 2, :] - t_out[..., 2, :].numpy())
    np.testing.assert_allclose(gap, np.abs(v.mean(axis=-2)), **tol(dtype))
    assert gap.max() > 0.05  # a real difference, not rounding
    np.testing.assert_array_equal(dq[..., 2, :], 0.0)  # no gradient reaches q through the replaced scores
    grad_close(dv - np.swapaxes(cache["weights"][..., 2:3, :], -1, -2) @ dout[..., 2:3, :], t_dv, dtype,
               "dv but for the uniform row's share")


@SAFE_SOFTMAX
def test_multihead_attention_on_a_fully_masked_row_depends_on_need_weights_in_torch():
    """nn.MultiheadAttention's default ``need_weights=True`` computes an explicit softmax: NaN on a
    fully masked row. ``need_weights=False`` (what nn.TransformerEncoderLayer uses) goes through SDPA:
    weights 0, so the row's output is out_proj's bias alone, as the NumPy layer gives."""
    rng = np.random.default_rng(0)
    params = mha_params(rng, "float64", "separate")
    x = rng.standard_normal((N, T_Q, E))
    keep = np.ones((T_Q, T_Q), bool)
    keep[1] = False
    ours = sa.MultiHeadAttention(params, HEADS).forward(x, mask=keep)
    np.testing.assert_allclose(ours[:, 1], np.broadcast_to(params["bo"], (N, E)), **tol("float64"))
    mha = tb.load_mha(ta.multihead_attention(E, HEADS), params)
    kwargs = dict(attn_mask=ta.mha_mask(torch.as_tensor(keep)))
    xt = torch.as_tensor(x)
    with torch.no_grad():
        explicit, _ = mha(xt, xt, xt, need_weights=True, **kwargs)
        fused, _ = mha(xt, xt, xt, need_weights=False, **kwargs)
    assert torch.isnan(explicit[:, 1]).all() and not torch.isnan(explicit[:, [0, 2, 3, 4]]).any()
    close(ours, fused, "float64", "need_weights=False")
    close(ours[:, [0, 2, 3, 4]], explicit[:, [0, 2, 3, 4]], "float64", "need_weights=True, other rows")


def test_an_additive_minus_1e10_keeps_the_scores_of_a_fully_masked_row_in_float64():
    """PyTorch's float attn_mask is *added*: in float64, s − 1e10 keeps s to ~2e-6 (the spacing of
    1e10), so a fully masked row attends as if unmasked; in float32 (spacing 1024) s − 1e10 rounds
    to −1e10 and the row is uniform, as the replacing ``mask_value=-1e10`` makes it in both dtypes."""
    rng = np.random.default_rng(0)
    q, k, v = rng.standard_normal((1, 1, 3, 4)), rng.standard_normal((1, 1, 5, 4)), rng.standard_normal((1, 1, 5, 6))
    additive = torch.zeros(3, 5, dtype=torch.float64)
    additive[1] = -1e10
    unmasked, _ = sa.scaled_dot_product_attention(q, k, v)
    out64 = ta.sdpa(*(torch.as_tensor(a) for a in (q, k, v)), attn_mask=additive).numpy()
    np.testing.assert_allclose(out64[..., 1, :], unmasked[..., 1, :], atol=1e-5)
    assert not np.allclose(out64[..., 1, :], v.mean(axis=-2), atol=1e-2)
    q32, k32, v32 = (a.astype(np.float32) for a in (q, k, v))
    out32 = ta.sdpa(*(torch.as_tensor(a) for a in (q32, k32, v32)), attn_mask=additive.float()).numpy()
    keep = np.ones((3, 5), bool)
    keep[1] = False
    ours32, _ = sa.scaled_dot_product_attention(q32, k32, v32, mask=keep, mask_value=-1e10)
    close(ours32, out32, "float32", "replacing vs adding −1e10 in float32")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", SEEDS)
def test_causal_attention_gives_the_future_exactly_zero_weight_on_both_sides(dtype, seed):
    rng = np.random.default_rng(seed)
    params = tb.random_block_params(rng, E, F, std=0.4, dtype=dtype)
    attn = {k[5:]: v for k, v in params.items() if k.startswith("attn.")}
    x = normal(rng, dtype, N, T_Q, E)
    layer = sa.MultiHeadAttention(attn, HEADS)
    layer.forward(x, is_causal=True)
    mha = tb.load_mha(ta.multihead_attention(E, HEADS, TORCH_DTYPE[dtype]), attn)
    _, t_weights, _, _ = ta.mha_forward_backward(mha, tensor(x, dtype), None, tensor(np.ones_like(x), dtype),
                                                 attn_mask=ta.causal_attn_mask(T_Q), is_causal=True)
    future = ~sa.causal_mask(T_Q)
    assert np.all(layer.attention_weights[..., future] == 0.0)
    assert torch.all(t_weights[..., torch.as_tensor(future)] == 0.0)
    close(layer.attention_weights, t_weights, dtype, "per-head weights")
    q, k, v, dout, _ = sdpa_inputs(rng, dtype, "causal")  # SDPA: changing the future changes nothing, bitwise
    k2, v2 = k.copy(), v.copy()
    k2[..., 3:, :] += 5
    v2[..., 3:, :] -= 5
    before = ta.sdpa(*(tensor(a, dtype) for a in (q, k, v)), is_causal=True)
    after = ta.sdpa(*(tensor(a, dtype) for a in (q, k2, v2)), is_causal=True)
    assert torch.equal(before[..., :3, :], after[..., :3, :])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", SEEDS)
def test_the_books_time_attention_is_sdpa_with_scale_one(dtype, seed):
    rng = np.random.default_rng(seed)
    hs_enc, hs_dec, dout = normal(rng, dtype, N, T_K, 6), normal(rng, dtype, N, T_Q, 6), normal(rng, dtype, N, T_Q, 6)
    layer = sa.TimeAttention()
    out = layer.forward(hs_enc, hs_dec)
    dhs_enc, dhs_dec = layer.backward(dout)
    t_out, t_dq, t_dk, t_dv = ta.sdpa_forward_backward(tensor(hs_dec, dtype), tensor(hs_enc, dtype),
                                                       tensor(hs_enc, dtype), tensor(dout, dtype), scale=1.0)
    close(out, t_out, dtype, "context")
    grad_close(dhs_dec, t_dq, dtype, "dhs_dec")
    grad_close(dhs_enc, t_dk + t_dv, dtype, "dhs_enc = dk + dv")


# --- multi-head attention --------------------------------------------------------------------------


def mha_params(rng, dtype, layout):
    attn = {k[5:]: v for k, v in tb.random_block_params(rng, E, F, layout=layout, std=0.4, dtype=dtype).items()
            if k.startswith("attn.")}
    return attn


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("layout", ["separate", "packed"])
@pytest.mark.parametrize("case", ["self", "self causal", "self masked", "cross"])
def test_multi_head_attention_against_nn_multiheadattention(dtype, seed, layout, case):
    rng = np.random.default_rng(seed)
    params = mha_params(rng, dtype, layout)
    x_q = normal(rng, dtype, N, T_Q, E)
    x_kv = normal(rng, dtype, N, T_K, E) if case == "cross" else None
    dout = normal(rng, dtype, N, T_Q, E)
    keep = rng.random((T_Q, T_Q)) < 0.6
    keep[:, 0] = True
    options, t_options = {}, {}
    if case == "self causal":
        options, t_options = dict(is_causal=True), dict(attn_mask=ta.causal_attn_mask(T_Q), is_causal=True)
    elif case == "self masked":
        options, t_options = dict(mask=keep), dict(attn_mask=ta.mha_mask(torch.as_tensor(keep)))
    layer = sa.MultiHeadAttention(params, HEADS)
    out = layer.forward(x_q, x_kv, **options)
    dx = layer.backward(dout)
    dx_q, dx_kv = dx if case == "cross" else (dx, None)
    mha = tb.load_mha(ta.multihead_attention(E, HEADS, TORCH_DTYPE[dtype]), params)
    t_out, t_weights, t_dx_q, t_dx_kv = ta.mha_forward_backward(
        mha, tensor(x_q, dtype), None if x_kv is None else tensor(x_kv, dtype), tensor(dout, dtype), **t_options)
    close(out, t_out, dtype, "out")
    close(layer.attention_weights, t_weights, dtype, "weights")
    grad_close(dx_q, t_dx_q, dtype, "dx_q")
    if case == "cross":
        grad_close(dx_kv, t_dx_kv, dtype, "dx_kv")
    grads_close(layer.grads, tb.mha_arrays(mha, grad=True, layout=layout), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", SEEDS)
def test_keys_of_another_width_against_torchs_separate_projections(dtype, seed):
    """kdim = vdim ≠ E: PyTorch keeps q_proj_weight, k_proj_weight, v_proj_weight (out, in)."""
    rng = np.random.default_rng(seed)
    kdim = 10
    params = {"Wq": normal(rng, dtype, E, E, std=0.4), "Wk": normal(rng, dtype, kdim, E, std=0.4),
              "Wv": normal(rng, dtype, kdim, E, std=0.4), "Wo": normal(rng, dtype, E, E, std=0.4),
              **{b: normal(rng, dtype, E, std=0.4) for b in ("bq", "bk", "bv", "bo")}}
    x_q, x_kv, dout = normal(rng, dtype, N, T_Q, E), normal(rng, dtype, N, T_K, kdim), normal(rng, dtype, N, T_Q, E)
    layer = sa.MultiHeadAttention(params, HEADS)
    out = layer.forward(x_q, x_kv)
    dx_q, dx_kv = layer.backward(dout)
    mha = tb.load_mha(ta.multihead_attention(E, HEADS, TORCH_DTYPE[dtype], kdim=kdim, vdim=kdim), params)
    t_out, _, t_dx_q, t_dx_kv = ta.mha_forward_backward(mha, tensor(x_q, dtype), tensor(x_kv, dtype),
                                                        tensor(dout, dtype))
    close(out, t_out, dtype, "out")
    grad_close(dx_q, t_dx_q, dtype, "dx_q")
    grad_close(dx_kv, t_dx_kv, dtype, "dx_kv")
    grads_close(layer.grads, tb.mha_arrays(mha, grad=True), dtype)


@pytest.mark.parametrize("seed", SEEDS)
def test_in_proj_weight_is_wq_wk_wv_transposed_and_stacked_exactly(seed):
    rng = np.random.default_rng(seed)
    separate = mha_params(rng, np.float64, "separate")
    packed = tb.separate_to_packed(separate)
    np.testing.assert_array_equal(packed["in_proj_weight"][:E], separate["Wq"].T)
    np.testing.assert_array_equal(packed["in_proj_weight"][E:2 * E], separate["Wk"].T)
    np.testing.assert_array_equal(packed["in_proj_weight"][2 * E:], separate["Wv"].T)
    np.testing.assert_array_equal(packed["in_proj_bias"], np.concatenate([separate[b] for b in ("bq", "bk", "bv")]))
    back = tb.packed_to_separate(packed)
    for k in separate:
        np.testing.assert_array_equal(back[k], separate[k])
    mha = tb.load_mha(ta.multihead_attention(E, HEADS), separate)  # through torch and back: bitwise
    for layout, expected in (("separate", separate), ("packed", packed)):
        read = tb.mha_arrays(mha, layout=layout)
        for k in expected:
            np.testing.assert_array_equal(read[k], expected[k])
    x = rng.standard_normal((N, T_Q, E))
    q_torch = torch.nn.functional.linear(torch.as_tensor(x), mha.in_proj_weight[:E], mha.in_proj_bias[:E])
    close(x @ separate["Wq"] + separate["bq"], q_torch, "float64", "x Wq + bq = F.linear(x, in_proj_weight[:E], …)")


# --- the transformer block -------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("norm_first", [True, False])
@pytest.mark.parametrize("layout, approximate", [("separate", "none"), ("packed", "none"), ("separate", "tanh")])
def test_block_against_nn_transformerencoderlayer(dtype, seed, norm_first, layout, approximate):
    rng = np.random.default_rng(seed)
    params = tb.random_block_params(rng, E, F, layout=layout, std=0.3, dtype=dtype)
    x, dout = normal(rng, dtype, 3, T_Q, E), normal(rng, dtype, 3, T_Q, E)
    block = st.TransformerBlock(params, HEADS, norm_first=norm_first, approximate=approximate)
    out, dx = block.forward(x), block.backward(dout)
    layer = tb.load_block(tt.encoder_layer(E, HEADS, F, norm_first, TORCH_DTYPE[dtype], approximate), params)
    t_out, t_dx = tt.block_forward_backward(layer, tensor(x, dtype), tensor(dout, dtype))
    close(out, t_out, dtype, "out")
    grad_close(dx, t_dx, dtype, "dx")
    assert set(block.grads) == set(params)
    grads_close(block.grads, tb.block_arrays(layer, grad=True, layout=layout), dtype)


def test_pre_ln_and_post_ln_are_different_blocks_on_both_sides():
    rng = np.random.default_rng(0)
    params = tb.random_block_params(rng, E, F, std=0.3)
    x = rng.standard_normal((N, T_Q, E))
    pre, post = (st.TransformerBlock(params, HEADS, norm_first=nf).forward(x) for nf in (True, False))
    t_pre, t_post = (tt.block_forward_backward(tb.load_block(tt.encoder_layer(E, HEADS, F, nf), params),
                                               torch.as_tensor(x), torch.ones(N, T_Q, E))[0] for nf in (True, False))
    close(pre, t_pre, "float64", "pre-LN")
    close(post, t_post, "float64", "post-LN")
    assert np.max(np.abs(pre - post)) > 0.1


# --- TinyGPT ---------------------------------------------------------------------------------------

VOCAB, D_MODEL, GPT_HEADS, LAYERS, CONTEXT = 11, 16, 4, 2, 8


def gpt_pair(rng, dtype, tied, std=0.3, layout="separate"):
    params = tb.random_tinygpt_params(rng, VOCAB, D_MODEL, LAYERS, CONTEXT, tied=tied, layout=layout, std=std,
                                      dtype=dtype)
    ours = st.TinyGPT(params, GPT_HEADS, LAYERS, tied=tied)
    theirs = tb.load_tinygpt(tt.TinyGPT(VOCAB, D_MODEL, GPT_HEADS, LAYERS, CONTEXT, tied=tied,
                                        dtype=TORCH_DTYPE[dtype]), params)
    return ours, theirs


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("tied", [False, True])
def test_tinygpt_against_torch(dtype, seed, tied):
    rng = np.random.default_rng(seed)
    ours, theirs = gpt_pair(rng, dtype, tied, layout="packed" if seed % 2 else "separate")
    x, t = rng.integers(0, VOCAB, (3, CONTEXT)), rng.integers(0, VOCAB, (3, CONTEXT))
    grads = ours.gradient(x, t)
    theirs.zero_grad()
    loss = theirs.loss(torch.as_tensor(x), torch.as_tensor(t))
    loss.backward()
    close(np.asarray(ours.loss(x, t), dtype=dtype), loss, dtype, "loss")
    close(ours.scores(x), theirs(torch.as_tensor(x)), dtype, "logits", tensorwise=True)  # sums through 2 blocks
    grads_close(grads, tb.tinygpt_arrays(theirs, grad=True, layout="packed" if seed % 2 else "separate"), dtype)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("tied", [False, True])
def test_tinygpt_gradients_three_ways(seed, tied):
    """Backpropagation by hand, central differences, and autograd on a tiny configuration."""
    rng = np.random.default_rng(seed)
    params = tb.random_tinygpt_params(rng, 5, 8, 1, 4, tied=tied, std=0.5)
    ours = st.TinyGPT(params, 2, 1, tied=tied)
    theirs = tb.load_tinygpt(tt.TinyGPT(5, 8, 2, 1, 4, tied=tied), params)
    x, t = rng.integers(0, 5, (2, 4)), rng.integers(0, 5, (2, 4))
    backprop = ours.gradient(x, t)
    numerical = ours.numerical_gradient(x, t)
    theirs.loss(torch.as_tensor(x), torch.as_tensor(t)).backward()
    autograd = tb.tinygpt_arrays(theirs, grad=True)
    for k in params:
        np.testing.assert_allclose(backprop[k], numerical[k], err_msg=f"{k}: backprop vs numerical",
                                   **tol("float64", "gradcheck"))
    grads_close(backprop, autograd, "float64", "backprop vs autograd")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", SEEDS)
def test_the_key_bias_gradient_is_zero_up_to_rounding_on_both_sides(dtype, seed):
    """softmax(q·(k + b_k)) = softmax(q·k + q·b_k), the shift q·b_k the same for every key: b_k's
    true gradient is 0. Each side returns a rounding residue, far below the other biases' gradients."""
    rng = np.random.default_rng(seed)
    ours, theirs = gpt_pair(rng, dtype, False)
    x, t = rng.integers(0, VOCAB, (3, CONTEXT)), rng.integers(0, VOCAB, (3, CONTEXT))
    grads = ours.gradient(x, t)
    theirs.loss(torch.as_tensor(x), torch.as_tensor(t)).backward()
    t_grads = tb.tinygpt_arrays(theirs, grad=True)
    eps = np.finfo(dtype).eps
    for i in range(LAYERS):
        for g in (grads, t_grads):
            scale = np.max(np.abs(g[f"blocks.{i}.attn.bq"]))
            assert np.max(np.abs(g[f"blocks.{i}.attn.bk"])) < 100 * eps * max(scale, 1.0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("tied", [False, True])
def test_tinygpt_adamw_warmup_cosine_steps_against_torch(dtype, seed, tied):
    """Eight steps of AdamW (weight decay 0.1) under a linear warm-up (3 steps) + cosine, in lockstep
    (``comparisons.lockstep``'s rule): before each step the NumPy side is given torch's parameters;
    the learning rate, the loss and the gradients are compared; the NumPy AdamW then steps on
    torch's gradient, so the update is checked on the very same input (each side keeps its own m
    and v, built from the same gradients), and the parameters after the step are compared.

    (Stepping each side on its own gradient would part at the attention's key bias: its true
    gradient is 0, each side's is a rounding residue of its own, and Adam's g/(√v + ε) turns a
    residue of 1e-8 into a step of the order of the learning rate.)"""
    rng = np.random.default_rng(seed)
    ours, theirs = gpt_pair(rng, dtype, tied, std=0.1)
    lr0, warmup, total = 3e-3, 3, 8
    opt = AdamW(lr=lr0, weight_decay=0.1)
    schedule = WarmupCosine(lr0, warmup, total)
    t_opt = topt.adamw(theirs.parameters(), lr=lr0, weight_decay=0.1)
    t_sched = tt.warmup_cosine(t_opt, warmup, total)
    for step in range(total):
        x, t = rng.integers(0, VOCAB, (4, CONTEXT)), rng.integers(0, VOCAB, (4, CONTEXT))
        for k, v in tb.tinygpt_arrays(theirs).items():
            ours.params[k][...] = v
        opt.lr = schedule(step)
        assert opt.lr == pytest.approx(t_opt.param_groups[0]["lr"], rel=1e-15, abs=0)
        ours_loss = ours.loss(x, t)
        grads = ours.gradient(x, t)
        t_opt.zero_grad()
        loss = theirs.loss(torch.as_tensor(x), torch.as_tensor(t))
        loss.backward()
        close(np.asarray(ours_loss, dtype=dtype), loss, dtype, f"loss at step {step}")
        t_grads = tb.tinygpt_arrays(theirs, grad=True)
        grads_close(grads, t_grads, dtype, f"at step {step}")
        opt.update(ours.params, t_grads)
        t_opt.step()
        t_sched.step()
        for k, p in tb.tinygpt_arrays(theirs).items():
            close(ours.params[k], p, dtype, f"{k} after step {step}")


def test_warmup_cosine_against_lambdalr_and_sequentiallr():
    """LambdaLR with the factor agrees throughout; SequentialLR(LinearLR, CosineAnnealingLR) agrees up
    to the last step T (its cosine is recursive: rounding only) and then follows the cosine on,
    η_min + (η₀ − η_min)·½(1 + cos(π(t − W)/(T − W))), rising again where the schedule stays at
    η_min (6.1e-6 above it one step after T here)."""
    lr0, warmup, total, min_lr = 1e-3, 5, 25, 1e-5
    schedule = WarmupCosine(lr0, warmup, total, min_lr)
    lrs = {}
    for name, make in (("lambda", tt.warmup_cosine), ("sequential", tt.warmup_cosine_sequential)):
        opt = topt.sgd([torch.zeros(1, requires_grad=True)], lr=lr0)
        sched = make(opt, warmup, total, min_lr)
        lrs[name] = []
        for _ in range(total + 4):
            lrs[name].append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
    ours = np.array([schedule(t) for t in range(total + 4)])
    np.testing.assert_allclose(ours, lrs["lambda"], rtol=1e-14, atol=0)
    np.testing.assert_allclose(ours[:total + 1], lrs["sequential"][:total + 1], rtol=1e-12, atol=1e-20)
    t = np.arange(total + 1, total + 4)
    continued = min_lr + (lr0 - min_lr) * 0.5 * (1 + np.cos(np.pi * (t - warmup) / (total - warmup)))
    np.testing.assert_allclose(lrs["sequential"][total + 1:], continued, rtol=1e-12, atol=0)
    assert np.all(np.diff(continued) > 0) and 6.0e-6 < continued[0] - min_lr < 6.2e-6


# --- the book's seq2seq with attention --------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", SEEDS)
def test_seq2seq_with_attention_against_torch(dtype, seed):
    rng = np.random.default_rng(seed)
    V, D, H = 9, 5, 6
    ours = seq2seq.AttentionSeq2seq(V, D, H, rng=rng, dtype=dtype)
    for p in ours.params:
        p[...] = normal(rng, dtype, *p.shape, std=0.4)
    theirs = tb.load_seq2seq(ta.AttentionSeq2seq(V, D, H).to(TORCH_DTYPE[dtype]), ours.params)
    xs, ts = rng.integers(0, V, (3, 7)), rng.integers(0, V, (3, 5))
    loss = ours.forward(xs, ts)
    ours.backward()
    t_loss = theirs(torch.as_tensor(xs), torch.as_tensor(ts))
    t_loss.backward()
    close(np.asarray(loss, dtype=dtype), t_loss, dtype, "loss")
    for i, (g, t_g) in enumerate(zip(ours.grads, tb.seq2seq_arrays(theirs, grad=True))):
        grad_close(g, t_g, dtype, f"grads[{i}]")
    if dtype == "float64":
        assert ours.generate(xs[:1], 1, 6) == theirs.generate(torch.as_tensor(xs[:1]), 1, 6)
