"""The transformer as PyTorch provides it: ``nn.TransformerEncoderLayer`` used with a causal
mask (a decoder-only block), a tiny GPT built from it, and AdamW with a warm-up + cosine schedule.

``nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout=0, activation='gelu',
batch_first=True, norm_first=…)`` computes (``torch/nn/modules/transformer.py``):

    norm_first=True  (pre-LN):   x = x + SA(norm1(x));   x = x + FF(norm2(x))
    norm_first=False (post-LN):  x = norm1(x + SA(x));   x = norm2(x + FF(x))
    SA = self_attn (nn.MultiheadAttention, packed in_proj_weight (3E, E)), FF(x) = linear2(gelu(linear1(x)))

called as ``layer(x, src_mask=causal, is_causal=True)`` (the mask is required; is_causal is a hint).
In training mode with gradients on, it runs this Python path (its fused "fast path" is for inference).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def encoder_layer(d_model: int, nhead: int, dim_feedforward: int, norm_first: bool = True, dtype=torch.float64,
                  approximate: str = "none", eps: float = 1e-5) -> nn.TransformerEncoderLayer:
    """``nn.TransformerEncoderLayer`` with dropout 0, GELU (``activation='gelu'``, the erf form; for
    ``approximate='tanh'`` the module ``nn.GELU(approximate='tanh')``), batch first, pre-LN or post-LN."""
    activation = "gelu" if approximate == "none" else nn.GELU(approximate=approximate)
    return nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout=0.0, activation=activation,
                                      layer_norm_eps=eps, batch_first=True, norm_first=norm_first, dtype=dtype)


def causal_mask(size: int, dtype=torch.float64) -> torch.Tensor:
    """``nn.Transformer.generate_square_subsequent_mask``: (T, T), −inf above the diagonal, 0 elsewhere."""
    return nn.Transformer.generate_square_subsequent_mask(size, dtype=dtype)


def block_forward_backward(layer: nn.TransformerEncoderLayer, x: torch.Tensor, dout: torch.Tensor, causal: bool = True):
    """Run the layer on a leaf copy of x (N, T, E) with the causal mask (or none) and backpropagate
    ``dout``: (out, dx); parameter gradients are left in ``.grad``."""
    layer.zero_grad()
    x = x.detach().clone().requires_grad_(True)
    mask = causal_mask(x.shape[1], x.dtype) if causal else None
    out = layer(x, src_mask=mask, is_causal=causal)
    out.backward(dout)
    return out.detach(), x.grad


def sinusoidal_encoding(t_max: int, d_model: int, base: float = 10000.0, dtype=torch.float64) -> torch.Tensor:
    """The 2017 paper's position table (T_max, d_model) as PyTorch's tutorial builds its
    ``PositionalEncoding`` buffer (PyTorch has no module for it):

        div_term = exp(−ln(base) · 2i/d),   pe[:, 0::2] = sin(t · div_term),   pe[:, 1::2] = cos(t · div_term)

    computed in float64 and returned in ``dtype``; an odd d_model ends with a sine column."""
    position = torch.arange(t_max, dtype=torch.float64).unsqueeze(1)
    div_term = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float64) * (-math.log(base) / d_model))
    pe = torch.zeros(t_max, d_model, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(position * div_term)
    pe[:, 1::2] = torch.cos(position * div_term[:d_model // 2])
    return pe.to(dtype)


class TinyGPT(nn.Module):
    """A tiny decoder-only GPT: ``nn.Embedding`` for tokens (wte) and positions (wpe), ``n_layer``
    pre-LN ``nn.TransformerEncoderLayer`` blocks with a causal mask, a final ``nn.LayerNorm``, and a
    bias-free ``nn.Linear(E, V)`` head, whose weight *is* wte's when ``tied`` (GPT-2's weight tying:
    one Parameter, its gradient the sum of both uses). ``eps``: every LayerNorm's (1e-5)."""

    def __init__(self, vocab_size: int, d_model: int, n_head: int, n_layer: int, context_length: int,
                 dim_feedforward: int | None = None, tied: bool = False, norm_first: bool = True,
                 dtype=torch.float64, approximate: str = "none", eps: float = 1e-5):
        super().__init__()
        self.wte = nn.Embedding(vocab_size, d_model, dtype=dtype)
        self.wpe = nn.Embedding(context_length, d_model, dtype=dtype)
        self.blocks = nn.ModuleList(encoder_layer(d_model, n_head, dim_feedforward or 4 * d_model, norm_first, dtype,
                                                  approximate, eps) for _ in range(n_layer))
        self.ln_f = nn.LayerNorm(d_model, eps=eps, dtype=dtype)
        self.head = nn.Linear(d_model, vocab_size, bias=False, dtype=dtype)
        if tied:
            self.head.weight = self.wte.weight
        self.register_buffer("mask", causal_mask(context_length, dtype), persistent=False)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        """Logits (N, T, V) for the next token after each of idx (N, T)."""
        T = idx.shape[1]
        h = self.wte(idx) + self.wpe(torch.arange(T, device=idx.device))
        for block in self.blocks:
            h = block(h, src_mask=self.mask[:T, :T], is_causal=True)
        return self.head(self.ln_f(h))

    def loss(self, idx: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """The mean cross-entropy of the next tokens over all N·T positions."""
        logits = self(idx)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))

    @torch.no_grad()
    def generate(self, idx: torch.Tensor, n_new: int, generator: torch.Generator | None = None,
                 temperature: float = 1.0) -> torch.Tensor:
        """Append ``n_new`` tokens drawn with ``torch.multinomial`` from softmax(logits/temperature)
        of the last position (the last ``context_length`` tokens as context)."""
        T_max = self.wpe.num_embeddings
        for _ in range(n_new):
            logits = self(idx[:, -T_max:])[:, -1] / temperature
            nxt = torch.multinomial(torch.softmax(logits, dim=-1), 1, generator=generator)
            idx = torch.cat([idx, nxt], dim=1)
        return idx


