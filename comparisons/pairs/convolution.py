"""Convolution (kinds ``layer``, ``function`` and ``network``): the book's ``Convolution(W, b,
stride, pad)`` and ``Pooling(pool_h, pool_w, stride, pad)``, its ``im2col``/``col2im``, and its
``SimpleConvNet``, against ``nn.Conv2d``, ``nn.MaxPool2d``, ``nn.AvgPool2d``, ``F.unfold``/``F.fold``
and ``torch_ref.conv.SimpleConvNet``. CS231n's ``conv_forward_naive``/``conv_backward_naive`` and
``max_pool_forward_naive``/``max_pool_backward_naive`` go through the same drivers
(:mod:`comparisons.pairs.functional`)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

import scratch.conv as SC
import scratch.layers as SL
import scratch.networks as SN
import torch_ref.conv as tconv

from ._base import Hparam, Mistake, Pair
from ._drivers import drive_col2im, drive_conv, drive_convnet, drive_im2col, drive_pool, pool_inputs
from .layers import SoftmaxWithLossBookDelta

# --- catalogued mistakes --------------------------------------------------------------------------


def _col2im_overwriting(col, input_shape, filter_h, filter_w, stride=1, pad=0):
    """col2im with ``=`` where it must ``+=``: a pixel under several windows keeps the last one's value."""
    n, c, h, w = input_shape
    oh, ow = (h + 2 * pad - filter_h) // stride + 1, (w + 2 * pad - filter_w) // stride + 1
    col = col.reshape(n, oh, ow, c, filter_h, filter_w).transpose(0, 3, 4, 5, 1, 2)
    img = np.zeros((n, c, h + 2 * pad, w + 2 * pad), dtype=col.dtype)
    for p in range(filter_h):
        for q in range(filter_w):
            img[:, :, p:p + stride * oh:stride, q:q + stride * ow:stride] = col[:, :, p, q]
    return img[:, :, pad:pad + h, pad:pad + w]


def _im2col_wrong_order(x, filter_h, filter_w, stride=1, pad=0):
    """im2col whose columns run over (p, q, c) instead of (c, p, q): transposed (0, 2, 3, 4, 5, 1)."""
    n, c = x.shape[:2]
    col = SC.im2col(x, filter_h, filter_w, stride, pad)
    return col.reshape(len(col), c, filter_h, filter_w).transpose(0, 2, 3, 1).reshape(len(col), -1)


def _col2im_wrong_order(col, input_shape, filter_h, filter_w, stride=1, pad=0):
    c = input_shape[1]
    col = col.reshape(len(col), filter_h, filter_w, c).transpose(0, 3, 1, 2).reshape(len(col), -1)
    return SC.col2im(col, input_shape, filter_h, filter_w, stride, pad)


class ConvFlippedKernel(SC.Convolution):
    """True convolution: the kernel flipped in both spatial axes (and consistently in backward)."""

    def _flip(self):
        self.params["W"] = self.params["W"][:, :, ::-1, ::-1]

    def forward(self, x):
        self._flip()
        try:
            return super().forward(x)
        finally:
            self._flip()

    def backward(self, dout):
        self._flip()
        try:
            dx = super().backward(dout)
        finally:
            self._flip()
        self.grads["W"] = self.grads["W"][:, :, ::-1, ::-1]
        return dx


class ConvCol2imOverwrites(SC.Convolution):
    def backward(self, dout):
        self.needs_input_grad = False
        super().backward(dout)
        self.needs_input_grad = True
        x_shape, col = self._cache
        FN, C, FH, FW = self.params["W"].shape
        d = np.asarray(dout).transpose(0, 2, 3, 1).reshape(-1, FN)
        return _col2im_overwriting(d @ self.params["W"].reshape(FN, -1), x_shape, FH, FW, self.stride, self.pad)


class ConvIm2colWrongOrder(SC.Convolution):
    """im2col's columns in (p, q, c) order against W flattened in (c, p, q) order."""

    def forward(self, x):
        W = self.params["W"]
        FN, C, FH, FW = W.shape
        n, _, h, w = np.shape(x)
        oh, ow = SC.conv_output_size(h, FH, self.stride, self.pad), SC.conv_output_size(w, FW, self.stride, self.pad)
        col = _im2col_wrong_order(np.asarray(x), FH, FW, self.stride, self.pad)
        self._cache = (np.shape(x), col)
        return (col @ W.reshape(FN, -1).T + self.params["b"]).reshape(n, oh, ow, FN).transpose(0, 3, 1, 2)

    def backward(self, dout):
        self.needs_input_grad = False
        super().backward(dout)
        self.needs_input_grad = True
        x_shape, _ = self._cache
        FN, C, FH, FW = self.params["W"].shape
        d = np.asarray(dout).transpose(0, 2, 3, 1).reshape(-1, FN)
        return _col2im_wrong_order(d @ self.params["W"].reshape(FN, -1), x_shape, FH, FW, self.stride, self.pad)


