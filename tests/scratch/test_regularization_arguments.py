"""Every argument check of scratch.regularization at its boundary, on both sides: λ, λ₁, λ₂ and
min_delta from 0 (inf refused), patience from 1, a validation loss that is finite."""

import numpy as np

from scratch import regularization as R

from .malformed import INF, Boundary, integers, interval, prove_each

W = np.array([[1.0, -2.0], [0.0, 0.5]])
FROM_0 = interval(0.0, INF, high_open=True)

BOUNDARIES = [
    Boundary("l2_penalty lam", lambda v: R.l2_penalty([W], v), "lam", FROM_0),
    Boundary("l2_grad lam", lambda v: R.l2_grad(W, v), "lam", FROM_0),
    Boundary("l1_penalty lam", lambda v: R.l1_penalty([W], v), "lam", FROM_0),
    Boundary("l1_grad lam", lambda v: R.l1_grad(W, v), "lam", FROM_0),
    Boundary("elastic_penalty l1", lambda v: R.elastic_penalty([W], v, 0.1), "l1", FROM_0),
    Boundary("elastic_grad l2", lambda v: R.elastic_grad(W, 0.1, v), "l2", FROM_0),
    Boundary("EarlyStopping patience", lambda v: R.EarlyStopping(v), "patience", integers(1)),
    Boundary("EarlyStopping min_delta", lambda v: R.EarlyStopping(2, v), "min_delta", FROM_0),
    Boundary("EarlyStopping.step val_loss", lambda v: R.EarlyStopping(2).step(v, {"W": W}), "val_loss",
             interval(-INF, INF, low_open=True, high_open=True)),
]


@prove_each(BOUNDARIES)
def test_each_argument_check_holds_at_its_boundary(boundary):
    boundary.prove()
