"""The transformer: LayerNorm, GELU (erf and tanh), positional encodings, pre-LN and post-LN blocks,
GPT-2's forward pass, and a tiny decoder-only GPT trained as a character language model on the
study notes' text with AdamW under a warm-up + cosine schedule — against nn.LayerNorm, nn.GELU,
nn.TransformerEncoderLayer (causal, GELU, dropout 0) and autograd."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

import torch_ref.activations as tact
import torch_ref.layers as tlayers
import torch_ref.normalization as tn
import torch_ref.optim as topt
import torch_ref.transformer as tt

from .. import data, pairs, plots
from .. import transformer_bridge as tb
from ..checks import close
from ..lockstep import Trainer, tensorwise_scale
from ..sides.transformer import NumpyScheduled, TorchModel, tinygpt_arrays
from ..site.numbers import sig

PAIRS = [("function", "layer-norm", None), ("layer", "layer-norm", None), ("function", "gelu", None),
         ("function", "gelu", {"approximate": "tanh"}), ("layer", "gelu", None), ("function", "positional-encoding", None),
         ("layer", "transformer-block", None), ("layer", "transformer-block", {"norm_first": 0}),
         ("function", "transformer-block", None), ("function", "gpt2", None)]


def run(ctx):
    values = {}
    _pairs(ctx, values)
    _layer_norm_is_batch_norm_transposed(ctx, values)
    _gelu_forms(ctx, values)
    _pre_and_post_ln(ctx, values)
    _three_way(ctx, values)
    _language_model(ctx, values)
    for name, value in values.items():
        ctx.value(name, value)


def _pairs(ctx, values):
    rows = []
    for kind, pid, hparams in PAIRS:
        pair = pairs.get(kind, pid)
        shown = "".join(f", {k}={v}" for k, v in (hparams or {}).items())
        start = len(ctx.records)
        pairs.check(ctx, pair, pair.scratch_object(ctx.impl), hparams, prefix=f"{pid} ({kind}{shown}): ")
        recs = ctx.records[start:]
        rows.append({"pair": f"{kind} {pid}{shown}", "checks": len(recs), "passed": sum(r.passed for r in recs),
                     "largest abs. error": max(r.max_abs_err for r in recs)})
    ctx.table("pairs", pd.DataFrame(rows))
    values["pairs-worst"] = sig(max(r["largest abs. error"] for r in rows), 2)


# --- LayerNorm is batch norm over the other axis ------------------------------------------------------------


def _layer_norm_is_batch_norm_transposed(ctx, values):
    n, d = 8, 5
    x = ctx.array(ctx.rng.normal(size=(n, d)) * 2 + 1)
    layer_norm = ctx.impl.normalization.LayerNorm(ctx.array(np.ones(d)), ctx.array(np.zeros(d)))
    ours = layer_norm.forward(x)
    with torch.no_grad():
        over_rows = tlayers.batchnorm1d(ctx.tensor(np.ones(n)), ctx.tensor(np.zeros(n)))(ctx.tensor(x.T)).T
        over_batch = tlayers.batchnorm1d(ctx.tensor(np.ones(d)), ctx.tensor(np.zeros(d)))(ctx.tensor(x))
    rel = ctx.compare("LayerNorm(x) (γ = 1, β = 0) = nn.BatchNorm1d (training) of xᵀ, transposed back: batch norm's "
                      "formula over the other axis, the same ε = 1e-5 and biased variance", ours, over_rows)
    ctx.differs("LayerNorm(x) vs batch norm of the same x (N, D): statistics per sample vs per feature", ours, over_batch,
                relation=rel)
    values["ln-bn-gap"] = sig(float(np.max(np.abs(ours - ctx.numpy(over_batch)))), 2)
    _annotated_layer_norm(ctx, values)


def _annotated_layer_norm(ctx, values):
    """The Annotated Transformer's LayerNorm, γ (x − μ)/(σ + ε) + β with the unbiased σ and ε = 1e-6,
    against nn.LayerNorm on rows of small variance, where ε's place shows."""
    x = ctx.array(ctx.rng.normal(size=(4, 6)) * np.array([[1.0], [0.1], [0.01], [0.003]]))
    gamma, beta = ctx.array(1 + 0.3 * ctx.rng.normal(size=6)), ctx.array(0.3 * ctx.rng.normal(size=6))
    ours = ctx.impl.normalization.LayerNorm(gamma, beta).forward(x)
    with torch.no_grad():
        ref = tn.layer_norm(ctx.tensor(gamma), ctx.tensor(beta))(ctx.tensor(x))
    rel = ctx.compare("LayerNorm = nn.LayerNorm on rows of standard deviation 1 down to 0.003", ours, ref)
    annotated = gamma * (x - x.mean(axis=1, keepdims=True)) / (x.std(axis=1, ddof=1, keepdims=True) + 1e-6) + beta
    ctx.differs("the Annotated Transformer's LayerNorm ((x − μ)/(σ_unbiased + 1e-6)) vs nn.LayerNorm", annotated, ref,
                relation=rel)
    values["annotated-gap"] = sig(float(np.max(np.abs(annotated - ctx.numpy(ref)))), 2)


