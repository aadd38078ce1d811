"""Attention by hand: masked softmax, scaled dot-product attention, the book's ch. 8 layers and
its seq2seq with attention, and multi-head attention in both weight layouts."""

import math

import numpy as np
import pytest

from scratch import activations as act
from scratch.attention import (SEPARATE_KEYS, Attention, AttentionWeight, MultiHeadAttention,
                               TimeAttention, WeightSum, causal_mask, masked_softmax, masked_softmax_backward,
                               scaled_dot_product_attention, scaled_dot_product_attention_backward)
from scratch.optim import SGD
from scratch.seq2seq import AttentionSeq2seq

from ._gradcheck import assert_backward_matches_differences

SEEDS = [0] + [pytest.param(seed, marks=pytest.mark.slow) for seed in range(1, 4)]  # seed 0 here, all in make test-all
EXACT = dict(rtol=1e-10, atol=1e-12)


def qkv(rng, batch=(2, 3), t_q=4, t_k=6, d=5, d_v=7):
    return (rng.standard_normal(batch + (t_q, d)), rng.standard_normal(batch + (t_k, d)),
            rng.standard_normal(batch + (t_k, d_v)))


# --- masked softmax --------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_masked_softmax_gives_masked_entries_exactly_zero_and_the_rest_sum_to_one(seed):
    rng = np.random.default_rng(seed)
    x = 3 * rng.standard_normal((5, 8))
    keep = rng.random((5, 8)) < 0.6
    keep[:, 0] = True
    y = masked_softmax(x, keep)
    assert np.all(y[~keep] == 0.0)
    np.testing.assert_allclose(y.sum(axis=1), 1.0, **EXACT)
    expected = np.exp(x) * keep / np.sum(np.exp(x) * keep, axis=1, keepdims=True)
    np.testing.assert_allclose(y, expected, **EXACT)


def test_a_fully_masked_row_is_all_zeros_not_nan():
    x = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    keep = np.array([[True, False, True], [False, False, False]])
    y = masked_softmax(x, keep)
    np.testing.assert_array_equal(y[1], 0.0)
    assert np.all(np.isfinite(y))
    np.testing.assert_array_equal(masked_softmax_backward(y, np.ones_like(y))[1], 0.0)


def test_without_a_mask_it_is_softmax_and_the_mask_broadcasts():
    x = np.array([[0.5, -1.0, 2.0], [3.0, 0.0, 1.0]])
    np.testing.assert_array_equal(masked_softmax(x), act.softmax(x))
    np.testing.assert_array_equal(masked_softmax(x, np.array([True, False, True])),
                                  masked_softmax(x, np.array([[True, False, True]] * 2)))


