"""scratch.schedules: the learning-rate schedules' values per epoch and their arguments.

Every argument check at its boundary, on both sides: the initial rate, γ and k from 0 (inf refused), the step
size from 1, the epoch t from 0."""

import numpy as np
import pytest

from scratch import schedules
from scratch import schedules as S

from .malformed import INF, Boundary, Case, Int, Real, integers, interval, malformed_input_tests, prove_each


# --- malformed input: torch's result or an error naming the argument ------------------------------

CASES = {  # no torch counterpart: every malformed argument is refused
    "schedules.WarmupCosine": Case({"lr0": Real(0.1, low=0), "warmup_steps": Int(2), "total_steps": Int(10, minimum=3),
                                    "min_lr": Real(0.0, low=0, high=0.1)},
                                   lambda **kw: [S.WarmupCosine(**kw)(t) for t in range(12)]),
}

test_valid_arguments_give_torchs_result, test_malformed_input_gives_torchs_result_or_names_the_argument = \
    malformed_input_tests(CASES)


# --- argument checks at their boundaries ------------------------------------------------------------

AT_FROM_0 = interval(0.0, INF, high_open=True)

BOUNDARIES = [
    Boundary("StepDecay lr0", lambda v: S.StepDecay(v, 2, 0.5)(3), "lr0", AT_FROM_0),
    Boundary("StepDecay step_size", lambda v: S.StepDecay(0.1, v, 0.5)(3), "step_size", integers(1)),
    Boundary("StepDecay gamma", lambda v: S.StepDecay(0.1, 2, v)(3), "gamma", AT_FROM_0),
    Boundary("StepDecay t", lambda v: S.StepDecay(0.1, 2, 0.5)(v), "t", integers(0)),
    Boundary("ExponentialDecay lr0", lambda v: S.ExponentialDecay(v, 0.1)(3), "lr0", AT_FROM_0),
    Boundary("ExponentialDecay k", lambda v: S.ExponentialDecay(0.1, v)(3), "k", AT_FROM_0),
    Boundary("ExponentialDecay t", lambda v: S.ExponentialDecay(0.1, 0.1)(v), "t", integers(0)),
    Boundary("InverseTimeDecay lr0", lambda v: S.InverseTimeDecay(v, 0.1)(3), "lr0", AT_FROM_0),
    Boundary("InverseTimeDecay k", lambda v: S.InverseTimeDecay(0.1, v)(3), "k", AT_FROM_0),
    Boundary("InverseTimeDecay t", lambda v: S.InverseTimeDecay(0.1, 0.1)(v), "t", integers(0)),
]


@prove_each(BOUNDARIES)
def test_each_argument_check_holds_at_its_boundary(boundary):
    boundary.prove()


# --- behaviour --------------------------------------------------------------------------------------

@pytest.mark.parametrize("make, error, message", [
    (lambda: schedules.StepDecay("0.1", 5, 0.5), TypeError, "lr0 must be a real number"),
    (lambda: schedules.StepDecay(0.1, None, 0.5), TypeError, "step_size must be a real number"),
    (lambda: schedules.StepDecay(0.1, float("inf"), 0.5), ValueError, "step_size must be an integer >= 1"),
    (lambda: schedules.ExponentialDecay(0.1, float("nan")), ValueError, "k must be a finite number >= 0"),
])
def test_schedule_arguments(make, error, message):
    with pytest.raises(error, match=message):
        make()


@pytest.mark.parametrize("t", [-1, 2.5, "3", None])
def test_schedules_take_epochs_0_1_2(t):
    for schedule in (schedules.StepDecay(0.1, 5, 0.5), schedules.ExponentialDecay(0.1, 0.1),
                     schedules.InverseTimeDecay(0.1, 0.1)):
        with pytest.raises((TypeError, ValueError), match=r"\bt must be"):
            schedule(t)


def test_schedules_values():
    assert [schedules.StepDecay(1.0, 5, 0.5)(t) for t in (0, 4, 5, 9, 10)] == [1, 1, 0.5, 0.5, 0.25]
    assert schedules.ExponentialDecay(2.0, 0.1)(10) == pytest.approx(2.0 * np.exp(-1.0))
    assert schedules.InverseTimeDecay(1.0, 0.5)(4) == pytest.approx(1 / 3)
