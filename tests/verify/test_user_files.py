"""`verify`: a user's own code against PyTorch, one object from a file or a module, or a whole file."""

import textwrap
import json

import numpy as np
import pytest

from comparisons.cli import main
from comparisons.verify import VerifyUsageError, assert_agrees, format_result, verify

CORRECT = textwrap.dedent('''
    import numpy as np

    def sigmoid(x):
        return 1 / (1 + np.exp(-x))

    def sigmoid_flipped(x):
        return 1 / (1 + np.exp(x))

    def softmax_naive(x):
        e = np.exp(x)
        return e / e.sum(axis=-1, keepdims=True)

    def cross_entropy_sum(y, t):
        y = np.atleast_2d(y); t = np.asarray(t)
        labels = t.argmax(1) if t.ndim == 2 else t
        return -np.sum(np.log(y[np.arange(len(y)), labels] + 1e-7))

    class Linear:
        def __init__(self, W, b):
            self.W, self.b = W, b
            self.grads = {}
        def forward(self, x):
            self.x = x
            return x @ self.W + self.b
        def backward(self, dout):
            self.grads["W"] = self.x.T @ dout
            self.grads["b"] = dout.sum(axis=0)
            return dout @ self.W.T

    class LinearNoBiasSum(Linear):
        def backward(self, dout):
            dx = super().backward(dout)
            self.grads["b"] = dout[0]
            return dx

    class Adam:
        def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
            self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
            self.m, self.v, self.t = {}, {}, 0
        def update(self, params, grads):
            self.t += 1
            for k in params:
                m = self.m.setdefault(k, np.zeros_like(params[k]))
                v = self.v.setdefault(k, np.zeros_like(params[k]))
                m[...] = self.beta1 * m + (1 - self.beta1) * grads[k]
                v[...] = self.beta2 * v + (1 - self.beta2) * grads[k] ** 2
                mhat = m / (1 - self.beta1 ** self.t)
                vhat = v / (1 - self.beta2 ** self.t)
                params[k] -= self.lr * mhat / (np.sqrt(vhat) + self.eps)

    class AdamEpsInside(Adam):
        def update(self, params, grads):
            self.t += 1
            for k in params:
                m = self.m.setdefault(k, np.zeros_like(params[k]))
                v = self.v.setdefault(k, np.zeros_like(params[k]))
                m[...] = self.beta1 * m + (1 - self.beta1) * grads[k]
                v[...] = self.beta2 * v + (1 - self.beta2) * grads[k] ** 2
                params[k] -= self.lr * (m / (1 - self.beta1 ** self.t)) / np.sqrt(v / (1 - self.beta2 ** self.t) + self.eps)

    class Momentum:
        def __init__(self, lr, momentum=0.9):
            self.lr, self.momentum, self.v = lr, momentum, {}
        def update(self, params, grads):
            for k in params:
                v = self.v.setdefault(k, np.zeros_like(params[k]))
                v[...] = self.momentum * v - self.lr * grads[k]
                params[k] += self.lr * v   # the learning rate twice

    class NoUpdate:
        def __init__(self, lr):
            pass

    def step_decay(t, lr0, step_size, gamma):
        return lr0 * gamma ** (t // step_size)

    class Relu:
        def forward(self, x):
            self.mask = x < 0
            return np.where(self.mask, 0.0, x)
        def backward(self, dout):
            return np.where(self.mask, 0.0, dout)

    def exits(x):
        import sys
        sys.exit(3)

    def raises(x):
        raise RuntimeError("not written yet")

    def loops(x):
        while True:
            pass
''')


@pytest.fixture()
def user_file(tmp_path):
    path = tmp_path / "my_code.py"
    path.write_text(CORRECT)
    return path


@pytest.mark.parametrize("kind, name, against, hparams", [
    ("activation", "sigmoid", "sigmoid", {}),
    ("layer", "Linear", "linear", {}),
    ("optimizer", "Adam", "adam", {"lr": 0.01}),
    ("schedule", "step_decay", "step-decay", {}),
])
def test_correct_code_agrees(user_file, kind, name, against, hparams):
    result = verify(kind, f"{user_file}:{name}", against, hparams)
    assert result.passed, format_result(result)


@pytest.mark.parametrize("kind, name, against, hint", [
    ("activation", "sigmoid_flipped", "sigmoid", "sign inside exp"),
    ("activation", "softmax_naive", "softmax", "without the max shift"),
    ("loss", "cross_entropy_sum", "cross-entropy", "sums over the batch"),
    ("optimizer", "AdamEpsInside", "adam", "inside the square root"),
    ("optimizer", "Momentum", "momentum", "learning rate is applied twice"),
])
def test_known_mistakes_fail_with_hint(user_file, kind, name, against, hint):
    result = verify(kind, f"{user_file}:{name}", against, {"lr": 0.01} if kind == "optimizer" else {})
    assert not result.passed
    assert result.hint and hint in result.hint, format_result(result)
    text = format_result(result)
    assert "first mismatch at" in text and "yours" in text and "PyTorch" in text


