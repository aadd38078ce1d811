"""The acceptance target: the book's own ``common/*.py`` and ``ch05/two_layer_net.py`` (copies in
tests/fixtures/book) and a CS231n-style ``layers.py``/``fc_net.py``, one command per file, no
adapter. Every object gets its true verdict; every convention is named with the flag that makes
it agree, and with that flag it agrees."""

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
    assert "raised TypeError" in found["relu_grad"].error  # the book's np.zeros(x)
    assert "--against sse" in found["mean_squared_error"].hint  # ½·Σ, named MSE
    for name in ("cross_entropy_error", "softmax_loss"):
        assert found[name].verdict == "differs" and "--hparam delta=1e-07" in found[name].hint
        assert verify("loss", f"common/functions.py:{name}", found[name].against, {"delta": 1e-7}).passed


def test_layers(book):
    found, skipped = verdicts("common/layers.py")
    for name in ("Relu", "Sigmoid", "Affine", "Convolution", "Pooling"):
        assert found[name].verdict == "agrees", name
    assert (found["Convolution"].against, found["Pooling"].against) == ("conv2d", "max-pool")
    assert not skipped
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


def test_im2col_and_col2im(book):
    found, skipped = verdicts("common/util.py")
    assert found["im2col"].verdict == "agrees" and found["col2im"].verdict == "agrees"
    assert "conv_output_size" in skipped


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


def test_simple_convnet(book):
    """The book's ch07 SimpleConvNet, W1 of shape (FN, C, FH, FW) in its params, the layer settings
    as hyperparameters: the δ of its SoftmaxWithLoss is named, and with it every step agrees."""
    found, _ = verdicts("ch07/simple_convnet.py")
    net = found["SimpleConvNet"]
    assert (net.kind, net.against) == ("network", "simple-convnet") and "--hparam delta=1e-07" in net.hint
    again = verify("network", "ch07/simple_convnet.py:SimpleConvNet", "simple-convnet",
                   {"delta": 1e-7, "filter_num": 4, "filter_size": 3, "pad": 1, "hidden_size": 8}, steps=20)
    assert again.passed
    assert "SGD, 20 steps: lockstep parameters after the step" in {r.check for r in again.records}


def test_cs231n_functional_layers(cs231n):
    found, skipped = verdicts("layers.py")
    for name in ("affine_forward/affine_backward", "relu_forward/relu_backward", "dropout_forward/dropout_backward",
                 "conv_forward_naive/conv_backward_naive", "max_pool_forward_naive/max_pool_backward_naive",
                 "softmax_loss"):
        assert found[name].verdict == "agrees", name
    bn = found["batchnorm_forward/batchnorm_backward"]
    assert "--hparam running_var_init=0" in bn.hint and "--hparam unbiased_running_var=0" in bn.hint
    assert "svm_loss" in skipped


def test_cs231n_network(cs231n):
    found, _ = verdicts("fc_net.py")
    assert found["TwoLayerNet"].verdict == "agrees"
