"""GPT-2's forward pass as functions of nested dicts (scratch.gpt): the same numbers as the
transformer classes built from the same weights, one sequence or a batch, and clear errors."""

import numpy as np
import pytest

from comparisons import transformer_bridge as tb
from scratch import attention as sa
from scratch import gpt
from scratch import normalization as sn
from scratch import transformer as st

V, E, HEADS, LAYERS, T_MAX, F = 11, 12, 3, 2, 9, 20


def params(seed, tied=True):
    return tb.random_tinygpt_params(np.random.default_rng(seed), V, E, LAYERS, T_MAX, F, tied=tied, layout="packed",
                                    std=0.3)


@pytest.mark.parametrize("seed", range(3))
def test_gpt2_is_tinygpt_with_its_head_tied(seed):
    p = params(seed)
    ids = np.random.default_rng(seed + 10).integers(0, V, (2, 7))
    model = st.TinyGPT({k: v.copy() for k, v in p.items()}, HEADS, LAYERS, tied=True)
    nested = tb.gpt2_params(p, LAYERS)
    np.testing.assert_allclose(gpt.gpt2(ids, **nested, n_head=HEADS), model.scores(ids), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gpt.gpt2(list(ids[0]), **nested, n_head=HEADS), model.scores(ids[:1])[0], rtol=1e-12,
                               atol=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_mha_is_causal_multi_head_attention_with_packed_in_out_weights(seed):
    rng = np.random.default_rng(seed)
    p = tb.random_block_params(rng, E, F, layout="packed", std=0.4)
    attn = tb.gpt2_block(p)["attn"]
    x = rng.standard_normal((2, 6, E))
    layer = sa.MultiHeadAttention({k[5:]: v for k, v in p.items() if k.startswith("attn.")}, HEADS)
    np.testing.assert_allclose(gpt.mha(x, **attn, n_head=HEADS), layer.forward(x, is_causal=True), rtol=1e-12,
                               atol=1e-13)
    np.testing.assert_allclose(gpt.mha(x[1], **attn, n_head=HEADS), layer.forward(x, is_causal=True)[1], rtol=1e-12,
                               atol=1e-13)


def test_the_future_does_not_reach_the_past():
    rng = np.random.default_rng(0)
    attn = tb.gpt2_block(tb.random_block_params(rng, E, F, layout="packed", std=0.4))["attn"]
    x = rng.standard_normal((6, E))
    y = x.copy()
    y[4:] += 10.0
    np.testing.assert_array_equal(gpt.mha(x, **attn, n_head=HEADS)[:4], gpt.mha(y, **attn, n_head=HEADS)[:4])


def test_layer_norm_and_block_match_the_classes():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 5, E))
    g, b = 1 + rng.standard_normal(E) * 0.3, rng.standard_normal(E) * 0.3
    np.testing.assert_allclose(gpt.layer_norm(x, g, b), sn.LayerNorm(g, b).forward(x), rtol=1e-13, atol=1e-14)
    p = tb.random_block_params(rng, E, F, layout="packed", std=0.3)
    for approximate in ("none", "tanh"):
        ours = gpt.transformer_block(x, **tb.gpt2_block(p), n_head=HEADS, approximate=approximate)
        theirs = st.TransformerBlock(p, HEADS, approximate=approximate).forward(x)
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-13)


def test_nested_and_flat_parameters_convert_both_ways_exactly():
    p = params(2)
    back = tb.flat_gpt2(**tb.gpt2_params(p, LAYERS))
    assert set(back) == set(p)
    for k in p:
        np.testing.assert_array_equal(back[k], p[k])


def test_bad_input_names_the_argument():
    nested = tb.gpt2_params(params(0), LAYERS)
    with pytest.raises(ValueError, match="inputs must be token ids"):
        gpt.gpt2(np.zeros(3), **nested, n_head=HEADS)
    with pytest.raises(ValueError, match="more than the 9 positions of wpe"):
        gpt.gpt2(list(range(10)), **nested, n_head=HEADS)
    with pytest.raises(ValueError, match="divisible by n_head = 5"):
        gpt.mha(np.zeros((2, E)), **nested["blocks"][0]["attn"], n_head=5)
    with pytest.raises(TypeError, match="blocks must be a list"):
        gpt.gpt2([1, 2], nested["wte"], nested["wpe"], nested["blocks"][0], nested["ln_f"], HEADS)
