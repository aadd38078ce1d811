"""Loading the user's code: a file inside a package (relative imports), each file with its own
packages (both volumes of the book name theirs ``common``), and the reference found from the
object's name or kind without ``--against``."""

import sys

from comparisons.cli import main
from comparisons.verify_load import load_module, package_root

from .files import BOOK, BOOK2, SETS, inside, one


def test_a_file_inside_a_package_is_a_module_of_it():
    root, name = package_root(SETS / "assignment2" / "cs231n" / "classifiers" / "fc_net.py")
    assert (root, name) == (SETS / "assignment2", "cs231n.classifiers.fc_net")
    module = load_module(str(SETS / "assignment2" / "cs231n" / "classifiers" / "fc_net.py"))
    assert module.__name__ == "cs231n.classifiers.fc_net" and hasattr(module, "affine_relu_forward")
    assert "cs231n" not in sys.modules  # put back as it was


def test_both_volumes_in_one_process():
    with inside(BOOK):
        first = load_module("common/layers.py")
    with inside(BOOK2):
        second = load_module("common/layers.py")
    assert first.Affine is not second.Affine
    assert isinstance(second.Affine(__import__("numpy").zeros((2, 3)), __import__("numpy").zeros(3)).params, list)
    assert "common" not in sys.modules


def test_the_reference_from_the_name_or_the_kind(capsys):
    result = one(BOOK, None, "ch05/two_layer_net.py:TwoLayerNet", hparams={"delta": 1e-7, "activation": "sigmoid"},
                 steps=10)
    assert result.against == "mlp" and result.kind == "network"
    assert result.hparams["delta"] == 1e-7  # passed on
    with inside(BOOK2):
        assert main(["verify", "layer", "common/time_layers.py:TimeAffine"]) == 0
        assert main(["verify", "common/time_layers.py:RNN"]) == 0  # one step: rnn-step
    out = capsys.readouterr().out
    assert "against time-affine" in out and "against rnn-step" in out
