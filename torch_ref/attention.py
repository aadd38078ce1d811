"""Attention as PyTorch provides it: ``F.scaled_dot_product_attention``, ``nn.MultiheadAttention``
(batch first), and the book's seq2seq with attention as an ``nn.Module``.

    F.scaled_dot_product_attention(q, k, v, attn_mask, is_causal, scale)
        = softmax(q kᵀ · scale + bias) v,  scale = 1/√d unless given; a boolean attn_mask is True
          where a query may attend (False → −∞ in bias); is_causal masks key j > query i (top-left
          aligned, also for T_q ≠ T_k); attn_mask and is_causal together are an error.

    nn.MultiheadAttention(E, n_head, batch_first=True):
        [q; k; v] = x · in_proj_weightᵀ + in_proj_bias,  in_proj_weight (3E, E) = the three (out, in)
        projections stacked in the rows; each head h of d_h = E/n_head columns attends on its own;
        out = concat(heads) · out_proj.weightᵀ + out_proj.bias.
        Its boolean ``attn_mask`` is the *opposite* of SDPA's: True = NOT allowed to attend.
        ``is_causal=True`` is only a hint: the module still needs the causal ``attn_mask`` itself.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .recurrent import one_bias


def sdpa(q, k, v, attn_mask=None, is_causal: bool = False, scale=None) -> torch.Tensor:
    """``F.scaled_dot_product_attention(q, k, v, attn_mask, is_causal=…, scale=…)`` (no dropout)."""
    return F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, is_causal=is_causal, scale=scale)


def sdpa_forward_backward(q, k, v, dout, attn_mask=None, is_causal: bool = False, scale=None):
    """:func:`sdpa` on leaf copies of q, k, v, backpropagating ``dout``: (out, dq, dk, dv)."""
    q, k, v = (t.detach().clone().requires_grad_(True) for t in (q, k, v))
    out = sdpa(q, k, v, attn_mask, is_causal, scale)
    out.backward(dout)
    return out.detach(), q.grad, k.grad, v.grad


def masked_attention(q, k, v, keep, scale=None, mask_value: float = float("-inf")) -> torch.Tensor:
    """softmax(q kᵀ · scale with the scores where ``keep`` is False *replaced* by ``mask_value``) v,
    as nanoGPT writes it (``att.masked_fill(mask == 0, float('-inf'))``) and Hugging Face's GPT-2
    (``torch.where(mask, att, torch.finfo(dtype).min)``). With −∞ a fully masked row is 0/0 = NaN
    here (``F.scaled_dot_product_attention`` defines it as 0); with a finite value such as −1e10 its
    weights are uniform (the mean of the values)."""
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    scores = (q @ k.transpose(-2, -1)) * scale
    return torch.softmax(scores.masked_fill(~keep, mask_value), dim=-1) @ v


def attention_weights(q, k, keep=None, scale=None) -> torch.Tensor:
    """The attention map softmax(q kᵀ · scale, masked) (…, T_q, T_k) that ``F.scaled_dot_product_attention``
    uses but does not return; ``keep`` (bool, True = attend) sets the other scores to −∞."""
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    scores = (q @ k.transpose(-2, -1)) * scale
    return torch.softmax(scores if keep is None else scores.masked_fill(~keep, float("-inf")), dim=-1)


def weight_sum(hs: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    """The book's ``WeightSum`` as one batched product: c = Σₜ aₜ hsₜ, hs (N, T, H), a (N, T) → (N, H)."""
    return torch.bmm(a.unsqueeze(1), hs).squeeze(1)


