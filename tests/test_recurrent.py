"""Recurrent layers by hand, as a specification: a cell is one step of its sequence, truncated
BPTT cuts exactly at the block boundaries, the embedding adds the gradients of a repeated index,
clipping scales every gradient by one factor, and the GRU's two reset-gate forms meet where the
recurrent weight is diagonal. (Every number against PyTorch: the `rnn` concept and verify.)"""

import numpy as np
import pytest

from comparisons import bridge
from scratch import recurrent as R

rng = np.random.default_rng(7)
N, T, D, H = 3, 6, 4, 5


def weights(gates, bh=False):
    w = [rng.normal(0, 0.5, (D, gates * H)), rng.normal(0, 0.5, (H, gates * H)), rng.normal(0, 0.5, gates * H)]
    return w + [rng.normal(0, 0.5, gates * H)] if bh else w


@pytest.mark.parametrize("seq_cls, cell_cls, gates, states", [(R.RNN, R.RNNCell, 1, 1), (R.LSTM, R.LSTMCell, 4, 2),
                                                             (R.GRU, R.GRUCell, 3, 1)])
def test_a_cell_is_one_step_of_its_sequence(seq_cls, cell_cls, gates, states):
    w = weights(gates, bh=seq_cls is R.GRU)
    x = rng.normal(size=(N, D))
    state = [rng.normal(size=(N, H)) for _ in range(states)]
    dh = rng.normal(size=(N, H))
    seq, cell = seq_cls(*w), cell_cls(*w)
    hs = seq.forward(x[:, None], *state)
    out = cell.forward(x, *state)
    np.testing.assert_array_equal(hs[:, 0], out[0] if states == 2 else out)
    d_seq, d_cell = seq.backward(dh[:, None]), cell.backward(dh)
    np.testing.assert_array_equal(d_seq[0][:, 0], d_cell[0])
    for a, b in zip(d_seq[1:], d_cell[1:]):
        np.testing.assert_array_equal(a, b)
    for k in seq.grads:
        np.testing.assert_array_equal(seq.grads[k], cell.grads[k])


@pytest.mark.parametrize("cls, gates", [(R.RNN, 1), (R.LSTM, 4)])
def test_truncation_at_least_as_long_as_the_sequence_is_full_bptt(cls, gates):
    layer = cls(*weights(gates))
    x, dhs = rng.normal(size=(N, T, D)), rng.normal(size=(N, T, H))
    layer.forward(x)
    full = layer.backward(dhs)
    grads = {k: v.copy() for k, v in layer.grads.items()}
    truncated = layer.backward(dhs, truncate=T)
    for a, b in zip(full, truncated):
        np.testing.assert_array_equal(a, b)
    for k in grads:
        np.testing.assert_array_equal(grads[k], layer.grads[k])


def test_truncated_bptt_sends_no_gradient_across_a_block_boundary():
    """A loss on the last output only: with blocks of 2, the inputs before the last block get
    nothing, and neither does h0; the forward pass is the same."""
    layer = R.RNN(*weights(1))
    x = rng.normal(size=(N, T, D))
    hs = layer.forward(x)
    dhs = np.zeros((N, T, H))
    dhs[:, -1] = rng.normal(size=(N, H))
    dx, dh0 = layer.backward(dhs, truncate=2)
    assert np.all(dx[:, :T - 2] == 0) and np.all(dh0 == 0) and np.all(dx[:, T - 2:] != 0)
    np.testing.assert_array_equal(layer.forward(x), hs)


def test_the_embedding_adds_the_gradients_of_a_repeated_index():
    layer = R.Embedding(rng.normal(size=(4, 3)))
    idx = np.array([[1, 1, 2], [1, 0, 2]])
    dout = rng.normal(size=(2, 3, 3))
    np.testing.assert_array_equal(layer.forward(idx), layer.params["W"][idx])
    assert layer.backward(dout) is None
    np.testing.assert_allclose(layer.grads["W"][1], dout[0, 0] + dout[0, 1] + dout[1, 0])
    np.testing.assert_allclose(layer.grads["W"][2], dout[0, 2] + dout[1, 2])
    assert np.all(layer.grads["W"][3] == 0)


def test_clipping_scales_every_gradient_by_one_factor_and_returns_the_norm():
    grads = {"a": rng.normal(size=(3, 4)), "b": 100 * rng.normal(size=5)}
    before = {k: v.copy() for k, v in grads.items()}
    total = np.sqrt(sum(np.sum(g ** 2) for g in before.values()))
    assert R.clip_grad_norm(grads, 1.0) == pytest.approx(total)
    factor = 1.0 / (total + 1e-6)
    for k in grads:
        np.testing.assert_allclose(grads[k], before[k] * factor)
    assert R.global_norm(grads) == pytest.approx(1.0, rel=1e-5)


def test_clipping_below_the_threshold_or_at_inf_leaves_the_gradients_alone():
    grads = [rng.normal(size=(2, 2)), rng.normal(size=3)]
    before = [g.copy() for g in grads]
    R.clip_grad_norm(grads, 1e6)
    R.clip_grad_norm(grads, float("inf"))
    for a, b in zip(grads, before):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="max_norm"):
        R.clip_grad_norm(grads, 0.0)


def test_the_two_gru_forms_meet_where_the_recurrent_weight_is_diagonal_and_its_bias_zero():
    Wx, Wh, bx, bh = weights(3, bh=True)
    Wh[:, 2 * H:] = np.diag(rng.normal(size=H))
    bh[2 * H:] = 0
    x, h = rng.normal(size=(N, D)), rng.normal(size=(N, H))
    after = R.GRUCell(Wx, Wh, bx, bh).forward(x, h)
    before = R.GRUCell(Wx, Wh, bx, bh, reset_after=False).forward(x, h)
    np.testing.assert_allclose(after, before, rtol=1e-14, atol=1e-15)
    Wh[:, 2 * H:] += rng.normal(0, 0.5, (H, H))
    assert not np.allclose(R.GRUCell(Wx, Wh, bx, bh).forward(x, h),
                           R.GRUCell(Wx, Wh, bx, bh, reset_after=False).forward(x, h))


def test_pytorch_s_lstm_layout_maps_to_one_bias_and_permuted_gate_columns():
    """weight_ih's rows (i, f, g, o) become Wx's columns (i, f, o, g); b = b_ih + b_hh; and back."""
    w_ih, w_hh = rng.normal(size=(4 * H, D)), rng.normal(size=(4 * H, H))
    b_ih, b_hh = rng.normal(size=4 * H), rng.normal(size=4 * H)
    p = bridge.recurrent_from_torch("lstm", w_ih, w_hh, b_ih, b_hh, gates=R.LSTM_GATES)
    rows = np.split(w_ih, 4)  # i, f, g, o
    np.testing.assert_array_equal(p["Wx"], np.concatenate([rows[0], rows[1], rows[3], rows[2]]).T)
    np.testing.assert_array_equal(p["b"][:H], b_ih[:H] + b_hh[:H])
    back = bridge.recurrent_to_torch("lstm", p["Wx"], p["Wh"], p["b"], gates=R.LSTM_GATES)
    np.testing.assert_array_equal(back["weight_ih"], w_ih)
    np.testing.assert_array_equal(back["bias_ih"] + back["bias_hh"], b_ih + b_hh)
