"""Numerical differentiation and gradient checks against autograd; truncation against rounding."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

import scratch.gradients
import torch_ref.gradients as tgrad

from .. import plots

ID = "numerical-gradient"
TITLE = "Numerical differentiation and gradient checks (수치 미분, 편미분, 기울기)"

GUIDE = r"""
The derivative (미분) is the instantaneous rate of change,

$$
f'(x) = \lim_{h \to 0} \frac{f(x + h) - f(x)}{h}.
$$

A computer cannot take the limit; **numerical differentiation** (수치 미분) uses a small $h$:

* forward difference (전방 차분): $\dfrac{f(x + h) - f(x)}{h}$, with an error of about $\tfrac{h}{2} f''(x)$;
* central difference (중심 차분, also 중앙 차분): $\dfrac{f(x + h) - f(x - h)}{2h}$, with an error
  of about $\tfrac{h^2}{6} f'''(x)$, much smaller.

That is **truncation error**, and it shrinks with $h$. But the subtraction $f(x + h) - f(x)$ of two
nearly equal numbers loses digits: **rounding error** (반올림 오차) grows like
$\varepsilon |f| / h$, with float64's $\varepsilon \approx 2.2 \times 10^{-16}$. The total is
smallest near $h \approx \sqrt{\varepsilon} \approx 10^{-8}$ for the forward difference and
$h \approx \varepsilon^{1/3} \approx 6 \times 10^{-6}$ for the central one; the book's
$h = 10^{-4}$ is a safe choice for the central difference.

{{figure:error-vs-h|The error of the forward and central differences of $e^x$ at $x = 1$ against autograd's exact derivative, as $h$ grows from $10^{-15}$ (left) to $10^{-1}$ (right), log-log. Right of the minimum, truncation: slope 1 for the forward difference, 2 for the central one. Left of it, rounding: slope −1.}}

In this run the forward difference's error is smallest at $h =$ {{value:best forward h}} and the
central one's at $h =$ {{value:best central h}}: {{finding:best h: forward near √ε (1e-7…1e-9), central near ε^(1/3) (1e-4…1e-6)|the
minima sit where the estimates above put them}}. At the book's $h = 10^{-4}$ the central
difference is off by {{value:central error at the check h}} and the forward one by
{{value:forward error at the check h}}: {{finding:forward difference is worse than central at the gradient-check h|the
central difference is the better one by far}}. The book's warning example: with $h = 10^{-50}$
the step is lost entirely, $x + h = x$ in floating point, and {{finding:h = 1e-50 is lost in rounding: no derivative survives|the
"derivative" comes out as {{value:derivative with h = 1e-50}}}}.

{{table:error-vs-h|The numbers of the figure: both differences and their errors for every $h$.}}

The study notes' examples: $f(x) = 0.01x^2 + 0.1x$ has $f'(5) = 0.2$ and $f'(10) = 0.3$ (the
study notes print the numerical values 0.1999999999990898 and 0.2999999999986347; this run's
central difference gives {{value:numerical f'(5)|.16g}} and {{value:numerical f'(10)|.16g}}). For two variables,
$f(x_0, x_1) = x_0^2 + x_1^2$, the **partial derivatives** (편미분) hold the other variable fixed;
together they form the **gradient** (기울기)
$\nabla f = \big(\tfrac{\partial f}{\partial x_0}, \tfrac{\partial f}{\partial x_1}\big) = (2x_0, 2x_1)$:
$(6, 8)$ at $(3, 4)$, $(0, 4)$ at $(0, 2)$, $(6, 0)$ at $(3, 0)$. The gradient points where $f$
increases fastest, $-\nabla f$ where it decreases fastest.

**Automatic differentiation** (PyTorch's autograd) is neither: it applies the chain rule to the
recorded operations and is exact up to the rounding of those operations, with no $h$ at all.

**Gradient check** (기울기 확인). Backpropagation is easy to get subtly wrong, and a numerical
gradient is easy to get right but slow (two evaluations of $f$ per parameter). So one compares them
on a small problem with CS231n's relative error

$$
\frac{|a - n|}{\max(|a|, |n|)}:
$$

above $10^{-2}$ the gradient is probably wrong, $10^{-4}$ to $10^{-2}$ uncomfortable, below
$10^{-7}$ good in float64 (kinks such as ReLU's can legitimately give about $10^{-4}$). Do it in
float64: in float32 even the best $h$ leaves only about 3 digits.
"""

PAIRS = [("function", "numerical-gradient")]

CODE = [(scratch.gradients.numerical_diff, tgrad.autograd_gradient)]

DIFFERENCES = [
    ("how the derivative is found", "finite differences with a step $h$", "autograd: chain rule, no $h$",
     "f(x)=0.01x²+0.1x: numerical vs autograd at x=5"),
    ("exactness", "truncation + rounding error", "rounding only", "forward difference is worse than central at the gradient-check h"),
]


def f1(x):
    return 0.01 * x**2 + 0.1 * x


def f2(x):
    return x[0] ** 2 + x[1] ** 2


def run(ctx):
    G = ctx.impl.gradients
    h = ctx.h

    for x0, expected in [(5.0, 0.2), (10.0, 0.3)]:
        with ctx.timed("numpy"):
            num = G.numerical_diff(f1, ctx.np_dtype(x0), h=h)
        with ctx.timed("torch"):
            auto = tgrad.autograd_gradient(f1, ctx.tensor(x0))
        ctx.compare(f"f(x)=0.01x²+0.1x: numerical vs autograd at x={x0:g}", num, auto, kind="gradcheck")
        ctx.value(f"numerical f'({x0:g})", float(num))
        ctx.compare(f"f(x)=0.01x²+0.1x: autograd at x={x0:g} = {expected}", auto, expected)

    for point, expected in [((3.0, 4.0), (6.0, 8.0)), ((0.0, 2.0), (0.0, 4.0)), ((3.0, 0.0), (6.0, 0.0))]:
        x = ctx.array(point)
        with ctx.timed("numpy"):
            num = G.numerical_gradient(f2, x, h=h)
        with ctx.timed("torch"):
            auto = tgrad.autograd_gradient(f2, ctx.tensor(point))
        ctx.compare(f"∇(x0²+x1²) at {point}: numerical vs autograd", num, auto, kind="gradcheck")
        ctx.compare(f"∇(x0²+x1²) at {point}: autograd = {expected}", auto, ctx.array(expected))
        ctx.finding(f"numerical_gradient leaves x unchanged at {point}", bool(np.all(x == ctx.array(point))))

    _matrix_gradcheck(ctx)
    sweep = _h_sweep(ctx)
    ctx.figure("error-vs-h", lambda: _plot_sweep(sweep))


def _matrix_gradcheck(ctx):
    """Gradient check on f(W) = Σ tanh(X W) for a 4×3 matrix W, the way one checks a layer."""
    G = ctx.impl.gradients
    X = ctx.array(ctx.rng.normal(size=(5, 4)))
    W = ctx.array(ctx.rng.normal(size=(4, 3)))
    num = G.numerical_gradient(lambda W_: float(np.sum(np.tanh(X @ W_))), W, h=ctx.h)
    auto = tgrad.autograd_gradient(lambda W_: torch.tanh(ctx.tensor(X) @ W_).sum(), ctx.tensor(W))
    bound = _central_difference_bound(ctx, X, W)
    rec = ctx.compare("gradient check of Σ tanh(XW) (matrix W)", num, auto, kind="gradcheck",
                      scale=bound / ctx.tolerance("gradcheck")[1])
    rec.note = (f"CS231n relative error {rec.max_rel_err:.1e}. An element passes within the usual tolerance or within "
                f"the central difference's own error bound (h²/6·|∂³f| + rounding/h, largest {bound.max():.1e})")
    rel = G.relative_error(num, ctx.numpy(auto))
    ctx.compare("relative_error = |a−b|/max(|a|,|b|)", rel,
                np.abs(num - ctx.numpy(auto)) / np.maximum(np.abs(num), np.abs(ctx.numpy(auto))))


def _central_difference_bound(ctx, X, W) -> np.ndarray:
    """A bound on |central difference − ∂f/∂W| for f(W) = Σ tanh(XW), element by element:

        truncation  h²/6 · max|∂³f/∂W_ij³| ≤ h²/6 · 2·Σ_n |X_ni|³      (|tanh‴| ≤ 2)
        rounding    δf/h with δf ≤ (N·K + 3)·u·N·K, u the unit roundoff (f: N·K terms, each |tanh| ≤ 1)
    """
    h, u = ctx.h, float(np.finfo(ctx.np_dtype).eps) / 2
    n_terms = X.shape[0] * W.shape[1]
    truncation = h**2 / 6 * 2 * np.sum(np.abs(X.astype(np.float64)) ** 3, axis=0)[:, None] * np.ones(W.shape)
    return truncation + (n_terms + 3) * u * n_terms / h


def _h_sweep(ctx):
    """Error of forward and central differences of f(x) = eˣ at x = 1 as h goes from 1e-1 to 1e-15."""
    G = ctx.impl.gradients
    x = ctx.np_dtype(1.0)
    exact = float(ctx.numpy(tgrad.autograd_gradient(torch.exp, ctx.tensor(1.0))))
    rows = []
    for k in range(1, 16):
        h = 10.0**-k
        fwd = float(G.numerical_diff(np.exp, x, h=h, method="forward"))
        cen = float(G.numerical_diff(np.exp, x, h=h, method="central"))
        rows.append({"h": h, "forward": fwd, "central": cen, "autograd": exact,
                     "forward error": abs(fwd - exact), "central error": abs(cen - exact)})
    frame = pd.DataFrame(rows)
    ctx.table("error-vs-h", frame)
    at_h = frame[np.isclose(frame.h, ctx.h)].iloc[0]
    ctx.value("forward error at the check h", float(at_h["forward error"]))
    ctx.value("central error at the check h", float(at_h["central error"]))
    ctx.finding("forward difference is worse than central at the gradient-check h",
                bool(at_h["forward error"] > 10 * at_h["central error"]),
                f"h = {ctx.h:g}: forward error {at_h['forward error']:.1e}, central {at_h['central error']:.1e}")
    if ctx.dtype == "float64":
        best_fwd = frame.h[frame["forward error"].idxmin()]
        best_cen = frame.h[frame["central error"].idxmin()]
        ctx.value("best forward h", float(best_fwd))
        ctx.value("best central h", float(best_cen))
        ctx.finding("best h: forward near √ε (1e-7…1e-9), central near ε^(1/3) (1e-4…1e-6)",
                    1e-9 <= best_fwd <= 1e-7 and 1e-6 <= best_cen <= 1e-4,
                    f"best forward h = {best_fwd:.0e}, best central h = {best_cen:.0e}")
    with np.errstate(invalid="ignore", divide="ignore"):
        lost = float(G.numerical_diff(f1, ctx.np_dtype(5.0), h=1e-50))
    ctx.value("derivative with h = 1e-50", lost)
    ctx.finding("h = 1e-50 is lost in rounding: no derivative survives", lost == 0.0 or np.isnan(lost),
                f"got {lost}: 5 + 1e-50 == 5, so f(x + h) − f(x − h) = 0 (in float32 h itself is 0, and 0/0 = nan)")
    return frame


def _plot_sweep(frame):
    fig, axes = plots.grid(1, 1, size=(6.4, 4.2))
    ax = axes[0]
    ax.loglog(frame.h, frame["forward error"].clip(lower=1e-17), "o-", label="forward (f(x+h) − f(x))/h")
    ax.loglog(frame.h, frame["central error"].clip(lower=1e-17), "s-", label="central (f(x+h) − f(x−h))/2h")
    ax.set_xlabel("step h (small on the left, large on the right)")
    ax.set_ylabel("|numerical − autograd|")
    ax.set_title("d/dx eˣ at x = 1: rounding error (left) against truncation error (right)", fontsize=10)
    ax.annotate("rounding: slope −1", xy=(1e-13, 1e-3), fontsize=8, color="gray")
    ax.annotate("truncation: slope 1 (forward), 2 (central)", xy=(1e-6, 1e-1), fontsize=8, color="gray", ha="center")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="lower left")
    return fig
