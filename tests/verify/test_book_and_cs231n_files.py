"""The acceptance target: the book's own ``common/*.py`` and ``ch05/two_layer_net.py`` (copies in
tests/fixtures/book) and a CS231n-style ``layers.py``/``fc_net.py``, one command per file, no
adapter. Every object gets its true verdict; every convention is named with the flag that makes
it agree, and with that flag it agrees."""

import textwrap
from pathlib import Path

import pytest

from comparisons.verify import verify, verify_file

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


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
                 "softmax_loss", "svm_loss"):
        assert found[name].verdict == "agrees", name
    bn = found["batchnorm_forward/batchnorm_backward"]
    assert "--hparam running_var_init=0" in bn.hint and "--hparam unbiased_running_var=0" in bn.hint
    assert found["svm_loss"].against == "svm-loss"


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


# --- CS231n's assignment 3: recurrent layers --------------------------------------------------------

RECURRENT = ("rnn_step_forward/rnn_step_backward", "rnn_forward/rnn_backward", "lstm_step_forward/lstm_step_backward",
             "lstm_forward/lstm_backward", "word_embedding_forward/word_embedding_backward")


def test_cs231n_recurrent_layers_agree_and_their_gate_order_is_named(cs231n):
    found, skipped = verdicts("rnn_layers.py")
    for name in RECURRENT:
        assert found[name].verdict == "agrees", name
    assert found["lstm_forward/lstm_backward"].against == "lstm"
    for name in ("lstm_step_forward/lstm_step_backward", "lstm_forward/lstm_backward"):
        assert any("gate order detected: i, f, o, g (CS231n's)" in n for n in found[name].notes)
    assert found["temporal_softmax_loss"].verdict == "agrees"
    assert found["temporal_affine_forward/temporal_affine_backward"].against == "time-affine"
    assert found["temporal_affine_forward/temporal_affine_backward"].verdict == "agrees"


def test_cs231n_recurrent_layers_with_bptt_broken_differ_with_a_hint():
    result = verify_file(str(FIXTURES / "cs231n_broken" / "rnn_layers.py"))
    found = {r.target: r for r in result.results}
    for name in ("rnn_forward/rnn_backward", "lstm_forward/lstm_backward"):
        assert found[name].verdict == "differs" and "dh is not accumulated from later steps" in found[name].hint
    for name in ("rnn_step_forward/rnn_step_backward", "lstm_step_forward/lstm_step_backward"):
        assert found[name].verdict == "agrees", name  # the steps themselves are right


MUTATIONS = {  # one mistake planted in CS231n's code → the objects it breaks and the hint they get
    "tanh' missing on the cell path": ("dnext_c + dnext_h * o * (1 - tanh_c ** 2)", "dnext_c + dnext_h * o",
                                       "tanh' is missing on the cell path"),
    "backward stacks the gates as i, f, g, o": (
        "np.hstack((di * i * (1 - i), df * f * (1 - f), do * o * (1 - o), dg * (1 - g ** 2)))",
        "np.hstack((di * i * (1 - i), df * f * (1 - f), dg * (1 - g ** 2), do * o * (1 - o)))",
        "a different order in backward than in forward"),
}


@pytest.mark.parametrize("mistake", list(MUTATIONS))
def test_a_mistake_planted_in_cs231n_s_lstm_is_named(mistake, tmp_path):
    before, after, hint = MUTATIONS[mistake]
    source = (FIXTURES / "cs231n" / "rnn_layers.py").read_text(encoding="utf-8")
    assert before in source
    (tmp_path / "rnn_layers.py").write_text(source.replace(before, after), encoding="utf-8")
    found = {r.target: r for r in verify_file(str(tmp_path / "rnn_layers.py")).results}
    for name in ("lstm_step_forward/lstm_step_backward", "lstm_forward/lstm_backward"):
        assert found[name].verdict == "differs" and hint in found[name].hint, (name, found[name].hint)
    assert found["rnn_forward/rnn_backward"].verdict == "agrees"


def test_an_embedding_backward_that_assigns_is_named(tmp_path):
    source = (FIXTURES / "cs231n" / "rnn_layers.py").read_text(encoding="utf-8")
    (tmp_path / "rnn_layers.py").write_text(source.replace("np.add.at(dW, x, dout)", "dW[x] = dout"), encoding="utf-8")
    found = {r.target: r for r in verify_file(str(tmp_path / "rnn_layers.py")).results}
    r = found["word_embedding_forward/word_embedding_backward"]
    assert r.verdict == "differs" and "np.add.at" in r.hint


CLASS_STYLE = '''
import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


class LSTMCell:
    """Gates stacked as f, i, o, g; gradients as attributes."""

    def __init__(self, Wx, Wh, b):
        self.Wx, self.Wh, self.b = Wx, Wh, b

    def forward(self, x, h_prev, c_prev):
        H = h_prev.shape[1]
        a = x @ self.Wx + h_prev @ self.Wh + self.b
        f, i, o = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), sigmoid(a[:, 2 * H:3 * H])
        g = np.tanh(a[:, 3 * H:])
        c = f * c_prev + i * g
        self.cache = (x, h_prev, c_prev, f, i, o, g, np.tanh(c))
        return o * np.tanh(c), c

    def backward(self, dh, dc):
        x, h_prev, c_prev, f, i, o, g, tc = self.cache
        dc = dc + dh * o * (1 - tc ** 2)
        da = np.hstack([dc * c_prev * f * (1 - f), dc * g * i * (1 - i), dh * tc * o * (1 - o), dc * i * (1 - g ** 2)])
        self.dWx, self.dWh, self.db = x.T @ da, h_prev.T @ da, da.sum(axis=0)
        return da @ self.Wx.T, da @ self.Wh.T, dc * f


def clip_grads(grads, max_norm):
    total = np.sqrt(sum(np.sum(g ** 2) for g in grads))
    rate = max_norm / (total + 1e-6)
    if rate < 1:
        for g in grads:
            g *= rate
'''


def test_class_style_recurrent_code_in_its_own_gate_order_agrees(tmp_path):
    (tmp_path / "mine.py").write_text(CLASS_STYLE, encoding="utf-8")
    found = {r.target: r for r in verify_file(str(tmp_path / "mine.py")).results}
    cell = found["LSTMCell"]
    assert cell.against == "lstm-step" and cell.verdict == "agrees", cell.records
    assert any("gate order detected: f, i, o, g" in n for n in cell.notes)
    assert found["clip_grads"].against == "clip-grad-norm" and found["clip_grads"].verdict == "agrees"


def test_every_flag_the_hints_name_given_at_once_makes_the_whole_file_agree(book):
    """The hints' flags together, file-wide: each object takes those its reference declares, a
    name before an alias (SoftmaxWithLoss's δ is delta=1e-07, not BatchNormalization's eps=1e-06)."""
    flags = {"delta": 1e-7, "inverted": 0, "eps": 1e-6, "running_var_init": 0, "unbiased_running_var": 0}
    result = verify_file("common/layers.py", hparams=flags)
    assert [(r.target, r.verdict) for r in result.results if r.verdict != "agrees"] == []
