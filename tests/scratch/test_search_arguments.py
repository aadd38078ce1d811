"""Every argument check of scratch.search at its boundary, on both sides: a range whose low equals
its high accepted (every trial the same value), low above high refused; n from 0; top_k from 1;
trial values above 0."""

import numpy as np

from scratch import search

from .malformed import INF, Boundary, integers, interval, prove_each

TRIALS = [{"lr": 1e-3, "wd": 1e-5}, {"lr": 1e-2, "wd": 1e-4}, {"lr": 1e-4, "wd": 1e-6}]


def trials(low, high, n=3):
    return search.sample_trials(np.random.default_rng(0), {"lr": (low, high)}, n)


def narrowed(value):
    return search.narrow([{"lr": value}, {"lr": 1e-3}], [0.5, 0.9], 1)


BOUNDARIES = [
    Boundary("sample_trials low (high = -2)", lambda v: trials(v, -2.0), "ranges['lr']",
             interval(-INF, -2.0, low_open=True)),
    Boundary("sample_trials high (low = -6)", lambda v: trials(-6.0, v), "ranges['lr']",
             interval(-6.0, INF, high_open=True)),
    Boundary("sample_trials n", lambda v: trials(-6.0, -2.0, v), "n", integers(0)),
    Boundary("narrow top_k", lambda v: search.narrow(TRIALS, [0.1, 0.9, 0.5], v), "top_k", integers(1)),
    Boundary("narrow trial values", narrowed, "trials[0]['lr']", interval(0.0, INF, low_open=True, high_open=True)),
]


@prove_each(BOUNDARIES)
def test_each_argument_check_holds_at_its_boundary(boundary):
    boundary.prove()


def test_a_range_of_one_point_gives_that_value_every_time():
    assert [t["lr"] for t in trials(-3.0, -3.0)] == [1e-3] * 3
