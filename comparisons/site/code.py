"""The two codes of a compared pair, as highlighted HTML: this project's ``scratch`` object and its
``torch_ref`` counterpart (never torch's own library source)."""

from __future__ import annotations

import inspect
import textwrap
from dataclasses import dataclass
from pathlib import Path

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

_FORMATTER = HtmlFormatter(nowrap=False, cssclass="hl")
_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Listing:
    name: str  # scratch.losses.cross_entropy_error
    where: str  # scratch/losses.py, line 42
    html: str


def qualname(obj) -> str:
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', repr(obj))}"


def listing(obj) -> Listing:
    """The highlighted source of ``obj`` with its dotted name and where it lives."""
    try:
        lines, start = inspect.getsourcelines(obj)
        source = textwrap.dedent("".join(lines)).rstrip()
        path = Path(inspect.getsourcefile(obj)).resolve()
        where = f"{path.relative_to(_ROOT) if path.is_relative_to(_ROOT) else path.name}, line {start}"
    except (OSError, TypeError):
        source, where = f"# the source of {qualname(obj)} is not available", ""
    return Listing(qualname(obj), where, highlight(source, PythonLexer(), _FORMATTER))


def pair(numpy_obj, torch_obj) -> tuple[Listing, Listing]:
    """Both listings of a CODE pair. The torch side must be this project's ``torch_ref``."""
    module = getattr(torch_obj, "__module__", "") or ""
    if not module.startswith("torch_ref"):
        raise ValueError(f"CODE pairs show this project's torch_ref code beside scratch's; "
                         f"{qualname(torch_obj)} is not in torch_ref")
    return listing(numpy_obj), listing(torch_obj)


def declared(compared) -> tuple[Listing, Listing]:
    """Both listings of a declared pair (a :class:`comparisons.pairs.Pair`): the ``scratch`` object
    it names beside its ``torch_ref`` reference."""
    import scratch

    return pair(compared.scratch_object(scratch), compared.reference_object())


def css() -> str:
    """Pygments' colours for the ``.hl`` blocks."""
    return _FORMATTER.get_style_defs(".hl")