@pytest.mark.parametrize("seed", SEEDS)
def test_masked_softmax_backward_matches_central_differences_and_is_zero_where_masked(seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((4, 6))
    keep = rng.random((4, 6)) < 0.7
    keep[-1] = False
    state = {}

    def forward():
        state["y"] = masked_softmax(x, keep)
        return state["y"]

    assert_backward_matches_differences(forward, lambda d: [masked_softmax_backward(state["y"], d)], [x], rng)
    forward()
    assert np.all(masked_softmax_backward(state["y"], rng.standard_normal((4, 6)))[~keep] == 0.0)


def test_causal_mask_lets_query_i_see_keys_up_to_i_aligned_top_left():
    np.testing.assert_array_equal(causal_mask(3), [[1, 0, 0], [1, 1, 0], [1, 1, 1]])
    np.testing.assert_array_equal(causal_mask(2, 4), [[1, 0, 0, 0], [1, 1, 0, 0]])
    np.testing.assert_array_equal(causal_mask(4, 2), [[1, 0], [1, 1], [1, 1], [1, 1]])


# --- scaled dot-product attention ------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_attention_is_the_softmax_of_scaled_scores_times_the_values(seed):
    rng = np.random.default_rng(seed)
    q, k, v = qkv(rng)
    out, cache = scaled_dot_product_attention(q, k, v)
    scores = np.einsum("bhid,bhjd->bhij", q, k) / math.sqrt(5)
    weights = np.exp(scores) / np.exp(scores).sum(axis=-1, keepdims=True)
    np.testing.assert_allclose(cache["weights"], weights, **EXACT)
    np.testing.assert_allclose(out, np.einsum("bhij,bhjd->bhid", weights, v), **EXACT)
    assert out.shape == (2, 3, 4, 7)


@pytest.mark.parametrize("seed", SEEDS)
def test_the_scale_divides_the_scores(seed):
    rng = np.random.default_rng(seed)
    q, k, v = qkv(rng, batch=(2,))
    default, _ = scaled_dot_product_attention(q, k, v)
    np.testing.assert_allclose(scaled_dot_product_attention(q / math.sqrt(5), k, v, scale=1.0)[0], default, **EXACT)
    unscaled, cache = scaled_dot_product_attention(q, k, v, scale=1.0)  # the book's score
    assert cache["scale"] == 1.0 and not np.allclose(unscaled, default)


@pytest.mark.parametrize("seed", SEEDS)
def test_causal_attention_gives_the_future_exactly_zero_weight(seed):
    rng = np.random.default_rng(seed)
    q, k, v = qkv(rng, t_q=5, t_k=5)
    out, cache = scaled_dot_product_attention(q, k, v, is_causal=True)
    future = ~causal_mask(5)
    assert np.all(cache["weights"][..., future] == 0.0)
    k2, v2 = k.copy(), v.copy()
    k2[..., 3:, :] += 10.0
    v2[..., 3:, :] -= 7.0
    out2, _ = scaled_dot_product_attention(q, k2, v2, is_causal=True)
    np.testing.assert_array_equal(out2[..., :3, :], out[..., :3, :])  # queries 0-2 never see keys 3, 4


@pytest.mark.parametrize("seed", SEEDS)
def test_a_large_negative_mask_value_equals_minus_inf_except_on_fully_masked_rows(seed):
    rng = np.random.default_rng(seed)
    q, k, v = qkv(rng, batch=(2,))
    keep = rng.random((4, 6)) < 0.5
    keep[:3, 0] = True
    keep[3] = False  # query 3 sees nothing
    out_inf, c_inf = scaled_dot_product_attention(q, k, v, mask=keep)
    out_big, c_big = scaled_dot_product_attention(q, k, v, mask=keep, mask_value=-1e10)
    np.testing.assert_array_equal(out_big[:, :3], out_inf[:, :3])  # exp(−1e10 − m) underflows to 0 exactly
    np.testing.assert_array_equal(out_inf[:, 3], 0.0)
    np.testing.assert_allclose(out_big[:, 3], v.mean(axis=1), **EXACT)  # uniform weights: the mean value
    np.testing.assert_allclose(c_big["weights"][:, 3], 1 / 6, **EXACT)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("kind", ["plain", "causal", "mask", "mask -1e10", "scale 1", "T_q > T_k"])
def test_attention_backward_matches_central_differences(seed, kind):
    rng = np.random.default_rng(seed)
    q, k, v = qkv(rng, t_q=7 if kind == "T_q > T_k" else 4)
    keep = rng.random((q.shape[-2], 6)) < 0.6
    keep[-1] = False
    options = {"causal": dict(is_causal=True), "mask": dict(mask=keep), "mask -1e10": dict(mask=keep, mask_value=-1e10),
               "scale 1": dict(scale=1.0)}.get(kind, {})
    state = {}

    def forward():
        out, state["cache"] = scaled_dot_product_attention(q, k, v, **options)
        return out

    assert_backward_matches_differences(forward, lambda d: scaled_dot_product_attention_backward(d, state["cache"]),
                                        [q, k, v], rng)


@pytest.mark.parametrize("call, argument", [
    (lambda q, k, v: scaled_dot_product_attention(q[..., :4], k, v), "q"),
    (lambda q, k, v: scaled_dot_product_attention(q, k, v[..., :5, :]), "v"),
    (lambda q, k, v: scaled_dot_product_attention(q, k[1:], v[1:]), "k"),
    (lambda q, k, v: scaled_dot_product_attention(q, k, v, mask=np.ones((4, 6))), "mask"),
    (lambda q, k, v: scaled_dot_product_attention(q, k, v, mask=np.ones((5, 6), bool)), "mask"),
    (lambda q, k, v: scaled_dot_product_attention(q, k, v, mask=np.ones((4, 6), bool), is_causal=True), "mask"),
    (lambda q, k, v: scaled_dot_product_attention(q, k, v, is_causal="yes"), "is_causal"),
    (lambda q, k, v: scaled_dot_product_attention(q, k, v, scale="big"), "scale"),
    (lambda q, k, v: scaled_dot_product_attention(q, k, v, mask_value=1e10), "mask_value"),
    (lambda q, k, v: scaled_dot_product_attention(q[0, 0, 0], k, v), "q"),
])
def test_malformed_attention_input_names_the_argument(call, argument):
    q, k, v = qkv(np.random.default_rng(0))
    with pytest.raises((ValueError, TypeError), match=rf"\b{argument}\b"):
        call(q, k, v)


# --- the book's layers -----------------------------------------------------------------------------


def test_the_books_layers_have_empty_param_and_grad_lists():
    for layer in (WeightSum(), AttentionWeight(), Attention(), TimeAttention()):
        assert layer.params == [] and layer.grads == []


@pytest.mark.parametrize("seed", SEEDS)
def test_weight_sum_is_the_weighted_sum_of_the_states(seed):
    rng = np.random.default_rng(seed)
    hs, a = rng.standard_normal((3, 5, 4)), rng.random((3, 5))
    np.testing.assert_allclose(WeightSum().forward(hs, a), np.einsum("nt,nth->nh", a, hs), **EXACT)
    layer = WeightSum()
    assert_backward_matches_differences(lambda: layer.forward(hs, a), layer.backward, [hs, a], rng)


@pytest.mark.parametrize("seed", SEEDS)
def test_attention_weight_is_the_softmax_of_unscaled_dot_products(seed):
    rng = np.random.default_rng(seed)
    hs, h = rng.standard_normal((3, 5, 4)), rng.standard_normal((3, 4))
    np.testing.assert_allclose(AttentionWeight().forward(hs, h), act.softmax(np.einsum("nth,nh->nt", hs, h)), **EXACT)
    layer = AttentionWeight()
    assert_backward_matches_differences(lambda: layer.forward(hs, h), layer.backward, [hs, h], rng)


@pytest.mark.parametrize("seed", SEEDS)
def test_attention_backward_adds_both_paths_into_hs(seed):
    rng = np.random.default_rng(seed)
    hs, h = rng.standard_normal((2, 6, 3)), rng.standard_normal((2, 3))
    layer = Attention()
    assert_backward_matches_differences(lambda: layer.forward(hs, h), layer.backward, [hs, h], rng)
    np.testing.assert_allclose(layer.attention_weight.sum(axis=1), 1.0, **EXACT)


@pytest.mark.parametrize("seed", SEEDS)
def test_time_attention_is_one_attention_layer_per_decoder_step(seed):
    """The book loops over the decoder's steps; the batched layer gives the same numbers."""
    rng = np.random.default_rng(seed)
    hs_enc, hs_dec, dout = rng.standard_normal((2, 6, 3)), rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 4, 3))
    layer = TimeAttention()
    out = layer.forward(hs_enc, hs_dec)
    dhs_enc, dhs_dec = layer.backward(dout)
    expected_enc = np.zeros_like(hs_enc)
    for t in range(4):
        step = Attention()
        np.testing.assert_allclose(out[:, t], step.forward(hs_enc, hs_dec[:, t]), **EXACT)
        np.testing.assert_allclose(layer.attention_weights[t], step.attention_weight, **EXACT)
        dhs, dh = step.backward(dout[:, t])
        expected_enc += dhs
        np.testing.assert_allclose(dhs_dec[:, t], dh, **EXACT)
    np.testing.assert_allclose(dhs_enc, expected_enc, **EXACT)


