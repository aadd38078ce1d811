"""The registry of concepts: adding a concept means adding one module and one line here.

A concept module defines:

* ``ID`` (stable id used by the CLI, results.json and the report) and ``TITLE``;
* ``GUIDE``: the study-guide text (Markdown): the math in plain words, Korean terms beside English;
* ``PAIRS``: the declared pairs it teaches, as (kind, id) of :mod:`comparisons.pairs`: the guide
  shows each declaration's ``scratch`` object beside its ``torch_ref`` reference;
* ``CODE`` (optional): other pairs (NumPy object, ``torch_ref`` object) shown side by side, for
  what is not a declared pair (a whole training step, the lookahead form of Nesterov, …);
* ``DIFFERENCES``: rows (topic, textbook, PyTorch, check) — each names the check that proves
  the relation or shows the difference;
* ``run(ctx)``: the setups, the checks and the figures, given a ``ConceptContext``.
"""

from __future__ import annotations

from importlib import import_module

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
]


def concepts() -> dict:
    """All registered concept modules by id, in catalogue order."""
    mods = [import_module(f"comparisons.concepts.{name}") for name in _MODULES]
    return {m.ID: m for m in mods}


def get(concept_id: str):
    all_concepts = concepts()
    if concept_id not in all_concepts:
        raise KeyError(
            f"unknown concept {concept_id!r}; known concepts: {', '.join(all_concepts)} "
            "(see `python -m comparisons list`)"
        )
    return all_concepts[concept_id]
