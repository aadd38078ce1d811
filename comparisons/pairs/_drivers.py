"""The drivers: one per kind of pair. A driver takes the implementation under test (``scratch``'s
object, a user's, or a catalogued mistake), runs it through the pair's inputs beside the PyTorch
reference, and returns the :class:`Comparison` list. Every implementation goes through the very
same code path; the declaration says what is special about a pair.

    drive(ctx, pair, target, h, run) -> [Comparison, ...]

``h`` holds the hyperparameters under scratch's names, ``run`` the number of steps and the notes.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass, field

import numpy as np
import torch

import torch_ref.conv as tconv
import torch_ref.gradients as tgrad
import torch_ref.init as tinit
import torch_ref.layers as tlayers
import torch_ref.losses as tloss
import torch_ref.networks as tnet
import torch_ref.recurrent as trec

from .. import bridge
from ..checks import batchnorm_term_scales, close, linear_term_scales
from ..lockstep import load_into
from ._base import Comparison, TargetError, VerifyUsageError, accepted, as_array, call, construct, parameters


@dataclass
class Run:
    steps: int = 100
    notes: list = field(default_factory=list)
    explicit: set = field(default_factory=set)  # the hyperparameters given by --hparam
    reference: dict = field(default_factory=dict)  # hyperparameters for the PyTorch side only (a hint's search)


def _labels_of(t):
    t = np.asarray(t)
    return t.argmax(axis=-1) if t.ndim >= 1 and t.dtype.kind == "f" else t


# --- functions: activations and their derivatives ------------------------------------------------


def drive_function(ctx, pair, fn, h, run):
    """``fn(x)`` on every input, against the torch function of the pair (elementwise or softmax)."""
    out = []
    kwargs = accepted(fn, pair, h)
    for label, x in pair.inputs(ctx).items():
        y = as_array(call(fn, f"calling it on x{x.shape}", x.copy(), **kwargs), "its result")
        out.append(Comparison(f"{label}", y, pair.torch(ctx.tensor(x), **pair.torch_kwargs(h))))
    return out


def drive_numerical_gradient(ctx, pair, fn, h, run):
    """``numerical_gradient(f, x)`` against autograd's exact gradient of the same f, at the
    gradient-check tolerance; and x must come back unchanged (f may close over it)."""
    out = []
    for label, (f_np, f_t, x0) in pair.inputs(ctx).items():
        x = np.array(x0, dtype=np.float64)  # finite differences with h = 1e-4 need float64
        grad = as_array(call(fn, f"numerical_gradient(f, x{x.shape})", lambda v: f_np(v, x), x), "its result")
        exact = tgrad.autograd_gradient(lambda v: f_t(v), torch.tensor(x0, dtype=torch.float64))
        out.append(Comparison(f"gradient, {label}", grad, exact, kind="gradcheck"))
        out.append(Comparison(f"x restored after the call, {label}", x, np.asarray(x0, dtype=np.float64)))
    run.notes.append("numerical gradients are judged in float64 at the gradient-check tolerance")
    return out


# --- losses ---------------------------------------------------------------------------------------


def drive_loss(ctx, pair, fn, h, run):
    """``fn(y, t)`` against the torch loss; a result (loss, dx) (CS231n's form) has dx compared too.
    Cases marked optional (one-hot targets, one sample) are skipped, with a note, when the code
    under test does not take that form."""
    out = []
    kwargs = accepted(fn, pair, h)
    torch_h = pair.torch_kwargs(h)
    for label, (x, t, optional) in pair.inputs(ctx).items():
        try:
            result = call(fn, f"calling it on y{x.shape}, t{np.shape(t)}", x.copy(), np.array(t, copy=True), **kwargs)
        except TargetError as exc:
            if optional:
                run.notes.append(f"skipped '{label}': {exc}")
                continue
            raise
        xt = ctx.tensor(x, requires_grad=True)
        value_t = pair.torch(ctx, xt, t, **torch_h)
        if isinstance(result, tuple) and len(result) == 2:
            value, dx = result
            exact = pair.torch(ctx, xt, t, **{**torch_h, "delta": 0.0}) if "delta" in torch_h else value_t
            (grad,) = torch.autograd.grad(exact, xt)
            out.append(Comparison(f"value, {label}", as_array(value, "the loss"), value_t.detach()))
            out.append(Comparison(f"dx, {label}", as_array(dx, "dx"), grad))
        else:
            out.append(Comparison(f"value, {label}", as_array(result, "the loss"), value_t.detach()))
    return out


# --- layers ---------------------------------------------------------------------------------------


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
    """The gradient of parameter ``key`` after backward: ``grads[key]`` or the attribute ``d<key>``."""
    grads = getattr(layer, "grads", None)
    if isinstance(grads, dict) and key in grads:
        return as_array(grads[key], f"grads[{key!r}]")
    for attr in (f"d{key}", f"d{key.lower()}", f"grad_{key}"):
        if getattr(layer, attr, None) is not None:
            return as_array(getattr(layer, attr), attr)
    raise VerifyUsageError(f"after backward, the layer must hold the gradient of {key} in grads[{key!r}] or d{key}")


def drive_elementwise_layer(ctx, pair, cls, h, run):
    """forward(x) and backward(dout) of an activation layer against the torch module's autograd."""
    out = []
    for label, x in pair.inputs(ctx).items():
        layer = construct(cls, pair, h, {}, run)
        y = as_array(call(layer.forward, f"forward on x{x.shape}", x.copy()), "forward's result")
        dout = ctx.array(ctx.rng.normal(size=np.shape(y)))
        dx = as_array(call(layer.backward, f"backward on dout{dout.shape}", dout.copy()), "backward's result")
        y_t, dx_t = tlayers.forward_backward(pair.torch(**pair.torch_kwargs(h)), ctx.tensor(x), ctx.tensor(dout))
        out += [Comparison(f"forward, {label}", y, y_t), Comparison(f"backward dx, {label}", dx, dx_t)]
    return out


def drive_linear(ctx, pair, cls, h, run):
    """``Linear(W, b)`` / the book's ``Affine``: forward, dx, dW, db against ``nn.Flatten + nn.Linear``."""
    out = []
    for label, (x, d_out, optional) in pair.inputs(ctx).items():
        d_in = int(np.prod(x.shape[1:]))
        W, b = ctx.array(ctx.rng.normal(size=(d_in, d_out))), ctx.array(ctx.rng.normal(size=d_out))
        layer = construct(cls, pair, h, {"W": W.copy(), "b": b.copy()}, run)
        try:
            y = as_array(call(layer.forward, f"forward on x{x.shape}", x.copy()), "forward's result")
        except TargetError as exc:
            if not optional:
                raise
            run.notes.append(f"skipped '{label}': {exc}")
            continue
        dout = ctx.array(ctx.rng.normal(size=np.shape(y)))
        dx = as_array(call(layer.backward, f"backward on dout{dout.shape}", dout.copy()), "backward's result")
        module = tlayers.flatten_linear(ctx.tensor(W.T), ctx.tensor(b))
        y_t, dx_t = tlayers.forward_backward(module, ctx.tensor(x), ctx.tensor(dout))
        grads_t = bridge.linear_arrays(module[1], grad=True)
        sc = linear_term_scales(x, W, b, dout)
        out += [Comparison(f"forward, {label}", y, y_t, scale=sc["forward"]),
                Comparison(f"backward dx, {label}", dx, dx_t, scale=sc["dx"]),
                Comparison(f"backward dW, {label}", param_grad(layer, "W"), grads_t["W"], scale=sc["dW"]),
                Comparison(f"backward db, {label}", param_grad(layer, "b"), grads_t["b"], scale=sc["db"])]
    return out


def drive_softmax_with_loss(ctx, pair, cls, h, run):
    """forward(x, t) → the mean loss, then backward(1) → dx, against ``nn.CrossEntropyLoss``.
    The book's forward keeps δ = 1e-7 in the log but its backward (y − t)/N is the exact gradient
    without δ: dx is always compared with the gradient of the loss without δ."""
    out = []
    torch_h = pair.torch_kwargs(h)
    if torch_h.get("delta"):
        run.notes.append("dx is compared with the exact gradient (softmax(x) − t)/N: the book's backward ignores "
                         "the δ of its own forward")
    for label, (x, t, optional) in pair.inputs(ctx).items():
        layer = construct(cls, pair, h, {}, run)
        try:
            loss = call(layer.forward, f"forward on x{x.shape}, t{np.shape(t)}", x.copy(), np.array(t, copy=True))
        except TargetError as exc:
            if optional:
                run.notes.append(f"skipped '{label}': {exc}")
                continue
            raise
        dx = as_array(call(layer.backward, "backward(1)", 1.0), "backward's result")
        xt = ctx.tensor(x, requires_grad=True)
        (grad,) = torch.autograd.grad(pair.torch(ctx, xt, t, **{**torch_h, "delta": 0.0}), xt)
        value_t = pair.torch(ctx, xt, t, **torch_h)
        out += [Comparison(f"loss, {label}", as_array(loss, "the loss"), value_t.detach()),
                Comparison(f"backward dx, {label}", dx, grad)]
    return out


def drive_dropout(ctx, pair, cls, h, run):
    """Training and evaluation against ``nn.Dropout`` (inverted: scale 1/(1 − p) in training).

    The two sides draw their own masks: the exact checks cover the units both kept; the user's
    keep rate is checked statistically. With ``inverted=0`` (the book's form, scaled by 1 − p at
    test time) the reference is (1 − p) times PyTorch's in both modes: the same network up to that
    constant."""
    p = float(h["p"])
    scale = 1.0 if h.get("inverted", 1) else 1.0 - p
    x = ctx.array(ctx.rng.normal(size=(200, 50)) + 0.5)  # no exact zeros: a kept unit is out != 0
    x[x == 0] = 1.0
    dout = ctx.array(ctx.rng.normal(size=x.shape))
    layer = construct(cls, pair, h, {}, run)
    y = as_array(call(layer.forward, "forward in training", x.copy(), **mode_kwargs(layer, True)), "forward's result")
    dx = as_array(call(layer.backward, "backward in training", dout.copy()), "backward's result")
    y_t, dx_t = (scale * ctx.numpy(v) for v in tlayers.dropout(ctx.tensor(x), p, True, ctx.tensor(dout)))
    if y.shape != x.shape:
        return [Comparison("forward in training", y, y_t)]
    kept = y != 0
    both = kept & (y_t != 0)
    n = x.size
    out = [
        Comparison("training: kept units on both sides have one value", y[both], y_t[both],
                   hint_value=np.median(y[kept] / x[kept]) if kept.any() else 0.0),
        Comparison("training: backward on the units both kept", dx[both], dx_t[both],
                   hint_value=np.median(dx[kept] / dout[kept]) if kept.any() else 0.0),
        Comparison("training: backward blocks the dropped units", dx[~kept], np.zeros(int((~kept).sum())),
                   hint_value=np.abs(dx[~kept]).max(initial=0.0)),
        Comparison(f"training: keep rate within 6σ of 1 − p = {1 - p:g}", np.array(kept.mean()), np.array(1 - p),
                   kind="statistical", tol=6 * np.sqrt(p * (1 - p) / n), hint_value=np.round(kept.mean(), 1)),
    ]
    x_eval = ctx.array(ctx.rng.normal(size=(16, 10)))
    y_eval = as_array(call(layer.forward, "forward in evaluation", x_eval.copy(), **mode_kwargs(layer, False)),
                      "forward's result")
    y_eval_t, _ = tlayers.dropout(ctx.tensor(x_eval), p, False, ctx.tensor(np.ones_like(x_eval)))
    out.append(Comparison("evaluation: forward", y_eval, scale * ctx.numpy(y_eval_t)))
    return out


def drive_batchnorm(ctx, pair, cls, h, run):
    """Two training steps (outputs, dx, dγ, dβ, running statistics) and one evaluation step,
    against ``nn.BatchNorm1d`` configured with the same conventions."""
    out = []
    for n, d in ((8, 5), (32, 10)):
        gamma, beta = ctx.array(ctx.rng.uniform(0.5, 1.5, d)), ctx.array(ctx.rng.normal(size=d))
        layer = construct(cls, pair, h, {"gamma": gamma.copy(), "beta": beta.copy()}, run)
        module = pair.torch(ctx.tensor(gamma), ctx.tensor(beta), **pair.torch_kwargs(h))
        module.train()
        label = f"x {n}×{d}"
        for step in (1, 2):
            x = ctx.array(ctx.rng.normal(2.0, 3.0, size=(n, d)))
            dout = ctx.array(ctx.rng.normal(size=(n, d)))
            y = as_array(call(layer.forward, f"forward in training on x{x.shape}", x.copy(),
                              **mode_kwargs(layer, True)), "forward's result")
            dx = as_array(call(layer.backward, "backward", dout.copy()), "backward's result")
            y_t, dx_t = tlayers.forward_backward(module, ctx.tensor(x), ctx.tensor(dout))
            sc = batchnorm_term_scales(x, dout, axes=(0,))
            out += [Comparison(f"training step {step}: forward, {label}", y, y_t),
                    Comparison(f"training step {step}: backward dx, {label}", dx, dx_t),
                    Comparison(f"training step {step}: dgamma, {label}", param_grad(layer, "gamma"),
                               ctx.numpy(module.weight.grad), scale=sc["dgamma"]),
                    Comparison(f"training step {step}: dbeta, {label}", param_grad(layer, "beta"),
                               ctx.numpy(module.bias.grad), scale=sc["dbeta"])]
            module.zero_grad()
        for stat in ("running_mean", "running_var"):
            if getattr(layer, stat, None) is not None:
                out.append(Comparison(f"{stat} after two steps, {label}", as_array(getattr(layer, stat), stat),
                                      getattr(module, stat)))
        x = ctx.array(ctx.rng.normal(2.0, 3.0, size=(n, d)))
        y = as_array(call(layer.forward, "forward in evaluation", x.copy(), **mode_kwargs(layer, False)),
                     "forward's result")
        module.eval()
        with torch.no_grad():
            out.append(Comparison(f"evaluation: forward with the running statistics, {label}", y,
                                  module(ctx.tensor(x))))
    return out


# --- optimizers -----------------------------------------------------------------------------------


def optimizer_problems(ctx):
    """Shared problems: the book's x²/20 + y² from (−7, 2), and a least-squares fit with a weight
    matrix and a bias (two parameters of different shapes, gradients of mixed sizes and signs).
    Each is (initial params, NumPy gradient, torch loss)."""
    A = ctx.rng.normal(size=(40, 6))
    W_true = ctx.rng.normal(size=(6, 3))
    Y = A @ W_true + 0.1 * ctx.rng.normal(size=(40, 3))
    A, Y = ctx.array(A), ctx.array(Y)

    def book_grad(p):
        return {"xy": np.array([p["xy"][0] / 10, 2 * p["xy"][1]], dtype=p["xy"].dtype)}

    def book_torch(ps):
        return ps["xy"][0] ** 2 / 20 + ps["xy"][1] ** 2

    def lsq_grad(p):
        err = A @ p["W"] + p["b"] - Y
        return {"W": 2 * A.T @ err / err.size, "b": 2 * err.sum(0) / err.size}

    def lsq_torch(ps):
        return ((ctx.tensor(A) @ ps["W"] + ps["b"] - ctx.tensor(Y)) ** 2).mean()

    return {
        "x²/20 + y² from (−7, 2)": ({"xy": ctx.array([-7.0, 2.0])}, book_grad, book_torch),
        "least squares, W (6, 3) and b (3,)": ({"W": ctx.array(ctx.rng.normal(size=(6, 3))), "b": ctx.array(np.zeros(3))},
                                                lsq_grad, lsq_torch),
    }


def _flat(params: dict) -> np.ndarray:
    return np.concatenate([np.asarray(v, dtype=np.float64).ravel() for v in params.values()])


def _update(opt, params, grads, step):
    result = call(opt.update, f"update(params, grads) at step {step}", params, grads)
    if isinstance(result, dict) and result is not params:  # a functional update returning new params
        for k in params:
            params[k] = result[k]


def optimizer_lockstep(ctx, params0: dict, opt, make_torch, torch_loss, steps: int):
    """Lockstep (see :mod:`comparisons.lockstep`): before every step the NumPy dict holds PyTorch's
    parameters (copied in place); the user's ``update`` is given the very gradient PyTorch's
    optimizer acts on; returns the parameters after every step on both sides, (steps, n) each."""
    tensors = {k: ctx.tensor(v, requires_grad=True) for k, v in params0.items()}
    optimizer = make_torch(list(tensors.values()))
    params = {k: np.array(v) for k, v in params0.items()}
    ours, theirs = [], []
    for step in range(1, steps + 1):
        load_into(params, {k: ctx.numpy(t) for k, t in tensors.items()})
        optimizer.zero_grad()
        torch_loss(tensors).backward()
        _update(opt, params, {k: ctx.numpy(t.grad).copy() for k, t in tensors.items()}, step)
        optimizer.step()
        ours.append(_flat(params))
        theirs.append(_flat({k: ctx.numpy(t) for k, t in tensors.items()}))
    return np.array(ours), np.array(theirs)


def optimizer_free_running(ctx, params0: dict, opt, make_torch, torch_loss, grad_fn, steps: int):
    """Both sides train on their own from the shared start: the two paths, (steps + 1, n) each."""
    tensors = {k: ctx.tensor(v, requires_grad=True) for k, v in params0.items()}
    optimizer = make_torch(list(tensors.values()))
    params = {k: np.array(v) for k, v in params0.items()}
    ours, theirs = [_flat(params)], [_flat(params)]
    for step in range(1, steps + 1):
        _update(opt, params, grad_fn(params), step)
        optimizer.zero_grad()
        torch_loss(tensors).backward()
        optimizer.step()
        ours.append(_flat(params))
        theirs.append(_flat({k: ctx.numpy(t) for k, t in tensors.items()}))
    return np.array(ours), np.array(theirs)


def drive_optimizer(ctx, pair, cls, h, run):
    """≥ 100 steps of ``update(params, grads)`` on shared problems against ``torch.optim``: in
    lockstep (every step from PyTorch's parameters and gradient, at the one-step tolerance), and
    free-running in float64 (the whole path at the trained tolerance)."""
    out = []

    def make_torch(tensors):
        return pair.torch(tensors, **pair.torch_kwargs(h))

    for label, (params0, grad_fn, torch_loss) in optimizer_problems(ctx).items():
        opt = _optimizer(cls, pair, h, run)
        ours, theirs = optimizer_lockstep(ctx, params0, opt, make_torch, torch_loss, run.steps)
        out.append(Comparison(label, ours, theirs, kind="lockstep", quantity="parameters after the step"))
        if ctx.dtype == "float64":
            ours, theirs = optimizer_free_running(ctx, params0, _optimizer(cls, pair, h, run), make_torch, torch_loss,
                                                  grad_fn, run.steps)
            out.append(Comparison(f"{label}: free-running path", ours, theirs, kind="trained"))
    return out


def _optimizer(cls, pair, h, run):
    opt = construct(cls, pair, h, {}, run)
    if not callable(getattr(opt, "update", None)):
        raise VerifyUsageError(f"optimizer {pair.id} expects {pair.interface}; the object has no update method")
    return opt


# --- schedules ------------------------------------------------------------------------------------


def drive_schedule(ctx, pair, target, h, run):
    """The learning rate at epochs 0 … steps − 1 against the torch scheduler stepped once per epoch."""
    if isinstance(target, type):
        schedule = construct(target, pair, h, {}, run)
        rate = lambda t: call(schedule, f"calling it with t = {t}", t)  # noqa: E731
    else:
        kwargs = accepted(target, pair, h)
        rate = lambda t: call(target, f"calling it with t = {t}", t, **kwargs)  # noqa: E731
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=h["lr0"])
    sched = pair.torch(opt, **pair.torch_kwargs(h))
    ours, theirs = [], []
    for t in range(run.steps):
        ours.append(float(as_array(rate(t), "the learning rate")))
        theirs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return [Comparison(f"learning rate at epochs 0…{run.steps - 1}", np.array(ours), np.array(theirs))]


