"""Every argument check of scratch.networks at its boundary, on both sides: λ and λ₁ from 0, the
dropout ratio in [0, 1), labels in [0, classes) (the number of classes refused before it
indexes), the convolution net's stride, pool and batch size from 1 and padding from 0."""

import numpy as np

from scratch import networks as N

from .malformed import INF, NAN, Boundary, Domain, integers, interval, prove_each

RNG = np.random.default_rng(0)
MLP = {"W1": RNG.normal(size=(3, 4)), "b1": np.zeros(4), "W2": RNG.normal(size=(4, 2)), "b2": np.zeros(2)}
X = RNG.normal(size=(2, 3))
CONV = {"W1": RNG.normal(size=(2, 1, 3, 3)), "b1": np.zeros(2), "W2": RNG.normal(size=(8, 5)), "b2": np.zeros(5),
        "W3": RNG.normal(size=(5, 3)), "b3": np.zeros(3)}
IMAGES = RNG.normal(size=(2, 1, 6, 6))


def mlp(**kw):
    net = N.MultiLayerNet({k: v.copy() for k, v in MLP.items()}, rng=np.random.default_rng(0), **kw)
    return net.gradient(X, np.array([0, 1]))


BOUNDARIES = [
    Boundary("weight_decay_lambda", lambda v: mlp(weight_decay_lambda=v), "weight_decay_lambda",
             interval(0.0, INF, high_open=True)),
    Boundary("l1_lambda", lambda v: mlp(l1_lambda=v), "l1_lambda", interval(0.0, INF, high_open=True)),
    Boundary("dropout_ratio", lambda v: mlp(dropout_ratio=v), "dropout_ratio", interval(0.0, 1.0, high_open=True)),
    Boundary("MultiLayerNet labels", lambda v: N.MultiLayerNet(MLP).loss(X, np.array([0, v])), "t",
             Domain(accepted=(0, 1, 1.0), refused=(-1, 2, 0.5, NAN))),
    Boundary("SimpleConvNet stride", lambda v: N.SimpleConvNet(CONV, stride=v), "stride", integers(1)),
    Boundary("SimpleConvNet pad", lambda v: N.SimpleConvNet(CONV, pad=v), "pad", integers(0)),
    Boundary("SimpleConvNet pool", lambda v: N.SimpleConvNet(CONV, pool=v), "pool", integers(1)),
    Boundary("SimpleConvNet.accuracy batch_size", lambda v: N.SimpleConvNet(CONV).accuracy(IMAGES, [0, 2], v),
             "batch_size", integers(1)),
    Boundary("SimpleConvNet labels", lambda v: N.SimpleConvNet(CONV).loss(IMAGES, np.array([0, v])), "t",
             Domain(accepted=(0, 2), refused=(-1, 3))),
]


@prove_each(BOUNDARIES)
def test_each_argument_check_holds_at_its_boundary(boundary):
    boundary.prove()
