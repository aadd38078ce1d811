"""Optimizers step by step against torch.optim, with the textbook forms beside PyTorch's."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

import torch_ref.optim as topt

from .. import data, lessons, pairs, plots
from ..lockstep import lockstep_history
from ..pairs._base import accepted
from ..training import compare_params, free_running, he_params, train_pair


UNCORRECTED = "Adam without bias correction = torch Adam with lr·(1 − β₁ᵗ)/√(1 − β₂ᵗ), ε/√(1 − β₂ᵗ)"
FOLDED = "Adam, book's folded form = torch Adam with ε/√(1 − β₂ᵗ)"
DEFAULT_MOMENTUM = "Momentum(lr)'s default momentum 0.9 = torch.optim.SGD(lr, momentum=0.9)"
TORCH_DEFAULTS = {"AdaGrad": "Adagrad", "RMSProp": "RMSprop", "Adam": "Adam", "AdamW": "AdamW"}


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


# A bowl ½·Σ cᵢpᵢ² whose curvatures span 1e-9 … 10, so that every hyperparameter shows in the path:
# ε against the tiny gradients, the learning rate and the averaging rates against the large ones.
CURVATURES = (1e-9, 1e-7, 1e-3, 1.0, 10.0)
WIDE_START = (1.0, -2.0, 3.0, -1.0, 0.5)


def f_wide(p):
    return 0.5 * (p.new_tensor(CURVATURES) * p**2).sum()


def grad_wide(p):
    return np.asarray(CURVATURES, dtype=p.dtype) * p


def numpy_path(ctx, make_opt, steps=STEPS, start=START, grad=grad_f):
    opt = make_opt()
    params = {"p": ctx.array(start)}
    path = [params["p"].copy()]
    for _ in range(steps):
        opt.update(params, {"p": grad(params["p"])})
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

    ctx.observed_checks("every optimizer lands on torch's points at every step",
                        lambda check: check.endswith(("lockstep point after the step", "every step (free-running)")))
    _momentum_relation(ctx, paths["Momentum"])
    _nesterov_relation(ctx)
    _defaults(ctx)
    bias = _adam_forms(ctx)
    _digits(ctx)
    _book_comparison(ctx)
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
    relation = ctx.compare("Nesterov: look-ahead θ + μv = torch's p", thetas + mu * vs, path_t, kind="trained",
                           note="the look-ahead form takes the gradient at θ + μv; PyTorch stores that point as p")
    ctx.differs("Nesterov: look-ahead θ itself is not torch's p", thetas[1:], ctx.numpy(path_t)[1:], relation=relation,
                note="θ and φ = θ + μv differ by μv")


def _defaults(ctx):
    """Each optimizer constructed with no hyperparameters against torch.optim's defaults."""
    optim = ctx.impl.optim
    for name, torch_name in TORCH_DEFAULTS.items():
        ours, _ = numpy_path(ctx, getattr(optim, name), start=WIDE_START, grad=grad_wide)
        theirs, _ = topt.minimize(f_wide, ctx.tensor(WIDE_START), getattr(torch.optim, torch_name), STEPS)
        ctx.compare(f"{name}() = torch.optim.{torch_name}(), both at their defaults: every step", ours, theirs,
                    kind="trained", note=f"½Σcᵢpᵢ², c = {CURVATURES}, {STEPS} steps")
    ctx.observed_checks("every optimizer at its defaults = torch's at its defaults",
                        lambda check: check.endswith("both at their defaults: every step"))
    lr = 0.1
    momentum, _ = numpy_path(ctx, lambda: optim.Momentum(lr), start=WIDE_START, grad=grad_wide)
    relation = ctx.compare(DEFAULT_MOMENTUM, momentum,
                           topt.minimize(f_wide, ctx.tensor(WIDE_START), lambda ps: topt.momentum(ps, lr, 0.9), STEPS)[0],
                           kind="trained", note="the book's μ = 0.9 when none is given")
    plain, _ = topt.minimize(f_wide, ctx.tensor(WIDE_START), lambda ps: torch.optim.SGD(ps, lr=lr), STEPS)
    ctx.differs("Momentum(lr) differs from torch.optim.SGD(lr), whose default momentum is 0", momentum, plain,
                relation=relation, note="torch's SGD without a momentum is plain SGD")
    nesterov, _ = numpy_path(ctx, lambda: optim.Nesterov(lr), start=WIDE_START, grad=grad_wide)
    ctx.compare("Nesterov(lr)'s default momentum 0.9 = torch.optim.SGD(lr, momentum=0.9, nesterov=True)", nesterov,
                topt.minimize(f_wide, ctx.tensor(WIDE_START), lambda ps: topt.nesterov(ps, lr, 0.9), STEPS)[0],
                kind="trained", note="the book's μ = 0.9 when none is given")
    try:
        torch.optim.SGD([ctx.tensor(START, requires_grad=True)], lr=lr, nesterov=True)
        refused = ""
    except ValueError as err:
        refused = str(err)
    ctx.finding("torch.optim.SGD(nesterov=True) has no default momentum: it refuses to build", bool(refused),
                f"PyTorch: {refused!r}")