def test_malformed_book_layer_input_names_the_argument():
    hs = np.ones((2, 3, 4))
    for call, argument in [(lambda: WeightSum().forward(hs, np.ones((2, 4))), "a"),
                           (lambda: AttentionWeight().forward(hs, np.ones((2, 3))), "h"),
                           (lambda: TimeAttention().forward(hs, np.ones((3, 2, 4))), "hs_dec"),
                           (lambda: TimeAttention().forward(np.ones((2, 4)), hs), "hs_enc")]:
        with pytest.raises(ValueError, match=rf"\b{argument}\b"):
            call()
    with pytest.raises(RuntimeError, match="before forward"):
        Attention().backward(np.ones((2, 4)))


# --- the book's seq2seq with attention --------------------------------------------------------------

V, D, H = 6, 3, 4


def tiny_seq2seq(seed, dtype=np.float64):
    rng = np.random.default_rng(seed)
    model = AttentionSeq2seq(V, D, H, rng=rng, dtype=dtype)
    for p in model.params:  # larger weights than the book's start, so that every path carries gradient
        p[...] = rng.standard_normal(p.shape) * 0.5
    xs, ts = rng.integers(0, V, (3, 5)), rng.integers(0, V, (3, 4))
    return model, xs, ts


def test_seq2seq_params_are_the_books_ten_arrays_and_initialisation():
    model = AttentionSeq2seq(50, 16, 32, rng=np.random.default_rng(0))
    shapes = [(50, 16), (16, 128), (32, 128), (128,)] * 2 + [(64, 50), (50,)]
    assert [p.shape for p in model.params] == shapes
    stds = [float(np.std(p)) for p in model.params]
    np.testing.assert_allclose(stds[0], 1 / 100, rtol=0.1)  # embedding: N(0, 1)/100
    np.testing.assert_allclose(stds[1], 1 / math.sqrt(16), rtol=0.1)  # Wx: N(0, 1)/√D
    np.testing.assert_allclose(stds[2], 1 / math.sqrt(32), rtol=0.1)  # Wh: N(0, 1)/√H
    np.testing.assert_allclose(stds[8], 1 / math.sqrt(64), rtol=0.1)  # affine W: N(0, 1)/√(2H)
    assert stds[3] == stds[9] == 0.0
    assert all(p.dtype == np.float32 for p in AttentionSeq2seq(5, 2, 3, np.random.default_rng(0), dtype="f").params)


