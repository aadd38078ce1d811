"""The optimizers and schedules of ``torch.optim`` under the names the guide uses.

Each builder takes the model's parameters and the hyperparameters by their PyTorch names. Where a
textbook form has no PyTorch counterpart (momentum written as v = μv − η·g, Adam without bias
correction) PyTorch's own form is used and the comparison proves the relation.
"""

from __future__ import annotations

import math

import torch


def sgd(params, lr):
    """Plain SGD: p ← p − lr·g."""
    return torch.optim.SGD(params, lr=lr)


def momentum(params, lr, momentum=0.9):
    """Heavy-ball momentum: b ← μ·b + g, p ← p − lr·b (b = g on the first step)."""
    return torch.optim.SGD(params, lr=lr, momentum=momentum)


class SGDTextbookMomentum(torch.optim.SGD):
    """``SGD(momentum=μ)`` that behaves as the textbook momentum v ← μ·v − η_t·g, p ← p + v under
    any schedule: whenever the learning rate has changed since the last step (η_old → η_new), the
    buffer is first multiplied by η_old/η_new, then PyTorch's own step runs.

    PyTorch has no such option: hand math on the torch side, written to prove the relation between
    the two forms. With v = −η·b, PyTorch's b ← μ·b + g, p ← p − η_new·b gives
    v ← μ·(η_new/η_old)·v − η_new·g, which is the textbook rule only while η is constant; rescaling
    b by η_old/η_new first restores v ← μ·v − η_new·g exactly. The learning rate must stay > 0.
    """

    def __init__(self, params, lr, momentum=0.9):
        super().__init__(params, lr=lr, momentum=momentum)
        self._last_lrs = [group["lr"] for group in self.param_groups]

    def step(self, closure=None):
        with torch.no_grad():
            for group, last in zip(self.param_groups, self._last_lrs):
                if group["lr"] != last:
                    if group["lr"] <= 0:
                        raise ValueError(f"lr must stay > 0 to rescale the momentum buffer, got {group['lr']}")
                    for p in group["params"]:
                        buf = self.state.get(p, {}).get("momentum_buffer")
                        if buf is not None:
                            buf.mul_(last / group["lr"])
        self._last_lrs = [group["lr"] for group in self.param_groups]
        return super().step(closure)


def momentum_textbook(params, lr, momentum=0.9):
    """The textbook momentum v ← μ·v − η·g through ``torch.optim.SGD``: see :class:`SGDTextbookMomentum`."""
    return SGDTextbookMomentum(params, lr, momentum)


def nesterov(params, lr, momentum=0.9):
    """b ← μ·b + g, p ← p − lr·(g + μ·b)."""
    return torch.optim.SGD(params, lr=lr, momentum=momentum, nesterov=True)


def adagrad(params, lr, eps=1e-10):
    """h ← h + g², p ← p − lr·g/(√h + ε) (ε outside the root, PyTorch's default 1e-10)."""
    return torch.optim.Adagrad(params, lr=lr, eps=eps)


def rmsprop(params, lr, alpha=0.99, eps=1e-8):
    """h ← α·h + (1 − α)·g², p ← p − lr·g/(√h + ε): ``alpha`` is the textbook's decay rate."""
    return torch.optim.RMSprop(params, lr=lr, alpha=alpha, eps=eps)


def adam(params, lr, betas=(0.9, 0.999), eps=1e-8, folded=False):
    """``torch.optim.Adam``. With ``folded`` it reproduces the book's form, where the bias
    correction is folded into the step size, η_t = η·√(1 − β₂ᵗ)/(1 − β₁ᵗ), p ← p − η_t·m/(√v + ε).
    Multiplied out that is PyTorch's Adam with ε_t = ε/√(1 − β₂ᵗ); PyTorch reads ``eps`` from the
    parameter group at every step, so a step pre-hook sets ε_t before each step (as a scheduler
    sets ``lr``)."""
    optimizer = torch.optim.Adam(params, lr=lr, betas=betas, eps=eps)
    if folded:
        _fold_eps(optimizer, eps, betas[1])
    return optimizer