# --- GELU's two forms ---------------------------------------------------------------------------------------


def _gelu_forms(ctx, values):
    x = ctx.array(np.linspace(-6, 6, 2401))
    act = ctx.impl.activations
    ours = act.gelu(x, "tanh") - act.gelu(x)
    with torch.no_grad():
        exact_t, tanh_t = (tact.gelu(a)(ctx.tensor(x)) for a in ("none", "tanh"))
    rel = ctx.compare("GELU: the gap tanh form − erf form, NumPy against nn.GELU(approximate='tanh') − nn.GELU()", ours,
                      tanh_t - exact_t, scale=2 * np.abs(ctx.numpy(exact_t)),
                      note="A difference of two values of size |GELU(x)|: it keeps their rounding (a few ulp of "
                           "|GELU(x)|, 2.4e-7 at x = 2.7 in float32).")
    ctx.differs("GELU's tanh form (GPT-2's) vs the exact erf form (nn.GELU()'s default)", act.gelu(x, "tanh"), exact_t,
                relation=rel)
    i = int(np.argmax(np.abs(ours)))
    values.update({"gelu-gap": sig(float(np.abs(ours[i])), 3), "gelu-gap-at": sig(float(abs(x[i])), 3)})
    curves = {"GELU (erf)": (act.gelu(x), exact_t), "GELU (tanh)": (act.gelu(x, "tanh"), tanh_t),
              "ReLU": (act.relu(x), tact.module("relu")(ctx.tensor(x)))}
    ctx.figure("gelu-relu", lambda: _plot_gelu(ctx, x, curves, ours))


def _plot_gelu(ctx, x, curves, gap):
    fig, axes = plots.grid(2, 2, size=(4.0, 3.2))
    for (name, (y, y_t)), color in zip(curves.items(), ("tab:blue", "tab:green", "tab:gray")):
        plots.overlay(axes[0], x, y, ctx.numpy(y_t), color=color, label=name, xlabel="x", ylabel="f(x)")
    axes[0].set_xlim(-4, 3)
    axes[0].set_ylim(-0.5, 3)
    axes[0].legend(fontsize=6)
    axes[1].plot(x, gap, color="tab:red", lw=1.5)
    axes[1].set_xlabel("x")
    axes[1].set_ylabel("GELU_tanh(x) − GELU(x)")
    axes[1].grid(alpha=0.3)
    fig.tight_layout()
    return fig


# --- pre-LN against post-LN -------------------------------------------------------------------------------


