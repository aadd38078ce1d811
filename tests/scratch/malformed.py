"""One helper for every argument check of ``scratch``: a call given a malformed or out-of-range
argument raises a ValueError or TypeError whose message names the argument; the same call given
the boundary value itself, on the side the check allows, runs.

Two ways of stating it, both here:

- **Boundaries** (:class:`Boundary`): one argument's domain, proved at both sides of each end.
- **Malformed input** (:class:`Case`, :func:`malformed_input_tests`): a public name called with
  valid arguments, then each argument in turn malformed (other shapes, 0-d and empty included,
  other dtypes, NaN and ±inf, None, Python scalars and lists where arrays go, other types where
  numbers go): the call returns what torch returns for the same input, or raises a ValueError or
  TypeError naming the argument. Where no torch counterpart is written, :func:`derived` makes the
  malformed values from the valid one's type, and an accepted value must give the result of its
  canonical form (an int array, a list or a Python float: the float64 array of it).

A :class:`Boundary` states one check: how to call with the value under test, the argument's name
and its domain. :func:`interval` and :func:`integers` spell the usual domains and give the values
at both sides of each end (``np.nextafter``: the nearest float beyond), so that moving a ``<`` to
``<=`` in the check fails a test. :meth:`Boundary.prove` also draws values inside and outside the
domain with Hypothesis.
"""

from __future__ import annotations

import copy
import math
import re
import sys
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

NAN, INF = math.nan, math.inf
FLOATS = st.floats(-3, 3, allow_nan=False)
NOT_NUMBERS = [None, "0.5", [0.5], np.array([0.5, 0.5]), 1j, {"v": 0.5}]


def names_argument(message: str, argument: str) -> bool:
    """Whether ``message`` holds ``argument`` as a word (``p`` in "got p=1.0", not in "probability")."""
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(argument)}(?![A-Za-z0-9_])", message) is not None


def refuses(call: Callable[[], Any], argument: str, errors=(ValueError, TypeError)) -> str:
    """``call()`` raises one of ``errors`` naming ``argument``; returns the message."""
    with pytest.raises(errors) as info:
        call()
    message = str(info.value)
    assert names_argument(message, argument), f"the error does not name {argument!r}: {message}"
    assert "\n" not in message.strip(), f"the error is not one line: {message!r}"
    return message


def accepts(call: Callable[[], Any]):
    """``call()`` runs (and returns what it returns)."""
    return call()


def below(x: float) -> float:
    return float(np.nextafter(x, -INF))


def above(x: float) -> float:
    return float(np.nextafter(x, INF))


@dataclass(frozen=True)
class Domain:
    """The values a check accepts: ``accepted`` and ``refused`` at its boundaries, and Hypothesis
    strategies of values inside and outside it."""

    accepted: tuple
    refused: tuple
    inside: Any = None
    outside: Any = None


def interval(low: float, high: float, low_open: bool = False, high_open: bool = False, finite: bool = True) -> Domain:
    """Real numbers between ``low`` and ``high`` (each end open or closed); NaN is refused, and
    ±inf too unless ``finite`` is False and the interval reaches it."""
    accepted, refused = [], [NAN]
    for end, is_open, inward, outward in ((low, low_open, above, below), (high, high_open, below, above)):
        if math.isinf(end):
            (refused if finite or is_open else accepted).append(end)
            continue
        (refused if is_open else accepted).append(end)
        accepted.append(inward(end))
        refused.append(outward(end))
    if finite:
        refused += [INF, -INF]
    inside = st.floats(low, high, exclude_min=low_open, exclude_max=high_open, allow_nan=False,
                       allow_infinity=not finite)
    outside = st.one_of(*[st.floats(max_value=low, exclude_max=not low_open, allow_nan=False,
                                    allow_infinity=False)] * (not math.isinf(low)),
                        *[st.floats(min_value=high, exclude_min=not high_open, allow_nan=False,
                                    allow_infinity=False)] * (not math.isinf(high)), st.just(NAN))
    return Domain(tuple(accepted), tuple(dict.fromkeys(refused)), inside, outside)