# --- initializers ---------------------------------------------------------------------------------

INIT_ARGUMENTS = {  # what an initializer's parameters may be called, by what the driver gives them
    "rng": ("rng", "generator", "random_state", "rs"),
    "shape": ("shape", "size", "dims", "weight_shape"),
    "fan_in": ("fan_in", "n_in", "n_inputs", "input_size", "in_features", "node_num", "n_input"),
    "fan_out": ("fan_out", "n_out", "n_outputs", "output_size", "out_features", "n_output"),
}
SIGMAS = 6  # every statistical bound is 6 standard errors wide: a correct draw leaves it with p < 2e-9


def torch_layout(shape: tuple) -> tuple:
    """The book's W (in, out) is torch's weight (out, in); filters (out, in, kh, kw) are laid out alike."""
    return tuple(shape[::-1]) if len(shape) == 2 else tuple(shape)


def _init_call(ctx, pair, fn, shape, h, seed):
    """Call a user's initializer with what its parameter names ask for; a function that takes no
    generator draws from NumPy's global one, seeded here. None: it cannot make this shape."""
    params = parameters(fn)
    names = {n: key for key, ns in INIT_ARGUMENTS.items() for n in ns}
    kwargs, args = {}, []
    if params is None:
        args, kwargs = [np.random.default_rng(seed), shape], dict(h)
    else:
        for name, p in params.items():
            what = names.get(name.lower())
            hp = pair.hparam(name)
            if what == "rng":
                kwargs[name] = np.random.default_rng(seed)
            elif what == "shape":
                kwargs[name] = shape
            elif what in ("fan_in", "fan_out"):
                if len(shape) != 2:
                    return None
                kwargs[name] = shape[0] if what == "fan_in" else shape[1]
            elif hp is not None and hp.name in h:
                kwargs[name] = h[hp.name]
            elif p.default is inspect.Parameter.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                raise VerifyUsageError(f"{pair.kind} {pair.id} expects {pair.interface}; it asks for {name!r}, which "
                                       f"this reference cannot give (it gives rng, shape, fan_in, fan_out, "
                                       f"{', '.join(hp.name for hp in pair.hparams)})")
        if not any(names.get(n.lower()) == "rng" for n in params):
            np.random.seed(seed)
    return as_array(call(fn, f"calling it for shape {shape}", *args, **kwargs), "its result")