def _pre_and_post_ln(ctx, values):
    E, H, F = 12, 3, 20
    params = tb.random_block_params(ctx.rng, E, F, std=0.3, dtype=ctx.np_dtype)
    x, dout = ctx.array(ctx.rng.normal(size=(3, 5, E))), ctx.array(ctx.rng.normal(size=(3, 5, E)))
    pre = ctx.impl.transformer.TransformerBlock(params, H, norm_first=True).forward(x)
    outs = {nf: tt.block_forward_backward(tb.load_block(tt.encoder_layer(E, H, F, nf, ctx.torch_dtype), params),
                                          ctx.tensor(x), ctx.tensor(dout))[0] for nf in (True, False)}
    rel = ctx.compare("pre-LN block = nn.TransformerEncoderLayer(norm_first=True), causal", pre, outs[True],
                      scale=float(np.abs(ctx.numpy(outs[True])).max()))
    ctx.differs("pre-LN block vs nn.TransformerEncoderLayer's default norm_first=False (post-LN)", pre, outs[False],
                relation=rel)
    values["pre-post-gap"] = sig(float(np.max(np.abs(pre - ctx.numpy(outs[False])))), 2)


# --- TinyGPT: backprop, numerical, autograd -----------------------------------------------------------------


def bias_group_scale(grads: dict) -> np.ndarray:
    """:func:`comparisons.lockstep.tensorwise_scale` (each gradient judged against its own largest
    element), but b_q, b_k, b_v of a block against the largest of the three: b_k's true gradient is
    exactly 0 (softmax ignores the shift q·b_k, the same for every key), and each side returns a
    rounding residue of its terms, judged, as inside PyTorch's packed in_proj_bias, against b_q's and b_v's."""
    sizes = {k: np.abs(g).max() for k, g in grads.items()}
    for k in grads:
        if k.endswith("attn.bk"):
            group = [k[:-2] + b for b in ("bq", "bk", "bv")]
            sizes[k] = max(sizes[g] for g in group)
    scaled = {k: np.full(np.shape(g), sizes[k]) for k, g in grads.items()}
    return np.concatenate([scaled[k].ravel() for k in sorted(scaled)]) if scaled else tensorwise_scale(grads)


def _three_way(ctx, values):
    """Backpropagation by hand against central differences (both in float64, in both runs: a
    difference quotient in float32 keeps ~3 digits) and against autograd (in the run's dtype), on a
    TinyGPT small enough to perturb every parameter: V = 7, E = 4, 2 heads, 2 blocks, T = 5."""
    V, E, H, L, T = 7, 4, 2, 2, 5
    for tied in (False, True):
        params = tb.random_tinygpt_params(ctx.rng, V, E, L, T, tied=tied, std=0.5)
        x, t = ctx.rng.integers(0, V, (2, T)), ctx.rng.integers(0, V, (2, T))
        TinyGPT = ctx.impl.transformer.TinyGPT
        name = "tied head" if tied else "untied head"
        if not tied:
            model64 = TinyGPT({k: v.copy() for k, v in params.items()}, H, L)
            backprop64 = model64.gradient(x, t)
            numerical = model64.numerical_gradient(x, t)
            keys = sorted(numerical)
            ctx.compare(f"TinyGPT ({name}): backprop vs central differences (float64, every parameter)",
                        np.concatenate([backprop64[k].ravel() for k in keys]),
                        np.concatenate([numerical[k].ravel() for k in keys]), kind="gradcheck",
                        note="Both in float64 in either run, h = 1e-5.")
            values["gradcheck-params"] = str(sum(v.size for v in params.values()))
        start = {k: ctx.array(v) for k, v in params.items()}  # the run's dtype; exact in float64 too

        def both(dtype, tied=tied, start=start, x=x, t=t):
            np_dtype, torch_dtype = (np.float64, torch.float64) if dtype == "float64" else (ctx.np_dtype, ctx.torch_dtype)
            backprop = TinyGPT({k: v.astype(np_dtype) for k, v in start.items()}, H, L, tied=tied).gradient(x, t)
            theirs = tt.TinyGPT(V, E, H, L, T, tied=tied, dtype=torch_dtype).to(ctx.device)
            theirs = tb.load_tinygpt(theirs, start)
            theirs.loss(ctx.labels(x), ctx.labels(t)).backward()
            autograd = tb.tinygpt_arrays(theirs, grad=True)
            keys = sorted(autograd)
            return (np.concatenate([backprop[k].ravel() for k in keys]),
                    np.concatenate([autograd[k].ravel() for k in keys]), bias_group_scale(autograd))

        _refereed(ctx, f"TinyGPT ({name}): backprop vs autograd, every parameter", both,
                  "Each gradient against its own largest element (a sum that cancels keeps the rounding of its terms, "
                  "a few ulp); b_k's, whose true value is 0, against b_q's and b_v's.")


