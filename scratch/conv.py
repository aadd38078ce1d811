"""Convolution and pooling by hand (합성곱 계층, 풀링 계층; the book's ch. 7), on images of shape
(N, C, H, W): N images, C channels, height H, width W.

Convolution in deep learning is cross-correlation (no kernel flip): output channel f at position
(i, j) is the window of the (padded) input under the filter, times the filter, summed, plus a bias:

    out[n, f, i, j] = Σ_c Σ_p Σ_q  x_pad[n, c, i·S + p, j·S + q] · W[f, c, p, q]  +  b[f]

with W of shape (FN, C, FH, FW), stride S and zero padding P on every side. The output size is

    OH = (H + 2P − FH) // S + 1,      OW = (W + 2P − FW) // S + 1.

``im2col`` lays every window out as one row, so the whole convolution is one matrix product
(the book's way, and what fast libraries do); ``col2im`` is its adjoint, which *adds* the
gradients of overlapping windows back into the image. ``ConvolutionLoops`` slides the window by
hand, one output position at a time, for study.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from . import layers as L
from ._checks import as_dout, as_float_array, check_finite, check_int, check_real


# --- sizes and arguments --------------------------------------------------------------------------


def conv_output_size(input_size: int, filter_size: int, stride: int = 1, pad: int = 0) -> int:
    """(input_size + 2·pad − filter_size) // stride + 1: the number of window positions along one
    axis. A window that would run past the padded input is dropped (PyTorch floors the same way;
    the book's ``conv_output_size`` returns the unfloored quotient)."""
    input_size, filter_size = check_int(input_size, "input_size", 1), check_int(filter_size, "filter_size", 1)
    stride, pad = check_int(stride, "stride", 1), check_int(pad, "pad", 0)
    if input_size + 2 * pad < filter_size:
        raise ValueError(f"filter_size ({filter_size}) is larger than the padded input, input_size + 2·pad = "
                         f"{input_size} + 2·{pad}: no window fits (a filter that exactly fits gives one position)")
    return (input_size + 2 * pad - filter_size) // stride + 1


def _check_fits(x, filter_h: int, filter_w: int, pad: int, window: str) -> None:
    """The padded images x (N, C, H, W) hold at least one window of filter_h × filter_w (one that
    exactly fits gives a 1×1 output); ``window`` names it in the error."""
    if x.shape[2] + 2 * pad < filter_h or x.shape[3] + 2 * pad < filter_w:
        raise ValueError(f"x{x.shape} is smaller than {window} = {filter_h}×{filter_w}, with pad={pad}: "
                         f"H + 2·pad must be >= {filter_h} and W + 2·pad >= {filter_w}")


def _images(x, name: str = "x") -> np.ndarray:
    x = as_float_array(x, name)
    if x.ndim != 4:
        raise ValueError(f"{name} must be 4-D of shape (N, C, H, W), got {name}{x.shape}")
    return x


def _window(filter_h, filter_w, stride, pad):
    return (check_int(filter_h, "filter_h", 1), check_int(filter_w, "filter_w", 1), check_int(stride, "stride", 1),
            check_int(pad, "pad", 0))


# --- im2col and col2im ----------------------------------------------------------------------------


def im2col(x, filter_h: int, filter_w: int, stride: int = 1, pad: int = 0, pad_value: float = 0.0) -> np.ndarray:
    """Every window of the padded input as one row: (N, C, H, W) → (N·OH·OW, C·FH·FW).

    Row n·OH·OW + i·OW + j holds the window of image n at output position (i, j); within a row
    the columns run over (c, p, q) in that order, so a filter W[f] flattened as W[f].ravel() is
    a column of the weight matrix. ``pad_value`` fills the border (0 for convolution and average
    pooling; −∞ for max pooling, as PyTorch pads it).

    PyTorch's ``F.unfold`` is the same layout transposed per image: unfold(x) has shape
    (N, C·FH·FW, OH·OW), and im2col(x) == unfold(x).transpose(1, 2).reshape(N·OH·OW, C·FH·FW).
    """
    n, c, oh, ow, filter_h, filter_w = (windows := _windows(x, filter_h, filter_w, stride, pad, pad_value)).shape
    return windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, c * filter_h * filter_w)


