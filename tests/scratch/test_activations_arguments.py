"""Every argument check of scratch.activations at its boundary, on both sides: ELU's α from 0
(inf refused), softmax's axis within the array's axes (a 0-d x has the axes of one element)."""

import numpy as np

from scratch import activations as A

from .malformed import INF, NAN, Boundary, Domain, interval, prove_each

X = np.arange(6.0).reshape(2, 3)
AXES_2D = Domain(accepted=(-2, -1, 0, 1, 1.0), refused=(-3, 2, 0.5, NAN, INF))
AXES_0D = Domain(accepted=(-1, 0), refused=(-2, 1))

BOUNDARIES = [
    Boundary("elu alpha", lambda v: A.elu(X, v), "alpha", interval(0.0, INF, high_open=True)),
    Boundary("elu_grad alpha", lambda v: A.elu_grad(X, v), "alpha", interval(0.0, INF, high_open=True)),
    Boundary("softmax axis", lambda v: A.softmax(X, v), "axis", AXES_2D),
    Boundary("softmax axis of a 0-d x", lambda v: A.softmax(np.float64(2.0), v), "axis", AXES_0D),
    Boundary("softmax_naive axis", lambda v: A.softmax_naive(X, v), "axis", AXES_2D),
    Boundary("softmax_backward axis", lambda v: A.softmax_backward(A.softmax(X), X, v), "axis", AXES_2D),
]


@prove_each(BOUNDARIES)
def test_each_argument_check_holds_at_its_boundary(boundary):
    boundary.prove()