class ConvPaddingForgottenInBackward(SC.Convolution):
    """backward's col2im on the unpadded image (pad 0, the padded shape) cut at [0:H, 0:W]."""

    def backward(self, dout):
        self.needs_input_grad = False
        super().backward(dout)
        self.needs_input_grad = True
        (n, c, h, w), _ = self._cache
        FN, C, FH, FW = self.params["W"].shape
        P = self.pad
        d = np.asarray(dout).transpose(0, 2, 3, 1).reshape(-1, FN)
        img = SC.col2im(d @ self.params["W"].reshape(FN, -1), (n, c, h + 2 * P, w + 2 * P), FH, FW, self.stride, 0)
        return img[:, :, :h, :w]


def _pool_windows(layer, x):
    """(rows of one channel's window, (N, C, H, W), (OH, OW)) as the book's Pooling lays them out."""
    n, c, h, w = np.shape(x)
    oh = SC.conv_output_size(h, layer.pool_h, layer.stride, layer.pad)
    ow = SC.conv_output_size(w, layer.pool_w, layer.stride, layer.pad)
    col = SC.im2col(x, layer.pool_h, layer.pool_w, layer.stride, layer.pad, pad_value=-np.inf)
    return col.reshape(-1, layer.pool_h * layer.pool_w), (n, c, h, w), (oh, ow)


class PoolingGradientToEveryElement(SC.Pooling):
    """Max pooling whose backward hands dout to every element of the window."""

    def forward(self, x):
        self._x = np.asarray(x)
        return super().forward(x)

    def backward(self, dout):
        col, (n, c, h, w), (oh, ow) = _pool_windows(self, self._x)
        d = np.asarray(dout).transpose(0, 2, 3, 1).ravel()
        dcol = np.repeat(d[:, None], col.shape[1], axis=1).reshape(n * oh * ow, -1)
        return SC.col2im(dcol, (n, c, h, w), self.pool_h, self.pool_w, self.stride, self.pad)


class PoolingTiesToEveryMaximum(PoolingGradientToEveryElement):
    """Max pooling whose backward hands dout to every element equal to the maximum."""

    def backward(self, dout):
        col, (n, c, h, w), (oh, ow) = _pool_windows(self, self._x)
        d = np.asarray(dout).transpose(0, 2, 3, 1).ravel()
        dcol = (col == col.max(axis=1, keepdims=True)) * d[:, None]
        return SC.col2im(dcol.reshape(n * oh * ow, -1), (n, c, h, w), self.pool_h, self.pool_w, self.stride, self.pad)


class AvgPoolingNotDivided(SC.AvgPooling):
    def backward(self, dout):
        return super().backward(dout) * (self.pool_h * self.pool_w)


def convnet_with(**conv_layers):
    """scratch's SimpleConvNet with some layers replaced (a catalogued mistake)."""
    conv = SimpleNamespace(**{**vars(SC), **{k: v for k, v in conv_layers.items() if hasattr(SC, k)}})
    layers = SimpleNamespace(**{**vars(SL), **{k: v for k, v in conv_layers.items() if hasattr(SL, k)}})

    def build(params, stride=1, pad=0):
        return SN.SimpleConvNet(params, stride=stride, pad=pad, layers=layers, conv=conv)
    return build


# --- declarations ---------------------------------------------------------------------------------

STRIDE = Hparam("stride", 1, "stride")
PAD = Hparam("pad", 0, "padding", aliases=("padding",))
POOL = (Hparam("pool_h", 2, None, aliases=("pool_height",)), Hparam("pool_w", 2, None, aliases=("pool_width",)),
        Hparam("stride", 2, None), Hparam("pad", 0, None, aliases=("padding",)))
FLIPPED = "a flipped kernel: this is true convolution (W[:, :, ::-1, ::-1]); deep learning's convolution, in " \
          "nn.Conv2d and the book, is cross-correlation and does not flip"
POOL_EVERY = "pooling backward routes dout to every element of the window; max pooling's gradient goes to the " \
             "window's maximum only (the first one on ties)"

