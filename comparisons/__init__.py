"""The harness: runs each concept on both sides from shared state and records every error.

The only package that imports both ``scratch`` and ``torch``. Entry points: the CLI
(``python -m comparisons``) and :func:`comparisons.runner.run_and_write`.
"""

import matplotlib

matplotlib.use("Agg")

from .context import ConceptContext, RunOptions  # noqa: E402
from .runner import run_and_write, run_concepts  # noqa: E402

__all__ = ["ConceptContext", "RunOptions", "run_and_write", "run_concepts"]
