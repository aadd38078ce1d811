"""How a driver runs the code under test: its options (:class:`DriveOptions`), the second call
over the objects the first made (:class:`SecondCall`), and a training comparison through the one
trainer (:func:`trained`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._base import Comparison

@dataclass
class DriveOptions:
    """How a driver runs the code under test, and what it notes on the way: ``steps`` of a training
    comparison, the hyperparameters given explicitly (``--hparam``), hyperparameters for the
    PyTorch side only (a hint's search), and ``problems``: the subset of a driver's problems to run
    (all when empty)."""

    steps: int = 100
    notes: list = field(default_factory=list)
    explicit: set = field(default_factory=set)  # the hyperparameters given by --hparam
    reference: dict = field(default_factory=dict)  # hyperparameters for the PyTorch side only (a hint's search)
    problems: tuple = ()
    made: list | None = None  # the objects construct() made on a first call, in order (see comparisons.pairs.compare)
    again: "SecondCall | None" = None  # on the second call: those objects, and the generator of other inputs

    def draw(self, ctx, make):
        """An input of the code under test, ``make(ctx)``: on the second call, other values of the same
        kind, ``make`` of a generator of their own, after the same draw from ``ctx`` (every other draw
        of the driver, the weights above all, stays what it was on the first call)."""
        value = make(ctx)
        return value if self.again is None else make(self.again.other)


@dataclass
class SecondCall:
    """What a driver's second run over the same objects needs: the objects the first made (handed
    back by :func:`construct` in the same order) and a context whose generator draws the other inputs."""

    made: list
    other: Any
    index: int = 0

    def reuse(self, cls):
        """The object the first run made at this point from ``cls``, or None."""
        if self.index >= len(self.made):
            return None
        made_from, obj = self.made[self.index]
        self.index += 1
        return obj if made_from is cls else None


def trained(ctx, label: str, numpy_side, torch_side, batches, **train_options) -> list:
    """A training comparison through the one trainer (:func:`comparisons.lockstep.train`), as the
    driver's comparisons: each lockstep quantity with one row per step (kind ``lockstep``), and in
    float64 the free-running parameters after every step and the losses (kind ``trained``). The
    trainer runs in a context of its own: what is recorded is what the driver returns."""
    from ..lockstep import Lockstep, train

    own = ctx.detached()
    lock = Lockstep(own, label, keep=True)
    train_options.setdefault("stop_at_divergence", False)  # a reference that diverges is a usage error (verify)
    run = train(own, label, numpy_side, torch_side, batches, lock=lock, trajectory=True, **train_options)
    out = [Comparison(label, np.array(a), np.array(e), kind="lockstep", quantity=quantity)
           for quantity, (a, e) in lock.history.items()]
    if run.free_running and run.path_np:
        out.append(Comparison(f"{label}: free-running parameters", np.array(run.path_np), np.array(run.path_t), kind="trained"))
        if run.losses_t and run.losses_t[0] is not None:
            out.append(Comparison(f"{label}: free-running loss", np.array(run.losses_np), np.array(run.losses_t),
                                  kind="trained"))
    return out


def _labels_of(t):
    t = np.asarray(t)
    return t.argmax(axis=-1) if t.ndim >= 1 and t.dtype.kind == "f" else t
