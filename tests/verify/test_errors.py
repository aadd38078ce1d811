"""verify's errors name the real cause. A bad flag, a bad hyperparameter (against the reference's own
rules, before anything is built), a folder, a file that cannot be read, a name too long, a file
with nothing verify knows: exit status 2 and one line. A result of the wrong form is the user's
verdict, saying what was expected. Ctrl-C: one line, exit status 130."""

import os

import pytest

from comparisons.cli import main
from comparisons.pairs import VerifyUsageError, get
from comparisons.verify import verify

from ..conftest import interrupted_command
from .files import FIXTURES, inside, judged

ABUSE = FIXTURES / "abuse"
GOOD = "stateful.py:GoodRelu"

BAD_FLAGS = [
    (["verify", GOOD, "--timeout", "0"], "--timeout: expected a positive finite number of seconds, got '0'"),
    (["verify", GOOD, "--timeout", "-1"], "got '-1'"),
    (["verify", GOOD, "--timeout", "nan"], "got 'nan'"),
    (["verify", GOOD, "--timeout", "inf"], "got 'inf'"),
    (["verify", GOOD, "--timeout", "soon"], "got 'soon'"),
    (["verify", GOOD, "--steps", "0"], "--steps: expected an integer from 1 to 100,000"),
    (["verify", GOOD, "--steps", "1e12"], "--steps"),
    (["verify", GOOD, "--seed", "-1"], "--seed"),
    (["verify", GOOD, "--dtype", "float16"], "--dtype"),
    (["verify", "layer", GOOD, "--against", "relu", "--hparam", "grad_at_zero=0.5"], "must be one of [0, 1]"),
    (["verify", "optimizer", "opt.py:SGD", "--against", "sgd", "--hparam", "lr=nan"], "lr must be a finite number"),
    (["verify", "optimizer", "opt.py:SGD", "--against", "sgd", "--hparam", "lr=-1"], "lr must be in [0, inf)"),
    (["verify", "optimizer", "opt.py:SGD", "--against", "sgd", "--hparam", "lr=inf"], "lr must be a finite number"),
    (["verify", "opt.py", "--hparam", "lr=-0.5"], "lr must be in [0, inf) for optimizer sgd, got -0.5"),
    (["verify", "opt.py", "--hparam", "p=1"], "p must be in [0, 1) for layer dropout, got 1"),
    (["verify", "opt.py", "--hparam", "p=-0.1"], "p must be in [0, 1)"),
    (["verify", "opt.py", "--hparam", "momentum=1"], "momentum must be in [0, 1) for optimizer momentum, got 1"),
    (["verify", "optimizer", "opt.py:Adam", "--against", "adam", "--hparam", "beta2=1"], "beta2 must be in [0, 1)"),
    (["verify", "layer", "opt.py:Pooling", "--against", "max-pool", "--hparam", "stride=1.5"], "whole number"),
    (["verify", "layer", "opt.py:Pooling", "--against", "max-pool", "--hparam", "pool_h=0"], "pool_h must be in [1, inf)"),
    (["verify", "nothing.py"], "nothing in nothing.py is recognised: it defines double, Helper; verify knows the names"),
    (["verify", "adir.py"], "adir.py is a folder"),
    (["verify", "layer", "adir.py:Relu"], "adir.py is a folder"),
    (["verify", "x" * 4400 + ".py"], "File name too long"),
    (["verify", "missing.py"], "no such file: missing.py"),
    (["verify", "no_such_module:Relu"], "no module named 'no_such_module'"),
    (["verify", "."], "verify .: is a folder; give one .py file in it"),
    (["verify", "opt.txt"], "verify opt.txt: no such file"),
    (["verify", "layer"], "verify layer: give the object after it, as layer MODULE:NAME"),
    (["verify"], "verify needs FILE.py, or KIND MODULE:NAME, or MODULE:NAME alone"),
]

