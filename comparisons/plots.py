"""Plot helpers shared by the concepts: both sides overlaid, NumPy solid, PyTorch dashed."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

NUMPY_STYLE = {"color": "tab:blue", "lw": 2.2, "label": "NumPy (scratch)"}
TORCH_STYLE = {"color": "tab:orange", "lw": 1.4, "ls": "--", "label": "PyTorch (torch_ref)"}


def grid(n: int, cols: int, size=(3.2, 2.6)):
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(size[0] * cols, size[1] * rows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:n])


def overlay(ax, x, y_numpy, y_torch, title=None, xlabel=None, ylabel=None, **kw):
    """Draw the NumPy curve and the PyTorch curve over each other on ``ax``."""
    ax.plot(x, y_numpy, **{**NUMPY_STYLE, **kw})
    ax.plot(x, y_torch, **{**TORCH_STYLE, **kw})
    if title:
        ax.set_title(title, fontsize=10)
    if xlabel:
        ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    return ax


def accuracy_panels(curves: dict, title: str | None = None):
    """One panel per variant: train and test accuracy per epoch, NumPy solid, PyTorch dashed.
    ``curves`` maps a variant's name to a frame with epoch, train/test NumPy/torch columns."""
    fig, axes = grid(len(curves), len(curves), size=(4.3, 3.2))
    for ax, (name, f) in zip(axes, curves.items()):
        for split, c_np, c_t in (("train", "tab:blue", "tab:orange"), ("test", "tab:green", "tab:red")):
            ax.plot(f["epoch"], f[f"{split} NumPy"], color=c_np, lw=2, label=f"{split} NumPy")
            ax.plot(f["epoch"], f[f"{split} torch"], color=c_t, lw=1, ls="--", label=f"{split} PyTorch")
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("epoch")
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("accuracy")
    axes[0].legend(fontsize=7)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
