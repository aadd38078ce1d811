"""Linear regression y = a·x + b as a PyTorch user writes it: ``nn.Linear(1, 1)`` and ``optim.SGD``."""

from __future__ import annotations

import torch
from torch import nn

LOSSES = {"squared": nn.MSELoss, "absolute": nn.L1Loss}


def fit(x, y, a0, b0, lr, batches, loss="squared"):
    """Train ``nn.Linear(1, 1)`` (weight = a, bias = b) on the given batches, in order.

    ``x`` and ``y`` are 1-D tensors; ``batches`` a sequence of index arrays, one per update.
    Returns tensors ``a``, ``b`` (after each update) and ``losses`` (before each update).
    """
    model = nn.Linear(1, 1).to(dtype=x.dtype, device=x.device)
    with torch.no_grad():
        model.weight.fill_(a0)
        model.bias.fill_(b0)
    criterion = LOSSES[loss]()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    x, y = x.reshape(-1, 1), y.reshape(-1, 1)
    a_hist, b_hist, losses = [], [], []
    for idx in batches:
        idx = torch.as_tensor(idx, device=x.device)
        optimizer.zero_grad()
        batch_loss = criterion(model(x[idx]), y[idx])
        batch_loss.backward()
        optimizer.step()
        a_hist.append(model.weight.detach().reshape(()).clone())
        b_hist.append(model.bias.detach().reshape(()).clone())
        losses.append(batch_loss.detach())
    return torch.stack(a_hist), torch.stack(b_hist), torch.stack(losses)
