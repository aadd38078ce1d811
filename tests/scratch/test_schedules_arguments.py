"""Every argument check of scratch.schedules at its boundary, on both sides: the initial rate,
γ and k from 0 (inf refused), the step size from 1, the epoch t from 0."""

from scratch import schedules as S

from .malformed import INF, Boundary, integers, interval, prove_each

FROM_0 = interval(0.0, INF, high_open=True)

BOUNDARIES = [
    Boundary("StepDecay lr0", lambda v: S.StepDecay(v, 2, 0.5)(3), "lr0", FROM_0),
    Boundary("StepDecay step_size", lambda v: S.StepDecay(0.1, v, 0.5)(3), "step_size", integers(1)),
    Boundary("StepDecay gamma", lambda v: S.StepDecay(0.1, 2, v)(3), "gamma", FROM_0),
    Boundary("StepDecay t", lambda v: S.StepDecay(0.1, 2, 0.5)(v), "t", integers(0)),
    Boundary("ExponentialDecay lr0", lambda v: S.ExponentialDecay(v, 0.1)(3), "lr0", FROM_0),
    Boundary("ExponentialDecay k", lambda v: S.ExponentialDecay(0.1, v)(3), "k", FROM_0),
    Boundary("ExponentialDecay t", lambda v: S.ExponentialDecay(0.1, 0.1)(v), "t", integers(0)),
    Boundary("InverseTimeDecay lr0", lambda v: S.InverseTimeDecay(v, 0.1)(3), "lr0", FROM_0),
    Boundary("InverseTimeDecay k", lambda v: S.InverseTimeDecay(0.1, v)(3), "k", FROM_0),
    Boundary("InverseTimeDecay t", lambda v: S.InverseTimeDecay(0.1, 0.1)(v), "t", integers(0)),
]


@prove_each(BOUNDARIES)
def test_each_argument_check_holds_at_its_boundary(boundary):
    boundary.prove()
