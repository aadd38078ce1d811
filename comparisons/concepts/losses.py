"""Loss functions: values and gradients against torch.nn losses, the δ inside the log, and why
networks are trained on a loss and not on accuracy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

import torch_ref.linear_regression
import torch_ref.losses as tloss

from .. import pairs, plots
from ..lockstep import lockstep_history
from ..training import free_running


DELTA_RELATION = "CEE delta=1e-7: torch − book = log(1 + δ/y) per sample"


NOTES_Y = [0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0]


def run(ctx):
    _study_notes_examples(ctx)
    _regression_losses(ctx)
    _classification_losses(ctx)
    _delta(ctx)
    _accuracy_has_no_gradient(ctx)
    _huge_logits(ctx)
    _outlier_fit(ctx)
    ctx.figure("loss-curves", lambda: _plot_curves(ctx))


def _study_notes_examples(ctx):
    L = ctx.impl.losses
    t = ctx.array(np.eye(10)[2])
    rows = []
    for where, expected_sse, expected_cee in [(2, 0.0975, 0.5108), (7, 0.5975, 2.3026)]:
        y = ctx.array(NOTES_Y)
        y[[2, where]] = y[[where, 2]]
        sse, cee = float(L.sum_squared_error(y, t)), float(L.cross_entropy_error(y, t))
        sse_t = float(tloss.sum_squared_error(ctx.tensor(y), ctx.tensor(t)))
        # the book's δ = 1e-7 is the same math as NLLLoss on log(y + δ)
        cee_t = float(tloss.cross_entropy_error(ctx.tensor(y).reshape(1, -1) + 1e-7, ctx.labels([2])))
        ctx.value(f"SSE, 0.6 at {where}", sse)
        ctx.value(f"CEE, 0.6 at {where}", cee)
        ctx.finding(f"study notes example (0.6 at {where}): SSE {expected_sse}, CEE {expected_cee}",
                    round(sse, 4) == expected_sse and round(cee, 4) == expected_cee,
                    f"SSE {sse:.6f}, CEE {cee:.6f}")
        ctx.compare(f"study notes example (0.6 at {where}): SSE vs torch", sse, sse_t)
        ctx.compare(f"study notes example (0.6 at {where}): CEE = NLLLoss(log(y + 1e-7))", cee, cee_t)
        rows.append({"0.6 at index": where, "SSE NumPy": sse, "SSE torch": sse_t, "CEE NumPy (δ=1e-7)": cee,
                     "NLLLoss(log(y + δ)) torch": cee_t})
    ctx.table("study-notes-examples", pd.DataFrame(rows))


def _regression_losses(ctx):
    L = ctx.impl.losses
    y = ctx.array(ctx.rng.normal(size=(16, 4)))
    t = ctx.array(ctx.rng.normal(size=(16, 4)))
    t[0, :2] = y[0, :2]  # exact ties: MAE's subgradient sign(0) = 0 on both sides
    for pair in (pairs.get("loss", pair_id) for pair_id in ("sse", "mse", "mae")):  # the declared pairs
        name, torch_fn = pair.scratch.partition(".")[2], pair.reference_object()
        with ctx.timed("numpy"):
            value, grad = pair.scratch_object(ctx.impl)(y, t), getattr(L, f"{name}_grad")(y, t)
        with ctx.timed("torch"):
            v_t, g_t = tloss.value_and_grad(torch_fn, ctx.tensor(y), ctx.tensor(t))
        ctx.compare(f"{name} value", value, v_t)
        ctx.compare(f"{name} gradient", grad, g_t)


def _classification_losses(ctx):
    L = ctx.impl.losses
    n, k = 20, 7
    logits = ctx.array(ctx.rng.normal(0, 2, size=(n, k)))
    labels = ctx.rng.integers(0, k, size=n)
    onehot = ctx.array(np.eye(k)[labels])
    probs = ctx.impl.activations.softmax(logits)

    for form, target in [("labels", labels), ("one-hot", onehot)]:
        value = L.cross_entropy_error(probs, target, delta=0.0)
        grad = L.cross_entropy_error_grad(probs, target, delta=0.0)
        v_t, g_t = tloss.value_and_grad(tloss.cross_entropy_error, ctx.tensor(probs), ctx.labels(labels))
        check = "CEE with delta=0 = NLLLoss(log y)" if form == "labels" else "CEE with delta=0 (one-hot)"
        ctx.compare(check, value, v_t)
        ctx.compare(f"CEE gradient with delta=0 ({form})", grad, g_t)

        value = L.softmax_cross_entropy(logits, target)
        grad = L.softmax_cross_entropy_grad(logits, target)
        v_t, g_t = tloss.value_and_grad(tloss.softmax_cross_entropy, ctx.tensor(logits), ctx.labels(labels))
        ctx.compare(f"softmax_cross_entropy value ({form})", value, v_t)
        ctx.compare(f"softmax_cross_entropy gradient ({form})", grad, g_t)

    layer = ctx.impl.layers.SoftmaxWithLoss()
    loss = layer.forward(logits, labels)
    dx = layer.backward(1.0)
    v_t, g_t = tloss.value_and_grad(tloss.softmax_cross_entropy, ctx.tensor(logits), ctx.labels(labels))
    ctx.compare("SoftmaxWithLoss layer forward", loss, v_t)
    ctx.compare("SoftmaxWithLoss layer backward", dx, g_t)
    big = logits * ctx.np_dtype(400.0)
    v_t = tloss.softmax_cross_entropy(ctx.tensor(big), ctx.labels(labels))
    ctx.compare("softmax_cross_entropy with huge logits (no overflow)", L.softmax_cross_entropy(big, labels), v_t)

    y = ctx.array(ctx.rng.uniform(0.02, 0.98, size=(12, 3)))
    t = ctx.array(ctx.rng.integers(0, 2, size=(12, 3)))
    v_t, g_t = tloss.value_and_grad(tloss.binary_cross_entropy, ctx.tensor(y), ctx.tensor(t))
    ctx.compare("binary_cross_entropy value", L.binary_cross_entropy(y, t), v_t)
    ctx.compare("binary_cross_entropy gradient", L.binary_cross_entropy_grad(y, t), g_t)

    # y exactly 0 or 1 on the wrong side: both clamp, and PyTorch's clamp constant is 1e-12 stored
    # as a float32 (9.99999996e-13) even in float64, a relative difference of 4e-9.
    saturated = np.where(t == 1, 0.0, 1.0).astype(ctx.np_dtype)
    v_t, g_t = tloss.value_and_grad(tloss.binary_cross_entropy, ctx.tensor(saturated), ctx.tensor(t))
    ours = L.binary_cross_entropy_grad(saturated, t)
    ctx.compare("binary_cross_entropy value (saturated)", L.binary_cross_entropy(saturated, t), v_t)
    torch_eps = float(np.float32(1e-12))
    relation = ctx.compare("BCE gradient (saturated) × 1e-12/float32(1e-12) = torch", ours * (1e-12 / torch_eps), g_t,
                note="torch clamps y(1 − y) at float32(1e-12) = 9.99999996e-13, scratch at 1e-12")
    if ctx.dtype == "float64":
        ctx.differs("BCE gradient (saturated) differs from torch by its clamp constant", ours, g_t, relation=relation,
                    note="relative difference 4.0e-9 = 1 − float32(1e-12)/1e-12")


def _delta(ctx):
    """CEE with the book's δ = 1e-7 against torch: the exact relation and its size."""
    L = ctx.impl.losses
    delta = 1e-7
    p_true = ctx.array([1.0, 0.6, 0.1, 1e-3, 1e-5, 1e-7])
    probs = np.stack([p_true, 1.0 - p_true], axis=1)
    book = np.array([L.cross_entropy_error(probs[i], 0, delta=delta) for i in range(len(p_true))])
    torch_per = -torch.log(ctx.tensor(p_true))
    relation = ctx.compare(DELTA_RELATION, ctx.numpy(torch_per) - book, np.log1p(delta / p_true.astype(np.float64)),
                           note="−log y − (−log(y + δ)) = log(1 + δ/y), sample by sample: the only difference is the δ. "
                                "y + δ is rounded to one ulp of y, so at y = 1 the small difference (1e-7) carries a "
                                "relative error of ε/δ: 1e-9 in float64; in float32 1 + 1e-7 rounds to 1 + 1.19e-7")
    effect = ctx.numpy(torch_per).astype(np.float64) - book
    ctx.value("δ effect at y = 0.6", effect[1])
    ctx.value("δ effect at y = 1e-7", effect[5])
    ctx.differs("CEE delta=1e-7 differs from torch", book, torch_per, relation=relation,
                note="δ changes −log y by about δ/y: 1.7e-7 at y = 0.6, 0.69 at y = 1e-7")
    zero = ctx.array([[0.0, 1.0]])
    book_zero = float(L.cross_entropy_error(zero, np.array([0]), delta=delta))
    torch_zero = float(tloss.cross_entropy_error(ctx.tensor(zero), ctx.labels([0])))
    ctx.finding("y = 0: book finite (−log 1e-7 = 16.1), torch inf", np.isclose(book_zero, -np.log(delta), rtol=1e-6)
                and np.isinf(torch_zero), f"book {book_zero:.4f}, torch {torch_zero}")
    rows = [{"y (true class)": float(p), "−log(y + 1e-7) book": float(b), "−log y torch": float(ctx.numpy(t)),
             "difference": float(ctx.numpy(t)) - float(b), "δ/y": delta / float(p)}
            for p, b, t in zip(p_true, book, torch_per)]
    rows.append({"y (true class)": 0.0, "−log(y + 1e-7) book": book_zero, "−log y torch": torch_zero,
                 "difference": float("inf"), "δ/y": float("inf")})
    ctx.table("delta-effect", pd.DataFrame(rows))


