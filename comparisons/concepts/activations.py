"""Activation functions: forward and backward of each, NumPy against torch.nn and autograd."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import torch

import torch_ref.activations as tact
import torch_ref.layers as tlayers

from .. import bridge, pairs, plots

FUNCTIONS = ("identity", "sigmoid", "tanh", "relu", "leaky-relu", "elu")  # the declared pairs compared here


def functions(impl) -> dict:
    """name → (function, derivative, layer class, torch module builder, hyperparameters), each from
    the declarations of :mod:`comparisons.pairs` (the function ``f``, its derivative ``f-grad``
    and the layer ``f``), with the function's default hyperparameters."""
    out = {}
    for pair_id in FUNCTIONS:
        fn, grad, layer = (pairs.get(kind, name) for kind, name in
                           (("function", pair_id), ("function", f"{pair_id}-grad"), ("layer", pair_id)))
        kwargs = fn.defaults()
        out[pair_id.replace("-", "_")] = (fn.scratch_object(impl), grad.scratch_object(impl), layer.scratch_object(impl),
                                          lambda layer=layer, kwargs=kwargs: layer.torch(**layer.torch_kwargs(kwargs)),
                                          kwargs)
    return out


def _inputs(ctx):
    grid = np.linspace(-6.0, 6.0, 121)  # contains 0 exactly
    edges = np.array([-1000.0, -50.0, -20.0, -1e-8, 0.0, 1e-8, 20.0, 50.0, 1000.0])
    return {
        "grid": ctx.array(np.concatenate([grid, edges])),
        "random batch": ctx.array(ctx.rng.normal(0.0, 3.0, size=(16, 12))),
    }


def run(ctx):
    impl = ctx.impl
    inputs = _inputs(ctx)
    _declared(ctx)
    curves = {name: _curve(ctx, fn, grad_fn, torch_module, kwargs, inputs["grid"])
              for name, (fn, grad_fn, _, torch_module, kwargs) in functions(impl).items()}
    _tanh_same_formula(ctx, inputs["random batch"])
    _sigmoid_overflow(ctx)
    _kink_conventions(ctx)
    _defaults(ctx, inputs["grid"])
    _step(ctx, inputs["grid"], curves)
    _maxout(ctx)
    _linear_collapse(ctx)
    _sigmoid_fed_signs(ctx)
    _edge_table(ctx, curves)
    ctx.figure("functions", lambda: _plot(curves))


def _declared(ctx):
    """Each function, its derivative and its layer through their declarations (:mod:`comparisons.pairs`):
    exact zeros at the kinks, tiny and large magnitudes, batches of several shapes."""
    start = len(ctx.records)
    for pair_id in FUNCTIONS:
        for kind, name in (("function", pair_id), ("function", f"{pair_id}-grad"), ("layer", pair_id)):
            pair = pairs.get(kind, name)
            what = "derivative" if name.endswith("-grad") else kind
            with ctx.timed("numpy"):
                pairs.check(ctx, pair, pair.scratch_object(ctx.impl), prefix=f"{pair_id} {what}: ")
    checked = ctx.records[start:]
    ctx.value("largest difference on the declared inputs", max(r.max_abs_err for r in checked))
    ctx.observed("every function and derivative agrees on the declared inputs", all(r.passed for r in checked))


def _curve(ctx, fn, grad_fn, torch_module, kwargs, x):
    """A function and its derivative on the grid, on both sides, for the figure."""
    module = torch_module()
    _, deriv_t = tact.forward_backward(module, ctx.tensor(x), torch.ones_like(ctx.tensor(x)))
    return x, fn(x, **kwargs), ctx.numpy(module(ctx.tensor(x)).detach()), grad_fn(x, **kwargs), ctx.numpy(deriv_t)


def _tanh_same_formula(ctx, x):
    """The backward formulas are identical: fed torch's own forward output, NumPy's gives torch's dx."""
    dout = ctx.array(ctx.rng.normal(size=x.shape))
    y_t, dx_t = tact.forward_backward(tact.module("tanh"), ctx.tensor(x), ctx.tensor(dout))
    y_torch = ctx.numpy(y_t)
    ctx.compare("tanh backward from torch's own y", dout * ctx.impl.activations.tanh_grad_from_output(y_torch), dx_t)
    ctx.finding("tanh forward: NumPy and torch libm differ by at most 2 ulp", bool(
        np.all(np.abs(ctx.impl.activations.tanh(x) - y_torch) <= 2 * np.spacing(np.abs(y_torch)))),
        "the only source of the tanh backward differences", ctx.impl.activations.tanh(x), y_torch)


