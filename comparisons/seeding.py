"""One way to derive every random state from (the run's seed, the name of the task): ``run``,
``sweep`` and ``verify`` alike. A task is one concept in one run, or one object in ``verify``.

    rng = seeding.generator(seed, "softmax")      # the task's numpy.random.Generator (shared draws)
    seeding.seed_globals(seed, "softmax")         # torch's and NumPy's global generators

The same (seed, name) gives the same numbers whatever ran before in the process and whichever
other tasks run beside it: ``run softmax`` alone and inside ``run --all`` draw the same.
"""

from __future__ import annotations

import zlib

import numpy as np

SEED_MAX = 2**63 - 1  # NumPy's default_rng takes no negative seed, torch.manual_seed none from 2**64; an int64


def task(seed: int, name: str) -> np.random.SeedSequence:
    """The seed sequence of task ``name`` in a run of seed ``seed``: entropy [seed, crc32(name)]."""
    return np.random.SeedSequence([int(seed), zlib.crc32(name.encode())])


def generator(seed: int, name: str) -> np.random.Generator:
    """The task's own generator: every shared draw (weights, data, batch order) comes from it."""
    return np.random.default_rng(task(seed, name))


def seed_globals(seed: int, name: str) -> int:
    """Seed torch's global generator and NumPy's legacy one (what a user's code and torch's dropout
    draw from) for task ``name``, from a child of its seed sequence; returns that seed."""
    import torch

    value = int(task(seed, name).spawn(1)[0].generate_state(1)[0])
    torch.manual_seed(value)
    np.random.seed(value)
    return value
