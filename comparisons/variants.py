"""The reference's formulas in NumPy with one thing changed at a time: what the relation search
(:mod:`comparisons.relations`) tries when a user's numbers differ and no catalogued mistake
explains them. Each variant is a general slip that many pairs share, not one pair's mistake:

    optimizers      ε inside the square root, another ε, |g| accumulated where g² belongs, a running
                    average without its (1 − ρ), a velocity that averages (v = μv + (1 − μ)g), the step
                    count t one ahead in Adam's bias correction
    normalization   ε outside the square root, another ε, the unbiased variance (÷ (n − 1))

An optimizer's variant is replayed on a lockstep run: step k starts from PyTorch's parameters θ_k
and takes PyTorch's gradient g_k, as the user's optimizer did, its state built from the same g's."""

from __future__ import annotations

import numpy as np

EPSILONS = (1e-8, 1e-7, 1e-6, 1e-5, 1e-10, 1e-12)


# --- optimizers: one elementwise rule per optimizer, with switches -----------------------------------


def _step(pid, h, theta, g, state, t, sw):
    """One step of optimizer ``pid`` (PyTorch's defaults and names: lr, momentum, decay_rate, beta1,
    beta2, eps, weight_decay) under the switches ``sw``; ``state`` kept in a dict."""
    lr, eps = h.get("lr", 0.01), sw.get("eps", h.get("eps", 1e-8))
    sq = np.abs(g) if sw.get("abs") else g * g

    def denom(v, correction=1.0):
        if sw.get("eps_inside"):
            return np.sqrt(v / correction + eps)
        return np.sqrt(v / correction) + eps

    if pid == "sgd":
        return theta - lr * g
    if pid in ("momentum", "nesterov"):
        mu = h.get("momentum", 0.9)
        b = state.get("b")
        if sw.get("average"):
            b = mu * (b if b is not None else 0.0) + (1 - mu) * g
        else:
            b = g.copy() if b is None else mu * b + g
        state["b"] = b
        return theta - lr * (g + mu * b if pid == "nesterov" else b)
    if pid == "adagrad":
        state["h"] = state.get("h", 0.0) + sq
        return theta - lr * g / denom(state["h"])
    if pid == "rmsprop":
        rho = h.get("decay_rate", 0.99)
        state["h"] = rho * state.get("h", 0.0) + (1.0 if sw.get("no_average") else 1 - rho) * sq
        return theta - lr * g / denom(state["h"])
    if pid in ("adam", "adamw"):
        b1, b2 = h.get("beta1", 0.9), h.get("beta2", 0.999)
        if pid == "adamw":
            theta = theta * (1 - lr * h.get("weight_decay", 0.01))
        state["m"] = b1 * state.get("m", 0.0) + (1.0 if sw.get("no_average_m") else 1 - b1) * g
        state["v"] = b2 * state.get("v", 0.0) + (1.0 if sw.get("no_average") else 1 - b2) * sq
        tc = t + sw.get("t_shift", 0)
        return theta - lr * (state["m"] / (1 - b1 ** tc)) / denom(state["v"], 1 - b2 ** tc)
    raise KeyError(pid)


def optimizer_switches(pid: str, hparams: dict) -> dict:
    """{what the hint says: switches} for optimizer ``pid``."""
    out = {}
    if pid in ("momentum", "nesterov"):
        out["your velocity is an average, v ← μv + (1 − μ)g: PyTorch's buffer is a sum, b ← μb + g, so your steps "
            "are (1 − μ) times as long once it has warmed up"] = {"average": True}
    if pid in ("adagrad", "rmsprop", "adam", "adamw"):
        eps = hparams.get("eps")
        out["ε is inside the square root, √(v + ε); PyTorch adds it outside, √v + ε"] = {"eps_inside": True}
        out["|g| is accumulated where g² belongs (the second moment is a running sum of squares)"] = {"abs": True}
        for e in EPSILONS:
            if eps is not None and not np.isclose(e, eps, rtol=1e-9, atol=0):
                out[f"your ε is {e:g}, where PyTorch's is {eps:g}: --hparam eps={e:g}"] = {"eps": e}
    if pid == "rmsprop":
        out["the running average misses its (1 − ρ): h ← ρh + g² must be h ← ρh + (1 − ρ)g²"] = {"no_average": True}
    if pid in ("adam", "adamw"):
        out["the second moment's running average misses its (1 − β₂): v ← β₂v + g² must be v ← β₂v + (1 − β₂)g²"] = \
            {"no_average": True}
        out["the first moment's running average misses its (1 − β₁): m ← β₁m + g must be m ← β₁m + (1 − β₁)g"] = \
            {"no_average_m": True}
        out["t is one step ahead in the bias correction (1 − βᵗ⁺¹): increment t after the update, or start it at 0"] = \
            {"t_shift": 1}
    return out


def replay(pid, hparams, start, before, gradients, switches) -> np.ndarray:
    """The parameters after each step (rows) of ``pid`` under ``switches``, step k taken from
    ``before[k]`` (PyTorch's parameters, ``start`` at k = 0) with ``gradients[k]``."""
    state, rows = {}, []
    for k, g in enumerate(gradients):
        theta = start if k == 0 else before[k - 1]
        with np.errstate(all="ignore"):
            rows.append(_step(pid, hparams, np.asarray(theta, dtype=np.float64), np.asarray(g, dtype=np.float64),
                              state, k + 1, switches))
    return np.array(rows)


def optimizer_variants(pid, hparams, start, expected_rows, gradient_rows) -> dict:
    """{hint text: () -> the parameters after each step} for a lockstep run of optimizer ``pid``."""
    return {text: (lambda sw=sw: replay(pid, hparams, start, expected_rows, gradient_rows, sw))
            for text, sw in optimizer_switches(pid, hparams).items()}


# --- normalization ----------------------------------------------------------------------------------


def normalize(x, axes, eps, gamma=None, beta=None, eps_outside=False, ddof=0):
    """(x − μ)/√(σ² + ε)·γ + β over ``axes`` (σ² with ``ddof``), or with ε outside: (x − μ)/(σ + ε)."""
    x = np.asarray(x, dtype=np.float64)
    mu = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True, ddof=ddof)
    xhat = (x - mu) / (np.sqrt(var) + eps if eps_outside else np.sqrt(var + eps))
    out = xhat if gamma is None else xhat * gamma
    return out if beta is None else out + beta


def normalization_variants(x, axes, eps, gamma, beta, reshape=None) -> dict:
    """{hint text: () -> the output} for a normalization layer's forward on ``x`` (``reshape``: a
    function putting the output back into x's shape, for group norm's (N, G, −1) view)."""
    back = reshape or (lambda v: v)

    def make(e=eps, **kw):
        return lambda: back(normalize(x, axes, e, **kw)) * gamma + beta

    out = {"ε is outside the square root, (x − μ)/(σ + ε); PyTorch normalises by √(σ² + ε)": make(eps_outside=True),
           "the variance is the unbiased one (÷ (n − 1)); normalization divides by n": make(ddof=1)}
    for e in EPSILONS:
        if not np.isclose(e, eps, rtol=1e-9, atol=0):
            out[f"your ε is {e:g}, where PyTorch's is {eps:g}: --hparam eps={e:g}"] = make(e=e)
    return out
