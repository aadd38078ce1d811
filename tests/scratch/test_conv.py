"""scratch.conv as a specification: output sizes, the layout of im2col and its adjoint col2im, the two forms of
the convolution layer, pooling's gradient routing and ties, BatchNorm2d per channel; every public name against
torch.nn.functional (conv2d, unfold, fold, max_pool2d, avg_pool2d, batch_norm).

Every argument check at its boundary, on both sides: filter, pool, stride and sizes from 1, padding from 0 and
at most half the pool, and a filter or window that exactly fits the padded image (a 1×1 output) accepted, one
pixel more refused."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from scratch import conv as C, layers as L
from scratch.gradients import numerical_gradient

from .malformed import (FLAG, Array, Boundary, Case, Domain, Int, Other, Real, T, Tg, autograd_layer, backward_case,
                        forward_case, integers, malformed_input_tests, prove_each)
from .test_layers import batchnorm_t

# images (N, C, H, W); filters (FN, C, FH, FW)
rng0 = np.random.default_rng(20240612)

XI = rng0.normal(size=(2, 2, 5, 6))
WC, BC = rng0.normal(size=(3, 2, 3, 2)), rng0.normal(size=3)
DOUT_C = rng0.normal(size=(2, 3, 3, 5))  # XI ⋆ WC, stride 1, no padding
DOUT_P = rng0.normal(size=(2, 2, 4, 4))  # XI pooled 2×3, stride 1
BN2 = {"gamma": rng0.uniform(0.5, 1.5, size=2), "beta": rng0.normal(size=2)}
COL = C.im2col(XI, 3, 2)
WINDOW = {"filter_h": Int(3, minimum=1), "filter_w": Int(2, minimum=1), "stride": Int(1, minimum=1),
          "pad": Int(0, minimum=0)}
POOLING = {"pool_h": Int(2, minimum=1), "pool_w": Int(3, minimum=1), "stride": Int(1, minimum=1), "pad": Int(0, minimum=0)}


def im2col_t(x, filter_h, filter_w, stride, pad, pad_value):
    xp = F.pad(T(x), (pad,) * 4, value=pad_value)
    cols = F.unfold(xp, (filter_h, filter_w), stride=stride)
    return cols.transpose(1, 2).reshape(-1, cols.shape[1])


def col2im_t(col, input_shape, filter_h, filter_w, stride, pad):
    n, c, h, w = input_shape
    cols = T(col).reshape(n, -1, c * filter_h * filter_w).transpose(1, 2)
    return F.fold(cols, (h, w), (filter_h, filter_w), stride=stride, padding=pad)


def conv_backward(xt, dout):
    Wt, bt = Tg(WC), Tg(BC)
    F.conv2d(xt, Wt, bt).backward(dout)
    return [xt.grad, Wt.grad, bt.grad]


def bn2d_run(x, **kw):
    layer = C.BatchNorm2d(**kw)
    return [layer.forward(x), layer.running_mean, layer.running_var]


def bn2d_backward(xt, dout):
    g, b = Tg(BN2["gamma"]), Tg(BN2["beta"])
    F.batch_norm(xt, None, None, g, b, training=True, eps=1e-5).backward(dout)
    return [xt.grad, g.grad, b.grad]


def conv_layer_cases(name):
    cls = getattr(C, name)
    return {
        f"conv.{name}": Case({"W": Array(WC, finite=True), "b": Array(BC, finite=True), "stride": Int(1, minimum=1),
                              "pad": Int(0, minimum=0)},
                             lambda W, b, stride, pad: cls(W, b, stride, pad).forward(XI),
                             lambda W, b, stride, pad: F.conv2d(T(XI), T(W), T(b), stride=stride, padding=pad)),
        f"conv.{name}.forward": forward_case(lambda: cls(WC, BC), lambda x: F.conv2d(x, T(WC), T(BC)), XI),
        f"conv.{name}.backward": backward_case(lambda: cls(WC, BC), conv_backward, XI, DOUT_C, grads=("W", "b")),
    }


def pooling_cases(name, torch_pool, **mode):
    cls = getattr(C, name)
    return {
        f"conv.{name}": Case({**POOLING, **mode}, lambda **kw: cls(**kw).forward(XI),
                             lambda pool_h, pool_w, stride, pad, **_: torch_pool(T(XI), (pool_h, pool_w), stride, pad)),
        f"conv.{name}.forward": forward_case(lambda: cls(2, 3), lambda x: torch_pool(x, (2, 3), 1), XI),
        f"conv.{name}.backward": backward_case(lambda: cls(2, 3), autograd_layer(lambda x: torch_pool(x, (2, 3), 1)),
                                               XI, DOUT_P),
    }


CASES = {
    "conv.conv_output_size": Case(
        {"input_size": Int(5, minimum=1), "filter_size": Int(3, minimum=1), "stride": Int(1, minimum=1),
         "pad": Int(0, minimum=0)}, C.conv_output_size,
        lambda input_size, filter_size, stride, pad: F.conv2d(torch.zeros(1, 1, input_size, input_size),
                                                              torch.zeros(1, 1, filter_size, filter_size),
                                                              stride=stride, padding=pad).shape[2]),
    "conv.im2col": Case({"x": Array(XI), **WINDOW, "pad_value": Real(0.0, finite=False)}, C.im2col, im2col_t),
    "conv.col2im": Case({"col": Array(COL), "input_shape": Other(XI.shape, [None, "abcd", 7, (2, 2, 5), (2, 2, 5, 6, 1),
                                                                             (2, 0, 5, 6), (2, 2, -5, 6), (2, 2, 5.5, 6)]),
                         **WINDOW}, C.col2im, col2im_t),
    **conv_layer_cases("Convolution"),
    **conv_layer_cases("ConvolutionLoops"),
    **pooling_cases("Pooling", F.max_pool2d, mode=Other("max", [None, "min", "MAX", 3])),
    **pooling_cases("AvgPooling", F.avg_pool2d),
    "conv.BatchNorm2d": Case(
        {"gamma": Array(BN2["gamma"]), "beta": Array(BN2["beta"]), "momentum": Real(0.9, low=0, high=1),
         "eps": Real(1e-5, low=0, low_open=True), "running_var_init": Real(1.0, low=0), "unbiased_running_var": FLAG},
        lambda **kw: bn2d_run(XI, **kw),
        lambda gamma, beta, momentum, eps, running_var_init, unbiased_running_var:
            batchnorm_t(T(XI), gamma, beta, momentum, eps, running_var_init)),
    "conv.BatchNorm2d.forward": Case({"x": Array(XI)}, lambda x: bn2d_run(x, **BN2), lambda x: batchnorm_t(T(x), **BN2)),
    "conv.BatchNorm2d.backward": backward_case(lambda: C.BatchNorm2d(**BN2), bn2d_backward, XI,
                                               rng0.normal(size=XI.shape), grads=("gamma", "beta")),
}


test_valid_arguments_give_torchs_result, test_malformed_input_gives_torchs_result_or_names_the_argument = \
    malformed_input_tests(CASES)


# --- argument checks at their boundaries ------------------------------------------------------------

AT_X = np.arange(2 * 2 * 5 * 5, dtype=float).reshape(2, 2, 5, 5)
AT_W, AT_B = np.ones((3, 2, 3, 3)), np.zeros(3)


def conv_on(size, pad=0):
    """A 3×3 convolution on size × size images with ``pad``: forward and backward."""
    layer = C.Convolution(AT_W, AT_B, pad=pad)
    out = layer.forward(np.ones((1, 2, size, size)))
    return layer.backward(np.ones_like(out))


def pool_on(size, pool=3, pad=0):
    layer = C.Pooling(pool, pool, stride=1, pad=pad)
    out = layer.forward(np.ones((1, 1, size, size)))
    return layer.backward(np.ones_like(out))


def col_for(n):
    """col2im with input_shape (n, 1, 3, 3) and a 2×2 filter: a col of the shape that n asks for,
    or any when n is not a size (the check of input_shape comes first)."""
    rows = 4 * int(n) if isinstance(n, (int, float)) and float(n).is_integer() and n >= 1 else 1
    return C.col2im(np.zeros((rows, 4)), (n, 1, 3, 3), 2, 2)


BOUNDARIES = [
    Boundary("conv_output_size input_size", lambda v: C.conv_output_size(v, 1), "input_size", integers(1)),
    Boundary("conv_output_size filter_size", lambda v: C.conv_output_size(7, v), "filter_size", integers(1, 7)),
    Boundary("conv_output_size filter_size with pad", lambda v: C.conv_output_size(7, v, pad=2), "filter_size",
             integers(1, 11)),
    Boundary("conv_output_size stride", lambda v: C.conv_output_size(7, 3, v), "stride", integers(1)),
    Boundary("conv_output_size pad", lambda v: C.conv_output_size(7, 3, 1, v), "pad", integers(0)),
    Boundary("im2col filter_h", lambda v: C.im2col(AT_X, v, 2), "filter_h", integers(1, 5)),
    Boundary("im2col filter_w", lambda v: C.im2col(AT_X, 2, v), "filter_w", integers(1, 5)),
    Boundary("im2col stride", lambda v: C.im2col(AT_X, 2, 2, v), "stride", integers(1)),
    Boundary("im2col pad", lambda v: C.im2col(AT_X, 2, 2, 1, v), "pad", integers(0)),
    Boundary("col2im input_shape", col_for, "input_shape", integers(1, drawn_up_to=20)),
    Boundary("Convolution stride", lambda v: C.Convolution(AT_W, AT_B, stride=v).forward(AT_X), "stride", integers(1)),
    Boundary("Convolution pad", lambda v: C.Convolution(AT_W, AT_B, pad=v).forward(AT_X), "pad", integers(0, drawn_up_to=5)),
    Boundary("a filter that exactly fits the image", conv_on, "x", Domain(accepted=(3, 4), refused=(2, 1))),
    Boundary("a filter that exactly fits the padded image", lambda v: conv_on(v, pad=1), "x",
             Domain(accepted=(1, 2), refused=())),
    Boundary("Pooling pool_h", lambda v: C.Pooling(v, 2).forward(AT_X), "pool_h", integers(1, 5)),
    Boundary("Pooling pool_w", lambda v: C.Pooling(2, v).forward(AT_X), "pool_w", integers(1, 5)),
    Boundary("Pooling stride", lambda v: C.Pooling(2, 2, stride=v).forward(AT_X), "stride", integers(1)),
    Boundary("Pooling pad, at most half the pool", lambda v: C.Pooling(4, 4, pad=v).forward(AT_X), "pad", integers(0, 2)),
    Boundary("a pool that exactly fits the image", pool_on, "x", Domain(accepted=(3, 4), refused=(2, 1))),
    Boundary("a pool that exactly fits the padded image", lambda v: pool_on(v, pool=4, pad=2), "x",
             Domain(accepted=(1,), refused=())),
]


@prove_each(BOUNDARIES)
def test_each_argument_check_holds_at_its_boundary(boundary):
    boundary.prove()


def test_a_filter_that_exactly_fits_gives_one_output_position():
    layer = C.Convolution(np.ones((1, 2, 5, 5)), np.zeros(1))
    assert layer.forward(AT_X).shape == (2, 1, 1, 1)
    assert layer.backward(np.ones((2, 1, 1, 1))).shape == AT_X.shape


# --- behaviour --------------------------------------------------------------------------------------

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
