"""Learning-rate schedules (kind ``schedule``): a class whose instances are called with the epoch
t = 0, 1, … (or a function f(t, **hparams)) and return the learning rate, against the
``torch.optim.lr_scheduler`` of ``torch_ref.optim`` stepped once per epoch."""

from __future__ import annotations

import numpy as np
import torch

import scratch.schedules as SS
import torch_ref.optim as topt

from ._base import Comparison, Hparam, Mistake, Pair, accepted, as_array, call, construct, shows


def drive_schedule(ctx, pair, target, hparams, run):
    """The learning rate at epochs 0 … steps − 1 against the torch scheduler stepped once per epoch."""
    if isinstance(target, type):
        schedule = construct(target, pair, hparams, {}, run)
        rate = lambda t: call(schedule, f"calling it with t = {t}", t)  # noqa: E731
    else:
        kwargs = accepted(target, pair, hparams)
        rate = lambda t: call(target, f"calling it with t = {t}", t, **kwargs)  # noqa: E731
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=hparams["lr0"])
    sched = pair.torch(opt, **pair.torch_kwargs(hparams))
    ours, theirs = [], []
    for t in range(run.steps):
        ours.append(float(as_array(rate(t), "the learning rate")))
        theirs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return [Comparison(f"learning rate at epochs 0…{run.steps - 1}", np.array(ours), np.array(theirs))]

LR0 = Hparam("lr0", 0.1, None, aliases=("lr", "initial_lr", "eta0"), bounds="[0, inf)")


def torch_schedule(name):
    def build(optimizer, **kw):
        return topt.schedule(name, optimizer, **kw)
    build.__doc__ = f"torch_ref.optim.schedule({name!r}, optimizer, ...)"
    return shows(build, topt.SCHEDULES[name])


class StepDecayNoFloor(SS.StepDecay):
    def __call__(self, t):
        return self.lr0 * self.gamma ** (t / self.step_size)


class ExponentialDecayBase10(SS.ExponentialDecay):
    def __call__(self, t):
        return self.lr0 * 10 ** (-self.k * t)


INTERFACE = "a class taking ({}) whose instances are called with the epoch t = 0, 1, … and return the learning rate " \
            "(or a function f(t, **hparams))"

PAIRS = [
    Pair("step-decay", "schedule", "schedules.StepDecay", torch_schedule("step-decay"), INTERFACE.format("lr0, step_size, gamma"),
         drive_schedule, (LR0, Hparam("step_size", 5, "step_size", bounds="[1, inf)", integer=True),
                         Hparam("gamma", 0.5, "gamma", bounds="[0, inf)")), None,
         (Mistake("the epoch is not floored: γ^(t/step_size) decays smoothly; step decay is γ^⌊t/step_size⌋",
                  StepDecayNoFloor),),
         ("StepDecay", "step_decay")),
    Pair("exponential-decay", "schedule", "schedules.ExponentialDecay", torch_schedule("exponential-decay"),
         INTERFACE.format("lr0, k"), drive_schedule, (LR0, Hparam("k", 0.1, "k", bounds="[0, inf)")), None,
         (Mistake("10^(−kt) instead of e^(−kt)", ExponentialDecayBase10),), ("ExponentialDecay", "exponential_decay")),
    Pair("inverse-time-decay", "schedule", "schedules.InverseTimeDecay", torch_schedule("inverse-time-decay"),
         INTERFACE.format("lr0, k"), drive_schedule, (LR0, Hparam("k", 0.1, "k", bounds="[0, inf)")), None, (),
         ("InverseTimeDecay", "inverse_time_decay")),
]
