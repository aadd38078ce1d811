"""Weight initialisation: distributions against torch.nn.init, the book's activation histograms
with shared weights, the symmetry of zero init, and training loss by init."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch

import torch_ref.activations as tact
import torch_ref.init as tinit
import torch_ref.optim as topt

from .. import bridge, data, pairs, plots, sides
from ..lockstep import train

SHAPE = (300, 200)  # (in, out) = (fan_in, fan_out)


def _torch_weight(init_fn):
    """A (out, in) tensor initialised by a torch.nn.init function, returned as (in, out) ndarray."""
    w = torch.empty(SHAPE[1], SHAPE[0], dtype=torch.float64)
    init_fn(w)
    return w.numpy().T


def run(ctx):
    torch.manual_seed(ctx.seed)
    _distributions(ctx)
    hist = _histograms(ctx)
    _symmetry(ctx)
    curves = _training_by_init(ctx)
    ctx.figure("activation-histograms", lambda: _plot_hist(hist))
    ctx.figure("training-loss-by-init", lambda: _plot_curves(curves))


def _drawn_by(pair, ctx, h):
    """(a NumPy draw of SHAPE, the torch initialiser of a weight) of a declared initializer pair."""
    def numpy_draw():
        return pair.scratch_object(ctx.impl)(ctx.rng, SHAPE, **h)

    def torch_init(weight):
        return pair.reference_object()(weight, **pair.torch_kwargs(h))
    return numpy_draw, torch_init


def _distributions(ctx):
    init = ctx.impl.init
    fan_in, fan_out = SHAPE
    n = fan_in * fan_out
    cases = [  # (label, the declared initializer pair, its hyperparameters, family, std or bound)
        ("he_normal", "he-normal", {}, "normal", math.sqrt(2 / fan_in)),
        ("he_uniform", "he-uniform", {}, "uniform", math.sqrt(6 / fan_in)),
        ("xavier_normal", "xavier-normal", {}, "normal", math.sqrt(2 / (fan_in + fan_out))),
        ("xavier_uniform", "xavier-uniform", {}, "uniform", math.sqrt(6 / (fan_in + fan_out))),
        ("xavier_normal (tanh gain 5/3)", "xavier-normal", {"gain": tinit.calculate_gain("tanh")}, "normal",
         5 / 3 * math.sqrt(2 / (fan_in + fan_out))),
        ("lecun_normal", "lecun-normal", {}, "normal", math.sqrt(1 / fan_in)),
        ("lecun_uniform", "lecun-uniform", {}, "uniform", math.sqrt(3 / fan_in)),
    ]
    cases = [(name, _drawn_by(pairs.get("initializer", pair_id), ctx, h), family, scale)
             for name, pair_id, h, family, scale in cases]
    cases.append(("nn.Linear default", (lambda: init.torch_linear_default(ctx.rng, SHAPE)[0], tinit.linear_default),
                  "uniform", 1 / math.sqrt(fan_in)))
    rows = []
    for name, (make_np, init_t), family, scale in cases:
        w_np, w_t = make_np(), _torch_weight(init_t)
        std = scale if family == "normal" else scale / math.sqrt(3)
        for side, w in (("NumPy", w_np), ("torch", w_t)):
            ctx.statistical(f"{name}: mean ({side})", float(w.mean()), 0.0, 5 * std / math.sqrt(n))
            ctx.statistical(f"{name}: std ({side})" if side == "NumPy" else f"{name}: std (torch)",
                            float(w.std()), std, 5 * std / math.sqrt(2 * n) * (1.0 if family == "normal" else 0.9))
            if family == "uniform":
                inside = bool(np.abs(w).max() <= scale) and bool(np.abs(w).max() >= scale * (1 - 20 / n))
                ctx.finding(f"{name}: bound ({side})", inside, f"max |w| = {np.abs(w).max():.6f}, bound {scale:.6f}")
            rows.append({"initialiser": name, "side": side, "expected std": std, "measured std": float(w.std()),
                         "mean": float(w.mean()), "max |w|": float(np.abs(w).max())})
    layer = tinit.linear_layer(*SHAPE)
    bound = 1 / math.sqrt(fan_in)
    ctx.finding("nn.Linear default: bound", bool(layer.weight.abs().max() <= bound and layer.bias.abs().max() <= bound),
                f"weight and bias within ±1/√fan_in = {bound:.5f}")
    ctx.statistical("he_normal: std", float(init.he_normal(ctx.rng, SHAPE).std()), math.sqrt(2 / fan_in),
                    5 * math.sqrt(2 / fan_in) / math.sqrt(2 * n), note="fan_in read from W's first dimension (in, out)")
    w_book = init.normal(ctx.rng, SHAPE, math.sqrt(1 / fan_in))
    w_lecun = _torch_weight(tinit.lecun_normal)
    ctx.statistical("book's \"Xavier\" √(1/n) = LeCun normal (torch kaiming_normal_, linear): std",
                    float(w_book.std()), float(w_lecun.std()), 10 * math.sqrt(1 / fan_in) / math.sqrt(2 * n))
    ctx.compare("calculate_gain: tanh 5/3, relu √2", [tinit.calculate_gain("tanh"), tinit.calculate_gain("relu")],
                [5 / 3, math.sqrt(2)])
    ctx.table("distributions", pd.DataFrame(rows))


HIST_CONFIGS = [("sigmoid", "std 1", 1.0), ("sigmoid", "std 0.01", 0.01), ("sigmoid", "√(1/n) (book's Xavier)", None),
                ("tanh", "√(1/n)", None), ("relu", "std 0.01", 0.01), ("relu", "√(1/n)", None), ("relu", "√(2/n) (He)", "he")]


def _histograms(ctx):
    """The book's experiment with shared weights: 1000×100 inputs through 5 bias-free layers."""
    x = ctx.array(ctx.rng.normal(size=(1000, 100)))
    acts = {name: (getattr(ctx.impl.activations, name), tact.module(name)) for name in ("sigmoid", "tanh", "relu")}
    out, rows = {}, []
    for act_name, label, std in HIST_CONFIGS:
        s = math.sqrt(1 / 100) if std is None else math.sqrt(2 / 100) if std == "he" else std
        Ws = [ctx.array(ctx.impl.init.normal(ctx.rng, (100, 100), s)) for _ in range(5)]
        f_np, f_t = acts[act_name]
        z_np, z_t = x, ctx.tensor(x)
        layers_np, layers_t = [], []
        for i, W in enumerate(Ws):
            z_np = f_np(z_np @ W)
            z_t = f_t(bridge.linear_from(W, None, ctx.torch_dtype, ctx.device)(z_t)).detach()
            layers_np.append(z_np)
            layers_t.append(ctx.numpy(z_t))
            rows.append({"activation": act_name, "init": label, "layer": i + 1, "mean": float(z_np.mean()),
                         "std": float(z_np.std()), "rms": float(np.sqrt(np.mean(z_np.astype(np.float64) ** 2))), "fraction < 0.05 or > 0.95": float(np.mean((z_np < 0.05) | (z_np > 0.95))),
                         "fraction in [0.45, 0.55]": float(np.mean(np.abs(z_np - 0.5) <= 0.05))})
        ctx.compare(f"histogram {act_name} {label}: activations of all 5 layers", np.stack(layers_np), np.stack(layers_t),
                    kind="trained", note="five chained layers of 100-term dot products")
        out[(act_name, label)] = (layers_np, layers_t)
    frame = pd.DataFrame(rows)
    ctx.table("activation-stats", frame)
    last = frame[frame.layer == 5].set_index(["activation", "init"])
    saturated = ctx.value("sigmoid std 1: layer-5 fraction near 0 or 1", last.loc[("sigmoid", "std 1"), "fraction < 0.05 or > 0.95"])
    ctx.finding("sigmoid std 1 saturates (most activations near 0 or 1)", bool(saturated > 0.5),
                f"layer 5: {saturated:.1%} of the activations are below 0.05 or above 0.95")
    collapsed = ctx.value("sigmoid std 0.01: layer-5 fraction near 0.5", last.loc[("sigmoid", "std 0.01"), "fraction in [0.45, 0.55]"])
    # 99.0% at seed 63: nearly all, not "more than 99%"; the lesson is the collapse, ≥ 95% of them
    ctx.finding("sigmoid std 0.01 collapses to 0.5", bool(collapsed >= 0.95),
                f"layer 5: {collapsed:.1%} of the activations within 0.5 ± 0.05")
    # each ReLU layer at variance 1/n halves the mean square, He's 2/n restores it: after 5 layers
    # rms(He)/rms(√(1/n)) ≈ √(2⁵) ≈ 5.7 (2.8–9.9 over 300 seeds, median 5.6; the bound 2 is ~5σ away
    # in log terms) and rms(√(1/n))/rms(0.01) ≈ (0.1/0.01)⁵ = 10⁵
    rms = {k: last.loc[("relu", k), "rms"] for k in ("√(2/n) (He)", "√(1/n)", "std 0.01")}
    for key, name in (("√(2/n) (He)", "He"), ("√(1/n)", "√(1/n)"), ("std 0.01", "std 0.01")):
        ctx.value(f"ReLU {name}: layer-5 rms", float(rms[key]))
    he_ratio, tiny_ratio = rms["√(2/n) (He)"] / rms["√(1/n)"], rms["√(1/n)"] / rms["std 0.01"]
    ctx.finding("ReLU: He keeps the spread, √(1/n) and 0.01 shrink it", bool(he_ratio > 2 and tiny_ratio > 100),
                f"layer-5 rms: He {rms['√(2/n) (He)']:.3g}, √(1/n) {rms['√(1/n)']:.3g}, 0.01 {rms['std 0.01']:.3g}; "
                f"He/√(1/n) = {he_ratio:.1f} (theory √2⁵ ≈ 5.7), √(1/n)/0.01 = {tiny_ratio:.3g} (theory 10⁵)")
    return out


