"""What the whole suite shares: the concept runs (one quick run per concept, dtype and seed, cached
in each test process), the small report the site's and the commands' tests read, and the markers
that keep ``pytest -n 2 --dist loadgroup`` cheap and safe.

Parallel runs (pytest-xdist): every test writes only under its own ``tmp_path``; nothing depends on
the order of the tests. A test that reads a concept's default run, or the small report, is put in
that run's group (``xdist_group``), so that one test process makes it once and its other readers
find it in the cache."""

import functools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import matplotlib
import pytest
from hypothesis import settings

matplotlib.use("Agg")
os.environ.setdefault("MPLBACKEND", "Agg")

# No example database in the working tree: two test processes never write the same folder, and a
# test that lists the project's folder before and after a command sees only what the command did.
settings.register_profile("suite", database=None)
settings.load_profile("suite")

ROOT = Path(__file__).resolve().parents[1]
SHARED_FIXTURES = ("small_report", "committed_site")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    import torch

    skip = pytest.mark.skip(reason="needs a CUDA GPU; torch sees none")
    for item in items:
        if "gpu" in item.keywords and not torch.cuda.is_available():
            item.add_marker(skip)
        group = _group(item)
        if group and item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(group))


def _group(item) -> str | None:
    """The expensive state a test reads: one of the session's shared folders, or else a concept's
    default run (a parameter ``concept_id``)."""
    shared = next((name for name in SHARED_FIXTURES if name in getattr(item, "fixturenames", ())), None)
    params = getattr(getattr(item, "callspec", None), "params", {})
    if shared is None and "concept_id" in params:
        return f"concept-{params['concept_id']}"
    return shared


def run_concept(concept_id, dtype="float64", impl=None, seed=0, out_dir=None):
    """Run one concept's quick set-up and return its context (records, tables, timings). Runs of
    ``scratch`` itself without figures are cached: the tests that read the same default run share
    it (give such a test the parameter ``concept_id`` and it runs in that concept's group)."""
    if impl is None and out_dir is None:
        return _cached_run(concept_id, dtype, seed)
    return _run(concept_id, dtype, impl, seed, out_dir)


@functools.lru_cache(maxsize=None)
def _cached_run(concept_id, dtype, seed):
    return _run(concept_id, dtype, None, seed, None)


def _run(concept_id, dtype, impl, seed, out_dir):
    """The runner's own run of one task: the global generators seeded from (seed, concept) first, and
    an exception recorded as a failed check, as in ``python -m comparisons run``."""
    from comparisons import registry
    from comparisons.context import RunOptions
    from comparisons.runner import configure_torch, run_one

    configure_torch("cpu")
    return run_one(registry.get(concept_id), RunOptions(seed=seed, impl=impl, quick=True), dtype, out_dir)


def failed_checks(ctx):
    return [r.check for r in ctx.records if not r.passed]


def planted(concept_id, overrides, dtype="float64"):
    """The failed checks of a concept's quick run with parts of scratch replaced (``{"layers.ReLU":
    cls}``): what a planted mistake makes fail."""
    import numpy as np

    from comparisons.implementation import with_overrides

    with np.errstate(all="ignore"):
        return failed_checks(run_concept(concept_id, dtype, impl=with_overrides(overrides)))


def catalogued(kind, pair_id, hint_part, in_place_of=None):
    """The wrong implementation of a pair's catalogued mistake, found by a part of its hint: the
    mistakes the tests plant are read from the catalogue, never written again. ``in_place_of`` (a
    dotted name in scratch) makes it callable as that object is: its arguments, defaults filled in,
    passed by name to the mistake where it takes them (a catalogue writes an optimizer as a rule
    taking keywords, a loss without the book's δ)."""
    import inspect

    import scratch
    from comparisons import pairs

    found = [m for m in pairs.get(kind, pair_id).mistakes if hint_part in m.hint]
    assert len(found) == 1, f"{kind} {pair_id}: {len(found)} catalogued mistakes mention {hint_part!r}"
    wrong = found[0].wrong
    if in_place_of is None:
        return wrong
    module, _, name = in_place_of.partition(".")
    signature = inspect.signature(getattr(getattr(scratch, module), name))
    takes = inspect.signature(wrong).parameters
    if list(takes) == list(signature.parameters):
        return wrong
    takes_any = any(p.kind == p.VAR_KEYWORD for p in takes.values())

    def called_as_scratch(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        return wrong(**{k: v for k, v in bound.arguments.items() if takes_any or k in takes})

    called_as_scratch.__signature__ = signature
    return called_as_scratch


@pytest.fixture(scope="session")
def small_report(tmp_path_factory):
    """A report of two cheap concepts in both dtypes, with the benchmark, written once per test
    process: the folder the site's tests read (never modify it; copy it first)."""
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
    proc = subprocess.Popen([sys.executable, "-m", "comparisons", *argv], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and proc.poll() is None and not started():
            time.sleep(0.05)
        assert proc.poll() is None, "the command ended before it could be interrupted: give it more to do"
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    return proc.returncode, err


def command_with_a_killed_worker(argv, timeout=120):
    """Run ``python -m comparisons ARGV`` (a command with worker processes), SIGKILL one of its
    workers once it runs, as the out-of-memory killer would; (exit status, stderr)."""
    proc = subprocess.Popen([sys.executable, "-m", "comparisons", *argv], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline, workers = time.monotonic() + timeout, []
        while time.monotonic() < deadline and proc.poll() is None and not workers:
            time.sleep(0.05)
            workers = _spawned_workers(proc.pid)
        assert workers, "the command started no worker process"
        os.kill(workers[0], signal.SIGKILL)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    return proc.returncode, err


def _spawned_workers(parent: int) -> list:
    """The processes of multiprocessing's spawn start method that ``parent`` started (Linux /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields[1]) == parent and b"spawn_main" in cmdline:
            found.append(int(stat.parent.name))
    return found
