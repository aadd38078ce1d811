"""The two codes of a compared pair, as highlighted HTML: this project's ``scratch`` object and its
``torch_ref`` counterpart (never torch's own library source)."""

from __future__ import annotations

import functools
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


@functools.lru_cache(maxsize=None)
def listing(obj) -> Listing:
    """The highlighted source of ``obj`` with its dotted name and where it lives (made once per
    object: both editions show the same code)."""
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
    it names beside its ``torch_ref`` reference, or, where the pair shows a module of ``torch.nn``
    itself (``nn.Sigmoid``), the lines a PyTorch user writes to use it."""
    import scratch

    numpy_obj, torch_obj = compared.scratch_object(scratch), compared.reference_object()
    if is_torch_module(torch_obj):
        return listing(numpy_obj), usage(torch_obj)
    return pair(numpy_obj, torch_obj)


def is_torch_module(obj) -> bool:
    """A class of ``torch.nn`` (``nn.Sigmoid``), as opposed to this project's ``torch_ref`` code."""
    import torch

    return isinstance(obj, type) and issubclass(obj, torch.nn.Module) and (obj.__module__ or "").startswith("torch.nn")


def usage(module_class) -> Listing:
    """What a PyTorch user writes to use a module of ``torch.nn``: build it, call it, let autograd
    differentiate it. Torch's own source is never shown."""
    name = module_class.__name__
    variable = "".join("_" + ch.lower() if ch.isupper() and i else ch.lower() for i, ch in enumerate(name)).strip("_")
    source = (f"from torch import nn\n\n"
              f"{variable} = nn.{name}()\n"
              f"y = {variable}(x)              # forward\n"
              f"y.backward(dout)            # backward: autograd fills x.grad (x.requires_grad_() first)\n")
    return Listing(f"torch.nn.{name}", "", highlight(source, PythonLexer(), _FORMATTER))


def css() -> str:
    """Pygments' colours for the ``.hl`` blocks."""
    return _FORMATTER.get_style_defs(".hl")