def _symmetry(ctx):
    """Zero and constant init: every hidden unit stays identical after training, on both sides."""
    x_tr, t_tr, _, _ = data.digits(ctx.rng)
    batches = data.epoch_batches(ctx.rng, len(x_tr), 100, 3)
    for label, activation, value in (("zeros, sigmoid", "sigmoid", 0.0), ("constant 0.1, ReLU", "relu", 0.1)):
        params0 = {"W1": ctx.impl.init.constant((64, 10), value) if value else ctx.impl.init.zeros((64, 10)),
                   "b1": np.zeros(10), "W2": ctx.impl.init.constant((10, 10), value) if value else ctx.impl.init.zeros((10, 10)),
                   "b2": np.zeros(10)}
        run_ = train(ctx, label, *sides.network(ctx, params0, (x_tr, t_tr), lambda: ctx.impl.optim.SGD(0.5),
                                                lambda ps: topt.sgd(ps, lr=0.5), sides.Setup(activation)), batches)
        atol, rtol = ctx.tolerance("trained")
        for side, p in (("NumPy", run_.params_np), ("torch", run_.params_t)):
            W1, b1 = p["W1"], p["b1"]
            # equal up to rounding: the matrix products may round each column a little differently
            spread = float(max(np.abs(W1 - W1[:, :1]).max(), np.abs(b1 - b1[0]).max()))
            moved = float(np.abs(W1 - value).max())
            ctx.finding(f"{label}: all hidden units identical after training ({side})",
                        spread <= atol + rtol * moved and moved > 1e-3,
                        f"{len(batches)} SGD steps: W1 moved by up to {moved:.3g}, yet its 10 columns differ by at most "
                        f"{spread:.1e} (rounding)")