def _accuracy_has_no_gradient(ctx):
    """Numerical gradient of accuracy vs of the loss, on a small linear softmax classifier."""
    x = ctx.array(ctx.rng.normal(size=(30, 4)))
    labels = ctx.rng.integers(0, 3, size=30)
    W = ctx.array(ctx.rng.normal(0, 0.5, size=(4, 3)))
    L, G = ctx.impl.losses, ctx.impl.gradients

    def accuracy(W_):
        return float(np.mean(np.argmax(x @ W_, axis=1) == labels))

    def loss(W_):
        return float(L.softmax_cross_entropy(x @ W_, labels))

    h = 1e-4 if ctx.dtype == "float64" else 1e-2
    g_acc = G.numerical_gradient(accuracy, W, h=1e-4)  # accuracy has no rounding issue: small h in both dtypes
    g_loss = G.numerical_gradient(loss, W, h=h)
    Wt = ctx.tensor(W, requires_grad=True)
    tloss.softmax_cross_entropy(ctx.tensor(x) @ Wt, ctx.labels(labels)).backward()
    zero = ctx.value("weights where accuracy's numerical gradient is 0", float(np.mean(g_acc == 0)))
    near = _near_a_boundary(x.astype(np.float64), W.astype(np.float64), 1e-4)
    jumps = g_acc[g_acc != 0] * len(x) * 2e-4  # whole numbers of flipped predictions
    ctx.finding("accuracy: numerical gradient is 0 except where a sample sits within h of a decision boundary",
                bool(np.all((g_acc == 0) | near)) and bool(np.allclose(jumps, np.round(jumps), atol=1e-6)),
                f"0 for {zero:.0%} of the weights: no change of ±1e-4 flips a prediction there, so gradient descent on "
                f"accuracy cannot move. The other {1 - zero:.0%} are weights for which some sample's score margin is "
                "below h·|x|, and there the 'gradient' is a jump of k/(N·2h) (k predictions flipped), not a slope")
    ctx.finding("loss: numerical gradient is non-zero", bool(np.all(g_loss != 0)))
    atol, rtol = (1e-8, 1e-6) if ctx.dtype == "float64" else (1e-3, 1e-2)
    abs_err = float(np.max(np.abs(g_loss - ctx.numpy(Wt.grad))))
    ctx.finding("loss: numerical gradient ≈ autograd (central difference)", abs_err <= atol + rtol * float(np.max(np.abs(g_loss))),
                f"truncation + rounding of the central difference with h = {h:g}; exact match is not expected",
                g_loss, Wt.grad)


