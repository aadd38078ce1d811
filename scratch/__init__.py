"""Deep-learning fundamentals by hand in NumPy: the reference implementation under test.

This package never imports torch. Every concept is written as a study text: the formula in the
docstring, plain vectorised NumPy below it.
"""

from . import (activations, attention, classifiers, conv, delta_rule, gpt, gradients, init, layers, linear_regression, losses,
               networks, nlp, normalization, optim, recurrent, regularization, schedules, search, sequence, transformer)

# attention, gpt, normalization and transformer are imported (the concepts read them as ``impl.attention`` …)
# but not listed: their malformed-input tests are in tests/scratch/, not in the table of
# tests/test_bad_input_properties.py, which drives what __all__ lists
__all__ = ["activations", "classifiers", "conv", "delta_rule", "gradients", "init", "layers", "linear_regression", "losses",
           "networks", "nlp", "optim", "recurrent", "regularization", "schedules", "search", "sequence"]
