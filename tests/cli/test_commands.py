"""The command line as a user meets it: list, run into a folder, usage errors with exit 2."""

import json
import os
import subprocess
import sys

import pytest

from comparisons import registry
from comparisons.cli import main

from ..conftest import command_with_a_killed_worker, interrupted_command


def test_list(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for cid in registry.concepts():
        assert cid in out


def test_output_into_a_closed_pipe_stops_quietly():
    """`python -m comparisons list | head -1`: the reader is gone before the output ends."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # every write now fails with EPIPE, as once `head` has exited
    try:
        done = subprocess.run([sys.executable, "-m", "comparisons", "list"], stdout=write_end, stderr=subprocess.PIPE,
                              text=True, timeout=120)
    finally:
        os.close(write_end)
    assert "Traceback" not in done.stderr and "BrokenPipeError" not in done.stderr, done.stderr


def test_run_one_concept(tmp_path, capsys):
    out = tmp_path / "rep"
    assert main(["run", "softmax", "--out", str(out), "--seed", "5"]) == 0
    stdout = capsys.readouterr().out
    assert "softmax" in stdout and "checks passed" in stdout
    results = json.loads((out / "results.json").read_text())
    assert results["meta"]["seed"] == 5
    record = results["checks"][0]
    for key in ("concept", "check", "passed", "max_abs_err", "max_rel_err", "atol", "rtol", "dtype", "device", "seed"):
        assert key in record
    assert (out / "index.html").exists() and (out / "glossary.html").exists()
    assert (out / "tables" / "softmax-checks.csv").exists() and (out / "tables" / "softmax-checks.md").exists()
    assert (out / "figures" / "softmax-probabilities.png").exists()
    assert '<img src="../figures/softmax-probabilities.png"' in (out / "concepts" / "softmax.html").read_text()


@pytest.mark.parametrize("options, setup, data", [
    ([], "full", "mnist"), (["--quick"], "quick", "digits"), (["--quick", "--data", "mnist"], "quick", "mnist"),
    (["--data", "digits"], "full", "digits"),
])
def test_run_makes_the_full_length_set_ups_on_mnist_unless_told_quick(options, setup, data, tmp_path, capsys):
    out = tmp_path / "rep"
    assert main(["run", "softmax", "--out", str(out)] + options) == 0
    meta = json.loads((out / "results.json").read_text())["meta"]
    assert (meta["setup"], meta["data"]) == (setup, data)
    page = (out / "concepts" / "softmax.html").read_text()
    assert ("full-length set-ups" if setup == "full" else "quick set-ups") in page
    assert ("MNIST" if data == "mnist" else "8×8 digits") in page


@pytest.mark.parametrize("argv, message", [
    (["run", "no-such-concept"], "unknown concept 'no-such-concept'"),
    (["run"], "name the concepts to run"),
    (["run", "softmax", "--dtype", "float16"], "invalid choice"),
    (["run", "softmax", "--seed", "x"], "argument --seed: expected an integer from 0 to 2**63 - 1"),
    (["run", "softmax", "--quick", "--data-dir", "mnist-files"], "--data-dir is read only with MNIST"),
    (["run", "softmax", "--data", "digits", "--data-dir", "mnist-files"], "--data-dir is read only with MNIST"),
    (["run", "softmax", "--full"], "unrecognized arguments: --full"),
    (["run", "softmax", "--all"], "not both"),
    (["run", "softmax", "--jobs", "0"], "--jobs must be >= 1"),
    (["run", "softmax", "--jobs", "-2"], "--jobs must be >= 1"),
    (["run", "softmax", "--jobs", "65"], "--jobs must be >= 1 and at most 64"),
    (["run", "softmax", "--jobs", "1.5"], "argument --jobs: invalid int value: '1.5'"),
    (["run", "softmax", "--dtype"], "argument --dtype: expected at least one argument"),
    (["run", "softmax", "--dtype", "float64", "float64"], "--dtype names a dtype twice"),
    (["run", "softmax", "--device", "tpu"], "--device must be 'cpu' or 'cuda'"),
    (["run", "softmax", "--data", "mnist", "--data-dir", "d" * 4400], "--data-dir ddd"),
    (["run", "softmax", "--data", "mnist", "--data-dir", "/nonexistent"], "is not a folder"),
    (["bench", "--repeats", "0"], "--repeats must be >= 1"),
    (["bench", "--repeats", "-1"], "--repeats must be >= 1"),
    (["bench", "--repeats", "10000000"], "at most 100,000"),
    (["bench", "--repeats", "many"], "argument --repeats: invalid int value"),
    (["bench", "--device", "tpu"], "--device must be 'cpu' or 'cuda'"),
    (["frobnicate"], "invalid choice"),
    ([], "name a command"),
])
def test_usage_errors_exit_2_with_one_line(argv, message, capsys, tmp_path):
    assert main(argv + ["--out", str(tmp_path / "x")] if argv[:1] in (["run"], ["bench"]) else argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err
    assert len(err.splitlines()) == 1 and len(err) < 3000
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", [["run", "softmax"], ["bench"], ["sweep", "softmax", "--seeds", "0"]])
@pytest.mark.parametrize("out, message", [
    ("x" * 4400, "a name in it is too long for the file system (4,400 bytes; at most 255)"),
    ("/".join(["y" * 200] * 22), "the path is too long for the file system"),
    ("r" * 240, "cannot write beside it: its name is too long"),
    ("loop/rep", "runs through a loop of symbolic links"),
    ("a\0b", "a path cannot hold the character NUL"),
    ("file.txt", "is a file, not a folder"),
])
def test_an_output_path_that_cannot_be_used_is_one_line_naming_why(command, out, message, capsys, tmp_path,
                                                                    monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "file.txt").write_text("mine")
    (tmp_path / "loop").symlink_to(tmp_path / "pool")
    (tmp_path / "pool").symlink_to(tmp_path / "loop")
    before = sorted(os.listdir(tmp_path))
    assert main(command + ["--out", out]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err and err.endswith("nothing was changed"), err
    assert sorted(os.listdir(tmp_path)) == before


@pytest.mark.parametrize("jobs", ["1", pytest.param("2", marks=pytest.mark.slow)])  # workers: make test-all
def test_ctrl_c_during_a_run_exits_130_with_one_line_and_the_old_report_intact(tmp_path, jobs):
    """A real SIGINT to the process group, as a terminal sends it, while the concepts run."""
    from comparisons.outdir import MARKER

    out = tmp_path / "rep"
    assert main(["run", "softmax", "--out", str(out)]) == 0
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    # softmax makes its figures at once; the interrupt comes while regularization runs
    status, err = interrupted_command(["run", "softmax", "regularization", "--dtype", "float64", "float32",
                                       "--jobs", jobs, "--out", str(out)],
                                      started=lambda: list(tmp_path.glob(".rep.tmp-*/figures/*")))
    assert status == 130, err
    assert "Traceback" not in err, err
    assert err.strip().splitlines()[-1].startswith("interrupted: no report was written;")
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert (out / MARKER).exists() and sorted(p.name for p in tmp_path.iterdir()) == ["rep"]


@pytest.mark.parametrize("command", [["run", "softmax"], ["verify", "activation", "mine.py:f", "--against", "sigmoid"]])
@pytest.mark.parametrize("seed", ["-1", str(2**63), str(2**64), "1.5", "1e3", ""])
def test_a_seed_numpy_and_torch_do_not_both_accept_is_a_usage_error(command, seed, capsys, tmp_path):
    argv = command + ["--seed", seed] + (["--out", str(tmp_path / "x")] if command[0] == "run" else [])
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: argument --seed: expected an integer from 0 to 2**63 - 1") and repr(seed) in err
    assert len(err.splitlines()) == 1
    assert not (tmp_path / "x").exists()


def test_the_largest_seed_runs(tmp_path, capsys):
    assert main(["run", "softmax", "--seed", str(2**63 - 1), "--out", str(tmp_path / "rep")]) == 0
    assert json.loads((tmp_path / "rep" / "results.json").read_text())["meta"]["seed"] == 2**63 - 1


def test_a_concept_named_twice_runs_once_in_the_order_first_given(tmp_path, capsys):
    out = tmp_path / "rep"
    assert main(["run", "numerical-gradient", "softmax", "numerical-gradient", "softmax", "--out", str(out)]) == 0
    checks = json.loads((out / "results.json").read_text())["checks"]
    assert list(dict.fromkeys(c["concept"] for c in checks)) == ["numerical-gradient", "softmax"]
    keys = [(c["concept"], c["dtype"], c["check"]) for c in checks]
    assert len(keys) == len(set(keys)), "no check is recorded twice"
    assert capsys.readouterr().out.count("\nsoftmax ") == 1, "the summary lists it once"


def test_cuda_without_gpu_is_a_usage_error(capsys, tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    assert main(["run", "softmax", "--device", "cuda", "--out", str(tmp_path / "x")]) == 2
    assert "no CUDA GPU" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_module_entry_point(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "comparisons", "run", "nope"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: unknown concept")


@pytest.mark.gpu
def test_run_on_cuda(tmp_path):
    assert main(["run", "activations", "losses", "--device", "cuda", "--dtype", "float64", "float32",
                 "--out", str(tmp_path / "gpu")]) == 0
    results = json.loads((tmp_path / "gpu" / "results.json").read_text())
    assert all(r["device"].startswith("cuda") for r in results["checks"])


def test_a_worker_that_dies_is_one_line_and_exit_1_with_the_old_report_intact(tmp_path, capsys):
    """A worker killed (by the out-of-memory killer, say) ends the run with one line, not a
    traceback and not a hang; the report folder is as it was."""
    out = tmp_path / "rep"
    assert main(["run", "softmax", "--out", str(out)]) == 0
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    status, err = command_with_a_killed_worker(["run", "softmax", "regularization", "--jobs", "2", "--out", str(out)])
    assert status == 1, err
    assert err.strip().splitlines()[-1] == "error: a worker process ended without its result (killed, or out of " \
                                           "memory?); no output folder was changed"
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rep"]
