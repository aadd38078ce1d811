"""Weight initialisation (가중치 초기화) for a weight W of shape (fan_in, fan_out) = (in, out), or a
convolution's filters (out_channels, in_channels, kh, kw) (the book's ``Convolution`` W, torch's
layout too): there fan_in = in_channels·kh·kw and fan_out = out_channels·kh·kw (:func:`fans`).

The book keeps W as (in, out) for ``x @ W``; ``torch.nn.init`` sees ``nn.Linear.weight`` as
(out, in) and computes fan_in = in, fan_out = out from it. With those fans the two agree:

| initialiser | distribution | torch.nn.init |
|---|---|---|
| normal(std) | N(0, std²) | ``normal_(w, 0, std)`` |
| LeCun normal | N(0, 1/fan_in) (the book calls this "Xavier") | ``kaiming_normal_(w, nonlinearity='linear')`` |
| LeCun uniform | U(−√(3/fan_in), √(3/fan_in)) | ``kaiming_uniform_(w, nonlinearity='linear')`` |
| Xavier/Glorot normal | N(0, gain²·2/(fan_in + fan_out)) | ``xavier_normal_(w, gain)`` |
| Xavier/Glorot uniform | U(±gain·√(6/(fan_in + fan_out))) | ``xavier_uniform_(w, gain)`` |
| He/Kaiming normal | N(0, 2/fan_in) | ``kaiming_normal_(w, nonlinearity='relu')`` |
| He/Kaiming uniform | U(±√(6/fan_in)) | ``kaiming_uniform_(w, nonlinearity='relu')`` |
| torch's ``nn.Linear`` default | U(±1/√fan_in) for W and b | ``kaiming_uniform_(w, a=√5)`` |

Every function takes a ``numpy.random.Generator`` so the same seed gives the same weights.
"""

from __future__ import annotations

import numpy as np

from ._checks import check_int, check_positive, check_real, check_rng


def _shape(shape) -> tuple:
    """A weight shape: (in, out), or (out_channels, in_channels, kh, kw); every entry an integer >= 1."""
    if not isinstance(shape, (tuple, list, np.ndarray)):
        raise TypeError(f"shape must be a tuple (fan_in, fan_out), got {type(shape).__name__}")
    if len(shape) not in (2, 4):
        raise ValueError(f"shape must be (fan_in, fan_out) or (out_channels, in_channels, kh, kw), with every "
                         f"entry >= 1, got {tuple(shape)}")
    names = ("shape[0] (fan_in)", "shape[1] (fan_out)") if len(shape) == 2 else \
        ("shape[0] (out_channels)", "shape[1] (in_channels)", "shape[2] (kh)", "shape[3] (kw)")
    return tuple(check_int(n, name, minimum=1) for n, name in zip(shape, names))


def fans(shape) -> tuple[int, int]:
    """(fan_in, fan_out): the number of inputs and of outputs each weight takes part in.

    For the book's W (in, out): (in, out). For filters (out_channels, in_channels, kh, kw): each
    output sees in_channels·kh·kw inputs and each input reaches out_channels·kh·kw outputs, so
    (in_channels·kh·kw, out_channels·kh·kw). torch reads a Linear weight (out, in) the other way
    round; its filters have this very layout."""
    shape = _shape(shape)
    if len(shape) == 2:
        return shape
    out_channels, in_channels, kh, kw = shape
    return in_channels * kh * kw, out_channels * kh * kw


def _check_gain(gain):
    """The gain scales the standard deviation, so it is >= 0 (torch fails later, on ``std``)."""
    check_positive(gain, "gain", allow_zero=True)


def zeros(shape):
    """All zeros. Every hidden unit then computes the same thing and gets the same update: the
    symmetry is never broken, so a layer of n units learns like one unit."""
    return np.zeros(_shape(shape))


def constant(shape, value: float):
    """All equal to ``value``: as symmetric as zeros."""
    check_real(value, "value")
    return np.full(_shape(shape), float(value))