def attention_weight(hs: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """The book's ``AttentionWeight``: a = softmax(hs · h) over the T encoder states (no scaling),
    hs (N, T, H), h (N, H) → (N, T)."""
    return torch.softmax(torch.bmm(hs, h.unsqueeze(2)).squeeze(2), dim=1)


def book_attention(hs: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """The book's ``Attention`` (weights, then their weighted sum) as ``F.scaled_dot_product_attention``
    with one query h (N, 1, H), keys = values = hs and ``scale=1``: the context (N, H)."""
    return F.scaled_dot_product_attention(h.unsqueeze(1), hs, hs, scale=1.0).squeeze(1)


def time_attention(hs_enc: torch.Tensor, hs_dec: torch.Tensor) -> torch.Tensor:
    """The book's ``TimeAttention``: every decoder state attends over the encoder's,
    ``F.scaled_dot_product_attention(hs_dec, hs_enc, hs_enc, scale=1)`` (N, T_dec, H)."""
    return F.scaled_dot_product_attention(hs_dec, hs_enc, hs_enc, scale=1.0)


def multihead_attention(embed_dim: int, num_heads: int, dtype=torch.float64, kdim=None, vdim=None) -> nn.MultiheadAttention:
    """``nn.MultiheadAttention(E, n_head, batch_first=True)`` (dropout 0, with biases) in ``dtype``.
    With kdim/vdim ≠ E it keeps separate q_proj_weight, k_proj_weight, v_proj_weight instead of in_proj_weight."""
    return nn.MultiheadAttention(embed_dim, num_heads, batch_first=True, kdim=kdim, vdim=vdim, dtype=dtype)


def in_projections(mha: nn.MultiheadAttention, x: torch.Tensor) -> tuple:
    """q, k, v of self-attention as ``nn.MultiheadAttention`` computes them from its packed weights:
    ``F.linear(x, in_proj_weight[iE:(i+1)E], in_proj_bias[iE:(i+1)E])`` for i = 0, 1, 2."""
    E = mha.embed_dim
    return tuple(F.linear(x, mha.in_proj_weight[i * E:(i + 1) * E], mha.in_proj_bias[i * E:(i + 1) * E])
                 for i in range(3))


def seq2seq_attention_map(model: "AttentionSeq2seq", xs: torch.Tensor, ts: torch.Tensor) -> torch.Tensor:
    """The weights (N, T_dec, T_enc) the decoder of ``model`` puts on the encoder's states while it
    reads ts[:, :-1] (teacher forcing): softmax(dec_hs · enc_hsᵀ) over the source positions."""
    with torch.no_grad():
        enc_hs = model.encode(xs)
        h0 = enc_hs[:, -1][None]
        dec_hs, _ = model.dec_lstm(model.dec_embed(ts[:, :-1]), (h0, torch.zeros_like(h0)))
        return attention_weights(dec_hs, enc_hs, scale=1.0)


def mha_mask(keep: torch.Tensor) -> torch.Tensor:
    """A keep-mask (True = attend, SDPA's convention) as ``nn.MultiheadAttention``'s boolean
    ``attn_mask`` (True = masked out): its logical negation."""
    return ~keep


def causal_attn_mask(t_q: int, t_k: int | None = None, device=None) -> torch.Tensor:
    """The causal mask in ``nn.MultiheadAttention``'s boolean form (T_q, T_k): True above the
    diagonal (key j > query i, masked out)."""
    t_k = t_q if t_k is None else t_k
    return torch.ones(t_q, t_k, dtype=torch.bool, device=device).triu(diagonal=1)


def mha_forward_backward(mha: nn.MultiheadAttention, x_q, x_kv, dout, attn_mask=None, is_causal: bool = False):
    """Run ``mha`` (self-attention when x_kv is None) on leaf copies, per-head weights returned,
    and backpropagate ``dout``: (out, weights (N, n_head, T_q, T_k), dx_q, dx_kv or None).
    Parameter gradients are left in ``.grad``."""
    mha.zero_grad()
    x_q = x_q.detach().clone().requires_grad_(True)
    x_kv = None if x_kv is None else x_kv.detach().clone().requires_grad_(True)
    kv = x_q if x_kv is None else x_kv
    out, weights = mha(x_q, kv, kv, attn_mask=attn_mask, is_causal=is_causal, need_weights=True,
                       average_attn_weights=False)
    out.backward(dout)
    return out.detach(), weights.detach(), x_q.grad, None if x_kv is None else x_kv.grad


class AttentionSeq2seq(nn.Module):
    """The book's seq2seq with attention (Deep Learning from Scratch 2, ch. 8), as a PyTorch user writes it:

        encoder:  enc_hs = LSTM(Embedding(xs))                       all hidden states (N, T, H)
        decoder:  dec_hs = LSTM(Embedding(ts[:, :-1]), h₀ = enc_hs[:, −1], c₀ = 0)
                  c = SDPA(dec_hs, enc_hs, enc_hs, scale=1)           the book's unscaled dot-product attention
                  scores = Linear(2H → V)([c, dec_hs])
        loss = cross_entropy(scores, ts[:, 1:]), averaged over all N·T positions

    Each LSTM keeps one trainable bias (``torch_ref.recurrent.one_bias``), as the book's ``b``.
    """

    def __init__(self, vocab_size: int, wordvec_size: int, hidden_size: int):
        super().__init__()
        V, D, H = vocab_size, wordvec_size, hidden_size
        self.enc_embed = nn.Embedding(V, D)
        self.enc_lstm = one_bias(nn.LSTM(D, H, batch_first=True))
        self.dec_embed = nn.Embedding(V, D)
        self.dec_lstm = one_bias(nn.LSTM(D, H, batch_first=True))
        self.affine = nn.Linear(2 * H, V)

    def encode(self, xs: torch.Tensor) -> torch.Tensor:
        enc_hs, _ = self.enc_lstm(self.enc_embed(xs))
        return enc_hs

    def decode(self, xs: torch.Tensor, enc_hs: torch.Tensor, state):
        """Scores (N, T, V) and the LSTM's final (h, c), from ``state`` (h, c), each (1, N, H)."""
        dec_hs, state = self.dec_lstm(self.dec_embed(xs), state)
        c = F.scaled_dot_product_attention(dec_hs, enc_hs, enc_hs, scale=1.0)
        return self.affine(torch.cat([c, dec_hs], dim=2)), state

    def forward(self, xs: torch.Tensor, ts: torch.Tensor) -> torch.Tensor:
        """The mean cross-entropy of ts[:, 1:] given xs and the teacher-forced inputs ts[:, :-1]."""
        enc_hs = self.encode(xs)
        h0 = enc_hs[:, -1][None]
        scores, _ = self.decode(ts[:, :-1], enc_hs, (h0, torch.zeros_like(h0)))
        return F.cross_entropy(scores.reshape(-1, scores.shape[-1]), ts[:, 1:].reshape(-1))

    def loss(self, xs: torch.Tensor, ts: torch.Tensor) -> torch.Tensor:
        """The training loss, ``self(xs, ts)`` (the name ``torch_ref.recurrent.train_step`` calls)."""
        return self(xs, ts)

    @torch.no_grad()
    def generate(self, xs: torch.Tensor, start_id: int, sample_size: int) -> list:
        """Greedy decoding of one sequence xs (1, T): feed each argmax back in."""
        enc_hs = self.encode(xs)
        h0 = enc_hs[:, -1][None]
        state, sample_id, sampled = (h0, torch.zeros_like(h0)), start_id, []
        for _ in range(sample_size):
            scores, state = self.decode(torch.tensor([[sample_id]]), enc_hs, state)
            sample_id = int(scores.argmax())
            sampled.append(sample_id)
        return sampled
