"""Where the textbook and PyTorch differ, the difference is proved by an exact relation.

A check that two things differ passes for a wrong implementation too. So every ``differs`` in the
suite stands beside an exact check of the relation the guide states, and a mistake planted in a
textbook form must fail that relation, even where the two sides still "differ".

Each mutant runs a whole concept: the runs of the concepts that take seconds are ``slow``; the
optimizer mutants are also caught, cheaply, by their pairs (tests/pairs/test_optimizers.py).
"""

import numpy as np
import pytest

import scratch
import scratch.optim as O
from comparisons.concepts import losses as losses_concept
from comparisons.concepts import lr_schedules, optimizers, regularization
from comparisons.implementation import with_overrides

from ..conftest import catalogued, run_concept
from ..mutants import (AdamWrittenOut, AdamWDecayAfterTheStep, BatchNormAlwaysFromOne, BatchNormAlwaysUnbiased,
                       BookAdam, FoldedInverseM, FoldedIsTorchAdam, FoldedOnePlusBeta1, FoldedTimesInsteadOfDivide,
                       MomentumWithoutLrInside)


# --- Adam, the book's folded form: η_t = η·√(1 − β₂ᵗ)/(1 − β₁ᵗ), p ← p − η_t·m/(√v + ε) ----------------

@pytest.mark.slow
@pytest.mark.parametrize("name, written_out, relation", [("optim.AdamFolded", BookAdam, optimizers.FOLDED),
                                                         ("optim.Adam", AdamWrittenOut, optimizers.UNCORRECTED)],
                         ids=["the book's folded Adam", "Adam with and without bias correction"])
def test_adam_written_out_passes_and_its_relation_is_checked(name, written_out, relation):
    """The forms the mutants below are one line away from pass every check of the concept."""
    ctx = run_concept("optimizers", impl=with_overrides({name: written_out}))
    assert [r.check for r in ctx.records if not r.passed] == []
    assert relation in {r.check for r in ctx.records}


@pytest.mark.slow
@pytest.mark.parametrize("mistake", [FoldedTimesInsteadOfDivide, FoldedOnePlusBeta1, FoldedInverseM, FoldedIsTorchAdam],
                         ids=lambda c: c.__name__)
def test_a_mistake_in_the_folded_bias_correction_fails_the_relation(mistake):
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        ctx = run_concept("optimizers", impl=with_overrides({"optim.AdamFolded": mistake}))
    verdict = {r.check: r.passed for r in ctx.records}
    assert verdict[optimizers.FOLDED] is False
    if mistake is not FoldedIsTorchAdam:  # the mistake still "differs from torch": alone, that proved nothing
        assert verdict["Adam, book's folded form, differs from torch"] is True


# --- Adam without bias correction (the seed): p ← p − η·m/(√v + ε) ------------------------------------

def adam_with_uncorrected(uncorrected_step):
    """Adam written out (:class:`tests.mutants.AdamWrittenOut`) whose ``bias_correction=False`` form is
    ``uncorrected_step(opt, m, v, t)``."""
    return type("Adam", (AdamWrittenOut,), {"uncorrected": lambda self, m, v, t: uncorrected_step(self, m, v, t)})


