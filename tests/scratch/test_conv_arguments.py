"""Every argument check of scratch.conv at its boundary, on both sides: filter, pool, stride and
sizes from 1, padding from 0 and at most half the pool, and a filter or window that exactly fits
the padded image (a 1×1 output) accepted, one pixel more refused."""

import numpy as np

from scratch import conv as C

from .malformed import Boundary, Domain, integers, prove_each

X = np.arange(2 * 2 * 5 * 5, dtype=float).reshape(2, 2, 5, 5)
W, B = np.ones((3, 2, 3, 3)), np.zeros(3)


def conv_on(size, pad=0):
    """A 3×3 convolution on size × size images with ``pad``: forward and backward."""
    layer = C.Convolution(W, B, pad=pad)
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
    Boundary("im2col filter_h", lambda v: C.im2col(X, v, 2), "filter_h", integers(1, 5)),
    Boundary("im2col filter_w", lambda v: C.im2col(X, 2, v), "filter_w", integers(1, 5)),
    Boundary("im2col stride", lambda v: C.im2col(X, 2, 2, v), "stride", integers(1)),
    Boundary("im2col pad", lambda v: C.im2col(X, 2, 2, 1, v), "pad", integers(0)),
    Boundary("col2im input_shape", col_for, "input_shape", integers(1, drawn_up_to=20)),
    Boundary("Convolution stride", lambda v: C.Convolution(W, B, stride=v).forward(X), "stride", integers(1)),
    Boundary("Convolution pad", lambda v: C.Convolution(W, B, pad=v).forward(X), "pad", integers(0, drawn_up_to=5)),
    Boundary("a filter that exactly fits the image", conv_on, "x", Domain(accepted=(3, 4), refused=(2, 1))),
    Boundary("a filter that exactly fits the padded image", lambda v: conv_on(v, pad=1), "x",
             Domain(accepted=(1, 2), refused=())),
    Boundary("Pooling pool_h", lambda v: C.Pooling(v, 2).forward(X), "pool_h", integers(1, 5)),
    Boundary("Pooling pool_w", lambda v: C.Pooling(2, v).forward(X), "pool_w", integers(1, 5)),
    Boundary("Pooling stride", lambda v: C.Pooling(2, 2, stride=v).forward(X), "stride", integers(1)),
    Boundary("Pooling pad, at most half the pool", lambda v: C.Pooling(4, 4, pad=v).forward(X), "pad", integers(0, 2)),
    Boundary("a pool that exactly fits the image", pool_on, "x", Domain(accepted=(3, 4), refused=(2, 1))),
    Boundary("a pool that exactly fits the padded image", lambda v: pool_on(v, pool=4, pad=2), "x",
             Domain(accepted=(1,), refused=())),
]


@prove_each(BOUNDARIES)
def test_each_argument_check_holds_at_its_boundary(boundary):
    boundary.prove()


def test_a_filter_that_exactly_fits_gives_one_output_position():
    layer = C.Convolution(np.ones((1, 2, 5, 5)), np.zeros(1))
    assert layer.forward(X).shape == (2, 1, 1, 1)
    assert layer.backward(np.ones((2, 1, 1, 1))).shape == X.shape
