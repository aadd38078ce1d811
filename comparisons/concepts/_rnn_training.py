"""The rnn concept's trained runs: a tanh RNN classifier with and without clipping by the global
norm, and a character-level language model (embedding → LSTM → linear) on the study notes' own
text, each through the one trainer — in lockstep in both dtypes, free-running in float64 where the
run does not explode."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

import scratch.recurrent
import torch_ref.recurrent as trec

from .. import bridge, data, plots
from ..lockstep import Trainer
from ..sides.sequences import NumpySequence, TorchSequence, global_norm


# --- training: lockstep (both dtypes) and free-running (float64) ----------------------------------------


SENSITIVITY = 10  # an exploding step may part by up to this many times its own measured rounding sensitivity
NORMWISE = ("The gradients are those the optimizer acts on (after clipping, so a wrong norm shows in them), compared "
            "normwise: each element against the norm of the whole gradient, since a recurrent gradient is a sum over "
            "time steps whose terms can be far larger than an element that cancels to near 0.")


def _trainer(ctx, label, make_net, make_model, params0, make_np_opt, make_t_opt, max_norm, sensitive=False):
    """Both sides of a sequence model through the one trainer (:class:`comparisons.lockstep.Trainer`):
    each step from torch's parameters, the gradients compared normwise (:data:`NORMWISE`).

    ``sensitive``: the run explodes, and there a step's gradient amplifies rounding far beyond the
    one-step tolerance, in float64 too (up to ~1e-8 of its norm, measured). Each step is then also
    taken by NumPy from its state perturbed by one ulp (:class:`comparisons.sides.sequences.NumpySequence`);
    the two sides may part by up to ``SENSITIVITY`` times what that perturbation changes, beside the
    normwise tolerance."""
    gates = scratch.recurrent.LSTM_GATES if "E" in params0 else None
    spread = {"now": 0.0, "worst": 0.0} if sensitive else None
    numpy_side = NumpySequence(ctx, make_net, params0, make_np_opt, max_norm, spread)
    torch_side = TorchSequence(ctx, make_model, params0, make_t_opt, max_norm, gates)

    def gradient_scale(grads_t):
        measured = SENSITIVITY * spread["now"] / spread.get("rtol", 1.0) if spread else 0.0
        return max(global_norm(grads_t), measured)

    # an exploding run amplifies float64 rounding without bound: it is compared step by step only
    return Trainer(ctx, label, numpy_side, torch_side, scales={"gradients": gradient_scale}, free=not sensitive), spread


def _finish(trainer, spread, steps):
    note = f"{steps} steps. {NORMWISE}"
    if spread is not None:
        note += (f" The run explodes: each step is compared within {SENSITIVITY}× its own rounding sensitivity too "
                 f"(NumPy's step from the state perturbed by one ulp), which reached {spread['worst']:.1e} of the "
                 "gradient's norm.")
    return trainer.finish(note=note)


def _rnn_params(ctx, D, H, C, scale):
    return {"Wx": ctx.array(ctx.rng.normal(0, 1, (D, H))), "Wh": ctx.array(ctx.rng.normal(0, scale / np.sqrt(H), (H, H))),
            "b": ctx.array(np.zeros(H)), "W": ctx.array(ctx.rng.normal(0, 1 / np.sqrt(H), (H, C))),
            "bo": ctx.array(np.zeros(C))}


def clipped_training(ctx, values):
    """A tanh RNN with large recurrent weights recalls the sign of its first input: SGD with and
    without clipping at 1, both sides in lockstep."""
    N, T, H, lr, steps = 16, 20, 16, 1.0, ctx.size(150, 300)
    params0 = _rnn_params(ctx, 1, H, 2, 3.0)
    batches = []
    for _ in range(steps):
        x = 0.5 * ctx.rng.choice([-1.0, 1.0], size=(N, T, 1))
        batches.append((ctx.array(x), (x[:, 0, 0] > 0).astype(np.int64)))
    curves, sensitivity = {}, {}
    for name, max_norm in (("without clipping", float("inf")), ("clipped at 1", 1.0)):
        trainer, spread = _trainer(ctx, f"tanh RNN, SGD {name}", ctx.impl.sequence_models.SequenceClassifier,
                                   lambda: trec.SequenceClassifier(1, H, 2), params0, lambda: ctx.impl.optim.SGD(lr),
                                   lambda ps: torch.optim.SGD(ps, lr=lr), max_norm, sensitive=True)
        for batch in batches:
            trainer.step(batch)
        run_ = _finish(trainer, spread, len(batches))
        curves[name] = (np.array(run_.losses_t), np.array(run_.torch.norms), np.array(run_.losses_np))
        sensitivity[name] = spread["worst"]
    unclipped, clipped = curves["without clipping"], curves["clipped at 1"]
    # how far the norm climbs depends on the draw (float32 at seed 57 stayed below 10): an outcome of
    # this run, quoted by its value, not a check
    ctx.observed("clipping: the unclipped run's gradient norm exceeds 10 (the clipping threshold 1) at some step",
                 bool(unclipped[1].max() > 10))
    values.update({"clip-lr": float(lr), "clip-steps-T": int(T), "clip-max-norm": float(float(unclipped[1].max())),
                   "clip-loss-unclipped": float(float(unclipped[0][-20:].mean())),
                   "clip-loss-clipped": float(float(clipped[0][-20:].mean())),
                   "clip-sensitivity": float(sensitivity["without clipping"])})
    ctx.table("clipping", pd.DataFrame({"run": list(curves), "mean loss, last 20 steps (torch)":
                                        [c[0][-20:].mean() for c in curves.values()],
                                        "largest gradient norm (torch)": [c[1].max() for c in curves.values()]}))
    ctx.figure("clipping", lambda: _plot_clipping(curves))


def _plot_clipping(curves):
    fig, axes = plots.grid(2, 2, size=(4.3, 3.2))
    for (name, (loss_t, norm_t, loss_np)), color in zip(curves.items(), ("tab:red", "tab:blue")):
        steps = np.arange(1, len(loss_t) + 1)
        plots.overlay(axes[0], steps, loss_np, loss_t, color=color, label=name, xlabel="step", ylabel="loss")
        axes[1].plot(steps, norm_t, color=color, lw=1.5, label=name)
    axes[1].axhline(1.0, color="k", ls=":", lw=1)
    axes[1].set_yscale("log")
    axes[1].set_xlabel("step")
    axes[1].set_ylabel("‖g‖ before clipping")
    axes[0].legend(fontsize=6)
    fig.tight_layout()
    return fig


# --- the character-level language model ------------------------------------------------------------------


def _lm_params(ctx, V, D, H):
    """Shared start drawn as PyTorch initialises these modules: E ~ N(0, 1), the LSTM's and the
    linear layer's weights ~ U(−1/√H, 1/√H)."""
    k = 1 / np.sqrt(H)
    u = lambda *s: ctx.array(ctx.rng.uniform(-k, k, s))  # noqa: E731
    return {"E": ctx.array(ctx.rng.normal(size=(V, D))), "Wx": u(D, 4 * H), "Wh": u(H, 4 * H), "b": u(4 * H),
            "W": u(H, V), "bo": u(V)}