def _windows(x, filter_h, filter_w, stride, pad, pad_value=0.0, window="the window filter_h × filter_w") -> np.ndarray:
    """Every window of the padded input, as a view of shape (N, C, OH, OW, FH, FW)."""
    x = _images(x)
    check_real(pad_value, "pad_value")
    filter_h, filter_w, stride, pad = _window(filter_h, filter_w, stride, pad)
    _check_fits(x, filter_h, filter_w, pad, window)
    oh, ow = conv_output_size(x.shape[2], filter_h, stride, pad), conv_output_size(x.shape[3], filter_w, stride, pad)
    xp = np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)], constant_values=pad_value)
    windows = sliding_window_view(xp, (filter_h, filter_w), axis=(2, 3))  # (N, C, H', W', FH, FW), a view
    return windows[:, :, : oh * stride : stride, : ow * stride : stride]


def col2im(col, input_shape, filter_h: int, filter_w: int, stride: int = 1, pad: int = 0) -> np.ndarray:
    """The adjoint of :func:`im2col`: (N·OH·OW, C·FH·FW) → (N, C, H, W), each row's values *added*
    back at the positions its window covered (an input pixel under k windows receives the sum of
    k gradients), then the padding cut off.

    One loop over the FH·FW offsets (p, q) of the window: at a fixed offset the windows touch
    distinct pixels, so one strided ``+=`` adds them all without collisions."""
    filter_h, filter_w, stride, pad = _window(filter_h, filter_w, stride, pad)
    if not isinstance(input_shape, (tuple, list)) or len(input_shape) != 4:
        raise ValueError(f"input_shape must be a tuple (N, C, H, W), got {input_shape!r}")
    n, c, h, w = (check_int(v, "input_shape", 1) for v in input_shape)
    oh, ow = conv_output_size(h, filter_h, stride, pad), conv_output_size(w, filter_w, stride, pad)
    col = as_float_array(col, "col")
    expected = (n * oh * ow, c * filter_h * filter_w)
    if col.shape != expected:
        raise ValueError(f"col must have shape (N·OH·OW, C·FH·FW) = {expected} for input_shape {tuple(input_shape)}, "
                         f"got col{col.shape}")
    return _add_windows(col.reshape(n, oh, ow, c, filter_h, filter_w).transpose(3, 4, 5, 0, 1, 2), (h, w), stride, pad)


def _add_windows(values, hw, stride, pad) -> np.ndarray:
    """values (C, FH, FW, N, OH, OW): window (i, j)'s value at offset (p, q) added to the pixel it
    covers, x_pad[n, c, i·S + p, j·S + q]; returns the image (N, C, H, W), padding cut off."""
    c, filter_h, filter_w, n, oh, ow = values.shape
    h, w = hw
    img = np.zeros((n, c, h + 2 * pad, w + 2 * pad), dtype=values.dtype)
    for p in range(filter_h):
        for q in range(filter_w):
            img[:, :, p : p + stride * oh : stride, q : q + stride * ow : stride] += values[:, p, q].transpose(1, 0, 2, 3)
    return img[:, :, pad : pad + h, pad : pad + w]


# --- convolution ----------------------------------------------------------------------------------


