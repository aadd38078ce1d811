"""Plot helpers shared by the concepts: both sides overlaid, NumPy as a solid line and PyTorch as
hollow markers on it, so that where the two coincide exactly both stay visible."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

NUMPY_STYLE = {"color": "tab:blue", "lw": 2.2, "label": "NumPy (scratch)"}
TORCH_STYLE = {"color": "tab:orange", "lw": 1.4, "ls": "--", "label": "PyTorch (torch_ref)"}
# PyTorch's values as hollow markers: on top of NumPy's line they show both where the two coincide
TORCH_MARKERS = {"ls": "none", "marker": "o", "ms": 4.5, "mfc": "none", "mew": 1.1}
MARKERS_PER_CURVE = 24


def markevery(n: int) -> int:
    """Every how many points to draw a marker, so that a curve carries about 24 of them."""
    return max(1, n // MARKERS_PER_CURVE)


def torch_points(ax, x, y, color="tab:orange", label="PyTorch (torch_ref)", **kw):
    """PyTorch's curve as hollow markers (about 24 of them) over NumPy's line."""
    return ax.plot(x, y, color=color, label=label, markevery=markevery(len(x)), **{**TORCH_MARKERS, **kw})


def grid(n: int, cols: int, size=(3.2, 2.6)):
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(size[0] * cols, size[1] * rows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:n])


def overlay(ax, x, y_numpy, y_torch, title=None, xlabel=None, ylabel=None, color=None, label=None):
    """Draw the NumPy curve as a line and the PyTorch curve as hollow markers on it, on ``ax``."""
    numpy_style = {**NUMPY_STYLE, **({"color": color} if color else {})}
    if label:
        numpy_style["label"] = f"{label} (NumPy)"
    ax.plot(x, y_numpy, **numpy_style)
    torch_points(ax, x, y_torch, **({"color": color} if color else {}),
                 **({"label": f"{label} (PyTorch)"} if label else {}))
    if title:
        ax.set_title(title, fontsize=10)
    if xlabel:
        ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    return ax


def accuracy_panels(curves: dict, title: str | None = None):
    """One panel per variant: train and test accuracy per epoch, NumPy as lines, PyTorch as markers.
    ``curves`` maps a variant's name to a frame with epoch, train/test NumPy/torch columns."""
    cols = min(len(curves), 3)
    fig, axes = grid(len(curves), cols, size=(4.3, 3.2))
    for ax, (name, f) in zip(axes, curves.items()):
        for split, color in (("train", "tab:blue"), ("test", "tab:green")):
            ax.plot(f["epoch"], f[f"{split} NumPy"], color=color, lw=2, label=f"{split} (NumPy)")
            torch_points(ax, f["epoch"], f[f"{split} torch"], color="tab:orange" if split == "train" else "tab:red",
                         label=f"{split} (PyTorch)")
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("epoch")
        ax.set_ylabel("accuracy")
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def accuracy_and_loss(frame, losses_np, losses_t, title: str):
    """Left: train and test accuracy per epoch (``frame`` with epoch, train/test NumPy/torch
    columns), NumPy circles and lines, PyTorch crosses. Right: the training loss at every step."""
    fig, axes = grid(2, 2, size=(5, 3.6))
    ax = axes[0]
    for split, color in (("train", "tab:blue"), ("test", "tab:green")):
        ax.plot(frame["epoch"], frame[f"{split} NumPy"], "o-", color=color, lw=2, ms=4, label=f"{split} (NumPy)")
        ax.plot(frame["epoch"], frame[f"{split} torch"], "x--", color="tab:orange" if split == "train" else "tab:red",
                lw=1, ms=6, label=f"{split} (PyTorch)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy")
    ax.set_title(title)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    overlay(axes[1], list(range(1, len(losses_np) + 1)), losses_np, losses_t, title="training loss per step",
            xlabel="step", ylabel="loss")
    axes[1].set_yscale("log")
    fig.tight_layout()
    return fig


PANEL_PAD_PX = 6  # the margin kept around a panel's own labels
PANEL_WIDTH_PX = 360  # a small panel is saved at a higher resolution, so that a phone shows it this wide


def panels(fig) -> list:
    """The panels of a figure: its visible Axes, without colorbars (a colorbar goes with the panel
    it belongs to)."""
    return [ax for ax in fig.axes if ax.get_visible() and getattr(ax, "_colorbar", None) is None
            and ax.get_label() != "<colorbar>"]


def save_panels(fig, stem, dpi: int = 90, max_dpi: int = 180) -> list:
    """Save every panel of a multi-panel figure as a file of its own, ``<stem>.panel-<k>.png``
    (k = 1, 2, … in the figure's order of Axes), cropped to the panel with its own title, labels,
    ticks, legend and colorbar, the other panels hidden: a phone shows them one below the other,
    large enough to read: a panel narrower than ``PANEL_WIDTH_PX`` at ``dpi`` is saved at a higher
    resolution (up to ``max_dpi``), so its labels grow with it. Nothing is saved for a figure of one
    panel; the saved paths are returned."""
    from pathlib import Path

    from matplotlib.transforms import Bbox

    shown = panels(fig)
    if len(shown) < 2:
        return []
    colorbars = [ax for ax in fig.axes if getattr(ax, "_colorbar", None) is not None]
    owner = {cb: getattr(cb._colorbar.mappable, "axes", None) for cb in colorbars}
    texts = [t for t in (getattr(fig, "_suptitle", None), getattr(fig, "_supxlabel", None),
                         getattr(fig, "_supylabel", None)) if t is not None] + list(fig.legends)
    visible = {artist: artist.get_visible() for artist in [*fig.axes, *texts]}
    renderer = fig.canvas.get_renderer()
    saved = []
    try:
        for artist in texts:
            artist.set_visible(False)
        for k, ax in enumerate(shown, 1):
            mine = [ax] + [cb for cb, parent in owner.items() if parent is ax]
            for other in fig.axes:
                other.set_visible(other in mine)
            box = Bbox.union([a.get_tightbbox(renderer) for a in mine]).transformed(fig.dpi_scale_trans.inverted())
            path = Path(f"{stem}.panel-{k}.png")
            sharper = min(max(dpi, PANEL_WIDTH_PX / max(box.width, 1e-3)), max_dpi)
            fig.savefig(path, dpi=sharper, bbox_inches=box.padded(PANEL_PAD_PX / dpi), metadata={"Software": None})
            saved.append(path)
    finally:
        for artist, was in visible.items():
            artist.set_visible(was)
    return saved


def loss_per_step(frame, ylabel: str = "cross-entropy per character"):
    """NumPy's and torch's loss at every step of a run, overlaid (the frame's columns ``step``,
    ``loss NumPy``, ``loss torch``)."""
    fig, ax = grid(1, 1, size=(6.0, 3.4))
    overlay(ax[0], frame["step"], frame["loss NumPy"], frame["loss torch"], xlabel="step", ylabel=ylabel)
    ax[0].legend(fontsize=7)
    return fig