def _training_by_init(ctx):
    x_tr, t_tr, _, _ = data.image_data(ctx)
    sizes = [x_tr.shape[1], 100, 100, 100, 100, 10]
    # the book's 2,000 steps of three networks, every step compared, would take 100 s of the
    # report's time budget (measured); the order of the three curves is settled by 500
    steps = ctx.value("training steps", ctx.size(150, 500))
    ctx.value("pixels", x_tr.shape[1])
    batches = data.sampled_batches(ctx.rng, len(x_tr), 128, steps)
    curves = {}
    for label, std in (("std 0.01", 0.01), ("√(1/n)", "lecun"), ("√(2/n) (He)", "he")):
        params0 = {}
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
            s = std if isinstance(std, float) else math.sqrt((1 if std == "lecun" else 2) / n_in)
            params0[f"W{i}"] = ctx.impl.init.normal(ctx.rng, (n_in, n_out), s)
            params0[f"b{i}"] = np.zeros(n_out)
        run_ = train(ctx, f"training by init, {label}", *sides.network(
            ctx, params0, (x_tr, t_tr), lambda: ctx.impl.optim.SGD(0.01), lambda ps: topt.sgd(ps, lr=0.01)), batches,
            note="4 hidden ReLU layers of 100, SGD lr 0.01, batch 128.")
        curves[label] = (run_.losses_np, run_.losses_t)
    if ctx.dtype != "float64":  # the finding is made on the float64 run
        return curves
    final = {k: ctx.value(f"{k}: final loss", float(np.mean(v[0][-20:]))) for k, v in curves.items()}
    ctx.finding("std 0.01 barely learns; He learns fastest", bool(final["std 0.01"] > 2.0 and final["√(2/n) (He)"] < final["√(1/n)"]),
                "mean loss of the last 20 steps: " + ", ".join(f"{k} {v:.3f}" for k, v in final.items()))
    return curves


