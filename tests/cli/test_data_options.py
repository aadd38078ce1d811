"""The data options of `run`: MNIST files a user has (--data mnist --data-dir), and the reason when
they are not there."""

from comparisons.cli import main

from ..harness.mnist_files import write_mnist


def test_cli_mnist_with_an_empty_data_dir_exits_2(tmp_path, capsys):
    assert main(["run", "mlp-backprop", "--quick", "--data", "mnist", "--data-dir", str(tmp_path),
                 "--out", str(tmp_path / "r")]) == 2
    assert "not found" in capsys.readouterr().err


def test_cli_mnist_with_small_files(tmp_path, capsys):
    write_mnist(tmp_path, n_train=40, n_test=20)
    code = main(["run", "minibatch", "--quick", "--data", "mnist", "--data-dir", str(tmp_path), "--out", str(tmp_path / "r")])
    out = capsys.readouterr().out
    assert "minibatch" in out
    assert code == 0, out
