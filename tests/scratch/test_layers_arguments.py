"""Every argument check of scratch.layers at its boundary, on both sides: dropout's p in [0, 1)
(p = 1 would divide by 0), batch norm's momentum in [0, 1], ε > 0, the running variance's start
from 0, a training batch of 2 or more, ELU's α from 0, a dropout mask of 0 and 1 only."""

import numpy as np

from scratch import layers as L

from .malformed import INF, Boundary, Domain, interval, prove_each

X = np.arange(6.0).reshape(2, 3)


def dropout(p):
    layer = L.Dropout(p, rng=np.random.default_rng(0))
    return layer.backward(layer.forward(X))


def batchnorm(**kw):
    layer = L.BatchNorm1d(np.ones(3), np.zeros(3), **kw)
    return layer.backward(layer.forward(X))


def batch_of(n):
    layer = L.BatchNorm1d(np.ones(3), np.zeros(3))
    return layer.forward(np.arange(3.0 * n).reshape(n, 3))


def masked(value):
    layer = L.Dropout(0.5)
    layer.set_mask(np.array([[1, value, 0], [1, 1, 0]]))
    return layer.forward(X)


BOUNDARIES = [
    Boundary("Dropout p", dropout, "p", interval(0.0, 1.0, high_open=True)),
    Boundary("BatchNorm1d momentum", lambda v: batchnorm(momentum=v), "momentum", interval(0.0, 1.0)),
    Boundary("BatchNorm1d eps", lambda v: batchnorm(eps=v), "eps", interval(0.0, INF, low_open=True, high_open=True)),
    Boundary("BatchNorm1d running_var_init", lambda v: batchnorm(running_var_init=v), "running_var_init",
             interval(0.0, INF, high_open=True)),
    Boundary("BatchNorm1d batch in training", batch_of, "x", Domain(accepted=(2, 3), refused=(1, 0))),
    Boundary("ELU alpha", lambda v: L.ELU(v).forward(X), "alpha", interval(0.0, INF, high_open=True)),
    Boundary("Dropout mask", masked, "mask", Domain(accepted=(0, 1, True, 0.0), refused=(0.5, 2, -1, np.nan))),
]


@prove_each(BOUNDARIES)
def test_each_argument_check_holds_at_its_boundary(boundary):
    boundary.prove()


def test_dropout_just_below_1_keeps_the_expected_value_finite():
    p = float(np.nextafter(1.0, 0.0))
    layer = L.Dropout(p)
    layer.set_mask(np.ones_like(X, dtype=bool))
    assert np.isfinite(layer.forward(X)).all()
