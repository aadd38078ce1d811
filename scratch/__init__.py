"""Deep-learning fundamentals by hand in NumPy: the reference implementation under test.

This package never imports torch. Every concept is written as a study text: the formula in the
docstring, plain vectorised NumPy below it.
"""

from . import activations, conv, delta_rule, gradients, init, layers, linear_regression, losses, networks, optim, recurrent, regularization, schedules, search

__all__ = ["activations", "conv", "delta_rule", "gradients", "init", "layers", "linear_regression", "losses", "networks", "optim", "recurrent", "regularization", "schedules", "search"]
