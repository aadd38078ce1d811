"""scratch.optim: one update of every optimizer against its torch.optim counterpart from the same state (0-d
parameters too), parameters updated in place with a state per key, and the errors of parameters that cannot be
updated in place.

Every argument check at its boundary, on both sides: the learning rate and ε from 0 (inf refused), momentum,
β₁ and β₂ in [0, 1) (β₂ = 1 refused, just under 1 accepted), RMSProp's decay rate in [0, 1], AdamW's weight
decay from 0."""

import math

import numpy as np
import pytest
import torch

import torch_ref.optim as topt
from scratch import optim
from scratch import schedules
from scratch import optim as O

from .malformed import (FLAG, INF, Array, Boundary, Case, DictOfArrays, Int, Other, Real, T, Tg, fresh, integers,
                        interval, malformed_input_tests, prove_each, read_only)
from .valid import P0, G0


# --- malformed input: torch's result or an error naming the argument ------------------------------

# one update from the same state; torch's counterpart by its builder in torch_ref

ADAM = {"lr": Real(0.1, low=0), "beta1": Real(0.9, low=0, high=1, high_open=True),
        "beta2": Real(0.999, low=0, high=1, high_open=True), "eps": Real(1e-8, low=0)}
OPTIMIZERS = {  # name → (hyperparameters and how they are malformed, torch builder from them)
    "SGD": ({"lr": Real(0.1, low=0)}, lambda ps, lr: topt.sgd(ps, lr)),
    "Momentum": ({"lr": Real(0.1, low=0), "momentum": Real(0.9, low=0, high=1, high_open=True)},
                 lambda ps, lr, momentum: topt.momentum(ps, lr, momentum)),
    "Nesterov": ({"lr": Real(0.1, low=0), "momentum": Real(0.9, low=0, high=1, high_open=True)},
                 lambda ps, lr, momentum: topt.nesterov(ps, lr, momentum)),
    "AdaGrad": ({"lr": Real(0.1, low=0), "eps": Real(1e-10, low=0)}, lambda ps, lr, eps: topt.adagrad(ps, lr, eps)),
    "RMSProp": ({"lr": Real(0.1, low=0), "decay_rate": Real(0.99, low=0, high=1), "eps": Real(1e-8, low=0)},
                lambda ps, lr, decay_rate, eps: topt.rmsprop(ps, lr, decay_rate, eps)),
    "Adam": ({**ADAM, "bias_correction": FLAG},
             lambda ps, lr, beta1, beta2, eps, bias_correction: topt.adam(ps, lr, (beta1, beta2), eps)),
    "AdamFolded": ({**ADAM, "bias_correction": FLAG},  # step 1 is torch's Adam with ε/√(1 − β₂)
                   lambda ps, lr, beta1, beta2, eps, bias_correction:
                       topt.adam(ps, lr, (beta1, beta2), eps / math.sqrt(1 - beta2))),
    "AdamW": ({**ADAM, "weight_decay": Real(0.01, low=0)},
              lambda ps, lr, beta1, beta2, eps, weight_decay: topt.adamw(ps, lr, (beta1, beta2), eps, weight_decay)),
}


def optimizer_cases(name):
    hyper, build = OPTIMIZERS[name]
    cls = getattr(O, name)
    valid = {k: a.valid for k, a in hyper.items()}

    def update(params, grads):
        params = fresh(params)
        cls(**valid).update(params, grads)
        return params["p"]

    def torch_update(params, grads):
        p = Tg(params["p"])
        p.grad = T(grads["p"])
        build([p], **valid).step()
        return p

    # a NumPy scalar, a Python float and a read-only array cannot be updated in place
    bad_params = DictOfArrays({"p": P0}, Array(P0, extra=[np.float64(1.0), 1.0, read_only(P0)]))
    return {
        f"optim.{name}.update": Case({"params": bad_params, "grads": DictOfArrays({"p": G0}, Array(G0))},
                                     update, torch_update, rtol=1e-12),
    }


