"""Weight initialisation as a PyTorch user writes it: ``torch.nn.init`` on a layer's ``weight``.

``nn.Linear.weight`` has shape (out, in), so ``torch.nn.init`` reads fan_in = in from its second
dimension and fan_out = out from its first; a ``Conv2d`` weight (out_channels, in_channels, kh, kw)
gives fan_in = in_channels·kh·kw and fan_out = out_channels·kh·kw. Each function initialises
``weight`` in place and returns it, drawing from ``generator`` (None: torch's global generator,
seeded with ``torch.manual_seed``).
"""

from __future__ import annotations

import math

import torch
from torch import nn

MODES = ("fan_in", "fan_out", "fan_avg")


def fans(weight: torch.Tensor) -> tuple[int, int]:
    """(fan_in, fan_out) exactly as ``torch.nn.init`` computes them for ``weight`` (its own helper,
    ``nn.init._calculate_fan_in_and_fan_out``): (size(1)·receptive field, size(0)·receptive field)."""
    return nn.init._calculate_fan_in_and_fan_out(weight)


def calculate_gain(nonlinearity: str, param=None) -> float:
    """``nn.init.calculate_gain``: 1 for linear and sigmoid, 5/3 for tanh, √2 for relu."""
    return nn.init.calculate_gain(nonlinearity, param)


def _fan(weight: torch.Tensor, mode: str) -> float:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {list(MODES)}, got {mode!r}")
    fan_in, fan_out = fans(weight)
    return {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]


def lecun_normal(weight: torch.Tensor, generator=None) -> torch.Tensor:
    """N(0, 1/fan_in), the book's "Xavier": ``kaiming_normal_`` with the gain of a linear layer, 1."""
    return nn.init.kaiming_normal_(weight, nonlinearity="linear", generator=generator)


def lecun_uniform(weight: torch.Tensor, generator=None) -> torch.Tensor:
    """U(−√(3/fan_in), √(3/fan_in)): ``kaiming_uniform_`` with gain 1."""
    return nn.init.kaiming_uniform_(weight, nonlinearity="linear", generator=generator)


def xavier_normal(weight: torch.Tensor, gain: float = 1.0, mode: str = "fan_avg", generator=None) -> torch.Tensor:
    """Glorot & Bengio's N(0, gain²·2/(fan_in + fan_out)) = N(0, gain²/fan_avg): ``xavier_normal_``.

    ``mode='fan_in'`` gives N(0, gain²/fan_in), the book's "Xavier" (LeCun's): ``kaiming_normal_``
    with the linear gain 1, scaled by ``gain``; ``mode='fan_out'`` N(0, gain²/fan_out)."""
    if mode == "fan_avg":
        return nn.init.xavier_normal_(weight, gain=gain, generator=generator)
    _fan(weight, mode)
    with torch.no_grad():
        return nn.init.kaiming_normal_(weight, mode=mode, nonlinearity="linear", generator=generator).mul_(gain)


def xavier_uniform(weight: torch.Tensor, gain: float = 1.0, mode: str = "fan_avg", generator=None) -> torch.Tensor:
    """U(±gain·√(6/(fan_in + fan_out))) = U(±gain·√(3/fan_avg)): ``xavier_uniform_``; other modes as
    in :func:`xavier_normal`."""
    if mode == "fan_avg":
        return nn.init.xavier_uniform_(weight, gain=gain, generator=generator)
    _fan(weight, mode)
    with torch.no_grad():
        return nn.init.kaiming_uniform_(weight, mode=mode, nonlinearity="linear", generator=generator).mul_(gain)


def he_normal(weight: torch.Tensor, mode: str = "fan_in", generator=None) -> torch.Tensor:
    """He/Kaiming N(0, 2/fan_in): the gain of ReLU, √2, makes up for the half of the inputs it zeroes.
    ``mode='fan_out'`` keeps the backward pass's variance instead: N(0, 2/fan_out)."""
    return nn.init.kaiming_normal_(weight, mode=mode, nonlinearity="relu", generator=generator)


def he_uniform(weight: torch.Tensor, mode: str = "fan_in", generator=None) -> torch.Tensor:
    """U(±√(6/fan_in)) (``mode='fan_out'``: U(±√(6/fan_out)))."""
    return nn.init.kaiming_uniform_(weight, mode=mode, nonlinearity="relu", generator=generator)


def linear_default(weight: torch.Tensor, generator=None) -> torch.Tensor:
    """What ``nn.Linear`` does by itself: ``kaiming_uniform_(a=√5)``, i.e. U(±1/√fan_in)."""
    return nn.init.kaiming_uniform_(weight, a=math.sqrt(5), generator=generator)


def linear_layer(n_in: int, n_out: int, dtype=torch.float64) -> nn.Linear:
    """A freshly made ``nn.Linear(n_in, n_out)``: weight and bias ~ U(±1/√n_in), from the global generator."""
    return nn.Linear(n_in, n_out, dtype=dtype)


INITIALIZERS = {"lecun_normal": lecun_normal, "lecun_uniform": lecun_uniform, "xavier_normal": xavier_normal,
                "xavier_uniform": xavier_uniform, "he_normal": he_normal, "he_uniform": he_uniform}


def distribution(name: str, weight: torch.Tensor, gain: float = 1.0, mode: str | None = None) -> tuple[str, float]:
    """(family, scale) that ``INITIALIZERS[name]`` draws ``weight`` from, from torch's own fans and
    gains: ('normal', std) or ('uniform', bound). The formulas of the ``torch.nn.init`` docs:
    std = gain/√fan, bound = √3·std."""
    if name not in INITIALIZERS:
        raise ValueError(f"name must be one of {list(INITIALIZERS)}, got {name!r}")
    kind, family = name.split("_")
    default_mode = "fan_avg" if kind == "xavier" else "fan_in"
    gain = {"lecun": 1.0, "he": calculate_gain("relu"), "xavier": gain}[kind]
    std = gain / math.sqrt(_fan(weight, mode or default_mode))
    return family, std if family == "normal" else math.sqrt(3.0) * std
