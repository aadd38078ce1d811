"""The bridge between the two layouts: PyTorch's recurrent weights as scratch's and back."""

import numpy as np

from comparisons import bridge
from scratch import recurrent as R

rng = np.random.default_rng(7)
D, H = 4, 5


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