PAIRS = [
    Pair("conv2d", "layer", "conv.Convolution", tconv.conv2d,
         "a class Convolution(W, b, stride, pad) with W (FN, C, FH, FW) and b (FN,): forward(x (N, C, H, W)) -> "
         "(N, FN, OH, OW), backward(dout) -> dx, and the gradients in grads['W'], grads['b'] or dW, db",
         drive_conv, (STRIDE, PAD), None,
         (Mistake(FLIPPED, ConvFlippedKernel),
          Mistake("col2im overwrites where windows overlap: a pixel under several windows must receive the SUM of "
                  "their gradients (+=, not =)", ConvCol2imOverwrites),
          Mistake("im2col's reshape in the wrong order: its columns run over (FH, FW, C) while W.reshape(FN, -1) runs "
                  "over (C, FH, FW); transpose the windows to (N, OH, OW, C, FH, FW) before the reshape",
                  ConvIm2colWrongOrder),
          Mistake("the padding is forgotten in backward: col2im must add into the padded (H + 2P, W + 2P) image and "
                  "then cut the border off, [P:P + H, P:P + W]", ConvPaddingForgottenInBackward)),
         ("Convolution", "Conv2d", "Conv", "ConvLayer", "Convolution2D")),
    Pair("max-pool", "layer", "conv.Pooling", tconv.pool2d,
         "a class Pooling(pool_h, pool_w, stride, pad) (max pooling): forward(x (N, C, H, W)) -> (N, C, OH, OW) and "
         "backward(dout) -> dx",
         drive_pool, POOL, pool_inputs,
         (Mistake(POOL_EVERY, PoolingGradientToEveryElement),
          Mistake("ties: the gradient goes to every element equal to the maximum; PyTorch (and np.argmax) give it "
                  "all to the first maximum of the window in row-major order", PoolingTiesToEveryMaximum)),
         ("Pooling", "MaxPooling", "MaxPool", "MaxPool2d", "MaxPooling2D"), {"mode": "max"}),
    Pair("avg-pool", "layer", "conv.AvgPooling", tconv.pool2d,
         "a class AvgPooling(pool_h, pool_w, stride, pad): forward(x (N, C, H, W)) -> (N, C, OH, OW) and "
         "backward(dout) -> dx",
         drive_pool, POOL, pool_inputs,
         (Mistake("average pooling backward is not divided by the window size: each of the pool_h·pool_w elements "
                  "gets dout/(pool_h·pool_w)", AvgPoolingNotDivided),),
         ("AvgPooling", "AveragePooling", "AvgPool", "AvgPool2d", "AveragePooling2D"), {"mode": "avg"}),
    Pair("im2col", "function", "conv.im2col", tconv.unfold,
         "a function im2col(x, filter_h, filter_w, stride, pad) -> (N·OH·OW, C·FH·FW), one window per row",
         drive_im2col, (STRIDE, PAD), None,
         (Mistake("im2col's reshape in the wrong order: the columns must run over (C, FH, FW), as W.reshape(FN, -1); "
                  "transpose the windows to (N, OH, OW, C, FH, FW) before the reshape", _im2col_wrong_order),),
         ("im2col",)),
    Pair("col2im", "function", "conv.col2im", tconv.fold,
         "a function col2im(col, input_shape, filter_h, filter_w, stride, pad) -> (N, C, H, W), overlaps added",
         drive_col2im, (STRIDE, PAD), None,
         (Mistake("col2im overwrites where windows overlap: a pixel under several windows must receive the SUM of "
                  "their values (+=, not =)", _col2im_overwriting),),
         ("col2im",)),
    Pair("simple-convnet", "network", "networks.SimpleConvNet", tconv.SimpleConvNet,
         "a class constructed from its parameter names (params, or input_dim, conv_param {filter_num, filter_size, "
         "pad, stride}, hidden_size, output_size, weight_init_std as the book's) with params W1 (FN, C, FH, FW), b1, "
         "W2, b2, W3, b3 and gradient(x, t) plus loss(x, t): conv → ReLU → 2×2 max pool → affine → ReLU → affine → "
         "softmax-with-loss",
         drive_convnet, (Hparam("filter_num", 3, None), Hparam("filter_size", 3, None), STRIDE, PAD,
                         Hparam("hidden_size", 10, None, aliases=("hidden_dim",)),
                         Hparam("lr", 0.1, "lr", aliases=("learning_rate",)), Hparam("delta", 0.0, None)), None,
         (Mistake("the book's δ = 1e-7 inside the log of SoftmaxWithLoss: PyTorch has no δ",
                  convnet_with(SoftmaxWithLoss=SoftmaxWithLossBookDelta), flag={"delta": 1e-7}),
          Mistake(FLIPPED, convnet_with(Convolution=ConvFlippedKernel))),
         ("SimpleConvNet", "ConvNet", "ThreeLayerConvNet", "SimpleCNN", "CNN")),
]
