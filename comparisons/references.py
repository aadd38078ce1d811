"""``verify --list`` without importing torch: the list of references is text made from the pair
declarations, kept with the fingerprint of their sources. While the sources are unchanged the kept
text is printed (well under a second); after a change it is made again (importing the pairs, a few
seconds once) and kept in the user's cache folder.

    python -m comparisons.references      # write the packaged copy (comparisons/texts/references.txt)
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PACKAGED = HERE / "texts" / "references.txt"


def fingerprint() -> str:
    """A hash of what the listing is made from: the pair declarations and the listing's format."""
    h = hashlib.sha256()
    for path in sorted((HERE / "pairs").glob("*.py")) + [HERE / "verify_text.py"]:
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def _cache() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "comparisons"


def live() -> str:
    from .verify import list_references

    return list_references()


def _read(path: Path, fp: str) -> str | None:
    try:
        first, _, rest = path.read_text(encoding="utf-8").partition("\n")
    except OSError:
        return None
    return rest if first == fp else None


def listing() -> str:
    """The list of references: the kept text while the declarations are unchanged, else made now."""
    fp = fingerprint()
    cached = _cache() / f"references-{fp[:16]}.txt"
    for path in (PACKAGED, cached):
        text = _read(path, fp)
        if text is not None:
            return text
    text = live()
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.write_text(f"{fp}\n{text}", encoding="utf-8")
    except OSError:
        pass  # a read-only home: made again next time
    return text


def write_packaged() -> Path:
    PACKAGED.write_text(f"{fingerprint()}\n{live()}", encoding="utf-8")
    return PACKAGED


if __name__ == "__main__":
    print(write_packaged(), file=sys.stderr)
