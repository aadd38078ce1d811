"""LayerNorm and GroupNorm by hand: what they compute, how they relate to batch norm, their
gradients, and the errors they give for malformed input."""

import numpy as np
import pytest

from scratch.layers import BatchNorm1d
from scratch.normalization import GroupNorm, LayerNorm, layer_norm_backward, layer_norm_forward

from ._gradcheck import assert_backward_matches_differences

SEEDS = [0] + [pytest.param(seed, marks=pytest.mark.slow) for seed in range(1, 4)]  # seed 0 here, all in make test-all
EXACT = dict(rtol=1e-10, atol=1e-12)


def affine(rng, D):
    return 1.0 + 0.3 * rng.standard_normal(D), 0.3 * rng.standard_normal(D)


@pytest.mark.parametrize("seed", SEEDS)
def test_layer_norm_standardises_each_row_over_its_features(seed):
    rng = np.random.default_rng(seed)
    x = 2.0 + 3.0 * rng.standard_normal((4, 5, 7))
    out = LayerNorm(np.ones(7), np.zeros(7)).forward(x)
    var = x.var(axis=-1, keepdims=True)  # biased, as the layer uses
    np.testing.assert_allclose(out.mean(axis=-1), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=-1), (var / (var + 1e-5))[..., 0], **EXACT)


