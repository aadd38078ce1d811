"""What a declaration is made of, and the few rules every driver shares: how the implementation
under test is called (its errors become verdicts, not crashes), and how constructor and keyword
arguments are matched to hyperparameters by name."""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np


class VerifyUsageError(Exception):
    """The target cannot be used as asked (exit status 2): not importable, not of the interface,
    an unknown reference or hyperparameter, a reference that is not finite."""


class TargetError(Exception):
    """The code under test raised, called ``sys.exit`` or ran past the time limit: its verdict is
    'error', with this message."""


@dataclass(frozen=True)
class Hparam:
    """A hyperparameter under the name ``scratch`` (and the book) gives it.

    ``torch`` is PyTorch's name for it (None: the torch side does not take it), ``aliases`` the
    other names a user's constructor may ask for it by (``dropout_ratio`` for ``p``), ``to_torch``
    converts the value where the meaning differs (batch norm's momentum m → 1 − m). ``bounds`` is
    the interval both sides accept, as written in mathematics (``"[0, 1)"``, ``"[0, inf)"``; None:
    any finite number), ``integer`` that the value must be a whole number: a value outside them is
    a usage error before anything is built (:meth:`problem`)."""

    name: str
    default: Any
    torch: str | None = None
    aliases: tuple = ()
    to_torch: Callable | None = None
    choices: tuple | None = None
    bounds: str | None = None
    integer: bool = False

    def names(self) -> tuple:
        return (self.name, *self.aliases)

    def problem(self, value) -> str | None:
        """Why ``value`` cannot be given for this hyperparameter (its choices, a number, finite, whole,
        within ``bounds``), or None."""
        if self.choices is not None:
            return None if value in self.choices else f"must be one of {list(self.choices)}"
        if not isinstance(self.default, (int, float)) and self.default is not None and self.bounds is None:
            return None  # a name (gate_order="ifgo") or a value the driver reads as it likes
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return "must be a number"
        low, high, closed_low, closed_high = _interval(self.bounds or "(-inf, inf)")
        if value != value or (value in (float("inf"), float("-inf")) and not (
                (value == high and closed_high) or (value == low and closed_low))):
            return "must be a finite number"
        if self.integer and value != int(value):
            return "must be a whole number"
        if value < low or value > high or (value == low and not closed_low) or (value == high and not closed_high):
            return f"must be in {self.bounds}"
        return None


def _interval(text: str) -> tuple:
    """``"[0, 1)"`` → (0.0, 1.0, True, False)."""
    low, high = (float(part.strip()) for part in text.strip()[1:-1].split(","))
    return low, high, text.strip()[0] == "[", text.strip()[-1] == "]"


@dataclass(frozen=True)
class Mistake:
    """One entry of a pair's catalogue.

    ``wrong`` is an implementation with the mistake (same interface as the pair's scratch object):
    when the user's numbers match what ``wrong`` computes, ``hint`` is shown. A *convention*
    (``flag`` given) is a different but legitimate definition: the reference computed with those
    hyperparameters agrees with it, and the hint names the flag that makes the verdict AGREES."""

    hint: str
    wrong: Any = None
    flag: dict | None = None

    @property
    def is_convention(self) -> bool:
        return self.flag is not None

    def flag_text(self) -> str:
        return " ".join(f"--hparam {k}={v}" for k, v in (self.flag or {}).items())


@dataclass(frozen=True)
class Pair:
    """One compared pair: the NumPy object of ``scratch`` and its PyTorch reference.

    ``scratch`` is the dotted name inside the implementation (``"layers.ReLU"``), read through
    ``ctx.impl`` so that any implementation can stand in. ``torch`` is the ``torch_ref`` builder
    the driver calls. ``inputs(ctx)`` gives the inputs that exercise it. ``names`` are the names a
    user's file may give it (for ``verify FILE.py``)."""

    id: str
    kind: str
    scratch: str
    torch: Callable
    interface: str
    drive: Callable
    hparams: tuple = ()
    inputs: Callable | None = None
    mistakes: tuple = ()
    names: tuple = ()
    options: dict = field(default_factory=dict)

    def defaults(self) -> dict:
        return {h.name: h.default for h in self.hparams}

    def hparam(self, name: str) -> Hparam | None:
        return next((h for h in self.hparams if name in h.names()), None)

    def torch_kwargs(self, hparams: dict) -> dict:
        """The hyperparameters under PyTorch's names (``betas`` gathered from beta1, beta2)."""
        out: dict = {}
        for hp in self.hparams:
            if hp.torch is None or hp.name not in hparams:
                continue
            value = hp.to_torch(hparams[hp.name]) if hp.to_torch else hparams[hp.name]
            if hp.torch.startswith("betas["):
                betas = list(out.get("betas", (0.9, 0.999)))
                betas[int(hp.torch[6])] = value
                out["betas"] = tuple(betas)
            else:
                out[hp.torch] = value
        return out

    def reference_object(self):
        """The object that is this pair's PyTorch side, as the guide shows it beside ``scratch``'s:
        the ``torch_ref`` builder itself, or what a thin adapter of :mod:`comparisons.pairs` calls
        (named by :func:`shows`), which is PyTorch's own class where that is all it builds
        (``nn.ReLU``)."""
        return getattr(self.torch, "torch_ref", self.torch)

    def scratch_object(self, impl):
        """The implementation's object for this pair (``impl.layers.ReLU``); a usage error if absent."""
        sub, _, name = self.scratch.partition(".")
        space = getattr(impl, sub, None)
        if space is None or not hasattr(space, name):
            raise VerifyUsageError(f"the implementation has no {self.scratch} (needed for {self.kind} {self.id})")
        return getattr(space, name)


