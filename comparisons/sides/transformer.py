"""Sides of the attention models for :func:`comparisons.lockstep.train`: a TinyGPT language model
and the book's seq2seq with attention, each a NumPy side (``scratch``'s model behind
:class:`~comparisons.sides.sequences.NumpySequence`, with a learning rate per step) and a torch
side (a ``torch_ref`` model with ``loss(x, t)``, its optimizer and scheduler, the gradients clipped
by ``clip_grad_norm_``), their parameters crossing through :mod:`comparisons.transformer_bridge`."""

from __future__ import annotations

import numpy as np
import torch

import torch_ref.recurrent as trec

from .. import transformer_bridge as tb
from ..lockstep import Side
from .sequences import NumpySequence

SEQ2SEQ_KEYS = ("encoder.embed.W", "encoder.Wx", "encoder.Wh", "encoder.b", "decoder.embed.W", "decoder.Wx",
                "decoder.Wh", "decoder.b", "decoder.affine.W", "decoder.affine.b")


class NumpyScheduled(NumpySequence):
    """:class:`NumpySequence` whose optimizer's learning rate is ``schedule(k)`` at its k-th update
    (a warm-up + cosine, as the torch side's ``LambdaLR`` stepped once per step); ``watch(gradients)``
    sees the gradients of every step (this side's own, not its re-takes')."""

    def __init__(self, *args, schedule=None, watch=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.schedule, self.updates, self.watch = schedule, 0, watch

    def loss_and_gradients(self, batch, draws):
        loss, grads = super().loss_and_gradients(batch, draws)
        if self.watch is not None:
            self.watch(grads)
        return loss, grads

    def update(self, gradients) -> None:
        if self.schedule is not None:
            self.optimizer.lr = self.schedule(self.updates)
        super().update(gradients)
        self.updates += 1

    def fresh(self):
        return NumpyScheduled(self.ctx, self.make_net, self.params0, self.make_optimizer, self.max_norm, None, self.dtype,
                              schedule=self.schedule)

    def in_float64(self):
        side = NumpyScheduled(self.ctx, self.make_net, self.params0, None, self.max_norm, self.spread, np.float64)
        side.k = self.k - 1
        return side


class TorchModel(Side):
    """A ``torch_ref`` model with ``loss(x, t)``, stepped as ``torch_ref.recurrent.train_step`` does
    (zero_grad, loss, backward, ``clip_grad_norm_``, step), then its scheduler once per step; its
    parameters read and written by ``arrays(model, grad=False)`` and ``load(model, state)``;
    ``watch(gradients)`` sees the (clipped) gradients of every step."""

    def __init__(self, ctx, make_model, params0, make_optimizer, max_norm, arrays, load, make_scheduler=None, dtype=None,
                 watch=None):
        self.ctx, self.make_model, self.params0, self.make_optimizer = ctx, make_model, params0, make_optimizer
        self.watch = watch
        self.max_norm, self.arrays, self.load_fn, self.make_scheduler = max_norm, arrays, load, make_scheduler
        self.dtype = dtype or ctx.torch_dtype
        self.model = load(make_model().to(dtype=self.dtype, device=ctx.device), params0)
        self.optimizer = make_optimizer(self.model.parameters())
        self.scheduler = make_scheduler(self.optimizer) if make_scheduler else None
        self.norms: list = []

    def state(self) -> dict:
        return self.arrays(self.model)

    def load(self, state: dict) -> None:
        self.load_fn(self.model, state)

    def loss_and_gradients(self, batch, draws):
        x, t = batch
        loss, norm = trec.clipped_backward(self.model, self.optimizer, self.ctx.labels(x), self.ctx.labels(t),
                                           self.max_norm)
        self.norms.append(norm)
        grads = self.arrays(self.model, grad=True)
        if self.watch is not None:
            self.watch(grads)
        return loss, grads

    def update(self, gradients) -> None:
        self.optimizer.step()
        if self.scheduler is not None:
            self.scheduler.step()

    def in_float64(self):
        return TorchModel(self.ctx, self.make_model, self.params0, self.make_optimizer, self.max_norm, self.arrays,
                          self.load_fn, dtype=torch.float64)


def tinygpt_arrays(model, grad: bool = False) -> dict:
    return tb.tinygpt_arrays(model, grad=grad)


def seq2seq_arrays(model, grad: bool = False) -> dict:
    return dict(zip(SEQ2SEQ_KEYS, tb.seq2seq_arrays(model, grad)))


def load_seq2seq(model, state: dict):
    return tb.load_seq2seq(model, [state[k] for k in SEQ2SEQ_KEYS])


class Seq2seqNet:
    """The implementation's ``seq2seq.AttentionSeq2seq`` (the book's list ``params``) under
    :data:`SEQ2SEQ_KEYS`, with the interface :class:`NumpySequence` drives: ``params`` (the model's
    own arrays), ``loss(xs, ts)``, ``backward()`` → the gradients by key."""

    def __init__(self, impl, params: dict):
        V, D = params["encoder.embed.W"].shape
        H = params["encoder.Wh"].shape[0]
        self.model = impl.seq2seq.AttentionSeq2seq(V, D, H, dtype=params["encoder.Wx"].dtype)
        for p, key in zip(self.model.params, SEQ2SEQ_KEYS):
            p[...] = params[key]
        self.params = dict(zip(SEQ2SEQ_KEYS, self.model.params))

    def loss(self, xs, ts) -> float:
        return float(self.model.forward(xs, ts))

    def backward(self) -> dict:
        self.model.backward()
        return dict(zip(SEQ2SEQ_KEYS, self.model.grads))
