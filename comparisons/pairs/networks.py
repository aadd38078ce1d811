"""Networks (kind ``network``): the book's ``TwoLayerNet`` / ``MultiLayerNet`` (``params`` with W
as (in, out), ``gradient(x, t)`` and ``loss(x, t)``) or CS231n's (``loss(X, y) -> (loss, grads)``),
against autograd on ``torch_ref.networks.mlp`` loaded with the same parameters, then ≥ 100 SGD
steps that update ``params`` in place as the book's loop does.

When the gradients differ, the other hidden activations are tried on the PyTorch side
(``reference_only``): a net that hard-codes sigmoid, or whose ``activation='relu'`` builds something
else, is named with the ``--hparam activation=…`` that makes it agree."""

from __future__ import annotations

from types import SimpleNamespace

import scratch.layers as SL
import scratch.networks as SN
import torch_ref.networks as tnet

from ._base import Hparam, Mistake, Pair
from ._drivers import drive_network
from .layers import LinearDbNotSummed, LinearDWSign, SoftmaxWithLossBookDelta, SoftmaxWithLossNotAveraged

HPARAMS = (Hparam("activation", "relu", None, choices=("relu", "sigmoid", "tanh")),
           Hparam("lr", 0.1, "lr", aliases=("learning_rate",)),
           Hparam("delta", 0.0, None),
           Hparam("weight_decay_lambda", 0.0, None, aliases=("reg", "weight_decay")))


def net_with(activation=None, **layers):
    """scratch's MultiLayerNet built from scratch's layers with some replaced (a catalogued mistake);
    with ``activation`` fixed, the constructor no longer takes it (as a net that hard-codes it)."""
    space = SimpleNamespace(**{**{k: getattr(SL, k) for k in dir(SL) if not k.startswith("_")}, **layers})
    if activation is None:
        def build(params, activation="relu"):
            return SN.MultiLayerNet(params, activation=activation, layers=space)
    else:
        def build(params):
            return SN.MultiLayerNet(params, activation=activation, layers=space)
    return build


PAIRS = [
    Pair("mlp", "network", "networks.MultiLayerNet", tnet.mlp,
         "a class constructed from its parameter names (input_size, hidden_size or hidden_size_list, output_size, "
         "activation, … or params) with params W1, b1, … (W as (in, out)) and gradient(x, t) -> grads plus loss(x, t), "
         "or CS231n's loss(X, y) -> (loss, grads); softmax-with-loss at the end",
         drive_network, HPARAMS, None,
         (Mistake("the book's δ = 1e-7 inside the log of its cross-entropy (SoftmaxWithLoss): PyTorch has no δ",
                  net_with(SoftmaxWithLoss=SoftmaxWithLossBookDelta), flag={"delta": 1e-7}),
          Mistake("your gradients match activation='sigmoid'", net_with("sigmoid"), flag={"activation": "sigmoid"}),
          Mistake("your gradients match activation='tanh'", net_with("tanh"), flag={"activation": "tanh"}),
          Mistake("dW has the wrong sign: dW = xᵀ·dout", net_with(Linear=LinearDWSign)),
          Mistake("db is not summed over the batch: b was added to every row, so db = Σₙ doutₙ",
                  net_with(Linear=LinearDbNotSummed)),
          Mistake("backward is not divided by the batch size: the loss is a mean, so dx = (y − t)/N",
                  net_with(SoftmaxWithLoss=SoftmaxWithLossNotAveraged))),
         ("TwoLayerNet", "MultiLayerNet", "FullyConnectedNet", "ThreeLayerNet", "TwoLayerNetwork"),
         {"reference_only": ("activation",)}),
]