def integers(minimum: int, maximum: int | None = None, drawn_up_to: int = 100) -> Domain:
    """Integers from ``minimum`` (to ``maximum``, both included); an integral float such as 3.0 is
    an integer too, a fraction, NaN or inf is not. Hypothesis draws the accepted ones up to
    ``drawn_up_to`` (a count of steps or epochs is cheap only when small)."""
    accepted = [minimum, minimum + 1, float(minimum)] + ([] if maximum is None else [maximum])
    refused = [minimum - 1, minimum + 0.5, NAN, INF] + ([] if maximum is None else [maximum + 1])
    outside = st.integers(max_value=minimum - 1)
    if maximum is not None:
        outside = outside | st.integers(min_value=maximum + 1)
    return Domain(tuple(accepted), tuple(refused), st.integers(minimum, min(drawn_up_to, maximum or drawn_up_to)),
                  outside)


@dataclass(frozen=True)
class Boundary:
    """One argument check: ``make(value)`` calls scratch with ``value`` as the argument named
    ``argument``; ``domain`` says which values it must accept and which refuse."""

    what: str
    make: Callable[[Any], Any]
    argument: str
    domain: Domain
    also_refused: tuple = field(default=())  # values of another kind: None, a string, an array

    def __str__(self) -> str:
        return self.what

    def prove(self, examples: int = 25) -> None:
        for value in self.domain.accepted:
            try:
                accepts(lambda: self.make(value))
            except (ValueError, TypeError) as exc:  # pragma: no cover - the failure's message
                pytest.fail(f"{self.what}: {self.argument}={value!r} is in the domain, but was refused: {exc}")
        for value in self.domain.refused + self.also_refused:
            refuses(lambda: self.make(value), self.argument)
        if self.domain.inside is None:
            return

        @settings(max_examples=examples, deadline=None, derandomize=True)
        @given(self.domain.inside, self.domain.outside)
        def inside_and_outside(good, bad):
            accepts(lambda: self.make(good))
            refuses(lambda: self.make(bad), self.argument)
        inside_and_outside()


def prove_each(boundaries):
    """The parametrised test of a module's table of boundaries."""
    return pytest.mark.parametrize("boundary", boundaries, ids=str)


# --- malformed input: how torch sees the same input ---------------------------------------------------


def T(a) -> torch.Tensor:
    """An array argument as torch gets it: real numbers as a float64 tensor (the NumPy API promotes
    integers the same way); anything else is refused, as torch refuses it."""
    if isinstance(a, torch.Tensor):
        return a
    arr = np.asarray(a)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"torch takes no {arr.dtype} array")
    return torch.as_tensor(arr.astype(np.float64))


def Tg(a) -> torch.Tensor:
    return T(a).clone().requires_grad_(True)


def labels(t) -> torch.Tensor:
    """Class labels as torch takes them: integers (integral floats converted)."""
    arr = np.asarray(t)
    if arr.dtype.kind not in "iuf" or (arr.dtype.kind == "f" and not np.all(np.isfinite(arr) & (arr == np.round(arr)))):
        raise TypeError("torch takes integer class labels")
    return torch.as_tensor(arr.astype(np.int64))


def targets(t, y) -> torch.Tensor:
    """Labels, or class probabilities of y's shape (torch's two forms of cross-entropy target)."""
    return T(t) if np.shape(t) == tuple(y.shape) else labels(t)


def grad_of(fn, *inputs, dout=None):
    """Gradients of fn(*inputs) by autograd, with upstream gradient dout (ones by default)."""
    out = fn(*inputs)
    out.backward(torch.ones_like(out) if dout is None else dout)
    return [x.grad for x in inputs]



# --- malformed input: the values ------------------------------------------------------------------


