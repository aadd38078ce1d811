"""The valid inputs the malformed-input cases start from (fixed; Hypothesis draws only the malformed
argument): a batch, weights, labels, probabilities, a network's parameters, the delta rule's data."""

import numpy as np

from scratch import activations as A


rng0 = np.random.default_rng(20240611)
X = rng0.normal(size=(3, 4))           # a batch of 3 samples with 4 features
DOUT = rng0.normal(size=(3, 4))
W, B = rng0.normal(size=(4, 3)), rng0.normal(size=3)
WK, BK = rng0.normal(size=(2, 4, 3)), rng0.normal(size=(2, 3))  # Maxout, k = 2 pieces
LOGITS, LABELS = rng0.normal(size=(3, 3)), np.array([0, 2, 1])
PROBS = A.softmax(LOGITS)
Y, TGT = rng0.uniform(0.1, 0.9, size=(3, 2)), rng0.uniform(0, 1, size=(3, 2))
MASK = np.array([[1, 0, 1, 1], [0, 1, 1, 0], [1, 1, 0, 1]], dtype=bool)
NET = {"W1": rng0.normal(size=(4, 5)), "b1": rng0.normal(size=5), "W2": rng0.normal(size=(5, 3)), "b2": rng0.normal(size=3)}
MT = {"W1": rng0.normal(size=(4, 5)), "b1": rng0.normal(size=5), "Wa": rng0.normal(size=(5, 3)),
      "ba": rng0.normal(size=3), "Wb": rng0.normal(size=(5, 2)), "bb": rng0.normal(size=2)}
TA, TB = np.array([0, 2, 1]), np.array([1, 0, 1])
DX, DD, DW = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1.0]]), np.array([0, 0, 1, 1.0]), rng0.normal(size=(1, 3))
DW1, DW2 = rng0.normal(size=(4, 3)), rng0.normal(size=(1, 4))
XS = np.linspace(-1, 1, 6)
YS = 2 * XS + 1 + rng0.normal(size=6) * 0.3
P0, G0 = rng0.normal(size=(2, 3)), rng0.normal(size=(2, 3))