@dataclass
class Comparison:
    """One quantity on both sides. ``hint_value`` is what a catalogued mistake's numbers are
    matched against (``actual`` unless the quantity is random, e.g. a dropout mask)."""

    label: str
    actual: Any
    expected: Any
    kind: str = "exact"
    note: str = ""
    hint_value: Any = None
    tol: float | None = None  # for kind 'statistical': |measured − expected| ≤ tol
    quantity: str = ""  # for kind 'lockstep': actual and expected hold one row per step
    scale: Any = None  # the size of the terms a result was summed from (see checks.close)
    context: dict | None = None  # what the relation search may use (see comparisons.relations.explain)
    again: bool = False  # made on an object's second call (see comparisons.pairs.compare)
    nonfinite: bool = False  # on inputs that hold NaN or ±inf (see comparisons.pairs.compare)

    def matchable(self):
        return self.actual if self.hint_value is None else self.hint_value


def shows(adapter, torch_ref_object):
    """Mark ``adapter`` (a thin function of :mod:`comparisons.pairs` that fits a ``torch_ref``
    object to a driver) as showing ``torch_ref_object``: the guide lists that beside scratch's."""
    adapter.torch_ref = torch_ref_object
    return adapter


# --- calling the code under test ------------------------------------------------------------------

IN_WORKER = False  # set in verify's worker process, where a KeyboardInterrupt can only come from the code under test


def call(fn, what: str, *args, **kwargs):
    """Call the code under test; what it raises (or a ``sys.exit``) becomes a :class:`TargetError`.
    In verify's worker process (:mod:`comparisons.verify_worker`), which ignores the terminal's
    Ctrl-C, a ``KeyboardInterrupt`` is the code's own and becomes one too."""
    try:
        with np.errstate(all="ignore"):
            return fn(*args, **kwargs)
    except (TargetError, VerifyUsageError):
        raise
    except SystemExit as exc:
        raise TargetError(f"{what} called sys.exit({exc.code!r})") from None
    except KeyboardInterrupt:
        if not IN_WORKER:
            raise
        raise TargetError(f"{what} raised KeyboardInterrupt") from None
    except Exception as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        hint = next((h for kind, text, h in KNOWN_ERRORS if isinstance(exc, kind) and text in first_line), "")
        raise TargetError(f"{what} raised {type(exc).__name__}: {first_line}" + (f" ({hint})" if hint else "")) from None


# Errors that hand-written NumPy code often meets, with what they mean (type, text in the message, hint)
KNOWN_ERRORS = [
    (AttributeError, "module 'numpy' has no attribute 'int'",
     "NumPy 1.24 removed the alias np.int: write int, or np.int64 (the book's step_function uses np.int)"),
    (AttributeError, "module 'numpy' has no attribute 'float'",
     "NumPy 1.24 removed the alias np.float: write float, or np.float64"),
    (TypeError, "cannot be interpreted as an integer",
     "a NumPy constructor was given an array where it takes a shape: np.zeros(x) needs x.shape, or np.zeros_like(x) "
     "(the book's relu_grad writes np.zeros(x))"),
]


