"""Learning-rate schedules (학습률 감소): the learning rate as a function of the epoch t = 0, 1, 2, ...

Each schedule is a callable ``schedule(t) -> lr``. A training loop sets ``optimizer.lr =
schedule(epoch)`` at the start of every epoch; the first epoch uses η₀.
"""

from __future__ import annotations

import math

import numpy as np


def _check(lr0, name, value, low=0.0):
    if not np.isfinite(lr0) or lr0 < 0:
        raise ValueError(f"Invalid initial learning rate: {lr0} (must be >= 0)")
    if not np.isfinite(value) or value < low:
        raise ValueError(f"{name} must be a finite number >= {low}, got {value}")


class StepDecay:
    """Step decay: η_t = η₀ · γ^⌊t / step_size⌋ — e.g. halve every 5 epochs, ×0.1 every 20."""

    def __init__(self, lr0: float, step_size: int, gamma: float):
        _check(lr0, "gamma", gamma)
        if int(step_size) != step_size or step_size < 1:
            raise ValueError(f"step_size must be an integer >= 1, got {step_size}")
        self.lr0, self.step_size, self.gamma = lr0, int(step_size), gamma

    def __call__(self, t: int) -> float:
        return self.lr0 * self.gamma ** (t // self.step_size)


class ExponentialDecay:
    """Exponential decay: η_t = η₀ · e^(−k·t)."""

    def __init__(self, lr0: float, k: float):
        _check(lr0, "k", k)
        self.lr0, self.k = lr0, k

    def __call__(self, t: int) -> float:
        return self.lr0 * math.exp(-self.k * t)


class InverseTimeDecay:
    """1/t decay: η_t = η₀ / (1 + k·t)."""

    def __init__(self, lr0: float, k: float):
        _check(lr0, "k", k)
        self.lr0, self.k = lr0, k

    def __call__(self, t: int) -> float:
        return self.lr0 / (1 + self.k * t)
