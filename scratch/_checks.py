"""Input checks shared by the NumPy implementations.

Every public function of ``scratch`` validates what it is given and fails with a message that
names the argument and the form it expected, the way ``torch`` does. The checks live here so that
the study code beside them stays short. They only look: a valid input passes through unchanged.
"""

from __future__ import annotations

import numbers

import numpy as np


# --- arrays --------------------------------------------------------------------------------------


def as_float_array(x, name: str) -> np.ndarray:
    """Return ``x`` as a real floating-point ndarray (float64 unless it already is a float type).

    Integers and booleans are promoted to float64; strings, objects (``None`` included) and
    complex numbers are refused with a TypeError naming ``name``.
    """
    arr = np.asarray(x)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a real numeric array, got {_describe(x, arr)}")
    if arr.dtype.kind != "f":
        arr = arr.astype(np.float64)
    return arr


def check_same_shape(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    if a.shape != b.shape:
        raise ValueError(
            f"{name_a} and {name_b} must have the same shape, got {name_a}{a.shape} and {name_b}{b.shape}"
        )


def check_shape(x: np.ndarray, shape: tuple, name: str, meaning: str = "") -> None:
    """``x.shape == shape``, else a ValueError with both shapes (``meaning`` says where it comes from)."""
    if x.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}{meaning}, got {name}{x.shape}")


def check_ndim(x: np.ndarray, ndim: int, name: str, form: str) -> None:
    """``x.ndim == ndim``; ``form`` spells the expected shape, e.g. ``"(N, in)"``."""
    if x.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D of shape {form}, got {name}{x.shape}")


def as_dout(dout, out_shape: tuple) -> np.ndarray:
    """The upstream gradient of a backward pass: a float array of the forward output's shape.

    NumPy would broadcast a wrongly shaped ``dout`` into a wrong gradient without a word; autograd
    refuses ("Mismatch in shape: grad_output[0] has a shape of ... and output[0] has a shape of ...").
    """
    dout = as_float_array(dout, "dout")
    check_shape(dout, out_shape, "dout", " (the shape of the forward output)")
    return dout


def check_finite(x: np.ndarray, name: str) -> None:
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} contains NaN or infinity")


def check_parameter(p, name: str) -> np.ndarray:
    """A parameter updated in place (by an optimizer, or restored): a writeable ndarray of a floating dtype.

    A NumPy scalar, a Python float or a list cannot be changed in place (``p -= g`` would only
    rebind a local name), so they are refused, as torch only optimizes Tensors.
    """
    if not isinstance(p, np.ndarray):
        raise TypeError(f"{name} must be an ndarray, updated in place; got {type(p).__name__} "
                        f"(a 0-d array np.array(value) holds a single number)")
    if p.dtype.kind != "f":
        raise TypeError(f"{name} must have a floating dtype to be trained by gradients, got dtype {p.dtype} "
                        "(as torch: only Tensors of floating point dtype can require gradients)")
    if not p.flags.writeable:
        raise ValueError(f"{name} is read-only; the optimizer updates it in place")
    return p


def check_labels(t: np.ndarray, num_classes: int, name: str = "t", classes_of: str = "") -> np.ndarray:
    """Integer class labels in ``[0, num_classes)``; returns them as an int array. ``classes_of``
    names where the classes come from (e.g. the scores ``y(3, 4)``)."""
    t = np.asarray(t)
    integral = np.issubdtype(t.dtype, np.integer) or (
        np.issubdtype(t.dtype, np.floating) and np.all(np.isfinite(t)) and np.all(t == np.round(t)))
    if not integral:
        raise ValueError(f"{name} must hold integer class labels, got {_describe(t, t)}")
    t = t.astype(np.int64)
    if t.size and (t.min() < 0 or t.max() >= num_classes):
        raise ValueError(
            f"{name} holds labels in [{t.min()}, {t.max()}], expected every label in [0, {num_classes})"
            + (f", the classes of {classes_of}" if classes_of else "")
        )
    return t


def check_axis(axis, ndim: int, name: str = "axis") -> int:
    """An axis of an ``ndim``-dimensional array, as a non-negative int. A 0-d array has the axes
    of a 1-element vector (−1 and 0), as torch's ``dim`` on a 0-d tensor."""
    axis = check_int(axis, name)
    n = max(ndim, 1)
    if not -n <= axis < n:
        raise ValueError(f"{name} out of range (expected to be in range of [{-n}, {n - 1}], but got {axis})")
    return axis % n


