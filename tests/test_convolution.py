"""Convolution by hand (scratch.conv) as a specification: output sizes, the layout of im2col and
its adjoint col2im, the two forms of the convolution layer, pooling's gradient routing and ties,
BatchNorm2d per channel, and the book's SimpleConvNet. The comparisons with PyTorch are the
concept's (comparisons/concepts/convolution.py) and the pairs' (tests/test_pairs.py)."""

import numpy as np
import pytest
import torch

from scratch import conv as C
from scratch import layers as L
from scratch.gradients import numerical_gradient
from scratch.networks import SimpleConvNet

rng = np.random.default_rng(7)


@pytest.mark.parametrize("size, filt, pad, stride, expected", [
    ((4, 4), (3, 3), 1, 1, (4, 4)), ((7, 7), (3, 3), 0, 2, (3, 3)), ((28, 31), (5, 5), 2, 3, (10, 11)),
    ((28, 28), (5, 5), 0, 1, (24, 24))])
def test_output_size_is_the_books(size, filt, pad, stride, expected):
    """(H + 2P − FH)/S + 1 on the book's examples (ch. 7.2)."""
    assert tuple(C.conv_output_size(s, f, stride, pad) for s, f in zip(size, filt)) == expected


def test_output_size_refuses_a_filter_larger_than_the_padded_input():
    with pytest.raises(ValueError, match="larger than the padded input"):
        C.conv_output_size(3, 5)
    with pytest.raises(ValueError, match="stride must be an integer >= 1"):
        C.conv_output_size(8, 3, stride=0)


def test_im2col_row_is_one_window_columns_in_c_p_q_order():
    n, c, h, w, fh, fw, s, p = 2, 3, 6, 7, 3, 2, 2, 1
    x = rng.normal(size=(n, c, h, w))
    col = C.im2col(x, fh, fw, s, p)
    oh, ow = C.conv_output_size(h, fh, s, p), C.conv_output_size(w, fw, s, p)
    assert col.shape == (n * oh * ow, c * fh * fw)
    xp = np.pad(x, [(0, 0), (0, 0), (p, p), (p, p)])
    for k, (i, j) in enumerate([(0, 0), (1, 2), (oh - 1, ow - 1)]):
        img = k % n
        assert np.array_equal(col[img * oh * ow + i * ow + j], xp[img, :, i * s:i * s + fh, j * s:j * s + fw].ravel())


def test_im2col_is_unfold_transposed():
    x = rng.normal(size=(2, 3, 7, 9))
    col = C.im2col(x, 3, 2, 2, 1)
    unfolded = torch.nn.functional.unfold(torch.tensor(x), (3, 2), stride=2, padding=1)
    assert np.array_equal(col, unfolded.transpose(1, 2).reshape(col.shape).numpy())


@pytest.mark.parametrize("stride, pad", [(1, 0), (1, 2), (2, 1), (3, 1)])
def test_col2im_is_the_adjoint_of_im2col(stride, pad):
    """⟨im2col(x), y⟩ = ⟨x, col2im(y)⟩: col2im adds every window's values back where it came from."""
    x = rng.normal(size=(2, 2, 7, 6))
    y = rng.normal(size=C.im2col(x, 3, 3, stride, pad).shape)
    assert np.isclose(np.sum(C.im2col(x, 3, 3, stride, pad) * y), np.sum(x * C.col2im(y, x.shape, 3, 3, stride, pad)))


def test_col2im_adds_where_windows_overlap():
    """A 3×3 image under 2×2 windows of stride 1: the centre pixel lies in all four windows."""
    ones = np.ones((4, 4))
    img = C.col2im(ones, (1, 1, 3, 3), 2, 2)[0, 0]
    assert np.array_equal(img, [[1, 2, 1], [2, 4, 2], [1, 2, 1]])


@pytest.mark.parametrize("shape, wshape, stride, pad", [
    ((2, 1, 8, 8), (3, 1, 3, 3), 1, 0), ((2, 3, 7, 9), (4, 3, 3, 2), 2, 1), ((1, 2, 5, 6), (2, 2, 3, 3), 1, 2)])
def test_loops_and_im2col_are_one_layer(shape, wshape, stride, pad):
    x, W, b = rng.normal(size=shape), rng.normal(size=wshape), rng.normal(size=wshape[0])
    fast, slow = C.Convolution(W, b, stride, pad), C.ConvolutionLoops(W, b, stride, pad)
    y = fast.forward(x)
    np.testing.assert_allclose(slow.forward(x), y, rtol=1e-12, atol=1e-12)
    dout = rng.normal(size=y.shape)
    np.testing.assert_allclose(slow.backward(dout), fast.backward(dout), rtol=1e-12, atol=1e-12)
    for key in ("W", "b"):
        np.testing.assert_allclose(slow.grads[key], fast.grads[key], rtol=1e-12, atol=1e-12)


def test_convolution_is_cross_correlation_no_flip():
    """One 1×1×3×3 image and a filter that picks its top-left pixel: cross-correlation reads
    x[0, 0] at the first output; a flipped kernel would read x[2, 2]."""
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    W = np.zeros((1, 1, 3, 3))
    W[0, 0, 0, 0] = 1.0
    assert C.Convolution(W, np.zeros(1)).forward(x)[0, 0, 0, 0] == x[0, 0, 0, 0]


