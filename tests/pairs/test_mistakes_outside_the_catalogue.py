"""A mistake that is no catalogue entry is still told apart by the pair's check, and a correct form
written out by hand (the book's own Adam) agrees: the pair's comparison, not its catalogue, is
what decides. (The same mutants fail the relations the concepts state: tests/concepts.)"""

import pytest

from comparisons import pairs
from comparisons.verify import format_result, judge

from ..mutants import (AdamWDecayAfterTheStep, BatchNormAlwaysFromOne, BatchNormAlwaysUnbiased, BookAdam,
                       DropoutScalesAtEval, FoldedInverseM, FoldedIsTorchAdam, FoldedOnePlusBeta1,
                       FoldedTimesInsteadOfDivide, StepDecayOffByOne)

STEPS = 30


def test_the_books_folded_adam_written_out_agrees_once_folded_is_given():
    result = judge(pairs.get("optimizer", "adam"), BookAdam, "BookAdam", {"folded": 1}, steps=STEPS)
    assert result.passed, format_result(result)


@pytest.mark.parametrize("mutant", [FoldedTimesInsteadOfDivide, FoldedOnePlusBeta1, FoldedInverseM, FoldedIsTorchAdam],
                         ids=lambda c: c.__name__)
def test_a_mistake_in_the_folded_bias_correction_differs(mutant):
    result = judge(pairs.get("optimizer", "adam"), mutant, mutant.__name__, {"folded": 1}, steps=STEPS)
    assert result.verdict == "differs", format_result(result)


def test_adamw_that_decays_after_the_step_differs():
    result = judge(pairs.get("optimizer", "adamw"), AdamWDecayAfterTheStep, "AdamWDecayAfterTheStep", steps=STEPS)
    assert result.verdict == "differs", format_result(result)


@pytest.mark.parametrize("mutant, flag", [(BatchNormAlwaysUnbiased, {"unbiased_running_var": 0}),
                                          (BatchNormAlwaysFromOne, {"running_var_init": 0})],
                         ids=lambda v: getattr(v, "__name__", ""))
def test_a_batch_norm_that_ignores_the_books_running_variance_flag_differs(mutant, flag):
    result = judge(pairs.get("layer", "batchnorm"), mutant, mutant.__name__, flag)
    assert result.verdict == "differs", format_result(result)


def test_dropout_that_also_scales_in_evaluation_differs_and_says_by_what():
    result = judge(pairs.get("layer", "dropout"), DropoutScalesAtEval, "DropoutScalesAtEval")
    assert result.verdict == "differs" and "1 − p" in (result.hint or ""), format_result(result)


def test_step_decay_one_epoch_early_differs():
    result = judge(pairs.get("schedule", "step-decay"), StepDecayOffByOne, "StepDecayOffByOne")
    assert result.verdict == "differs", format_result(result)