def language_model(ctx, values):
    text = data.study_notes_text()
    chars = sorted(set(text))
    ids = np.array([chars.index(c) for c in text], dtype=np.int64)
    V, D, H, N, T, lr, max_norm = len(chars), 16, 48, 8, 24, 0.01, 5.0
    # 300 steps in the report: at 1,000 (tried for the full run) the free-running float64 pair
    # drifts past 1e-10 in the last parameters (Adam over clipped steps amplifies rounding); 300 is
    # what the seed sweep proves. Quick: 200, which the sweep proves too
    steps = ctx.size(200, 300)
    starts = data.char_windows(ctx.rng, len(ids), T, N, steps)
    batches = [(ids[s[:, None] + np.arange(T)], ids[s[:, None] + np.arange(1, T + 1)]) for s in starts]
    params0 = _lm_params(ctx, V, D, H)
    trainer, _ = _trainer(ctx, "char LM (embedding → LSTM → linear), Adam", ctx.impl.sequence_models.CharLM,
                          lambda: trec.CharLM(V, D, H), params0, lambda: ctx.impl.optim.Adam(lr),
                          lambda ps: torch.optim.Adam(ps, lr=lr), max_norm)
    model = trainer.torch_side.model
    points = sorted({0, steps // 3, 2 * steps // 3, steps})
    samples = [_sample(ctx, 0, model, chars, ids[0])]
    for k, batch in enumerate(batches):
        trainer.step(batch)
        if k + 1 in points:
            samples.append(_sample(ctx, k + 1, model, chars, ids[0]))
    run_ = _finish(trainer, None, steps)
    start, end, start_t, end_t = run_.loss_drop(first=5, last=20)
    ctx.finding("char LM: the loss falls below half its start on both sides (NumPy, PyTorch)",
                end < 0.5 * start and end_t < 0.5 * start_t,
                f"first 5 steps' mean {start:.3f} → last 20 steps' mean {end:.3f} (NumPy); {start_t:.3f} → {end_t:.3f} (PyTorch)")
    values.update({"lm-uniform": float(float(np.log(V))), "lm-chars": len(ids), "lm-vocab": int(V), "lm-batch": int(N), "lm-window": int(T),
                   "lm-steps": int(steps), "lm-loss-start": float(start), "lm-loss-end": float(end),
                   "lm-loss-start-torch": float(start_t), "lm-loss-end-torch": float(end_t)})
    frame = pd.DataFrame({"step": np.arange(1, steps + 1), "loss NumPy": run_.losses_np, "loss torch": run_.losses_t})
    ctx.table("samples", pd.DataFrame(samples))
    ctx.figure("lm-loss", lambda: plots.loss_per_step(frame))


def _sample(ctx, step, model, chars, first, length=40):
    """Sample ``length`` characters from both sides at the same parameters (torch's; NumPy's network
    loaded with them), with the same uniform draws, and compare NumPy's probabilities along its
    sample with PyTorch's on the same text."""
    params = bridge.sequence_model_arrays(model, gates=scratch.recurrent.LSTM_GATES)
    net = ctx.impl.sequence_models.CharLM({k: ctx.array(v) for k, v in params.items()})
    uniforms = ctx.rng.random(length)

    def draw(next_probs):
        c, state, text, probs = int(first), None, [int(first)], []
        for u in uniforms:
            p, state = next_probs(c, state)
            probs.append(np.asarray(p, dtype=np.float64))
            cdf = np.cumsum(probs[-1])
            c = int(min(np.searchsorted(cdf, u * cdf[-1], side="right"), len(cdf) - 1))
            text.append(c)
        return text, np.array(probs)

    def torch_probs(c, state):
        with torch.no_grad():
            scores, state = model(ctx.labels([[c]]), state)
        return ctx.numpy(torch.softmax(scores[0, 0], dim=-1)), state

    text_np, probs_np = draw(net.next_probabilities)
    text_t, _ = draw(torch_probs)
    probs_t = trec.next_char_probabilities(model, ctx.labels(text_np[:-1]))
    ctx.compare(f"char LM after {step} steps: next-character probabilities along the sample", probs_np, probs_t)
    as_text = lambda ix: "".join(chars[i] for i in ix).replace("\n", "⏎")  # noqa: E731
    return {"after step": step, "NumPy": as_text(text_np), "PyTorch": as_text(text_t)}
