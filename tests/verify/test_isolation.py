"""verify runs the user's code in a worker process. A file whose import hangs or ends the process is
that file's ERROR, within the time limit; an object that ends, crashes, hangs or interrupts the
process judging it is that object's ERROR, saying what happened, and the others are judged all the
same. The user's prints go to standard error: ``--json`` stays valid, even after 10 MB of them."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from comparisons import verify_worker
from comparisons.cli import main
from comparisons.verify import verify, verify_file

from .files import FIXTURES, inside

ABUSE = FIXTURES / "abuse"
ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(not verify_worker.available(), reason="the worker process needs os.fork (Linux)")


def command(*argv, timeout=300):
    """``python -m comparisons ARGV`` from the abuse fixtures' folder: (exit status, stdout, stderr)."""
    done = subprocess.run([sys.executable, "-m", "comparisons", *argv], cwd=ABUSE, capture_output=True, text=True,
                          timeout=timeout, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    return done.returncode, done.stdout, done.stderr


def test_an_import_that_hangs_is_the_files_error_within_the_time_limit():
    status, out, err = command("verify", "hang_at_import.py", "--timeout", "2", "--json")
    assert status == 1, err
    report = json.loads(out)
    assert report["objects"] == [] and report["error"] == "importing hang_at_import.py ran past the time limit of 2 s"


def test_an_import_that_ends_the_process_is_the_files_error():
    with inside(ABUSE):
        result = verify_file("exit_at_import.py", timeout=30)
    assert not result.passed and result.results == []
    assert "importing exit_at_import.py ended the process running it with exit status 3" in result.error


def test_each_misbehaving_object_is_its_own_error_and_the_others_are_judged():
    status, out, err = command("verify", "misbehaving.py", "--timeout", "3", "--json")
    assert status == 1
    objects = {o["name"]: o for o in json.loads(out)["objects"]}  # valid JSON: the prints went elsewhere
    assert objects["sigmoid"]["verdict"] == "agrees" and objects["Sigmoid"]["verdict"] == "agrees"
    errors = {name: o["hint"] for name, o in objects.items() if o["verdict"] == "error"}
    assert set(errors) == {"Relu", "tanh", "relu", "softmax"}
    assert "exit status 4" in errors["Relu"]
    assert "SIGSEGV" in errors["tanh"]
    assert errors["relu"] == "relu ran past the time limit of 3 s"
    assert "raised KeyboardInterrupt" in errors["softmax"]
    assert "misbehaving.py: imported" in err and "Sigmoid.forward" in err
    assert "misbehaving.py: imported" not in out and "Sigmoid.forward" not in out


def test_ten_megabytes_of_prints_leave_the_json_valid():
    status, out, err = command("verify", "loud.py", "--json")
    assert status == 0, err[-2000:]
    report = json.loads(out)
    assert [(o["name"], o["verdict"]) for o in report["objects"]] == [("Relu", "agrees")]
    assert len(err) > 10_000_000 and "{not json" in err


def test_one_object_that_ends_its_process_or_hangs_is_an_error(capsys):
    with inside(ABUSE):
        assert main(["verify", "layer", "misbehaving.py:Relu", "--json"]) == 1
        exited = json.loads(capsys.readouterr().out)
        assert main(["verify", "misbehaving.py:relu", "--timeout", "1"]) == 1
    assert exited["verdict"] == "error" and "exit status 4" in exited["hint"]
    assert "ERROR: misbehaving.py:relu ran past the time limit of 1 s" in capsys.readouterr().out


def test_the_time_limit_covers_the_import_of_one_object_too():
    with inside(ABUSE):
        result = verify("function", "hang_at_import.py:relu", "relu", timeout=1)
    assert result.verdict == "error" and result.error == "importing 'hang_at_import.py' ran past the time limit of 1 s"


def test_a_notebook_object_is_judged_in_a_worker_and_in_this_process_alike():
    class Relu:
        def forward(self, x):
            self.mask = x <= 0
            return np.where(self.mask, 0.0, x)

        def backward(self, dout):
            return np.where(self.mask, 0.0, dout)

    forked, here = verify("layer", Relu, "relu"), verify("layer", Relu, "relu", isolate=False)
    assert forked.passed and here.passed
    assert [(r.check, r.max_abs_err) for r in forked.records] == [(r.check, r.max_abs_err) for r in here.records]


def test_a_worker_that_runs_past_its_time_is_ended_with_everything_it_started():
    def main_(send):
        import subprocess as sp

        send(("child", sp.Popen(["sleep", "60"]).pid))
        while True:
            pass

    with verify_worker.Worker(main_) as worker:
        _, pid = worker.receive(30, "the test")
        with pytest.raises(verify_worker.Lost, match="ran past the time limit of 0.5 s"):
            worker.receive(0.5, "the test")
    assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]


def test_a_whole_file_judged_in_this_process_gets_the_same_verdicts():
    with inside(ABUSE):
        forked, here = verify_file("stateful.py"), verify_file("stateful.py", isolate=False)
    assert [(r.target, r.verdict, r.hint) for r in forked.results] == [(r.target, r.verdict, r.hint) for r in here.results]
