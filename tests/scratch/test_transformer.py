"""The transformer by hand: GELU and erf, positional encodings, the pre-LN and post-LN blocks,
TinyGPT (gradients, causality, generation, training) and the warm-up + cosine schedule."""

import math

import numpy as np
import pytest

from scratch.activations import erf, gelu, gelu_grad
from scratch.attention import SEPARATE_KEYS
from scratch.layers import GELU
from scratch.optim import AdamW
from scratch.schedules import WarmupCosine
from scratch.transformer import (LearnedPositionalEmbedding, TinyGPT, TransformerBlock, block_keys,
                                 sinusoidal_positional_encoding, tinygpt_keys)

from ._gradcheck import assert_backward_matches_differences

SEEDS = [0] + [pytest.param(seed, marks=pytest.mark.slow) for seed in range(1, 4)]  # seed 0 here, all in make test-all
EXACT = dict(rtol=1e-10, atol=1e-12)
math_erf = np.vectorize(math.erf, otypes=[float])


# --- erf and GELU ----------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_erf_is_maths_erf_to_one_unit_in_the_last_place(seed):
    rng = np.random.default_rng(seed)
    x = np.concatenate([rng.standard_normal(20000) * 3, rng.uniform(-7, 7, 20000),
                        [0.84375, 1.25, 1 / 0.35, 6.0, 2.0**-28, 1e-300, 5.9]])
    x = np.concatenate([x, -x])
    ours, exact = erf(x), math_erf(x)
    assert np.all(np.abs(ours - exact) <= np.spacing(np.abs(exact)))


def test_erf_at_its_special_points():
    np.testing.assert_array_equal(erf(np.array([0.0, np.inf, -np.inf, 7.0, -30.0])), [0.0, 1.0, -1.0, 1.0, -1.0])
    assert np.isnan(erf(np.array([np.nan]))[0])
    assert np.signbit(erf(-0.0))
    assert erf(np.float32(0.5)).dtype == np.float32


@pytest.mark.parametrize("seed", SEEDS)
def test_gelu_is_x_times_the_normal_cdf(seed):
    x = np.random.default_rng(seed).standard_normal(1000) * 3
    phi = 0.5 * (1 + math_erf(x / math.sqrt(2)))
    np.testing.assert_allclose(gelu(x), x * phi, **EXACT)
    np.testing.assert_allclose(gelu_grad(x), phi + x * np.exp(-x * x / 2) / math.sqrt(2 * math.pi), **EXACT)
    u = math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)
    np.testing.assert_allclose(gelu(x, "tanh"), 0.5 * x * (1 + np.tanh(u)), **EXACT)


def test_the_tanh_form_stays_within_5e_4_of_the_exact_gelu():
    """The largest gap is 4.73e-4, near |x| = 2.70 (the derivatives: 8.7e-4 near |x| = 2.02)."""
    x = np.linspace(-10, 10, 200001)
    gap = gelu(x, "tanh") - gelu(x)
    assert 4.7e-4 < np.max(np.abs(gap)) < 4.75e-4
    assert abs(abs(x[np.argmax(np.abs(gap))]) - 2.70) < 0.01
    assert 8.6e-4 < np.max(np.abs(gelu_grad(x, "tanh") - gelu_grad(x))) < 8.75e-4


@pytest.mark.parametrize("approximate", ["none", "tanh"])
@pytest.mark.parametrize("seed", SEEDS)
def test_the_gelu_layer_backward_matches_central_differences(approximate, seed):
    rng = np.random.default_rng(seed)
    x = 3 * rng.standard_normal((4, 6))
    layer = GELU(approximate)
    assert_backward_matches_differences(lambda: layer.forward(x), lambda d: [layer.backward(d)], [x], rng)


def test_gelu_refuses_an_unknown_form():
    for call in (lambda: gelu(1.0, "exact"), lambda: gelu_grad(1.0, None), lambda: GELU("Tanh")):
        with pytest.raises(ValueError, match="approximate"):
            call()


# --- positions -------------------------------------------------------------------------------------


