"""Mistakes planted in textbook forms that no catalogue holds, each one line away from the right
form: the pair tests show the pair's check tells them apart (cheap), the concept tests that they
fail the relation a concept states (a whole run each)."""

import numpy as np

import scratch
import scratch.optim as O
from scratch import layers, schedules


# --- Adam, the book's folded form: η_t = η·√(1 − β₂ᵗ)/(1 − β₁ᵗ), p ← p − η_t·m/(√v + ε) ----------------

class BookAdam:
    """The book's Adam written out (common/optimizer.py); the two methods are where mistakes go."""

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.t, self.m, self.v = 0, {}, {}

    def step_size(self, t):
        return self.lr * np.sqrt(1.0 - self.beta2**t) / (1.0 - self.beta1**t)

    def direction(self, m, v):
        return m / (np.sqrt(v) + self.eps)

    def update(self, params, grads):
        self.t += 1
        lr_t = self.step_size(self.t)
        for key, p in params.items():
            m = self.m.setdefault(key, np.zeros_like(p))
            v = self.v.setdefault(key, np.zeros_like(p))
            m += (1 - self.beta1) * (grads[key] - m)
            v += (1 - self.beta2) * (grads[key] ** 2 - v)
            p -= lr_t * self.direction(m, v)


class FoldedTimesInsteadOfDivide(BookAdam):
    """`/` → `*`: η_t = η·√(1 − β₂ᵗ)·(1 − β₁ᵗ)."""

    def step_size(self, t):
        return self.lr * np.sqrt(1.0 - self.beta2**t) * (1.0 - self.beta1**t)


class FoldedOnePlusBeta1(BookAdam):
    """`1 − β₁ᵗ` → `1 + β₁ᵗ`."""

    def step_size(self, t):
        return self.lr * np.sqrt(1.0 - self.beta2**t) / (1.0 + self.beta1**t)


class FoldedInverseM(BookAdam):
    """`m` → `1/m` in the step."""

    def direction(self, m, v):
        return (1.0 / m) / (np.sqrt(v) + self.eps)


class FoldedIsTorchAdam(BookAdam):
    """Not folded at all: PyTorch's Adam, ε on the corrected √v̂."""

    def direction(self, m, v):
        return m / (np.sqrt(v) + self.eps * np.sqrt(1.0 - self.beta2**self.t))


class AdamWrittenOut:
    """scratch's Adam written out with its public interface, ``Adam(lr, beta1, beta2, eps,
    bias_correction)``: ``uncorrected`` is the step of the form without bias correction (the study
    notes'), where the mistakes in it go."""

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8, bias_correction=True):
        self.lr, self.beta1, self.beta2, self.eps, self.bias_correction = lr, beta1, beta2, eps, bias_correction
        self.t, self.m, self.v = 0, {}, {}

    def uncorrected(self, m, v, t):
        return self.lr * m / (np.sqrt(v) + self.eps)

    def update(self, params, grads):
        self.t += 1
        t = self.t
        for key, p in params.items():
            m = self.m.setdefault(key, np.zeros_like(p))
            v = self.v.setdefault(key, np.zeros_like(p))
            m += (1 - self.beta1) * (grads[key] - m)
            v += (1 - self.beta2) * (grads[key] ** 2 - v)
            if self.bias_correction:
                p -= self.lr / (1 - self.beta1**t) * m / (np.sqrt(v / (1 - self.beta2**t)) + self.eps)
            else:
                p -= self.uncorrected(m, v, t)


# --- batch norm: the book's running variance ------------------------------------------------------------

class BatchNormAlwaysUnbiased(layers.BatchNorm1d):
    """Ignores ``unbiased_running_var=False``: the book's running variance comes out unbiased."""

    def __init__(self, gamma, beta, momentum=0.9, eps=1e-5, running_var_init=1.0, unbiased_running_var=True):
        super().__init__(gamma, beta, momentum, eps, running_var_init, unbiased_running_var=True)


class BatchNormAlwaysFromOne(layers.BatchNorm1d):
    """Ignores ``running_var_init``: the book's running variance starts at 1, as torch's."""

    def __init__(self, gamma, beta, momentum=0.9, eps=1e-5, running_var_init=1.0, unbiased_running_var=True):
        super().__init__(gamma, beta, momentum, eps, 1.0, unbiased_running_var)


# --- momentum and AdamW ----------------------------------------------------------------------------------

class MomentumWithoutLrInside(O.Momentum):
    """PyTorch's buffer under the textbook name: v ← μv + g, p ← p − η·v (equal while η is constant)."""

    def _step(self, state, p, g):
        v = state.setdefault("v", np.zeros_like(p))
        v *= self.momentum
        v += g
        p -= self.lr * v


class AdamWDecayAfterTheStep(O.Adam):
    """Decays after the Adam step: p ← (p − step)·(1 − ηλ), where AdamW decays p before it."""

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
        super().__init__(lr, beta1, beta2, eps)
        self.weight_decay = weight_decay

    def update(self, params, grads):
        super().update(params, grads)
        for p in params.values():
            p *= 1 - self.lr * self.weight_decay


# --- layers and a schedule --------------------------------------------------------------------------------


class LinearOneSampleAsBatch(layers.Linear):
    """Treats one sample (in,) as a batch of one: returns (1, out) where nn.Linear returns (out,)."""

    def forward(self, x):
        return super().forward(np.atleast_2d(x))

    def backward(self, dout):
        return super().backward(np.atleast_2d(dout))


class SoftmaxBackwardOverAxis1(layers.Softmax):
    """Sums Σ dout ⊙ y over axis 1: the last axis of a 2-D batch, the wrong one of a 3-D input."""

    def forward(self, x):
        self.y = scratch.activations.softmax(x, axis=-1)
        return self.y

    def backward(self, dout):
        return self.y * (dout - np.sum(dout * self.y, axis=1, keepdims=True))


class DropoutScalesAtEval(layers.Dropout):
    """Scales by (1 − p) in eval mode as well (mixing the book's convention into inverted dropout)."""

    def forward(self, x):
        out = super().forward(x)
        return out if self.training else out * (1 - self.p)


class StepDecayOffByOne(schedules.StepDecay):
    """Decays one epoch early: γ^⌊(t + 1)/step_size⌋."""

    def __call__(self, t):
        return self.lr0 * self.gamma ** ((t + 1) // self.step_size)