def _refereed(ctx, check, both, note):
    """Compare NumPy's and PyTorch's (``both(dtype)`` → (NumPy, torch, scale)) in the run's dtype. A
    float32 result that parts is re-taken in float64 from the same float32 inputs (exact in float64),
    as the lockstep trainer's referee does: in a configuration this small a LayerNorm over 4 features
    or a saturated softmax can amplify float32's rounding past its one-step tolerance; if the two sides
    agree in float64, the difference was rounding. The check then records float64's errors and says so."""
    ours, theirs, scale = both(ctx.dtype)
    atol, rtol = ctx.tolerance("exact")
    if ctx.dtype == "float64" or np.all(close(ours, theirs, atol, rtol, scale)):
        return ctx.compare(check, ours, theirs, scale=scale, note=note)
    parted = float(np.max(np.abs(ours - theirs)))
    ours64, theirs64, _ = both("float64")
    return ctx.compare_in_float64(check, ours64, theirs64,
                                  f"{note} float32 parted by {parted:.1e} (max abs err); re-taken in float64 from the "
                                  "same float32 inputs: the errors shown are float64's.")


# --- the character language model ---------------------------------------------------------------------------

GROUPS = ("embeddings", "block 0", "block 1", "ln_f, head")


def _group_norms(grads: dict) -> list:
    """‖g‖ of the embeddings (wte, wpe), of each block's parameters, and of the final LayerNorm and head."""
    def of(key):
        if key.startswith("blocks."):
            return f"block {key.split('.')[1]}"
        return "embeddings" if key in ("wte", "wpe") else "ln_f, head"

    total = {g: 0.0 for g in GROUPS}
    for k, g in grads.items():
        total[of(k)] += float(np.sum(np.asarray(g, dtype=np.float64) ** 2))
    return [np.sqrt(total[g]) for g in GROUPS]