def _near_a_boundary(x, W, h) -> np.ndarray:
    """(in, classes) booleans: whether moving W[i, j] by ±h can flip some sample's prediction, i.e.
    whether a sample n has its margin between class j and its rival (the top class, or for the top
    class the runner-up) at most h·|x[n, i]| (with a rounding allowance)."""
    scores = x @ W
    top = np.argmax(scores, axis=1)
    ordered = np.sort(scores, axis=1)
    margin = ordered[:, -1:] - scores                                   # rival of class j: the top class
    is_top = np.arange(W.shape[1])[None, :] == top[:, None]
    margin = np.where(is_top, ordered[:, -1:] - ordered[:, -2:-1], margin)  # the top class's rival: the runner-up
    reach = h * np.abs(x)[:, :, None] * (1 + 1e-6) + 1e-12             # (N, in, 1): how far ±h moves score j
    return np.any(margin[:, None, :] <= reach, axis=0)


def _huge_logits(ctx):
    """Softmax-with-loss where one logit is far above the others (a diverging network's scores):
    the loss from log-softmax (log-sum-exp) stays finite on both sides, and so does its gradient."""
    big = float(np.finfo(ctx.np_dtype).max) * 0.75  # x − max(x) = −1.5·big overflows to −inf
    logits = ctx.array([[-big, big, 0.0], [5.0, 1.0, 2.0]])
    labels = np.array([1, 0])
    with np.errstate(over="ignore"):
        ours = ctx.impl.losses.softmax_cross_entropy(logits, labels)
    theirs = tloss.softmax_cross_entropy(ctx.tensor(logits), ctx.labels(labels))
    ctx.compare("softmax-with-loss where log p = −inf off the target: finite, = torch", ours, theirs,
                note=f"logits ±{big:.1e}: log p of a non-target class is −inf; only the target's log p enters the "
                     "loss (multiplying the one-hot by log p would give 0·(−inf) = nan)")