@torch.no_grad()
def block_attention_weights(model: TinyGPT, idx: torch.Tensor, block: int) -> torch.Tensor:
    """Every head's attention weights (N, n_head, T, T) in block ``block`` of ``model`` on idx (N, T):
    the block's ``self_attn`` called again on its (normalised) input with ``need_weights=True,
    average_attn_weights=False`` (inside the block it runs with ``need_weights=False`` and keeps none)."""
    T = idx.shape[1]
    h = model.wte(idx) + model.wpe(torch.arange(T, device=idx.device))
    for layer in model.blocks[:block]:
        h = layer(h, src_mask=model.mask[:T, :T], is_causal=True)
    layer = model.blocks[block]
    z = layer.norm1(h) if layer.norm_first else h
    _, weights = layer.self_attn(z, z, z, attn_mask=model.mask[:T, :T], need_weights=True, average_attn_weights=False)
    return weights


def warmup_cosine_factor(warmup_steps: int, total_steps: int, min_ratio: float = 0.0):
    """The factor of η₀ at step t: (t + 1)/W during the warm-up, then min_ratio + (1 − min_ratio)·½(1 +
    cos(π(t − W)/(T − W))) up to T, min_ratio after (min_ratio = η_min/η₀)."""
    def factor(t: int) -> float:
        if t < warmup_steps:
            return (t + 1) / warmup_steps
        if t > total_steps:
            return min_ratio
        return min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * (t - warmup_steps) / (total_steps - warmup_steps)))
    return factor


def warmup_cosine(optimizer, warmup_steps: int, total_steps: int, min_lr: float = 0.0):
    """Linear warm-up then cosine decay as ``LambdaLR`` (hand math on the torch side: PyTorch has no
    single scheduler for it). Stepped once per optimizer step."""
    base = optimizer.param_groups[0]["lr"]
    return torch.optim.lr_scheduler.LambdaLR(optimizer, warmup_cosine_factor(warmup_steps, total_steps, min_lr / base))


def warmup_cosine_sequential(optimizer, warmup_steps: int, total_steps: int, min_lr: float = 0.0):
    """The same schedule from PyTorch's own pieces: ``SequentialLR(LinearLR(start_factor=1/W,
    total_iters=W − 1), CosineAnnealingLR(T_max=T − W, eta_min=min_lr), milestones=[W])``.
    LinearLR's factor 1/W + (1 − 1/W)·t/(W − 1) is (t + 1)/W; the cosine (computed recursively
    from the previous lr) rises again after T instead of staying at min_lr."""
    if warmup_steps == 0:
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps, eta_min=min_lr)
    linear = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=1.0 / warmup_steps, end_factor=1.0,
                                               total_iters=max(warmup_steps - 1, 1))
    cosine = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps - warmup_steps, eta_min=min_lr)
    return torch.optim.lr_scheduler.SequentialLR(optimizer, [linear, cosine], milestones=[warmup_steps])


def train_step(model: TinyGPT, optimizer: torch.optim.Optimizer, scheduler, idx, targets) -> float:
    """One step as a PyTorch training loop writes it: zero_grad, loss, backward, optimizer.step(),
    scheduler.step() (after the optimizer, once per step). Returns the loss."""
    optimizer.zero_grad()
    loss = model.loss(idx, targets)
    loss.backward()
    optimizer.step()
    scheduler.step()
    return loss.item()