def _language_model(ctx, values):
    text = data.study_notes_text()
    chars = sorted(set(text))
    ids = np.array([chars.index(c) for c in text], dtype=np.int64)
    V, L, H = len(chars), 2, 4
    E, T, batch = ctx.size(16, 32), ctx.size(16, 32), 8
    steps, lr, warmup, decay, max_norm = ctx.size(150, 300), 3e-3, 30, 0.01, 1.0
    starts = data.char_windows(ctx.rng, len(ids), T, batch, steps)
    batches = [(ids[s[:, None] + np.arange(T)], ids[s[:, None] + np.arange(1, T + 1)]) for s in starts]
    params0 = tb.random_tinygpt_params(ctx.rng, V, E, L, T, std=0.02, dtype=ctx.np_dtype)
    norms_np, norms_t = [], []
    numpy_side = NumpyScheduled(ctx, lambda p: ctx.impl.transformer.TinyGPT(p, H, L), params0,
                                lambda: ctx.impl.optim.AdamW(lr, weight_decay=decay), max_norm,
                                schedule=ctx.impl.schedules.WarmupCosine(lr, warmup, steps),
                                watch=lambda g: norms_np.append(_group_norms(g)))
    torch_side = TorchModel(ctx, lambda: tt.TinyGPT(V, E, H, L, T), params0,
                            lambda ps: topt.adamw(ps, lr=lr, weight_decay=decay), max_norm, tinygpt_arrays,
                            tb.load_tinygpt, make_scheduler=lambda opt: tt.warmup_cosine(opt, warmup, steps),
                            watch=lambda g: norms_t.append(_group_norms(g)))
    key_biases = tuple(f"blocks.{i}.attn.bk" for i in range(L))
    trainer = Trainer(ctx, "TinyGPT char LM, AdamW + warm-up/cosine", numpy_side, torch_side,
                      scales={"gradients": bias_group_scale})
    for batch_ in batches:
        trainer.step(batch_)
    run_ = trainer.finish(note=(f"{steps} steps of {batch} windows of {T} characters; gradients clipped at {max_norm}. "
                                "The gradients are judged as in the three-way check (b_k against b_q's and b_v's)."))
    _key_bias_changes_nothing(ctx, run_, batches[0][0], key_biases)
    start, end, start_t, end_t = run_.loss_drop(first=5, last=20)
    ctx.finding("TinyGPT: the loss falls below 80% of its start on both sides",
                end < 0.8 * start and end_t < 0.8 * start_t,
                f"first 5 steps' mean {start:.3f} → last 20 steps' {end:.3f} (NumPy); {start_t:.3f} → {end_t:.3f} (PyTorch)")
    values.update({"lm-vocab": str(V), "lm-chars": f"{len(ids):,}", "lm-width": str(E), "lm-context": str(T),
                   "lm-batch": str(batch), "lm-steps": str(steps), "lm-lr": sig(lr), "lm-warmup": str(warmup),
                   "lm-decay": sig(decay), "lm-uniform": sig(float(np.log(V)), 3), "lm-loss-start": sig(start, 3),
                   "lm-loss-end": sig(end, 3), "lm-loss-start-torch": sig(start_t, 3), "lm-loss-end-torch": sig(end_t, 3),
                   "lm-params": f"{sum(v.size for v in params0.values()):,}"})
    frame = pd.DataFrame({"step": np.arange(1, len(run_.losses_t) + 1), "loss NumPy": run_.losses_np, "loss torch": run_.losses_t})
    ctx.figure("lm-loss", lambda: plots.loss_per_step(frame))
    norms = (np.array(norms_np[:len(norms_t)]), np.array(norms_t))
    ctx.figure("grad-norms", lambda: _plot_norms(norms))
    final = torch_side.state()
    _samples(ctx, numpy_side, torch_side, final, chars, ids, H, L)
    ascii_run = np.convolve([c.isascii() and c.isprintable() for c in text], np.ones(T), mode="valid")
    at = int(np.argmax(ascii_run))  # the figure's window: the most ASCII one (its fonts have no Hangul)
    _head_map(ctx, torch_side, final, ids[at:at + T], chars, H, L)


def _key_bias_changes_nothing(ctx, run_, x, key_biases):
    """The free-running NumPy model's logits with its own b_k and with b_k = 0: the same (the shift
    q·b_k is the same for every key, and softmax ignores it)."""
    model = run_.numpy.net
    before = model.scores(x)
    for k in key_biases:
        model.params[k][...] = 0.0
    ctx.compare("TinyGPT: the logits do not depend on b_k (set to 0 after training)", model.scores(x), before,
                scale=float(np.abs(before).max()), note="A shift of every key's score by q·b_k: softmax is unchanged; "
                "the logits move by a few ulp of their size.")


