"""Weight initialisation as a PyTorch user writes it: ``torch.nn.init`` on a layer's ``weight``.

``nn.Linear.weight`` has shape (out, in), so ``torch.nn.init`` reads fan_in = in from its second
dimension and fan_out = out from its first. Each function initialises ``weight`` in place and
returns it, drawing from torch's global generator (seed it with ``torch.manual_seed``).
"""

from __future__ import annotations

import math

import torch
from torch import nn


def lecun_normal(weight: torch.Tensor) -> torch.Tensor:
    """N(0, 1/fan_in), the book's "Xavier": ``kaiming_normal_`` with the gain of a linear layer, 1."""
    return nn.init.kaiming_normal_(weight, nonlinearity="linear")


def lecun_uniform(weight: torch.Tensor) -> torch.Tensor:
    """U(−√(3/fan_in), √(3/fan_in)): ``kaiming_uniform_`` with gain 1."""
    return nn.init.kaiming_uniform_(weight, nonlinearity="linear")


def xavier_normal(weight: torch.Tensor, gain: float = 1.0) -> torch.Tensor:
    """Glorot & Bengio's N(0, gain²·2/(fan_in + fan_out))."""
    return nn.init.xavier_normal_(weight, gain=gain)


def xavier_uniform(weight: torch.Tensor, gain: float = 1.0) -> torch.Tensor:
    """U(±gain·√(6/(fan_in + fan_out)))."""
    return nn.init.xavier_uniform_(weight, gain=gain)


def he_normal(weight: torch.Tensor) -> torch.Tensor:
    """He/Kaiming N(0, 2/fan_in): the gain of ReLU, √2, makes up for the half of the inputs it zeroes."""
    return nn.init.kaiming_normal_(weight, nonlinearity="relu")


def he_uniform(weight: torch.Tensor) -> torch.Tensor:
    """U(±√(6/fan_in))."""
    return nn.init.kaiming_uniform_(weight, nonlinearity="relu")


def linear_default(weight: torch.Tensor) -> torch.Tensor:
    """What ``nn.Linear`` does by itself: ``kaiming_uniform_(a=√5)``, i.e. U(±1/√fan_in)."""
    return nn.init.kaiming_uniform_(weight, a=math.sqrt(5))
