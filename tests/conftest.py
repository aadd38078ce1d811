import os

import matplotlib
import pytest

matplotlib.use("Agg")
os.environ.setdefault("MPLBACKEND", "Agg")


def pytest_collection_modifyitems(config, items):
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU; torch sees none")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


def run_concept(concept_id, dtype="float64", impl=None, seed=0, out_dir=None):
    """Run one concept and return its context (records, tables, timings)."""
    from comparisons import registry
    from comparisons.context import ConceptContext, RunOptions
    from comparisons.runner import configure_torch

    configure_torch("cpu")
    ctx = ConceptContext(concept_id, RunOptions(seed=seed, impl=impl), dtype, out_dir)
    registry.get(concept_id).run(ctx)
    return ctx


def failed_checks(ctx):
    return [r.check for r in ctx.records if not r.passed]