def _samples(ctx, numpy_side, torch_side, final, chars, ids, H, L, length=60):
    """Text sampled from both sides at torch's final parameters with the same uniform draws (the
    first character given), and NumPy's next-character probabilities along its sample compared with
    PyTorch's on the same text."""
    net = ctx.impl.transformer.TinyGPT({k: ctx.array(v) for k, v in final.items()}, H, L)
    model, T = torch_side.model, net.context_length
    uniforms = ctx.rng.random(length)

    def draw(probs_of):
        text = [int(ids[0])]
        for u in uniforms:
            p = np.asarray(probs_of(np.array([text[-T:]])), dtype=np.float64)
            cdf = np.cumsum(p)
            text.append(int(min(np.searchsorted(cdf, u * cdf[-1], side="right"), len(cdf) - 1)))
        return text

    def numpy_probs(idx):
        s = net.scores(idx)[0, -1]
        e = np.exp(s - s.max())
        return e / e.sum()

    def torch_probs(idx):
        with torch.no_grad():
            return ctx.numpy(torch.softmax(model(ctx.labels(idx))[0, -1], dim=-1))

    text_np, text_t = draw(numpy_probs), draw(torch_probs)
    window = np.array([text_np[-T - 1:-1]])
    s = net.scores(window)[0]
    probs = np.exp(s - s.max(axis=-1, keepdims=True))
    with torch.no_grad():
        probs_t = torch.softmax(model(ctx.labels(window))[0], dim=-1)
    ctx.compare("TinyGPT after training: next-character probabilities along NumPy's sample vs PyTorch's",
                probs / probs.sum(axis=-1, keepdims=True), probs_t)
    as_text = lambda ix: "".join(chars[i] for i in ix).replace("\n", "⏎")  # noqa: E731
    ctx.table("samples", pd.DataFrame([{"side": "NumPy", "sample": as_text(text_np)},
                                       {"side": "PyTorch", "sample": as_text(text_t)}]))
    ctx.observed("TinyGPT: the two samples are the same text", text_np == text_t)


def _head_map(ctx, torch_side, final, window, chars, H, L):
    """One head's attention over a window of the text, in the last block, after training."""
    net = ctx.impl.transformer.TinyGPT({k: ctx.array(v) for k, v in final.items()}, H, L)
    net.scores(window[None])
    ours = net.blocks[-1].attn.attention_weights[0]  # (n_head, T, T)
    theirs = tt.block_attention_weights(torch_side.model, ctx.labels(window[None]), L - 1)[0]
    ctx.compare("TinyGPT after training: the last block's attention maps (every head) vs PyTorch's", ours, theirs)
    head = int(np.argmax([np.mean(np.max(w, axis=-1)) for w in ours]))
    labels = [{"\n": "⏎", " ": "␣"}.get(chars[i], chars[i] if chars[i].isascii() else "·") for i in window]
    ctx.figure("head-map", lambda: _plot_head(ours[head], labels, head, L - 1))


def _plot_head(weights, labels, head, block):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.2, 4.6))
    ax.imshow(weights, cmap="gray", vmin=0, vmax=max(float(weights.max()), 1e-12))
    ax.set_xticks(range(len(labels)), labels, fontsize=6)
    ax.set_yticks(range(len(labels)), labels, fontsize=6)
    ax.set_xlabel("key (earlier character)")
    ax.set_ylabel("query (character)")
    ax.set_title(f"block {block}, head {head}", fontsize=8)
    return fig


def _plot_norms(norms):
    norms_np, norms_t = norms
    fig, ax = plots.grid(1, 1, size=(6.0, 3.4))
    steps = np.arange(1, len(norms_t) + 1)
    for j, (group, color) in enumerate(zip(GROUPS, ("tab:gray", "tab:blue", "tab:green", "tab:red"))):
        ax[0].plot(steps, norms_np[:, j], color=color, lw=1.2, label=group)
        plots.torch_points(ax[0], steps, norms_t[:, j], color=color, label=None)
    ax[0].set_yscale("log")
    ax[0].set_xlabel("step")
    ax[0].set_ylabel("‖gradient‖ (after clipping)")
    ax[0].legend(fontsize=7)
    return fig
