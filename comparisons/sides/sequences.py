"""Sides of sequence models for :func:`comparisons.lockstep.train`: a NumPy model of
``scratch.sequence_models`` (a recurrent classifier, a character language model) and its
``torch_ref.recurrent`` module, each trained with clipping by the global gradient norm. A batch is a
pair (x, t): inputs (float sequences or character indices) and targets."""

from __future__ import annotations

import numpy as np
import torch

import torch_ref.recurrent as trec

from .. import bridge
from ..checks import TOLERANCES
from ..lockstep import Side, load_into


def global_norm(grads: dict) -> float:
    """‖g‖ over every array of ``grads``."""
    return float(np.sqrt(sum(np.sum(np.asarray(g, dtype=np.float64) ** 2) for g in grads.values())))


class NumpySequence(Side):
    """``make_net(params)`` (a ``scratch.sequence_models`` model: ``params``, ``loss(x, t)``, ``backward()``)
    and its optimizer; the gradients clipped to ``max_norm`` by the implementation's
    ``recurrent.clip_grad_norm`` before the optimizer acts on them.

    ``spread`` (a dict shared with the side's re-takes): where given, each step is also taken from
    the parameters perturbed by one ulp (every parameter times 1 ± ε), and ``spread["now"]`` holds
    the largest change that makes to a gradient — the step's own rounding sensitivity, measured (an
    exploding recurrent net amplifies rounding far beyond the one-step tolerance); ``spread["worst"]``
    the largest over the run, relative to the gradient's norm."""

    def __init__(self, ctx, make_net, params0: dict, make_optimizer, max_norm: float, spread: dict | None = None,
                 dtype=None):
        self.ctx, self.make_net, self.params0, self.make_optimizer = ctx, make_net, params0, make_optimizer
        self.max_norm, self.spread, self.dtype = max_norm, spread, dtype or ctx.np_dtype
        self.net = make_net({k: np.array(v, dtype=self.dtype) for k, v in params0.items()})
        self.optimizer = make_optimizer() if make_optimizer else None
        self.k = 0

    def state(self) -> dict:
        return {k: v.copy() for k, v in self.net.params.items()}

    def load(self, state: dict) -> None:
        load_into(self.net.params, state)

    def _clipped(self, x, t) -> tuple:
        loss = self.net.loss(x, t)
        grads = {k: g.copy() for k, g in self.net.backward().items()}
        self.ctx.impl.recurrent.clip_grad_norm(grads, self.max_norm)
        return loss, grads

    def loss_and_gradients(self, batch, draws):
        x, t = self._batch(batch)
        loss, grads = self._clipped(x, t)
        if self.spread is not None:
            self._measure_spread(x, t, grads)
        self.k += 1
        return loss, grads

    def _batch(self, batch):
        x, t = batch
        return (x if np.asarray(x).dtype.kind in "iu" else np.asarray(x, dtype=self.dtype)), t

    def _measure_spread(self, x, t, grads) -> None:
        eps = np.finfo(self.dtype).eps
        self.spread["rtol"] = TOLERANCES["float64" if self.dtype == np.float64 else "float32"]["exact"][1]
        saved = self.state()
        signs = np.random.default_rng(self.k)
        for v in self.net.params.values():
            v *= 1 + eps * signs.choice([-1.0, 1.0], size=v.shape)
        _, moved = self._clipped(x, t)
        self.load(saved)
        self.spread["now"] = max(float(np.max(np.abs(moved[key] - grads[key]))) for key in grads)
        self.spread["worst"] = max(self.spread.get("worst", 0.0), self.spread["now"] / max(global_norm(grads), 1e-300))

    def update(self, gradients) -> None:
        self.optimizer.update(self.net.params, {k: np.asarray(g, dtype=self.dtype) for k, g in gradients.items()})

    def fresh(self):
        return NumpySequence(self.ctx, self.make_net, self.params0, self.make_optimizer, self.max_norm, None, self.dtype)

    def in_float64(self):
        side = NumpySequence(self.ctx, self.make_net, self.params0, None, self.max_norm, self.spread, np.float64)
        side.k = self.k - 1
        return side


class TorchSequence(Side):
    """A ``torch_ref.recurrent`` model (``make_model()``) and its optimizer, stepped as
    ``torch_ref.recurrent.train_step`` does (the gradients clipped with ``clip_grad_norm_``); the norms
    before clipping are kept in ``norms``."""

    def __init__(self, ctx, make_model, params0: dict, make_optimizer, max_norm: float, gates=None, dtype=None):
        self.ctx, self.make_model, self.params0, self.make_optimizer = ctx, make_model, params0, make_optimizer
        self.max_norm, self.gates, self.dtype = max_norm, gates, dtype or ctx.torch_dtype
        model = make_model().to(dtype=self.dtype, device=ctx.device)
        self.model = bridge.load_sequence_model(model, params0, gates=gates)
        self.optimizer = make_optimizer(self.model.parameters())
        self.norms: list = []

    def state(self) -> dict:
        return bridge.sequence_model_arrays(self.model, gates=self.gates)

    def load(self, state: dict) -> None:
        bridge.load_sequence_model(self.model, state, gates=self.gates)

    def loss_and_gradients(self, batch, draws):
        x, t = batch
        x = (self.ctx.labels(x) if np.asarray(x).dtype.kind in "iu"
             else torch.as_tensor(np.asarray(x), dtype=self.dtype, device=self.ctx.device))
        loss, norm = trec.clipped_backward(self.model, self.optimizer, x, self.ctx.labels(t), self.max_norm)
        self.norms.append(norm)
        return loss, bridge.sequence_model_arrays(self.model, grad=True, gates=self.gates)

    def update(self, gradients) -> None:
        self.optimizer.step()

    def in_float64(self):
        return TorchSequence(self.ctx, self.make_model, self.params0, self.make_optimizer, self.max_norm, self.gates,
                             torch.float64)
