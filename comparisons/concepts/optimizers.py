"""Optimizers step by step against torch.optim, with the textbook forms beside PyTorch's."""

from __future__ import annotations

import numpy as np
import pandas as pd

import scratch.optim
import torch_ref.optim as topt

from .. import data, pairs, plots
from ..lockstep import lockstep_history
from ..pairs._base import accepted
from ..training import compare_params, free_running, he_params, train_pair

ID = "optimizers"
TITLE = "Optimizers: SGD, Momentum, Nesterov, AdaGrad, RMSProp, Adam, AdamW (최적화 기법)"

GUIDE = """
Plain SGD (p ← p − η·g) follows the steepest slope at every point. On the book's function
f(x, y) = x²/20 + y² (from (−7, 2)) that is a poor direction: the bowl is 20 times steeper in y
than in x, so SGD zig-zags across the valley while crawling along it. The optimizers below fix that
in two ways: by remembering past gradients (momentum) and by giving every parameter its own step
size (adaptive methods).

| optimizer | textbook form (the book, CS231n, the seeds) | PyTorch (`torch.optim`) |
|---|---|---|
| SGD | p ← p − η·g | `SGD(lr)`: the same |
| Momentum (모멘텀) | v ← μv − η·g; p ← p + v | `SGD(momentum=μ)`: b ← μb + g; p ← p − η·b |
| Nesterov (NAG) | v ← μv − η·∇f(θ + μv); θ ← θ + v | `SGD(nesterov=True)`: b ← μb + g; p ← p − η(g + μb) |
| AdaGrad | h ← h + g²; p ← p − η·g/(√h + ε) | `Adagrad`: the same, ε = 1e-10 by default (book 1e-7) |
| RMSProp | h ← ρh + (1 − ρ)g²; p ← p − η·g/(√h + ε) | `RMSprop`: ρ is called `alpha` (0.99), ε = 1e-8 |
| Adam | m ← β₁m + (1 − β₁)g; v ← β₂v + (1 − β₂)g²; p ← p − η·m/(√v + ε) (seed: no bias correction) | `Adam`: m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ), p ← p − η·m̂/(√v̂ + ε) |
| AdamW | — | `AdamW`: p ← p(1 − ηλ), then the Adam step |

**Momentum, two ways of writing the same thing.** The textbook velocity v includes the learning
rate; PyTorch's buffer b does not. Multiply PyTorch's recursion by −η: (−ηb) ← μ(−ηb) − ηg, which
is the textbook recursion for v = −ηb. So the parameters agree step for step *as long as η is
constant*, and the check `v = −lr·b` proves it on PyTorch's own `momentum_buffer`. When η changes
(a schedule), v still carries the old η inside it, b does not, and the two part (see
`lr-schedules`). PyTorch's first step sets b = g (no dampening on step 1); the textbook's v = 0
start gives the same first step.

**Nesterov.** The look-ahead form needs the gradient at θ + μv, a point where the network has not
been evaluated. Storing φ = θ + μv instead of θ turns it into a rule that needs the gradient at
the stored parameters only: φ ← φ + μ²v − (1 + μ)ηg, then v ← μv − ηg. That is PyTorch's rule
(with v = −ηb); the check runs the look-ahead form and compares θ + μv with PyTorch's parameters.

**AdaGrad and RMSProp.** h accumulates squared gradients, so elements that moved a lot get small
steps. AdaGrad's h only grows, so its steps shrink towards zero; RMSProp forgets old gradients with
an exponential moving average (지수이동평균). Both put ε outside the square root in PyTorch.

**Adam** combines momentum (m) and RMSProp (v). Both start at 0 and so are biased towards 0 in
early steps; the bias correction divides by 1 − βᵗ. The seed's form leaves the correction out. At
step 1, m = (1 − β₁)g and v = (1 − β₂)g², so the uncorrected step is η·(1 − β₁)/√(1 − β₂) ≈ 3.16η
(per element, while |g| ≫ ε) where the corrected one is η: the seed's form starts with steps about
3.2 times *larger*, and the two approach each other only as βᵗ → 0 (for β₂ = 0.999 that takes
thousands of steps). The book instead folds the correction into
the step size, η_t = η√(1 − β₂ᵗ)/(1 − β₁ᵗ), which is PyTorch's Adam with ε replaced by
ε/√(1 − β₂ᵗ): a small, real difference that the checks measure.

**AdamW** decays the weights directly, p ← p(1 − ηλ), instead of adding λp to the gradient
(which Adam would then divide by √v̂, weakening the decay on parameters with large gradients).

On the digits network (64→50→10, ReLU, batches of 100 in a shared shuffled order) every optimizer
is run on both sides for at least 100 steps and compared in lockstep at every step, in both
dtypes: before each step the NumPy network is given torch's parameters, and its optimizer is given
torch's gradient, so the update is checked on the very same input. (Free-running, the adaptive
optimizers would part in float32 within a step or two: dividing each gradient element by its own
running size turns the rounding of a nearly cancelling gradient sum into a step of about η. In
lockstep that rounding never feeds back.) In float64 the runs are compared free-running as well.
"""

