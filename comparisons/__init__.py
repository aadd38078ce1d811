"""The harness: runs each concept on both sides from shared state and records every error.

The only package that imports both ``scratch`` and ``torch``. Entry points: the CLI
(``python -m comparisons``) and :func:`comparisons.runner.run_and_write`.
"""

import os
import sys

os.environ.setdefault("MPLBACKEND", "Agg")  # figures are files; read by matplotlib when (and if) it is imported
if "matplotlib" in sys.modules:
    sys.modules["matplotlib"].use("Agg")

__all__ = ["ConceptContext", "RunOptions", "run_and_write", "run_concepts"]


def __getattr__(name):
    """The entry points, imported when first used: ``python -m comparisons --help`` imports no torch."""
    if name in ("ConceptContext", "RunOptions"):
        from . import context

        return getattr(context, name)
    if name in ("run_and_write", "run_concepts"):
        from . import runner

        return getattr(runner, name)
    raise AttributeError(f"module 'comparisons' has no attribute {name!r}")