def _sigmoid_overflow(ctx):
    """σ(−1000) two ways: the implementation under test (written not to overflow) and the textbook
    1/(1 + e^−x), which reaches the right 0 only through e^1000 = inf."""
    x = ctx.array([-1000.0])
    ctx.value("sigmoid derivative at 5", float(ctx.impl.activations.sigmoid_grad(ctx.array([5.0]))[0]))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ours = ctx.impl.activations.sigmoid(x)
    ctx.finding("sigmoid(−1000) without an overflow", bool(ours[0] == 0.0 and not caught),
                f"σ(−1000) = {ours[0]:g}; warnings: {[str(w.message) for w in caught] or 'none'}")
    with warnings.catch_warnings(record=True) as caught, np.errstate(over="warn"):
        warnings.simplefilter("always")
        textbook = 1.0 / (1.0 + np.exp(-x))
    ctx.finding("textbook sigmoid(−1000): right value after an overflow",
                bool(textbook[0] == 0.0 and any("overflow" in str(w.message) for w in caught)),
                f"1/(1 + e^1000) = {textbook[0]:g}; warnings: {[str(w.message) for w in caught] or 'none'}")


# the checks of the derivative at the kink, by function (the lesson's differences quote them)
KINK_CHECKS = {"relu": "relu'(0) = 0 as torch", "leaky_relu": "leaky_relu'(0) = slope as torch"}


def _kink_conventions(ctx):
    zero = ctx.array([0.0])
    table = functions(ctx.impl)
    for name, label in KINK_CHECKS.items():
        _, grad_fn, _, torch_module, kwargs = table[name]
        ours = grad_fn(zero, **kwargs)
        _, theirs = tact.forward_backward(torch_module(), ctx.tensor(zero), ctx.tensor([1.0]))
        ctx.compare(label, ours, theirs)


def _defaults(ctx, x):
    """Leaky ReLU and ELU constructed and called with no hyperparameter, against torch's defaults
    (``nn.LeakyReLU()``: negative_slope 0.01, ``nn.ELU()``: alpha 1.0)."""
    dout = ctx.array(ctx.rng.normal(size=x.shape))
    table = functions(ctx.impl)
    for name in ("leaky_relu", "elu"):
        fn, grad_fn, layer_cls, _, _ = table[name]
        module = pairs.get("layer", name.replace("_", "-")).torch  # the declared torch module, at its defaults
        y_t, dx_t = tact.forward_backward(module(), ctx.tensor(x), ctx.tensor(dout))
        _, deriv_t = tact.forward_backward(module(), ctx.tensor(x), torch.ones_like(ctx.tensor(x)))
        layer = layer_cls()
        y_layer = layer.forward(x)
        ours = np.stack([fn(x), grad_fn(x), y_layer, layer.backward(dout)])
        ctx.compare(f"{name} at its default = nn.{type(module()).__name__}() (function, derivative, layer forward and "
                    "backward)", ours, np.stack([ctx.numpy(t) for t in (y_t, deriv_t, y_t, dx_t)]))


def _step(ctx, x, curves):
    y_np = ctx.impl.activations.step(x)
    step = tact.Step()
    y_t = step(ctx.tensor(x))
    ctx.compare("step forward (grid)", y_np, y_t)
    try:
        xt = ctx.tensor(x, requires_grad=True)
        step(xt).sum().backward()
        refused = False
    except RuntimeError:
        refused = True
    ctx.finding("step: torch refuses to differentiate", refused,
                "torch.heaviside has no derivative formula; the true derivative is 0 wherever it exists")
    deriv = ctx.impl.activations.step_grad(x)
    ctx.finding("step: derivative is 0 everywhere", bool(np.all(deriv == 0)),
                "no gradient signal passes a step function")
    curves["step"] = (x, y_np, ctx.numpy(y_t), deriv, np.zeros_like(deriv))


def _maxout(ctx):
    k, n_in, n_out, n = 3, 5, 4, 10
    W = ctx.array(ctx.rng.normal(size=(k, n_in, n_out)))
    b = ctx.array(ctx.rng.normal(size=(k, n_out)))
    x = ctx.array(ctx.rng.normal(size=(n, n_in)))
    dout = ctx.array(ctx.rng.normal(size=(n, n_out)))
    layer = ctx.impl.layers.Maxout(W.copy(), b.copy())
    y_np = layer.forward(x)
    dx_np = layer.backward(dout)
    ctx.compare("maxout function = layer", ctx.impl.activations.maxout(x, W, b), y_np)

    model = tact.Maxout(n_in, n_out, k).to(dtype=ctx.torch_dtype, device=ctx.device)
    weight, bias = bridge.maxout_weight(W, b)
    with torch.no_grad():
        model.linear.weight.copy_(ctx.tensor(weight))
        model.linear.bias.copy_(ctx.tensor(bias))
    xt = ctx.tensor(x, requires_grad=True)
    y_t = model(xt)
    y_t.backward(ctx.tensor(dout))
    dW_t, db_t = bridge.maxout_grads(ctx.numpy(model.linear.weight.grad), ctx.numpy(model.linear.bias.grad), k)
    ctx.compare("maxout forward", y_np, y_t)
    ctx.compare("maxout backward dx", dx_np, xt.grad)
    ctx.compare("maxout backward dW", layer.grads["W"], dW_t)
    ctx.compare("maxout backward db", layer.grads["b"], db_t)


