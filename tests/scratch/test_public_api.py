"""Every public function, class and method of ``scratch`` (the modules its ``__all__`` lists) is
driven with valid and malformed arguments, and nothing here is edited for a new name:

- where a module's tests write torch's counterpart of a name (``CASES`` in tests/scratch/test_<module>.py),
  a malformed argument gives torch's result or an error naming it (those tests run it);
- every other name is called as the pair declarations call it: the valid call is recorded while
  every pair judges scratch's own object (tests/pairs), and each argument is then malformed by its
  type (see :func:`tests.scratch.malformed.derived`): refused naming the argument, or, for an int
  array or a list where a float array goes, the result of the float64 array.

Only a name that no pair calls needs a line here (``VALID_CALLS``): how to call it validly.
The domains of the numbers (a rate from 0, a probability below 1) are the boundary tables' (the
``BOUNDARIES`` of the same test files)."""

from __future__ import annotations

import functools
import importlib
import inspect
import sys

import numpy as np
import pytest

import scratch
from scratch import init, optim, regularization, schedules, search

from .malformed import Call, check_derived, private_copy

MODULES = ("activations", "classifiers", "conv", "delta_rule", "gradients", "init", "layers", "linear_regression", "losses",
           "networks", "nlp", "optim", "recurrent", "regularization", "schedules", "search", "sequence")
TESTED = [importlib.import_module(f"tests.scratch.test_{m}") for m in MODULES]

NOT_DRIVEN = {  # public names with arguments that no malformed input can reach, and why
    "layers.Layer.forward": "abstract: raises NotImplementedError; every layer class is driven instead",
    "layers.Layer.backward": "abstract: raises NotImplementedError; every layer class is driven instead",
    "optim.Optimizer": "abstract base; its lr check is driven through every optimizer",
    "optim.Optimizer.update": "abstract: _step raises NotImplementedError; every optimizer's update is driven",
}

NONE_IS_VALID = {  # arguments whose documented values include None though it is not their default
    "sequence.TimeSoftmaxWithLoss": {"ignore_label"},  # None: no label ignored (the sequence models' loss)
}

rng = np.random.default_rng(20240611)
X, W = rng.normal(size=(3, 4)), rng.normal(size=(4, 3))
NET = {"W1": rng.normal(size=(4, 5)), "b1": rng.normal(size=5), "W2": rng.normal(size=(5, 3)), "b2": rng.normal(size=3)}
MT = {"W1": rng.normal(size=(4, 5)), "b1": rng.normal(size=5), "Wa": rng.normal(size=(5, 3)), "ba": rng.normal(size=3),
      "Wb": rng.normal(size=(5, 2)), "bb": rng.normal(size=2)}
CN = {"W1": rng.normal(size=(2, 1, 3, 3)), "b1": rng.normal(size=2), "W2": rng.normal(size=(2, 3)),
      "b2": rng.normal(size=3), "W3": rng.normal(size=(3, 3)), "b3": rng.normal(size=3)}
LABELS = np.array([0, 2, 1])
SC = {"Wx": rng.normal(size=(4, 3)), "Wh": rng.normal(size=(3, 3)), "b": rng.normal(size=3), "W": rng.normal(size=(3, 2)),
      "bo": rng.normal(size=2)}


def _stopper():
    stopper = regularization.EarlyStopping()
    stopper.step(0.5, {"w": W.copy()})
    return stopper


def _net(cls, params, **kw):
    return cls(private_copy(params), **kw)


# How to call, validly, each public name that no pair calls (the object first for a method).
VALID_CALLS = {
    "init.torch_linear_default": lambda: (init.torch_linear_default, dict(rng=np.random.default_rng(0), shape=(4, 3))),
    "layers.Chain": lambda: (scratch.layers.Chain, {"*layers": [scratch.layers.Linear(W, np.zeros(3)), scratch.layers.ReLU()]}),
    "layers.Chain.forward": lambda: (scratch.layers.Chain.forward,
                                     dict(self=scratch.layers.Chain(scratch.layers.Linear(W, np.zeros(3)), scratch.layers.ReLU()),
                                          x=X)),
    "layers.Chain.backward": lambda: _after_forward(scratch.layers.Chain(scratch.layers.Linear(W, np.zeros(3)),
                                                                         scratch.layers.ReLU()), X, "dout"),
    "optim.AdamFolded": lambda: (optim.AdamFolded, dict(lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8, bias_correction=True)),
    "regularization.EarlyStopping": lambda: (regularization.EarlyStopping, dict(patience=2, min_delta=0.0)),
    "regularization.EarlyStopping.step": lambda: (regularization.EarlyStopping.step,
                                                  dict(self=regularization.EarlyStopping(), val_loss=0.5,
                                                       params={"w": W.copy()})),
    "regularization.EarlyStopping.restore": lambda: (regularization.EarlyStopping.restore,
                                                     dict(self=_stopper(), params={"w": W.copy()})),
    "schedules.WarmupCosine.__call__": lambda: (schedules.WarmupCosine.__call__,
                                                dict(self=schedules.WarmupCosine(0.1, 2, 10), t=3)),
    "search.sample_trials": lambda: (search.sample_trials, dict(rng=np.random.default_rng(0), ranges={"lr": (-4, -1)}, n=4)),
    "search.narrow": lambda: (search.narrow, dict(trials=[{"lr": 1e-2}, {"lr": 1e-4}, {"lr": 1e-3}],
                                                  scores=np.array([0.9, 0.1, 0.8]), top_k=2)),
}


