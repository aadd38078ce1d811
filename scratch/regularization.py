"""Regularisation (정규화/가중치 감소) penalties with their gradients, and early stopping.

Penalties apply to weight matrices only (the book leaves biases alone). With λ ≥ 0:

    L2:       (λ/2)·Σ w²       gradient λ·w        (weight decay: each SGD step shrinks w by η·λ·w)
    L1:       λ·Σ |w|          subgradient λ·sign(w), sign(0) = 0 (as torch.sign): drives weights to 0
    elastic:  λ₁·Σ|w| + (λ₂/2)·Σ w²
"""

from __future__ import annotations

import copy

import numpy as np

from ._checks import (as_float_array, check_dict, check_int, check_parameter, check_positive, check_real, check_shape,
                      is_finite)
from .losses import _sign


def l2_penalty(weights, lam):
    """(λ/2)·Σ‖W‖² over a list of weight arrays."""
    check_positive(lam, "lam", allow_zero=True)
    return 0.5 * lam * sum(float(np.sum(w**2)) for w in _weight_list(weights))


def l2_grad(w, lam):
    """∂/∂w (λ/2)·‖w‖² = λ·w."""
    check_positive(lam, "lam", allow_zero=True)
    return lam * as_float_array(w, "w")


def l1_penalty(weights, lam):
    """λ·Σ|W| over a list of weight arrays."""
    check_positive(lam, "lam", allow_zero=True)
    return lam * sum(float(np.sum(np.abs(w))) for w in _weight_list(weights))


def l1_grad(w, lam):
    """λ·sign(w), with sign(0) = 0: the subgradient PyTorch's autograd returns for |w| at 0 (and 0
    at NaN, as it too; see :func:`scratch.losses._sign`)."""
    check_positive(lam, "lam", allow_zero=True)
    return lam * _sign(as_float_array(w, "w"))


def elastic_penalty(weights, l1, l2):
    """λ₁·Σ|W| + (λ₂/2)·Σ‖W‖²."""
    _check_elastic(l1, l2)
    return l1_penalty(weights, l1) + l2_penalty(weights, l2)


def elastic_grad(w, l1, l2):
    """λ₁·sign(w) + λ₂·w."""
    _check_elastic(l1, l2)
    return l1_grad(w, l1) + l2_grad(w, l2)


def _check_elastic(l1, l2):
    check_positive(l1, "l1", allow_zero=True)
    check_positive(l2, "l2", allow_zero=True)


def _weight_list(weights):
    """The weight arrays of a list or tuple (a dict such as ``net.params`` would also hold biases)."""
    if not isinstance(weights, (list, tuple)):
        raise TypeError(f"weights must be a list of weight arrays, got {type(weights).__name__}")
    return [as_float_array(w, f"weights[{i}]") for i, w in enumerate(weights)]


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
        patience = check_int(patience, "patience", minimum=1)
        check_positive(min_delta, "min_delta", allow_zero=True)
        self.patience, self.min_delta = patience, float(min_delta)
        self.best_loss = np.inf
        self.best_epoch = -1
        self.best_params = None
        self.epoch = -1
        self.bad_epochs = 0
        self.stopped_epoch = None

    def step(self, val_loss: float, params: dict) -> bool:
        """Record one epoch's validation loss; returns True when training should stop."""
        check_real(val_loss, "val_loss")
        check_dict(params, "params")
        if not is_finite(val_loss):
            raise ValueError(f"val_loss must be finite, got {val_loss}")
        self.epoch += 1
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
        check_dict(params, "params")
        for key, value in self.best_params.items():
            if key not in params:
                raise ValueError(f"params has no entry {key!r}; it must have the keys it had in step")
            check_parameter(params[key], f"params[{key!r}]")
            check_shape(params[key], np.shape(value), f"params[{key!r}]", " (its shape at the best epoch)")
        for key, value in self.best_params.items():
            params[key][...] = value
        return params