def nesterov_phi(theta0, lr, momentum, steps):
    """torch's Nesterov path on f = ½‖x‖² is φ = θ + μ·v of the look-ahead form (see optim.Nesterov)."""
    return topt.minimize(lambda x: 0.5 * (x**2).sum(), T(theta0), lambda ps: topt.nesterov(ps, lr, momentum), steps)[0]


def lookahead_phi(grad_f, theta0, lr, momentum, steps):
    thetas, vs = O.nesterov_lookahead(grad_f, theta0, lr, momentum, steps)
    return thetas + momentum * vs


CASES = {
    **{key: case for name in OPTIMIZERS for key, case in optimizer_cases(name).items()},
    "optim.nesterov_lookahead": Case(
        {"grad_f": Other(lambda x: x, [None, 3, lambda x: np.ones(7), lambda x: "g"]), "theta0": Array(P0[0]),
         "lr": Real(0.1, low=0), "momentum": Real(0.9, low=0, high=1, high_open=True), "steps": Int(3)},
        lookahead_phi, lambda grad_f, theta0, lr, momentum, steps: nesterov_phi(theta0, lr, momentum, steps),
        rtol=1e-12),
}


test_valid_arguments_give_torchs_result, test_malformed_input_gives_torchs_result_or_names_the_argument = \
    malformed_input_tests(CASES)


# --- argument checks at their boundaries ------------------------------------------------------------

AT_RATE = interval(0.0, INF, high_open=True)  # [0, inf): 0 allowed, inf refused
AT_FRACTION = interval(0.0, 1.0, high_open=True)  # [0, 1)


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
    Boundary("SGD lr", lambda v: step(O.SGD(v)), "lr", AT_RATE),
    Boundary("lr set between updates", with_lr, "lr", AT_RATE),
    Boundary("Momentum lr", lambda v: step(O.Momentum(v)), "lr", AT_RATE),
    Boundary("Momentum momentum", lambda v: step(O.Momentum(0.1, v)), "momentum", AT_FRACTION),
    Boundary("Nesterov momentum", lambda v: step(O.Nesterov(0.1, v)), "momentum", AT_FRACTION),
    Boundary("nesterov_lookahead lr", lambda v: O.nesterov_lookahead(lambda x: 2 * x, np.ones(2), v, 0.9, 2), "lr",
             AT_RATE),
    Boundary("nesterov_lookahead momentum", lambda v: O.nesterov_lookahead(lambda x: 2 * x, np.ones(2), 0.1, v, 2),
             "momentum", AT_FRACTION),
    Boundary("nesterov_lookahead steps", lambda v: O.nesterov_lookahead(lambda x: 2 * x, np.ones(2), 0.1, 0.9, v),
             "steps", integers(0)),
    Boundary("AdaGrad eps", lambda v: step(O.AdaGrad(0.1, v)), "eps", AT_RATE),
    Boundary("RMSProp decay_rate", lambda v: step(O.RMSProp(0.1, v)), "decay_rate", interval(0.0, 1.0)),
    Boundary("RMSProp eps", lambda v: step(O.RMSProp(0.1, 0.99, v)), "eps", AT_RATE),
    Boundary("Adam beta1", lambda v: step(O.Adam(0.1, beta1=v)), "beta1", AT_FRACTION),
    Boundary("Adam beta2", lambda v: step(O.Adam(0.1, beta2=v)), "beta2", AT_FRACTION),
    Boundary("Adam eps", lambda v: step(O.Adam(0.1, eps=v)), "eps", AT_RATE),
    Boundary("AdamFolded beta2", lambda v: step(O.AdamFolded(0.1, beta2=v)), "beta2", AT_FRACTION),
    Boundary("AdamW weight_decay", lambda v: step(O.AdamW(0.1, weight_decay=v)), "weight_decay", AT_RATE),
    Boundary("AdamW beta2", lambda v: step(O.AdamW(0.1, beta2=v)), "beta2", AT_FRACTION),
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


# --- behaviour --------------------------------------------------------------------------------------