def _after_forward(layer, x, argument):
    out = layer.forward(x)
    return type(layer).backward, {"self": layer, argument: rng.normal(size=np.shape(out))}


# --- the enumeration ---------------------------------------------------------------------------------


def public_names() -> dict:
    """Every public function, class (constructor) and method of scratch's listed modules that takes
    arguments, mapped to (the function, class or method, the names of its arguments)."""
    names = {}
    for module_name in scratch.__all__:
        module = getattr(scratch, module_name)
        for name, obj in vars(module).items():
            if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
                continue
            if inspect.isfunction(obj) or inspect.isclass(obj):
                names[f"{module_name}.{name}"] = (obj, list(inspect.signature(obj).parameters))
            if inspect.isclass(obj):
                for method_name, method in inspect.getmembers(obj, inspect.isfunction):
                    if not method_name.startswith("_") or method_name == "__call__":
                        names[f"{module_name}.{name}.{method_name}"] = (method, list(inspect.signature(method).parameters)[1:])
    return {name: entry for name, entry in names.items() if entry[1]}


PUBLIC = public_names()
WRITTEN = {name: case for tested in TESTED for name, case in getattr(tested, "CASES", {}).items()}
DERIVED = sorted(set(PUBLIC) - set(WRITTEN) - set(NOT_DRIVEN))


def _code_names() -> dict:
    """code object → [(class or None, public name)]: a method inherited by several classes is one code."""
    out: dict = {}
    for name, (obj, _) in PUBLIC.items():
        fn = obj.__init__ if inspect.isclass(obj) else obj
        code = getattr(fn, "__code__", None)
        if code is not None:
            owner = obj if inspect.isclass(obj) else None
            if name.count(".") == 2:
                owner = getattr(scratch, name.split(".")[0]).__dict__[name.split(".")[1]]
            out.setdefault(code, []).append((owner, name))
    return out


@functools.lru_cache(maxsize=None)
def recorded_calls() -> dict:
    """The first call of every public name while each pair judges scratch's own object (seed 0,
    float64, a few training steps): its arguments by name, copied as they were when it was called."""
    from comparisons import pairs
    from comparisons.verify import judge

    codes, calls = _code_names(), {}

    def profile(frame, event, arg):
        if event != "call" or frame.f_code not in codes:
            return
        code, local = frame.f_code, frame.f_locals
        owner = type(local.get("self")) if "self" in local else None
        name = next((n for cls, n in codes[code] if cls is owner), None)
        if name is None or name in calls:
            return
        n = code.co_argcount + code.co_kwonlyargcount
        argnames = list(code.co_varnames[:n])
        if code.co_flags & inspect.CO_VARARGS:
            argnames.append(code.co_varnames[n])
        keys = {a: a for a in argnames}
        if code.co_flags & inspect.CO_VARARGS:
            keys[code.co_varnames[n]] = "*" + code.co_varnames[n]
        try:
            calls[name] = {keys[a]: local[a] for a in argnames if a in local}
            calls[name] = private_copy(calls[name])
        except Exception:  # noqa: BLE001 - a state that cannot be copied: the name is not recorded
            calls.pop(name, None)

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        for pair in pairs.PAIRS.values():
            judge(pair, pair.scratch_object(scratch), pair.scratch, steps=3)
    finally:
        sys.setprofile(previous)
    return calls


def valid_call(name: str) -> Call:
    obj, _ = PUBLIC[name]
    if name in VALID_CALLS:
        fn, args = VALID_CALLS[name]()
    else:
        args = recorded_calls().get(name)
        assert args is not None, (f"{name}: no pair calls it, so its valid call cannot be recorded; add how to call "
                                  f"it to VALID_CALLS in {__file__}")
        fn = obj
    signature = inspect.signature(obj)
    defaults = {k: p.default for k, p in signature.parameters.items() if p.default is not inspect.Parameter.empty}
    return Call(fn, dict(args), defaults)


# --- the tests ---------------------------------------------------------------------------------------


def test_every_written_case_drives_the_arguments_its_name_takes():
    assert not set(WRITTEN) - set(PUBLIC), f"CASES name what is no longer public: {sorted(set(WRITTEN) - set(PUBLIC))}"
    for name, case in WRITTEN.items():
        assert list(case.args) == PUBLIC[name][1], f"{name}: CASES drives {list(case.args)}, it takes {PUBLIC[name][1]}"
    assert not set(VALID_CALLS) - set(DERIVED), f"VALID_CALLS that a written case or NOT_DRIVEN covers: " \
                                                 f"{sorted(set(VALID_CALLS) - set(DERIVED))}"


@pytest.mark.xdist_group("recorded-calls")  # one test process records the pairs' calls
@pytest.mark.parametrize("name", DERIVED)
def test_each_argument_malformed_by_its_type_is_refused_naming_it(name):
    call = valid_call(name)
    with np.errstate(all="ignore"):
        call()  # the valid call runs
    for argument in PUBLIC[name][1]:
        if argument in call.args and not argument.startswith("*"):
            check_derived(name, call, argument, none_is_valid=argument in NONE_IS_VALID.get(name, ()))
