"""The transformer by hand: positional encodings, the pre-LN and post-LN blocks, and a tiny
decoder-only GPT (a character language model), with forward and backward in NumPy.

**Positions.** Attention is blind to order (permuting the keys permutes nothing in the result),
so each position t gets a vector added to its token's embedding: the 2017 paper's fixed
sinusoids, or a learned table (GPT-2's ``wpe``).

**The block** (E the model width, n_head heads, a GELU MLP of width F, usually 4E):

    pre-LN  (GPT-2, ``norm_first=True``):   h = x + MHA(LN₁(x)),        y = h + MLP(LN₂(h))
    post-LN (Vaswani et al. 2017):          h = LN₁(x + MHA(x)),        y = LN₂(h + MLP(h))
    MLP(z) = GELU(z W₁ + b₁) W₂ + b₂

Its backward follows the graph in reverse; a residual connection y = x + f(x) passes the upstream
gradient through unchanged and adds f's: dx = dy + f'(x)ᵀ dy. In the pre-LN block this identity
path runs from the loss to the embeddings untouched by any LayerNorm, which is why it trains
without the warm-up the post-LN block needs.

**TinyGPT**: token embedding + position embedding → n_layer pre-LN blocks (causal) → final
LayerNorm → head (logits over the vocabulary), trained with the mean cross-entropy of the next
token at every position. The head is its own matrix, or the token embedding itself (``tied``:
logits = h·wteᵀ, GPT-2's weight tying), in which case wte's gradient is the sum of both uses.

Everything is batched: one matrix product per linear map for all N·T positions, and the heads of
attention as a stack of (N, n_head) matrices; the only Python loops are over the layers.
"""

from __future__ import annotations

import numpy as np

from ._checks import (as_dout, as_float_array, check_dict, check_flag, check_int, check_ndim,
                      check_positive, check_rng, check_shape)
from .attention import PACKED_KEYS, SEPARATE_KEYS, MultiHeadAttention
from .gradients import numerical_gradient
from .layers import GELU, Layer
from .normalization import LayerNorm
from .sequence import TimeSoftmaxWithLoss
from .sequence_models import Embedding, TimeLinear, _naming, _NextTokenModel


