"""Deep-learning fundamentals by hand in NumPy: the reference implementation under test.

This package never imports torch. Every concept is written as a study text: the formula in the
docstring, plain vectorised NumPy below it.
"""

from . import (activations, attention, classifiers, conv, delta_rule, gpt, gradients, init, layers, linear_regression, losses,
               networks, nlp, normalization, optim, recurrent, regularization, schedules, search, seq2seq, sequence,
               sequence_models, transformer)

# attention, gpt, normalization, seq2seq and transformer are imported (the concepts read them as ``impl.attention`` …)
# but not listed: tests/scratch/test_public_api.py drives every public name of the modules __all__ lists
# with malformed input; these five have their own malformed-input tests in tests/scratch/
__all__ = ["activations", "classifiers", "conv", "delta_rule", "gradients", "init", "layers", "linear_regression", "losses",
           "networks", "nlp", "optim", "recurrent", "regularization", "schedules", "search", "sequence", "sequence_models"]
