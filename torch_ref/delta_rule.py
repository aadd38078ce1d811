"""The single-layer sigmoid network and the XOR network as a PyTorch user writes them:
``nn.Linear(bias=False)`` + ``nn.Sigmoid``, the loss ½(d − y)², and ``optim.SGD(lr=α)``."""

from __future__ import annotations

import torch
from torch import nn


def half_squared_error(y, d):
    """Mean over the batch of ½(d − y)² (PyTorch has no module for the ½; it is 0.5·MSELoss)."""
    return 0.5 * nn.functional.mse_loss(y, d)


def train(W0: torch.Tensor, X: torch.Tensor, D: torch.Tensor, alpha: float, epochs: int, batch_size: int):
    """nn.Linear(n, 1, bias=False) + nn.Sigmoid trained by SGD over batches taken in order.

    batch_size 1 is the study notes' SGD variant, len(X) its batch variant, 2 its mini-batch.
    Returns (weight after every epoch, loss after every epoch)."""
    model = nn.Sequential(nn.Linear(X.shape[1], 1, bias=False), nn.Sigmoid()).to(X)
    with torch.no_grad():
        model[0].weight.copy_(W0)
    optimizer = torch.optim.SGD(model.parameters(), lr=alpha)
    d = D.reshape(-1, 1)
    weights, losses = [], []
    for _ in range(epochs):
        for start in range(0, len(X), batch_size):
            optimizer.zero_grad()
            half_squared_error(model(X[start:start + batch_size]), d[start:start + batch_size]).backward()
            optimizer.step()
        with torch.no_grad():
            weights.append(model[0].weight.detach().clone())
            losses.append(half_squared_error(model(X), d))
    return torch.stack(weights), torch.stack(losses)


def train_two_layer(W1, W2, X, D, alpha: float, epochs: int):
    """3→hidden→1 sigmoid network without biases, per-sample SGD on ½(d − y)²."""
    model = nn.Sequential(nn.Linear(W1.shape[1], W1.shape[0], bias=False), nn.Sigmoid(),
                          nn.Linear(W2.shape[1], 1, bias=False), nn.Sigmoid()).to(X)
    with torch.no_grad():
        model[0].weight.copy_(W1)
        model[2].weight.copy_(W2)
    optimizer = torch.optim.SGD(model.parameters(), lr=alpha)
    d = D.reshape(-1, 1)
    h1, h2, losses = [], [], []
    for _ in range(epochs):
        for k in range(len(X)):
            optimizer.zero_grad()
            half_squared_error(model(X[k:k + 1]), d[k:k + 1]).backward()
            optimizer.step()
        with torch.no_grad():
            h1.append(model[0].weight.detach().clone())
            h2.append(model[2].weight.detach().clone())
            losses.append(half_squared_error(model(X), d))
    return torch.stack(h1), torch.stack(h2), torch.stack(losses), model
