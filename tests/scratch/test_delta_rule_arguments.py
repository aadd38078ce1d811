"""Every argument check of scratch.delta_rule at its boundary, on both sides: α above 0, epochs from
0, a mini-batch of 1 or more samples, at least one sample."""

import numpy as np

from scratch import delta_rule as DR

from .malformed import INF, Boundary, Domain, integers, interval, prove_each

X = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 1.0]])
D = np.array([0.0, 0.0, 0.0, 1.0])
W = np.array([[0.1, -0.2, 0.05]])
ALPHA = interval(0.0, INF, low_open=True, high_open=True)

BOUNDARIES = [
    Boundary("delta alpha", lambda v: DR.delta(W, X[0], D[0], v), "alpha", ALPHA),
    Boundary("epoch alpha", lambda v: DR.epoch(W, X, D, v), "alpha", ALPHA),
    Boundary("train alpha", lambda v: DR.train(W, X, D, v, epochs=2), "alpha", ALPHA),
    Boundary("train epochs", lambda v: DR.train(W, X, D, 0.5, epochs=v), "epochs", integers(0, drawn_up_to=20)),
    Boundary("train batch_size", lambda v: DR.train(W, X, D, 0.5, 2, "minibatch", v), "batch_size", integers(1)),
    Boundary("train_two_layer epochs", lambda v: DR.train_two_layer(np.ones((2, 3)), np.ones((1, 2)), X, D, 0.5, v),
             "epochs", integers(0, drawn_up_to=20)),
    Boundary("train_two_layer alpha", lambda v: DR.train_two_layer(np.ones((2, 3)), np.ones((1, 2)), X, D, v, 1),
             "alpha", ALPHA),
    Boundary("samples", lambda n: DR.loss(W, X[:n], D[:n]), "X", Domain(accepted=(1, 4), refused=(0,))),
]


@prove_each(BOUNDARIES)
def test_each_argument_check_holds_at_its_boundary(boundary):
    boundary.prove()
