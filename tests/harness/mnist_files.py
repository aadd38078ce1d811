"""MNIST IDX files written by the tests themselves (the loaders' and the command line's tests)."""

import gzip
import struct

import numpy as np


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