CODE = [
    (scratch.optim.Momentum, topt.momentum),
    (scratch.optim.Nesterov, topt.nesterov),
    (scratch.optim.Adam, topt.adam),
    (scratch.optim.nesterov_lookahead, topt.minimize),
]

DIFFERENCES = [
    ("momentum", "v ← μv − η·g; p ← p + v", "b ← μb + g; p ← p − η·b", "Momentum: v = −lr·b (torch's momentum_buffer)"),
    ("Nesterov", "gradient at the look-ahead θ + μv", "gradient at p, which plays φ = θ + μv", "Nesterov: look-ahead θ + μv = torch's p"),
    ("AdaGrad ε", "1e-7 (book), inside or outside √", "1e-10, outside √", "AdaGrad (book's eps=1e-7): lockstep point after the step"),
    ("RMSProp decay", "ρ = decay_rate (0.99)", "`alpha` = 0.99", "RMSProp: lockstep point after the step"),
    ("Adam bias correction", "none (seed)", "m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ)", "Adam without bias correction differs from torch"),
    ("Adam (book)", "correction folded into η_t", "correction on m and v: ε acts on √v̂", "Adam, book's folded form, differs from torch"),
    ("weight decay in Adam", "λp added to the gradient", "AdamW: p ← p(1 − ηλ) before the step", "AdamW: lockstep point after the step"),
]

START = (-7.0, 2.0)
STEPS = 100

# name → (scratch optimizer factory, torch builder, lr on the book's function)
BOOK_LR = {"SGD": 0.95, "Momentum": 0.1, "Nesterov": 0.1, "AdaGrad": 1.5, "RMSProp": 0.1, "Adam": 0.3}


def f(p):
    return p[0] ** 2 / 20 + p[1] ** 2


def grad_f(p):
    return np.array([p[0] / 10, 2 * p[1]], dtype=p.dtype)


# where the lesson departs from the declaration's defaults (comparisons/pairs/optimizers.py)
LESSON_HPARAMS = {"AdaGrad": {"eps": 1e-7}, "AdamW": {"weight_decay": 0.1}}


def optimizer_pairs(impl, lr, name):
    """(NumPy optimizer, torch builder) for one name at learning rate ``lr``, both from the
    optimizer's declaration (one table of defaults and PyTorch names)."""
    pair = pairs.get("optimizer", name.lower())
    h = {**pair.defaults(), "lr": lr, **LESSON_HPARAMS.get(name, {})}
    cls = pair.scratch_object(impl)
    return (lambda: cls(**accepted(cls, pair, h)), lambda ps: pair.torch(ps, **pair.torch_kwargs(h)))


def numpy_path(ctx, make_opt, steps=STEPS, start=START):
    opt = make_opt()
    params = {"p": ctx.array(start)}
    path = [params["p"].copy()]
    for _ in range(steps):
        opt.update(params, {"p": grad_f(params["p"])})
        path.append(params["p"].copy())
    return np.array(path), opt


def lockstep_path(ctx, label, make_opt, path_t, note=""):
    """Lockstep on x²/20 + y²: step k of the NumPy optimizer starts from torch's point after step
    k − 1 (its own state, built from the same gradients, carried along)."""
    opt = make_opt()

    def one_step(_, state):
        params = {"p": ctx.array(state[0])}
        opt.update(params, {"p": grad_f(params["p"])})
        return (params["p"],)

    path_t = ctx.numpy(path_t)
    lockstep_history(ctx, label, (path_t[0],), [(p,) for p in path_t[1:]], one_step, ("point after the step",), note=note)