# --- numbers -------------------------------------------------------------------------------------


def check_real(value, name: str):
    """A real number: a Python or NumPy scalar or a 0-d real array (returned unchanged)."""
    is_number = isinstance(value, numbers.Real) or (
        isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "biuf")
    if not is_number:
        raise TypeError(f"{name} must be a real number, got {_describe(value)}")
    return value


def is_finite(value) -> bool:
    """Whether a real number is finite: a float that is neither ±inf nor NaN, or an integer that a
    float can hold (np.isfinite refuses a Python int beyond 64 bits with a TypeError)."""
    if isinstance(value, numbers.Integral):
        return abs(int(value)) < 2**1024
    return bool(np.isfinite(value))


def check_positive(value: float, name: str, allow_zero: bool = False) -> None:
    check_real(value, name)
    bad = value < 0 if allow_zero else value <= 0
    if not is_finite(value) or bad:
        expected = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {expected}, got {value}")


def check_in_range(value: float, name: str, low: float, high: float, high_inclusive: bool = False) -> None:
    check_real(value, name)
    ok = low <= value <= high if high_inclusive else low <= value < high
    if not ok:
        bracket = "]" if high_inclusive else ")"
        raise ValueError(f"{name} must be in [{low}, {high}{bracket}, got {value}")


def check_dropout_probability(p, name: str) -> None:
    """The probability to drop a unit: in [0, 1) (1 would drop everything and divide by 0)."""
    check_real(p, name)
    if not 0.0 <= p < 1.0:
        raise ValueError(f"dropout probability has to be in [0, 1), but got {name}={p}")


def check_int(value, name: str, minimum: int | None = None) -> int:
    """An integer (an integral float such as 5.0 too), at least ``minimum``; returned as an int."""
    check_real(value, name)
    expected = "an integer" if minimum is None else f"an integer >= {minimum}"
    if not is_finite(value) or int(value) != value or (minimum is not None and value < minimum):
        raise ValueError(f"{name} must be {expected}, got {value}")
    return int(value)


# --- other arguments -----------------------------------------------------------------------------


def check_flag(value, name: str) -> bool:
    """True or False (a string such as "no" would be truthy)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {_describe(value)}")
    return bool(value)


def check_callable(f, name: str) -> None:
    if not callable(f):
        raise TypeError(f"{name} must be callable, got {_describe(f)}")


def check_provides(space, names, name: str) -> None:
    """``space`` (a module or namespace of classes) must hold a callable under each of ``names``."""
    missing = [n for n in names if not callable(getattr(space, n, None))]
    if missing:
        raise TypeError(f"{name} must provide the layer classes {list(names)}; {space!r} has no {missing}")


def gradient_at(grad_f, x: np.ndarray, name: str = "grad_f") -> np.ndarray:
    """``grad_f(x)``, checked to be a real array of x's shape (NumPy would broadcast any other).
    The value itself is returned as ``grad_f`` gave it."""
    g = grad_f(x)
    check_shape(as_float_array(g, f"the value of {name}"), x.shape, f"the value of {name}", " (the shape of x)")
    return g


def check_rng(rng, name: str = "rng") -> None:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"{name} must be a numpy.random.Generator (np.random.default_rng(seed)), got {_describe(rng)}")


def generator_or_global(rng, name: str = "rng") -> np.random.Generator:
    """``rng`` itself, checked; or, when None, a generator seeded from NumPy's global one, so that
    ``np.random.seed(s)`` makes a run repeatable, as it does the book's ``np.random.rand`` masks."""
    if rng is None:
        return np.random.default_rng(np.random.randint(2**32, dtype=np.uint64))
    check_rng(rng, name)
    return rng


def check_dict(d, name: str) -> None:
    if not isinstance(d, dict):
        raise TypeError(f"{name} must be a dict, got {_describe(d)}")


def _describe(value, arr=None) -> str:
    """``value``'s type (and dtype, for an array) in a few words, for an error message."""
    if arr is not None and (isinstance(value, np.ndarray) or arr.dtype.kind not in "OSU"):
        return f"dtype {arr.dtype}"
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 40 else text[:37] + '...'}"
