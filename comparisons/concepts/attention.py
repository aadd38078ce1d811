"""Attention: the book's chapter 8 layers and its seq2seq with attention on dates, scaled dot-product
attention with masks, multi-head attention in NumPy's and PyTorch's weight layouts — against
F.scaled_dot_product_attention, nn.MultiheadAttention and autograd."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

import torch_ref.attention as ta

from .. import data, pairs
from .. import transformer_bridge as tb
from ..lockstep import Trainer, flat
from ..pairs.mha import random_mha
from ..sides.transformer import NumpyScheduled, Seq2seqNet, TorchModel, load_seq2seq, seq2seq_arrays
from ..site.numbers import sig

PAIRS = [("function", "attention"), ("layer", "mha"), ("function", "mha"), ("layer", "weight-sum"),
         ("layer", "attention-weight"), ("layer", "attention"), ("layer", "time-attention")]
N, T, E, HEADS = 2, 6, 12, 3


def run(ctx):
    values = {}
    _pairs(ctx, values)
    _layouts(ctx, values)
    _masks(ctx, values)
    _scale(ctx, values)
    _date_task(ctx, values)
    for name, value in values.items():
        ctx.value(name, value)


def _pairs(ctx, values):
    """Every attention pair through its declaration (``pairs.check``): forward and backward."""
    rows = []
    for kind, pid in PAIRS:
        pair = pairs.get(kind, pid)
        start = len(ctx.records)
        pairs.check(ctx, pair, pair.scratch_object(ctx.impl), prefix=f"{pid} ({kind}): ")
        recs = ctx.records[start:]
        rows.append({"pair": f"{kind} {pid}", "checks": len(recs), "passed": sum(r.passed for r in recs),
                     "largest abs. error": max(r.max_abs_err for r in recs)})
    ctx.table("pairs", pd.DataFrame(rows))
    values["pairs-worst"] = sig(max(r["largest abs. error"] for r in rows), 2)


# --- the two weight layouts -----------------------------------------------------------------------------


def _layouts(ctx, values):
    """in_proj_weight (3E, E) = [Wqᵀ; Wkᵀ; Wvᵀ], exactly; the (out, in) block used as (in, out) differs."""
    params = random_mha(ctx, E)
    mha = tb.load_mha(ta.multihead_attention(E, HEADS, ctx.torch_dtype), params).to(ctx.device)
    named = tb.module_arrays(mha)
    ctx.compare("in_proj_weight (3E, E) = [Wqᵀ; Wkᵀ; Wvᵀ], stacked in the rows (bitwise)", named["in_proj_weight"],
                np.concatenate([params[k].T for k in ("Wq", "Wk", "Wv")]))
    ctx.compare("in_proj_bias (3E,) = [bq, bk, bv] and out_proj.weight = Woᵀ (bitwise)",
                np.concatenate([named["in_proj_bias"], named["out_proj.weight"].ravel()]),
                np.concatenate([params["bq"], params["bk"], params["bv"], params["Wo"].T.ravel()]))
    x = ctx.array(ctx.rng.normal(size=(N, T, E)))
    with torch.no_grad():
        q_t, _, _ = ta.in_projections(mha, ctx.tensor(x))
    rel = ctx.compare("x Wq + bq = F.linear(x, in_proj_weight[:E], in_proj_bias[:E])", x @ params["Wq"] + params["bq"], q_t)
    wrong = x @ named["in_proj_weight"][:E] + params["bq"]
    ctx.differs("x · in_proj_weight[:E] (the (out, in) block used as if it were (in, out))", wrong, q_t, relation=rel)
    values["layout-error"] = sig(float(np.max(np.abs(wrong - ctx.numpy(q_t)))), 2)
    packed = tb.separate_to_packed(params)
    MHA = ctx.impl.attention.MultiHeadAttention
    ctx.compare("MultiHeadAttention with PyTorch's packed keys = with separate Wq, Wk, Wv",
                MHA(packed, HEADS).forward(x), MHA(params, HEADS).forward(x))


# --- masks ----------------------------------------------------------------------------------------------


def _masks(ctx, values):
    params = random_mha(ctx, E)
    x, dout = ctx.array(ctx.rng.normal(size=(N, T, E))), ctx.array(ctx.rng.normal(size=(N, T, E)))
    layer = ctx.impl.attention.MultiHeadAttention(params, HEADS)
    layer.forward(x, is_causal=True)
    mha = tb.load_mha(ta.multihead_attention(E, HEADS, ctx.torch_dtype), params).to(ctx.device)
    _, w_t, _, _ = ta.mha_forward_backward(mha, ctx.tensor(x), None, ctx.tensor(dout),
                                           attn_mask=ta.causal_attn_mask(T, device=ctx.device), is_causal=True)
    ctx.compare("causal attention weights of every head vs nn.MultiheadAttention(need_weights=True)",
                layer.attention_weights, w_t)
    future = ~ctx.impl.attention.causal_mask(T)
    ours_future, theirs_future = layer.attention_weights[..., future], ctx.numpy(w_t)[..., future]
    ctx.finding("causal mask: every future position gets weight exactly 0, on both sides",
                bool(np.all(ours_future == 0) and np.all(theirs_future == 0)),
                f"{ours_future.size} weights (query i, key j > i) in {N} sequences × {HEADS} heads: all 0.0 on both sides")
    values["causal-zeros"] = str(ours_future.size)

    keep = np.random.default_rng(0).random((T, T)) < 0.6  # MHA's boolean mask is SDPA's negated
    keep[np.arange(T), np.arange(T)] = True
    ours = layer.forward(x, mask=keep)
    with torch.no_grad():
        theirs, _ = mha(ctx.tensor(x), ctx.tensor(x), ctx.tensor(x), attn_mask=ta.mha_mask(torch.as_tensor(keep)),
                        need_weights=False)
        as_is, _ = mha(ctx.tensor(x), ctx.tensor(x), ctx.tensor(x), attn_mask=torch.as_tensor(keep), need_weights=False)
    rel = ctx.compare("nn.MultiheadAttention(attn_mask = ¬keep) = the NumPy layer with keep (True = may attend)", ours,
                      theirs)
    ctx.differs("nn.MultiheadAttention given SDPA's keep-mask as it is (True read as 'blocked')", ours, as_is, relation=rel)
    _mask_value(ctx, values)


def _mask_value(ctx, values):
    """−1e10 in place of the masked scores against −∞: the same wherever a row keeps a key; a fully
    masked row gets uniform weights (the mean of the values) with −1e10, weights 0 with −∞."""
    d = 4
    q, k, v = (ctx.array(ctx.rng.normal(size=(N, HEADS, T, d))) for _ in range(3))
    sdpa = ctx.impl.attention.scaled_dot_product_attention
    ours, _ = sdpa(q, k, v, is_causal=True, mask_value=-1e10)
    with torch.no_grad():
        ref = ta.sdpa(ctx.tensor(q), ctx.tensor(k), ctx.tensor(v), is_causal=True)
    rec = ctx.compare("causal mask by −1e10 (replacing the scores) = F.scaled_dot_product_attention(is_causal=True) (−∞)",
                      ours, ref)
    values["minus-1e10-error"] = sig(rec.max_abs_err, 2)
    keep = ctx.impl.attention.causal_mask(T)
    keep[2] = False  # a query that may see nothing (e.g. a padded position)
    ours_1e10, _ = sdpa(q, k, v, mask=keep, mask_value=-1e10)
    ours_inf, _ = sdpa(q, k, v, mask=keep)
    kt = torch.as_tensor(keep, device=ctx.device)
    with torch.no_grad():
        replaced = ta.masked_attention(ctx.tensor(q), ctx.tensor(k), ctx.tensor(v), kt, mask_value=-1e10)
        ref = ta.sdpa(ctx.tensor(q), ctx.tensor(k), ctx.tensor(v), attn_mask=kt)
    rel = ctx.compare("a fully masked row with −1e10: uniform weights, the mean of the values (vs masked_fill(−1e10) "
                      "in PyTorch)", ours_1e10[..., 2, :], replaced[..., 2, :])
    ctx.compare("the same row is the mean of the values", ours_1e10[..., 2, :], v.mean(axis=-2))
    ctx.differs("a fully masked row: −1e10 (the mean of the values) vs −∞ (F.scaled_dot_product_attention: 0)",
                ours_1e10[..., 2, :], ref[..., 2, :], relation=rel)
    values["masked-row-gap"] = sig(float(np.max(np.abs(ours_1e10[..., 2, :]))), 2)
    safe = tuple(int(p) for p in torch.__version__.split(".")[:2]) >= (2, 5)
    if safe:  # PyTorch < 2.5 returns NaN there (pytorch#133882)
        ctx.compare("a fully masked row with −∞: weights 0, output 0, as F.scaled_dot_product_attention (PyTorch ≥ 2.5)",
                    ours_inf, ref)
    with torch.no_grad():
        nan_row = ta.masked_attention(ctx.tensor(q), ctx.tensor(k), ctx.tensor(v), kt)[..., 2, :]
    ctx.finding("masked_fill(−∞) then softmax (nanoGPT's form) gives NaN on a fully masked row: 0/0",
                bool(torch.isnan(nan_row).all()))


# --- the book's unscaled score ---------------------------------------------------------------------------


def _scale(ctx, values):
    """The book's TimeAttention is SDPA with scale 1; with its hidden size H = 256 the unscaled scores
    saturate the softmax."""
    H = 256
    hs_enc = ctx.array(np.tanh(ctx.rng.normal(size=(N, 7, H))))
    hs_dec = ctx.array(np.tanh(ctx.rng.normal(size=(N, 5, H))))
    book = ctx.impl.attention.TimeAttention()
    out = book.forward(hs_enc, hs_dec)
    with torch.no_grad():
        unscaled = ta.time_attention(ctx.tensor(hs_enc), ctx.tensor(hs_dec))
        scaled = ta.sdpa(ctx.tensor(hs_dec), ctx.tensor(hs_enc), ctx.tensor(hs_enc))
    rel = ctx.compare("the book's TimeAttention = F.scaled_dot_product_attention(hs_dec, hs_enc, hs_enc, scale=1)", out,
                      unscaled)
    ctx.differs("the book's unscaled score vs SDPA's default scale 1/√H", out, scaled, relation=rel)
    w1 = np.stack(book.attention_weights, axis=1)
    _, cache = ctx.impl.attention.scaled_dot_product_attention(hs_dec, hs_enc, hs_enc)
    values.update({"scale-H": str(H), "scale-top-unscaled": sig(float(w1.max(axis=-1).mean()), 3),
                   "scale-top-scaled": sig(float(cache["weights"].max(axis=-1).mean()), 3)})


# --- the book's date task: seq2seq with attention -----------------------------------------------------------

SOURCE = 18  # characters: the longest source of the four styles used ("September 27, 1994")


def _date_data(ctx, n):
    """``n`` date pairs as id arrays: the source written out, padded to SOURCE and reversed (the book's
    ``is_reverse``), the target '_' + the ISO date (11 ids, '_' the start symbol)."""
    styles = data.DATE_FORMATS[:3] + data.DATE_FORMATS[4:]  # the weekday style (29 characters) is left out
    old = data.DATE_FORMATS
    try:
        data.DATE_FORMATS = styles
        pairs_ = data.dates(ctx.rng, n)
    finally:
        data.DATE_FORMATS = old
    chars = sorted(set("".join(s + t for s, t in pairs_)) | {" ", "_"} | set("0123456789-"))
    ix = {c: i for i, c in enumerate(chars)}
    src = np.array([[ix[c] for c in s.ljust(SOURCE)][::-1] for s, _ in pairs_], dtype=np.int64)
    tgt = np.array([[ix[c] for c in "_" + t] for _, t in pairs_], dtype=np.int64)
    return src, tgt, chars, pairs_


def _seq2seq_params(ctx, V, D, H):
    """The book's initial weights from the run's generator: embeddings N(0, 1)/100, Wx N(0, 1)/√D,
    Wh N(0, 1)/√H, b 0, the affine's W N(0, 1)/√(2H), b 0."""
    def normal(shape, scale):
        return ctx.array(ctx.rng.standard_normal(shape) / scale)

    params = {}
    for part in ("encoder", "decoder"):
        params.update({f"{part}.embed.W": normal((V, D), 100), f"{part}.Wx": normal((D, 4 * H), np.sqrt(D)),
                       f"{part}.Wh": normal((H, 4 * H), np.sqrt(H)), f"{part}.b": ctx.array(np.zeros(4 * H))})
    params.update({"decoder.affine.W": normal((2 * H, V), np.sqrt(2 * H)), "decoder.affine.b": ctx.array(np.zeros(V))})
    return params


