"""Issue 5: `verify` — a user's own code against PyTorch, from a file or a module."""

import textwrap

import numpy as np
import pytest

import scratch
from comparisons.cli import main
from comparisons.verify import REFERENCES, VerifyUsageError, format_result, verify

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
    ("activation", "softmax_naive", "softmax", "without subtracting the max"),
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


def test_cli_example_from_the_issue(user_file, capsys, monkeypatch):
    monkeypatch.chdir(user_file.parent)
    assert main(["verify", "optimizer", "my_code.py:Adam", "--against", "adam", "--hparam", "lr=0.01"]) == 0
    assert "AGREES with PyTorch" in capsys.readouterr().out
    assert main(["verify", "optimizer", "my_code.py:AdamEpsInside", "--against", "adam", "--hparam", "lr=0.01"]) == 1
    assert "hint:" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["verify", "optimizer", "nofile.py:Adam", "--against", "adam"], "no such file"),
    (["verify", "optimizer", "{f}:Missing", "--against", "adam"], "has no attribute 'Missing'"),
    (["verify", "optimizer", "{f}:NoUpdate", "--against", "sgd"], "has no update method"),
    (["verify", "optimizer", "{f}:Adam", "--against", "nadam"], "unknown reference 'nadam'"),
    (["verify", "layer", "{f}:Adam", "--against", "adam"], "is a optimizer reference, not a layer"),
    (["verify", "optimizer", "{f}:Adam", "--against", "adam", "--hparam", "lr"], "key=value"),
    (["verify", "optimizer", "{f}:Adam", "--against", "adam", "--hparam", "momentum=0.9"], "unknown: ['momentum']"),
    (["verify", "optimizer", "{f}", "--against", "adam"], "MODULE:NAME"),
    (["verify", "layer", "{f}:sigmoid", "--against", "linear"], "expects a class Linear(W, b)"),
    (["verify", "optimizer"], "needs KIND MODULE:NAME"),
])
def test_wrong_target_or_interface_exits_2(user_file, argv, message, capsys):
    argv = [a.replace("{f}", str(user_file)) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err, err
    assert len(err.strip().splitlines()) == 1


def test_list_names_every_reference(capsys):
    assert main(["verify", "--list"]) == 0
    out = capsys.readouterr().out
    for name in ("sigmoid", "relu", "leaky-relu", "softmax", "cross-entropy", "linear", "sgd", "momentum",
                 "nesterov", "adagrad", "rmsprop", "adam", "adamw", "step-decay"):
        assert f"  {name} " in out
    assert "update(params, grads)" in out


SCRATCH_TARGETS = {
    "sigmoid": scratch.activations.sigmoid, "tanh": scratch.activations.tanh, "relu": scratch.activations.relu,
    "leaky-relu": scratch.activations.leaky_relu, "elu": scratch.activations.elu, "identity": scratch.activations.identity,
    "step": scratch.activations.step, "softmax": scratch.activations.softmax,
    "cross-entropy": lambda y, t: scratch.losses.cross_entropy_error(y, t, delta=0.0),
    "softmax-cross-entropy": scratch.losses.softmax_cross_entropy, "mse": scratch.losses.mean_squared_error,
    "mae": scratch.losses.mean_absolute_error, "sse": scratch.losses.sum_squared_error,
    "binary-cross-entropy": scratch.losses.binary_cross_entropy,
    "linear": scratch.layers.Linear, "sigmoid-layer": scratch.layers.Sigmoid, "relu-layer": scratch.layers.ReLU,
    "tanh-layer": scratch.layers.Tanh, "leaky-relu-layer": scratch.layers.LeakyReLU, "elu-layer": scratch.layers.ELU,
    "softmax-layer": scratch.layers.Softmax, "identity-layer": scratch.layers.Identity,
    "sgd": scratch.optim.SGD, "momentum": scratch.optim.Momentum, "nesterov": scratch.optim.Nesterov,
    "adagrad": scratch.optim.AdaGrad, "rmsprop": scratch.optim.RMSProp, "adam": scratch.optim.Adam,
    "adamw": scratch.optim.AdamW, "step-decay": scratch.schedules.StepDecay,
    "exponential-decay": scratch.schedules.ExponentialDecay, "inverse-time-decay": scratch.schedules.InverseTimeDecay,
}


def test_every_reference_is_covered():
    assert set(SCRATCH_TARGETS) == set(REFERENCES)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("against", sorted(REFERENCES))
def test_scratch_agrees_with_every_reference(against, dtype):
    ref = REFERENCES[against]
    result = verify(ref.kind, SCRATCH_TARGETS[against], against, dtype=dtype, steps=50)
    assert result.passed, format_result(result)


def test_verify_api_rejects_bad_kind():
    with pytest.raises(VerifyUsageError, match="KIND must be one of"):
        verify("metric", np.mean, "sigmoid")