UNCORRECTED_MISTAKES = {
    "ε inside the root": lambda o, m, v, t: o.lr * m / np.sqrt(v + o.eps),
    "ε scaled as in the folded form": lambda o, m, v, t: o.lr * m / (np.sqrt(v) + o.eps / np.sqrt(1 - o.beta2**t)),
    "corrected after all": lambda o, m, v, t: o.lr / (1 - o.beta1**t) * m / (np.sqrt(v / (1 - o.beta2**t)) + o.eps),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", UNCORRECTED_MISTAKES)
def test_a_mistake_in_adam_without_bias_correction_fails_the_relation(name):
    impl = with_overrides({"optim.Adam": adam_with_uncorrected(UNCORRECTED_MISTAKES[name])})
    ctx = run_concept("optimizers", impl=impl)
    assert optimizers.UNCORRECTED in [r.check for r in ctx.records if not r.passed]


# --- Nesterov: θ + μv of the look-ahead form is torch's p ------------------------------------------------

def lookahead_with_stale_velocity(grad_f, theta0, lr, momentum, steps):
    """Returns the velocity of the step before: θ + μv is then off by μ(v_t − v_{t−1})."""
    thetas, vs = O.nesterov_lookahead(grad_f, theta0, lr, momentum, steps)
    return thetas, np.concatenate([vs[:1], vs[:-1]])


@pytest.mark.slow
def test_a_mistake_in_the_lookahead_velocity_fails_the_relation():
    ctx = run_concept("optimizers", impl=with_overrides({"optim.nesterov_lookahead": lookahead_with_stale_velocity}))
    verdict = {r.check: r.passed for r in ctx.records}
    assert verdict["Nesterov: look-ahead θ + μv = torch's p"] is False
    assert verdict["Nesterov: look-ahead θ itself is not torch's p"] is True


# --- losses: the δ inside the log, the clamp in the BCE gradient ----------------------------------------

def cee_delta_outside_the_log(y, t, delta=1e-7):
    return scratch.losses.cross_entropy_error(y, t, 0.0) - delta


def bce_grad_clamped_at(constant):
    def grad(y, t):
        y, t = np.asarray(y), np.asarray(t)
        return (y - t) / np.maximum(y * (1.0 - y), constant) / y.size

    return grad


@pytest.mark.parametrize("overrides, relation", [
    ({"losses.cross_entropy_error": cee_delta_outside_the_log}, losses_concept.DELTA_RELATION),
    ({"losses.binary_cross_entropy_grad": bce_grad_clamped_at(1e-10)},
     "BCE gradient (saturated) × 1e-12/float32(1e-12) = torch"),
    ({"losses.binary_cross_entropy_grad": bce_grad_clamped_at(float(np.float32(1e-12)))},
     "BCE gradient (saturated) × 1e-12/float32(1e-12) = torch"),
], ids=["δ outside the log", "BCE clamp 1e-10", "BCE clamp float32(1e-12) as torch"])
def test_a_mistake_in_a_loss_form_fails_its_relation(overrides, relation):
    with np.errstate(divide="ignore", invalid="ignore"):
        ctx = run_concept("losses", impl=with_overrides(overrides))
    assert relation in [r.check for r in ctx.records if not r.passed]


# --- batch norm: torch's running_var = 0.9ᵗ + N/(N − 1)·book's -----------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("layer", [BatchNormAlwaysUnbiased, BatchNormAlwaysFromOne], ids=lambda c: c.__name__)
def test_a_mistake_in_the_books_running_variance_fails_the_relation(layer):
    ctx = run_concept("batchnorm", impl=with_overrides({"layers.BatchNorm1d": layer}))
    verdict = {r.check: r.passed for r in ctx.records}
    assert verdict["book running_var relation: torch = 0.9ᵗ + N/(N−1)·book"] is False
    assert verdict["book running_var differs from torch's"] is True


# --- momentum under a schedule: the textbook v is torch's b rescaled by η_old/η_new ----------------------

def test_torchs_momentum_posing_as_the_textbooks_fails_the_relation():
    ctx = run_concept("lr-schedules", impl=with_overrides({"optim.Momentum": MomentumWithoutLrInside}))
    relation = [r for r in ctx.records if r.check.startswith(lr_schedules.MOMENTUM_RELATION)]
    assert relation and not all(r.passed for r in relation)


# --- Adam + L2 against AdamW: the decay divided by √v̂, or not --------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("adamw", [catalogued("optimizer", "adamw", "coupled decay", in_place_of="optim.AdamW"),
                                   AdamWDecayAfterTheStep], ids=["coupled decay (catalogued)", "decay after the step"])
def test_a_mistake_in_decoupled_decay_fails_the_relation(adamw):
    ctx = run_concept("regularization", impl=with_overrides({"optim.AdamW": adamw}))
    assert regularization.DECAY_RELATION in [r.check for r in ctx.records if not r.passed]
