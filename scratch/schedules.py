"""Learning-rate schedules (학습률 감소): the learning rate as a function of the epoch t = 0, 1, 2, ...

Each schedule is a callable ``schedule(t) -> lr``. A training loop sets ``optimizer.lr =
schedule(epoch)`` at the start of every epoch; the first epoch uses η₀.
"""

from __future__ import annotations

import math

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


class WarmupCosine:
    """Linear warm-up, then cosine decay (the usual schedule of transformer training), per step t = 0, 1, …:

        t < W:        η_t = η₀ · (t + 1)/W                                   (η₀/W, 2η₀/W, …, η₀)
        W ≤ t ≤ T:    η_t = η_min + (η₀ − η_min) · ½(1 + cos(π (t − W)/(T − W)))
        t > T:        η_t = η_min

    W = ``warmup_steps``, T = ``total_steps``, η_min = ``min_lr``. The warm-up reaches η₀ at
    t = W − 1 and the cosine starts from η₀ at t = W. A large learning rate on the first steps,
    while Adam's second-moment estimate rests on a few gradients, can throw the weights far off;
    the warm-up avoids it (post-LN transformers need it most). PyTorch: ``LambdaLR`` with this
    factor, or ``SequentialLR(LinearLR(start_factor=1/W, total_iters=W−1), CosineAnnealingLR(T_max=T−W,
    eta_min=η_min), milestones=[W])``, whose cosine does not stop at T but rises again.
    """

    def __init__(self, lr0: float, warmup_steps: int, total_steps: int, min_lr: float = 0.0):
        _check(lr0, "min_lr", min_lr)
        warmup_steps = check_int(warmup_steps, "warmup_steps", minimum=0)
        total_steps = check_int(total_steps, "total_steps", minimum=1)
        if total_steps <= warmup_steps:
            raise ValueError(f"total_steps must be larger than warmup_steps, got total_steps={total_steps} and "
                             f"warmup_steps={warmup_steps}")
        if min_lr > lr0:
            raise ValueError(f"min_lr must be at most lr0 (the cosine decays from lr0 to min_lr), got min_lr={min_lr} "
                             f"and lr0={lr0}")
        self.lr0, self.warmup_steps, self.total_steps, self.min_lr = lr0, warmup_steps, total_steps, min_lr

    def __call__(self, t: int) -> float:
        t = _epoch(t)
        W, T = self.warmup_steps, self.total_steps
        if t < W:
            return self.lr0 * (t + 1) / W
        if t > T:
            return self.min_lr
        return self.min_lr + (self.lr0 - self.min_lr) * 0.5 * (1.0 + math.cos(math.pi * (t - W) / (T - W)))
