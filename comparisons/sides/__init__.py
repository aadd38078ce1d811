"""Adapters of what is trained to the one trainer, :func:`comparisons.lockstep.train`: each side
offers its state, loading a state, one step's loss and gradients, and the update.

    networks.py   a NumPy network and a torch model (an MLP, a convolutional net) on data (x, t); the
                  multi-task net on (x, labels a, labels b)
    problems.py   an optimizer on a fixed problem; a textbook's training function one step at a
                  time; a torch run replayed step by step
    sequences.py  sequence models (a recurrent classifier, a character language model)
"""

from .networks import (
                       MLP,
                       Architecture,
                       NumpyMultiTask,
                       NumpyNet,
                       Setup,
                       TorchMultiTask,
                       TorchNet,
                       multitask,
                       network,
                       sizes_of,
)
from .problems import NumpyProblem, Replay, Stepper, TorchProblem

__all__ = ["MLP", "Architecture", "NumpyMultiTask", "NumpyNet", "NumpyProblem", "Replay", "Setup", "Stepper",
           "TorchMultiTask", "TorchNet", "TorchProblem", "multitask", "network", "sizes_of"]
