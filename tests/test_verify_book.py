"""The acceptance target: the book's own ``common/*.py`` and ``ch05/two_layer_net.py`` (copies in
tests/fixtures/book) and a CS231n-style ``layers.py``/``fc_net.py``, one command per file, no
adapter. Every object gets its true verdict; every convention is named with the flag that makes
it agree, and with that flag it agrees."""

import textwrap
from pathlib import Path

import pytest

from comparisons.verify import verify, verify_file

FIXTURES = Path(__file__).parent / "fixtures"


def verdicts(path):
    result = verify_file(path)
    return {r.target: r for r in result.results}, dict(result.skipped)


@pytest.fixture()
def book(monkeypatch):
    monkeypatch.chdir(FIXTURES / "book")


@pytest.fixture()
def cs231n(monkeypatch):
    monkeypatch.chdir(FIXTURES / "cs231n")


def test_functions(book):
    found, _ = verdicts("common/functions.py")
    for name in ("identity_function", "sigmoid", "sigmoid_grad", "relu", "softmax"):
        assert found[name].verdict == "agrees", name
    assert "no attribute 'int'" in found["step_function"].error  # np.int is gone from NumPy
    assert "NumPy 1.24 removed the alias np.int: write int" in found["step_function"].error
    assert "raised TypeError" in found["relu_grad"].error  # the book's np.zeros(x)
    assert "np.zeros(x) needs x.shape, or np.zeros_like(x)" in found["relu_grad"].error
    assert "--against sse" in found["mean_squared_error"].hint  # ½·Σ, named MSE
    for name in ("cross_entropy_error", "softmax_loss"):
        assert found[name].verdict == "differs" and "--hparam delta=1e-07" in found[name].hint
        assert verify("loss", f"common/functions.py:{name}", found[name].against, {"delta": 1e-7}).passed


def test_layers(book):
    found, skipped = verdicts("common/layers.py")
    for name in ("Relu", "Sigmoid", "Affine"):
        assert found[name].verdict == "agrees", name
    assert set(skipped) == {"Convolution", "Pooling"}
    flags = {"SoftmaxWithLoss": {"delta": 1e-7}, "Dropout": {"inverted": 0},
             "BatchNormalization": {"eps": 1e-6, "running_var_init": 0, "unbiased_running_var": 0}}
    for name, flag in flags.items():
        r = found[name]
        assert r.verdict == "differs" and r.hint.startswith("a convention"), name
        for k, v in flag.items():
            assert f"--hparam {k}={v}" in r.hint, (name, r.hint)
        again = verify("layer", f"common/layers.py:{name}", r.against, flag)
        assert again.passed, name
    assert any("ignores the δ" in n for n in verify("layer", "common/layers.py:SoftmaxWithLoss", "softmax-with-loss",
                                                    {"delta": 1e-7}).notes)


def test_optimizers(book):
    found, _ = verdicts("common/optimizer.py")
    for name in ("SGD", "Momentum", "Nesterov"):
        assert found[name].verdict == "agrees", name
    flags = {"AdaGrad": {"eps": 1e-7}, "RMSprop": {"eps": 1e-7}, "Adam": {"eps": 1e-7, "folded": 1}}
    for name, flag in flags.items():
        assert found[name].hint.startswith("a convention"), name
        assert all(f"--hparam {k}={v}" in found[name].hint for k, v in flag.items()), found[name].hint
        assert verify("optimizer", f"common/optimizer.py:{name}", found[name].against, flag).passed, name


def test_numerical_gradient(book):
    found, skipped = verdicts("common/gradient.py")
    assert found["numerical_gradient"].verdict == "agrees"
    assert "numerical_gradient_2d" in skipped


@pytest.mark.parametrize("path", ["ch05/two_layer_net.py", "common/multi_layer_net.py"])
def test_networks(book, path):
    found, _ = verdicts(path)
    (net,) = found.values()
    assert net.kind == "network" and "--hparam delta=1e-07" in net.hint
    again = verify("network", f"{path}:{net.target}", "mlp", {"delta": 1e-7})
    assert again.passed
    assert {"SGD, 100 steps: lockstep gradients", "SGD, 100 steps: lockstep parameters after the step"} <= {
        r.check for r in again.records}


def test_cs231n_functional_layers(cs231n):
    found, skipped = verdicts("layers.py")
    for name in ("affine_forward/affine_backward", "relu_forward/relu_backward", "dropout_forward/dropout_backward",
                 "softmax_loss"):
        assert found[name].verdict == "agrees", name
    bn = found["batchnorm_forward/batchnorm_backward"]
    assert "--hparam running_var_init=0" in bn.hint and "--hparam unbiased_running_var=0" in bn.hint
    assert "svm_loss" in skipped


def test_cs231n_network(cs231n):
    found, _ = verdicts("fc_net.py")
    assert found["TwoLayerNet"].verdict == "agrees"


def test_the_chapter_4_net_is_sigmoid_with_one_hot_targets(book):
    found, _ = verdicts("ch04/two_layer_net.py")
    net = found["TwoLayerNet"]
    assert net.verdict == "differs" and "activation='sigmoid'" in net.hint
    assert "--hparam activation=sigmoid" in net.hint and "--hparam delta=1e-07" in net.hint
    assert any("one-hot targets" in note for note in net.notes)  # its dy = (y − t)/N needs t (N, K)
    assert verify("network", "ch04/two_layer_net.py:TwoLayerNet", "mlp", {"activation": "sigmoid", "delta": 1e-7}).passed


def test_a_net_that_ignores_its_activation_argument_is_named(book, tmp_path):
    """The book's ch05 net given an activation argument that it does not honour: always sigmoid."""
    path = tmp_path / "net.py"
    path.write_text(textwrap.dedent("""
        import os, sys
        sys.path.insert(0, os.path.join(os.getcwd(), "ch05"))
        from two_layer_net import TwoLayerNet as BookNet
        from common.layers import Sigmoid

        class TwoLayerNet(BookNet):
            def __init__(self, input_size, hidden_size, output_size, activation="relu"):
                super().__init__(input_size, hidden_size, output_size)
                self.layers["Relu1"] = Sigmoid()
    """))
    judged_as_relu = verify("network", f"{path}:TwoLayerNet", "mlp", {"delta": 1e-7, "activation": "relu"})
    assert judged_as_relu.verdict == "differs"
    assert "your gradients match activation='sigmoid'" in judged_as_relu.hint
    assert "--hparam activation=sigmoid" in judged_as_relu.hint
    assert verify("network", f"{path}:TwoLayerNet", "mlp", {"delta": 1e-7, "activation": "sigmoid"}).passed
