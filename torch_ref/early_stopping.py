"""Early stopping as a PyTorch user writes it. PyTorch itself has no early-stopping class (the
higher-level libraries do), so this is the plain loop from the tutorials: keep a copy of the best
``state_dict`` and load it back at the end."""

from __future__ import annotations

import copy

import torch
from torch import nn


def train_with_early_stopping(model: nn.Module, optimizer, epochs, x_val, t_val, patience: int,
                              min_delta: float = 0.0, criterion=None):
    """``epochs`` yields one training function per epoch (it runs that epoch's steps).

    After each epoch the validation loss is measured in eval mode; training stops when it has not
    improved by more than ``min_delta`` for ``patience`` epochs, and the best weights are loaded.
    Returns (validation losses, best epoch, stopped epoch or None)."""
    criterion = criterion or nn.CrossEntropyLoss()
    best, best_epoch, bad, stopped = float("inf"), -1, 0, None
    best_state = copy.deepcopy(model.state_dict())
    val_losses = []
    for epoch, train_epoch in enumerate(epochs):
        model.train()
        train_epoch()
        model.eval()
        with torch.no_grad():
            val = criterion(model(x_val), t_val).item()
        val_losses.append(val)
        if val < best - min_delta:
            best, best_epoch, bad = val, epoch, 0
            best_state = copy.deepcopy(model.state_dict())
        else:
            bad += 1
        if bad >= patience:
            stopped = epoch
            break
    model.load_state_dict(best_state)
    return val_losses, best_epoch, stopped