OPTIMIZERS = '''
import numpy as np


class SGD:
    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        for k in params:
            params[k] -= self.lr * grads[k]


class Adam(SGD):
    pass


class Momentum(SGD):
    def __init__(self, lr=0.01, momentum=0.9):
        self.lr = lr


class Dropout:
    def __init__(self, dropout_ratio=0.5):
        raise RuntimeError("built")

    def forward(self, x, train_flg=True):
        return x

    def backward(self, dout):
        return dout


class Pooling:
    def __init__(self, pool_h, pool_w, stride=1, pad=0):
        raise RuntimeError("built")

    def forward(self, x):
        return x

    def backward(self, dout):
        return dout
'''


@pytest.fixture()
def folder(tmp_path, monkeypatch):
    """The abuse fixtures and a file of optimizers and layers whose constructors must never run."""
    for path in ABUSE.glob("*.py"):
        (tmp_path / path.name).write_text(path.read_text())
    (tmp_path / "opt.py").write_text(OPTIMIZERS)
    (tmp_path / "adir.py").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("argv, message", BAD_FLAGS, ids=[" ".join(a[1:])[:60] for a, _ in BAD_FLAGS])
def test_a_bad_flag_or_path_exits_2_with_one_line(folder, argv, message, capsys):
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert message in captured.err, captured.err
    assert len(captured.err.strip().splitlines()) == 1 and not captured.out


def test_a_bad_hyperparameter_is_refused_before_the_class_is_built(folder):
    with pytest.raises(VerifyUsageError, match="p must be in"):
        verify("layer", "opt.py:Dropout", "dropout", {"p": 1.0})
    assert verify("layer", "opt.py:Dropout", "dropout", {"p": 0.5}).error.endswith("raised RuntimeError: built")


def test_the_bounds_are_the_references_own():
    dropout, adam = get("layer", "dropout").hparam("p"), get("optimizer", "adam").hparam("beta2")
    assert dropout.problem(0.0) is None and dropout.problem(0.999) is None and dropout.problem(1) is not None
    assert adam.problem(0.0) is None and adam.problem(1.0) is not None and adam.problem(float("nan")) is not None
    stride = get("layer", "conv2d").hparam("stride")
    assert stride.problem(1) is None and stride.problem(0) is not None and stride.problem(2.5) is not None


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_a_file_that_cannot_be_read_exits_2(folder, capsys):
    (folder / "locked.py").write_text("def relu(x):\n    return x\n")
    (folder / "locked.py").chmod(0)
    assert main(["verify", "locked.py"]) == 2
    assert "cannot read locked.py: Permission denied" in capsys.readouterr().err


def test_a_result_of_the_wrong_form_is_the_users_verdict():
    found, _ = judged(ABUSE, "wrong_results.py")
    assert found["Relu"].verdict == "error"
    assert found["Relu"].error == "forward returned None; expected an array of shape (1, 4)"
    assert found["Sigmoid"].verdict == "differs" and "transposed" in found["Sigmoid"].hint
    assert found["tanh"].verdict == "differs" and "<U4" in found["tanh"].hint and "text, not numbers" in found["tanh"].hint
    assert not any("PyTorch rejects" in (r.hint or r.error or "") for r in found.values())


def test_an_import_that_raises_is_the_files_verdict(tmp_path, capsys):
    (tmp_path / "broken.py").write_text("import numpy as np\nundefined_name\n")
    with inside(tmp_path):
        assert main(["verify", "broken.py"]) == 1
    assert "ERROR: importing 'broken.py' raised NameError: name 'undefined_name' is not defined" in capsys.readouterr().out


def test_ctrl_c_prints_one_line_and_exits_130(tmp_path, monkeypatch):
    started = tmp_path / "started"
    monkeypatch.setenv("VERIFY_STARTED", str(started))
    status, err = interrupted_command(["verify", str(ABUSE / "interrupted.py")], started.exists)
    assert status == 130
    assert err.strip().splitlines() == ["interrupted: verify stopped before its verdicts; nothing was written"]
