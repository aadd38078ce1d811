"""The relation between the user's tensor and the reference's, when they differ and no catalogued
mistake explains them: a search over a few general forms, each tested exactly (at the tolerance
of the comparison), so that a named relation explains every number, not most of them.

    factor      a = c·e, c named where it can be: −1, 2, ½, N, 1/N, T, N·T, 1 − p, a hyperparameter …
    offset      a = e + d
    transpose   a = eᵀ, or e with its axes permuted
    reduction   a summed over an axis gives e (not summed), or e summed gives a (summed too much)
    kink        a = e except where the input is exactly 0
    first step  a = e at every step but the first (a training run, one row per step)
    at input    a = dout·g(x) where e = dout·g(y): a derivative written in the output y (σ' = y(1 − y),
                tanh' = 1 − y²) evaluated at the input x
    axis        a = the reference applied along another axis (a driver gives ``along(axis)``)
    variant     a = one of the variants a driver computes beside the reference: ε inside or outside the
                square root, another ε, biased or unbiased variance, a running average without its
                (1 − ρ), |g| where g² belongs (see :mod:`comparisons.variants`)

Each relation has a ``key``: what must hold again at a second, different point (another seed and
other hyperparameters) for the hint to name it — the same named constant, the same variant."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from .checks import close

SIMPLE = [("−1", -1.0), ("2", 2.0), ("½", 0.5), ("−2", -2.0), ("−½", -0.5)]
DERIVATIVES = {"σ'(u) = u(1 − u)": lambda u: u * (1 - u), "tanh'(u) = 1 − u²": lambda u: 1 - u * u}


@dataclass
class Relation:
    key: tuple  # what must hold at the second point
    text: str  # what the hint says
    value: float = 0.0  # a factor's or an offset's value


def _arrays(a, e):
    return np.asarray(a, dtype=np.float64), np.asarray(e, dtype=np.float64)


def _holds(a, b, tol, scale=None) -> bool:
    return a.shape == b.shape and bool(np.all(close(a, b, *tol, scale)))


def name_constant(c: float, constants, rtol: float = 1e-6) -> tuple:
    """Every name ``c`` has among ``constants`` [(name, value)] (their reciprocals and negatives too)
    and −1, 2, ½: at p = 0.5 a factor ½ is both ½ and 1 − p, and only a second point tells which."""
    candidates = []
    for name, v in constants:
        if v in (0, 1) or not np.isfinite(v):
            continue
        candidates += [(name, v), (f"1/({name})" if " " in name else f"1/{name}", 1 / v), (f"−{name}", -v)]
    candidates += SIMPLE
    return tuple(dict.fromkeys(name for name, v in candidates if abs(c - v) <= rtol * max(abs(v), 1e-300)))


def same(k1: tuple, k2: tuple) -> tuple | None:
    """Whether two relations' keys name one relation (a factor with a name in common at both points):
    the key they share, or None."""
    if k1[0] != k2[0]:
        return None
    if k1[0] in ("factor", "offset") and isinstance(k1[1], tuple) and isinstance(k2[1], tuple):
        common = [n for n in k1[1] if n in k2[1]]
        return (k1[0], tuple(common)) if common else None
    return k1 if k1 == k2 else None


def _described(kind, names, value):
    name = names[0]
    plain = name.lstrip("−").replace(".", "").isdigit() or name in ("½", "−½")
    shown = name if plain else f"{name} (= {value:.6g})"
    return f"yours = {shown} × PyTorch's" if kind == "factor" else f"yours = PyTorch's + {shown}, a constant offset"


def _named(kind: str, value: float, constants, tol) -> Relation:
    """A factor or an offset: by every name it has (the key a second point must share), or by its value."""
    names = name_constant(value, constants, rtol=max(tol[1] * 10, 1e-6))
    key = (kind, names) if names else (kind, round(value, 6))
    return Relation(key, _described(kind, names or (f"{value:.6g}".replace("-", "−"),), value), value)


def describe(key: tuple, value: float) -> str:
    return _described(key[0], key[1], value)


def factor(a, e, tol, constants, scale=None) -> Relation | None:
    a, e = _arrays(a, e)
    if a.shape != e.shape or not np.any(e):
        return None
    c = float(np.vdot(a, e) / np.vdot(e, e))
    if not np.isfinite(c) or abs(c - 1) < 1e-6 or abs(c) < 1e-12 or not _holds(a, c * e, tol, scale):  # ~1: rounding
        return None
    return _named("factor", c, constants, tol)


def offset(a, e, tol, constants, scale=None) -> Relation | None:
    a, e = _arrays(a, e)
    if a.shape != e.shape or a.size < 2:
        return None
    d = float(np.median(a - e))
    if d == 0 or not np.isfinite(d) or not _holds(a, e + d, tol, scale):
        return None
    return _named("offset", d, constants, tol)


def transpose(a, e, tol, constants, scale=None) -> Relation | None:
    a, e = _arrays(a, e)
    if a.ndim != e.ndim or a.ndim < 2 or sorted(a.shape) != sorted(e.shape) or a.ndim > 4:
        return None
    for perm in itertools.permutations(range(e.ndim)):
        if perm == tuple(range(e.ndim)):
            continue
        moved = e.transpose(perm)
        if moved.shape == a.shape and _holds(a, moved, tol):
            what = "transposed: yours = PyTorch'sᵀ" if e.ndim == 2 else f"the axes permuted: yours = PyTorch's.transpose{perm}"
            return Relation(("transpose", perm), f"{what} (yours {a.shape}, PyTorch's {e.shape})")
    return None


def reduction(a, e, tol, constants, scale=None) -> Relation | None:
    a, e = _arrays(a, e)
    if a.ndim == e.ndim + 1:
        for k in range(a.ndim):
            for how, f in (("summed", np.sum), ("averaged", np.mean)):
                if f(a, axis=k).shape == e.shape and _holds(f(a, axis=k), e, tol):
                    return Relation(("not reduced", k, how), f"yours is not reduced over axis {k}: it has shape {a.shape}, "
                                    f"and {how} over axis {k} it is PyTorch's {e.shape}")
    if e.ndim == a.ndim + 1:
        for k in range(e.ndim):
            if e.sum(axis=k).shape == a.shape and _holds(a, e.sum(axis=k), tol):
                return Relation(("reduced", k), f"yours has one axis fewer: it is PyTorch's result summed over "
                                f"PyTorch's axis {k}, an axis PyTorch keeps (yours {a.shape}, PyTorch's {e.shape})")
    return None


def kink(a, e, tol, x, scale=None) -> Relation | None:
    a, e = _arrays(a, e)
    if x is None or np.shape(x) != a.shape or a.shape != e.shape:
        return None
    x = np.asarray(x)
    bad = ~close(a, e, *tol, scale)
    if not bad.any() or not np.all(x[bad] == 0):
        return None
    i = tuple(np.argwhere(bad)[0])
    return Relation(("kink",), f"yours differs only where the input is exactly 0 (a kink): there yours is {a[i]:.6g}, "
                    f"PyTorch's {e[i]:.6g}")


def first_step(a, e, tol, scale=None) -> Relation | None:
    a, e = _arrays(a, e)
    if a.shape != e.shape or a.ndim < 2 or a.shape[0] < 3:
        return None
    bad = ~close(a, e, *tol, scale)
    rows = np.flatnonzero(bad.reshape(len(a), -1).any(axis=1))
    if len(rows) == 1 and rows[0] == 0:
        return Relation(("first step",), "yours differs at the first step only; every later step agrees")
    return None


def at_input(a, e, tol, context) -> Relation | None:
    a, e = _arrays(a, e)
    x, y, dout = (context.get(k) for k in ("x", "y", "dout"))
    if x is None or y is None or dout is None or a.shape != e.shape or np.shape(x) != a.shape:
        return None
    x, y, dout = (np.asarray(v, dtype=np.float64) for v in (x, y, dout))
    for name, g in DERIVATIVES.items():
        if _holds(e, dout * g(y), tol) and _holds(a, dout * g(x), tol):
            return Relation(("at input", name), f"the derivative is taken at the input: {name} needs the output y = f(x), "
                            "and yours computes it at x")
    return None


def along(a, e, tol, context) -> Relation | None:
    a, e = _arrays(a, e)
    reference = context.get("along")
    if reference is None or a.shape != e.shape or a.ndim < 2:
        return None
    for axis in range(a.ndim - 1):
        other = np.asarray(reference(axis), dtype=np.float64)
        if _holds(a, other, tol):
            return Relation(("axis", axis), f"yours is taken along axis {axis}; PyTorch's along the last axis ({a.ndim - 1})")
    return None


def variant(a, e, tol, context, scale=None) -> Relation | None:
    a, e = _arrays(a, e)
    for text, make in (context.get("variants") or {}).items():
        try:
            other = np.asarray(make(), dtype=np.float64)
        except (ValueError, FloatingPointError, ZeroDivisionError):
            continue
        if _holds(a, other, tol, scale):
            return Relation(("variant", text), text)
    return None


def explain(a, e, tol, context: dict | None = None, scale=None) -> Relation | None:
    """The first relation that explains every element of ``a`` against ``e`` at ``tol`` (atol, rtol),
    or None. ``context``: ``constants`` [(name, value)], ``x`` (the input, for kinks), ``y``/``dout``
    (for a derivative), ``along(axis)``, ``variants`` {text: () -> array}, ``steps`` (rows are steps)."""
    context = context or {}
    constants = context.get("constants", [])
    return (variant(a, e, tol, context, scale) or at_input(a, e, tol, context) or along(a, e, tol, context)
            or kink(a, e, tol, context.get("x"), scale) or (first_step(a, e, tol, scale) if context.get("steps") else None)
            or factor(a, e, tol, constants, scale) or offset(a, e, tol, constants, scale)
            or transpose(a, e, tol, constants) or reduction(a, e, tol, constants))


def show(a, e, n: int = 3) -> str:
    """A few of the user's numbers beside the reference's, where they differ most."""
    a, e = _arrays(a, e)
    if a.shape != e.shape:
        return f"yours {np.array2string(a.ravel()[:n], precision=4)}…, PyTorch's {np.array2string(e.ravel()[:n], precision=4)}…"
    diff = np.abs(a - e).ravel()
    idx = np.sort(np.argsort(-diff, kind="stable")[:n])
    fmt = lambda v: "[" + ", ".join(f"{x:.9g}" for x in v) + "]"  # noqa: E731
    return f"yours {fmt(a.ravel()[idx])}, PyTorch's {fmt(e.ravel()[idx])}"