UPDATES = {
    "SGD": (lambda: optim.SGD(0.1), lambda ps: topt.sgd(ps, 0.1)),
    "Momentum": (lambda: optim.Momentum(0.1, 0.9), lambda ps: topt.momentum(ps, 0.1, 0.9)),
    "Nesterov": (lambda: optim.Nesterov(0.1, 0.9), lambda ps: topt.nesterov(ps, 0.1, 0.9)),
    "AdaGrad": (lambda: optim.AdaGrad(0.1), lambda ps: topt.adagrad(ps, 0.1)),
    "RMSProp": (lambda: optim.RMSProp(0.1), lambda ps: topt.rmsprop(ps, 0.1)),
    "Adam": (lambda: optim.Adam(0.1), lambda ps: topt.adam(ps, 0.1)),
    "AdamW": (lambda: optim.AdamW(0.1), lambda ps: topt.adamw(ps, 0.1)),
}


@pytest.mark.parametrize("name", UPDATES)
def test_optimizers_update_a_0d_parameter_as_torch(name):
    make, make_torch = UPDATES[name]
    p = np.array(1.5)
    opt = make()
    pt = torch.tensor(1.5, dtype=torch.float64, requires_grad=True)
    opt_t = make_torch([pt])
    for g in (0.3, -0.2, 0.7):
        opt.update({"p": p}, {"p": np.array(g)})
        pt.grad = torch.tensor(g, dtype=torch.float64)
        opt_t.step()
        assert p.shape == () and p == pytest.approx(pt.item(), rel=1e-15, abs=0)


@pytest.mark.parametrize("name", UPDATES)
@pytest.mark.parametrize("param, message", [
    (np.float64(1.5), r"params\['p'\] must be an ndarray, updated in place; got float64"),
    (1.5, r"params\['p'\] must be an ndarray, updated in place; got float"),
    ([1.5], r"params\['p'\] must be an ndarray, updated in place; got list"),
    (np.array([1, 2]), r"params\['p'\] must have a floating dtype .* only Tensors of floating point dtype"),
])
def test_optimizers_refuse_parameters_they_cannot_update_in_place(name, param, message):
    grads = {"p": np.zeros(np.shape(param)), "q": np.ones(2)}
    q = np.zeros(2)
    with pytest.raises(TypeError, match=message):
        UPDATES[name][0]().update({"q": q, "p": param}, grads)
    assert np.all(q == 0)  # checked before anything moved


def test_optimizer_refuses_a_read_only_parameter():
    p = np.zeros(2)
    p.flags.writeable = False
    with pytest.raises(ValueError, match=r"params\['p'\] is read-only"):
        optim.SGD(0.1).update({"p": p}, {"p": np.ones(2)})


def test_optimizer_state_keeps_the_shape_of_its_parameter():
    opt = optim.Adam(0.1)
    opt.update({"p": np.zeros(3)}, {"p": np.ones(3)})
    with pytest.raises(ValueError, match=r"params\['p'\] has shape \(2, 3\), but the optimizer's state"):
        opt.update({"p": np.zeros((2, 3))}, {"p": np.ones((2, 3))})


@pytest.mark.parametrize("make", [lambda: optim.SGD("0.1"), lambda: optim.Adam(lr="0.1"),
                                  lambda: optim.Momentum(None), lambda: optim.AdaGrad([0.1])])
def test_learning_rate_of_the_wrong_type(make):
    with pytest.raises(TypeError, match="lr must be a real number"):
        make()


def test_learning_rate_set_by_hand_is_checked_at_the_update():
    opt = optim.SGD(0.1)
    opt.lr = "0.1"
    p = np.ones(2)
    with pytest.raises(TypeError, match="lr must be a real number, got str '0.1'"):
        opt.update({"p": p}, {"p": np.ones(2)})
    assert np.all(p == 1)


@pytest.mark.parametrize("make, message", [
    (lambda: optim.Momentum(0.1, momentum="0.9"), "momentum must be a real number"),
    (lambda: optim.Adam(beta1=None), "beta1 must be a real number"),
    (lambda: optim.Adam(eps="1e-8"), "eps must be a real number"),
    (lambda: optim.Adam(bias_correction="no"), "bias_correction must be True or False"),
    (lambda: optim.AdamW(weight_decay=[0.1]), "weight_decay must be a real number"),
])
def test_hyperparameters_of_the_wrong_type(make, message):
    with pytest.raises(TypeError, match=message):
        make()


