"""Wall-time measurements shared by ``bench`` and the concepts that show a timing: the median of
repeated calls, and the book's convolution layer three ways. Timings belong in the benchmark and
the report, never in a pass/fail check."""

from __future__ import annotations

import time

import numpy as np
import torch

import torch_ref.conv as tconv

BOOK_CONV_LAYER = (100, 1, 28, 28, 30, 5, 5)  # N, C, H, W, filters, FH, FW: the book's ch. 7 first layer


def median_ms(step, repeats):
    """(median, first quartile, third quartile) of ``step()``'s wall time in ms over ``repeats``
    calls, after 3 warm-up calls."""
    for _ in range(3):  # warm-up: allocations, first-call dispatch, cuBLAS handles
        step()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    times = np.array(times) * 1e3
    return float(np.median(times)), float(np.percentile(times, 25)), float(np.percentile(times, 75))


def conv_layer(impl, repeats: int = 5, seed: int = 0, dtype=np.float64) -> list[dict]:
    """Median ms of one forward + backward (dx, dW, db) of the book's layer, 100×1×28×28 with 30
    filters of 5×5: plain loops, im2col, nn.Conv2d (one thread, as the comparisons run)."""
    rng = np.random.default_rng(seed)
    n, c, h, w, fn, fh, fw = BOOK_CONV_LAYER
    x = rng.normal(size=(n, c, h, w)).astype(dtype)
    W, b = rng.normal(0, 0.01, (fn, c, fh, fw)).astype(dtype), np.zeros(fn, dtype=dtype)
    dout = rng.normal(size=(n, fn, h - fh + 1, w - fw + 1)).astype(dtype)

    def numpy_step(cls):
        layer = cls(W.copy(), b.copy())

        def step():
            layer.forward(x)
            layer.backward(dout)
        return step

    module = tconv.conv2d(torch.as_tensor(W), torch.as_tensor(b))
    xt, dt = torch.as_tensor(x).requires_grad_(True), torch.as_tensor(dout)

    def torch_step():
        module.zero_grad()
        xt.grad = None
        module(xt).backward(dt)

    rows = []
    for form, step in (("plain loops (NumPy)", numpy_step(impl.conv.ConvolutionLoops)),
                       ("im2col (NumPy)", numpy_step(impl.conv.Convolution)), ("nn.Conv2d (PyTorch)", torch_step)):
        med, q1, q3 = median_ms(step, repeats)
        rows.append({"form": form, "median ms": med, "IQR ms": f"{q1:.2f}–{q3:.2f}"})
    torch_ms = rows[-1]["median ms"]
    for row in rows:
        row["÷ nn.Conv2d"] = row["median ms"] / torch_ms
    return rows
