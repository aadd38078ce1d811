"""Optimizers (최적화 기법) by hand: ``update(params, grads)`` changes ``params`` in place.

``params`` and ``grads`` are dicts of ndarrays with the same keys (``W1``, ``b1``, ...). Each
optimizer creates its state lazily, one entry per key, the first time it sees that key. The
learning rate is the attribute ``lr``, so a schedule can change it between updates.

Notation: p parameter, g gradient, η learning rate (``lr``), t the step count (1, 2, ...).
"""

from __future__ import annotations

import numpy as np

from ._checks import (as_float_array, check_callable, check_dict, check_flag, check_in_range, check_int,
                      check_parameter, check_real, check_same_shape, gradient_at, is_finite)


def _check_lr(lr):
    check_real(lr, "lr")
    if not is_finite(lr) or lr < 0:
        raise ValueError(f"Invalid learning rate: {lr} (lr must be a finite number >= 0)")


def _check_eps(eps):
    check_real(eps, "eps")
    if not is_finite(eps) or eps < 0:
        raise ValueError(f"Invalid epsilon value: {eps} (eps must be >= 0)")


class Optimizer:
    """Base class: validates the dicts and applies ``_step(key, p, g)`` to every parameter."""

    def __init__(self, lr: float):
        _check_lr(lr)
        self.lr = lr
        self.state: dict[str, dict] = {}

    def update(self, params: dict, grads: dict) -> None:
        """Update every entry of ``params`` in place from ``grads`` (same keys, same shapes)."""
        check_dict(params, "params")
        check_dict(grads, "grads")
        _check_lr(self.lr)  # a schedule may have set it since
        missing = set(params) - set(grads)
        if missing:
            raise KeyError(f"grads has no entry for {sorted(missing)}; it must have the keys of params")
        checked = {key: self._checked_grad(key, p, grads[key]) for key, p in params.items()}
        for key, p in params.items():
            self._step(self.state.setdefault(key, {}), p, checked[key])

    def _checked_grad(self, key, p, g):
        """Every pair is checked before any parameter moves, so a bad entry leaves all of them as they were."""
        name = f"params[{key!r}]"
        check_parameter(p, name)
        g = as_float_array(g, f"grads[{key!r}]")
        check_same_shape(p, g, name, f"grads[{key!r}]")
        for buffer in self.state.get(key, {}).values():
            if isinstance(buffer, np.ndarray) and buffer.shape != p.shape:
                raise ValueError(f"{name} has shape {p.shape}, but the optimizer's state for {key!r} has shape "
                                 f"{buffer.shape}: a parameter keeps its shape (use a new optimizer for a new one)")
        return g

    def _step(self, state: dict, p: np.ndarray, g: np.ndarray) -> None:  # pragma: no cover
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent (확률적 경사하강법): p ← p − η·g."""

    def _step(self, state, p, g):
        p -= self.lr * g


class Momentum(Optimizer):
    """Momentum (모멘텀), the textbook form (the book, CS231n):

        v ← μ·v − η·g        p ← p + v          (v starts at 0)

    v is a velocity: the gradient accelerates it, μ (like friction) slows it. PyTorch keeps a
    buffer without the learning rate instead, b ← μ·b + g, p ← p − η·b (``SGD(momentum=μ)``).
    The two are the same while η is constant, with v = −η·b; once η changes (a schedule), v still
    carries the old η in it and they part.
    """

    def __init__(self, lr: float, momentum: float = 0.9):
        super().__init__(lr)
        check_in_range(momentum, "momentum", 0.0, 1.0)
        self.momentum = momentum

    def _step(self, state, p, g):
        v = state.setdefault("v", np.zeros_like(p))
        v *= self.momentum
        v -= self.lr * g
        p += v


class Nesterov(Optimizer):
    """Nesterov accelerated gradient (NAG), in the form that fits ``update(params, grads)``.

    The look-ahead form (CS231n, the study notes) takes the gradient at the point the momentum is about
    to carry θ to:   v ← μ·v − η·∇f(θ + μ·v),   θ ← θ + v.
    Storing φ = θ + μ·v instead of θ turns it into an update that needs the gradient at the stored
    parameters only (g = ∇f(φ)):

        φ ← φ + μ²·v − (1 + μ)·η·g        v ← μ·v − η·g         (v from before this step on the right)

    which is PyTorch's ``SGD(momentum=μ, nesterov=True)``: b ← μ·b + g, p ← p − η·(g + μ·b), with
    v = −η·b. (Updating v *before* using it in the φ step, as some copies of the book's code do,
    is a different and wrong rule.)
    """

    def __init__(self, lr: float, momentum: float = 0.9):
        super().__init__(lr)
        check_in_range(momentum, "momentum", 0.0, 1.0)
        self.momentum = momentum

    def _step(self, state, p, g):
        mu = self.momentum
        v = state.setdefault("v", np.zeros_like(p))
        p += mu * mu * v - (1 + mu) * self.lr * g
        v *= mu
        v -= self.lr * g


def nesterov_lookahead(grad_f, theta0, lr: float, momentum: float, steps: int):
    """The look-ahead form, as the study notes write it, for a function whose gradient we can evaluate
    anywhere: returns the arrays θ and v after every step (shape (steps + 1, *θ.shape))."""
    check_callable(grad_f, "grad_f")
    _check_lr(lr)
    check_in_range(momentum, "momentum", 0.0, 1.0)
    steps = check_int(steps, "steps", minimum=0)
    theta = as_float_array(theta0, "theta0").copy()
    v = np.zeros_like(theta)
    thetas, vs = [theta.copy()], [v.copy()]
    for _ in range(steps):
        ahead = theta + momentum * v
        v = momentum * v - lr * gradient_at(grad_f, ahead)
        theta = theta + v
        thetas.append(theta.copy())
        vs.append(v.copy())
    return np.array(thetas), np.array(vs)


class AdaGrad(Optimizer):
    """AdaGrad: a learning rate per element that shrinks where the gradient has been large.

        h ← h + g ⊙ g        p ← p − η · g / (√h + ε)

    ε outside the square root, as PyTorch's ``Adagrad`` (default ε = 1e-10); the book uses 1e-7.
    h only grows, so the steps shrink towards 0 over a long run.
    """

    def __init__(self, lr: float = 0.01, eps: float = 1e-10):
        super().__init__(lr)
        _check_eps(eps)
        self.eps = eps

    def _step(self, state, p, g):
        h = state.setdefault("h", np.zeros_like(p))
        h += g * g
        p -= self.lr * g / (np.sqrt(h) + self.eps)


class RMSProp(Optimizer):
    """RMSProp: AdaGrad with an exponential moving average (지수이동평균) instead of a sum.

        h ← ρ·h + (1 − ρ)·g ⊙ g        p ← p − η · g / (√h + ε)

    PyTorch's ``RMSprop`` calls ρ ``alpha`` (default 0.99) and puts ε outside the root (1e-8).
    """

    def __init__(self, lr: float = 0.01, decay_rate: float = 0.99, eps: float = 1e-8):
        super().__init__(lr)
        check_in_range(decay_rate, "decay_rate", 0.0, 1.0, high_inclusive=True)
        _check_eps(eps)
        self.decay_rate, self.eps = decay_rate, eps

    def _step(self, state, p, g):
        h = state.setdefault("h", np.zeros_like(p))
        h *= self.decay_rate
        h += (1 - self.decay_rate) * g * g
        p -= self.lr * g / (np.sqrt(h) + self.eps)


class Adam(Optimizer):
    """Adam: momentum on g and an RMSProp-style average of g², both bias-corrected.

        m ← β₁·m + (1 − β₁)·g            v ← β₂·v + (1 − β₂)·g ⊙ g
        m̂ = m / (1 − β₁ᵗ)                 v̂ = v / (1 − β₂ᵗ)
        p ← p − η · m̂ / (√v̂ + ε)

    m and v start at 0, so early on they are biased towards 0; dividing by 1 − βᵗ removes that.
    ``bias_correction=False`` gives the study notes' form p ← p − η·m / (√v + ε); its first step is
    η·(1 − β₁)/√(1 − β₂) ≈ 3.16·η per element (defaults, |g| ≫ ε) instead of η. The code below mirrors PyTorch's evaluation order (m by interpolation,
    ε added after the division by √(1 − β₂ᵗ)) so the two agree to rounding.
    """

    def __init__(self, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
                 bias_correction: bool = True):
        super().__init__(lr)
        check_in_range(beta1, "beta1", 0.0, 1.0)
        check_in_range(beta2, "beta2", 0.0, 1.0)
        _check_eps(eps)
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.bias_correction = check_flag(bias_correction, "bias_correction")

    def _moments(self, state, p, g):
        m = state.setdefault("m", np.zeros_like(p))
        v = state.setdefault("v", np.zeros_like(p))
        state["t"] = t = state.get("t", 0) + 1
        m += (1 - self.beta1) * (g - m)
        v *= self.beta2
        v += (1 - self.beta2) * g * g
        return m, v, t

    def _step(self, state, p, g):
        m, v, t = self._moments(state, p, g)
        if self.bias_correction:
            step_size = self.lr / (1 - self.beta1**t)
            denom = np.sqrt(v) / np.sqrt(1 - self.beta2**t) + self.eps
        else:
            step_size, denom = self.lr, np.sqrt(v) + self.eps
        p -= step_size * (m / denom)


class AdamFolded(Adam):
    """The book's Adam: the bias correction folded into the step size,

        η_t = η · √(1 − β₂ᵗ) / (1 − β₁ᵗ)        p ← p − η_t · m / (√v + ε).

    Multiplying out, this is PyTorch's Adam with ε replaced by ε/√(1 − β₂ᵗ): ε now acts on the
    *uncorrected* √v, which makes it about 31.6 times larger in step 1 (β₂ = 0.999) and equal to
    PyTorch's only as t → ∞. The two forms differ most in the first steps and wherever √v is
    comparable to ε.
    """

    def _step(self, state, p, g):
        m, v, t = self._moments(state, p, g)
        lr_t = self.lr * np.sqrt(1 - self.beta2**t) / (1 - self.beta1**t)
        p -= lr_t * m / (np.sqrt(v) + self.eps)


class AdamW(Adam):
    """AdamW: Adam with decoupled weight decay (Loshchilov & Hutter), PyTorch's order:

        p ← p · (1 − η·λ)        then the Adam step.

    The decay shrinks the weights directly instead of passing through the gradient (which Adam
    would rescale per element), and it is multiplied by the current η, so a schedule changes it.
    """

    def __init__(self, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
                 weight_decay: float = 0.01):
        super().__init__(lr, beta1, beta2, eps, bias_correction=True)
        check_real(weight_decay, "weight_decay")
        if not is_finite(weight_decay) or weight_decay < 0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay} (must be >= 0)")
        self.weight_decay = weight_decay

    def _step(self, state, p, g):
        p *= 1 - self.lr * self.weight_decay
        super()._step(state, p, g)
