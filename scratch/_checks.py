"""Input checks shared by the NumPy implementations.

Every public function of ``scratch`` validates what it is given and fails with a message that
names the argument and the form it expected, the way ``torch`` does. The checks live here so that
the study code beside them stays short.
"""

from __future__ import annotations

import numpy as np


def as_float_array(x, name: str) -> np.ndarray:
    """Return ``x`` as a floating-point ndarray (float64 unless it already is a float type)."""
    arr = np.asarray(x)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{name} must be a numeric array, got dtype {arr.dtype}")
    if not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float64)
    return arr


def check_same_shape(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    if a.shape != b.shape:
        raise ValueError(
            f"{name_a} and {name_b} must have the same shape, got {name_a}{a.shape} and {name_b}{b.shape}"
        )


def check_finite(x: np.ndarray, name: str) -> None:
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} contains NaN or infinity")


def check_positive(value: float, name: str, allow_zero: bool = False) -> None:
    bad = value < 0 if allow_zero else value <= 0
    if not np.isfinite(value) or bad:
        expected = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {expected}, got {value}")


def check_in_range(value: float, name: str, low: float, high: float, high_inclusive: bool = False) -> None:
    ok = low <= value <= high if high_inclusive else low <= value < high
    if not ok:
        bracket = "]" if high_inclusive else ")"
        raise ValueError(f"{name} must be in [{low}, {high}{bracket}, got {value}")


def check_labels(t: np.ndarray, num_classes: int, name: str = "t") -> np.ndarray:
    """Integer class labels in ``[0, num_classes)``; returns them as an int array."""
    t = np.asarray(t)
    if not (np.issubdtype(t.dtype, np.integer) or (np.issubdtype(t.dtype, np.floating) and np.all(t == np.round(t)))):
        raise ValueError(f"{name} must hold integer class labels, got dtype {t.dtype}")
    t = t.astype(np.int64)
    if t.size and (t.min() < 0 or t.max() >= num_classes):
        raise ValueError(
            f"{name} holds labels in [{t.min()}, {t.max()}], expected every label in [0, {num_classes})"
        )
    return t