def normal(rng, shape, std: float):
    """N(0, std²). The book's std = 0.01 keeps sigmoid activations near 0.5 (they vanish); std = 1
    saturates them at 0 and 1."""
    check_rng(rng)
    shape = _shape(shape)
    check_positive(std, "std", allow_zero=True)
    return rng.normal(0.0, std, size=shape)


def uniform(rng, shape, bound: float):
    """U(−bound, bound)."""
    check_rng(rng)
    shape = _shape(shape)
    check_positive(bound, "bound", allow_zero=True)
    _check_width(bound, "bound")
    return rng.uniform(-bound, bound, size=shape)


def _check_width(bound, name: str, formula: str = "bound") -> None:
    """The width 2·bound of U(−bound, bound) must be a finite float, as torch's ``uniform_``
    requires (NumPy's would raise an OverflowError)."""
    if 2.0 * float(bound) > np.finfo(np.float64).max:
        raise ValueError(f"{name} is too large: the width of U(−{formula}, {formula}), 2·{bound:g}, is not a finite "
                         "number")


def lecun_normal(rng, shape):
    """N(0, 1/fan_in): keeps the variance of a linear layer's output equal to its input's."""
    fan_in, _ = fans(shape)
    return normal(rng, shape, np.sqrt(1.0 / fan_in))


def lecun_uniform(rng, shape):
    """U(±√(3/fan_in)), the uniform with variance 1/fan_in."""
    fan_in, _ = fans(shape)
    return uniform(rng, shape, np.sqrt(3.0 / fan_in))


def xavier_normal(rng, shape, gain: float = 1.0):
    """Glorot & Bengio: N(0, gain²·2/(fan_in + fan_out)), a compromise between keeping the forward
    (fan_in) and the backward (fan_out) variance. gain 5/3 for tanh (``calculate_gain('tanh')``)."""
    fan_in, fan_out = fans(shape)
    _check_gain(gain)
    return normal(rng, shape, gain * np.sqrt(2.0 / (fan_in + fan_out)))


def xavier_uniform(rng, shape, gain: float = 1.0):
    """U(±gain·√(6/(fan_in + fan_out)))."""
    fan_in, fan_out = fans(shape)
    _check_gain(gain)
    bound = gain * np.sqrt(6.0 / (fan_in + fan_out))
    _check_width(bound, "gain", "gain·√(6/(fan_in + fan_out))")
    return uniform(rng, shape, bound)


def he_normal(rng, shape):
    """He/Kaiming: N(0, 2/fan_in). ReLU zeroes half of its inputs, halving the variance; the 2
    makes up for it, so activations keep their spread through deep ReLU networks."""
    fan_in, _ = fans(shape)
    return normal(rng, shape, np.sqrt(2.0 / fan_in))


def he_uniform(rng, shape):
    """U(±√(6/fan_in)), the uniform with variance 2/fan_in."""
    fan_in, _ = fans(shape)
    return uniform(rng, shape, np.sqrt(6.0 / fan_in))


def torch_linear_default(rng, shape):
    """PyTorch's default for ``nn.Linear``: W and b ~ U(±1/√fan_in) (``kaiming_uniform_(a=√5)``:
    gain √(2/(1 + 5)) = √(1/3), bound gain·√(3/fan_in) = 1/√fan_in). Returns (W, b)."""
    check_rng(rng)
    if len(_shape(shape)) != 2:
        raise ValueError(f"shape must be nn.Linear's (fan_in, fan_out), got {tuple(shape)}")
    fan_in, fan_out = fans(shape)
    bound = 1.0 / np.sqrt(fan_in)
    return uniform(rng, shape, bound), rng.uniform(-bound, bound, size=fan_out)


INITIALIZERS = {
    "lecun_normal": lecun_normal, "lecun_uniform": lecun_uniform,
    "xavier_normal": xavier_normal, "xavier_uniform": xavier_uniform,
    "he_normal": he_normal, "he_uniform": he_uniform,
}