def other_shapes(shape):
    return hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4).filter(lambda s: s != tuple(shape))


@dataclass
class Array:
    """An array argument. Malformed: other shapes (0-d, empty), object/str/complex dtypes, None; NaN
    or ±inf inside where the argument must be finite (``finite``: parameters, probabilities, masks);
    and, where torch defines a result to compare with, int dtype, a list, a Python scalar.

    (Where NaN and ±inf are valid they propagate, and exactly where a NaN rather than an inf comes
    out depends on each kernel's order of operations, on both sides; that is not input checking.)"""

    valid: Any
    extra: list = field(default_factory=list)
    finite: bool = False

    def strategy(self, comparable: bool):
        valid = np.asarray(self.valid)
        refused = [None, valid.astype(object), valid.astype(str), valid + 1j]
        options = [st.sampled_from(refused), hnp.arrays(np.float64, other_shapes(valid.shape), elements=FLOATS)]
        if self.extra:
            options.append(st.sampled_from(self.extra))
        if comparable:
            options.append(st.sampled_from([valid.astype(np.int64), valid.tolist(), float(valid.flat[0])]))
        if self.finite:
            options.append(st.tuples(st.integers(0, valid.size - 1), st.sampled_from([NAN, INF, -INF]))
                           .map(lambda iv: _put(valid, *iv)))
        return st.one_of(options)


def _put(valid, index, value):
    out = np.array(valid, dtype=np.float64)
    out.flat[index] = value
    return out


@dataclass
class Labels(Array):
    """Class labels in [0, classes): also out-of-range and non-integral ones."""

    classes: int = 3

    def strategy(self, comparable: bool):
        valid = np.asarray(self.valid)
        first = np.arange(valid.size).reshape(valid.shape) == 0  # labels of any shape: (N,) or (N, T)
        wrong = [np.where(first, self.classes, valid), np.where(first, -1, valid),
                 valid + 0.5, _put(valid, 0, NAN)]
        return st.one_of(super().strategy(False), st.sampled_from(wrong + [valid.astype(np.float64)]))


@dataclass
class Real:
    """A real hyperparameter in [low, high] (open ends as flagged); other types, values outside and
    (unless the number may be anything) NaN and ±inf are malformed."""

    valid: float
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    finite: bool = True  # False: NaN and ±inf are values like any other (they propagate)

    def strategy(self, comparable: bool):
        bad = NOT_NUMBERS + ([NAN, INF, -INF] if self.finite else [])
        options = []
        if self.low is not None:
            bad += [self.low] if self.low_open else []
            options.append(st.floats(self.low - 1e6, self.low - 1e-9))
        if self.high is not None:
            bad += [self.high] if self.high_open else []
            options.append(st.floats(self.high + 1e-9, self.high + 1e6))
        return st.one_of([st.sampled_from(bad)] + options)


@dataclass
class Int:
    """An integer >= minimum (a count, a size, an epoch)."""

    valid: int
    minimum: int = 0

    def strategy(self, comparable: bool):
        bad = [None, "3", [self.valid], np.array([1, 2]), NAN, INF, self.valid + 0.5, 1j]
        return st.one_of(st.sampled_from(bad), st.integers(self.minimum - 1000, self.minimum - 1))


@dataclass
class Other:
    """Any other argument: the malformed values are listed."""

    valid: Any
    bad: list

    def strategy(self, comparable: bool):
        return st.sampled_from(self.bad)


FLAG = Other(True, ["yes", None, 1.5, [True]])
RNG = Other(None, [42, "rng", np.random.RandomState(0), [1, 2]])


def rng_arg():
    return Other(np.random.default_rng(0), [None, 42, "rng", np.random.RandomState(0)])


def shape_arg(valid=(4, 3)):
    return Other(valid, [None, "ab", (4,), (4, 3, 2), (0, 3), (4, -1), (2.5, 3), (4, None), (NAN, 3), 7])