def run(ctx):
    paths = {}
    for name, lr in {**BOOK_LR, "AdamW": 0.3}.items():
        make_np, make_t = optimizer_pairs(ctx.impl, lr, name)
        with ctx.timed("numpy"):
            path_np, opt_np = numpy_path(ctx, make_np)
        with ctx.timed("torch"):
            path_t, opt_t = topt.minimize(f, ctx.tensor(START), make_t, STEPS)
        label = f"{name} (book's eps=1e-7)" if name == "AdaGrad" else name
        with ctx.timed("numpy"):
            lockstep_path(ctx, label, make_np, path_t, note=f"f(x, y) = x²/20 + y², lr {lr}, {STEPS} steps")
        if free_running(ctx):
            ctx.compare(f"{label}: every step (free-running)", path_np, path_t, kind="trained",
                        note=f"f(x, y) = x²/20 + y², lr {lr}, {STEPS} steps")
        paths[name] = (path_np, ctx.numpy(path_t), opt_np, opt_t, lr)

    _momentum_relation(ctx, paths["Momentum"])
    _nesterov_relation(ctx)
    bias = _adam_forms(ctx)
    _digits(ctx)
    ctx.table("forms", _forms_table(ctx))
    ctx.table("adam-bias-correction", bias)
    ctx.figure("trajectories", lambda: _plot_trajectories(paths))
    ctx.figure("adam-bias-correction", lambda: _plot_bias(bias))


def _momentum_relation(ctx, entry):
    path_np, path_t, opt_np, opt_t, lr = entry
    state = getattr(opt_np, "state", None)  # an optimizer under test may keep its v elsewhere
    v = state["p"]["v"] if isinstance(state, dict) and "v" in state.get("p", {}) else None
    buf = next(iter(opt_t.state.values()))["momentum_buffer"]
    if v is None:
        ctx.fail("Momentum: v = −lr·b (torch's momentum_buffer)", "the optimizer under test keeps no state['v']")
        return
    ctx.compare("Momentum: v = −lr·b (torch's momentum_buffer)", v, -lr * ctx.numpy(buf), kind="trained",
                note="textbook velocity against PyTorch's buffer after 100 steps at constant lr")


def _nesterov_relation(ctx):
    mu, lr = 0.9, 0.1
    look = getattr(ctx.impl.optim, "nesterov_lookahead", None)
    if look is None:  # never scratch's in its place: that would not test the implementation
        raise ValueError("the implementation under test has no optim.nesterov_lookahead(grad_f, theta0, lr, momentum, "
                         "steps), which the Nesterov relation runs; add it to the implementation")
    thetas, vs = look(grad_f, ctx.array(START), lr=lr, momentum=mu, steps=STEPS)
    path_t, _ = topt.minimize(f, ctx.tensor(START), lambda ps: topt.nesterov(ps, lr, mu), STEPS)
    ctx.compare("Nesterov: look-ahead θ + μv = torch's p", thetas + mu * vs, path_t, kind="trained",
                note="the look-ahead form takes the gradient at θ + μv; PyTorch stores that point as p")
    ctx.differs("Nesterov: look-ahead θ itself is not torch's p", thetas[1:], ctx.numpy(path_t)[1:],
                note="θ and φ = θ + μv differ by μv")


def _adam_forms(ctx):
    optim = ctx.impl.optim
    lr = 0.3
    path_t, _ = topt.minimize(f, ctx.tensor(START), lambda ps: topt.adam(ps, lr), STEPS)
    path_t = ctx.numpy(path_t)
    no_bc, _ = numpy_path(ctx, lambda: optim.Adam(lr, bias_correction=False))
    ctx.differs("Adam without bias correction differs from torch", no_bc, path_t,
                note="the seed's form takes larger first steps; the gap is tabled and plotted per step")
    folded_cls = getattr(optim, "AdamFolded", None)
    rows = {"step": np.arange(STEPS + 1), "|Δ| no bias correction": np.abs(no_bc - path_t).max(axis=1)}
    if folded_cls is not None:
        folded, _ = numpy_path(ctx, lambda: folded_cls(lr))
        if ctx.dtype == "float64":  # ε = 1e-8 against √v ~ 1 is below float32's resolution
            ctx.differs("Adam, book's folded form, differs from torch", folded, path_t,
                        note="the book's ε acts on the uncorrected √v: PyTorch's Adam with ε/√(1 − β₂ᵗ)")
        rows["|Δ| book's folded form"] = np.abs(folded - path_t).max(axis=1)
    first_np = no_bc[1] - no_bc[0]
    first_t = path_t[1] - path_t[0]
    ratio = float(np.max(np.abs(first_np) / np.abs(first_t)))
    expected = (1 - 0.9) / np.sqrt(1 - 0.999)
    ctx.finding("Adam step 1: the uncorrected step is (1 − β₁)/√(1 − β₂) ≈ 3.16 × the corrected one",
                abs(ratio - expected) < 1e-3 * expected,
                f"measured |uncorrected step| / |torch step| = {ratio:.4f}; (1 − β₁)/√(1 − β₂) = {expected:.4f}")
    frame = pd.DataFrame(rows)
    return frame.iloc[[0, 1, 2, 3, 5, 10, 20, 30, 50, 75, 100]]


