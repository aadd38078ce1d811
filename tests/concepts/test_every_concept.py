"""Every registered concept, from its registration: its quick run passes every check in float64 and
float32, its exact float64 checks are tight, and its lesson names only checks the run records.

The float64 runs are the default suite's; the float32 runs of the concepts whose quick set-up
takes seconds, and the runs at another seed, are ``slow`` (``make test-all``; the seed sweep runs
every check at seeds 0-19 in both dtypes)."""

import math

import pytest

from comparisons import registry

from ..conftest import failed_checks, run_concept

IDS = list(registry.concepts())
# The concepts whose float32 quick run takes several seconds: run by `make test-all` and the sweep.
SLOW_IN_FLOAT32 = {"xor-mlp", "weight-init", "optimizers", "lr-schedules", "regularization", "dropout", "batchnorm",
                   "hyperparameter-search", "rnn", "transformer", "delta-rule"}


def dtype_cases():
    for concept_id in IDS:
        yield pytest.param(concept_id, "float64", id=f"{concept_id}-float64")
        marks = [pytest.mark.slow] if concept_id in SLOW_IN_FLOAT32 else []
        yield pytest.param(concept_id, "float32", marks=marks, id=f"{concept_id}-float32")


@pytest.mark.parametrize("concept_id, dtype", list(dtype_cases()))
def test_every_check_of_the_quick_run_passes(concept_id, dtype):
    ctx = run_concept(concept_id, dtype)
    assert ctx.records, "a concept must record checks"
    assert failed_checks(ctx) == []
    kinds = {r.kind for r in ctx.records}
    assert kinds & {"exact", "trained"}, "every concept compares NumPy against PyTorch"


@pytest.mark.parametrize("concept_id", [pytest.param(c, marks=[pytest.mark.slow] if c in SLOW_IN_FLOAT32 else [])
                                        for c in IDS])  # the heavy runs' tightness: make test-all
def test_exact_float64_checks_are_tight(concept_id):
    """Exact float64 checks show max_rel_err <= 1e-10, except where the note explains an
    ill-conditioned quantity (tanh's 1 − y² near saturation) whose formula is proved equal elsewhere."""
    ctx = run_concept(concept_id, "float64")
    for r in ctx.records:
        if r.kind == "exact" and r.max_rel_err is not None and r.max_rel_err > 1e-10:
            assert "ulp" in r.note, f"{r.check}: max_rel_err {r.max_rel_err:.1e} without an explanation"
        if r.kind in ("exact", "trained"):
            assert r.max_abs_err is not None and math.isfinite(r.max_abs_err)


@pytest.mark.parametrize("concept_id", IDS)
def test_the_lesson_is_long_enough_and_shows_code_side_by_side(concept_id):
    concept = registry.get(concept_id)
    lesson = concept.lesson
    assert concept.id == concept_id and lesson.title and len(lesson.text) > 500
    assert lesson.pairs or lesson.code, f"{concept_id} shows no code side by side"


@pytest.mark.slow
@pytest.mark.parametrize("concept_id", ["regularization", "dropout", "batchnorm", "optimizers", "early-stopping"])
def test_the_findings_hold_at_another_seed(concept_id):
    """Findings must hold for any seed, not only the one the report uses (one more seed here; the
    seed sweep, `python -m comparisons sweep`, runs every check at 20 and more)."""
    assert failed_checks(run_concept(concept_id, "float64", seed=5)) == []


FLOAT32_FIGURES = ["linear-regression", "xor-mlp", "early-stopping", "multitask", "lr-schedules"]


@pytest.mark.slow
def test_float32_as_the_first_dtype_makes_the_report(tmp_path):
    """Figures and tables come from the first dtype: in float32 the NumPy curves are the lockstep
    side's (there is no free-running run), and the report is still complete. The concepts whose
    figures read float64-only results are the ones run here; the sweep runs them all."""
    from comparisons import runner
    from comparisons.context import RunOptions

    result = runner.run_and_write(FLOAT32_FIGURES, RunOptions(dtypes=("float32",), seed=1, quick=True), tmp_path / "rep")
    assert [r.check for r in result.records if not r.passed] == []
    assert (tmp_path / "rep" / "index.html").exists()


def test_float32_as_the_first_dtype_makes_the_figures_of_a_concept_that_trains(tmp_path):
    """The same with one cheap concept whose figures draw training curves (the slow test above runs
    every concept whose figures read float64-only results)."""
    from comparisons import runner
    from comparisons.context import RunOptions

    result = runner.run_and_write(["multitask"], RunOptions(dtypes=("float32",), seed=1, quick=True), tmp_path / "rep")
    assert [r.check for r in result.records if not r.passed] == []
    assert (tmp_path / "rep" / "index.html").exists() and list((tmp_path / "rep" / "figures").glob("multitask*.png"))