@pytest.mark.parametrize("seed", SEEDS)
def test_seq2seq_gradients_match_central_differences(seed):
    model, xs, ts = tiny_seq2seq(seed)
    model.forward(xs, ts)
    model.backward()
    analytic = [g.copy() for g in model.grads]
    assert [g.shape for g in analytic] == [p.shape for p in model.params]
    from scratch.gradients import numerical_gradient
    for i, p in enumerate(model.params):
        numeric = numerical_gradient(lambda _: float(model.forward(xs, ts)), p, 1e-6)
        np.testing.assert_allclose(analytic[i], numeric, rtol=1e-6, atol=1e-8, err_msg=f"params[{i}]")


def test_training_the_seq2seq_changes_its_own_arrays():
    model, xs, ts = tiny_seq2seq(0)
    before = model.forward(xs, ts)
    optimizer = SGD(lr=0.5)
    for _ in range(20):
        model.forward(xs, ts)
        model.backward()
        optimizer.update(dict(enumerate(model.params)), dict(enumerate(model.grads)))
    assert model.forward(xs, ts) < before


@pytest.mark.parametrize("seed", SEEDS)
def test_generate_feeds_back_the_argmax_of_its_own_scores(seed):
    model, xs, _ = tiny_seq2seq(seed)
    sampled = model.generate(xs[:1], start_id=2, sample_size=5)
    assert len(sampled) == 5 and all(isinstance(s, int) and 0 <= s < V for s in sampled)
    enc_hs = model.encoder.forward(xs[:1])
    scores = model.decoder.forward(np.array([[2] + sampled[:-1]]), enc_hs)  # teacher forcing on its own output
    assert list(scores[0].argmax(axis=1)) == sampled


def test_malformed_seq2seq_input_names_the_argument():
    model, xs, ts = tiny_seq2seq(0)
    for call, argument in [(lambda: model.forward(xs, ts[:, :1]), "ts"), (lambda: model.generate(xs, 0, 3), "xs"),
                           (lambda: model.generate(xs[:1], 0, -1), "sample_size"),
                           (lambda: AttentionSeq2seq(0, 2, 2), "vocab_size")]:
        with pytest.raises(ValueError, match=rf"\b{argument}\b"):
            call()


