"""Every argument check of scratch.gradients at its boundary, on both sides: the step h above 0,
the learning rate from 0, the number of steps from 0 (inf refused everywhere)."""

import numpy as np

from scratch import gradients as G

from .malformed import INF, Boundary, integers, interval, prove_each

BOUNDARIES = [
    Boundary("numerical_diff h", lambda v: G.numerical_diff(np.sin, 1.0, v), "h",
             interval(0.0, INF, low_open=True, high_open=True)),
    Boundary("numerical_gradient h", lambda v: G.numerical_gradient(lambda x: float(np.sum(x**2)), np.ones(2), v), "h",
             interval(0.0, INF, low_open=True, high_open=True)),
    Boundary("gradient_descent lr", lambda v: G.gradient_descent(lambda x: 2 * x, np.ones(2), v, 3), "lr",
             interval(0.0, INF, high_open=True)),
    Boundary("gradient_descent steps", lambda v: G.gradient_descent(lambda x: 2 * x, np.ones(2), 0.1, v), "steps",
             integers(0)),
]


@prove_each(BOUNDARIES)
def test_each_argument_check_holds_at_its_boundary(boundary):
    boundary.prove()
