"""The multi-layer network as a PyTorch user writes it: ``nn.Sequential`` of ``nn.Linear`` and
activations, trained with ``nn.CrossEntropyLoss`` and a ``torch.optim`` optimizer."""

from __future__ import annotations

import torch
from torch import nn

ACTIVATIONS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "identity": nn.Identity}


def mlp(sizes: list[int], activation: str = "relu") -> nn.Sequential:
    """Linear(sizes[0], sizes[1]) → act → … → Linear(sizes[-2], sizes[-1]); no softmax at the end
    (``nn.CrossEntropyLoss`` takes the scores)."""
    modules = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        modules.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            modules.append(ACTIVATIONS[activation]())
    return nn.Sequential(*modules)


def linear_layers(model: nn.Module) -> list[nn.Linear]:
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


def train_step(model: nn.Module, optimizer: torch.optim.Optimizer, x, t, criterion=None) -> torch.Tensor:
    """One step of the canonical loop: zero_grad, forward, loss, backward, step. Returns the loss."""
    criterion = criterion or nn.CrossEntropyLoss()
    optimizer.zero_grad()
    loss = criterion(model(x), t)
    loss.backward()
    optimizer.step()
    return loss.detach()


@torch.no_grad()
def accuracy(model: nn.Module, x, t) -> float:
    was_training = model.training
    model.eval()
    acc = (model(x).argmax(dim=1) == t).double().mean().item()
    model.train(was_training)
    return acc