def sample_checks(label: str, w: np.ndarray, family: str, scale: float) -> list:
    """A sample of n weights against N(0, σ²) (scale σ) or U(−a, a) (scale a, σ = a/√3), each
    check a bound that a correct draw leaves with probability < 2e-9 (6 standard errors):

    * the mean: |w̄| ≤ 6σ/√n;
    * the standard deviation: |s − σ| ≤ 6·sd(s), sd(s) = σ/√(2n) (normal), σ·√(0.8/(4n)) (uniform:
      Var(s²) = (μ₄ − σ⁴)/n with μ₄ = 9σ⁴/5);
    * the fraction of |w| ≤ σ: erf(1/√2) = 0.6827 (normal) or 1/√3 = 0.5774 (uniform), ± 6 binomial
      standard errors (this tells the two families apart at equal σ);
    * uniform only: max |w| in [a(1 − 20/n), a] (P(max |w| < a(1 − ε)) = (1 − ε)ⁿ ≈ e^(−20) at ε = 20/n)."""
    w = np.asarray(w, dtype=np.float64).ravel()
    n = w.size
    sigma = scale if family == "normal" else scale / np.sqrt(3.0)
    sd_s = sigma / np.sqrt(2 * n) if family == "normal" else sigma * np.sqrt(0.8 / (4 * n))
    inside = float(math.erf(1 / math.sqrt(2))) if family == "normal" else 1 / math.sqrt(3.0)
    out = [
        Comparison(f"{label}: mean ≈ 0 (±6 s.e.)", np.array(w.mean()), np.array(0.0),
                   kind="statistical", tol=SIGMAS * sigma / np.sqrt(n)),
        Comparison(f"{label}: std ≈ σ = {sigma:.4g} (±6 s.e.)", np.array(w.std()), np.array(sigma),
                   kind="statistical", tol=SIGMAS * sd_s),
        Comparison(f"{label}: P(|w| ≤ σ) ≈ {inside:.4f} (±6 s.e.)", np.array(np.mean(np.abs(w) <= sigma)),
                   np.array(inside), kind="statistical", tol=SIGMAS * np.sqrt(inside * (1 - inside) / n)),
    ]
    if family == "uniform":  # [a(1 − 20/n), a], with a millionth of a for rounding
        out.append(Comparison(f"{label}: max |w| in [a(1 − 20/n), a = {scale:.4g}]", np.array(np.abs(w).max()),
                              np.array(scale * (1 - 10 / n)), kind="statistical", tol=scale * (10 / n + 1e-6)))
    return out