# --- multi-head attention --------------------------------------------------------------------------


def separate_params(rng, E, E_kv=None, scale=0.4):
    E_kv = E_kv or E
    shapes = {"Wq": (E, E), "Wk": (E_kv, E), "Wv": (E_kv, E), "Wo": (E, E)}
    return {k: scale * rng.standard_normal(shapes.get(k, (E,))) for k in SEPARATE_KEYS}


def packed_from(p):
    """PyTorch's packed layout written out: the (out, in) projections stacked in the rows."""
    return {"in_proj_weight": np.concatenate([p["Wq"].T, p["Wk"].T, p["Wv"].T]),
            "in_proj_bias": np.concatenate([p["bq"], p["bk"], p["bv"]]),
            "out_proj_weight": p["Wo"].T.copy(), "out_proj_bias": p["bo"].copy()}


@pytest.mark.parametrize("seed", SEEDS)
def test_one_head_is_projected_scaled_dot_product_attention(seed):
    rng = np.random.default_rng(seed)
    p = separate_params(rng, 6)
    x = rng.standard_normal((2, 5, 6))
    out = MultiHeadAttention(p, 1).forward(x, is_causal=True)
    inner, _ = scaled_dot_product_attention(x @ p["Wq"] + p["bq"], x @ p["Wk"] + p["bk"], x @ p["Wv"] + p["bv"],
                                            is_causal=True)
    np.testing.assert_allclose(out, inner @ p["Wo"] + p["bo"], **EXACT)


@pytest.mark.parametrize("seed", SEEDS)
def test_a_given_scale_replaces_one_over_root_d(seed):
    """scale=1 is the book's unscaled dot product; the gradients follow the same scale."""
    rng = np.random.default_rng(seed)
    p = separate_params(rng, 6)
    x = rng.standard_normal((2, 5, 6))
    layer = MultiHeadAttention(p, 2, scale=1.0)
    out = layer.forward(x)
    q, k, v = (layer._split_heads(x @ p[w] + p[b]) for w, b in (("Wq", "bq"), ("Wk", "bk"), ("Wv", "bv")))
    inner, _ = scaled_dot_product_attention(q, k, v, scale=1.0)
    np.testing.assert_allclose(out, layer._merge_heads(inner) @ p["Wo"] + p["bo"], **EXACT)
    assert not np.allclose(out, MultiHeadAttention(p, 2).forward(x))


@pytest.mark.parametrize("seed", SEEDS)
def test_heads_attend_independently_on_their_own_columns(seed):
    rng = np.random.default_rng(seed)
    p = separate_params(rng, 8)
    x = rng.standard_normal((2, 5, 8))
    layer = MultiHeadAttention(p, 2)
    layer.forward(x)
    before = layer.attention_weights.copy()
    p["Wq"][:, 4:] += 1.0  # only head 2's query columns
    layer.forward(x)
    np.testing.assert_array_equal(layer.attention_weights[:, 0], before[:, 0])
    assert not np.allclose(layer.attention_weights[:, 1], before[:, 1])


@pytest.mark.parametrize("seed", SEEDS)
def test_the_packed_and_separate_layouts_compute_the_same(seed):
    rng = np.random.default_rng(seed)
    p = separate_params(rng, 6)
    x, y, dout = rng.standard_normal((2, 4, 6)), rng.standard_normal((2, 7, 6)), rng.standard_normal((2, 4, 6))
    sep, pac = MultiHeadAttention(p, 3), MultiHeadAttention(packed_from(p), 3)
    np.testing.assert_allclose(pac.forward(x, y), sep.forward(x, y), **EXACT)
    for a, b in zip(pac.backward(dout), sep.backward(dout)):
        np.testing.assert_allclose(a, b, **EXACT)
    for k, v in packed_from(sep.grads).items():
        np.testing.assert_allclose(pac.grads[k], v, **EXACT)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("layout", ["separate", "packed"])
