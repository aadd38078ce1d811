"""Every argument check of scratch.linear_regression at its boundary, on both sides: the learning
rate from 0, batch indices in [−n, n) (n itself refused before it indexes), at least one point."""

import numpy as np

from scratch import linear_regression as LR

from .malformed import INF, Boundary, Domain, interval, prove_each

X = np.linspace(0.0, 1.0, 5)
Y = 2 * X + 1

BOUNDARIES = [
    Boundary("fit lr", lambda v: LR.fit(X, Y, 0.0, 0.0, v, [np.arange(5)]), "lr", interval(0.0, INF, high_open=True)),
    Boundary("fit batch index", lambda v: LR.fit(X, Y, 0.0, 0.0, 0.1, [np.array([0, v])]), "batches[0]",
             Domain(accepted=(-5, 4, 0), refused=(-6, 5))),
    Boundary("points", lambda n: LR.squared_error_and_grads(X[:n], Y[:n], 1.0, 0.0), "x",
             Domain(accepted=(1, 5), refused=(0,))),
]


@prove_each(BOUNDARIES)
def test_each_argument_check_holds_at_its_boundary(boundary):
    boundary.prove()