def _date_task(ctx, values):
    # 400 steps at a learning rate of 0.03: every date written right at 8 of 8 random seeds tried (PyTorch alone);
    # at 260 steps and 0.015 some runs were still on the plateau before the attention locks on
    D, H, batch, steps, lr, n_test = 16, ctx.size(24, 48), ctx.size(16, 32), ctx.size(60, 400), 0.03, ctx.size(40, 200)
    src, tgt, chars, written = _date_data(ctx, batch * steps + n_test)
    V = len(chars)
    params0 = _seq2seq_params(ctx, V, D, H)
    numpy_side = NumpyScheduled(ctx, lambda p: Seq2seqNet(ctx.impl, p), params0, lambda: ctx.impl.optim.Adam(lr), 5.0)
    torch_side = TorchModel(ctx, lambda: ta.AttentionSeq2seq(V, D, H), params0, lambda ps: torch.optim.Adam(ps, lr=lr),
                            5.0, seq2seq_arrays, load_seq2seq)
    trainer = Trainer(ctx, "date task (seq2seq with attention), Adam", numpy_side, torch_side)
    for k in range(steps):
        trainer.step((src[k * batch:(k + 1) * batch], tgt[k * batch:(k + 1) * batch]))
    run_ = trainer.finish(note=f"{steps} steps of {batch} dates; gradients clipped at 5 (the book's max_grad).")
    test = slice(batch * steps, batch * steps + n_test)
    acc_np, acc_t = _accuracy(ctx, numpy_side, torch_side, src[test], tgt[test], chars)
    values.update({"date-lr": sig(lr), "date-steps": str(steps), "date-batch": str(batch), "date-hidden": str(H), "date-vocab": str(V),
                   "date-test": str(n_test), "date-right-numpy": str(round(acc_np * n_test)), "date-right-torch": str(round(acc_t * n_test)),
                   "date-loss-start": sig(float(np.mean(run_.losses_t[:5])), 3),
                   "date-loss-end": sig(float(np.mean(run_.losses_t[-10:])), 3),
                   "date-example": f"{written[0][0]} → {written[0][1]}"})
    ctx.observed("date task: both sides write at least half of the held-out dates right", min(acc_np, acc_t) >= 0.5)
    if run_.free_running:
        gap = float(np.max(np.abs(flat(run_.params_np) - flat(run_.params_t))))
        values["date-free-gap"] = sig(gap, 2)
        ctx.observed("date task: the free-running runs stay within float64's training tolerance", run_.parting is None)
    _date_map(ctx, numpy_side, torch_side, src[test][:1], tgt[test][:1], chars, written[test.start][0])