class Convolution(L.Layer):
    """The convolution layer (합성곱 계층) by im2col: one matrix product.

        col = im2col(x)                (N·OH·OW, C·FH·FW)
        out = col · W_colᵀ + b         W_col = W.reshape(FN, C·FH·FW),  out → (N, FN, OH, OW)

    backward, with dout reshaped to (N·OH·OW, FN):

        db = Σ_rows dout,   dW = (doutᵀ · col).reshape(FN, C, FH, FW),   dx = col2im(dout · W_col)

    ``needs_input_grad = False`` skips dx (backward returns None), as autograd does for an input
    that needs no gradient: a network's first layer never uses it.
    """

    def __init__(self, W, b, stride: int = 1, pad: int = 0):
        super().__init__()
        W, b = as_float_array(W, "W"), as_float_array(b, "b")
        if W.ndim != 4 or b.shape != (W.shape[0],):
            raise ValueError(f"Convolution expects W of shape (FN, C, FH, FW) and b of shape (FN,), "
                             f"got W{W.shape} and b{b.shape}")
        check_finite(W, "W")
        check_finite(b, "b")
        self.stride, self.pad = check_int(stride, "stride", 1), check_int(pad, "pad", 0)
        self.params = {"W": W, "b": b}
        self.grads = {"W": np.zeros_like(W), "b": np.zeros_like(b)}
        self.needs_input_grad = True
        self._cache = None

    def _check_input(self, x):
        x = _images(x)
        FN, C, FH, FW = self.params["W"].shape
        if x.shape[1] != C:
            raise ValueError(f"{type(self).__name__} expects x with {C} channels (W has shape {self.params['W'].shape}), "
                             f"got x{x.shape}")
        _check_fits(x, FH, FW, self.pad, f"the filters of W{self.params['W'].shape}, FH × FW")
        return x, (conv_output_size(x.shape[2], FH, self.stride, self.pad),
                   conv_output_size(x.shape[3], FW, self.stride, self.pad))

    def forward(self, x):
        x, (oh, ow) = self._check_input(x)
        W, b = self.params["W"], self.params["b"]
        FN, C, FH, FW = W.shape
        col = im2col(x, FH, FW, self.stride, self.pad)
        out = col @ W.reshape(FN, -1).T + b
        self._cache = (x.shape, col)
        return out.reshape(x.shape[0], oh, ow, FN).transpose(0, 3, 1, 2)

    def backward(self, dout):
        self._need_forward(self._cache)
        x_shape, col = self._cache
        W = self.params["W"]
        FN, C, FH, FW = W.shape
        n = x_shape[0]
        dout = as_dout(dout, (n, FN) + self._out_hw(x_shape)).transpose(0, 2, 3, 1).reshape(-1, FN)
        self.grads["b"] = dout.sum(axis=0)
        self.grads["W"] = (dout.T @ col).reshape(W.shape)
        if not self.needs_input_grad:
            return None
        return col2im(dout @ W.reshape(FN, -1), x_shape, FH, FW, self.stride, self.pad)

    def _out_hw(self, x_shape):
        _, _, FH, FW = self.params["W"].shape
        return (conv_output_size(x_shape[2], FH, self.stride, self.pad),
                conv_output_size(x_shape[3], FW, self.stride, self.pad))


class ConvolutionLoops(Convolution):
    """The same layer with the window slid by hand, one output position (i, j) at a time, for
    study: the formula of the module docstring read off directly.

        out[:, f, i, j] = Σ_{c,p,q} x_pad[:, c, i·S + p, j·S + q] · W[f, c, p, q] + b[f]

    backward walks the same windows: each one sends dout[:, :, i, j]·W back to the pixels it
    covered (added: windows overlap), and adds its pixels times dout[:, f, i, j] to dW[f]."""

    def forward(self, x):
        x, (oh, ow) = self._check_input(x)
        W, b = self.params["W"], self.params["b"]
        FN, C, FH, FW = W.shape
        S, P = self.stride, self.pad
        xp = np.pad(x, [(0, 0), (0, 0), (P, P), (P, P)])
        out = np.zeros((x.shape[0], FN, oh, ow), dtype=np.result_type(x, W))
        for i in range(oh):
            for j in range(ow):
                window = xp[:, :, i * S : i * S + FH, j * S : j * S + FW]  # (N, C, FH, FW)
                out[:, :, i, j] = np.tensordot(window, W, axes=([1, 2, 3], [1, 2, 3])) + b
        self._cache = (x.shape, xp)
        return out

    def backward(self, dout):
        self._need_forward(self._cache)
        x_shape, xp = self._cache
        W = self.params["W"]
        FN, C, FH, FW = W.shape
        S, P = self.stride, self.pad
        oh, ow = self._out_hw(x_shape)
        dout = as_dout(dout, (x_shape[0], FN, oh, ow))
        dxp = np.zeros_like(xp)
        dW = np.zeros_like(W)
        for i in range(oh):
            for j in range(ow):
                window = xp[:, :, i * S : i * S + FH, j * S : j * S + FW]
                g = dout[:, :, i, j]  # (N, FN)
                dW += np.tensordot(g, window, axes=([0], [0]))  # (FN, C, FH, FW)
                dxp[:, :, i * S : i * S + FH, j * S : j * S + FW] += np.tensordot(g, W, axes=([1], [0]))
        self.grads["W"] = dW
        self.grads["b"] = dout.sum(axis=(0, 2, 3))
        if not self.needs_input_grad:
            return None
        return dxp[:, :, P : P + x_shape[2], P : P + x_shape[3]]