def _outlier_fit(ctx):
    """MSE vs MAE on data y = 2x + 1 + noise with one outlier, fitted by full-batch GD on both sides."""
    x = ctx.array(np.linspace(-2, 2, 30))
    y = ctx.array(2 * x + 1 + 0.3 * ctx.rng.normal(size=30))
    y[25] += 25.0  # one outlier
    steps, lr = 1500, 0.05
    batches = [np.arange(30)] * steps
    fits = {}
    for loss in ("squared", "absolute"):
        a_t, b_t, loss_t = (ctx.numpy(v) for v in torch_ref.linear_regression.fit(ctx.tensor(x), ctx.tensor(y), 0.0, 0.0,
                                                                                  lr, batches, loss=loss))

        def one_update(k, state, loss=loss, xs=x, ys=y):
            a, b, value = ctx.impl.linear_regression.fit(xs, ys, state[0], state[1], lr, batches[k:k + 1], loss=loss)
            return a[0], b[0], value[0]

        def in_float64(k, state, loss=loss):
            x64, y64 = x.astype(np.float64), y.astype(np.float64)
            theirs = torch_ref.linear_regression.fit(torch.as_tensor(x64, device=ctx.device), torch.as_tensor(y64, device=ctx.device), state[0], state[1], lr,
                                                     batches[k:k + 1], loss=loss)
            return one_update(k, state, loss, x64, y64), tuple(ctx.numpy(v)[0] for v in theirs)

        lockstep_history(ctx, f"{loss}-error fit with an outlier", (0.0, 0.0), list(zip(a_t, b_t, loss_t)), one_update,
                         ("a after the update", "b after the update", "loss before the update"),
                         note=f"{steps} full-batch updates, lr {lr}, each from torch's a, b before it", referee=in_float64)
        if free_running(ctx):
            a_np, b_np, _ = ctx.impl.linear_regression.fit(x, y, 0.0, 0.0, lr, batches, loss=loss)
            ctx.compare(f"{loss}-error fit with an outlier: a, b (free-running)", [a_np[-1], b_np[-1]],
                        [a_t[-1], b_t[-1]], kind="trained")
        else:
            a_np, b_np = a_t, b_t
        fits[loss] = (a_np[-1], b_np[-1], a_t[-1], b_t[-1])
    err = {k: abs(v[0] - 2) + abs(v[1] - 1) for k, v in fits.items()}
    ctx.value("MSE fit error", err["squared"])
    ctx.value("MAE fit error", err["absolute"])
    ctx.finding("MAE fit is closer to y = 2x + 1 than MSE fit", err["absolute"] < err["squared"],
                f"|a−2|+|b−1|: MSE {err['squared']:.3f}, MAE {err['absolute']:.3f}")
    ctx.figure("outlier-fit", lambda: _plot_outlier(x, y, fits))


