"""The book's date-format task, made from the run's generator with datetime: each written date
means its ISO date, the styles are the book's data set's, and the same seed gives the same data."""

import datetime
import re

import numpy as np

from comparisons import data

MONTH = {m: i + 1 for i, m in enumerate(data.MONTHS)}


def parse(written: str) -> datetime.date:
    """Read a date in any of the five styles back."""
    w = written.lower()
    if "/" in w:
        m, d, y = (int(v) for v in w.split("/"))
        return datetime.date(1900 + y if y >= 50 else 2000 + y, m, d)
    month, day, year = re.fullmatch(r"(?:\w+, )?(\w+) (\d+), (\d+)", w).groups()
    number = MONTH.get(month) or next(i + 1 for i, m in enumerate(data.MONTHS) if m.startswith(month))
    return datetime.date(int(year), number, int(day))


def test_every_written_date_means_its_iso_date():
    pairs = data.dates(np.random.default_rng(3), 500)
    for written, iso in pairs:
        assert parse(written).isoformat() == iso, written
    assert max(len(w) for w, _ in pairs) <= 29 and all(len(iso) == 10 for _, iso in pairs)


def test_the_five_styles_appear_and_the_same_seed_gives_the_same_dates():
    pairs = data.dates(np.random.default_rng(4), 300)
    styles = [r"[a-z]+ \d+, \d{4}", r"[A-Z][a-z]+ \d+, \d{4}", r"\d+/\d+/\d\d", r"[A-Z]+, [A-Z]+ \d+, \d{4}",
              r"[A-Z]{3} \d+, \d{4}"]
    seen = [next(i for i, style in enumerate(styles) if re.fullmatch(style, w)) for w, _ in pairs]
    assert sorted(set(seen)) == [0, 1, 2, 3, 4]
    assert pairs == data.dates(np.random.default_rng(4), 300)
    assert pairs != data.dates(np.random.default_rng(5), 300)
