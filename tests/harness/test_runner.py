"""The runner: a concept that raises is recorded as failed and the others go on; an interrupted run
leaves the previous report as it was."""

from pathlib import Path

import pytest

from comparisons import lessons, registry, runner
from comparisons.context import RunOptions


def _concept(cid, run):
    lesson = lessons.parse(f'+++\nid = "{cid}"\ntitle = "A planted concept"\n+++\n' + "x" * 600, Path(f"{cid}.md"))
    return registry.Concept(cid, lesson, run)


def _boom(ctx):
    ctx.compare("before the error", 1.0, 1.0)
    raise ZeroDivisionError("planted")


def test_raising_concept_is_recorded_and_others_go_on(monkeypatch, tmp_path):
    real = registry.concepts()
    monkeypatch.setattr(registry, "concepts", lambda: {"boom": _concept("boom", _boom), **real})
    result = runner.run_and_write(["boom", "softmax"], RunOptions(), tmp_path / "rep")
    assert not result.passed
    by_concept = {c.concept.id: c.records for c in result.concepts}
    assert any("ZeroDivisionError: planted" in r.note for r in by_concept["boom"])
    assert by_concept["boom"][0].passed  # what was recorded before the error is kept
    assert all(r.passed for r in by_concept["softmax"])
    assert (tmp_path / "rep" / "index.html").exists()


def test_interrupted_run_leaves_previous_report(monkeypatch, tmp_path):
    out = tmp_path / "rep"
    runner.run_and_write(["softmax"], RunOptions(), out)
    before = (out / "results.json").read_bytes()

    def interrupt(ctx):
        raise KeyboardInterrupt

    real = registry.concepts()
    monkeypatch.setattr(registry, "concepts", lambda: {"interrupt": _concept("interrupt", interrupt), **real})
    with pytest.raises(KeyboardInterrupt):
        runner.run_and_write(["softmax", "interrupt"], RunOptions(), out)
    assert (out / "results.json").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["rep"], "temporary folders are cleaned up"
