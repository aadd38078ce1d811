"""Every argument check of scratch.optim at its boundary, on both sides: the learning rate and ε
from 0 (inf refused), momentum, β₁ and β₂ in [0, 1) (β₂ = 1 refused, just under 1 accepted),
RMSProp's decay rate in [0, 1], AdamW's weight decay from 0."""

import numpy as np

from scratch import optim as O

from .malformed import INF, Boundary, integers, interval, prove_each

RATE = interval(0.0, INF, high_open=True)  # [0, inf): 0 allowed, inf refused
FRACTION = interval(0.0, 1.0, high_open=True)  # [0, 1)


def step(opt):
    """One update of a small parameter (the checks that run at update time run then)."""
    opt.update({"w": np.ones(3)}, {"w": np.full(3, 0.5)})
    return opt


def with_lr(v):
    """A schedule sets lr between updates: the next update checks it."""
    opt = O.SGD(0.1)
    opt.lr = v
    return step(opt)


BOUNDARIES = [
    Boundary("SGD lr", lambda v: step(O.SGD(v)), "lr", RATE),
    Boundary("lr set between updates", with_lr, "lr", RATE),
    Boundary("Momentum lr", lambda v: step(O.Momentum(v)), "lr", RATE),
    Boundary("Momentum momentum", lambda v: step(O.Momentum(0.1, v)), "momentum", FRACTION),
    Boundary("Nesterov momentum", lambda v: step(O.Nesterov(0.1, v)), "momentum", FRACTION),
    Boundary("nesterov_lookahead lr", lambda v: O.nesterov_lookahead(lambda x: 2 * x, np.ones(2), v, 0.9, 2), "lr",
             RATE),
    Boundary("nesterov_lookahead momentum", lambda v: O.nesterov_lookahead(lambda x: 2 * x, np.ones(2), 0.1, v, 2),
             "momentum", FRACTION),
    Boundary("nesterov_lookahead steps", lambda v: O.nesterov_lookahead(lambda x: 2 * x, np.ones(2), 0.1, 0.9, v),
             "steps", integers(0)),
    Boundary("AdaGrad eps", lambda v: step(O.AdaGrad(0.1, v)), "eps", RATE),
    Boundary("RMSProp decay_rate", lambda v: step(O.RMSProp(0.1, v)), "decay_rate", interval(0.0, 1.0)),
    Boundary("RMSProp eps", lambda v: step(O.RMSProp(0.1, 0.99, v)), "eps", RATE),
    Boundary("Adam beta1", lambda v: step(O.Adam(0.1, beta1=v)), "beta1", FRACTION),
    Boundary("Adam beta2", lambda v: step(O.Adam(0.1, beta2=v)), "beta2", FRACTION),
    Boundary("Adam eps", lambda v: step(O.Adam(0.1, eps=v)), "eps", RATE),
    Boundary("AdamFolded beta2", lambda v: step(O.AdamFolded(0.1, beta2=v)), "beta2", FRACTION),
    Boundary("AdamW weight_decay", lambda v: step(O.AdamW(0.1, weight_decay=v)), "weight_decay", RATE),
    Boundary("AdamW beta2", lambda v: step(O.AdamW(0.1, beta2=v)), "beta2", FRACTION),
]


@prove_each(BOUNDARIES)
def test_each_argument_check_holds_at_its_boundary(boundary):
    boundary.prove()


def test_adam_refuses_beta2_of_1_and_takes_the_float_just_under_it():
    """β₂ = 1 would keep v at 0 and divide by 1 − β₂ᵗ = 0 in the bias correction."""
    assert "beta2" in str(__import__("pytest").raises(ValueError, O.Adam, beta2=1.0).value)
    p = {"w": np.ones(2)}
    O.Adam(0.1, beta2=float(np.nextafter(1.0, 0.0))).update(p, {"w": np.ones(2)})
    assert np.isfinite(p["w"]).all()
