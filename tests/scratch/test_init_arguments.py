"""Every argument check of scratch.init at its boundary, on both sides: every entry of a weight's
shape from 1, a standard deviation, bound or gain from 0 (inf refused), and a uniform's width
2·bound a finite number (as torch's ``uniform_`` requires)."""

import numpy as np

from scratch import init

from .malformed import INF, NAN, Boundary, Domain, below, integers, interval, prove_each

RNG = np.random.default_rng(0)
FROM_0 = interval(0.0, INF, high_open=True)
WIDEST = float(np.finfo(np.float64).max) / 2  # 2·bound is then the largest float

BOUNDARIES = [
    Boundary("zeros fan_in", lambda v: init.zeros((v, 3)), "shape[0]", integers(1)),
    Boundary("he_normal fan_out", lambda v: init.he_normal(RNG, (3, v)), "shape[1]", integers(1)),
    Boundary("filters kw", lambda v: init.he_uniform(RNG, (2, 1, 3, v)), "shape[3]", integers(1)),
    Boundary("normal std", lambda v: init.normal(RNG, (2, 3), v), "std", FROM_0),
    Boundary("uniform bound", lambda v: init.uniform(RNG, (2, 3), v), "bound", interval(0.0, WIDEST)),
    Boundary("xavier_normal gain", lambda v: init.xavier_normal(RNG, (2, 3), v), "gain", FROM_0),
    Boundary("xavier_uniform gain", lambda v: init.xavier_uniform(RNG, (2, 3), v), "gain",
             Domain(accepted=(0.0, 5e-324, 1.0, WIDEST / np.sqrt(6 / 5) * 0.999),
                    refused=(below(0.0), NAN, INF, WIDEST))),
]


@prove_each(BOUNDARIES)
def test_each_argument_check_holds_at_its_boundary(boundary):
    boundary.prove()