@pytest.mark.parametrize("cls", [C.Convolution, C.ConvolutionLoops])
def test_convolution_backward_is_the_numerical_gradient(cls):
    x, W, b = rng.normal(size=(2, 2, 5, 4)), rng.normal(size=(3, 2, 3, 2)), rng.normal(size=3)
    dout = rng.normal(size=C.Convolution(W, b, 2, 1).forward(x).shape)
    layer = cls(W, b, 2, 1)
    layer.forward(x)
    dx = layer.backward(dout)
    loss = lambda _: float(np.sum(cls(W, b, 2, 1).forward(x) * dout))  # noqa: E731
    np.testing.assert_allclose(dx, numerical_gradient(loss, x), atol=1e-7)
    np.testing.assert_allclose(layer.grads["W"], numerical_gradient(loss, W), atol=1e-7)
    np.testing.assert_allclose(layer.grads["b"], numerical_gradient(loss, b), atol=1e-7)


def test_convolution_errors_name_the_argument():
    with pytest.raises(ValueError, match=r"W of shape \(FN, C, FH, FW\)"):
        C.Convolution(np.ones((3, 3)), np.zeros(3))
    with pytest.raises(ValueError, match="expects x with 2 channels"):
        C.Convolution(np.ones((1, 2, 3, 3)), np.zeros(1)).forward(np.ones((1, 3, 5, 5)))
    with pytest.raises(ValueError, match=r"x must be 4-D of shape \(N, C, H, W\)"):
        C.Convolution(np.ones((1, 1, 3, 3)), np.zeros(1)).forward(np.ones((5, 5)))
    with pytest.raises(ValueError, match="pad must be an integer >= 0"):
        C.Convolution(np.ones((1, 1, 3, 3)), np.zeros(1), pad=-1)


def test_max_pool_gives_the_gradient_to_the_first_maximum_on_ties():
    """A window of equal values: only its first element (row-major) receives dout, as in PyTorch."""
    pool = C.Pooling(2, 2, stride=2)
    x = np.array([[[[1.0, 3.0], [3.0, 0.0]]]])
    assert pool.forward(x)[0, 0, 0, 0] == 3.0
    assert np.array_equal(pool.backward(np.full((1, 1, 1, 1), 5.0))[0, 0], [[0, 5], [0, 0]])


def test_max_pool_pads_with_minus_infinity_and_avg_pool_counts_the_pads():
    x = -np.ones((1, 1, 2, 2))
    assert np.all(C.Pooling(2, 2, stride=2, pad=1).forward(x) == -1.0)
    assert np.all(C.AvgPooling(2, 2, stride=2, pad=1).forward(x) == -0.25)


def test_avg_pool_spreads_the_gradient_evenly():
    pool = C.AvgPooling(2, 2, stride=2)
    pool.forward(rng.normal(size=(1, 1, 4, 4)))
    assert np.allclose(pool.backward(np.ones((1, 1, 2, 2))), 0.25)


def test_pooling_errors_name_the_argument():
    with pytest.raises(ValueError, match="mode must be one of"):
        C.Pooling(2, 2, mode="min")
    with pytest.raises(ValueError, match="pad must be at most half the pool size"):
        C.Pooling(2, 2, pad=2)


def test_batchnorm2d_is_batchnorm1d_over_the_pixels_of_each_channel():
    x, dout = rng.normal(2, 3, size=(4, 3, 5, 6)), rng.normal(size=(4, 3, 5, 6))
    gamma, beta = rng.uniform(0.5, 1.5, 3), rng.normal(size=3)
    bn2, bn1 = C.BatchNorm2d(gamma, beta), L.BatchNorm1d(gamma, beta)
    rows = x.transpose(0, 2, 3, 1).reshape(-1, 3)
    np.testing.assert_allclose(bn2.forward(x), bn1.forward(rows).reshape(4, 5, 6, 3).transpose(0, 3, 1, 2))
    np.testing.assert_allclose(bn2.backward(dout),
                               bn1.backward(dout.transpose(0, 2, 3, 1).reshape(-1, 3)).reshape(4, 5, 6, 3).transpose(0, 3, 1, 2))
    var = x.var(axis=(0, 2, 3), ddof=1)  # unbiased over the N·H·W = 120 values of a channel
    np.testing.assert_allclose(bn2.running_var, 0.9 * 1.0 + 0.1 * var)


def _convnet(seed=0):
    r = np.random.default_rng(seed)
    params = {"W1": r.normal(0, 0.5, (3, 1, 3, 3)), "b1": r.uniform(0.1, 0.3, 3), "W2": r.normal(0, 0.3, (27, 5)),
              "b2": r.uniform(0.1, 0.3, 5), "W3": r.normal(0, 0.5, (5, 4)), "b3": r.normal(0, 0.1, 4)}
    return SimpleConvNet(params), r.normal(size=(2, 1, 8, 8)), r.integers(0, 4, 2)


def test_simple_convnet_backprop_is_the_numerical_gradient():
    net, x, t = _convnet()
    backprop = net.gradient(x, t)
    numerical = net.numerical_gradient(x, t)
    assert set(backprop) == set(net.params) == {"W1", "b1", "W2", "b2", "W3", "b3"}
    for key in backprop:
        np.testing.assert_allclose(backprop[key], numerical[key], atol=1e-7, err_msg=key)


def test_simple_convnet_updates_in_place_reach_its_layers():
    net, x, t = _convnet()
    before = net.loss(x, t)
    for key, g in net.gradient(x, t).items():
        net.params[key] -= 0.1 * g
    assert net.loss(x, t) < before


def test_simple_convnet_refuses_params_it_cannot_use():
    net, _, _ = _convnet()
    with pytest.raises(ValueError, match=r"params\['W1'\] must be 4-D"):
        SimpleConvNet({**net.params, "W1": np.ones((9, 3))})
    with pytest.raises(ValueError, match="params must hold"):
        SimpleConvNet({"W1": net.params["W1"]})