def test_layer_without_bias_sum_fails(user_file):
    result = verify("layer", f"{user_file}:LinearNoBiasSum", "linear")
    assert not result.passed
    assert any("db" in r.check for r in result.records if not r.passed)


def test_the_command_line_judges_an_optimizer_in_a_file_and_hints_its_mistake(user_file, capsys, monkeypatch):
    monkeypatch.chdir(user_file.parent)
    assert main(["verify", "optimizer", "my_code.py:Adam", "--against", "adam", "--hparam", "lr=0.01"]) == 0
    assert "AGREES with PyTorch" in capsys.readouterr().out
    assert main(["verify", "optimizer", "my_code.py:AdamEpsInside", "--against", "adam", "--hparam", "lr=0.01"]) == 1
    assert "hint:" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["verify", "optimizer", "nofile.py:Adam", "--against", "adam"], "no such file"),
    (["verify", "optimizer", "{f}:Missing", "--against", "adam"], "has no attribute 'Missing'"),
    (["verify", "optimizer", "{f}:NoUpdate", "--against", "sgd"], "has no update method"),
    (["verify", "optimizer", "{f}:Adam", "--against", "nadam"], "unknown optimizer reference 'nadam'"),
    (["verify", "layer", "{f}:Adam", "--against", "adam"], "'adam' is a optimizer reference"),
    (["verify", "optimizer", "{f}:Adam", "--against", "adam", "--hparam", "lr"], "key=value"),
    (["verify", "optimizer", "{f}:Adam", "--against", "adam", "--hparam", "momentum=0.9"], "unknown: 'momentum'"),
    (["verify", "optimizer", "{f}:Adam", "--against", "adam", "--hparam", "betas1=0.9"], "did you mean 'beta1'?"),
    (["verify", "optimizer", "{f}:Adam", "--against", "adam", "--hparam", "lr=-1"], "must be in [0, inf)"),
    (["verify", "optimizer", "{f}:Adam", "--against", "adam", "--hparam", "lr=nan"], "lr must be a finite number"),
    (["verify", "optimizer", "{f}:Momentum", "--against", "momentum", "--hparam", "momentum=nan"], "momentum must be a finite number"),
    (["verify", "optimizer", "{f}:Adam", "--against", "adam", "--seed", "-1"], "--seed"),
    (["verify", "layer", "{f}:Relu", "--against", "relu", "--hparam", "grad_at_zero=2"], "must be one of [0, 1]"),
    (["verify", "optimizer", "{f}", "--against", "adam"], "MODULE:NAME"),
    (["verify", "layer", "{f}:sigmoid", "--against", "linear"], "expects a class Linear(W, b)"),
    (["verify", "metric", "{f}:sigmoid", "--against", "sigmoid"], "KIND must be one of"),
    (["verify", "optimizer"], "needs FILE.py, or KIND MODULE:NAME"),
    (["verify", "nofile.py"], "no such file"),
])
def test_wrong_target_or_interface_exits_2(user_file, argv, message, capsys):
    argv = [a.replace("{f}", str(user_file)) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err, err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("name, what", [("exits", "called sys.exit(3)"), ("raises", "raised RuntimeError: not written yet"),
                                        ("loops", "ran past the time limit of 1 s")])
def test_a_target_that_exits_raises_or_hangs_is_reported_as_an_error(user_file, name, what, capsys):
    assert main(["verify", "function", f"{user_file}:{name}", "--against", "sigmoid", "--timeout", "1"]) == 1
    out = capsys.readouterr().out
    assert "ERROR: " in out and what in out, out


def test_relu_mask_at_zero_is_named_with_its_flag(user_file):
    result = verify("layer", f"{user_file}:Relu", "relu")
    assert result.verdict == "differs"
    assert "mask = (x < 0)" in result.hint and "--hparam grad_at_zero=1" in result.hint
    assert verify("layer", f"{user_file}:Relu", "relu", {"grad_at_zero": 1}).passed


def test_single_target_json(user_file, capsys):
    assert main(["verify", "optimizer", f"{user_file}:AdamEpsInside", "--against", "adam", "--hparam", "lr=0.01",
                 "--json"]) == 1
    obj = json.loads(capsys.readouterr().out)
    assert {"name", "kind", "against", "verdict", "hint", "checks"} <= set(obj)
    assert obj["verdict"] == "differs" and "inside the square root" in obj["hint"]
    assert obj["checks"] and {"check", "passed", "max_abs_err"} <= set(obj["checks"][0])


def test_whole_file_table_json_and_exit_status(user_file, capsys):
    assert main(["verify", str(user_file)]) == 1
    out = capsys.readouterr().out
    assert "sigmoid" in out and "AGREES" in out and "skipped:" in out and "not recognised by name" in out
    assert main(["verify", str(user_file), "--json"]) == 1
    objects = {o["name"]: o for o in json.loads(capsys.readouterr().out)["objects"]}
    assert objects["sigmoid"]["verdict"] == "agrees" and objects["sigmoid"]["against"] == "sigmoid"
    assert objects["Adam"]["kind"] == "optimizer" and objects["Adam"]["verdict"] == "agrees"
    assert objects["Relu"]["verdict"] == "differs" and "grad_at_zero=1" in objects["Relu"]["hint"]
    assert objects["sigmoid_flipped"]["verdict"] == "skipped"
    assert {o["verdict"] for o in objects.values()} <= {"agrees", "differs", "skipped", "error"}


def test_whole_file_that_agrees_exits_0(tmp_path, capsys):
    path = tmp_path / "good.py"
    path.write_text("import numpy as np\n\ndef relu(x):\n    return np.maximum(0, x)\n\nclass Helper:\n    pass\n")
    assert main(["verify", str(path)]) == 0
    assert "1/1 agree" in capsys.readouterr().out


def test_assert_agrees_and_notebook_table(user_file):
    assert assert_agrees("function", f"{user_file}:sigmoid", "sigmoid").passed
    with pytest.raises(AssertionError, match="sign inside exp"):
        assert_agrees("function", f"{user_file}:sigmoid_flipped", "sigmoid")
    html = verify("function", f"{user_file}:sigmoid_flipped", "sigmoid")._repr_html_()
    assert "<table>" in html and "DIFFERS" in html and "hint" in html


def test_user_constructor_defaults_go_to_torch(tmp_path):
    path = tmp_path / "opt.py"
    path.write_text(textwrap.dedent("""
        class SGD:
            def __init__(self, lr=0.37):
                self.lr = lr
            def update(self, params, grads):
                for k in params:
                    params[k] -= self.lr * grads[k]
    """))
    result = verify("optimizer", f"{path}:SGD", "sgd")
    assert result.passed and result.hparams["lr"] == 0.37


def test_list_names_every_reference(capsys):
    assert main(["verify", "--list"]) == 0
    out = capsys.readouterr().out
    for name in ("sigmoid", "relu", "leaky-relu", "softmax", "cross-entropy", "linear", "sgd", "momentum",
                 "nesterov", "adagrad", "rmsprop", "adam", "adamw", "step-decay", "xavier-normal", "he-uniform",
                 "fans"):
        assert f"  {name} " in out
    assert "update(params, grads)" in out and "initializer:" in out and "mode=fan_avg" in out


def test_verify_api_rejects_bad_kind():
    with pytest.raises(VerifyUsageError, match="KIND must be one of"):
        verify("metric", np.mean, "sigmoid")


LEARNER_INIT = textwrap.dedent("""
    import numpy as np

    def he_init(n_in, n_out):
        return np.random.randn(n_in, n_out) * np.sqrt(2.0 / n_in)

    def xavier(n_in, n_out):
        return np.random.randn(n_in, n_out) / np.sqrt(n_in)  # the book's "Xavier"
""")


def test_initializer_written_with_fan_in_and_fan_out(tmp_path):
    path = tmp_path / "init.py"
    path.write_text(LEARNER_INIT)
    result = verify("initializer", f"{path}:he_init", "he-normal")
    assert result.passed, format_result(result)
    assert any("skipped 'filters" in note for note in result.notes)  # it cannot make (out, in, kh, kw)


def test_the_books_xavier_is_named_a_convention_in_a_whole_file(tmp_path, capsys):
    path = tmp_path / "init.py"
    path.write_text(LEARNER_INIT)
    assert main(["verify", str(path), "--json"]) == 1
    objects = {o["name"]: o for o in json.loads(capsys.readouterr().out)["objects"]}
    assert objects["he_init"]["verdict"] == "agrees" and objects["he_init"]["against"] == "he-normal"
    xavier = objects["xavier"]
    assert xavier["kind"] == "initializer" and xavier["against"] == "xavier-normal"
    assert xavier["verdict"] == "differs" and "LeCun" in xavier["hint"] and "--hparam mode=fan_in" in xavier["hint"]
    assert verify("initializer", f"{path}:xavier", "xavier-normal", {"mode": "fan_in"}).passed


def test_a_network_whose_activation_names_are_swapped_is_told_so(tmp_path):
    path = tmp_path / "net.py"
    path.write_text(textwrap.dedent("""
        from scratch.networks import MultiLayerNet

        class SwappedNet(MultiLayerNet):
            def __init__(self, params, activation="relu"):
                swapped = {"relu": "sigmoid", "sigmoid": "relu", "tanh": "tanh"}[activation]
                super().__init__(params, activation=swapped)
    """))
    result = verify("network", f"{path}:SwappedNet", "mlp", {"activation": "relu"}, steps=20)
    assert result.verdict == "differs"
    assert "computes what PyTorch computes with activation='sigmoid'" in result.hint
    assert "check which layer each activation name makes" in result.hint


HAND_CONV = textwrap.dedent('''
    import numpy as np

    class Conv2D:
        """Sizes in the constructor, as nn.Conv2d; its own weights; a window loop."""
        def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, flip=False):
            kh, kw = kernel_size
            self.weight = np.random.randn(out_channels, in_channels, kh, kw)
            self.bias = np.zeros(out_channels)
            self.stride, self.padding, self.flip = stride, padding, flip

        def _k(self):
            return self.weight[:, :, ::-1, ::-1] if self.flip else self.weight

        def forward(self, x):
            self.x = x
            s, p = self.stride, self.padding
            F, _, HH, WW = self.weight.shape
            xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
            Ho, Wo = (x.shape[2] + 2 * p - HH) // s + 1, (x.shape[3] + 2 * p - WW) // s + 1
            out = np.zeros((x.shape[0], F, Ho, Wo))
            for i in range(Ho):
                for j in range(Wo):
                    win = xp[:, :, i * s:i * s + HH, j * s:j * s + WW]
                    out[:, :, i, j] = np.einsum("nchw,fchw->nf", win, self._k()) + self.bias
            return out

        def backward(self, dout):
            s, p = self.stride, self.padding
            F, _, HH, WW = self.weight.shape
            xp = np.pad(self.x, ((0, 0), (0, 0), (p, p), (p, p)))
            dxp, dk = np.zeros_like(xp), np.zeros_like(self.weight)
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    win = xp[:, :, i * s:i * s + HH, j * s:j * s + WW]
                    dk += np.einsum("nf,nchw->fchw", dout[:, :, i, j], win)
                    dxp[:, :, i * s:i * s + HH, j * s:j * s + WW] += np.einsum("nf,fchw->nchw", dout[:, :, i, j], self._k())
            self.dW = dk[:, :, ::-1, ::-1] if self.flip else dk
            self.db = dout.sum(axis=(0, 2, 3))
            return dxp[:, :, p:p + self.x.shape[2], p:p + self.x.shape[3]]

    class FlippedConv2D(Conv2D):
        def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0):
            super().__init__(in_channels, out_channels, kernel_size, stride, padding, flip=True)
''')


def test_a_hand_written_convolution_that_makes_its_own_weights(tmp_path):
    """A constructor of sizes (in_channels, out_channels, kernel_size) as nn.Conv2d's: the shared
    weights are put into the arrays it made; a flipped kernel is named."""
    path = tmp_path / "my_conv.py"
    path.write_text(HAND_CONV)
    assert verify("layer", f"{path}:Conv2D", "conv2d").passed
    flipped = verify("layer", f"{path}:FlippedConv2D", "conv2d")
    assert flipped.verdict == "differs" and "a flipped kernel" in flipped.hint


def test_one_object_without_a_kind_goes_to_the_reference_of_its_nature(tmp_path, capsys):
    """`verify FILE:NAME` with no KIND: the name decides, and a class goes to the layer of that
    name, a function to the function (the book's ``Relu`` class is the ReLU layer, not relu())."""
    path = tmp_path / "mine.py"
    path.write_text(textwrap.dedent('''
        import numpy as np

        class Relu:
            def forward(self, x):
                self.mask = x <= 0
                out = x.copy()
                out[self.mask] = 0
                return out
            def backward(self, dout):
                dout = dout.copy()
                dout[self.mask] = 0
                return dout

        def relu(x):
            return np.maximum(0, x)
    '''))
    for name, kind in (("Relu", "layer"), ("relu", "function")):
        assert main(["verify", f"{path}:{name}", "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["kind"] == kind


def test_a_printed_result_is_the_table_the_command_prints(user_file, capsys):
    from comparisons.verify import format_file_result, verify_file

    one = verify("layer", f"{user_file}:Linear", "linear")
    whole = verify_file(str(user_file))
    assert str(one) == format_result(one) and "AGREES" in str(one)
    assert str(whole) == format_file_result(whole) and str(whole).startswith(f"verify {user_file}")
