"""Layers over whole sequences (N, T, …) by hand: dropout at every time step, softmax-with-loss
that skips padding (the book's ``ignore_label`` −1, PyTorch's ``ignore_index``) and CS231n's
masked ``temporal_softmax_loss``. The time-distributed affine layer is
:class:`scratch.sequence_models.TimeLinear`.

**Two ways to average a masked sequence loss.** With ℓₙₜ = −log softmax(xₙₜ)[tₙₜ] and a mask mₙₜ
(1 where a real word is, 0 at padding):

    the book, nn.CrossEntropyLoss(ignore_index):   L = Σ mₙₜ ℓₙₜ / Σ mₙₜ      (mean over the real words)
    CS231n's temporal_softmax_loss:                L = Σ mₙₜ ℓₙₜ / N          (sum over time, mean over the batch)

so CS231n's loss is (Σ m / N) times the book's: T times it when nothing is masked.
"""

from __future__ import annotations

import numpy as np

from ._checks import as_dout, as_float_array, check_int, check_ndim, check_shape
from .layers import Dropout, Layer


def _log_softmax(x):
    """log softmax over the last axis, shifted by the max so that nothing overflows."""
    shifted = x - np.max(x, axis=-1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))


def _softmax_minus_onehot(log_p, t):
    """softmax(x) − onehot(t), the gradient of −log softmax(x)[t], from log_p = log softmax(x)."""
    d = np.exp(log_p)
    np.put_along_axis(d, t[..., None], np.take_along_axis(d, t[..., None], axis=-1) - 1.0, axis=-1)
    return d


def _labels(t, x_shape, name: str) -> np.ndarray:
    """Integer labels of shape (N, T), the first two axes of the scores x (N, T, V), or one-hot rows
    (N, T, V) turned into labels. A mismatch names both: either one may be the one that is wrong."""
    t, shape = np.asarray(t), tuple(x_shape[:2])
    if t.ndim == len(shape) + 1:
        if t.shape != tuple(x_shape):
            raise ValueError(f"{name} must be labels of shape {shape} or one-hot rows of x's shape {tuple(x_shape)}, "
                             f"got {name}{t.shape}")
        t = t.argmax(axis=-1)
    if t.dtype.kind == "f" and np.all(t == np.round(t)):
        t = t.astype(np.int64)
    if t.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integer labels, got dtype {t.dtype}")
    check_shape(t, shape, name, f" (N, T): one label per position of the scores x{tuple(x_shape)}")
    return t.astype(np.int64)


class TimeDropout(Dropout):
    """Inverted dropout over a whole sequence (the book's ``TimeDropout``): every element of
    x (N, T, D) is kept with probability 1 − p and scaled by 1/(1 − p) in training, passed
    unchanged in evaluation — :class:`scratch.layers.Dropout` on a 3-D input, one mask entry per
    element (a new mask at every time step; the "variational" dropout that reuses one mask for all
    t is another layer). The book switches modes with the attribute ``train_flg``: here it is an
    alias of ``training``. ``set_mask`` gives the mask for an exact comparison."""

    @property
    def train_flg(self) -> bool:
        return self.training

    @train_flg.setter
    def train_flg(self, value: bool):
        self.training = bool(value)

    def forward(self, x):
        x = as_float_array(x, "x")
        check_ndim(x, 3, "x", "(N, T, D)")
        return super().forward(x)


class TimeSoftmaxWithLoss(Layer):
    """Softmax-with-loss at every time step, averaged over the positions whose label is not
    ``ignore_label`` (the book's ``TimeSoftmaxWithLoss``; ``nn.CrossEntropyLoss(ignore_index=−1)``):

        L = −Σ_{n,t: tₙₜ ≠ ignore} log softmax(xₙₜ)[tₙₜ] / #{n,t: tₙₜ ≠ ignore}

    backward(dout=1): dx = dout·(softmax(x) − onehot(t))·m / Σm, zero at the ignored positions.
    x (N, T, V); t (N, T) labels (or one-hot (N, T, V)). When every label is ignored the loss is
    0/0 = nan, as PyTorch's. ``ignore_label=None`` ignores no label (every label must lie in
    [0, V), as ``nn.CrossEntropyLoss()``'s at its default): the mean over all N·T positions, the
    loss of this project's sequence models."""

    def __init__(self, ignore_label: int | None = -1):
        super().__init__()
        self.ignore_label = None if ignore_label is None else check_int(ignore_label, "ignore_label")
        self._cache = None

    def forward(self, x, t):
        x = as_float_array(x, "x")
        check_ndim(x, 3, "x", "(N, T, V)")
        if x.shape[2] == 0:
            raise ValueError(f"x must have at least one class (V >= 1), got x{x.shape}")
        t = _labels(t, x.shape, "t")
        mask = t != self.ignore_label if self.ignore_label is not None else np.ones(t.shape, dtype=bool)
        if np.any((t[mask] < 0) | (t[mask] >= x.shape[2])):
            ignored = "" if self.ignore_label is None else f" or ignore_label={self.ignore_label}"
            raise ValueError(f"t must hold labels in [0, {x.shape[2]}){ignored}")
        safe = np.where(mask, t, 0)  # any class at an ignored position: it is masked out
        log_p = _log_softmax(x)
        picked = np.take_along_axis(log_p, safe[..., None], axis=-1)[..., 0]
        count = x.dtype.type(mask.sum())  # in x's dtype: an integer count would promote float32 to float64
        with np.errstate(invalid="ignore"):
            self.loss = -np.sum(picked * mask) / count
        self._cache = (_softmax_minus_onehot(log_p, safe), mask, count)
        return self.loss

    def backward(self, dout=1.0):
        self._need_forward(self._cache)
        dx, mask, count = self._cache
        as_dout(dout, ())
        with np.errstate(invalid="ignore"):
            return dout * dx * mask[..., None] / count


def temporal_softmax_loss(x, y, mask):
    """CS231n's ``temporal_softmax_loss``: softmax-with-loss at every time step, the masked
    positions skipped, **summed over time and averaged over the batch only**:

        L = −(1/N) Σ_{n,t} mₙₜ·log softmax(xₙₜ)[yₙₜ],     dx = mₙₜ·(softmax(xₙₜ) − onehot(yₙₜ))/N

    x (N, T, V) scores, y (N, T) labels in [0, V), mask (N, T) booleans. Returns (loss, dx).
    It is (Σm / N) times :class:`TimeSoftmaxWithLoss`'s mean (see the module's note)."""
    x = as_float_array(x, "x")
    check_ndim(x, 3, "x", "(N, T, V)")
    y = _labels(y, x.shape, "y")
    if np.any((y < 0) | (y >= x.shape[2])):
        raise ValueError(f"y must hold labels in [0, {x.shape[2]})")
    mask = as_float_array(mask, "mask")
    check_shape(mask, x.shape[:2], "mask", " (N, T)")
    m = mask.astype(x.dtype)
    log_p = _log_softmax(x)
    N = x.shape[0]
    loss = -np.sum(m * np.take_along_axis(log_p, y[..., None], axis=-1)[..., 0]) / N
    return loss, _softmax_minus_onehot(log_p, y) * m[..., None] / N