def _adam_forms(ctx):
    optim = ctx.impl.optim
    lr = 0.3
    path_t, _ = topt.minimize(f, ctx.tensor(START), lambda ps: topt.adam(ps, lr), STEPS)
    path_t = ctx.numpy(path_t)
    no_bc, _ = numpy_path(ctx, lambda: optim.Adam(lr, bias_correction=False))
    uncorrected_t, _ = topt.minimize(f, ctx.tensor(START), lambda ps: topt.adam_uncorrected(ps, lr), STEPS)
    relation = ctx.compare(UNCORRECTED, no_bc, uncorrected_t, kind="trained",
                           note="η·m/(√v + ε) = (lr_t/(1 − β₁ᵗ))·m/(√v/√(1 − β₂ᵗ) + ε_t): torch.optim.Adam with lr and "
                                "eps set before every step (torch_ref.optim.adam_uncorrected), every step")
    ctx.differs("Adam without bias correction differs from torch", no_bc, path_t, relation=relation,
                note="the study notes' form takes larger first steps; the gap is tabled and plotted per step")
    folded_cls = getattr(optim, "AdamFolded", None)
    rows = {"step": np.arange(STEPS + 1), "|Δ| no bias correction": np.abs(no_bc - path_t).max(axis=1)}
    if folded_cls is not None:
        folded, _ = numpy_path(ctx, lambda: folded_cls(lr))
        folded_t, _ = topt.minimize(f, ctx.tensor(START), lambda ps: topt.adam_folded(ps, lr), STEPS)
        relation = ctx.compare(FOLDED, folded, folded_t, kind="trained",
                               note="η_t·m/(√v + ε) = (η/(1 − β₁ᵗ))·m/(√v̂ + ε/√(1 − β₂ᵗ)): torch.optim.Adam with eps "
                                    "set before every step (torch_ref.optim.adam_folded), every step")
        if ctx.dtype == "float64":  # ε = 1e-8 against √v ~ 1 is below float32's resolution
            ctx.differs("Adam, book's folded form, differs from torch", folded, path_t, relation=relation,
                        note="the book's ε acts on the uncorrected √v: PyTorch's Adam with ε/√(1 − β₂ᵗ)")
        rows["|Δ| book's folded form"] = np.abs(folded - path_t).max(axis=1)
    first_np = no_bc[1] - no_bc[0]
    first_t = path_t[1] - path_t[0]
    ratio = ctx.value("Adam step-1 ratio", float(np.max(np.abs(first_np) / np.abs(first_t))))
    ctx.value("largest gap without bias correction", float(rows["|Δ| no bias correction"].max()))
    if "|Δ| book's folded form" in rows:
        ctx.value("largest gap of the folded form", float(rows["|Δ| book's folded form"].max()))
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
    batches = data.epoch_batches(ctx.rng, len(x_tr), 100, 7)
    lrs = {"SGD": 0.1, "Momentum": 0.05, "Nesterov": 0.05, "AdaGrad": 0.05, "RMSProp": 0.001, "Adam": 0.001, "AdamW": 0.001}
    curves = {}
    for name, lr in lrs.items():
        make_np, make_t = optimizer_pairs(ctx.impl, lr, name)
        run = train_pair(ctx, f"digits MLP, {name}", params0, "relu", make_np, make_t, x_tr, t_tr, batches)
        compare_params(ctx, f"digits MLP, {name}", run)
        curves[name] = (run.losses_np, run.losses_t)
    ctx.value("digits steps", len(run.losses_np))
    ctx.finding(f"digits: every optimizer ran ≥ 100 steps ({len(run.losses_np)})", len(run.losses_np) >= 100)
    ctx.figure("digits-loss", lambda: _plot_digits(curves, lrs))