@pytest.mark.parametrize("seed", SEEDS)
def test_layer_norm_applies_gamma_and_beta_per_feature(seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((3, 6))
    gamma, beta = affine(rng, 6)
    plain = LayerNorm(np.ones(6), np.zeros(6)).forward(x)
    np.testing.assert_allclose(LayerNorm(gamma, beta).forward(x), gamma * plain + beta, **EXACT)


@pytest.mark.parametrize("seed", SEEDS)
def test_layer_norm_is_batch_norms_formula_over_the_other_axis(seed):
    """LayerNorm(x) with γ = 1, β = 0 is batch norm's training-mode standardisation of xᵀ,
    transposed back; the same holds for the backward pass."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((6, 9))
    dout = rng.standard_normal((6, 9))
    ln = LayerNorm(np.ones(9), np.zeros(9))
    bn = BatchNorm1d(np.ones(6), np.zeros(6), eps=1e-5)
    np.testing.assert_allclose(ln.forward(x), bn.forward(x.T).T, **EXACT)
    np.testing.assert_allclose(ln.backward(dout), bn.backward(dout.T).T, **EXACT)


def test_a_constant_row_gives_beta_and_eps_keeps_it_finite():
    gamma, beta = np.array([2.0, 3.0, 4.0]), np.array([0.5, -1.0, 0.25])
    out = LayerNorm(gamma, beta).forward(np.full((2, 3), 7.0))
    np.testing.assert_array_equal(out, np.broadcast_to(beta, (2, 3)))


def test_the_default_eps_is_torchs_1e_5():
    x = np.array([[0.0, 1e-3]])  # variance 2.5e-7, well below eps: eps dominates
    out = LayerNorm(np.ones(2), np.zeros(2)).forward(x)
    np.testing.assert_allclose(out, (x - x.mean()) / np.sqrt(x.var() + 1e-5), **EXACT)


@pytest.mark.parametrize("seed", SEEDS)
def test_the_functional_form_is_the_layer(seed):
    rng = np.random.default_rng(seed)
    x, dout = rng.standard_normal((2, 3, 5)), rng.standard_normal((2, 3, 5))
    gamma, beta = affine(rng, 5)
    layer = LayerNorm(gamma, beta, eps=1e-3)
    out, cache = layer_norm_forward(x, gamma, beta, eps=1e-3)
    np.testing.assert_array_equal(layer.forward(x), out)
    dx, dgamma, dbeta = layer_norm_backward(dout, cache)
    np.testing.assert_array_equal(layer.backward(dout), dx)
    np.testing.assert_array_equal(layer.grads["gamma"], dgamma)
    np.testing.assert_array_equal(layer.grads["beta"], dbeta)


def test_float32_stays_float32():
    x = np.ones((2, 4), dtype=np.float32) * np.arange(4, dtype=np.float32)
    layer = LayerNorm(np.ones(4, np.float32), np.zeros(4, np.float32))
    assert layer.forward(x).dtype == np.float32
    assert layer.backward(np.ones_like(x)).dtype == np.float32


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", [(3, 5), (2, 3, 6)])
def test_layer_norm_backward_matches_central_differences(seed, shape):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    layer = LayerNorm(*affine(rng, shape[-1]))
    assert_backward_matches_differences(
        lambda: layer.forward(x), lambda d: [layer.backward(d), layer.grads["gamma"], layer.grads["beta"]],
        [x, layer.params["gamma"], layer.params["beta"]], rng)


# --- GroupNorm -------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_group_norm_standardises_each_samples_group(seed):
    rng = np.random.default_rng(seed)
    x = 1.0 + 2.0 * rng.standard_normal((2, 6, 3, 4))
    out = GroupNorm(3, np.ones(6), np.zeros(6)).forward(x)
    groups = out.reshape(2, 3, -1)
    xg = x.reshape(2, 3, -1)
    np.testing.assert_allclose(groups.mean(axis=-1), 0.0, atol=1e-12)
    var = xg.var(axis=-1)
    np.testing.assert_allclose(groups.var(axis=-1), var / (var + 1e-5), **EXACT)


@pytest.mark.parametrize("seed", SEEDS)
def test_one_group_is_layer_norm_over_channels_and_positions(seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((3, 4, 2, 5))
    flat = LayerNorm(np.ones(40), np.zeros(40)).forward(x.reshape(3, -1)).reshape(x.shape)
    np.testing.assert_allclose(GroupNorm(1, np.ones(4), np.zeros(4)).forward(x), flat, **EXACT)


@pytest.mark.parametrize("seed", SEEDS)
def test_one_channel_per_group_is_instance_norm(seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, 3, 4, 4))
    gamma, beta = affine(rng, 3)
    xc = x - x.mean(axis=(2, 3), keepdims=True)
    expected = gamma[:, None, None] * xc / np.sqrt(xc.var(axis=(2, 3), keepdims=True) + 1e-5) + beta[:, None, None]
    np.testing.assert_allclose(GroupNorm(3, gamma, beta).forward(x), expected, **EXACT)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("groups, shape", [(2, (2, 4, 3, 3)), (3, (3, 6, 2, 1)), (1, (2, 2, 5))])
def test_group_norm_backward_matches_central_differences(seed, groups, shape):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    layer = GroupNorm(groups, *affine(rng, shape[1]))
    assert_backward_matches_differences(
        lambda: layer.forward(x), lambda d: [layer.backward(d), layer.grads["gamma"], layer.grads["beta"]],
        [x, layer.params["gamma"], layer.params["beta"]], rng)


# --- malformed input -------------------------------------------------------------------------------


@pytest.mark.parametrize("make, argument", [
    (lambda: LayerNorm(np.ones((2, 2)), np.zeros(2)), "gamma"),
    (lambda: LayerNorm(np.ones(3), np.zeros(2)), "beta"),
    (lambda: LayerNorm(np.ones(3), np.zeros(3), eps=0.0), "eps"),
    (lambda: LayerNorm(np.array([1.0, np.nan]), np.zeros(2)), "gamma"),
    (lambda: LayerNorm(np.ones(3), np.zeros(3)).forward(np.ones((2, 4))), "x"),
    (lambda: LayerNorm(np.ones(3), np.zeros(3)).forward(np.array(["a", "b", "c"])), "x"),
    (lambda: GroupNorm(4, np.ones(6), np.zeros(6)), "num_groups"),
    (lambda: GroupNorm(0, np.ones(6), np.zeros(6)), "num_groups"),
    (lambda: GroupNorm(2, np.ones(6), np.zeros(6)).forward(np.ones((2, 4, 3))), "x"),
    (lambda: GroupNorm(2, np.ones(6), np.zeros(6)).forward(np.ones(6)), "x"),
])
def test_malformed_input_names_the_argument(make, argument):
    with pytest.raises((ValueError, TypeError), match=rf"\b{argument}\b"):
        make()


@pytest.mark.parametrize("layer", [LayerNorm(np.ones(3), np.zeros(3)), GroupNorm(1, np.ones(3), np.zeros(3))])
def test_backward_needs_a_forward_pass_and_dout_of_the_outputs_shape(layer):
    with pytest.raises(RuntimeError, match="before forward"):
        layer.backward(np.ones((2, 3)))
    layer.forward(np.arange(6.0).reshape(2, 3))
    with pytest.raises(ValueError, match="dout"):
        layer.backward(np.ones((3, 2)))