# --- pooling --------------------------------------------------------------------------------------

POOL_MODES = ("max", "avg")


class Pooling(L.Layer):
    """Max or average pooling (풀링) over windows of pool_h × pool_w, channel by channel.

        max: out[n, c, i, j] = max over the window,   dx: dout goes to the window's argmax only
        avg: out[n, c, i, j] = mean over the window,  dx: dout / (pool_h·pool_w) to every element

    The windows are laid out offset first, (pool_h·pool_w, N, C, OH, OW): the k-th slice holds,
    for every output position, the window's k-th element (row-major (p, q)), so the max, the mean
    and the argmax are reductions over the first axis. Backward adds each offset's share back
    into the image (windows overlap when stride < pool size).

    Ties (max): the *first* maximum of the window in row-major (p, q) order (as np.argmax picks it)
    gets the whole gradient and the other maxima get none. PyTorch's kernel scans the window in the
    same order and keeps the first maximum too (a later one replaces it only if strictly greater),
    so the two agree on ties.

    NaN (max), as PyTorch's kernel, which takes an element when ``val > max or isnan(val)``: a window
    holding a NaN gives NaN, and its gradient goes to the window's *last* NaN in row-major order.
    A window of −∞ only gives −∞, and its gradient goes to its first element of the input (never
    to padding).

    Padding: max pooling pads with −∞ (a pad never wins), average pooling with 0 and divides by
    pool_h·pool_w, pads included (PyTorch's ``count_include_pad=True``). ``stride`` defaults to 1
    as the book's ``Pooling``; PyTorch's default is the pool size (non-overlapping windows).
    """

    def __init__(self, pool_h: int, pool_w: int, stride: int = 1, pad: int = 0, mode: str = "max"):
        super().__init__()
        self.pool_h, self.pool_w = check_int(pool_h, "pool_h", 1), check_int(pool_w, "pool_w", 1)
        self.stride, self.pad = check_int(stride, "stride", 1), check_int(pad, "pad", 0)
        if mode not in POOL_MODES:
            raise ValueError(f"mode must be one of {POOL_MODES}, got {mode!r}")
        if 2 * self.pad > min(self.pool_h, self.pool_w):
            raise ValueError(f"pad must be at most half the pool size, got pad={pad} for a {pool_h}×{pool_w} pool "
                             "(a window of padding only has no maximum)")
        self.mode = mode
        self._cache = None

    def forward(self, x):
        fill = -np.inf if self.mode == "max" else 0.0
        windows = _windows(x, self.pool_h, self.pool_w, self.stride, self.pad, fill,
                           "the pool pool_h × pool_w")  # (N, C, OH, OW, ph, pw)
        n, c, oh, ow = windows.shape[:4]
        stacked = windows.transpose(4, 5, 0, 1, 2, 3).reshape(self.pool_h * self.pool_w, n, c, oh, ow)
        self._cache = (np.shape(x), stacked.dtype)
        if self.mode == "avg":
            return stacked.mean(axis=0)
        out = stacked.max(axis=0)  # NaN where the window holds one
        self._winner = self._max_winner(stacked, out, x)
        return out

    def _max_winner(self, stacked, out, x):
        """(K, N, C, OH, OW) booleans: the element of each window that gets its gradient."""
        ties = stacked == out
        if self.pad and np.isneginf(out).any():  # a window of −∞ only: its pads tie, but never win
            h, w = np.shape(x)[2:]
            inside = _windows(np.ones((1, 1, h, w)), self.pool_h, self.pool_w, self.stride, self.pad, 0.0) > 0
            ties = ties & inside.transpose(4, 5, 0, 1, 2, 3).reshape(self.pool_h * self.pool_w, 1, 1, *out.shape[2:])
        winner = _first_true(ties)  # the first maximum of each window
        nan = np.isnan(out)
        if nan.any():  # the last NaN of a window that holds one
            winner = np.where(nan, _first_true(np.isnan(stacked)[::-1])[::-1], winner)
        return winner

    def backward(self, dout):
        self._need_forward(self._cache)
        (n, c, h, w), dtype = self._cache
        oh = conv_output_size(h, self.pool_h, self.stride, self.pad)
        ow = conv_output_size(w, self.pool_w, self.stride, self.pad)
        dout = as_dout(dout, (n, c, oh, ow)).astype(dtype, copy=False)
        if self.mode == "max":
            shares = np.where(self._winner, dout, 0.0).astype(dtype, copy=False)
        else:
            shares = np.broadcast_to(dout / (self.pool_h * self.pool_w), (self.pool_h * self.pool_w,) + dout.shape)
        shares = shares.reshape(self.pool_h, self.pool_w, n, c, oh, ow)
        return _add_windows(shares.transpose(3, 0, 1, 2, 4, 5), (h, w), self.stride, self.pad)