def _digits(ctx):
    x_tr, t_tr, _, _ = data.digits(ctx.rng)
    sizes = [64, 50, 10]
    params0 = he_params(ctx.rng, sizes)
    epochs = ctx.size(7, 20)
    batches = data.epoch_batches(ctx.rng, len(x_tr), 100, epochs)
    lrs = {"SGD": 0.1, "Momentum": 0.05, "Nesterov": 0.05, "AdaGrad": 0.05, "RMSProp": 0.001, "Adam": 0.001, "AdamW": 0.001}
    curves = {}
    for name, lr in lrs.items():
        make_np, make_t = optimizer_pairs(ctx.impl, lr, name)
        run = train_pair(ctx, f"digits MLP, {name}", params0, "relu", make_np, make_t, x_tr, t_tr, batches)
        compare_params(ctx, f"digits MLP, {name}", run)
        curves[name] = (run.losses_np, run.losses_t)
    ctx.finding(f"digits: every optimizer ran ≥ 100 steps ({len(run.losses_np)})", len(run.losses_np) >= 100)
    ctx.figure("digits-loss", lambda: _plot_digits(curves))


def _forms_table(ctx):
    by_check = {r.check: r for r in ctx.records}
    rows = []
    for topic, textbook, pytorch, check in DIFFERENCES:
        r = by_check.get(check)
        rows.append({"topic": topic, "textbook": textbook, "PyTorch": pytorch, "check": check,
                     "kind": r.kind if r else "–", "passed": r.passed if r else None,
                     "max_abs_err": r.max_abs_err if r else None})
    return pd.DataFrame(rows)


def _plot_trajectories(paths):
    names = list(BOOK_LR)
    fig, axes = plots.grid(len(names), 3, size=(4.2, 3.2))
    X, Y = np.meshgrid(np.linspace(-10, 10, 200), np.linspace(-5, 5, 200))
    for ax, name in zip(axes, names):
        path_np, path_t, _, _, lr = paths[name]
        ax.contour(X, Y, X**2 / 20 + Y**2, levels=np.geomspace(0.05, 30, 12), colors="gray", linewidths=0.5)
        ax.plot(path_np[:31, 0], path_np[:31, 1], "o-", ms=3, color="tab:blue", lw=1.5, label="NumPy")
        ax.plot(path_t[:31, 0], path_t[:31, 1], "x--", ms=4, color="tab:orange", lw=1, label="PyTorch")
        ax.plot(0, 0, "k+", ms=10)
        ax.set_xlim(-10, 10)
        ax.set_ylim(-5, 5)
        ax.set_title(f"{name} (lr {lr})", fontsize=10)
    axes[0].legend(fontsize=7, loc="lower right")
    fig.suptitle("f(x, y) = x²/20 + y² from (−7, 2), 30 steps: NumPy (o) and torch.optim (x) overlaid")
    fig.tight_layout()
    return fig


def _plot_bias(frame):
    fig, axes = plots.grid(1, 1, size=(6, 3.6))
    ax = axes[0]
    for col in frame.columns[1:]:
        ax.semilogy(frame["step"], frame[col].clip(lower=1e-17), "o-", ms=3, label=col)
    ax.set_xlabel("step")
    ax.set_ylabel("max |p − p_torch|")
    ax.set_title("Adam forms against torch.optim.Adam (lr 0.3, x²/20 + y²)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    return fig


def _plot_digits(curves):
    fig, axes = plots.grid(len(curves), 4, size=(3.4, 2.6))
    for ax, (name, (l_np, l_t)) in zip(axes, curves.items()):
        plots.overlay(ax, np.arange(1, len(l_np) + 1), l_np, l_t, title=name, xlabel="step")
        ax.set_yscale("log")
    axes[0].legend(fontsize=7)
    fig.suptitle("Digits MLP 64→50→10: training loss per step, NumPy solid, PyTorch dashed")
    fig.tight_layout()
    return fig
