"""The registry of concepts: adding a concept means adding two files and one line here.

A concept is a lesson and a run, side by side in ``comparisons/concepts/``:

* ``<name>.md``: the lesson (:mod:`comparisons.lessons`): its id, title, the declared pairs it
  teaches, other code shown side by side, the differences between the textbook and PyTorch (each
  naming the check that proves it) as front matter, and the study-guide text;
* ``<name>.py``: ``run(ctx)``, the set-ups, the checks and the figures, given a
  :class:`comparisons.context.ConceptContext`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import import_module
from typing import Callable

from . import lessons

_MODULES = [
    "activations",
    "softmax",
    "losses",
    "numerical_gradient",
    "gradient_descent",
    "linear_regression",
    "delta_rule",
    "xor_mlp",
    "mlp_backprop",
    "minibatch",
    "weight_init",
    "optimizers",
    "lr_schedules",
    "regularization",
    "dropout",
    "early_stopping",
    "batchnorm",
    "hyperparameter_search",
    "multitask",
    "convolution",
    "rnn",
    "attention",
    "transformer",
]


@dataclass(frozen=True)
class Concept:
    """One concept: its lesson (``<name>.md``) and its run (``<name>.py``'s ``run``)."""

    name: str  # the files' stem: comparisons/concepts/<name>.py and .md
    lesson: lessons.Lesson
    lesson_run: Callable  # the module's run(ctx): set-ups, findings, figures

    def run(self, ctx) -> None:
        """The lesson's run, then every pair the lesson teaches that the run did not check itself,
        through its declaration (``pairs.check``): a concept compares a layer, loss or optimizer only
        that way."""
        from . import pairs

        self.lesson_run(ctx)
        for kind, pair_id in self.lesson.pairs:
            if (kind, pair_id) not in ctx.checked_pairs:
                pair = pairs.get(kind, pair_id)
                pairs.check(ctx, pair, pair.scratch_object(ctx.impl), prefix=f"{pair_id} ({kind}): ")

    @property
    def id(self) -> str:
        return self.lesson.id

    @property
    def title(self) -> str:
        """The English title with the Korean term in parentheses, as the report lists it."""
        return self.lesson.full_title


@lru_cache(maxsize=None)
def _load(name: str) -> Concept:
    module = import_module(f"comparisons.concepts.{name}")
    return Concept(name, lessons.load(name), module.run)


def concepts() -> dict[str, Concept]:
    """All registered concepts by id, in catalogue order."""
    found = [_load(name) for name in _MODULES]
    return {c.id: c for c in found}


def get(concept_id: str) -> Concept:
    all_concepts = concepts()
    if concept_id not in all_concepts:
        raise KeyError(
            f"unknown concept {concept_id!r}; known concepts: {', '.join(all_concepts)} "
            "(see `python -m comparisons list`)"
        )
    return all_concepts[concept_id]
