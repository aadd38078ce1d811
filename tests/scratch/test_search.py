"""scratch.search: random search on a log scale, seeded, and narrowing to the best trials' ranges.

Every argument check at its boundary, on both sides: a range whose low equals its high accepted (every trial
the same value), low above high refused; n from 0; top_k from 1; trial values above 0."""

import numpy as np
import pytest

from scratch import search

from .malformed import INF, Boundary, integers, interval, prove_each


# --- argument checks at their boundaries ------------------------------------------------------------

AT_TRIALS = [{"lr": 1e-3, "wd": 1e-5}, {"lr": 1e-2, "wd": 1e-4}, {"lr": 1e-4, "wd": 1e-6}]


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
    Boundary("narrow top_k", lambda v: search.narrow(AT_TRIALS, [0.1, 0.9, 0.5], v), "top_k", integers(1)),
    Boundary("narrow trial values", narrowed, "trials[0]['lr']", interval(0.0, INF, low_open=True, high_open=True)),
]


@prove_each(BOUNDARIES)
def test_each_argument_check_holds_at_its_boundary(boundary):
    boundary.prove()


def test_a_range_of_one_point_gives_that_value_every_time():
    assert [t["lr"] for t in trials(-3.0, -3.0)] == [1e-3] * 3


# --- behaviour --------------------------------------------------------------------------------------

@pytest.mark.parametrize("call, error, message", [
    (lambda: search.sample_trials(3, {"lr": (-3, -1)}, 2), TypeError, "rng must be a numpy.random.Generator"),
    (lambda: search.sample_trials(np.random.default_rng(0), {"lr": -3}, 2), TypeError, r"ranges\['lr'\]"),
    (lambda: search.sample_trials(np.random.default_rng(0), {"lr": ("a", 1)}, 2), TypeError, r"ranges\['lr'\]"),
    (lambda: search.sample_trials(np.random.default_rng(0), {"lr": (-3, -1)}, None), TypeError, "n must be a real"),
    (lambda: search.narrow([{"lr": 0.1}], [0.5], 1.5), ValueError, "top_k must be an integer"),
    (lambda: search.narrow([{"lr": 0.1}], ["a"], 1), TypeError, "scores must be a real numeric array"),
    (lambda: search.narrow([{"lr": 0.1}, {"wd": 0.1}], [0.5, 0.2], 1), ValueError, r"trials\[1\] has the names"),
    (lambda: search.narrow([{"lr": 0.0}], [0.5], 1), ValueError, r"trials\[0\]\['lr'\] must be a finite value > 0"),
])
def test_search_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_narrow_keeps_the_best_trials():
    trials = [{"lr": 1e-2, "weight_decay": 1e-5}, {"lr": 1e-5, "weight_decay": 1e-7}, {"lr": 1e-3, "weight_decay": 1e-6}]
    assert search.narrow(trials, [0.9, 0.1, 0.8], 2) == {"lr": (-3.0, -2.0), "weight_decay": (-6.0, -5.0)}
    with pytest.raises(ValueError, match="top_k must be >= 1"):
        search.narrow(trials, [0.9, 0.1, 0.8], 0)


def test_search_sampling_is_seeded_and_validated():
    a = search.sample_trials(np.random.default_rng(3), {"lr": (-6, -2)}, 5)
    b = search.sample_trials(np.random.default_rng(3), {"lr": (-6, -2)}, 5)
    assert a == b and all(1e-6 <= t["lr"] <= 1e-2 for t in a)
    with pytest.raises(ValueError, match="low <= high"):
        search.sample_trials(np.random.default_rng(3), {"lr": (-2, -6)}, 5)
