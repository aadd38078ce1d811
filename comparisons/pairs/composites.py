"""Sandwiches of layers (kind ``layer``), as CS231n's ``layer_utils.py`` writes them: affine → ReLU,
conv → ReLU and conv → ReLU → 2×2 max pool, each one layer with the weighted layer's gradients,
against ``nn.Sequential`` of the same PyTorch modules (``torch_ref.layers.linear_relu``,
``torch_ref.conv.conv_block``). The drivers are those of the weighted layer."""

from __future__ import annotations

import torch_ref.conv as tconv
import torch_ref.layers as tlayers

from ._base import Pair, shows
from .convolution import PAD, STRIDE, drive_conv
from .layers import drive_linear, linear_inputs


def _conv_pool(weight, bias, stride=1, padding=0):
    return tconv.conv_block(weight, bias, stride, padding, pool=True)


def _conv_relu(weight, bias, stride=1, padding=0):
    return tconv.conv_block(weight, bias, stride, padding)


_conv_pool.__doc__ = "torch_ref.conv.conv_block(…, pool=True): Conv2d → ReLU → MaxPool2d(2, 2)"
_conv_relu.__doc__ = "torch_ref.conv.conv_block(…): Conv2d → ReLU"
shows(_conv_pool, tconv.conv_block)
shows(_conv_relu, tconv.conv_block)

PAIRS = [
    Pair("linear-relu", "layer", "layers.LinearReLU", tlayers.linear_relu,
         "a class LinearReLU(W, b) with forward(x) -> max(0, x @ W + b) and backward(dout) -> dx, the gradients of W "
         "and b in grads or dW, db (CS231n's affine_relu_forward/affine_relu_backward)",
         drive_linear, (), linear_inputs, (), ("AffineReLU", "LinearReLU")),
    Pair("conv-relu", "layer", "conv.ConvReLU", _conv_relu,
         "a class ConvReLU(W, b, stride, pad) with forward(x (N, C, H, W)) -> max(0, conv(x)) and backward(dout) -> dx, "
         "the gradients of W and b in grads or dW, db (CS231n's conv_relu_forward/conv_relu_backward)",
         drive_conv, (STRIDE, PAD), None, (), ("ConvReLU",)),
    Pair("conv-relu-pool", "layer", "conv.ConvReLUPool", _conv_pool,
         "a class ConvReLUPool(W, b, stride, pad) with forward(x) -> 2×2 max pool of max(0, conv(x)) and backward(dout) "
         "-> dx (CS231n's conv_relu_pool_forward/conv_relu_pool_backward)",
         drive_conv, (STRIDE, PAD), None, (), ("ConvReLUPool",), {"pool": True}),
]
