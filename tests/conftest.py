import functools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

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
    """Run one concept's quick set-up and return its context (records, tables, timings). Runs of ``scratch``
    itself without figures are cached: several tests read the same default run."""
    if impl is None and out_dir is None:
        return _cached_run(concept_id, dtype, seed)
    return _run(concept_id, dtype, impl, seed, out_dir)


@functools.lru_cache(maxsize=None)
def _cached_run(concept_id, dtype, seed):
    return _run(concept_id, dtype, None, seed, None)


def _run(concept_id, dtype, impl, seed, out_dir):
    from comparisons import registry
    from comparisons.context import ConceptContext, RunOptions
    from comparisons.runner import configure_torch

    configure_torch("cpu")
    ctx = ConceptContext(concept_id, RunOptions(seed=seed, impl=impl, quick=True), dtype, out_dir)
    registry.get(concept_id).run(ctx)
    return ctx


def failed_checks(ctx):
    return [r.check for r in ctx.records if not r.passed]


@pytest.fixture(scope="session")
def small_report(tmp_path_factory):
    """A report of two cheap concepts in both dtypes, with the benchmark, written once per session:
    the folder the site's tests read (never modify it; copy it first)."""
    from comparisons import runner
    from comparisons.bench import run_bench
    from comparisons.context import RunOptions

    out = tmp_path_factory.mktemp("report") / "reports"
    run_bench(out / "bench", repeats=1)
    runner.run_and_write(["softmax", "losses"], RunOptions(dtypes=("float64", "float32"), quick=True), out)
    return out


def interrupted_command(argv, started, timeout=120):
    """Run ``python -m comparisons ARGV`` in its own process group, wait until ``started()`` is
    true, then send SIGINT to the whole group, as a terminal's Ctrl-C does; (exit status, stderr)."""
    proc = subprocess.Popen([sys.executable, "-m", "comparisons", *argv], cwd=Path(__file__).resolve().parents[1],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and proc.poll() is None and not started():
            time.sleep(0.1)
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    return proc.returncode, err


def exit_at_once(task):
    """A task (put in place of a runner's, in its worker processes) whose worker ends at once
    with no result, as a worker killed by the out-of-memory killer would."""
    os._exit(3)
