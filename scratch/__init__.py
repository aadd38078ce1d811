"""Deep-learning fundamentals by hand in NumPy: the reference implementation under test.

This package never imports torch. Every concept is written as a study text: the formula in the
docstring, plain vectorised NumPy below it.
"""

from . import (activations, attention, classifiers, conv, delta_rule, gpt, gradients, init, layers, linear_regression, losses,
               networks, nlp, normalization, optim, recurrent, regularization, schedules, search, sequence, transformer)

__all__ = ["activations", "attention", "classifiers", "conv", "delta_rule", "gpt", "gradients", "init", "layers", "linear_regression",
           "losses", "networks", "nlp", "normalization", "optim", "recurrent", "regularization", "schedules", "search", "sequence",
           "transformer"]