def _linear_collapse(ctx):
    """h(x) = cx three times is c³x; three linear layers are one layer with W₁W₂W₃."""
    c = 1.7
    x = ctx.array(ctx.rng.normal(size=(6, 1)))
    three = c * (c * (c * x))
    ctx.compare("h(h(h(x))) = c³x, NumPy", three, ctx.array(c**3) * x)
    seq = tlayers.linear_chain([ctx.tensor([[c]])] * 3)
    single = tlayers.linear(ctx.tensor([[c**3]]))
    ctx.compare("three nn.Linear(c) = one nn.Linear(c³)", seq(ctx.tensor(x)), single(ctx.tensor(x)))

    Ws = [ctx.array(ctx.rng.normal(size=s)) for s in [(4, 5), (5, 3), (3, 2)]]
    xm = ctx.array(ctx.rng.normal(size=(7, 4)))
    deep = xm
    for W in Ws:
        deep = ctx.impl.layers.Linear(W, np.zeros(W.shape[1], dtype=ctx.np_dtype)).forward(deep)
    collapsed = bridge.linear_from(Ws[0] @ Ws[1] @ Ws[2], None, ctx.torch_dtype, ctx.device)
    # the two multiply in different orders, (x W1) W2 W3 against x (W1 W2 W3): each rounds its sums
    # of products, so the difference is judged against the size of the terms, |x| |W1| |W2| |W3|
    terms = np.abs(xm) @ np.abs(Ws[0]) @ np.abs(Ws[1]) @ np.abs(Ws[2])
    ctx.compare("three linear layers = one with W1 W2 W3", deep, collapsed(ctx.tensor(xm)), scale=terms)


def _sigmoid_fed_signs(ctx):
    """With all-positive inputs (sigmoid outputs), one sample's weight gradients share one sign."""
    signs_np, signs_t = [], []
    for trial in range(ctx.value("sigmoid-fed neurons", 20)):
        x = ctx.impl.activations.sigmoid(ctx.array(ctx.rng.normal(size=(1, 3))))  # all > 0
        W = ctx.array(ctx.rng.normal(size=(3, 1)))
        b = ctx.array(ctx.rng.normal(size=(1,)))
        t = ctx.array(ctx.rng.uniform(size=(1, 1)))
        layer, act_layer = ctx.impl.layers.Linear(W, b), ctx.impl.layers.Sigmoid()
        y = act_layer.forward(layer.forward(x))
        layer.backward(act_layer.backward(y - t))  # d(½(y−t)²)/dy = y − t
        lin = bridge.linear_from(W, b, ctx.torch_dtype, ctx.device)
        loss = 0.5 * ((torch.sigmoid(lin(ctx.tensor(x))) - ctx.tensor(t)) ** 2).sum()
        loss.backward()
        g_t = bridge.linear_arrays(lin, grad=True)["W"]
        if trial == 0:
            ctx.compare("sigmoid-fed neuron weight gradient", layer.grads["W"], g_t)
        signs_np.append(len(set(np.sign(layer.grads["W"]).ravel())) == 1)
        signs_t.append(len(set(np.sign(g_t).ravel())) == 1)
    ctx.finding("all-positive inputs: one sign per weight gradient (NumPy)", all(signs_np),
                "20 random neurons fed by sigmoid outputs; every gradient δ·xᵢ has the sign of δ")
    ctx.finding("all-positive inputs: one sign per weight gradient (torch)", all(signs_t))


def _edge_table(ctx, curves):
    rows = []
    for name, (x, y_np, y_t, d_np, d_t) in curves.items():
        for value in (-1000.0, 0.0, 1000.0):
            i = int(np.flatnonzero(x == value)[0])
            rows.append({"function": name, "x": value, "h(x) NumPy": y_np[i], "h(x) torch": y_t[i],
                         "h'(x) NumPy": d_np[i], "h'(x) torch": d_t[i]})
    ctx.table("edge-values", pd.DataFrame(rows))


def _plot(curves):
    order = ["step", "identity", "sigmoid", "tanh", "relu", "leaky_relu", "elu"]
    fig, axes = plots.grid(len(order), 4, size=(3.3, 2.6))
    for ax, name in zip(axes, order):
        x, y_np, y_t, d_np, d_t = curves[name]
        keep = np.abs(x) <= 6
        sort = np.argsort(x[keep])
        xs = x[keep][sort]
        plots.overlay(ax, xs, y_np[keep][sort], y_t[keep][sort], title=name, xlabel="x", label="h(x)")
        plots.overlay(ax, xs, d_np[keep][sort], d_t[keep][sort], color="tab:green", label="h′(x)")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7, loc="upper left")
    fig.suptitle("Activation functions h(x) and their derivatives h′(x): NumPy lines, PyTorch markers", fontsize=10)
    fig.tight_layout()
    return fig