def _accuracy(ctx, numpy_side, torch_side, src, tgt, chars):
    """Greedy decoding of every held-out source on both sides from the final parameters (torch's,
    loaded into the NumPy model): the fraction of dates written exactly right by each; the scores along
    NumPy's decoded path compared with PyTorch's on the same inputs."""
    numpy_side.load(torch_side.state())
    model, start = numpy_side.net.model, chars.index("_")
    ours = np.array([model.generate(s[None], start, tgt.shape[1] - 1) for s in src])
    theirs = np.array([torch_side.model.generate(ctx.labels(s[None]), start, tgt.shape[1] - 1) for s in src])
    path = np.concatenate([tgt[:, :1], ours], axis=1)  # NumPy's decoded path, scored teacher-forced by both
    scores = model.decoder.forward(path[:, :-1], model.encoder.forward(src))
    with torch.no_grad():
        t_model = torch_side.model
        enc = t_model.encode(ctx.labels(src))
        h0 = enc[:, -1][None]
        scores_t, _ = t_model.decode(ctx.labels(path[:, :-1]), enc, (h0, torch.zeros_like(h0)))
    ctx.compare("date task: decoder scores along NumPy's greedy answers vs PyTorch's on the same inputs", scores, scores_t,
                scale=float(np.abs(ctx.numpy(scores_t)).max()))
    return float(np.mean(np.all(ours == tgt[:, 1:], axis=1))), float(np.mean(np.all(theirs == tgt[:, 1:], axis=1)))


def _date_map(ctx, numpy_side, torch_side, src, tgt, chars, written):
    """The decoder's attention over the source while it writes the answer (the book's Fig. 8-26)."""
    model = numpy_side.net.model
    model.forward(src, tgt)
    ours = np.stack(model.decoder.attention.attention_weights, axis=1)[0]  # (T_dec, T_enc)
    theirs = ta.seq2seq_attention_map(torch_side.model, ctx.labels(src), ctx.labels(tgt))[0]
    ctx.compare("date task: the attention map (decoder step × source character) vs PyTorch's", ours, theirs)
    source = [chars[i] for i in src[0][::-1]]  # back in reading order
    ctx.figure("date-attention", lambda: _plot_map(ours[:, ::-1], source, [chars[i] for i in tgt[0][1:]], written))


def _plot_map(weights, source, target, written):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.imshow(weights, cmap="gray", vmin=0, vmax=max(float(weights.max()), 1e-12), aspect="auto")
    ax.set_xticks(range(len(source)), [c if c != " " else "␣" for c in source])
    ax.set_yticks(range(len(target)), target)
    ax.set_xlabel(f"source: {written!r} (NumPy's weights; PyTorch's equal)")
    ax.set_ylabel("output")
    return fig
