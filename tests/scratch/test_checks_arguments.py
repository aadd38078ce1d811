"""The shared argument checks of scratch._checks, each at its boundary on both sides, for the
flags that move the boundary (``allow_zero``, ``high_inclusive``, ``minimum``)."""

import numpy as np

from scratch import _checks as K

from .malformed import INF, NAN, Boundary, Domain, integers, interval, prove_each

BOUNDARIES = [
    Boundary("check_positive", lambda v: K.check_positive(v, "a"), "a",
             interval(0.0, INF, low_open=True, high_open=True), also_refused=(None, "1", np.ones(2), 2**1100)),
    Boundary("check_positive, zero allowed", lambda v: K.check_positive(v, "a", allow_zero=True), "a",
             interval(0.0, INF, high_open=True)),
    Boundary("check_in_range", lambda v: K.check_in_range(v, "a", -2.0, 3.0), "a",
             interval(-2.0, 3.0, high_open=True), also_refused=(None,)),
    Boundary("check_in_range, high included", lambda v: K.check_in_range(v, "a", -2.0, 3.0, high_inclusive=True), "a",
             interval(-2.0, 3.0)),
    Boundary("check_dropout_probability", lambda v: K.check_dropout_probability(v, "p"), "p",
             interval(0.0, 1.0, high_open=True)),
    Boundary("check_int", lambda v: K.check_int(v, "n", 3), "n", integers(3), also_refused=(None, "3", 2**1100)),
    Boundary("check_int without minimum", lambda v: K.check_int(v, "n"), "n",
             Domain(accepted=(-(2**70), 0, 2**70, -3.0), refused=(0.5, NAN, INF, -INF))),
    Boundary("check_axis", lambda v: K.check_axis(v, 3), "axis", Domain(accepted=(-3, 2, 0), refused=(-4, 3, 1.5))),
    Boundary("check_labels", lambda v: K.check_labels(np.array([0, v]), 4), "t",
             Domain(accepted=(0, 3, 3.0), refused=(-1, 4, 3.5, NAN, INF))),
]


@prove_each(BOUNDARIES)
def test_each_argument_check_holds_at_its_boundary(boundary):
    boundary.prove()


def test_is_finite_takes_integers_a_float_can_hold():
    assert K.is_finite(2**1023) and K.is_finite(np.int64(-5)) and K.is_finite(1e308)
    assert not K.is_finite(2**1024) and not K.is_finite(NAN) and not K.is_finite(-INF)