def sinusoidal_positional_encoding(t_max: int, d_model: int, base: float = 10000.0, dtype=np.float64):
    """The 2017 paper's fixed encoding (T_max, d_model):

        PE[t, 2i] = sin(t / base^(2i/d)),    PE[t, 2i + 1] = cos(t / base^(2i/d))

    Each pair of columns is a rotation at its own frequency, so PE[t + k] is a fixed linear map of
    PE[t] for every t: relative positions are easy to read. (An odd d_model ends with a sine column.)
    """
    t_max = check_int(t_max, "t_max", minimum=1)
    d_model = check_int(d_model, "d_model", minimum=1)
    check_positive(base, "base")
    angle = np.arange(t_max)[:, None] / base ** (np.arange(0, d_model, 2) / d_model)
    pe = np.empty((t_max, d_model))
    pe[:, 0::2] = np.sin(angle)
    pe[:, 1::2] = np.cos(angle[:, :d_model // 2])
    return pe.astype(dtype)


class LearnedPositionalEmbedding(Embedding):
    """A learned position table W (T_max, E) (GPT-2's ``wpe``): the embedding of the positions
    0 … T−1, added to its input. forward(x (N, T, E)) = x + W[:T]; backward(dout) = dout, and
    dW[:T] = Σₙ dout (the rows past T get 0)."""

    def __init__(self, W):
        super().__init__(W)
        self._shape = None

    def forward(self, x):
        x = as_float_array(x, "x")
        T_max, E = self.params["W"].shape
        if x.ndim != 3 or x.shape[2] != E or not 1 <= x.shape[1] <= T_max:
            raise ValueError(f"x must have shape (N, T, {E}) with 1 <= T <= T_max = {T_max} (the rows of W), "
                             f"got x{x.shape}")
        self._shape = x.shape
        return x + self.params["W"][:x.shape[1]]

    def backward(self, dout):
        self._need_forward(self._shape)
        dout = as_dout(dout, self._shape)
        dW = np.zeros_like(self.params["W"])
        dW[:self._shape[1]] = dout.sum(axis=0)
        self.grads["W"] = dW
        return dout


# --- the block -------------------------------------------------------------------------------------

BLOCK_KEYS = ("ln1.gamma", "ln1.beta", "ln2.gamma", "ln2.beta", "mlp.W1", "mlp.b1", "mlp.W2", "mlp.b2")


def block_keys(layout: str = "separate") -> tuple:
    """The keys of a block's ``params``: its LayerNorms and MLP, and ``attn.`` + the attention's keys
    (``layout`` 'separate': Wq, bq, …; 'packed': PyTorch's in_proj_weight, …)."""
    attn = {"separate": SEPARATE_KEYS, "packed": PACKED_KEYS}[layout]
    return BLOCK_KEYS + tuple("attn." + k for k in attn)


def _sub(params: dict, prefix: str) -> dict:
    return {k[len(prefix):]: v for k, v in params.items() if k.startswith(prefix)}


class TransformerBlock(Layer):
    """One transformer block on x (N, T, E), pre-LN (``norm_first=True``, GPT-2) or post-LN
    (``norm_first=False``, the 2017 paper) (module docstring); causal self-attention unless
    ``causal=False``. The same computation as ``nn.TransformerEncoderLayer(E, n_head, F, dropout=0,
    activation='gelu', batch_first=True, norm_first=…)`` run with a causal mask.

    ``params`` (the keys of :func:`block_keys`): ln1.gamma/beta and ln2.gamma/beta (E,), the
    attention's under ``attn.`` (either layout of :class:`MultiHeadAttention`), mlp.W1 (E, F),
    mlp.b1 (F,), mlp.W2 (F, E), mlp.b2 (E,). ``eps``: the LayerNorms' (1e-5); ``approximate``: the
    GELU's form. forward(x) → y (N, T, E); backward(dy) → dx, the gradients under the same keys in ``grads``.
    """

    def __init__(self, params: dict, n_head: int, norm_first: bool = True, causal: bool = True, eps: float = 1e-5,
                 approximate: str = "none"):
        super().__init__()
        check_dict(params, "params")
        attn = _sub(params, "attn.")
        expected = set(BLOCK_KEYS) | {"attn." + k for k in attn}
        if set(params) != expected or set(attn) not in (set(SEPARATE_KEYS), set(PACKED_KEYS)):
            raise ValueError(f"params must hold {list(block_keys())} (or the packed attention keys "
                             f"{['attn.' + k for k in PACKED_KEYS]}), got {sorted(params, key=str)}")
        self.norm_first = check_flag(norm_first, "norm_first")
        self.causal = check_flag(causal, "causal")
        self.attn = MultiHeadAttention(attn, n_head)
        check_positive(eps, "eps")
        self.gelu = GELU(approximate)
        with _naming("params"):
            self.ln1 = LayerNorm(params["ln1.gamma"], params["ln1.beta"], eps)
            self.ln2 = LayerNorm(params["ln2.gamma"], params["ln2.beta"], eps)
            self.fc1 = TimeLinear(params["mlp.W1"], params["mlp.b1"])
            self.fc2 = TimeLinear(params["mlp.W2"], params["mlp.b2"])
        E = self.attn.embed_dim
        if self.ln1.params["gamma"].shape != (E,) or self.ln2.params["gamma"].shape != (E,) \
                or self.fc1.params["W"].shape[0] != E or self.fc2.params["W"].shape != self.fc1.params["W"].shape[::-1]:
            raise ValueError(f"params must fit together: ln*.gamma (E,), mlp.W1 (E, F), mlp.W2 (F, E) with E = {E} "
                             f"from the attention; got ln1.gamma{self.ln1.params['gamma'].shape}, "
                             f"ln2.gamma{self.ln2.params['gamma'].shape}, mlp.W1{self.fc1.params['W'].shape}, "
                             f"mlp.W2{self.fc2.params['W'].shape}")
        self._parts = {"ln1.": self.ln1, "ln2.": self.ln2, "attn.": self.attn}
        self._mlp_keys = {"mlp.W1": (self.fc1, "W"), "mlp.b1": (self.fc1, "b"), "mlp.W2": (self.fc2, "W"),
                          "mlp.b2": (self.fc2, "b")}
        self.params = self._collect("params")
        self.grads = self._collect("grads")
        self._x_shape = None

    def _collect(self, what: str) -> dict:
        """The layers' params (or grads) under the block's keys: the layers' own arrays."""
        out = {prefix + k: v for prefix, layer in self._parts.items() for k, v in getattr(layer, what).items()}
        out.update({key: getattr(layer, what)[k] for key, (layer, k) in self._mlp_keys.items()})
        return out

    def _mlp(self, z):
        return self.fc2.forward(self.gelu.forward(self.fc1.forward(z)))

    def _mlp_backward(self, dout):
        return self.fc1.backward(self.gelu.backward(self.fc2.backward(dout)))

    def forward(self, x):
        x = as_float_array(x, "x")
        E = self.attn.embed_dim
        if x.ndim != 3 or x.shape[2] != E:
            raise ValueError(f"TransformerBlock expects x of shape (N, T, {E}) (batch first), got x{x.shape}")
        self._x_shape = x.shape
        if self.norm_first:
            h = x + self.attn.forward(self.ln1.forward(x), is_causal=self.causal)
            return h + self._mlp(self.ln2.forward(h))
        h = self.ln1.forward(x + self.attn.forward(x, is_causal=self.causal))
        return self.ln2.forward(h + self._mlp(h))

    def backward(self, dy):
        self._need_forward(self._x_shape)
        dy = as_dout(dy, self._x_shape)
        if self.norm_first:
            dh = dy + self.ln2.backward(self._mlp_backward(dy))
            dx = dh + self.ln1.backward(self.attn.backward(dh))
        else:
            dz2 = self.ln2.backward(dy)
            dz1 = self.ln1.backward(dz2 + self._mlp_backward(dz2))
            dx = dz1 + self.attn.backward(dz1)
        self.grads = self._collect("grads")
        return dx


# --- TinyGPT ---------------------------------------------------------------------------------------


def tinygpt_keys(n_layer: int, tied: bool = False, layout: str = "separate") -> tuple:
    """The keys of a TinyGPT's ``params``: wte, wpe, blocks.{i}.<block key> for each layer, ln_f.gamma,
    ln_f.beta, and head.W unless the head is tied to wte."""
    keys = ["wte", "wpe"]
    keys += [f"blocks.{i}.{k}" for i in range(n_layer) for k in block_keys(layout)]
    keys += ["ln_f.gamma", "ln_f.beta"] + ([] if tied else ["head.W"])
    return tuple(keys)


class TinyGPT(_NextTokenModel):
    """A tiny decoder-only GPT (module docstring), the book's network interface:

        h₀ = wte[x] + wpe[0:T],   h_l = Block_l(h_{l−1}) (pre-LN, causal),   z = LN_f(h_L)
        logits = z·head.W (untied, head.W (E, V)) or z·wteᵀ (tied),   L = mean CE(logits, t)

    ``params``: wte (V, E), wpe (T_max, E), ``blocks.{i}.`` + the block's keys (:func:`block_keys`),
    ln_f.gamma, ln_f.beta, and head.W (E, V) unless ``tied`` (no head bias, as GPT-2). The layers
    hold these very arrays, so ``optimizer.update(params, grads)`` trains the model.
    loss(x, t) for x, t (N, T) token ids; gradient(x, t) → grads with the keys of params;
    numerical_gradient(x, t) → the same by central differences (slow: two passes per parameter
    element; for tiny configurations); generate(idx, n_new, rng, temperature) → ids.
    ``norm_first=False`` builds post-LN blocks instead (still with the final LayerNorm).
    """

    def __init__(self, params: dict, n_head: int, n_layer: int, tied: bool = False, norm_first: bool = True,
                 eps: float = 1e-5, approximate: str = "none"):
        check_dict(params, "params")
        self.n_layer = check_int(n_layer, "n_layer", minimum=1)
        self.tied = check_flag(tied, "tied")
        layout = "packed" if f"blocks.0.attn.{PACKED_KEYS[0]}" in params else "separate"
        expected = tinygpt_keys(self.n_layer, self.tied, layout)
        if set(params) != set(expected):
            missing, extra = set(expected) - set(params), set(params) - set(expected)
            raise ValueError(f"params must hold the keys of tinygpt_keys(n_layer={self.n_layer}, tied={self.tied}); "
                             f"missing {sorted(missing)[:6]}, unexpected {sorted(extra, key=str)[:6]}")
        with _naming("params"):
            self.tok = Embedding(params["wte"])
            self.pos = LearnedPositionalEmbedding(params["wpe"])
            self.ln_f = LayerNorm(params["ln_f.gamma"], params["ln_f.beta"], eps)
        self.blocks = [TransformerBlock(_sub(params, f"blocks.{i}."), n_head, norm_first, True, eps, approximate)
                       for i in range(self.n_layer)]
        V, E = self.tok.params["W"].shape
        if self.pos.params["W"].shape[1] != E or self.blocks[0].attn.embed_dim != E:
            raise ValueError(f"params must fit together: wte (V, E), wpe (T_max, E), blocks of width E; got "
                             f"wte{params['wte'].shape}, wpe{params['wpe'].shape}, E = {self.blocks[0].attn.embed_dim} "
                             f"in the blocks")
        if not self.tied:
            self.head_W = as_float_array(params["head.W"], "params['head.W']")
            check_shape(self.head_W, (E, V), "params['head.W']", " (E, V) from wte")
        self.loss_layer = TimeSoftmaxWithLoss(ignore_label=None)
        self.params = self._collect_params()

    def _collect_params(self) -> dict:
        p = {"wte": self.tok.params["W"], "wpe": self.pos.params["W"]}
        for i, block in enumerate(self.blocks):
            p.update({f"blocks.{i}.{k}": v for k, v in block.params.items()})
        p.update({"ln_f.gamma": self.ln_f.params["gamma"], "ln_f.beta": self.ln_f.params["beta"]})
        if not self.tied:
            p["head.W"] = self.head_W
        return p

    @property
    def context_length(self) -> int:
        return self.pos.params["W"].shape[0]

    @property
    def vocab_size(self) -> int:
        return self.tok.params["W"].shape[0]

    def scores(self, x_idx):
        """Logits (N, T, V) for the next token after each of x_idx (N, T)."""
        x_idx = np.asarray(x_idx)
        check_ndim(x_idx, 2, "x_idx", "(N, T) of token ids")
        if not 1 <= x_idx.shape[1] <= self.context_length:
            raise ValueError(f"x_idx must have 1 <= T <= {self.context_length} (the context length: rows of wpe), "
                             f"got x_idx{x_idx.shape}")
        h = self.pos.forward(self.tok.forward(x_idx))
        for block in self.blocks:
            h = block.forward(h)
        z = self.ln_f.forward(h)
        self._z = z
        W = self.tok.params["W"].T if self.tied else self.head_W
        return (z.reshape(-1, z.shape[2]) @ W).reshape(z.shape[:2] + (W.shape[1],))

    def backward(self) -> dict:
        dlogits = self.loss_layer.backward(1.0)
        z = self._z
        E = z.shape[2]
        d2, z2 = dlogits.reshape(-1, dlogits.shape[2]), z.reshape(-1, E)
        W = self.tok.params["W"].T if self.tied else self.head_W
        dW_head = z2.T @ d2  # (E, V)
        dh = self.ln_f.backward((d2 @ W.T).reshape(z.shape))
        for block in reversed(self.blocks):
            dh = block.backward(dh)
        self.tok.backward(self.pos.backward(dh))
        grads = {"wte": self.tok.grads["W"], "wpe": self.pos.grads["W"]}
        for i, block in enumerate(self.blocks):
            grads.update({f"blocks.{i}.{k}": v for k, v in block.grads.items()})
        grads.update({"ln_f.gamma": self.ln_f.grads["gamma"], "ln_f.beta": self.ln_f.grads["beta"]})
        if self.tied:
            grads["wte"] = grads["wte"] + dW_head.T  # wte is used twice: the sum of both gradients
        else:
            grads["head.W"] = dW_head
        return grads

    def numerical_gradient(self, x, t, h: float = 1e-5) -> dict:
        """Central differences of the loss for every element of every parameter (``scratch.gradients``).
        Each array is perturbed in place, so a tied wte moves in both its uses."""
        return {k: numerical_gradient(lambda _: self.loss(x, t), p, h) for k, p in self.params.items()}

    def generate(self, idx, n_new: int, rng, temperature: float = 1.0):
        """Append ``n_new`` sampled tokens to idx (N, T₀): at each step the logits of the last
        position (the last T_max tokens as context) are divided by ``temperature``, softmaxed, and
        one token per row is drawn from them with ``rng`` (inverse CDF on one uniform number per
        row). Returns the ids (N, T₀ + n_new)."""
        idx = np.asarray(idx)
        check_ndim(idx, 2, "idx", "(N, T0) of token ids")
        n_new = check_int(n_new, "n_new", minimum=0)
        check_rng(rng)
        check_positive(temperature, "temperature")
        for _ in range(n_new):
            logits = self.scores(idx[:, -self.context_length:])[:, -1] / temperature
            p = np.exp(logits - logits.max(axis=1, keepdims=True))
            cdf = np.cumsum(p / p.sum(axis=1, keepdims=True), axis=1)
            u = rng.random((idx.shape[0], 1))
            nxt = np.minimum((cdf < u).sum(axis=1), self.vocab_size - 1)
            idx = np.concatenate([idx, nxt[:, None].astype(idx.dtype)], axis=1)
        return idx
