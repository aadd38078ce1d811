"""scratch.regularization: the L1, L2 and elastic penalties and gradients against autograd (sign(0) = 0), early
stopping that restores the best weights, and what each refuses.

Every argument check at its boundary, on both sides: λ, λ₁, λ₂ and min_delta from 0 (inf refused), patience
from 1, a validation loss that is finite."""

import numpy as np
import pytest

from scratch import regularization
from scratch import regularization as R

from .malformed import (INF, Array, Boundary, Case, Other, Real, T, Tg, grad_of, integers, interval,
                        malformed_input_tests, prove_each)
from .valid import B, W


# --- malformed input: torch's result or an error naming the argument ------------------------------

WEIGHTS = [W, B[None, :]]
BAD_WEIGHTS = Other(WEIGHTS, [None, W, {"W1": W}, [W, "w"], [W, None], "weights", [W, W + 1j]])


def penalty_t(weights, l1=0.0, l2=0.0):
    ws = [T(w) for w in _as_list(weights)]
    return sum(l1 * w.abs().sum() + 0.5 * l2 * (w**2).sum() for w in ws)


def _as_list(weights):
    if not isinstance(weights, (list, tuple)):
        raise TypeError("a list of weights")
    return weights


CASES = {
    "regularization.l2_penalty": Case({"weights": BAD_WEIGHTS, "lam": Real(0.1, low=0)}, R.l2_penalty,
                                      lambda weights, lam: penalty_t(weights, l2=lam)),
    "regularization.l1_penalty": Case({"weights": BAD_WEIGHTS, "lam": Real(0.1, low=0)}, R.l1_penalty,
                                      lambda weights, lam: penalty_t(weights, l1=lam)),
    "regularization.elastic_penalty": Case({"weights": BAD_WEIGHTS, "l1": Real(0.1, low=0), "l2": Real(0.2, low=0)},
                                           R.elastic_penalty, penalty_t),
    "regularization.l2_grad": Case({"w": Array(W), "lam": Real(0.1, low=0)}, R.l2_grad,
                                   lambda w, lam: grad_of(lambda v: 0.5 * lam * (v**2).sum(), Tg(w))[0]),
    "regularization.l1_grad": Case({"w": Array(W), "lam": Real(0.1, low=0)}, R.l1_grad,
                                   lambda w, lam: grad_of(lambda v: lam * v.abs().sum(), Tg(w))[0]),
    "regularization.elastic_grad": Case({"w": Array(W), "l1": Real(0.1, low=0), "l2": Real(0.2, low=0)}, R.elastic_grad,
                                        lambda w, l1, l2: grad_of(lambda v: penalty_t([v], l1, l2), Tg(w))[0]),
}

test_valid_arguments_give_torchs_result, test_malformed_input_gives_torchs_result_or_names_the_argument = \
    malformed_input_tests(CASES)


# --- argument checks at their boundaries ------------------------------------------------------------

AT_W = np.array([[1.0, -2.0], [0.0, 0.5]])
AT_FROM_0 = interval(0.0, INF, high_open=True)

BOUNDARIES = [
    Boundary("l2_penalty lam", lambda v: R.l2_penalty([AT_W], v), "lam", AT_FROM_0),
    Boundary("l2_grad lam", lambda v: R.l2_grad(AT_W, v), "lam", AT_FROM_0),
    Boundary("l1_penalty lam", lambda v: R.l1_penalty([AT_W], v), "lam", AT_FROM_0),
    Boundary("l1_grad lam", lambda v: R.l1_grad(AT_W, v), "lam", AT_FROM_0),
    Boundary("elastic_penalty l1", lambda v: R.elastic_penalty([AT_W], v, 0.1), "l1", AT_FROM_0),
    Boundary("elastic_grad l2", lambda v: R.elastic_grad(AT_W, 0.1, v), "l2", AT_FROM_0),
    Boundary("EarlyStopping patience", lambda v: R.EarlyStopping(v), "patience", integers(1)),
    Boundary("EarlyStopping min_delta", lambda v: R.EarlyStopping(2, v), "min_delta", AT_FROM_0),
    Boundary("EarlyStopping.step val_loss", lambda v: R.EarlyStopping(2).step(v, {"W": AT_W}), "val_loss",
             interval(-INF, INF, low_open=True, high_open=True)),
]


@prove_each(BOUNDARIES)
def test_each_argument_check_holds_at_its_boundary(boundary):
    boundary.prove()


# --- behaviour --------------------------------------------------------------------------------------

@pytest.mark.parametrize("call, error, message", [
    (lambda: regularization.l2_penalty(None, 0.1), TypeError, "weights must be a list of weight arrays"),
    (lambda: regularization.l1_penalty([np.ones(2), "w"], 0.1), TypeError, r"weights\[1\] must be a real numeric"),
    (lambda: regularization.l2_grad(np.ones(2), "0.1"), TypeError, "lam must be a real number"),
    (lambda: regularization.elastic_penalty([np.ones(2)], -1, 0.1), ValueError, "l1 must be a finite number >= 0"),
    (lambda: regularization.elastic_grad(np.ones(2), 0.1, float("nan")), ValueError, "l2 must be a finite number"),
    (lambda: regularization.EarlyStopping(patience=None), TypeError, "patience must be a real number"),
    (lambda: regularization.EarlyStopping(patience=float("inf")), ValueError, "patience must be an integer >= 1"),
    (lambda: regularization.EarlyStopping().step("0.5", {}), TypeError, "val_loss must be a real number"),
    (lambda: regularization.EarlyStopping().step(0.5, [np.ones(2)]), TypeError, "params must be a dict"),
])
def test_regularization_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_early_stopping_restores_only_into_arrays_of_the_same_shape():
    stopper = regularization.EarlyStopping()
    stopper.step(0.5, {"w": np.ones(3)})
    with pytest.raises(ValueError, match=r"params\['w'\] must have shape \(3,\)"):
        stopper.restore({"w": np.zeros(1)})  # NumPy would broadcast into it
    with pytest.raises(TypeError, match=r"params\['w'\] must be an ndarray, updated in place"):
        stopper.restore({"w": 0.0})
    with pytest.raises(TypeError, match=r"params\['w'\] must have a floating dtype"):
        stopper.restore({"w": np.zeros(3, dtype=int)})  # the best values would be truncated
    with pytest.raises(ValueError, match="params has no entry 'w'"):
        stopper.restore({})


@pytest.mark.parametrize("patience", [0, -1, 1.5])
def test_early_stopping_bad_patience(patience):
    with pytest.raises(ValueError, match="patience must be an integer >= 1"):
        regularization.EarlyStopping(patience=patience)


def test_early_stopping_bad_min_delta_and_order():
    with pytest.raises(ValueError, match="min_delta must be"):
        regularization.EarlyStopping(patience=2, min_delta=-1)
    with pytest.raises(RuntimeError, match="before any step"):
        regularization.EarlyStopping(patience=2).restore({})


def test_early_stopping_restores_best():
    stopper = regularization.EarlyStopping(patience=2)
    params = {"w": np.array([0.0])}
    for epoch, loss in enumerate([3.0, 1.0, 2.0, 2.5]):
        params["w"][0] = epoch
        if stopper.step(loss, params):
            break
    assert stopper.best_epoch == 1 and stopper.stopped_epoch == 3
    assert stopper.restore(params)["w"][0] == 1.0


def test_penalties_bad_lambda():
    with pytest.raises(ValueError, match="lam must be a finite number >= 0"):
        regularization.l2_penalty([np.ones(2)], -0.1)
