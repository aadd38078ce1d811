"""Regularisation (정규화/가중치 감소) penalties with their gradients, and early stopping.

Penalties apply to weight matrices only (the book leaves biases alone). With λ ≥ 0:

    L2:       (λ/2)·Σ w²       gradient λ·w        (weight decay: each SGD step shrinks w by η·λ·w)
    L1:       λ·Σ |w|          subgradient λ·sign(w), sign(0) = 0 (as torch.sign): drives weights to 0
    elastic:  λ₁·Σ|w| + (λ₂/2)·Σ w²
"""

from __future__ import annotations

import copy

import numpy as np

from ._checks import as_float_array


def _check_lambda(lam, name="lam"):
    if not np.isfinite(lam) or lam < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {lam}")


def l2_penalty(weights, lam):
    """(λ/2)·Σ‖W‖² over a list of weight arrays."""
    _check_lambda(lam)
    return 0.5 * lam * sum(float(np.sum(as_float_array(w, "weights") ** 2)) for w in weights)


def l2_grad(w, lam):
    """∂/∂w (λ/2)·‖w‖² = λ·w."""
    _check_lambda(lam)
    return lam * as_float_array(w, "w")


def l1_penalty(weights, lam):
    """λ·Σ|W| over a list of weight arrays."""
    _check_lambda(lam)
    return lam * sum(float(np.sum(np.abs(as_float_array(w, "weights")))) for w in weights)


def l1_grad(w, lam):
    """λ·sign(w), with sign(0) = 0: the subgradient PyTorch's autograd returns for |w| at 0."""
    _check_lambda(lam)
    return lam * np.sign(as_float_array(w, "w"))


def elastic_penalty(weights, l1, l2):
    """λ₁·Σ|W| + (λ₂/2)·Σ‖W‖²."""
    return l1_penalty(weights, l1) + l2_penalty(weights, l2)


def elastic_grad(w, l1, l2):
    return l1_grad(w, l1) + l2_grad(w, l2)


class EarlyStopping:
    """Stop when the validation loss has not improved by more than ``min_delta`` for ``patience``
    epochs in a row, and give back the parameters of the best epoch (조기 종료).

        stopper = EarlyStopping(patience=5)
        for epoch in range(max_epochs):
            train_one_epoch()
            if stopper.step(val_loss, net.params):
                break
        stopper.restore(net.params)      # in place: the best weights, not the last
    """

    def __init__(self, patience: int = 5, min_delta: float = 0.0):
        if int(patience) != patience or patience < 1:
            raise ValueError(f"patience must be an integer >= 1, got {patience}")
        if not np.isfinite(min_delta) or min_delta < 0:
            raise ValueError(f"min_delta must be a finite number >= 0, got {min_delta}")
        self.patience, self.min_delta = int(patience), float(min_delta)
        self.best_loss = np.inf
        self.best_epoch = -1
        self.best_params = None
        self.epoch = -1
        self.bad_epochs = 0
        self.stopped_epoch = None

    def step(self, val_loss: float, params: dict) -> bool:
        """Record one epoch's validation loss; returns True when training should stop."""
        self.epoch += 1
        if not np.isfinite(val_loss):
            raise ValueError(f"val_loss must be finite, got {val_loss}")
        if val_loss < self.best_loss - self.min_delta:
            self.best_loss, self.best_epoch = float(val_loss), self.epoch
            self.best_params = copy.deepcopy(params)
            self.bad_epochs = 0
        else:
            self.bad_epochs += 1
        if self.bad_epochs >= self.patience:
            self.stopped_epoch = self.epoch
            return True
        return False

    def restore(self, params: dict) -> dict:
        """Copy the best epoch's values into ``params`` in place (and return it)."""
        if self.best_params is None:
            raise RuntimeError("restore called before any step")
        for key, value in self.best_params.items():
            params[key][...] = value
        return params
