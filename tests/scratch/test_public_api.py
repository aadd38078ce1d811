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
from scratch import delta_rule, gradients, init, linear_regression, networks, optim, recurrent, regularization, schedules, \
    search

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
    "activations.maxout": lambda: (scratch.activations.maxout, dict(x=X, W=rng.normal(size=(2, 4, 3)),
                                                                     b=rng.normal(size=(2, 3)))),
    "activations.softmax_naive": lambda: (scratch.activations.softmax_naive, dict(x=X, axis=-1)),
    "activations.step_grad": lambda: (scratch.activations.step_grad, dict(x=X)),
    "conv.ConvolutionLoops": lambda: (scratch.conv.ConvolutionLoops, dict(W=rng.normal(size=(2, 1, 2, 2)), b=np.zeros(2),
                                                                           stride=1, pad=0)),
    "conv.ConvolutionLoops.forward": lambda: (scratch.conv.ConvolutionLoops.forward,
                                              dict(self=scratch.conv.ConvolutionLoops(rng.normal(size=(2, 1, 2, 2)),
                                                                                      np.zeros(2)),
                                                   x=rng.normal(size=(2, 1, 4, 4)))),
    "conv.ConvolutionLoops.backward": lambda: _after_forward(
        scratch.conv.ConvolutionLoops(rng.normal(size=(2, 1, 2, 2)), np.zeros(2)), rng.normal(size=(2, 1, 4, 4)),
        "dout"),
    "delta_rule.delta": lambda: (delta_rule.delta, dict(W=rng.normal(size=(1, 3)), x=np.eye(3)[:2], d=np.array([0, 1.0]),
                                                         alpha=0.9)),
    "delta_rule.loss": lambda: (delta_rule.loss, dict(W=rng.normal(size=(1, 3)), X=np.eye(3), D=np.array([0, 1, 1.0]))),
    "delta_rule.epoch": lambda: (delta_rule.epoch, dict(W=rng.normal(size=(1, 3)), X=np.eye(3), D=np.array([0, 1, 1.0]),
                                                         alpha=0.9, variant="minibatch", batch_size=2)),
    "delta_rule.train": lambda: (delta_rule.train, dict(W0=rng.normal(size=(1, 3)), X=np.eye(3), D=np.array([0, 1, 1.0]),
                                                         alpha=0.9, epochs=2, variant="minibatch", batch_size=2)),
    "delta_rule.train_two_layer": lambda: (delta_rule.train_two_layer,
                                           dict(W1=rng.normal(size=(4, 3)), W2=rng.normal(size=(1, 4)), X=np.eye(3),
                                                D=np.array([0, 1, 1.0]), alpha=0.9, epochs=2)),
    "gradients.gradient_descent": lambda: (gradients.gradient_descent, dict(grad_f=lambda x: x, init_x=X[0], lr=0.1,
                                                                            steps=3)),
    "gradients.numerical_diff": lambda: (gradients.numerical_diff, dict(f=np.sin, x=X[0], h=1e-4, method="central")),
    "gradients.relative_error": lambda: (gradients.relative_error, dict(a=X, b=X + 1)),
    "init.constant": lambda: (init.constant, dict(shape=(4, 3), value=0.5)),
    "init.zeros": lambda: (init.zeros, dict(shape=(4, 3))),
    "init.torch_linear_default": lambda: (init.torch_linear_default, dict(rng=np.random.default_rng(0), shape=(4, 3))),
    "layers.Chain": lambda: (scratch.layers.Chain, {"*layers": [scratch.layers.Linear(W, np.zeros(3)), scratch.layers.ReLU()]}),
    "layers.Chain.forward": lambda: (scratch.layers.Chain.forward,
                                     dict(self=scratch.layers.Chain(scratch.layers.Linear(W, np.zeros(3)), scratch.layers.ReLU()),
                                          x=X)),
    "layers.Chain.backward": lambda: _after_forward(scratch.layers.Chain(scratch.layers.Linear(W, np.zeros(3)),
                                                                         scratch.layers.ReLU()), X, "dout"),
    "layers.Dropout.set_mask": lambda: (scratch.layers.Dropout.set_mask,
                                        dict(self=scratch.layers.Dropout(0.5), mask=np.array([[1, 0, 1], [0, 1, 1]]))),
    "layers.Maxout": lambda: (scratch.layers.Maxout, dict(W=rng.normal(size=(2, 4, 3)), b=rng.normal(size=(2, 3)))),
    "layers.Maxout.forward": lambda: (scratch.layers.Maxout.forward,
                                      dict(self=scratch.layers.Maxout(rng.normal(size=(2, 4, 3)), rng.normal(size=(2, 3))),
                                           x=X)),
    "layers.Maxout.backward": lambda: _after_forward(scratch.layers.Maxout(rng.normal(size=(2, 4, 3)),
                                                                           rng.normal(size=(2, 3))), X, "dout"),
    "linear_regression.predict": lambda: (linear_regression.predict, dict(x=X[0], a=2.0, b=1.0)),
    "linear_regression.squared_error_and_grads": lambda: (linear_regression.squared_error_and_grads,
                                                          dict(x=X[0], y=X[1], a=2.0, b=1.0)),
    "linear_regression.absolute_error_and_grads": lambda: (linear_regression.absolute_error_and_grads,
                                                           dict(x=X[0], y=X[1], a=2.0, b=1.0)),
    "linear_regression.fit": lambda: (linear_regression.fit, dict(x=X[0], y=X[1], a0=0.0, b0=0.0, lr=0.1,
                                                                  batches=[np.arange(4), np.array([0, 1])],
                                                                  loss="squared")),
    **{f"losses.{name}_grad": (lambda name=name: (getattr(scratch.losses, f"{name}_grad"),
                                                  dict(y=rng.uniform(0.1, 0.9, (3, 2)), t=np.array([[0, 1], [1, 0], [1, 1.0]]))))
       for name in ("sum_squared_error", "mean_squared_error", "mean_absolute_error", "binary_cross_entropy")},
    "losses.cross_entropy_error_grad": lambda: (scratch.losses.cross_entropy_error_grad,
                                                dict(y=scratch.activations.softmax(X[:, :3]), t=LABELS, delta=1e-7)),
    "networks.MultiLayerNet.accuracy": lambda: (networks.MultiLayerNet.accuracy,
                                                dict(self=_net(networks.MultiLayerNet, NET), x=X, t=LABELS)),
    "networks.MultiLayerNet.numerical_gradient": lambda: (networks.MultiLayerNet.numerical_gradient,
                                                          dict(self=_net(networks.MultiLayerNet, NET), x=X, t=LABELS,
                                                               h=1e-4)),
    "networks.SimpleConvNet.accuracy": lambda: (networks.SimpleConvNet.accuracy,
                                                dict(self=_net(networks.SimpleConvNet, CN), x=rng.normal(size=(3, 1, 5, 5)),
                                                     t=LABELS, batch_size=2)),
    "networks.SimpleConvNet.numerical_gradient": lambda: (networks.SimpleConvNet.numerical_gradient,
                                                          dict(self=_net(networks.SimpleConvNet, CN),
                                                               x=rng.normal(size=(3, 1, 5, 5)), t=LABELS, h=1e-4)),
    "networks.MultiTaskNet": lambda: (networks.MultiTaskNet, dict(params=private_copy(MT), layers=None)),
    "networks.MultiTaskNet.loss": lambda: (networks.MultiTaskNet.loss,
                                           dict(self=_net(networks.MultiTaskNet, MT), x=X, ta=LABELS, tb=np.array([1, 0, 1]))),
    "networks.MultiTaskNet.gradient": lambda: (networks.MultiTaskNet.gradient,
                                               dict(self=_net(networks.MultiTaskNet, MT), x=X, ta=LABELS,
                                                    tb=np.array([1, 0, 1]), heads=("a", "b"))),
    "optim.AdamFolded": lambda: (optim.AdamFolded, dict(lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8, bias_correction=True)),
    "optim.AdamFolded.update": lambda: (optim.AdamFolded.update, dict(self=optim.AdamFolded(0.1), params={"w": W.copy()},
                                                                      grads={"w": 0.5 * W})),
    "optim.nesterov_lookahead": lambda: (optim.nesterov_lookahead, dict(grad_f=lambda x: x, theta0=X[0], lr=0.1,
                                                                        momentum=0.9, steps=3)),
    "recurrent.CharLM.next_probabilities": lambda: (
        recurrent.CharLM.next_probabilities,
        dict(self=recurrent.CharLM({"E": rng.normal(size=(5, 4)), "Wx": rng.normal(size=(4, 12)),
                                    "Wh": rng.normal(size=(3, 12)), "b": rng.normal(size=12), "W": rng.normal(size=(3, 5)),
                                    "bo": rng.normal(size=5)}), char=2, state=None)),
    "recurrent.SequenceClassifier": lambda: (recurrent.SequenceClassifier, dict(params=private_copy(SC))),
    "recurrent.SequenceClassifier.loss": lambda: (recurrent.SequenceClassifier.loss,
                                                  dict(self=recurrent.SequenceClassifier(private_copy(SC)),
                                                       x=rng.normal(size=(2, 3, 4)), t=np.array([1, 0]))),
    "recurrent.SequenceClassifier.gradient": lambda: (recurrent.SequenceClassifier.gradient,
                                                      dict(self=recurrent.SequenceClassifier(private_copy(SC)),
                                                           x=rng.normal(size=(2, 3, 4)), t=np.array([1, 0]))),
    "recurrent.global_norm": lambda: (recurrent.global_norm, dict(grads={"a": X, "b": W})),
    "regularization.l2_penalty": lambda: (regularization.l2_penalty, dict(weights=[X, W], lam=0.1)),
    "regularization.l1_penalty": lambda: (regularization.l1_penalty, dict(weights=[X, W], lam=0.1)),
    "regularization.elastic_penalty": lambda: (regularization.elastic_penalty, dict(weights=[X, W], l1=0.1, l2=0.2)),
    "regularization.l2_grad": lambda: (regularization.l2_grad, dict(w=W, lam=0.1)),
    "regularization.l1_grad": lambda: (regularization.l1_grad, dict(w=W, lam=0.1)),
    "regularization.elastic_grad": lambda: (regularization.elastic_grad, dict(w=W, l1=0.1, l2=0.2)),
    "regularization.EarlyStopping": lambda: (regularization.EarlyStopping, dict(patience=2, min_delta=0.0)),
    "regularization.EarlyStopping.step": lambda: (regularization.EarlyStopping.step,
                                                  dict(self=regularization.EarlyStopping(), val_loss=0.5,
                                                       params={"w": W.copy()})),
    "regularization.EarlyStopping.restore": lambda: (regularization.EarlyStopping.restore,
                                                     dict(self=_stopper(), params={"w": W.copy()})),
    "schedules.WarmupCosine": lambda: (schedules.WarmupCosine, dict(lr0=0.1, warmup_steps=2, total_steps=10, min_lr=0.0)),
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
            check_derived(name, call, argument)