def parameters(fn) -> dict | None:
    """The parameters of a callable's signature by name, or None when it cannot be read (or takes **kwargs)."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    if any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values()):
        return None
    return dict(sig.parameters)


def accepted(fn, pair: Pair, hparams: dict) -> dict:
    """The hyperparameters ``fn`` takes as keywords, under the names it asks for them by."""
    params = parameters(fn)
    if params is None:
        return dict(hparams)
    out = {}
    for name in params:
        hp = pair.hparam(name)
        if hp is not None and hp.name in hparams:
            out[name] = _like(params[name].default, hparams[hp.name])
    return out


def user_defaults(fn, pair: Pair) -> dict:
    """The defaults the user's signature gives to the pair's hyperparameters (scratch names):
    where no ``--hparam`` is given they go to PyTorch too."""
    params = parameters(fn) or {}
    out = {}
    for name, p in params.items():
        hp = pair.hparam(name)
        if hp is not None and p.default is not inspect.Parameter.empty and isinstance(p.default, (int, float, str)) \
                and not isinstance(p.default, bool):
            out[hp.name] = p.default
    return out


def construct(cls, pair: Pair, hparams: dict, given: dict, run):
    """Instantiate the user's class with what its parameter names ask for: arrays from ``given``
    (``W``, ``b``, ``gamma``, ``params``, ``input_size`` …) and hyperparameters from ``h``. On a
    second call (:func:`comparisons.pairs.compare`), the object the first call made here instead:
    the same weights, called once already."""
    if not callable(cls):
        raise VerifyUsageError(f"{pair.kind} {pair.id} expects {pair.interface}; got a {type(cls).__name__}")
    again = getattr(run, "again", None)
    reused = again.reuse(cls) if again is not None else None
    if reused is not None:
        return reused
    obj = _construct(cls, pair, hparams, given, run)
    if getattr(run, "made", None) is not None and not isinstance(obj, (np.ndarray, tuple, list, dict, int, float, str)):
        run.made.append((cls, obj))
    return obj


def _construct(cls, pair: Pair, hparams: dict, given: dict, run):
    params = parameters(cls)
    if params is None:
        return call(cls, "the constructor", **{**given, **hparams})
    kwargs, missing = {}, []
    for name, p in params.items():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        key = _given_key(name, given)
        hp = pair.hparam(name)
        if key is not None:
            kwargs[name] = given[key]
        elif hp is not None and hp.name in hparams:
            kwargs[name] = _like(p.default, hparams[hp.name])
        elif p.default is inspect.Parameter.empty:
            missing.append(name)
    if missing:
        raise VerifyUsageError(f"{pair.kind} {pair.id} expects {pair.interface}; the constructor asks for "
                               f"{missing}, which this reference cannot give (it gives {sorted(set(given) | set(hparams))})")
    ignored = sorted(hp.name for hp in pair.hparams if hp.name in run.explicit and not any(n in params for n in hp.names()))
    if ignored:
        run.notes.append("the constructor does not take " + ", ".join(ignored) + ": PyTorch uses "
                     + ", ".join(f"{k}={hparams[k]}" for k in ignored))
    obj = call(cls, f"constructing {getattr(cls, '__name__', 'it')}", **kwargs)
    if getattr(obj, "_verify_note", None):  # what an adapter found out about the code it wraps
        run.notes.append(obj._verify_note)
    remember_order(obj, [_given_key(name, given) for name in params if isinstance(kwargs.get(name), np.ndarray)])
    return obj


_ORDERS: dict = {}  # id(object) -> (the object, the given arrays' keys in the order its constructor took them)


CONSTRUCTED: list = []  # the objects under test built since the last drive began (their arrays tell their dtype)


def remember_order(obj, keys) -> None:
    """Keep the order in which ``obj``'s constructor took its arrays (``Affine(W, b)``): the book's
    second volume keeps their gradients in a list in that order (``grads = [dW, db]``)."""
    while len(_ORDERS) >= 256:  # the oldest first: a driver holds a few objects at a time
        del _ORDERS[next(iter(_ORDERS))]
    if len(CONSTRUCTED) < 64:
        CONSTRUCTED.append(obj)
    _ORDERS[id(obj)] = (obj, [k for k in keys if k is not None])


def constructor_order(obj) -> list:
    entry = _ORDERS.get(id(obj))
    return entry[1] if entry and entry[0] is obj else []


def _like(default, value):
    """A 0/1 flag as a bool where the user's parameter defaults to a bool, and the choice "none" as
    None where it defaults to None (CS231n's ``normalization=None``)."""
    if default is None and value == "none":
        return None
    return bool(value) if isinstance(default, bool) and value in (0, 1) else value


def _given_key(name, given):
    if name in given:
        return name
    lowered = {k.lower(): k for k in given}
    return lowered.get(name.lower())


def as_array(value, what: str, shape: tuple | None = None) -> np.ndarray:
    """A result of the code under test as an ndarray, its dtype kept: a complex, object or text
    result is compared as it is, and fails naming its dtype (never cast to real numbers in
    silence), and copied (the code may change an array it keeps on its next call). Nothing returned
    (None) is the code's error, saying what was expected (``shape``, the reference's, where the
    driver knows it)."""
    if value is None:
        expected = "" if shape is None else "; expected a number" if tuple(shape) == () else \
            f"; expected an array of shape {tuple(shape)}"
        subject = what[:-len("'s result")] if what.endswith("'s result") else "it" if what == "its result" else None
        raise TargetError((f"{subject} returned None" if subject else f"{what} is None") + expected)
    if isinstance(value, np.ndarray):
        return value.copy()  # what the code keeps may change on its next call: the result is taken as it is now
    try:
        return np.array(value)
    except (TypeError, ValueError) as exc:
        raise TargetError(f"{what} is not an array: a {type(value).__name__} ({str(exc).splitlines()[0]})") from None


NONFINITE = "NaN and ±inf"  # in the label of every case whose inputs hold them, or log 0 (see pairs.compare)
NAN_INF = (np.nan, np.inf, -np.inf)


def nonfinite(ctx, shape, values=NAN_INF, scale: float = 3.0) -> np.ndarray:
    """Random values (scale ``scale``) with exact zeros, and ``values`` (NaN, ±inf) at a third of the
    places, each at least once: long enough that torch's vectorised kernels see them too."""
    x = ctx.rng.normal(0, scale, shape)
    x[ctx.rng.random(shape) < 0.1] = 0.0
    where = ctx.rng.random(shape) < 0.3
    x[where] = ctx.rng.choice(np.array(values), size=int(where.sum()))
    x.flat[:len(values)] = values
    return ctx.array(x)


def tensorwise(expected) -> float:
    """The size against which a sum's rounding is judged: the largest |element| of the tensor (a
    gradient element that cancels to near 0 keeps the rounding of the tensor's terms)."""
    e = expected.detach().cpu().numpy() if hasattr(expected, "detach") else np.asarray(expected)
    return float(np.max(np.abs(e), initial=0.0))


def is_real(a) -> bool:
    """Whether an array holds real numbers (bool, integers, floats): what a reference is compared with."""
    return np.asarray(a).dtype.kind in "biuf"


def not_handed_on(run, y: np.ndarray, shape, label: str, step: str = "backward") -> bool:
    """Whether a forward result is unlike the reference's (another shape, not real numbers): the
    driver has compared it as it is, and does not call ``step`` after it (noted)."""
    why = f"its dtype is {y.dtype}" if not is_real(y) else \
        f"its shape is {tuple(np.shape(y))}, PyTorch's {tuple(shape)}" if tuple(np.shape(y)) != tuple(shape) else None
    if why:
        run.notes.append(f"{step} not called on '{label}': forward's result is unlike PyTorch's ({why})")
    return why is not None


# --- what every driver shares -----------------------------------------------------------------------


def mode_kwargs(layer, training: bool) -> dict:
    """Put a layer into training or evaluation mode, whichever way it asks for it: a forward
    argument (the book's ``train_flg``), ``train()``/``eval()`` methods, or a ``training`` flag."""
    params = parameters(layer.forward) or {}
    for flag in ("train_flg", "training", "train", "is_training"):
        if flag in params:
            return {flag: training}
    if callable(getattr(layer, "train", None)) and callable(getattr(layer, "eval", None)):
        call(layer.train if training else layer.eval, "train()/eval()")
        return {}
    if hasattr(layer, "training"):
        layer.training = training
        return {}
    raise VerifyUsageError("the layer has no way to switch between training and evaluation: give forward a "
                           "train_flg argument, or train()/eval() methods, or a training attribute")


def param_grad(layer, key: str):
    """The gradient of parameter ``key`` after backward: ``grads[key]``, ``grads[i]`` of the book's
    second volume (a list in the order the constructor took the arrays), or the attribute ``d<key>``."""
    grads = getattr(layer, "grads", None)
    if isinstance(grads, dict) and key in grads:
        return as_array(grads[key], f"grads[{key!r}]")
    order = constructor_order(layer)
    if isinstance(grads, (list, tuple)) and key in order and len(grads) == len(order):
        i = order.index(key)
        return as_array(grads[i], f"grads[{i}]")
    for attr in (f"d{key}", f"d{key.lower()}", f"grad_{key}"):
        if getattr(layer, attr, None) is not None:
            return as_array(getattr(layer, attr), attr)
    raise VerifyUsageError(f"after backward, the layer must hold the gradient of {key} in grads[{key!r}] or d{key}")


def _takes_positional(fn, n: int) -> bool:
    """Whether ``fn`` (a bound method) accepts ``n`` positional arguments."""
    params = parameters(fn)
    if params is None:
        return True
    if any(p.kind == p.VAR_POSITIONAL for p in params.values()):
        return True
    return len([p for p in params.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]) >= n


def _outputs(result, n: int, what: str) -> tuple:
    """A forward/backward result as a tuple of ``n`` arrays (a single array when n = 1)."""
    result = result if isinstance(result, tuple) else (result,)
    return tuple(as_array(r, f"{what}[{i}]") for i, r in enumerate(result[:n]))

