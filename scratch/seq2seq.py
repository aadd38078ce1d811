"""The book's seq2seq with attention by hand (Deep Learning from Scratch 2, ch. 7 and 8): an
encoder (embedding → LSTM) whose every hidden state the decoder (embedding → LSTM → attention over
the encoder's states → affine) looks at, trained with softmax-with-loss on the next token, and
greedy generation.

The weights are the book's: lists ``params``/``grads`` in the book's order, initialised as the book
initialises them from ``rng`` (by default a generator seeded from NumPy's global one).
"""

from __future__ import annotations

import math

import numpy as np

from ._checks import check_int, check_ndim, generator_or_global
from .attention import TimeAttention, _check_hs
from .recurrent import LSTM
from .sequence import TimeSoftmaxWithLoss
from .sequence_models import Embedding, TimeLinear



def _book_weights(rng, dtype, shapes_and_scales):
    """The book's initial weights: standard normal / scale for each (shape, scale); scale 0: zeros."""
    return [np.zeros(shape, dtype=dtype) if scale == 0 else (rng.standard_normal(shape) / scale).astype(dtype)
            for shape, scale in shapes_and_scales]


def _sizes(vocab_size, wordvec_size, hidden_size):
    return (check_int(vocab_size, "vocab_size", minimum=1), check_int(wordvec_size, "wordvec_size", minimum=1),
            check_int(hidden_size, "hidden_size", minimum=1))


class _BookModel:
    """Layers with dict ``params``/``grads`` gathered into the book's lists: ``params`` holds the
    layers' own arrays (an optimizer's in-place update trains them), ``grads`` is read from the
    layers after every backward pass."""

    def _gather(self, layers):
        self._param_layers = layers
        self.params = [layer.params[k] for layer, keys in layers for k in keys]

    @property
    def grads(self) -> list:
        return [layer.grads[k] for layer, keys in self._param_layers for k in keys]


def _encoder_params(rng, dtype, V, D, H):
    return _book_weights(rng, dtype, (((V, D), 100), ((D, 4 * H), math.sqrt(D)), ((H, 4 * H), math.sqrt(H)),
                                      ((4 * H,), 0)))


class AttentionEncoder(_BookModel):
    """The encoder of the book's seq2seq with attention: embedding → LSTM, returning *all* the
    hidden states hs (N, T, H) (the ch. 7 encoder returns only the last one).

    ``params`` = [embed W (V, D), LSTM Wx (D, 4H), Wh (H, 4H), b (4H,)]. The initial weights are
    the book's: W ~ N(0, 1)/100, Wx ~ N(0, 1)/√D, Wh ~ N(0, 1)/√H, b = 0, drawn from ``rng``;
    ``dtype='f'`` is the book's float32. The LSTM's gate blocks are i, f, o, g (``scratch.recurrent``);
    the book's TimeLSTM orders them f, g, i, o, so its trained weights need their columns permuted.
    forward(xs (N, T) ids) → hs; backward(dhs) → None (ids get no gradient)."""

    def __init__(self, vocab_size, wordvec_size, hidden_size, rng=None, dtype=np.float64):
        V, D, H = _sizes(vocab_size, wordvec_size, hidden_size)
        rng = generator_or_global(rng)
        W, Wx, Wh, b = _encoder_params(rng, dtype, V, D, H)
        self.embed = Embedding(W)
        self.lstm = LSTM(Wx, Wh, b)
        self._gather([(self.embed, ("W",)), (self.lstm, ("Wx", "Wh", "b"))])

    def forward(self, xs):
        check_ndim(np.asarray(xs), 2, "xs", "(N, T) of word ids")
        return self.lstm.forward(self.embed.forward(xs))

    def backward(self, dhs):
        dx, _, _ = self.lstm.backward(dhs)
        return self.embed.backward(dx)


