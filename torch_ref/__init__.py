"""The same concepts written the way a PyTorch user writes them: torch.nn, torch.optim, autograd.

This package never imports ``scratch``: its numbers come from PyTorch alone. Hand-written math
appears only where PyTorch has no such thing, and each such place says so.
"""

from . import activations, gradients, linear_regression, losses, recurrent

__all__ = ["activations", "gradients", "linear_regression", "losses", "recurrent"]
