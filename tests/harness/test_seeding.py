"""The same seed gives the same numbers, in every command and in every grouping of concepts: a
concept's records do not depend on what ran before it in the process or beside it in other worker
processes (each task seeds its own generators, see comparisons/seeding.py), and `verify` of code
that draws from NumPy's global generator gives the same verdict twice."""

import dataclasses
import json

import pytest

from comparisons import registry, runner
from comparisons.cli import main
from comparisons.context import RunOptions

from ..conftest import run_concept
from ..verify.files import BOOK, inside


def records_of(result, concept_id, dtype):
    contexts = next(c.contexts for c in result.concepts if c.concept.id == concept_id)
    ctx = next(c for c in contexts if c.dtype == dtype)
    return [dataclasses.asdict(r) for r in ctx.records]


def test_the_same_seed_gives_identical_numbers_and_figures(tmp_path):
    def numbers(folder):
        runner.run_and_write(["losses", "gradient-descent"], RunOptions(seed=11, quick=True), folder)
        return json.loads((folder / "results.json").read_text())["checks"]

    assert numbers(tmp_path / "a") == numbers(tmp_path / "b")
    assert (tmp_path / "a" / "figures" / "losses-outlier-fit.png").read_bytes() == \
           (tmp_path / "b" / "figures" / "losses-outlier-fit.png").read_bytes()


def test_worker_processes_give_the_numbers_of_one_process(tmp_path):
    """`run --jobs N` runs each (concept, dtype) in a worker process: the same checks, the same
    numbers, the same figures as one process running them in order."""
    ids, options = ["softmax", "gradient-descent"], RunOptions(seed=3, dtypes=("float64", "float32"), quick=True)
    runner.run_and_write(ids, options, tmp_path / "one")
    runner.run_and_write(ids, options, tmp_path / "two", jobs=2)
    checks = [json.loads((tmp_path / f / "results.json").read_text())["checks"] for f in ("one", "two")]
    assert checks[0] == checks[1] and len(checks[0]) > 0
    for png in (tmp_path / "one" / "figures").iterdir():
        assert (tmp_path / "two" / "figures" / png.name).read_bytes() == png.read_bytes()


@pytest.mark.parametrize("concept_id", ["dropout"])  # its masks come from torch's global generator
def test_a_concept_records_the_same_alone_and_after_another_concept(concept_id):
    alone = [dataclasses.asdict(r) for r in run_concept(concept_id, "float64").records]
    result = runner.run_concepts(["softmax", "minibatch", concept_id], RunOptions(seed=0, quick=True), None)
    assert records_of(result, concept_id, "float64") == alone


@pytest.mark.slow
def test_two_runs_of_concepts_that_train_write_identical_results(tmp_path):
    """The same as the first test, on concepts that train (longer runs, both dtypes)."""
    def checks(folder):
        runner.run_and_write(["activations", "optimizers"], RunOptions(seed=4, dtypes=("float64", "float32"), quick=True), folder)
        return json.loads((folder / "results.json").read_text())["checks"]

    a, b = checks(tmp_path / "a"), checks(tmp_path / "b")
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


@pytest.mark.slow
def test_every_concept_records_the_same_alone_and_inside_all_over_two_worker_processes():
    """`run X` alone and `run --all --jobs 2` give identical records for every X, in both dtypes."""
    options = RunOptions(seed=0, dtypes=("float64", "float32"), quick=True)
    result = runner.run_concepts(list(registry.concepts()), options, None, jobs=2)
    for concept_id in registry.concepts():
        for dtype in options.dtypes:
            alone = [dataclasses.asdict(r) for r in run_concept(concept_id, dtype).records]
            assert records_of(result, concept_id, dtype) == alone, f"{concept_id} {dtype}"


def test_verify_gives_the_same_json_twice(capsys):
    """The book's common/layers.py holds a Dropout that draws from NumPy's global generator."""
    outputs = []
    with inside(BOOK):
        for _ in range(2):
            main(["verify", "common/layers.py", "--json"])
            outputs.append(json.loads(capsys.readouterr().out))
    assert outputs[0] == outputs[1]
    assert any("Dropout" in str(o) for o in outputs[0]["objects"])