def _fold_eps(optimizer, eps, beta2):
    steps = [0]

    def set_eps(opt, args, kwargs):
        steps[0] += 1
        for group in opt.param_groups:
            group["eps"] = eps / math.sqrt(1 - beta2 ** steps[0])

    optimizer.register_step_pre_hook(set_eps)


def adamw(params, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01, folded=False):
    """``torch.optim.AdamW`` (decoupled decay p ← p(1 − ηλ) before the Adam step); ``folded`` as
    in :func:`adam`."""
    optimizer = torch.optim.AdamW(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
    if folded:
        _fold_eps(optimizer, eps, betas[1])
    return optimizer


OPTIMIZERS = {"sgd": sgd, "momentum": momentum, "nesterov": nesterov, "adagrad": adagrad, "rmsprop": rmsprop,
              "adam": adam, "adamw": adamw}


def build(name: str, params, **hparams):
    """The optimizer ``name`` (a key of ``OPTIMIZERS``) over ``params``, hyperparameters by their
    PyTorch names (``lr``, ``momentum``, ``alpha``, ``betas``, ``eps``, ``weight_decay``)."""
    return OPTIMIZERS[name](params, **hparams)


def schedule(name: str, optimizer, **hparams):
    """The scheduler for a schedule name of the guide: step-decay, exponential-decay, inverse-time-decay."""
    return SCHEDULES[name](optimizer, **hparams)


class AdamRescaled(torch.optim.Adam):
    """``torch.optim.Adam`` with its learning rate and ε set anew before every step t = 1, 2, …:

        lr_t = lr · lr_scale(t)        ε_t = ε · eps_scale(t)

    and then PyTorch's own Adam step (m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ), p ← p − lr_t·m̂/(√v̂ + ε_t)).
    PyTorch has no such optimizer: this is hand math on the torch side, written to state the
    textbook forms of Adam (:func:`adam_folded`, :func:`adam_uncorrected`) as PyTorch's Adam with
    rescaled hyperparameters, a relation the comparisons check step by step. t is Adam's own step
    count (``state['step']``) plus one; the scales overwrite whatever a scheduler set.
    """

    def __init__(self, params, lr, betas, eps, lr_scale, eps_scale):
        super().__init__(params, lr=lr, betas=betas, eps=eps)
        self._base = [(group["lr"], group["eps"]) for group in self.param_groups]
        self.lr_scale, self.eps_scale = lr_scale, eps_scale

    def step(self, closure=None):
        for group, (lr, eps) in zip(self.param_groups, self._base):
            state = self.state.get(group["params"][0], {})
            t = int(state["step"]) + 1 if "step" in state else 1
            group["lr"] = lr * self.lr_scale(t)
            group["eps"] = eps * self.eps_scale(t)
        return super().step(closure)


def adam_folded(params, lr, betas=(0.9, 0.999), eps=1e-8):
    """The book's Adam, bias correction folded into the step size,

        η_t = η·√(1 − β₂ᵗ)/(1 − β₁ᵗ),   p ← p − η_t·m/(√v + ε),

    is PyTorch's Adam with ε_t = ε/√(1 − β₂ᵗ) at step t (lr unchanged). Dividing numerator and
    denominator by √(1 − β₂ᵗ):  η_t·m/(√v + ε) = (η/(1 − β₁ᵗ))·m / (√v/√(1 − β₂ᵗ) + ε/√(1 − β₂ᵗ))
    = η·m̂/(√v̂ + ε_t)."""
    beta2 = betas[1]
    return AdamRescaled(params, lr, betas, eps, lr_scale=lambda t: 1.0,
                        eps_scale=lambda t: 1.0 / math.sqrt(1.0 - beta2**t))


def adam_uncorrected(params, lr, betas=(0.9, 0.999), eps=1e-8):
    """The study notes' Adam without bias correction, p ← p − η·m/(√v + ε), is PyTorch's Adam with

        lr_t = η·(1 − β₁ᵗ)/√(1 − β₂ᵗ)   and   ε_t = ε/√(1 − β₂ᵗ)   at step t:

    (lr_t/(1 − β₁ᵗ))·m / (√v/√(1 − β₂ᵗ) + ε_t) = (η/√(1 − β₂ᵗ))·m / ((√v + ε)/√(1 − β₂ᵗ)) = η·m/(√v + ε).
    The uncorrected step is thus the corrected one at a learning rate (1 − β₁ᵗ)/√(1 − β₂ᵗ) times
    η: 3.16η at t = 1 (β₁ = 0.9, β₂ = 0.999), tending to η only as βᵗ → 0."""
    beta1, beta2 = betas
    return AdamRescaled(params, lr, betas, eps, lr_scale=lambda t: (1.0 - beta1**t) / math.sqrt(1.0 - beta2**t),
                        eps_scale=lambda t: 1.0 / math.sqrt(1.0 - beta2**t))


def step_lr(optimizer, step_size, gamma):
    """η₀·γ^⌊t/step_size⌋: ``StepLR``, stepped once per epoch."""
    return torch.optim.lr_scheduler.StepLR(optimizer, step_size=step_size, gamma=gamma)


def exponential_lr(optimizer, k):
    """η₀·e^(−k·t) is ``ExponentialLR`` with γ = e^(−k) (it multiplies by γ at every step)."""
    return torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=math.exp(-k))