def _takes_hparam(fn, pair, name: str) -> bool:
    params = parameters(fn)
    return params is None or any(pair.hparam(p) is not None and pair.hparam(p).name == name for p in params)


def drive_initializer(ctx, pair, fn, h, run):
    """The user's draw and PyTorch's for each shape (2-D W (in, out) and 4-D filters): the shape,
    then each sample against the distribution PyTorch's documented formula gives from torch's own
    fans and gains (:func:`torch_ref.init.distribution`). The two draws come from different
    generators, so they are judged statistically (:func:`sample_checks`), never element by element."""
    out = []
    for k, (label, (shape, extra, optional)) in enumerate(pair.inputs(ctx).items()):
        hk = {**h, **extra}
        if not all(_takes_hparam(fn, pair, name) for name in extra):
            run.notes.append(f"skipped '{label}': it takes no {', '.join(extra)}")
            continue
        w = _init_call(ctx, pair, fn, shape, hk, ctx.seed * 1000 + k)
        if w is None:
            run.notes.append(f"skipped '{label}': it takes fan_in and fan_out, not a shape")
            continue
        generator = torch.Generator().manual_seed(ctx.seed * 1000 + k)
        weight = torch.empty(torch_layout(shape), dtype=ctx.torch_dtype)
        pair.torch(weight, generator=generator, **pair.torch_kwargs(hk))
        family, scale = tinit.distribution(pair.options["torch_name"], weight, **pair.torch_kwargs(hk))
        out.append(Comparison(f"shape, {label}", np.array(w.shape), np.array(shape)))
        out += sample_checks(f"yours, {label}", w, family, scale)
        out += sample_checks(f"PyTorch's draw, {label}", ctx.numpy(weight), family, scale)
    return out


def drive_fans(ctx, pair, fn, h, run):
    """(fan_in, fan_out) of each shape against what ``torch.nn.init`` computes for the same weight
    in torch's layout: exact integers."""
    out = []
    for label, shape in pair.inputs(ctx).items():
        result = as_array(call(fn, f"calling it on shape {shape}", shape), "its result")
        expected = tinit.fans(torch.empty(torch_layout(shape)))
        out.append(Comparison(f"(fan_in, fan_out), {label}", result, np.array(expected, dtype=np.float64)))
    return out


# --- networks -------------------------------------------------------------------------------------

NET_SIZES = (12, 10, 8, 4)  # input, hidden…, output: two hidden layers unless the constructor asks for one
NET_DATA = (60, 20)  # samples, batch size


def _net_given(params0: dict) -> dict:
    n_in, *hidden, n_out = NET_SIZES
    return {"params": {k: v.copy() for k, v in params0.items()}, "input_size": n_in, "input_dim": n_in,
            "hidden_size": hidden[0], "hidden_dim": hidden[0], "hidden_size_list": list(hidden),
            "hidden_dims": list(hidden), "output_size": n_out, "num_classes": n_out, "output_dim": n_out,
            "weight_init_std": 0.01, "weight_scale": 0.01}


def _net_params(ctx, net, pair):
    params = getattr(net, "params", None)
    if not isinstance(params, dict) or "W1" not in params:
        raise VerifyUsageError(f"network {pair.id} expects {pair.interface}; the network has no params dict with W1, b1, …")
    depth = sum(1 for k in params if k.startswith("W") and k[1:].isdigit())
    return [params["W1"].shape[0]] + [params[f"W{i}"].shape[1] for i in range(1, depth + 1)]


def _net_gradient(net, x, t):
    """(loss, grads) from the book's ``loss`` + ``gradient`` or CS231n's ``loss(X, y) -> (loss, grads)``."""
    if callable(getattr(net, "gradient", None)):
        loss = call(net.loss, "loss(x, t)", x, t)
        grads = call(net.gradient, "gradient(x, t)", x, t)
        return float(as_array(loss, "the loss")), grads
    result = call(net.loss, "loss(X, y)", x, t)
    if not (isinstance(result, tuple) and len(result) == 2):
        raise VerifyUsageError("a network needs gradient(x, t) -> grads and loss(x, t), or loss(X, y) -> (loss, grads)")
    return float(as_array(result[0], "the loss")), result[1]


def drive_network(ctx, pair, cls, h, run):
    """The user's network constructed with what its parameter names ask for; its parameters set to
    shared initial values in place; then loss and every gradient against autograd on a torch model
    of the same parameters, ≥ 100 SGD steps in lockstep, and (float64) free-running."""
    activation = {**h, **run.reference}.get("activation", "relu")  # run.reference: an activation the hint tries
    rng = ctx.rng
    params0 = {}
    for i, (a, b) in enumerate(zip(NET_SIZES[:-1], NET_SIZES[1:]), start=1):
        params0[f"W{i}"] = ctx.array(rng.normal(0, np.sqrt(2 / a), (a, b)))
        params0[f"b{i}"] = ctx.array(rng.normal(0, 0.1, b))
    net = construct(cls, pair, h, _net_given(params0), run)
    sizes = _net_params(ctx, net, pair)
    if sizes != list(NET_SIZES):  # e.g. a two-layer net: draw the shared start for its shapes
        params0 = {}
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
            params0[f"W{i}"] = ctx.array(rng.normal(0, np.sqrt(2 / a), (a, b)))
            params0[f"b{i}"] = ctx.array(rng.normal(0, 0.1, b))
    n = NET_DATA[0]
    x, labels = ctx.array(rng.normal(size=(n, sizes[0]))), rng.integers(0, sizes[-1], n)
    return network_checks(ctx, pair, net, params0, x, labels, lambda: tnet.mlp(sizes, activation), h, run)