BOOK_FIG_6_9 = {"SGD": 0.01, "Momentum": 0.01, "AdaGrad": 0.01, "Adam": 0.001}


def _book_comparison(ctx):
    """The book's Fig. 6-9: SGD, Momentum, AdaGrad and Adam with its learning rates on MNIST, a
    784→100→100→100→100→10 ReLU net (He-initialised), batches of 128 drawn with replacement, every
    step compared (lockstep, and free-running in float64). The training loss, smoothed over the last
    50 steps, ranks them."""
    x_tr, t_tr, _, _ = data.image_data(ctx)
    sizes = [x_tr.shape[1], 100, 100, 100, 100, 10]
    params0 = he_params(ctx.rng, sizes)
    steps = ctx.value("Fig. 6-9 steps", ctx.size(100, 300))
    ctx.value("Fig. 6-9 pixels", x_tr.shape[1])
    batches = data.sampled_batches(ctx.rng, len(x_tr), 128, steps)
    curves, final = {}, {}
    for name, lr in BOOK_FIG_6_9.items():
        make_np, make_t = optimizer_pairs(ctx.impl, lr, name)
        label = f"Fig. 6-9 network, {name}"
        run = train_pair(ctx, label, params0, "relu", make_np, make_t, x_tr, t_tr, batches)
        compare_params(ctx, label, run, note=f"4 hidden ReLU layers of 100, lr {lr:g}, batches of 128")
        curves[name] = (run.losses_np, run.losses_t)
        final[name] = ctx.value(f"Fig. 6-9 {name}: final loss", float(np.mean(run.losses_np[-50:])))
    ctx.observed("Fig. 6-9: SGD learns slowest", final["SGD"] == max(final.values()))
    ctx.value("Fig. 6-9: fastest", min(final, key=final.get))
    ctx.figure("book-comparison", lambda: _plot_digits(
        curves, BOOK_FIG_6_9, f"The book's Fig. 6-9: {'→'.join(map(str, sizes))}, training loss per step"))


def _forms_table(ctx):
    by_check = {r.check: r for r in ctx.records}
    rows = []
    for d in lessons.load("optimizers").differences:
        r = by_check.get(d.check)
        rows.append({"topic": d.topic, "textbook": d.textbook, "PyTorch": d.pytorch, "check": d.check,
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
        ax.plot(path_t[:31, 0], path_t[:31, 1], "x", ms=5, color="tab:orange", label="PyTorch")
        ax.plot(0, 0, "k+", ms=10)
        ax.set_xlim(-10, 10)
        ax.set_ylim(-5, 5)
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        ax.set_title(f"{name} (lr {lr})", fontsize=10)
    axes[0].legend(fontsize=7, loc="lower right")
    fig.suptitle("f(x, y) = x²/20 + y² from (−7, 2), 30 steps: NumPy (o) and torch.optim (x)", fontsize=10)
    fig.tight_layout()
    return fig


def _plot_bias(frame):
    fig, axes = plots.grid(1, 1, size=(6, 3.6))
    ax = axes[0]
    for col in frame.columns[1:]:
        ax.semilogy(frame["step"], frame[col].clip(lower=1e-17), "o-", ms=3, label=col)
    ax.set_xlabel("step")
    ax.set_ylabel("max |p − p_torch|")
    ax.set_title("Adam forms against torch.optim.Adam (lr 0.3, x²/20 + y²)", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    return fig


def _plot_digits(curves, lrs=None, title="Digits MLP 64→50→10: training loss per step"):
    fig, axes = plots.grid(1, 1, size=(7.5, 4.4))
    ax = axes[0]
    colors = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink", "tab:gray"]
    for (name, (l_np, l_t)), color in zip(curves.items(), colors):
        steps = np.arange(1, len(l_np) + 1)
        lr = f", lr {lrs[name]:g}" if lrs and name in lrs else ""
        ax.plot(steps, l_np, color=color, lw=1.6, label=f"{name}{lr}")
        plots.torch_points(ax, steps, l_t, color=color, label=None)
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("training loss")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, ncol=2, title="NumPy lines, PyTorch markers", title_fontsize=8)
    ax.set_title(title, fontsize=10)
    return fig