def inverse_time_lr(optimizer, k):
    """η₀/(1 + k·t): PyTorch has no such scheduler; ``LambdaLR`` takes the factor as a function
    of the epoch — hand math on the torch side, because PyTorch has no built-in for it."""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda=lambda t: 1.0 / (1.0 + k * t))


SCHEDULES = {"step-decay": step_lr, "exponential-decay": exponential_lr, "inverse-time-decay": inverse_time_lr}

def minimize(f, init, make_optimizer, steps):
    """Run ``steps`` optimizer steps on a function of one tensor; returns the path (steps + 1, …)
    and the optimizer (whose ``state`` holds e.g. the momentum buffer)."""
    x = init.detach().clone().requires_grad_(True)
    optimizer = make_optimizer([x])
    path = [x.detach().clone()]
    for _ in range(steps):
        optimizer.zero_grad()
        f(x).backward()
        optimizer.step()
        path.append(x.detach().clone())
    return torch.stack(path), optimizer


def effective_gradient(optimizer: torch.optim.Optimizer, p: torch.Tensor) -> torch.Tensor:
    """The gradient ``optimizer.step()`` acts on for parameter ``p``: ``p.grad`` plus the L2 term
    ``weight_decay·p`` where the optimizer's weight decay is coupled, i.e. added to the gradient
    (``SGD``, ``Adam``, ``Adagrad``, ``RMSprop``: g ← g + λ·p, PyTorch's documented first line).
    ``AdamW`` decays p directly (p ← p(1 − ηλ)), so its gradient is ``p.grad`` alone.

    A hand-written network that puts (λ/2)‖W‖² into its loss has exactly this gradient."""
    for group in optimizer.param_groups:
        if any(q is p for q in group["params"]):
            decay = group.get("weight_decay", 0.0)
            if decay and not isinstance(optimizer, torch.optim.AdamW):
                return p.grad.add(p.detach(), alpha=decay)  # the very kernel torch's step uses
            return p.grad
    raise ValueError("p is not a parameter of this optimizer")


def effective_loss(optimizer: torch.optim.Optimizer, loss: torch.Tensor) -> torch.Tensor:
    """The objective ``optimizer`` minimises: ``loss`` plus (λ/2)·Σ‖p‖² over every group whose
    weight decay is coupled (see :func:`effective_gradient`, whose gradient this is). AdamW's
    decoupled decay minimises no such term, so its loss is ``loss`` alone."""
    if isinstance(optimizer, torch.optim.AdamW):
        return loss
    with torch.no_grad():
        for group in optimizer.param_groups:
            decay = group.get("weight_decay", 0.0)
            if decay:
                loss = loss + decay / 2 * sum((p * p).sum() for p in group["params"])
    return loss