def network_checks(ctx, pair, net, params0, x, labels, make_model, h, run):
    """What every network is judged by, given the user's ``net``, the shared ``params0`` (set into
    ``net.params`` in place), the data and ``make_model()`` (a torch model of the same parameters,
    filled by ``bridge.load_mlp``): the loss and every gradient at the start against autograd,
    then ``run.steps`` SGD steps in lockstep and (float64) free-running."""
    lam, delta, lr = float(h.get("weight_decay_lambda", 0.0)), float(h.get("delta", 0.0)), float(h.get("lr", 0.1))
    rng = ctx.rng
    if set(net.params) != set(params0):
        raise VerifyUsageError(f"network {pair.id}: params must hold {sorted(params0)} only; got {sorted(net.params)}")
    for k, v in params0.items():
        if np.shape(net.params[k]) != v.shape:
            raise VerifyUsageError(f"network {pair.id}: params[{k!r}] has shape {np.shape(net.params[k])}, the "
                                   f"hyperparameters give {v.shape}")
    n, batch = NET_DATA
    n_classes = int(params0[f"b{sum(k.startswith('W') for k in params0)}"].shape[0])
    order = np.concatenate([rng.permutation(n) for _ in range(run.steps * batch // n + 1)])
    batches = [order[i * batch:(i + 1) * batch] for i in range(run.steps)]
    if delta:
        run.notes.append("the gradients are compared with autograd of the loss without δ: the book's backward "
                         "ignores the δ of its own forward")

    def set_params(values):
        for k, v in values.items():
            net.params[k][...] = v

    def torch_model():
        model = make_model().to(dtype=ctx.torch_dtype, device=ctx.device)
        return bridge.load_mlp(model, params0)

    def torch_loss(model, idx, with_delta):
        scores = model(ctx.tensor(x[idx]))
        loss = tloss.softmax_cross_entropy(scores, ctx.labels(labels[idx]), delta=delta if with_delta else 0.0)
        return loss + tnet.l2_penalty(model, lam) if lam else loss

    out = []
    set_params(params0)
    targets = labels
    try:
        loss0, grads0 = _net_gradient(net, x[batches[0]], labels[batches[0]])
    except TargetError as with_labels:  # e.g. the book's ch04 net: dy = (y − t)/N needs t one-hot
        targets = ctx.array(np.eye(n_classes)[labels])
        try:
            loss0, grads0 = _net_gradient(net, x[batches[0]], targets[batches[0]])
        except TargetError:
            raise with_labels from None
        run.notes.append(f"with class labels t (N,) it failed ({with_labels}); it was given one-hot targets "
                         f"t (N, {n_classes})")
    model = torch_model()
    with torch.no_grad():
        out.append(Comparison("loss at the start", np.array(loss0), torch_loss(model, batches[0], True)))
    torch_loss(model, batches[0], False).backward()
    grads_t = bridge.mlp_arrays(model, grad=True)
    if not isinstance(grads0, dict):
        raise VerifyUsageError("the network's gradients must be a dict with the keys of params")
    for k in params0:
        if k not in grads0:
            raise VerifyUsageError(f"the network's gradients have no {k!r}; they must have the keys of params")
        out.append(Comparison(f"gradient {k} at the start", as_array(grads0[k], k), grads_t[k]))

    def torch_step(model, opt, i):
        opt.zero_grad()
        with torch.no_grad():
            loss_t = float(torch_loss(model, batches[i], True))
        torch_loss(model, batches[i], False).backward()
        grads_t = bridge.mlp_arrays(model, grad=True)
        opt.step()
        return loss_t, grads_t

    def numpy_step(i):
        loss, grads = _net_gradient(net, x[batches[i]], targets[batches[i]])
        grads = {k: np.array(as_array(grads[k], k)) for k in params0}
        for k in net.params:
            net.params[k] -= lr * grads[k]  # the book's loop: in place
        return loss, grads

    for free in (False, True):
        if free and ctx.dtype != "float64":
            continue
        set_params(params0)
        model = torch_model()
        opt = torch.optim.SGD(model.parameters(), lr=lr)
        ours, theirs, losses, losses_t, grads, grads_t = [], [], [], [], [], []
        for i in range(run.steps):
            if not free:
                set_params(bridge.mlp_arrays(model))
            loss, g = numpy_step(i)
            losses.append(loss)
            grads.append(_flat({k: g[k] for k in params0}))
            loss_t, g_t = torch_step(model, opt, i)
            losses_t.append(loss_t)
            grads_t.append(_flat({k: g_t[k] for k in params0}))
            ours.append(_flat({k: net.params[k] for k in params0}))
            theirs.append(_flat({k: v for k, v in bridge.mlp_arrays(model).items() if k in params0}))
        if free:
            out.append(Comparison(f"SGD, {run.steps} steps: free-running parameters", np.array(ours), np.array(theirs),
                                  kind="trained"))
            out.append(Comparison(f"SGD, {run.steps} steps: free-running loss", np.array(losses), np.array(losses_t),
                                  kind="trained"))
        else:
            for quantity, a, e in (("loss", losses, losses_t), ("gradients", grads, grads_t),
                                   ("parameters after the step", ours, theirs)):
                out.append(Comparison(f"SGD, {run.steps} steps", np.array(a), np.array(e), kind="lockstep",
                                      quantity=quantity))
    return out


# --- convolution ----------------------------------------------------------------------------------

# (x shape, W shape, stride, pad): stride 2 and 3, pad 1 and 2, non-square images and kernels, C > 1,
# overlapping windows (stride < filter) and a 1×1 filter
CONV_CASES = [((2, 1, 8, 8), (3, 1, 3, 3), 1, 0), ((2, 3, 7, 9), (4, 3, 3, 2), 2, 1), ((1, 2, 5, 6), (2, 2, 3, 3), 1, 2),
              ((3, 2, 10, 7), (5, 2, 5, 3), 2, 2), ((2, 3, 6, 6), (4, 3, 1, 1), 1, 0), ((2, 2, 9, 9), (3, 2, 4, 4), 3, 1)]
# (pool_h, pool_w, stride): the book's 2×2/2, overlapping and non-square windows
POOL_CASES = [(2, 2, 2), (3, 3, 2), (2, 3, 1), (3, 2, 1)]


def _conv_label(x_shape, w_shape, s, p):
    return f"x {'×'.join(map(str, x_shape))}, W {'×'.join(map(str, w_shape))}, stride {s}, pad {p}"


def _window_cases(h, run, cases):
    """The cases' stride and pad, or the ones given by --hparam for every case."""
    for x_shape, w_shape, s, p in cases:
        s = h["stride"] if "stride" in run.explicit else s
        p = h["pad"] if "pad" in run.explicit else p
        yield x_shape, w_shape, s, p


WEIGHT_NAMES = {"W": ("W", "w", "weight", "weights", "filters", "kernel"), "b": ("b", "bias", "biases")}


def load_weights(layer, values: dict) -> None:
    """Put the shared weights into a layer that made its own (a constructor taking sizes, as
    ``nn.Conv2d(in_channels, out_channels, kernel_size)``): into ``params[key]`` or the attribute
    the layer keeps it under, in place where the array is there already."""
    params = getattr(layer, "params", None)
    for key, value in values.items():
        for name in WEIGHT_NAMES[key]:
            holder = params if isinstance(params, dict) and name in params else None
            current = holder[name] if holder is not None else getattr(layer, name, None)
            if isinstance(current, np.ndarray) and current.shape == value.shape:
                current[...] = value
                break
        else:
            raise VerifyUsageError(f"the layer keeps no array of shape {value.shape} for {key} (looked for "
                                   f"params[...] and attributes {', '.join(WEIGHT_NAMES[key])})")


def conv_scales(ctx, x, W, b, dout, stride, pad) -> dict:
    """The sizes of the terms each result is summed from (for :func:`comparisons.checks.close`):
    the same convolution and backward pass on |x|, |W|, |b|, |dout|."""
    module = tconv.conv2d(ctx.tensor(np.abs(W)), ctx.tensor(np.abs(b)), stride, pad)
    y, dx = tlayers.forward_backward(module, ctx.tensor(np.abs(x)), ctx.tensor(np.abs(dout)))
    return {"forward": ctx.numpy(y), "dx": ctx.numpy(dx), "dW": ctx.numpy(module.weight.grad),
            "db": ctx.numpy(module.bias.grad)}


def drive_conv(ctx, pair, cls, h, run):
    """``Convolution(W, b, stride, pad)``: forward, dx, dW, db against ``nn.Conv2d`` on a grid of
    shapes (each case's stride and pad, unless given by --hparam)."""
    out = []
    for x_shape, w_shape, s, p in _window_cases(h, run, CONV_CASES):
        x = ctx.array(ctx.rng.normal(size=x_shape))
        W, b = ctx.array(ctx.rng.normal(size=w_shape)), ctx.array(ctx.rng.normal(size=w_shape[0]))
        label = _conv_label(x_shape, w_shape, s, p)
        fn, c, fh, fw = w_shape
        given = {"W": W.copy(), "b": b.copy(), "in_channels": c, "out_channels": fn, "filter_num": fn,
                 "num_filters": fn, "kernel_size": (fh, fw), "filter_size": (fh, fw), "filter_h": fh, "filter_w": fw}
        layer = construct(cls, pair, {**h, "stride": s, "pad": p}, given, run)
        load_weights(layer, {"W": W, "b": b})
        y = as_array(call(layer.forward, f"forward on {label}", x.copy()), "forward's result")
        module = tconv.conv2d(ctx.tensor(W), ctx.tensor(b), s, p)
        dout = ctx.array(ctx.rng.normal(size=tuple(module(ctx.tensor(x)).shape)))
        dx = as_array(call(layer.backward, f"backward on dout{dout.shape}", dout.copy()), "backward's result")
        y_t, dx_t = tlayers.forward_backward(module, ctx.tensor(x), ctx.tensor(dout))
        sc = conv_scales(ctx, x, W, b, dout, s, p)
        out += [Comparison(f"forward, {label}", y, y_t, scale=sc["forward"]),
                Comparison(f"backward dx, {label}", dx, dx_t, scale=sc["dx"]),
                Comparison(f"backward dW, {label}", param_grad(layer, "W"), module.weight.grad, scale=sc["dW"]),
                Comparison(f"backward db, {label}", param_grad(layer, "b"), module.bias.grad, scale=sc["db"])]
    return out


def pool_inputs(ctx):
    """Random images, and images of the integers 0…2, whose windows are full of ties."""
    return {"x 2×3×7×8": ctx.array(ctx.rng.normal(size=(2, 3, 7, 8))),
            "x 2×2×8×8 of integers 0…2 (ties)": ctx.array(ctx.rng.integers(0, 3, size=(2, 2, 8, 8)))}


def drive_pool(ctx, pair, cls, h, run):
    """``Pooling(pool_h, pool_w, stride, pad)``: forward and dx against ``nn.MaxPool2d`` /
    ``nn.AvgPool2d`` for several windows (the given ones with --hparam) and inputs with ties."""
    given = {k for k in ("pool_h", "pool_w", "stride") if k in run.explicit}
    cases = [(h["pool_h"], h["pool_w"], h["stride"])] if given else POOL_CASES
    out = []
    for ph, pw, s in cases:
        hp = {**h, "pool_h": ph, "pool_w": pw, "stride": s}
        for label, x in pair.inputs(ctx).items():
            layer = construct(cls, pair, hp, {}, run)
            where = f"{ph}×{pw}, stride {s}, pad {hp['pad']}, {label}"
            y = as_array(call(layer.forward, f"forward on {where}", x.copy()), "forward's result")
            dout = ctx.array(ctx.rng.uniform(0.5, 1.5, size=np.shape(y)))
            dx = as_array(call(layer.backward, f"backward on dout{dout.shape}", dout.copy()), "backward's result")
            module = pair.torch(ph, pw, s, hp["pad"], pair.options["mode"])
            y_t, dx_t = tlayers.forward_backward(module, ctx.tensor(x), ctx.tensor(dout))
            out += [Comparison(f"forward, {where}", y, y_t), Comparison(f"backward dx, {where}", dx, dx_t)]
    return out


def drive_im2col(ctx, pair, fn, h, run):
    """``im2col(x, filter_h, filter_w, stride, pad)`` against ``F.unfold`` under the layout relation
    im2col(x) = unfold(x).transpose(1, 2).reshape(N·OH·OW, C·FH·FW)."""
    out = []
    for x_shape, (_, _, fh, fw), s, p in _window_cases(h, run, CONV_CASES):
        x = ctx.array(ctx.rng.normal(size=x_shape))
        col = as_array(call(fn, f"{getattr(fn, '__name__', 'im2col')}(x{x_shape}, {fh}, {fw}, {s}, {p})", x.copy(),
                            fh, fw, s, p), "its result")
        cols_t = pair.torch(ctx.tensor(x), fh, fw, s, p)
        out.append(Comparison(f"columns, {_conv_label(x_shape, (fh, fw), s, p)}", col,
                              cols_t.transpose(1, 2).reshape(-1, cols_t.shape[1])))
    run.notes.append("im2col(x) is compared with F.unfold(x).transpose(1, 2).reshape(N·OH·OW, C·FH·FW): one window "
                     "per row, its values ordered (c, p, q)")
    return out


def drive_col2im(ctx, pair, fn, h, run):
    """``col2im(col, input_shape, filter_h, filter_w, stride, pad)`` against ``F.fold`` (overlaps
    added), with col laid out as the book's im2col: (N·OH·OW, C·FH·FW)."""
    out = []
    for x_shape, (_, _, fh, fw), s, p in _window_cases(h, run, CONV_CASES):
        n, c, hh, ww = x_shape
        oh, ow = (hh + 2 * p - fh) // s + 1, (ww + 2 * p - fw) // s + 1
        col = ctx.array(ctx.rng.normal(size=(n * oh * ow, c * fh * fw)))
        img = as_array(call(fn, f"{getattr(fn, '__name__', 'col2im')}(col{col.shape}, {x_shape}, {fh}, {fw}, {s}, {p})",
                            col.copy(), x_shape, fh, fw, s, p), "its result")
        cols_t = ctx.tensor(col.reshape(n, oh * ow, c * fh * fw).transpose(0, 2, 1))
        abs_t = ctx.tensor(np.abs(col).reshape(n, oh * ow, c * fh * fw).transpose(0, 2, 1))
        out.append(Comparison(f"image, {_conv_label(x_shape, (fh, fw), s, p)}", img, pair.torch(cols_t, (hh, ww), fh, fw, s, p),
                              scale=ctx.numpy(pair.torch(abs_t, (hh, ww), fh, fw, s, p))))
    return out


CONVNET_INPUT, CONVNET_CLASSES = (1, 10, 10), 4


def drive_convnet(ctx, pair, cls, h, run):
    """A SimpleConvNet (conv → ReLU → 2×2 max pool → affine → ReLU → affine → softmax) built from
    the hyperparameters (filter_num, filter_size, pad, stride, hidden_size) on 1×10×10 images, its
    ``params`` (W1 of shape (FN, C, FH, FW)) set to shared values in place, then judged as every
    network is (:func:`network_checks`) against ``torch_ref.conv.SimpleConvNet``."""
    c, H, Wd = CONVNET_INPUT
    fn, fs, s, p, hidden = (int(h[k]) for k in ("filter_num", "filter_size", "stride", "pad", "hidden_size"))
    oh, ow = (H + 2 * p - fs) // s + 1, (Wd + 2 * p - fs) // s + 1
    if oh < 2 or ow < 2:
        raise VerifyUsageError(f"filter_size {fs}, stride {s} and pad {p} leave no 2×2 pool on {H}×{Wd} images")
    shapes = {"W1": (fn, c, fs, fs), "W2": (fn * (oh // 2) * (ow // 2), hidden), "W3": (hidden, CONVNET_CLASSES)}
    rng = ctx.rng
    params0 = {}
    for i, (key, shape) in enumerate(shapes.items(), start=1):
        fan_in = int(np.prod(shape[1:])) if key == "W1" else shape[0]
        params0[key] = ctx.array(rng.normal(0, np.sqrt(2 / fan_in), shape))
        params0[f"b{i}"] = ctx.array(rng.normal(0, 0.1, shape[0] if key == "W1" else shape[1]))
    given = {"params": {k: v.copy() for k, v in params0.items()}, "input_dim": CONVNET_INPUT,
             "conv_param": {"filter_num": fn, "filter_size": fs, "pad": p, "stride": s}, "num_filters": fn,
             "hidden_size": hidden, "hidden_dim": hidden, "output_size": CONVNET_CLASSES, "num_classes": CONVNET_CLASSES,
             "weight_init_std": 0.01, "weight_scale": 0.01}
    net = construct(cls, pair, h, given, run)
    if not isinstance(getattr(net, "params", None), dict):
        raise VerifyUsageError(f"network {pair.id} expects {pair.interface}; the network has no params dict")
    x, labels = ctx.array(rng.normal(size=(NET_DATA[0], *CONVNET_INPUT))), rng.integers(0, CONVNET_CLASSES, NET_DATA[0])
    return network_checks(ctx, pair, net, params0, x, labels,
                          lambda: pair.torch(CONVNET_INPUT, fn, fs, s, p, 2, hidden, CONVNET_CLASSES), h, run)


# --- recurrent layers -------------------------------------------------------------------------------

RECURRENT_SIZES = (3, 5, 4, 6)  # N, T, D, H: H ≠ D, so a transposed weight cannot pass
GATE_GUESSES = ("ifog", "ifgo", "fgio")  # CS231n's, PyTorch's, the book's (vol. 2); then every other order
GATE_NAMES = {"ifog": "CS231n's", "ifgo": "PyTorch's", "fgio": "the book's (Deep Learning from Scratch 2)"}


def _gate_orders():
    from itertools import permutations

    rest = ["".join(p) for p in permutations("ifgo") if "".join(p) not in GATE_GUESSES]
    return list(GATE_GUESSES) + rest


def _recurrent_weights(ctx, kind: str):
    """Shared weights in the NumPy layout (columns = gates): Wx (D, G·H), Wh (H, G·H), b (and a
    GRU's bh). The gate order is whatever the code under test reads them as."""
    _, _, D, H = RECURRENT_SIZES
    G = {"rnn": 1, "lstm": 4, "gru": 3}[kind]
    w = {"Wx": ctx.array(ctx.rng.normal(0, 0.5, (D, G * H))), "Wh": ctx.array(ctx.rng.normal(0, 0.5, (H, G * H))),
         "b": ctx.array(ctx.rng.normal(0, 0.5, G * H))}
    if kind == "gru":
        w = {"Wx": w["Wx"], "Wh": w["Wh"], "bx": w["b"], "bh": ctx.array(ctx.rng.normal(0, 0.5, G * H))}
    return w


def _reference(ctx, kind, w, gates, cell, reset_after=True):
    """The torch module (or, for the GRU's paper form, the hand-written cell) holding ``w`` read
    with the gate order ``gates``."""
    b, bh = (w["bx"], w["bh"]) if kind == "gru" else (w["b"], None)
    tp = bridge.recurrent_to_torch(kind, w["Wx"], w["Wh"], b, gates=gates, bh=bh)
    tensors = [ctx.tensor(tp[k]) for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    if kind == "gru" and not reset_after:
        return trec.GRUCellResetBefore(*tensors)
    return trec.recurrent(kind, *tensors, cell=cell)


def _reference_grads(module, kind, gates):
    if isinstance(module, trec.GRUCellResetBefore):
        arrays = [getattr(module, n).grad.detach().cpu().numpy() for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
        return bridge.recurrent_from_torch(kind, *arrays)
    return bridge.recurrent_arrays(module, grad=True, gates=gates)


def _layer_grads(layer, keys):
    """The parameters' gradients after backward: ``grads`` as a dict, or as a list in the order of
    the constructor's arrays (the book, vol. 2), or ``dWx``-style attributes."""
    grads = getattr(layer, "grads", None)
    if isinstance(grads, (list, tuple)) and len(grads) == len(keys):
        return {k: as_array(g, f"grads[{i}]") for i, (k, g) in enumerate(zip(keys, grads))}
    return {k: param_grad(layer, k) for k in keys}


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


def _detect_gates(ctx, kind, w, run, user_out, reference_out, fixed):
    """The LSTM gate order the code under test reads its columns in: the first order whose
    reference reproduces its forward outputs. Named in the notes."""
    if kind != "lstm":
        return None
    if fixed != "auto":
        return fixed
    for order in _gate_orders():
        ref = reference_out(order)
        if all(u.shape == r.shape and np.all(close(u, r, *ctx.tolerance("exact"))) for u, r in zip(user_out, ref)):
            name = GATE_NAMES.get(order, "")
            run.notes.append(f"gate order detected: {', '.join(order)}{f' ({name})' if name else ''}; nn.LSTM stacks "
                             "i, f, g, o: its rows are permuted to your columns for the comparison")
            return order
    run.notes.append("no gate order reproduces the forward pass: compared in PyTorch's order i, f, g, o")
    return "ifgo"


def drive_recurrent_step(ctx, pair, cls, h, run):
    """One step of a tanh RNN, LSTM or GRU cell (``pair.options['kind']``): forward(x, h_prev[, c_prev])
    and backward(dh[, dc]) → (dx, dh_prev[, dc_prev]), with the weights' gradients, against
    nn.RNNCell/nn.LSTMCell/nn.GRUCell (an LSTM's gate order detected from its forward pass)."""
    kind = pair.options["kind"]
    N, _, D, H = RECURRENT_SIZES
    reset_after = bool(h.get("reset_after", 1))
    w = _recurrent_weights(ctx, kind)
    x = ctx.array(ctx.rng.normal(size=(N, D)))
    n_state = 2 if kind == "lstm" else 1
    states = tuple(ctx.array(ctx.rng.normal(size=(N, H))) for _ in range(n_state))
    douts = tuple(ctx.array(ctx.rng.normal(size=(N, H))) for _ in range(n_state))
    layer = construct(cls, pair, h, {k: v.copy() for k, v in w.items()}, run)
    out = _outputs(call(layer.forward, f"forward(x{x.shape}, {'h_prev, c_prev' if n_state == 2 else 'h_prev'})",
                        x.copy(), *(s.copy() for s in states)), n_state, "forward's result")

    def reference_out(order):
        with torch.no_grad():
            module = _reference(ctx, kind, w, order, True, reset_after)
            ref = module(ctx.tensor(x), tuple(ctx.tensor(s) for s in states) if n_state == 2 else ctx.tensor(states[0]))
        return tuple(ctx.numpy(r) for r in (ref if isinstance(ref, tuple) else (ref,)))

    gates = _detect_gates(ctx, kind, w, run, out, reference_out, h.get("gate_order", "auto"))
    back = _outputs(call(layer.backward, f"backward({'dh, dc' if n_state == 2 else 'dh'})", *(d.copy() for d in douts)),
                    1 + n_state, "backward's result")
    module = _reference(ctx, kind, w, gates, True, reset_after)
    outs_t, dx_t, dstates_t = trec.cell_backward(module, ctx.tensor(x), tuple(ctx.tensor(s) for s in states),
                                                 tuple(ctx.tensor(d) for d in douts))
    names = ("h", "c")[:n_state]
    comps = [Comparison(f"forward {n}", a, e) for n, a, e in zip(names, out, outs_t)]
    comps += [Comparison(f"backward {n}", a, e) for n, a, e in zip(("dx", "dh_prev", "dc_prev"), back, (dx_t, *dstates_t))]
    grads_t = _reference_grads(module, kind, gates)
    grads = _layer_grads(layer, list(w))
    comps += [Comparison(f"backward d{k}", grads[k], grads_t[k]) for k in w]
    return comps


def drive_recurrent_sequence(ctx, pair, cls, h, run):
    """A tanh RNN or LSTM over a sequence: forward(xs (N, T, D), h0[, c0]) → hs (N, T, H) and
    backward(dhs) → (dxs, dh0[, dc0]) with the weights' gradients (BPTT), against nn.RNN/nn.LSTM and
    autograd. An LSTM runs from c0 = 0 (CS231n's lstm_forward takes no c0), then, where the forward
    takes c0, from a random one. A forward that takes no h0 (the book's TimeRNN) starts from its
    ``set_state`` or from 0."""
    kind = pair.options["kind"]
    N, T, D, H = RECURRENT_SIZES
    w = _recurrent_weights(ctx, kind)
    n_state = 2 if kind == "lstm" else 1
    draws = [(ctx.array(ctx.rng.normal(size=(N, T, D))), ctx.array(ctx.rng.normal(size=(N, T, H))),
              tuple(ctx.array(ctx.rng.normal(size=(N, H))) for _ in range(n_state))) for _ in range(n_state)]
    if kind == "lstm":  # the first case from c0 = 0
        x, dout, (h0, c0) = draws[0]
        draws[0] = (x, dout, (h0, np.zeros_like(c0)))
    comps, gates = [], h.get("gate_order", "auto")
    for case, (x, dout, states) in enumerate(draws):
        label = "" if kind == "rnn" else ", c0 = 0" if case == 0 else ", c0 random"
        layer = construct(cls, pair, h, {k: v.copy() for k, v in w.items()}, run)
        given = n_state if _takes_positional(layer.forward, 1 + n_state) else 1 if _takes_positional(layer.forward, 2) else 0
        if given == 0 and callable(getattr(layer, "set_state", None)):
            call(layer.set_state, "set_state(h0[, c0])", *(s.copy() for s in states))
            given = n_state
        if case == 1 and given < 2:
            break  # the forward takes no c0: the c0 = 0 case was all there is to compare
        if given < n_state:
            states = tuple(s if i < given else np.zeros_like(s) for i, s in enumerate(states))
            if given == 0:
                run.notes.append("the forward takes no h0: it starts from 0")
        args = (x.copy(), *(s.copy() for s in states[:given]))
        hs = _outputs(call(layer.forward, f"forward(xs{x.shape}, …)", *args), 1, "forward's result")[0]

        def reference_out(order):
            with torch.no_grad():
                module = _reference(ctx, kind, w, order, False)
                ref, _ = module(ctx.tensor(x), tuple(ctx.tensor(s)[None] for s in states) if n_state == 2
                                else ctx.tensor(states[0])[None])
            return (ctx.numpy(ref),)

        gates = _detect_gates(ctx, kind, w, run, (hs,), reference_out, gates)
        back = _outputs(call(layer.backward, f"backward(dhs{dout.shape})", dout.copy()), 1 + given, "backward's result")
        module = _reference(ctx, kind, w, gates, False)
        hs_t, _, dx_t, dstates_t = trec.run_backward(module, ctx.tensor(x), tuple(ctx.tensor(s) for s in states),
                                                     ctx.tensor(dout))
        comps.append(Comparison(f"forward h_t at every step{label}", hs, hs_t))
        comps += [Comparison(f"backward {n}{label}", a, e)
                  for n, a, e in zip(("dxs", "dh0", "dc0"), back, (dx_t, *dstates_t))]
        if len(back) == 1 and getattr(layer, "dh", None) is not None and np.shape(layer.dh) == (N, H):
            comps.append(Comparison(f"backward dh0 (the layer's dh){label}", as_array(layer.dh, "dh"), dstates_t[0]))
        grads_t = _reference_grads(module, kind, gates)
        grads = _layer_grads(layer, list(w))
        comps += [Comparison(f"backward d{k}{label}", grads[k], grads_t[k]) for k in w]
    return comps


def drive_embedding(ctx, pair, cls, h, run):
    """forward(idx) → W[idx] and backward(dout) → the gradient of W (repeated indices add up),
    against nn.Embedding and autograd."""
    V, D = 5, 3
    W = ctx.array(ctx.rng.normal(size=(V, D)))
    comps = []
    for label, idx in (("idx 4×6 (repeats)", ctx.rng.integers(0, V, size=(4, 6))), ("idx 8 (repeats)", ctx.rng.integers(0, V, 8))):
        layer = construct(cls, pair, h, {"W": W.copy()}, run)
        out = as_array(call(layer.forward, f"forward(idx{idx.shape})", idx.copy()), "forward's result")
        dout = ctx.array(ctx.rng.normal(size=idx.shape + (D,)))
        call(layer.backward, f"backward(dout{dout.shape})", dout.copy())
        module = trec.embedding(ctx.tensor(W))
        out_t = module(ctx.labels(idx))
        out_t.backward(ctx.tensor(dout))
        comps += [Comparison(f"forward, {label}", out, out_t),
                  Comparison(f"backward dW, {label}", _layer_grads(layer, ["W"])["W"], module.weight.grad)]
    return comps


def drive_clip_grad_norm(ctx, pair, fn, h, run):
    """``fn(grads, max_norm)`` clips a list of gradient arrays in place (or returns them) by their
    global norm, against nn.utils.clip_grad_norm_; a returned number is compared with its norm."""
    shapes = ((4, 6), (6, 6), (6,))
    comps = []
    for label, factor in (("max_norm = 0.3·‖g‖ (clips)", 0.3), ("max_norm = 2·‖g‖ (leaves them)", 2.0),
                          ("one tensor 100× the others (clips)", 0.1)):
        grads0 = [ctx.array(ctx.rng.normal(size=s)) for s in shapes]
        if factor == 0.1:
            grads0[0] = grads0[0] * 100
        total = float(np.sqrt(sum(np.sum(np.asarray(g, dtype=np.float64) ** 2) for g in grads0)))
        max_norm = factor * total
        grads = [g.copy() for g in grads0]
        result = call(fn, f"calling it on {len(grads)} gradients with max_norm={max_norm:.4g}", grads, max_norm)
        if isinstance(result, (list, tuple)) and len(result) == len(grads):
            grads = [as_array(g, "the clipped gradient") for g in result]
        tensors = [ctx.tensor(g, requires_grad=True) for g in grads0]
        for p, g in zip(tensors, grads0):
            p.grad = ctx.tensor(g)
        norm_t = trec.clip_grad_norm(tensors, max_norm)
        comps.append(Comparison(f"clipped gradients, {label}", np.concatenate([np.ravel(g) for g in grads]),
                                torch.cat([p.grad.ravel() for p in tensors])))
        if isinstance(result, (int, float, np.floating)) or (isinstance(result, np.ndarray) and result.ndim == 0):
            comps.append(Comparison(f"the norm returned, {label}", as_array(result, "the norm"), norm_t))
    return comps