def _first_true(mask):
    """For each column of ``mask`` (K, …), only its first True kept: one pass per row k."""
    first, seen = np.zeros_like(mask), np.zeros_like(mask[0])
    for k in range(len(mask)):
        first[k] = mask[k] & ~seen
        seen |= mask[k]
    return first


class AvgPooling(Pooling):
    """Average pooling: ``Pooling(pool_h, pool_w, stride, pad, mode="avg")``."""

    def __init__(self, pool_h: int, pool_w: int, stride: int = 1, pad: int = 0):
        super().__init__(pool_h, pool_w, stride, pad, mode="avg")


# --- batch normalization per channel --------------------------------------------------------------


class BatchNorm2d(L.BatchNorm1d):
    """Batch normalization of images, one mean and variance per channel over (N, H, W):

        x (N, C, H, W) → rows (N·H·W, C) → BatchNorm1d → back to (N, C, H, W)

    Every pixel of a channel is one sample of that channel's statistics, so the running variance
    is made unbiased with the N·H·W values per channel. γ and β have shape (C,). The options are
    :class:`scratch.layers.BatchNorm1d`'s (the book's momentum, ε, running variance)."""

    def forward(self, x):
        x = _images(x)
        if x.shape[1] != self.params["gamma"].shape[0]:
            raise ValueError(f"BatchNorm2d expects x with {self.params['gamma'].shape[0]} channels, got x{x.shape}")
        self._shape = x.shape
        rows = x.transpose(0, 2, 3, 1).reshape(-1, x.shape[1])
        n, c, h, w = x.shape
        return super().forward(rows).reshape(n, h, w, c).transpose(0, 3, 1, 2)

    def backward(self, dout):
        self._need_forward(self._cache)
        n, c, h, w = self._shape
        rows = as_dout(dout, self._shape).transpose(0, 2, 3, 1).reshape(-1, c)
        return super().backward(rows).reshape(n, h, w, c).transpose(0, 3, 1, 2)


class ConvReLU(L.Chain):
    """Convolution(W, b, stride, pad) → ReLU (CS231n's ``conv_relu_forward``/``conv_relu_backward``)."""

    def __init__(self, W, b, stride: int = 1, pad: int = 0):
        super().__init__(Convolution(W, b, stride, pad), L.ReLU())


class ConvReLUPool(L.Chain):
    """Convolution(W, b, stride, pad) → ReLU → 2×2 max pooling of stride 2 (CS231n's
    ``conv_relu_pool_forward``/``conv_relu_pool_backward``)."""

    def __init__(self, W, b, stride: int = 1, pad: int = 0):
        super().__init__(Convolution(W, b, stride, pad), L.ReLU(), Pooling(2, 2, 2))