@pytest.mark.parametrize("kind", ["self causal", "self masked", "cross"])
def test_multi_head_backward_matches_central_differences(seed, layout, kind):
    rng = np.random.default_rng(seed)
    p = separate_params(rng, 6)
    p = p if layout == "separate" else packed_from(p)
    layer = MultiHeadAttention(p, 2)
    x, y = rng.standard_normal((2, 4, 6)), rng.standard_normal((2, 5, 6))
    keep = rng.random((2, 1, 4, 4)) < 0.7
    keys = list(p)
    if kind == "cross":
        forward, inputs = (lambda: layer.forward(x, y)), [x, y]
        backward = lambda d: list(layer.backward(d)) + [layer.grads[k] for k in keys]  # noqa: E731
    else:
        options = dict(is_causal=True) if kind == "self causal" else dict(mask=keep)
        forward, inputs = (lambda: layer.forward(x, **options)), [x]
        backward = lambda d: [layer.backward(d)] + [layer.grads[k] for k in keys]  # noqa: E731
    assert_backward_matches_differences(forward, backward, inputs + [layer.params[k] for k in keys], rng)


@pytest.mark.parametrize("seed", SEEDS)
def test_keys_and_values_may_have_another_width_in_the_separate_layout(seed):
    rng = np.random.default_rng(seed)
    layer = MultiHeadAttention(separate_params(rng, 6, E_kv=4), 3)
    x, y = rng.standard_normal((2, 3, 6)), rng.standard_normal((2, 5, 4))
    assert layer.forward(x, y).shape == (2, 3, 6)
    keys = list(layer.params)
    assert_backward_matches_differences(lambda: layer.forward(x, y),
                                        lambda d: list(layer.backward(d)) + [layer.grads[k] for k in keys],
                                        [x, y] + [layer.params[k] for k in keys], rng)


def test_the_key_bias_gets_no_gradient():
    """softmax(q·(k + b_k)) = softmax(q·k + q·b_k): the added q·b_k is the same for every key of a
    query, and softmax ignores a constant shift, so b_k's true gradient is exactly 0."""
    rng = np.random.default_rng(0)
    layer = MultiHeadAttention(separate_params(rng, 6), 2)
    layer.forward(rng.standard_normal((3, 5, 6)), is_causal=True)
    layer.backward(rng.standard_normal((3, 5, 6)))
    assert np.max(np.abs(layer.grads["bk"])) < 1e-13 < np.max(np.abs(layer.grads["bq"]))


def test_an_optimizer_trains_the_layers_own_arrays():
    rng = np.random.default_rng(0)
    p = separate_params(rng, 4)
    layer = MultiHeadAttention(p, 2)
    x = rng.standard_normal((2, 3, 4))
    out = layer.forward(x)
    layer.backward(np.ones_like(out))
    SGD(lr=0.1).update(layer.params, layer.grads)
    assert layer.params["Wq"] is p["Wq"]
    assert np.sum(layer.forward(x)) < np.sum(out)


@pytest.mark.parametrize("call, argument", [
    (lambda p, x: MultiHeadAttention(p, 4), "n_head"),
    (lambda p, x: MultiHeadAttention({**p, "extra": p["bq"]}, 2), "params"),
    (lambda p, x: MultiHeadAttention({k: v for k, v in p.items() if k != "bo"}, 2), "params"),
    (lambda p, x: MultiHeadAttention({**p, "Wo": p["Wo"][:4]}, 2), "params"),
    (lambda p, x: MultiHeadAttention(list(p.values()), 2), "params"),
    (lambda p, x: MultiHeadAttention(p, 2).forward(x[..., :4]), "x_q"),
    (lambda p, x: MultiHeadAttention(p, 2).forward(x, x[:1]), "x_kv"),
    (lambda p, x: MultiHeadAttention(p, 2).forward(x, mask=np.ones((3, 3), bool)), "mask"),
    (lambda p, x: MultiHeadAttention(p, 2, scale="1"), "scale"),
])
def test_malformed_multi_head_input_names_the_argument(call, argument):
    rng = np.random.default_rng(0)
    with pytest.raises((ValueError, TypeError), match=rf"\b{argument}\b"):
        call(separate_params(rng, 6), rng.standard_normal((2, 4, 6)))


def test_multi_head_backward_needs_a_forward_pass():
    with pytest.raises(RuntimeError, match="before forward"):
        MultiHeadAttention(separate_params(np.random.default_rng(0), 4), 2).backward(np.ones((1, 2, 4)))
