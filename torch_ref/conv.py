"""Convolution and pooling as a PyTorch user writes them: ``nn.Conv2d``, ``nn.MaxPool2d``,
``nn.AvgPool2d``, ``F.unfold``, ``nn.BatchNorm2d``, and the book's SimpleConvNet as an
``nn.Module``. Gradients come from autograd.

Layouts are PyTorch's own, which here are the book's too: images (N, C, H, W), filters
``weight`` (FN, C, FH, FW) (no transpose, unlike ``nn.Linear``).
"""

from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn

from .layers import biased_running_var


def conv2d(weight: torch.Tensor, bias: torch.Tensor, stride: int = 1, padding: int = 0) -> nn.Conv2d:
    """``nn.Conv2d(C, FN, (FH, FW), stride, padding)`` holding ``weight`` (FN, C, FH, FW) and
    ``bias`` (FN,). It computes the cross-correlation out[n, f] = b[f] + Σ_c W[f, c] ⋆ x[n, c]
    (no kernel flip), zero-padding ``padding`` pixels on every side."""
    fn, c, fh, fw = weight.shape
    layer = nn.Conv2d(c, fn, (fh, fw), stride=stride, padding=padding).to(dtype=weight.dtype, device=weight.device)
    with torch.no_grad():
        layer.weight.copy_(weight)
        layer.bias.copy_(bias)
    return layer


def conv_block(weight: torch.Tensor, bias: torch.Tensor, stride: int = 1, padding: int = 0, pool: bool = False) -> nn.Sequential:
    """``conv`` (:func:`conv2d`) → ``relu`` → [``pool``: 2×2 max pooling of stride 2]: CS231n's conv → ReLU
    (→ pool) sandwiches, the convolution reachable as ``.conv``."""
    parts = [("conv", conv2d(weight, bias, stride, padding)), ("relu", nn.ReLU())]
    if pool:
        parts.append(("pool", nn.MaxPool2d(2, 2)))
    return nn.Sequential(OrderedDict(parts))


def pool2d(pool_h: int, pool_w: int, stride: int = 1, pad: int = 0, mode: str = "max") -> nn.Module:
    """``nn.MaxPool2d`` or ``nn.AvgPool2d`` over (pool_h, pool_w) windows. ``stride`` is given
    explicitly: PyTorch's default is the window size, the book's ``Pooling`` defaults to 1. Max
    pooling pads with −∞; average pooling pads with 0 and counts the pads
    (``count_include_pad=True``, PyTorch's default)."""
    if mode == "max":
        return nn.MaxPool2d((pool_h, pool_w), stride=stride, padding=pad)
    if mode == "avg":
        return nn.AvgPool2d((pool_h, pool_w), stride=stride, padding=pad)
    raise ValueError(f"mode must be 'max' or 'avg', got {mode!r}")


def unfold(x: torch.Tensor, filter_h: int, filter_w: int, stride: int = 1, pad: int = 0) -> torch.Tensor:
    """``F.unfold``, torch's im2col: (N, C, H, W) → (N, C·FH·FW, OH·OW), one window per column,
    rows ordered (c, p, q) and columns (i, j) row-major."""
    return F.unfold(x, (filter_h, filter_w), stride=stride, padding=pad)


def fold(cols: torch.Tensor, output_hw, filter_h: int, filter_w: int, stride: int = 1, pad: int = 0) -> torch.Tensor:
    """``F.fold``, torch's col2im: (N, C·FH·FW, OH·OW) → (N, C, H, W), each column's values added
    back where its window lies (overlaps summed), the padding cut off. It is the adjoint of
    ``F.unfold``, and so the gradient ``F.unfold``'s backward computes."""
    return F.fold(cols, tuple(output_hw), (filter_h, filter_w), stride=stride, padding=pad)


def batchnorm2d(gamma: torch.Tensor, beta: torch.Tensor, momentum: float = 0.1, eps: float = 1e-5,
                running_var_init: float = 1.0, unbiased_running_var: bool = True) -> nn.BatchNorm2d:
    """``nn.BatchNorm2d`` with γ, β given: one mean and variance per channel over (N, H, W);
    ``momentum`` is PyTorch's (the weight of the new batch statistic), ``running_var`` stores the
    unbiased variance of the N·H·W values. ``running_var_init`` and ``unbiased_running_var=False``
    (CS231n's spatial batch norm: from 0, the biased variance) as :func:`torch_ref.layers.batchnorm1d`."""
    layer = nn.BatchNorm2d(gamma.shape[0], eps=eps, momentum=momentum).to(dtype=gamma.dtype, device=gamma.device)
    with torch.no_grad():
        layer.weight.copy_(gamma)
        layer.bias.copy_(beta)
        layer.running_var.fill_(running_var_init)
    if not unbiased_running_var:
        biased_running_var(layer, momentum, dims=(0, 2, 3))
    return layer


class SimpleConvNet(nn.Module):
    """The book's SimpleConvNet as an ``nn.Module``:

        Conv2d(C, FN, FH, stride, padding) → ReLU → MaxPool2d(pool) → Flatten
          → Linear(FN·PH·PW, hidden) → ReLU → Linear(hidden, classes)

    No softmax at the end (``nn.CrossEntropyLoss`` takes the scores). ``nn.Flatten`` orders the
    features channel first (c, i, j), as the book's ``Affine`` reshape does."""

    def __init__(self, input_dim=(1, 28, 28), filter_num: int = 30, filter_size: int = 5, stride: int = 1,
                 padding: int = 0, pool: int = 2, hidden_size: int = 100, output_size: int = 10):
        super().__init__()
        c, h, w = input_dim
        oh = (h + 2 * padding - filter_size) // stride + 1
        ow = (w + 2 * padding - filter_size) // stride + 1
        self.features = nn.Sequential(nn.Conv2d(c, filter_num, filter_size, stride=stride, padding=padding), nn.ReLU(),
                                      nn.MaxPool2d(pool), nn.Flatten())
        self.classifier = nn.Sequential(nn.Linear(filter_num * (oh // pool) * (ow // pool), hidden_size), nn.ReLU(),
                                        nn.Linear(hidden_size, output_size))

    def forward(self, x):
        return self.classifier(self.features(x))
