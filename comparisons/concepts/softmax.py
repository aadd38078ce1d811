"""Softmax: its overflow, the max-shift that cures it, forward and backward against torch.softmax."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

import torch_ref.activations as tact

from .. import plots


BOOK_EXAMPLE = [0.3, 2.9, 4.0]  # the book's scores
OVERFLOW_EXAMPLE = [1010.0, 1000.0, 990.0]  # the study notes' overflow example


def run(ctx):
    impl = ctx.impl.activations
    a = ctx.array(OVERFLOW_EXAMPLE)
    naive = impl.softmax_naive(a) if hasattr(impl, "softmax_naive") else None
    shifted = impl.softmax(a)
    torch_y = torch.softmax(ctx.tensor(a), dim=-1)
    ctx.compare("softmax([1010, 1000, 990]) shifted", shifted, torch_y)
    if naive is not None:
        ctx.finding("naive softmax overflows to nan", bool(np.all(np.isnan(naive))),
                    f"exp(1010) overflows in {ctx.dtype}: naive gives {naive.tolist()}")
    ctx.finding("shifted softmax sums to 1", bool(abs(float(shifted.sum()) - 1.0) <= 4 * np.finfo(ctx.np_dtype).eps),
                actual=shifted.sum(), expected=1.0)
    ctx.value("shifted softmax of [1010, 1000, 990]", shifted)
    _book_example(ctx, impl)

    # Inputs on a grid of 1/1024 so that a + C is exact in both dtypes: the invariance can then
    # be seen bit for bit, without the rounding of the addition itself getting in the way.
    x = ctx.array(np.round(ctx.rng.normal(0.0, 4.0, size=(32, 10)) * 1024) / 1024)
    invariant = True
    for C in (-1000.0, -3.5, 0.0, 7.25, 1000.0):
        rec = ctx.compare(f"softmax(a + {C:g}) = softmax(a)", impl.softmax(x + ctx.np_dtype(C)), impl.softmax(x),
                          note="shift invariance: adding a constant to every input leaves softmax unchanged")
        invariant = invariant and rec.passed and rec.max_abs_err == 0.0
    ctx.observed("adding a constant leaves softmax unchanged", invariant)

    batches = {
        "random batch": x,
        "large logits": ctx.array(ctx.rng.normal(0.0, 1.0, size=(8, 10)) * 300 + 500),
        "ties": ctx.array(np.tile([2.0, 2.0, 2.0, -1.0], (4, 1))),
        "3-D, axis −1": ctx.array(ctx.rng.normal(0.0, 3.0, size=(3, 4, 6))),
    }
    for label, batch in batches.items():
        dout = ctx.array(ctx.rng.normal(size=batch.shape))
        with ctx.timed("numpy"):
            y_np = impl.softmax(batch, axis=-1)
            layer = ctx.impl.layers.Softmax()
            layer.forward(batch)
            dx_np = layer.backward(dout)
        with ctx.timed("torch"):
            y_t, dx_t = tact.forward_backward(tact.module("softmax"), ctx.tensor(batch), ctx.tensor(dout))
        ctx.compare(f"softmax forward ({label})", y_np, y_t)
        ctx.compare(f"softmax backward ({label})", dx_np, dx_t)
    ctx.compare("softmax over axis 0", impl.softmax(x, axis=0), torch.softmax(ctx.tensor(x), dim=0))

    rows = [{"input": a_i, "naive": "nan" if np.isnan(n_i) else n_i, "shifted (NumPy)": s_i, "torch.softmax": t_i}
            for a_i, n_i, s_i, t_i in zip(OVERFLOW_EXAMPLE, naive if naive is not None else [np.nan] * 3,
                                          shifted, ctx.numpy(torch_y))]
    ctx.table("overflow", pd.DataFrame(rows))
    ctx.figure("probabilities", lambda: _plot(ctx, impl))


def _book_example(ctx, impl):
    """The book's worked example, softmax([0.3, 2.9, 4.0]) = [0.018, 0.245, 0.737], on both sides."""
    a = ctx.array(BOOK_EXAMPLE)
    y = impl.softmax(a)
    y_t = torch.softmax(ctx.tensor(a), dim=-1)
    ctx.value("exp(a)", np.exp(a))
    ctx.value("sum of exp(a)", float(np.exp(a).sum()))
    ctx.value("softmax(a)", y)
    ctx.compare("softmax([0.3, 2.9, 4.0])", y, y_t)
    book = [0.018, 0.245, 0.737]
    ctx.finding("book example: softmax([0.3, 2.9, 4.0]) = [0.018, 0.245, 0.737] to 3 decimals",
                bool(np.allclose(np.round(y.astype(np.float64), 3), book, atol=0, rtol=0)
                     and np.allclose(np.round(ctx.numpy(y_t).astype(np.float64), 3), book, atol=0, rtol=0)),
                f"NumPy {np.round(y, 4).tolist()}, PyTorch {np.round(ctx.numpy(y_t), 4).tolist()}")


def _plot(ctx, impl):
    scores = ctx.array(BOOK_EXAMPLE)
    fig, axes = plots.grid(2, 2, size=(4.2, 3.0))
    for ax, (label, a) in zip(axes, [("softmax([0.3, 2.9, 4.0])", scores), ("softmax([1010, 1000, 990])", ctx.array(OVERFLOW_EXAMPLE))]):
        y_np = impl.softmax(a)
        y_t = ctx.numpy(torch.softmax(ctx.tensor(a), dim=-1))
        pos = np.arange(len(a))
        ax.bar(pos - 0.18, y_np, width=0.36, label="NumPy (scratch)", color="tab:blue")
        ax.bar(pos + 0.18, y_t, width=0.36, label="PyTorch", color="tab:orange")
        for p, v in zip(pos, y_np):
            ax.annotate(f"{v:.3f}", (p, v), textcoords="offset points", xytext=(0, 3), ha="center", fontsize=8)
        ax.set_xticks(pos, [f"{v:g}" for v in a])
        ax.set_title(label, fontsize=10)
        ax.set_ylim(0, 1.12)
        ax.set_xlabel("score")
        ax.set_ylabel("probability")
    axes[0].legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig
