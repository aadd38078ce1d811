"""Every argument check of scratch.losses at its boundary, on both sides: δ from 0, class labels
in [0, K) (K itself refused before it indexes), probabilities in [0, 1], at least one class."""

import numpy as np

from scratch import losses as LS

from .malformed import INF, NAN, Boundary, Domain, interval, prove_each

Y = np.array([[0.2, 0.3, 0.5], [0.1, 0.8, 0.1]])
LABELS = Domain(accepted=(0, 2, 2.0), refused=(-1, 3, 2.5, NAN))


def labels(v):
    return np.array([1, v])


BOUNDARIES = [
    Boundary("cross_entropy_error delta", lambda v: LS.cross_entropy_error(Y, [0, 1], v), "delta",
             interval(0.0, INF, high_open=True)),
    Boundary("cross_entropy_error_grad delta", lambda v: LS.cross_entropy_error_grad(Y, [0, 1], v), "delta",
             interval(0.0, INF, high_open=True)),
    Boundary("cross_entropy_error labels", lambda v: LS.cross_entropy_error(Y, labels(v)), "t", LABELS),
    Boundary("softmax_cross_entropy labels", lambda v: LS.softmax_cross_entropy(Y, labels(v)), "t", LABELS),
    Boundary("softmax_cross_entropy_grad labels", lambda v: LS.softmax_cross_entropy_grad(Y, labels(v)), "t", LABELS),
    Boundary("one sample's label", lambda v: LS.softmax_cross_entropy(Y[0], v), "t", LABELS),
    Boundary("binary_cross_entropy y", lambda v: LS.binary_cross_entropy(np.array([v, 0.5]), np.array([1.0, 0.0])),
             "y", interval(0.0, 1.0)),
    Boundary("binary_cross_entropy t", lambda v: LS.binary_cross_entropy(np.array([0.5, 0.5]), np.array([v, 0.0])),
             "t", interval(0.0, 1.0)),
    Boundary("binary_cross_entropy_grad y", lambda v: LS.binary_cross_entropy_grad(np.array([v]), np.array([1.0])),
             "y", interval(0.0, 1.0)),
    Boundary("classes of the logits", lambda k: LS.softmax_cross_entropy(np.ones((2, k)), np.zeros((2, k))), "logits",
             Domain(accepted=(1, 2), refused=(0,))),
]


@prove_each(BOUNDARIES)
def test_each_argument_check_holds_at_its_boundary(boundary):
    boundary.prove()
