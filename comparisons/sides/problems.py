"""Sides of small training comparisons for :func:`comparisons.lockstep.train`: an optimizer on a
fixed problem, a textbook's training function taken one step at a time, and a torch run replayed
step by step.

A parameter set is a dict of arrays (``{"x": …}``, ``{"a": …, "b": …}``, ``{"W": …, "b": …}``).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ..lockstep import Side


def _copy(params: dict, dtype=None) -> dict:
    return {k: np.array(v, dtype=dtype) for k, v in params.items()}


class NumpyProblem(Side):
    """An optimizer under test on a fixed objective: ``objective(params) -> (loss, gradients)``,
    ``make_optimizer()`` an object with ``update(params, grads)`` that changes ``params`` in place.
    ``update`` (default ``optimizer.update(params, grads)``) is how the step is taken, e.g. through a
    caller that turns the code's errors into verdicts."""

    def __init__(self, params0: dict, objective: Callable, make_optimizer: Callable, update: Callable | None = None):
        self.params0, self.objective, self.make_optimizer = params0, objective, make_optimizer
        self.take_step = update or (lambda optimizer, params, grads: optimizer.update(params, grads))
        self.params = _copy(params0)
        self.optimizer = make_optimizer()

    def state(self) -> dict:
        return _copy(self.params)

    def load(self, state: dict) -> None:
        for k, v in state.items():
            self.params[k] = np.array(v, dtype=self.params[k].dtype)

    def loss_and_gradients(self, batch, draws):
        return self.objective(self.params)

    def update(self, gradients) -> None:
        grads = {k: np.array(g, dtype=self.params[k].dtype) for k, g in gradients.items()}
        self.take_step(self.optimizer, self.params, grads)

    def fresh(self):
        return NumpyProblem(self.params0, self.objective, self.make_optimizer, self.take_step)


class TorchProblem(Side):
    """A ``torch.optim`` optimizer on the same objective: ``objective(tensors) -> loss`` (a tensor),
    ``make_optimizer(list_of_tensors)``; the parameters are tensors of the run's dtype and device."""

    def __init__(self, ctx, params0: dict, objective: Callable, make_optimizer: Callable):
        self.ctx, self.objective = ctx, objective
        self.tensors = {k: ctx.tensor(v, requires_grad=True) for k, v in params0.items()}
        self.optimizer = make_optimizer(list(self.tensors.values()))

    def state(self) -> dict:
        return {k: self.ctx.numpy(t).copy() for k, t in self.tensors.items()}

    def load(self, state: dict) -> None:
        import torch

        with torch.no_grad():
            for k, t in self.tensors.items():
                t.copy_(torch.as_tensor(np.asarray(state[k]), dtype=t.dtype, device=t.device))

    def loss_and_gradients(self, batch, draws):
        self.optimizer.zero_grad()
        loss = self.objective(self.tensors)
        loss.backward()
        return float(loss.detach()), {k: self.ctx.numpy(t.grad).copy() for k, t in self.tensors.items()}

    def update(self, gradients) -> None:
        self.optimizer.step()

    @property
    def lr(self):
        return self.optimizer.param_groups[0]["lr"]


class Stepper(Side):
    """A textbook's training function taken one step at a time: ``step(params, batch) ->
    (params after, loss)`` from any parameters (e.g. ``fit(x, y, a, b, lr, [batch])`` for one
    update). It computes no separate gradients: the loss and the parameters after the step are what
    is compared. ``retake``: the same step in float64 (the referee of a float32 step that parts)."""

    def __init__(self, params0: dict, step: Callable, dtype=None, retake: Callable | None = None, loss_name="loss"):
        self.params0, self.step, self.dtype, self.retake, self.loss_name = params0, step, dtype, retake, loss_name
        self.params = _copy(params0, dtype)
        self._after = None

    def state(self) -> dict:
        return _copy(self.params)

    def load(self, state: dict) -> None:
        self.params = _copy(state, self.dtype)

    def loss_and_gradients(self, batch, draws):
        with np.errstate(over="ignore", invalid="ignore"):
            after, loss = self.step(_copy(self.params, self.dtype), batch)
        self._after = _copy(after, self.dtype)
        return loss, None

    def update(self, gradients) -> None:
        self.params = self._after

    def fresh(self):
        return Stepper(self.params0, self.step, self.dtype, self.retake, self.loss_name)

    def in_float64(self):
        return None if self.retake is None else Stepper(self.params0, self.retake, np.float64)


class Replay(Side):
    """A torch run that a ``torch_ref`` function trained as a whole, replayed step by step:
    ``records`` yields, for every step, (parameters after it, its loss[, its gradients]) (any
    iterable, so a generator can train torch step by step as the trainer asks for it). ``retake``:
    one step of the same torch code in float64 from any parameters, ``(params, batch) -> (params
    after, loss)`` (the referee of a float32 step that parts)."""

    def __init__(self, params0: dict, records, retake: Callable | None = None):
        self.params0, self.params, self.retake = params0, _copy(params0), retake
        self.records = iter(records)
        self._next = None

    def state(self) -> dict:
        return _copy(self.params)

    def load(self, state: dict) -> None:
        self.params = _copy(state)

    def loss_and_gradients(self, batch, draws):
        self._next = next(self.records)
        after, loss, *grads = self._next
        return loss, grads[0] if grads else None

    def update(self, gradients) -> None:
        self.params = _copy(self._next[0])

    def in_float64(self):
        return None if self.retake is None else Stepper(self.params0, self.retake, np.float64)