def _plot_outlier(x, y, fits):
    fig, ax = plots.grid(1, 1, size=(6, 4))
    ax = ax[0]
    ax.scatter(x, y, s=14, color="k", label="data (one outlier)")
    xs = np.array([x.min(), x.max()])
    for loss, color in (("squared", "tab:red"), ("absolute", "tab:green")):
        a_np, b_np, a_t, b_t = fits[loss]
        name = "MSE" if loss == "squared" else "MAE"
        ax.plot(xs, a_np * xs + b_np, color=color, lw=2.2, label=f"{name} fit, NumPy (a={a_np:.2f}, b={b_np:.2f})")
        ax.plot(xs, a_t * xs + b_t, color=color, lw=1.2, ls="--", label=f"{name} fit, PyTorch")
    ax.plot(xs, 2 * xs + 1, color="gray", lw=1, ls=":", label="target y = 2x + 1")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.legend(fontsize=7)
    ax.set_title("Squared against absolute error with one outlier")
    return fig


def _plot_curves(ctx):
    L = ctx.impl.losses
    ys = np.linspace(0.001, 0.999, 200)
    fig, axes = plots.grid(3, 3, size=(3.6, 2.8))
    t1 = np.ones(1)
    sse = [L.sum_squared_error(np.array([v]), t1) for v in ys]
    sse_t = [float(tloss.sum_squared_error(torch.tensor([v]), torch.tensor([1.0]))) for v in ys]
    plots.overlay(axes[0], ys, sse, sse_t, title="SSE ½(y − 1)², t = 1", xlabel="y", ylabel="loss")
    cee = [L.cross_entropy_error(np.array([v, 1 - v]), 0, delta=0.0) for v in ys]
    cee_t = [float(tloss.cross_entropy_error(torch.tensor([[v, 1 - v]]), torch.tensor([0]))) for v in ys]
    plots.overlay(axes[1], ys, cee, cee_t, title="CEE −log y (true class)", xlabel="y", ylabel="loss")
    ds = np.linspace(-3, 3, 200)
    mae = [L.mean_absolute_error(np.array([v]), np.zeros(1)) for v in ds]
    mse = [L.mean_squared_error(np.array([v]), np.zeros(1)) for v in ds]
    mae_t = [float(tloss.mean_absolute_error(torch.tensor([v]), torch.tensor([0.0]))) for v in ds]
    mse_t = [float(tloss.mean_squared_error(torch.tensor([v]), torch.tensor([0.0]))) for v in ds]
    plots.overlay(axes[2], ds, mse, mse_t, title="MSE and MAE against y − t", xlabel="y − t", ylabel="loss", label="MSE")
    plots.overlay(axes[2], ds, mae, mae_t, color="tab:green", label="MAE")
    axes[0].legend(fontsize=7)
    axes[2].legend(fontsize=7)
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig
