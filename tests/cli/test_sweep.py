"""The seed sweep: every check's pass rate over seeds, its worst error and where it failed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from comparisons.cli import main
from comparisons import sweep as S
from comparisons.sweep import MAX_SEEDS, aggregate, parse_seeds

from ..conftest import command_with_a_killed_worker, interrupted_command


@pytest.mark.parametrize("spec, seeds", [("0-3", [0, 1, 2, 3]), ("5", [5]), ("0,5,7-9", [0, 5, 7, 8, 9]),
                                         ("2,2,1-2", [2, 1])])
def test_seeds_are_ranges_and_lists_each_once_in_order(spec, seeds):
    assert parse_seeds(spec) == seeds


@pytest.mark.parametrize("spec", ["", "x", "3-1", "-1", "1-", "0-2**70", str(2**63), "-3-5", "1.5", "0-1e3", "0,,3",
                                  "0x10", "9" * 5000, "0--3"])
def test_bad_seeds_name_the_option(spec):
    with pytest.raises(ValueError, match="--seeds"):
        parse_seeds(spec)


@pytest.mark.parametrize("spec, named", [("0-100000000000000", "100,000,000,000,001 seeds"),
                                         (f"0-{MAX_SEEDS}", f"{MAX_SEEDS + 1:,} seeds"),
                                         (f"{MAX_SEEDS},0-{MAX_SEEDS - 1}", f"{MAX_SEEDS + 1:,} seeds"),
                                         (f"0-{2**63 - 1},5", f"{2**63:,} seeds")])
def test_too_many_seeds_are_refused_before_any_list_is_made(spec, named):
    with pytest.raises(ValueError, match=f"--seeds names {named}; one sweep takes at most {MAX_SEEDS:,}"):
        parse_seeds(spec)


@pytest.mark.parametrize("spec", [f"0-{MAX_SEEDS - 1}", f"0-{MAX_SEEDS - 1},{MAX_SEEDS - 1},0-5",
                                  f"5-{MAX_SEEDS + 4},5-{MAX_SEEDS + 4}"])
def test_as_many_seeds_as_the_limit_are_accepted_each_counted_once(spec):
    assert len(parse_seeds(spec)) == MAX_SEEDS


def test_seeds_from_0_to_the_largest_are_accepted_and_no_further():
    assert parse_seeds(f"0,{2**63 - 1}") == [0, 2**63 - 1]
    assert parse_seeds(f"{2**63 - 2}-{2**63 - 1}") == [2**63 - 2, 2**63 - 1]
    with pytest.raises(ValueError, match="from 0 to 2\\*\\*63 - 1, got 9223372036854775808"):
        parse_seeds(f"{2**63 - 1}-{2**63}")
    with pytest.raises(ValueError, match="runs backwards; write 1-3"):
        parse_seeds("3-1")


def _record(check, passed, rel, seed_kind="exact"):
    return {"concept": "c", "check": check, "dtype": "float64", "passed": passed, "max_rel_err": rel,
            "max_abs_err": rel, "kind": seed_kind}


def test_a_row_per_check_with_pass_rate_worst_error_and_failed_seeds():
    by_seed = {0: [_record("a", True, 1e-16), _record("b", True, 1e-15)],
               1: [_record("a", False, 1e-3), _record("b", True, 1e-14)],
               2: [_record("a", True, 1e-12)]}  # "b" missing at seed 2: it counts as failed there
    rows = {r["check"]: r for r in aggregate(by_seed)}
    assert rows["a"]["passed"] == 2 and rows["a"]["runs"] == 3 and rows["a"]["failed_seeds"] == [1]
    assert rows["a"]["worst_max_rel_err"] == 1e-3 and rows["a"]["worst_seed"] == 1
    assert rows["b"]["failed_seeds"] == [2] and rows["b"]["worst_seed"] == 1
    assert [r["check"] for r in aggregate(by_seed)][0] in ("a", "b")  # failing checks first


def test_sweep_command_writes_json_and_table_and_exits_0_when_all_pass(tmp_path, capsys):
    out = tmp_path / "sweep"
    assert main(["sweep", "softmax", "--seeds", "3-4", "--dtype", "float32", "--jobs", "1", "--out", str(out)]) == 0
    sweep = json.loads((out / "sweep.json").read_text())
    assert sweep["seeds"] == [3, 4] and sweep["dtypes"] == ["float32"]
    assert sweep["setup"] == "quick", "the sweep runs the quick set-ups unless --full"
    assert sweep["checks"] and all(c["runs"] == 2 and c["pass_rate"] == 1.0 for c in sweep["checks"])
    assert (out / "sweep.md").read_text().startswith("Seeds 3–4 (2) × float32, quick set-ups")
    assert "2/2 tasks" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["sweep"], "the partial file is gone once the folder is written"


def test_sweep_refuses_a_folder_it_did_not_write(tmp_path, capsys):
    (tmp_path / "mine.txt").write_text("keep me")
    assert main(["sweep", "softmax", "--seeds", "0", "--out", str(tmp_path)]) == 2
    assert (tmp_path / "mine.txt").read_text() == "keep me"
    assert "--jobs" not in capsys.readouterr().err


# --- finished work is never thrown away --------------------------------------------------------------------

SWEEP = ["sweep", "softmax", "--seeds", "0-1", "--dtype", "float64", "--jobs", "1"]


def one_line(capsys) -> str:
    """The last line on stderr (after a progress bar's), the command's one-line reason."""
    return capsys.readouterr().err.strip().splitlines()[-1]


def partial_of(out: Path) -> Path:
    return out.with_name(f".{out.name}.partial.jsonl")


def tasks_in(partial: Path) -> list:
    lines = partial.read_text().splitlines()
    return [(e["seed"], e["concept"], e["dtype"]) for e in map(json.loads, lines[1:])]


def checks_of(out: Path) -> list:
    return json.loads((out / "sweep.json").read_text())["checks"]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """The sweep of SWEEP run once without trouble: what a resumed sweep must equal."""
    out = tmp_path_factory.mktemp("whole") / "sweep"
    assert main(SWEEP + ["--out", str(out)]) == 0
    return checks_of(out)


def test_each_finished_task_is_on_disk_before_the_next_starts(tmp_path, monkeypatch, capsys):
    out = tmp_path / "sweep"
    on_disk = []
    monkeypatch.setattr(S, "progress_bar", lambda done, total, s: on_disk.append(tasks_in(partial_of(out))))
    assert main(SWEEP + ["--out", str(out)]) == 0
    assert on_disk == [[(0, "softmax", "float64")], [(0, "softmax", "float64"), (1, "softmax", "float64")]]


def test_a_folder_that_goes_bad_during_the_sweep_keeps_the_finished_tasks_to_resume(tmp_path, monkeypatch, capsys,
                                                                                     uninterrupted):
    out = tmp_path / "sweep"
    S.write_sweep({"seeds": [0], "dtypes": ["float64"], "concepts": [], "wall_s": 0.0, "checks": []}, out)
    original = S.progress_bar

    def user_writes_a_note(done, total, seconds):
        (out / "notes.txt").write_text("mine")  # while the sweep runs
        original(done, total, seconds)
    monkeypatch.setattr(S, "progress_bar", user_writes_a_note)
    assert main(SWEEP + ["--out", str(out)]) == 2
    err = one_line(capsys)
    assert "notes.txt, not written by this project" in err and "2 of 2 finished tasks are kept in" in err
    assert "--resume" in err and tasks_in(partial_of(out)) == [(0, "softmax", "float64"), (1, "softmax", "float64")]
    assert (out / "notes.txt").read_text() == "mine"

    (out / "notes.txt").unlink()
    monkeypatch.setattr(S, "progress_bar", lambda done, total, seconds: pytest.fail(f"a task ran again ({done}/{total})"))
    assert main(SWEEP + ["--out", str(out), "--resume"]) == 0
    assert "resuming: 2 of 2 tasks finished earlier" in capsys.readouterr().err
    assert json.loads((out / "sweep.json").read_text())["resumed_tasks"] == 2
    assert checks_of(out) == uninterrupted
    assert not partial_of(out).exists()


def test_an_interrupted_sweep_keeps_its_finished_tasks_and_resumes_where_it_stopped(tmp_path, monkeypatch, capsys,
                                                                                     uninterrupted):
    out = tmp_path / "sweep"

    def ctrl_c(done, total, seconds):
        raise KeyboardInterrupt
    monkeypatch.setattr(S, "progress_bar", ctrl_c)
    assert main(SWEEP + ["--out", str(out)]) == 130
    err = one_line(capsys)
    assert err.startswith("interrupted: 1 of 2 finished tasks are kept in") and "--resume" in err
    assert tasks_in(partial_of(out)) == [(0, "softmax", "float64")] and not out.exists()

    finished = []
    monkeypatch.setattr(S, "progress_bar", lambda done, total, seconds: finished.append((done, total)))
    assert main(SWEEP + ["--out", str(out), "--resume"]) == 0
    assert finished == [(2, 2)], "only the task not kept ran"
    assert json.loads((out / "sweep.json").read_text())["resumed_tasks"] == 1
    assert checks_of(out) == uninterrupted


def test_a_partial_file_removed_during_the_sweep_is_written_anew_with_every_finished_task(tmp_path, monkeypatch,
                                                                                         capsys):
    out = tmp_path / "sweep"
    seen = []

    def remove_it(done, total, seconds):
        seen.append(tasks_in(partial_of(out)))
        partial_of(out).unlink()
    monkeypatch.setattr(S, "progress_bar", remove_it)
    assert main(SWEEP + ["--out", str(out)]) == 0
    assert seen == [[(0, "softmax", "float64")], [(0, "softmax", "float64"), (1, "softmax", "float64")]]


def test_a_write_cut_short_is_redone_on_resume(tmp_path, capsys, uninterrupted):
    out = tmp_path / "sweep"
    assert main(SWEEP + ["--out", str(out)]) == 0
    partial = partial_of(out)
    header = json.dumps({"sweep": S.PARTIAL_HEADER, "options": S.Plan(("softmax",), (0, 1), ("float64",)).options()})
    whole = json.dumps({"seed": 0, "concept": "softmax", "dtype": "float64", "seconds": 0.1, "records": []})
    partial.write_text(header + "\n" + whole[:40])  # killed in the middle of the first task's line
    assert main(SWEEP + ["--out", str(out), "--resume"]) == 0
    assert checks_of(out) == uninterrupted


@pytest.mark.parametrize("given, named", [
    (["softmax", "--seeds", "0-2", "--dtype", "float64"], "--seeds 0-1 there, 0-2 here"),
    (["softmax", "--seeds", "0-1", "--dtype", "float32"], "--dtype float64 there, float32 here"),
    (["softmax", "--seeds", "0-1", "--dtype", "float64", "--full"], "--full not given there, given here"),
    (["losses", "--seeds", "0-1", "--dtype", "float64"], "ID softmax there, losses here"),
])
def test_resuming_with_other_options_is_refused(tmp_path, monkeypatch, capsys, given, named):
    out = tmp_path / "sweep"
    monkeypatch.setattr(S, "progress_bar", lambda *a: (_ for _ in ()).throw(KeyboardInterrupt))
    assert main(SWEEP + ["--out", str(out)]) == 130
    capsys.readouterr()
    before = partial_of(out).read_bytes()
    assert main(["sweep", *given, "--jobs", "1", "--out", str(out), "--resume"]) == 2
    err = one_line(capsys)
    assert "started with other options" in err and named in err and "delete the file" in err
    assert partial_of(out).read_bytes() == before


def test_a_partial_sweep_is_not_overwritten_without_resume(tmp_path, monkeypatch, capsys):
    out = tmp_path / "sweep"
    monkeypatch.setattr(S, "progress_bar", lambda *a: (_ for _ in ()).throw(KeyboardInterrupt))
    assert main(SWEEP + ["--out", str(out)]) == 130
    before = partial_of(out).read_bytes()
    capsys.readouterr()
    assert main(SWEEP + ["--out", str(out)]) == 2
    assert "add --resume to continue it, or delete that file to start over" in one_line(capsys)
    assert partial_of(out).read_bytes() == before


def test_a_file_of_the_partial_name_that_is_not_ours_is_kept(tmp_path, capsys):
    out = tmp_path / "sweep"
    partial_of(out).write_text("my own notes\n")
    assert main(SWEEP + ["--out", str(out), "--resume"]) == 2
    assert "is not a partial sweep of this project" in one_line(capsys)
    assert partial_of(out).read_text() == "my own notes\n"


def test_a_task_that_cannot_be_kept_is_a_one_line_error(tmp_path, monkeypatch, capsys):
    out = tmp_path / "sweep"

    def disk_full(self, entry):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(S.Partial, "add", disk_full)
    assert main(SWEEP + ["--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "No space left on device" in err and "0 of 2 finished tasks" in err


@pytest.mark.parametrize("argv, message", [
    (["--seeds", "0-100000000000000"], "--seeds names 100,000,000,000,001 seeds; one sweep takes at most 10,000"),
    (["--seeds", "-5"], "--seeds: seeds are integers from 0 to 2**63 - 1, never negative"),
    (["--seeds", "9-2"], "runs backwards"),
    (["--seeds", "a-b"], "--seeds takes seeds"),
    (["--jobs", "0"], "--jobs must be >= 1"),
    (["--jobs", "-3"], "--jobs must be >= 1"),
    (["--jobs", "100000"], "at most 64"),
    (["--jobs", "two"], "argument --jobs: invalid int value"),
    (["--dtype", "float16"], "invalid choice"),
    (["--dtype", "float64", "float64"], "names a dtype twice"),
    (["--device", "tpu"], "--device must be 'cpu' or 'cuda'"),
    (["--out", ""], "--out must name a folder"),
    (["--out", "x" * 4400], "a name in it is too long for the file system (4,400 bytes; at most 255)"),
    (["--out", "x" * 250], "cannot write beside it: its name is too long for the file system"),
    (["--out", "/".join(["y" * 200] * 22)], "the path is too long for the file system"),
    (["nosuch"], "unknown concept 'nosuch'"),
])
def test_every_bad_sweep_option_is_one_line_and_exit_2(argv, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["sweep", *(argv if argv[0] == "nosuch" else ["softmax", *argv])]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err, err
    assert len(err) < 3000
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_ctrl_c_in_a_sweep_with_workers_exits_130_with_one_line_and_keeps_the_finished_tasks(tmp_path):
    """A real SIGINT to the whole process group, as a terminal sends it: the workers ignore it, the
    sweep says what it kept, and no process prints a traceback."""
    out = tmp_path / "sweep"
    status, err = interrupted_command(["sweep", "losses", "--seeds", "0-199", "--jobs", "2", "--out", str(out)],
                                      started=lambda: partial_of(out).exists()
                                      and partial_of(out).read_text().count("\n") >= 3)
    assert status == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    last = err.strip().splitlines()[-1]
    assert last.startswith("interrupted: ") and "--resume" in last
    assert len(tasks_in(partial_of(out))) >= 2 and not out.exists()


def test_a_worker_that_dies_is_one_line_and_exit_1_with_the_finished_tasks_kept(tmp_path):
    """A worker killed (by the out-of-memory killer, say) while it runs a task."""
    out = tmp_path / "sweep"
    status, err = command_with_a_killed_worker(["sweep", "losses", "--seeds", "0-3", "--jobs", "2", "--out", str(out)])
    assert status == 1, err
    last = err.strip().splitlines()[-1]
    assert re.fullmatch(r"error: a worker process ended without its result \(killed, or out of memory\?\); "
                        r"\d of 8 finished tasks are kept in .*--resume to continue", last), last
    assert "Traceback" not in err and partial_of(out).exists() and not out.exists()