@dataclass
class DictOfArrays:
    """A dict of arrays (params, grads): not a dict, or its first entry malformed as an array argument."""

    valid: dict
    entry: Array

    def strategy(self, comparable: bool):
        key = next(iter(self.valid))
        not_dicts = st.sampled_from([None, list(self.valid.values()), "params", 3])
        return st.one_of(not_dicts, self.entry.strategy(comparable).map(lambda v: {**self.valid, key: v}))



# --- malformed input: a case and its rule ------------------------------------------------------------


@dataclass
class Case:
    """``run(**args)`` calls scratch; ``torch(**args)`` gives torch's result for the same arguments,
    where torch defines one (None: every malformed input must be refused)."""

    args: dict
    run: Callable
    torch: Callable | None = None
    rtol: float = 1e-9
    atol: float = 1e-12



def numpy_of(value):
    """A result (nested lists, tuples and dicts of arrays, tensors and numbers) as plain NumPy."""
    if isinstance(value, torch.Tensor):
        return value.detach().numpy()
    if isinstance(value, dict):
        return {k: numpy_of(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [numpy_of(v) for v in value]
    return value


def assert_same_result(ours, theirs, rtol, atol, where):
    if isinstance(theirs, dict):
        assert isinstance(ours, dict) and sorted(ours) == sorted(theirs), f"{where}: keys {sorted(ours)} vs {sorted(theirs)}"
        for k in theirs:
            assert_same_result(ours[k], theirs[k], rtol, atol, f"{where}[{k!r}]")
    elif isinstance(theirs, list):
        assert isinstance(ours, (list, tuple)) and len(ours) == len(theirs), f"{where}: {ours!r} vs {theirs!r}"
        for i, (a, b) in enumerate(zip(ours, theirs)):
            assert_same_result(a, b, rtol, atol, f"{where}[{i}]")
    elif isinstance(theirs, str) or theirs is None:
        assert ours == theirs, f"{where}: {ours!r} vs {theirs!r}"
    else:
        assert np.shape(ours) == np.shape(theirs), f"{where}: shape {np.shape(ours)}, torch's {np.shape(theirs)}"
        np.testing.assert_allclose(np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64),
                                   rtol=rtol, atol=atol, err_msg=where)


def check_malformed(name, case, argument, value):
    """The rule: torch's result for the same arguments, or a ValueError/TypeError naming the argument."""
    args = {k: a.valid for k, a in case.args.items()}
    args[argument] = value
    where = f"{name}({argument}={value!r})"
    try:
        with np.errstate(all="ignore"):
            ours = case.run(**args)
    except (ValueError, TypeError) as error:
        assert names_argument(str(error), argument), f"{where} raised {type(error).__name__} without naming {argument}: {error}"
        return
    except Exception as error:  # noqa: BLE001 - any other exception breaks the rule
        pytest.fail(f"{where} raised {type(error).__name__} (not ValueError/TypeError): {error}")
    assert case.torch is not None, f"{where} was accepted, and torch has no result to compare with: {ours!r}"
    try:
        theirs = case.torch(**args)
    except Exception as error:  # noqa: BLE001 - torch refusing is the finding
        pytest.fail(f"{where} was accepted, but torch refuses it ({type(error).__name__}: {error})")
    assert_same_result(numpy_of(ours), numpy_of(theirs), case.rtol, case.atol, where)



def malformed_input_tests(cases: dict):
    """The two tests of a module's table of cases: its valid arguments give torch's result (the
    baseline every malformed input is a change from), and each argument malformed in turn gives
    torch's result or an error naming it. Use as
    ``test_valid_..., test_malformed_... = malformed_input_tests(CASES)``."""

    def test_valid_arguments_give_torchs_result():
        for name, case in cases.items():
            args = {k: a.valid for k, a in case.args.items()}
            ours = case.run(**args)
            if case.torch is not None:
                assert_same_result(numpy_of(ours), numpy_of(case.torch(**args)), case.rtol, case.atol, name)

    @pytest.mark.parametrize("name", sorted(cases))
    @settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    @given(data=st.data())
    def test_malformed_input_gives_torchs_result_or_names_the_argument(name, data):
        case = cases[name]
        for argument, arg in case.args.items():
            value = data.draw(arg.strategy(case.torch is not None), label=argument)
            check_malformed(name, case, argument, value)

    return test_valid_arguments_give_torchs_result, test_malformed_input_gives_torchs_result_or_names_the_argument


# --- malformed input: how a case of a layer is written ------------------------------------------------


def forward_case(make, torch_fn, x):
    """forward(x) of a fresh ``make()``, against ``torch_fn`` of the same x."""
    return Case({"x": Array(x)}, lambda x: make().forward(x), lambda x: torch_fn(T(x)))


def backward_case(make, torch_fn, x, dout, grads=()):
    """dx (and the parameter gradients ``grads``) after forward(x), for an upstream dout, against
    ``torch_fn(x as a leaf tensor, dout)``."""
    def run(dout):
        layer = make()
        layer.forward(x)
        return [layer.backward(dout)] + [layer.grads[k] for k in grads]
    return Case({"dout": Array(dout)}, run, lambda dout: torch_fn(Tg(x), T(dout)))


def autograd_layer(torch_fn):
    """The backward of an elementwise torch function: [dx] by autograd."""
    def backward(xt, dout):
        out = torch_fn(xt)
        out.backward(dout)
        return [xt.grad]
    return backward


def forwarded(layer, *inputs):
    layer.forward(*inputs)
    return layer


def fitting(x, W, axis=0):
    """x resized to as many features as W has inputs (along ``axis``): a constructor that took a W
    of another size is then driven with an input that fits it."""
    return np.resize(x, (len(x), np.shape(W)[axis]))


def flattened(x):
    """(N, d₁, d₂, …) as (N, d₁·d₂·…), as the book's Affine takes it (torch: ``nn.Flatten``)."""
    return x.flatten(1) if x.ndim > 2 else x


def fresh(params):
    """A copy of a dict of arrays (flags kept), for a call that updates it in place."""
    if not isinstance(params, dict):
        return params
    copies = {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in params.items()}
    for k, v in params.items():
        if isinstance(v, np.ndarray):
            copies[k].flags.writeable = v.flags.writeable
    return copies


def read_only(a):
    a = a.copy()
    a.flags.writeable = False
    return a


def real_number(value):
    """A number as torch takes it where a Python float goes (a bool, a string, a list refused)."""
    if not isinstance(value, (int, float, np.integer, np.floating)) or isinstance(value, bool):
        raise TypeError("torch takes a real number here")
    return float(value)


# --- malformed input derived from a valid call ---------------------------------------------------------

_MODULES = None


def private_copy(value):
    """A deep copy that keeps modules, functions and classes as they are (a network holds the module
    of its layer classes)."""
    global _MODULES
    if _MODULES is None:
        _MODULES = {id(m): m for m in list(sys.modules.values())}
    return copy.deepcopy(value, dict(_MODULES))


@dataclass
class Call:
    """A valid call of a public name: ``fn`` (a function, a method or a class) with ``args`` by
    name; for a method, ``args["self"]`` is the object in the state it had when it was called."""

    fn: Callable
    args: dict
    defaults: dict = field(default_factory=dict)

    def __call__(self, **changed):
        args = private_copy({**self.args, **changed})
        target = args.pop("self", None)
        more = {k: v for n in [n for n in args if n.startswith("**")] for k, v in args.pop(n).items()}
        names = list(args)
        star = next((i for i, n in enumerate(names) if n.startswith("*")), None)
        positional = [] if star is None else [args.pop(n) for n in names[:star]] + list(args.pop(names[star]))
        fn = self.fn if isinstance(self.fn, type) or target is None else getattr(target, self.fn.__name__)
        return fn(*positional, **args, **more)


def derived(value, default=None, has_default=False):
    """The malformed values of an argument whose valid value is ``value``, by its type, as
    (refused, comparable): values every call must refuse naming the argument (another kind of
    object altogether), and values a call may accept only with the result of ``canonical`` of them.
    The argument's default (None where None means 'not given') is never among them."""
    refused, comparable = [], []
    if isinstance(value, (bool, np.bool_)):
        refused = ["yes", 1.5, [bool(value)]] + ([None] if not (has_default and default is None) else [])
    elif isinstance(value, (int, np.integer)):
        refused = ["3", [int(value)], np.array([1, 2]), int(value) + 0.5, 1j, NAN, INF]
    elif isinstance(value, (float, np.floating)):
        refused = ["0.5", [float(value)], np.array([0.5, 0.5]), 1j, {"v": 0.5}]
    elif isinstance(value, str):
        refused = [3, [value], value + "_unknown"]
    elif isinstance(value, tuple) and value and all(isinstance(v, (int, np.integer)) for v in value):  # a shape
        refused = ["ab", (value[0] + 0.5,) + value[1:], value + (None,)]
    elif isinstance(value, np.random.Generator):
        refused = [42, "rng", np.random.RandomState(0)]
    elif isinstance(value, np.ndarray) and value.dtype.kind in "fiub" and value.size:
        refused = [value.astype(object), value.astype(str), value + 1j]
        if value.dtype.kind == "f":
            comparable = [value.tolist()]
    elif isinstance(value, dict) and value and all(isinstance(a, np.ndarray) for a in value.values()):
        refused = ["params", 3]
    elif callable(value) and not isinstance(value, type):
        refused = [3, "f"]
    if refused and not isinstance(value, (bool, np.bool_)) and not (has_default and default is None):
        refused.append(None)
    return refused, comparable


def canonical(value):
    return np.asarray(value, dtype=np.float64)


def check_derived(name: str, call: Call, argument: str, none_is_valid: bool = False) -> None:
    """The rule for a name without a written torch counterpart, on its argument ``argument``
    (``none_is_valid``: None is one of its documented values, though not its default)."""
    default = call.defaults.get(argument, _NO_DEFAULT)
    if none_is_valid:
        default = None
    refused, comparable = derived(call.args[argument], None if default is _NO_DEFAULT else default,
                                  default is not _NO_DEFAULT)
    for value in refused + comparable:
        where = f"{name}({argument}={value!r:.60})"
        try:
            with np.errstate(all="ignore"):
                ours = call(**{argument: value})
        except (ValueError, TypeError) as error:
            assert names_argument(str(error), argument), \
                f"{where} raised {type(error).__name__} without naming {argument}: {error}"
            continue
        except Exception as error:  # noqa: BLE001 - any other exception breaks the rule
            pytest.fail(f"{where} raised {type(error).__name__} (not ValueError/TypeError): {error}")
        assert not any(value is r for r in refused), f"{where} was accepted: {ours!r:.200}"
        with np.errstate(all="ignore"):
            expected = call(**{argument: canonical(value)})
        assert_same_result(state_of(ours), state_of(expected), 0, 0, f"{where} against its float64 array")


def state_of(value, depth=0):
    """A result as plain data: an object built by a constructor as the arrays and numbers it holds
    (the objects it holds in turn likewise)."""
    value = numpy_of(value)
    if depth > 5:
        return None
    if isinstance(value, dict):
        return {k: state_of(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [state_of(v, depth + 1) for v in value]
    if _is_data(value):
        return value
    if callable(value) or not hasattr(value, "__dict__"):
        return None
    return state_of({k: v for k, v in vars(value).items() if not k.startswith("_")}, depth + 1)


def _is_data(v):
    return isinstance(v, (np.ndarray, np.generic, int, float, bool, str, dict, list, tuple, type(None)))


_NO_DEFAULT = object()