def test_update_needs_dicts():
    with pytest.raises(TypeError, match="params must be a dict, got list"):
        optim.SGD(0.1).update([np.zeros(2)], {"p": np.ones(2)})
    with pytest.raises(TypeError, match=r"grads\['p'\] must be a real numeric array, got NoneType"):
        optim.SGD(0.1).update({"p": np.zeros(2)}, {"p": None})


def test_integer_gradients_are_their_float_values():
    p, q = np.zeros(2), np.zeros(2)
    optim.Adam(0.1).update({"p": p}, {"p": np.array([1, -2])})
    optim.Adam(0.1).update({"p": q}, {"p": np.array([1.0, -2.0])})
    assert np.array_equal(p, q)


def test_nesterov_lookahead_checks_its_arguments():
    with pytest.raises(TypeError, match="grad_f must be callable"):
        optim.nesterov_lookahead(None, np.ones(2), 0.1, 0.9, 3)
    with pytest.raises(ValueError, match="steps must be an integer >= 0"):
        optim.nesterov_lookahead(lambda x: x, np.ones(2), 0.1, 0.9, -1)
    with pytest.raises(ValueError, match=r"the value of grad_f must have shape \(2,\)"):
        optim.nesterov_lookahead(lambda x: np.ones((3, 2)), np.ones(2), 0.1, 0.9, 3)


@pytest.mark.parametrize("make, message", [
    (lambda: O.SGD(lr=-0.1), "Invalid learning rate"),
    (lambda: O.Momentum(0.1, momentum=1.0), r"momentum must be in \[0.0, 1.0\)"),
    (lambda: O.Momentum(0.1, momentum=-0.1), "momentum must be in"),
    (lambda: O.Adam(beta1=1.0), r"beta1 must be in \[0.0, 1.0\)"),
    (lambda: O.Adam(beta2=-0.5), "beta2 must be in"),
    (lambda: O.Adam(eps=-1e-8), "Invalid epsilon value"),
    (lambda: O.AdaGrad(0.1, eps=-1), "Invalid epsilon value"),
    (lambda: O.RMSProp(0.1, decay_rate=1.5), "decay_rate must be in"),
    (lambda: O.AdamW(weight_decay=-1), "Invalid weight_decay"),
    (lambda: O.SGD(lr=float("nan")), "Invalid learning rate"),
    (lambda: schedules.StepDecay(0.1, 0, 0.5), "step_size must be an integer >= 1"),
    (lambda: schedules.ExponentialDecay(-0.1, 0.1), "Invalid initial learning rate"),
    (lambda: schedules.InverseTimeDecay(0.1, -1), "k must be a finite number >= 0"),
])
def test_bad_hyperparameters_raise(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_update_checks_keys_and_shapes():
    opt = O.SGD(0.1)
    with pytest.raises(KeyError, match=r"grads has no entry for \['b'\]"):
        opt.update({"W": np.ones(2), "b": np.ones(1)}, {"W": np.ones(2)})
    with pytest.raises(ValueError, match="must have the same shape"):
        opt.update({"W": np.ones(2)}, {"W": np.ones(3)})


@pytest.mark.parametrize("cls", [O.SGD, O.Momentum, O.Nesterov, O.AdaGrad, O.RMSProp, O.Adam, O.AdamW, O.AdamFolded])
def test_update_is_in_place_with_state_per_key(cls):
    opt = cls(lr=0.1)
    W, b = np.ones((2, 3)), np.zeros(3)
    params = {"W": W, "b": b}
    opt.update(params, {"W": np.full((2, 3), 0.5), "b": np.full(3, -1.0)})
    assert params["W"] is W and params["b"] is b  # the same arrays, changed in place
    assert not np.all(W == 1) and not np.all(b == 0)
    assert set(opt.state) == {"W", "b"}


def test_lr_is_an_attribute_a_schedule_can_change():
    opt = O.SGD(0.1)
    p = {"w": np.array([1.0])}
    opt.lr = 0.0
    opt.update(p, {"w": np.array([5.0])})
    assert p["w"][0] == 1.0