def test_sinusoidal_encoding_follows_the_papers_formula():
    pe = sinusoidal_positional_encoding(50, 16)
    t, i = np.arange(50)[:, None], np.arange(8)[None, :]
    np.testing.assert_allclose(pe[:, 0::2], np.sin(t / 10000 ** (2 * i / 16)), **EXACT)
    np.testing.assert_allclose(pe[:, 1::2], np.cos(t / 10000 ** (2 * i / 16)), **EXACT)
    assert sinusoidal_positional_encoding(4, 5).shape == (4, 5)
    assert sinusoidal_positional_encoding(4, 6, dtype=np.float32).dtype == np.float32


def test_a_shift_by_k_is_a_fixed_rotation_of_each_pair():
    """PE[t + k] = R_k PE[t] for every t, with R_k a rotation by k·ωᵢ in each (sin, cos) pair."""
    pe = sinusoidal_positional_encoding(40, 8)
    k = 5
    w = 1 / 10000 ** (np.arange(0, 8, 2) / 8)
    s, c = pe[:-k, 0::2], pe[:-k, 1::2]
    np.testing.assert_allclose(pe[k:, 0::2], s * np.cos(k * w) + c * np.sin(k * w), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(pe[k:, 1::2], c * np.cos(k * w) - s * np.sin(k * w), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_learned_positions_add_their_rows_and_collect_the_batchs_gradient(seed):
    rng = np.random.default_rng(seed)
    layer = LearnedPositionalEmbedding(rng.standard_normal((6, 4)))
    x, dout = rng.standard_normal((3, 4, 4)), rng.standard_normal((3, 4, 4))
    np.testing.assert_array_equal(layer.forward(x), x + layer.params["W"][:4])
    np.testing.assert_array_equal(layer.backward(dout), dout)
    np.testing.assert_allclose(layer.grads["W"][:4], dout.sum(axis=0), **EXACT)
    np.testing.assert_array_equal(layer.grads["W"][4:], 0.0)
    with pytest.raises(ValueError, match=r"\bx\b"):
        layer.forward(np.ones((1, 7, 4)))


# --- the block -------------------------------------------------------------------------------------

E, F, HEADS = 8, 12, 2


def block_params(rng, layout="separate", E=E, F=F, std=0.4):
    shapes = {"mlp.W1": (E, F), "mlp.b1": (F,), "mlp.W2": (F, E), "attn.in_proj_weight": (3 * E, E),
              "attn.in_proj_bias": (3 * E,)}
    out = {}
    for key in block_keys(layout):
        name = key.split(".")[-1]
        shape = shapes.get(key, (E, E) if name.startswith("W") or name == "out_proj_weight" else (E,))
        out[key] = (1.0 if name == "gamma" else 0.0) + std * rng.standard_normal(shape)
    return out


def packed(p):
    out = {k: v for k, v in p.items() if not k.startswith("attn.")}
    a = {k[5:]: v for k, v in p.items() if k.startswith("attn.")}
    out.update({"attn.in_proj_weight": np.concatenate([a["Wq"].T, a["Wk"].T, a["Wv"].T]),
                "attn.in_proj_bias": np.concatenate([a["bq"], a["bk"], a["bv"]]),
                "attn.out_proj_weight": a["Wo"].T.copy(), "attn.out_proj_bias": a["bo"].copy()})
    return out


def layer_norm(x, gamma, beta):
    xc = x - x.mean(axis=-1, keepdims=True)
    return gamma * xc / np.sqrt(np.mean(xc * xc, axis=-1, keepdims=True) + 1e-5) + beta


def reference_block(p, x, norm_first):
    """The block written out in one expression per line, from the formulas."""
    def attn(z):
        N, T, _ = z.shape
        heads = lambda a: a.reshape(N, T, HEADS, E // HEADS).transpose(0, 2, 1, 3)  # noqa: E731
        q, k, v = (heads(z @ p[f"attn.W{n}"] + p[f"attn.b{n}"]) for n in "qkv")
        s = q @ k.transpose(0, 1, 3, 2) / math.sqrt(E // HEADS) + np.where(np.tril(np.ones((T, T))), 0.0, -np.inf)
        a = np.exp(s - s.max(-1, keepdims=True))
        a /= a.sum(-1, keepdims=True)
        return (a @ v).transpose(0, 2, 1, 3).reshape(N, T, E) @ p["attn.Wo"] + p["attn.bo"]

    def mlp(z):
        return gelu(z @ p["mlp.W1"] + p["mlp.b1"]) @ p["mlp.W2"] + p["mlp.b2"]

    ln1 = lambda z: layer_norm(z, p["ln1.gamma"], p["ln1.beta"])  # noqa: E731
    ln2 = lambda z: layer_norm(z, p["ln2.gamma"], p["ln2.beta"])  # noqa: E731
    if norm_first:
        h = x + attn(ln1(x))
        return h + mlp(ln2(h))
    h = ln1(x + attn(x))
    return ln2(h + mlp(h))


@pytest.mark.parametrize("norm_first", [True, False])
@pytest.mark.parametrize("seed", SEEDS)
def test_the_block_computes_its_formula(norm_first, seed):
    rng = np.random.default_rng(seed)
    p = block_params(rng)
    x = rng.standard_normal((2, 5, E))
    out = TransformerBlock(p, HEADS, norm_first=norm_first).forward(x)
    np.testing.assert_allclose(out, reference_block(p, x, norm_first), **EXACT)
    np.testing.assert_allclose(TransformerBlock(packed(p), HEADS, norm_first=norm_first).forward(x), out, **EXACT)


@pytest.mark.parametrize("causal", [True, False])
def test_a_causal_block_never_looks_ahead(causal):
    rng = np.random.default_rng(0)
    block = TransformerBlock(block_params(rng), HEADS, causal=causal)
    x = rng.standard_normal((2, 6, E))
    out = block.forward(x)
    x2 = x.copy()
    x2[:, 4:] = rng.standard_normal((2, 2, E))
    out2 = block.forward(x2)
    if causal:
        np.testing.assert_array_equal(out2[:, :4], out[:, :4])
    else:
        assert not np.allclose(out2[:, :4], out[:, :4])


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("norm_first, layout, approximate", [(True, "separate", "none"), (False, "separate", "none"),
                                                             (True, "packed", "tanh"), (False, "packed", "none")])
def test_the_block_backward_matches_central_differences(seed, norm_first, layout, approximate):
    rng = np.random.default_rng(seed)
    block = TransformerBlock(block_params(rng, layout), HEADS, norm_first=norm_first, approximate=approximate)
    x = rng.standard_normal((2, 4, E))
    keys = list(block.params)
    assert_backward_matches_differences(lambda: block.forward(x),
                                        lambda d: [block.backward(d)] + [block.grads[k] for k in keys],
                                        [x] + [block.params[k] for k in keys], rng)


@pytest.mark.parametrize("call, argument", [
    (lambda p: TransformerBlock({**p, "mlp.W3": p["mlp.W1"]}, HEADS), "params"),
    (lambda p: TransformerBlock({**p, "mlp.W2": p["mlp.W1"]}, HEADS), "params"),
    (lambda p: TransformerBlock({**p, "ln1.gamma": np.ones(5), "ln1.beta": np.ones(5)}, HEADS), "params"),
    (lambda p: TransformerBlock(p, 3), "n_head"),
    (lambda p: TransformerBlock(p, HEADS, norm_first="pre"), "norm_first"),
    (lambda p: TransformerBlock(p, HEADS, approximate="fast"), "approximate"),
    (lambda p: TransformerBlock(p, HEADS).forward(np.ones((2, 3, 5))), "x"),
    (lambda p: TransformerBlock(p, HEADS).forward(np.ones((3, E))), "x"),
])
def test_malformed_block_input_names_the_argument(call, argument):
    with pytest.raises((ValueError, TypeError), match=rf"\b{argument}\b"):
        call(block_params(np.random.default_rng(0)))


# --- TinyGPT ---------------------------------------------------------------------------------------

VOCAB, CONTEXT, LAYERS = 7, 6, 2


def gpt_params(rng, tied=False, layout="separate", std=0.4):
    p = {"wte": std * rng.standard_normal((VOCAB, E)), "wpe": std * rng.standard_normal((CONTEXT, E)),
         "ln_f.gamma": 1 + std * rng.standard_normal(E), "ln_f.beta": std * rng.standard_normal(E)}
    for i in range(LAYERS):
        p.update({f"blocks.{i}.{k}": v for k, v in block_params(rng, layout).items()})
    if not tied:
        p["head.W"] = std * rng.standard_normal((E, VOCAB))
    return p


def batch(rng, N=3, T=5):
    return rng.integers(0, VOCAB, (N, T)), rng.integers(0, VOCAB, (N, T))


def test_tinygpt_keys_name_every_parameter():
    keys = tinygpt_keys(2)
    assert keys[:2] == ("wte", "wpe") and keys[-1] == "head.W" and "blocks.1.attn.Wq" in keys
    assert len(keys) == 2 + 2 * (8 + len(SEPARATE_KEYS)) + 3
    assert "head.W" not in tinygpt_keys(2, tied=True)


def test_a_zero_head_predicts_uniformly_so_the_loss_is_log_v():
    rng = np.random.default_rng(0)
    p = gpt_params(rng)
    p["head.W"][...] = 0.0
    assert TinyGPT(p, HEADS, LAYERS).loss(*batch(rng)) == pytest.approx(math.log(VOCAB), rel=1e-15)


@pytest.mark.parametrize("tied", [False, True])
@pytest.mark.parametrize("seed", SEEDS)
def test_tinygpt_gradient_matches_its_numerical_gradient(tied, seed):
    rng = np.random.default_rng(seed)
    model = TinyGPT(gpt_params(rng, tied), HEADS, LAYERS, tied=tied)
    x, t = batch(rng)
    grads = model.gradient(x, t)
    numeric = model.numerical_gradient(x, t)
    assert set(grads) == set(model.params) == set(numeric)
    for k in grads:
        np.testing.assert_allclose(grads[k], numeric[k], rtol=1e-6, atol=1e-9, err_msg=k)


@pytest.mark.parametrize("seed", SEEDS)
def test_a_tied_embedding_collects_the_gradient_of_both_uses(seed):
    rng = np.random.default_rng(seed)
    p = gpt_params(rng, tied=True)
    untied = {**{k: v.copy() for k, v in p.items()}, "head.W": p["wte"].T.copy()}
    x, t = batch(rng)
    g_tied = TinyGPT(p, HEADS, LAYERS, tied=True).gradient(x, t)
    g_untied = TinyGPT(untied, HEADS, LAYERS).gradient(x, t)
    np.testing.assert_allclose(g_tied["wte"], g_untied["wte"] + g_untied["head.W"].T, **EXACT)


def test_the_logits_at_a_position_do_not_depend_on_later_tokens():
    rng = np.random.default_rng(0)
    model = TinyGPT(gpt_params(rng), HEADS, LAYERS)
    x, _ = batch(rng, T=6)
    x2 = x.copy()
    x2[:, 3:] = (x2[:, 3:] + 1) % VOCAB
    np.testing.assert_array_equal(model.scores(x2)[:, :3], model.scores(x)[:, :3])


def test_generate_appends_tokens_reproducibly_and_crops_to_the_context():
    rng = np.random.default_rng(0)
    model = TinyGPT(gpt_params(rng), HEADS, LAYERS)
    start = rng.integers(0, VOCAB, (2, 3))
    a = model.generate(start, 8, np.random.default_rng(5))
    b = model.generate(start, 8, np.random.default_rng(5))
    assert a.shape == (2, 11) and np.all((a >= 0) & (a < VOCAB))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a[:, :3], start)


def test_a_tiny_temperature_decodes_greedily():
    rng = np.random.default_rng(1)
    model = TinyGPT(gpt_params(rng), HEADS, LAYERS)
    out = model.generate(rng.integers(0, VOCAB, (3, 2)), 4, np.random.default_rng(0), temperature=1e-9)
    for step in range(2, 6):
        np.testing.assert_array_equal(out[:, step], model.scores(out[:, :step])[:, -1].argmax(axis=1))


def test_adamw_with_warmup_and_cosine_trains_tinygpt():
    rng = np.random.default_rng(0)
    model = TinyGPT(gpt_params(rng, std=0.1), HEADS, LAYERS)
    x, t = batch(rng, N=4, T=6)
    schedule = WarmupCosine(3e-2, warmup_steps=5, total_steps=40)
    optimizer = AdamW(lr=schedule(0), weight_decay=0.01)
    first = model.loss(x, t)
    for step in range(40):
        optimizer.lr = schedule(step)
        optimizer.update(model.params, model.gradient(x, t))
    assert model.loss(x, t) < 0.5 * first


@pytest.mark.parametrize("call, argument", [
    (lambda p: TinyGPT({k: v for k, v in p.items() if k != "wpe"}, HEADS, LAYERS), "params"),
    (lambda p: TinyGPT(p, HEADS, 3), "params"),
    (lambda p: TinyGPT(p, HEADS, 0), "n_layer"),
    (lambda p: TinyGPT(p, HEADS, LAYERS, tied=True), "params"),
    (lambda p: TinyGPT({**p, "head.W": p["head.W"][:, :3]}, HEADS, LAYERS), "head.W"),
    (lambda p: TinyGPT(p, HEADS, LAYERS).loss(np.zeros((2, CONTEXT + 1), int), np.zeros((2, CONTEXT + 1), int)), "x_idx"),
    (lambda p: TinyGPT(p, HEADS, LAYERS).loss(np.zeros((2, 3), int), np.zeros((2, 4), int)), "t"),
    (lambda p: TinyGPT(p, HEADS, LAYERS).loss(np.full((2, 3), VOCAB), np.zeros((2, 3), int)), "idx"),
    (lambda p: TinyGPT(p, HEADS, LAYERS).generate(np.zeros((1, 2), int), 2, 42), "rng"),
    (lambda p: TinyGPT(p, HEADS, LAYERS).generate(np.zeros((1, 2), int), 2, np.random.default_rng(), 0.0), "temperature"),
])
def test_malformed_tinygpt_input_names_the_argument(call, argument):
    with pytest.raises((ValueError, TypeError), match=rf"\b{argument}\b"):
        call(gpt_params(np.random.default_rng(0)))


# --- the schedule ----------------------------------------------------------------------------------


def test_warmup_cosine_rises_linearly_then_decays_along_a_cosine():
    s = WarmupCosine(1e-3, warmup_steps=4, total_steps=14, min_lr=1e-5)
    assert [s(t) for t in range(4)] == pytest.approx([2.5e-4, 5e-4, 7.5e-4, 1e-3], rel=1e-15)
    assert s(4) == 1e-3 and s(14) == pytest.approx(1e-5, rel=1e-15) and s(15) == s(100) == 1e-5
    assert s(9) == pytest.approx(1e-5 + (1e-3 - 1e-5) * 0.5, rel=1e-14)  # half-way down the cosine
    decay = [s(t) for t in range(4, 15)]
    assert all(a > b for a, b in zip(decay, decay[1:]))


def test_warmup_cosine_without_warmup_starts_at_lr0():
    assert WarmupCosine(0.1, 0, 10)(0) == 0.1


@pytest.mark.parametrize("call, argument", [
    (lambda: WarmupCosine(0.1, 10, 10), "total_steps"),
    (lambda: WarmupCosine(0.1, -1, 10), "warmup_steps"),
    (lambda: WarmupCosine(0.1, 2, 10, min_lr=0.2), "min_lr"),
    (lambda: WarmupCosine(-0.1, 2, 10), "lr0"),
    (lambda: WarmupCosine(0.1, 2, 10)(-1), "t"),
])
def test_malformed_schedule_input_names_the_argument(call, argument):
    with pytest.raises((ValueError, TypeError), match=rf"\b{argument}\b"):
        call()
