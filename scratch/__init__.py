"""Deep-learning fundamentals by hand in NumPy: the reference implementation under test.

This package never imports torch. Every concept is written as a study text: the formula in the
docstring, plain vectorised NumPy below it.
"""

from . import activations, classifiers, conv, delta_rule, gradients, init, layers, linear_regression, losses, networks, nlp, optim, recurrent, regularization, schedules, search, sequence

__all__ = ["activations", "classifiers", "conv", "delta_rule", "gradients", "init", "layers", "linear_regression", "losses", "networks", "nlp", "optim", "recurrent", "regularization", "schedules", "search", "sequence"]
