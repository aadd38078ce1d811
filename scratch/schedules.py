"""Learning-rate schedules (학습률 감소): the learning rate as a function of the epoch t = 0, 1, 2, ...

Each schedule is a callable ``schedule(t) -> lr``. A training loop sets ``optimizer.lr =
schedule(epoch)`` at the start of every epoch; the first epoch uses η₀.
"""

from __future__ import annotations

import math

import numpy as np

from ._checks import check_int, check_positive, check_real, is_finite


def _check(lr0, name, value):
    check_real(lr0, "lr0")
    if not is_finite(lr0) or lr0 < 0:
        raise ValueError(f"Invalid initial learning rate: lr0={lr0} (must be a finite number >= 0)")
    check_positive(value, name, allow_zero=True)


def _epoch(t):
    """The epoch t = 0, 1, 2, …, checked and returned as given."""
    check_int(t, "t", minimum=0)
    return t


class StepDecay:
    """Step decay: η_t = η₀ · γ^⌊t / step_size⌋ — e.g. halve every 5 epochs, ×0.1 every 20."""

    def __init__(self, lr0: float, step_size: int, gamma: float):
        _check(lr0, "gamma", gamma)
        step_size = check_int(step_size, "step_size", minimum=1)
        self.lr0, self.step_size, self.gamma = lr0, step_size, gamma

    def __call__(self, t: int) -> float:
        return self.lr0 * self.gamma ** (_epoch(t) // self.step_size)


class ExponentialDecay:
    """Exponential decay: η_t = η₀ · e^(−k·t)."""

    def __init__(self, lr0: float, k: float):
        _check(lr0, "k", k)
        self.lr0, self.k = lr0, k

    def __call__(self, t: int) -> float:
        return self.lr0 * math.exp(-self.k * _epoch(t))


class InverseTimeDecay:
    """1/t decay: η_t = η₀ / (1 + k·t)."""

    def __init__(self, lr0: float, k: float):
        _check(lr0, "k", k)
        self.lr0, self.k = lr0, k

    def __call__(self, t: int) -> float:
        return self.lr0 / (1 + self.k * _epoch(t))