class AttentionDecoder(_BookModel):
    """The decoder of the book's seq2seq with attention:

        LSTM states dec_hs from the embedded inputs, started at h₀ = enc_hs[:, −1] (c₀ = 0)
        c = TimeAttention(enc_hs, dec_hs)            a context per decoder step
        score = [c, dec_hs] W + b                    (the concatenation (N, T, 2H), W (2H, V))

    ``params`` = [embed W, LSTM Wx, Wh, b, affine W (2H, V), affine b (V,)], the book's
    initialisation (affine W ~ N(0, 1)/√(2H)). forward(xs, enc_hs) → scores (N, T, V);
    backward(dscore) → denc_hs: the gradient reaches enc_hs through the attention and, at the
    last step, through h₀."""

    def __init__(self, vocab_size, wordvec_size, hidden_size, rng=None, dtype=np.float64):
        V, D, H = _sizes(vocab_size, wordvec_size, hidden_size)
        rng = generator_or_global(rng)
        W, Wx, Wh, b = _encoder_params(rng, dtype, V, D, H)
        Wa, ba = _book_weights(rng, dtype, (((2 * H, V), math.sqrt(2 * H)), ((V,), 0)))
        self.embed = Embedding(W)
        self.lstm = LSTM(Wx, Wh, b)
        self.attention = TimeAttention()
        self.affine = TimeLinear(Wa, ba)
        self._gather([(self.embed, ("W",)), (self.lstm, ("Wx", "Wh", "b")), (self.affine, ("W", "b"))])

    def _scores(self, xs, enc_hs, h0, c0):
        dec_hs = self.lstm.forward(self.embed.forward(xs), h0, c0)
        c = self.attention.forward(enc_hs, dec_hs)
        return self.affine.forward(np.concatenate((c, dec_hs), axis=2))

    def forward(self, xs, enc_hs):
        enc_hs = _check_hs(enc_hs, "enc_hs")
        check_ndim(np.asarray(xs), 2, "xs", "(N, T) of word ids")
        return self._scores(xs, enc_hs, enc_hs[:, -1], None)

    def backward(self, dscore):
        dout = self.affine.backward(dscore)
        H = dout.shape[2] // 2
        denc_hs, ddec_hs = self.attention.backward(dout[:, :, :H])
        dx, dh0, _ = self.lstm.backward(ddec_hs + dout[:, :, H:])
        denc_hs[:, -1] += dh0  # h₀ was enc_hs[:, −1]
        self.embed.backward(dx)
        return denc_hs

    def generate(self, enc_hs, start_id, sample_size):
        """Greedy decoding for one sequence (enc_hs (1, T, H)): feed ``start_id``, then each argmax
        back in, carrying the LSTM state; returns the ``sample_size`` ids as a list."""
        enc_hs = _check_hs(enc_hs, "enc_hs")
        if enc_hs.shape[0] != 1:
            raise ValueError(f"generate decodes one sequence: enc_hs must have shape (1, T, H), got enc_hs{enc_hs.shape}")
        sample_size = check_int(sample_size, "sample_size", minimum=0)
        sampled, sample_id, state = [], check_int(start_id, "start_id", minimum=0), (enc_hs[:, -1], None)
        for _ in range(sample_size):  # one step at a time: the next input is this step's output
            score = self._scores(np.array([[sample_id]]), enc_hs, *state)
            state = self.lstm.state
            sample_id = int(np.argmax(score.ravel()))
            sampled.append(sample_id)
        return sampled


class AttentionSeq2seq(_BookModel):
    """The book's seq2seq with attention (Deep Learning from Scratch 2, ch. 8):
    :class:`AttentionEncoder`, :class:`AttentionDecoder` and ``TimeSoftmaxWithLoss``.

    forward(xs, ts) → the mean loss: the decoder reads ts[:, :-1] and predicts ts[:, 1:] (teacher
    forcing). backward(dout=1) → None, the gradients in ``grads`` (the order of ``params``:
    the encoder's four arrays, then the decoder's six). generate(xs, start_id, sample_size) → ids.
    The loss averages over all N·T positions (the book's also skips labels −1; none occur here).
    """

    def __init__(self, vocab_size, wordvec_size, hidden_size, rng=None, dtype=np.float64):
        args = _sizes(vocab_size, wordvec_size, hidden_size)
        rng = generator_or_global(rng)
        self.encoder = AttentionEncoder(*args, rng=rng, dtype=dtype)
        self.decoder = AttentionDecoder(*args, rng=rng, dtype=dtype)
        self.softmax = TimeSoftmaxWithLoss(ignore_label=None)
        self._param_layers = self.encoder._param_layers + self.decoder._param_layers
        self.params = self.encoder.params + self.decoder.params

    def forward(self, xs, ts):
        ts = np.asarray(ts)
        check_ndim(ts, 2, "ts", "(N, T) of word ids, T >= 2 (the decoder's input and its target)")
        if ts.shape[1] < 2:
            raise ValueError(f"ts must have T >= 2 (input ts[:, :-1], target ts[:, 1:]), got ts{ts.shape}")
        enc_hs = self.encoder.forward(xs)
        score = self.decoder.forward(ts[:, :-1], enc_hs)
        return self.softmax.forward(score, ts[:, 1:])

    def backward(self, dout=1.0):
        denc_hs = self.decoder.backward(self.softmax.backward(dout))
        return self.encoder.backward(denc_hs)

    def generate(self, xs, start_id, sample_size):
        """Greedy decoding of one source sequence xs (1, T): the decoder's ``generate``."""
        xs = np.asarray(xs)
        if xs.ndim != 2 or xs.shape[0] != 1:
            raise ValueError(f"generate decodes one sequence: xs must have shape (1, T), got xs{xs.shape}")
        return self.decoder.generate(self.encoder.forward(xs), start_id, sample_size)