def _plot_hist(hist):
    fig, axes = plots.grid(len(HIST_CONFIGS) * 5, 5, size=(2.2, 1.6))
    for r, (act_name, label, _) in enumerate(HIST_CONFIGS):
        layers_np, layers_t = hist[(act_name, label)]
        rng = (-1, 1) if act_name == "tanh" else (0, 1)
        for c in range(5):
            ax = axes[r * 5 + c]
            a_np, a_t = layers_np[c].ravel(), layers_t[c].ravel()
            if act_name == "relu":  # the exact zeros (half of them) would hide the rest
                a_np, a_t = a_np[a_np > 0], a_t[a_t > 0]
            ax.hist(a_np, bins=30, range=rng, color="tab:blue", alpha=0.7)
            ax.hist(a_t, bins=30, range=rng, histtype="step", color="tab:orange", lw=1.2)
            ax.set_yticks([])
            ax.tick_params(labelsize=6)
            if r == 0:
                ax.set_title(f"layer {c + 1}", fontsize=8)
            if c == 0:
                ax.set_ylabel(f"{act_name}{' (> 0)' if act_name == 'relu' else ''}\n{label}", fontsize=7)
    fig.suptitle("Activation histograms per layer (filled: NumPy, outline: PyTorch; shared weights)", fontsize=9)
    fig.tight_layout()
    return fig


def _plot_curves(curves):
    fig, axes = plots.grid(1, 1, size=(6, 3.8))
    ax = axes[0]
    for label, (l_np, l_t) in curves.items():
        line, = ax.plot(l_np, lw=1.8, label=f"{label} (NumPy)")
        ax.plot(l_t, lw=1, ls="--", color=line.get_color())
    ax.set_xlabel("step")
    ax.set_ylabel("training loss")
    ax.set_title("4 hidden ReLU layers of 100, SGD lr 0.01 (dashed: PyTorch)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return fig
