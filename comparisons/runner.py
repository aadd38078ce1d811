"""Run concepts, collect their records, and write the report atomically.

A concept that raises does not stop the run: it is recorded as a failed check carrying its error
and the others go on. The report is written into a temporary folder beside the output folder and
moved into place only when it is complete, so an interrupted run (Ctrl-C) leaves the previous
report as it was; :mod:`comparisons.outdir` decides whether the output folder may be replaced.
"""

from __future__ import annotations

import os
import platform
import shutil
import signal
import sys
import time
import traceback
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import threadpoolctl
import torch

from . import outdir, registry, seeding
from .context import ConceptContext, RunOptions


@dataclass
class ConceptResult:
    concept: registry.Concept
    contexts: list[ConceptContext] = field(default_factory=list)

    @property
    def records(self):
        return [r for ctx in self.contexts for r in ctx.records]


@dataclass
class RunResult:
    options: RunOptions
    concepts: list[ConceptResult]
    meta: dict

    @property
    def records(self):
        return [r for c in self.concepts for r in c.records]

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.records)


def configure_torch(device: str) -> None:
    """Settings every comparison needs: no TF32, deterministic algorithms where they exist, and one
    CPU thread for each side.

    The comparisons interleave a NumPy step and a torch step many times. With OpenBLAS and torch
    each keeping a pool of spinning threads on the same cores, one 128×100 @ 100×100 matmul of
    each in turn took 11 ms on the 2-core CI machine instead of 0.15 ms: the pools fight for the
    cores. Single-threaded, both sides run at full speed and the timings are comparable.
    """
    threadpoolctl.threadpool_limits(1)
    torch.set_num_threads(1)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.use_deterministic_algorithms(True, warn_only=True)
    if device.startswith("cuda"):
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")


def check_device(device: str) -> None:
    """Raise ValueError with a clear reason when the device cannot be used."""
    if device == "cpu":
        return
    if not device.startswith("cuda"):
        raise ValueError(f"--device must be 'cpu' or 'cuda' (or 'cuda:N'), got {device!r}")
    if not torch.cuda.is_available():
        raise ValueError("--device cuda was asked for, but torch sees no CUDA GPU "
                         f"(torch {torch.__version__}, CUDA build: {torch.version.cuda})")


def run_concepts(ids, options: RunOptions, work_dir: Path | None, progress=None, jobs: int = 1) -> RunResult:
    """Run the given concept ids for every dtype of ``options``; figures go to ``work_dir``.

    ``jobs`` > 1 runs the (concept, dtype) tasks in that many worker processes, each
    single-threaded (see :func:`configure_torch`), on as many cores: the same tasks with the same
    numbers, as each task seeds its own generators (:func:`run_one`). An implementation passed in
    ``options.impl`` (a user's module) is run in this process."""
    check_device(options.device)
    configure_torch(options.device)
    concepts = [registry.get(i) for i in ids]
    say = progress or (lambda msg: None)
    started = time.perf_counter()
    tasks = [(concept, dtype, work_dir if (n == 0 and work_dir is not None) else None)
             for concept in concepts for n, dtype in enumerate(options.dtypes)]
    if jobs > 1 and options.impl is None and len(tasks) > 1:
        contexts = _run_in_workers(tasks, options, jobs, say)
    else:
        contexts = {}
        for concept, dtype, artifacts_dir in tasks:
            say(f"[{concept.id}] {dtype} ...")
            contexts[concept.id, dtype] = _said(run_one(concept, options, dtype, artifacts_dir), say)
    results = [ConceptResult(concept, [contexts[concept.id, dtype] for dtype in options.dtypes]) for concept in concepts]
    meta = run_metadata(options, time.perf_counter() - started)
    return RunResult(options, results, meta)


def run_one(concept, options: RunOptions, dtype: str, artifacts_dir: Path | None) -> ConceptContext:
    """One concept in one dtype: its context with the records, tables, figures and
    timings.

    The global generators (torch's, NumPy's legacy one) are seeded from the run's seed and the
    concept first, so a concept's numbers do not depend on what ran before it in the process."""
    ctx = ConceptContext(concept.id, options, dtype, artifacts_dir)
    seeding.seed_globals(options.seed, concept.id)
    t0 = time.perf_counter()
    try:
        concept.run(ctx)
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # recorded, and the run goes on
        ctx.fail("concept ran to the end", f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=6)}")
    ctx.timings["total"] = time.perf_counter() - t0
    return ctx


def _said(ctx: ConceptContext, say) -> ConceptContext:
    bad = sum(not r.passed for r in ctx.records)
    say(f"[{ctx.concept}] {ctx.dtype}: {len(ctx.records) - bad}/{len(ctx.records)} checks passed "
        f"in {ctx.timings['total']:.2f} s")
    return ctx


def _run_task(task):
    concept, dtype, artifacts_dir, options = task
    return concept, dtype, run_one(registry.get(concept), options, dtype, artifacts_dir)


def _run_in_workers(tasks, options: RunOptions, jobs: int, say) -> dict:
    """The tasks in ``jobs`` spawned worker processes; progress is said as each one ends."""
    contexts = {}
    say(f"{len(tasks)} tasks in {jobs} worker processes ...")
    work = [(concept.id, dtype, artifacts_dir, options) for concept, dtype, artifacts_dir in tasks]
    with worker_pool(jobs, options.device) as pool:
        for concept, dtype, ctx in in_workers(pool, _run_task, work):
            contexts[concept, dtype] = _said(ctx, say)
    return contexts


@contextmanager
def worker_pool(jobs: int, device: str):
    """``jobs`` spawned worker processes, each set up by :func:`configure_torch`. Ctrl-C reaches
    this process only (the workers ignore SIGINT, so none prints a traceback); leaving the block
    by an exception, an interrupt included, ends the workers at once. A worker that dies (killed,
    out of memory) raises ``BrokenProcessPool`` where its result is awaited."""
    import concurrent.futures as cf
    import multiprocessing

    pool = cf.ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"),
                                  initializer=_worker_setup, initargs=(device,))
    try:
        yield pool
    except BaseException:
        _end_now(pool)
        raise
    pool.shutdown()


def in_workers(pool, fn, items):
    """``fn(item)`` for every item, in the pool's workers, yielded as each one finishes."""
    import concurrent.futures as cf

    for future in cf.as_completed([pool.submit(fn, item) for item in items]):
        yield future.result()


def _worker_setup(device: str) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    configure_torch(device)


def _end_now(pool) -> None:
    """Cancel the tasks not started and end the workers without waiting for the running ones, but
    for their end: none of them writes after this returns (``terminate_workers`` from Python 3.14
    where the executor's processes cannot be read)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    if not processes and hasattr(pool, "terminate_workers"):
        pool.terminate_workers()
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(timeout=30)


def run_metadata(options: RunOptions, wall_s: float) -> dict:
    impl = options.implementation()
    device_name = "cpu: " + (platform.processor() or platform.machine())
    if options.device.startswith("cuda"):
        device_name = "cuda: " + torch.cuda.get_device_name(torch.device(options.device))
    return {
        "seed": options.seed,
        "device": options.device,
        "device_name": device_name,
        "dtypes": list(options.dtypes),
        "setup": options.setup,
        "data": options.images,
        "implementation": getattr(impl, "__name__", type(impl).__name__),
        "replaced": list(getattr(impl, "__replaced__", [])),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "kernels": kernels(),
        "wall_s": wall_s,
    }


def kernels() -> dict:
    """What decides a result's last bits on this machine: the BLAS NumPy calls and the kernels it
    picked for the processor (threadpoolctl), torch's BLAS and its CPU instruction set, and the
    environment variables that override them. Two reports whose kernels differ may differ in the
    last bits of a sum (1e-16 relative in float64), never in a verdict."""
    blas = next((i for i in threadpoolctl.threadpool_info() if i.get("user_api") == "blas"), {})
    config = torch.__config__.show()
    torch_blas = next((part.split("=", 1)[1] for part in config.replace(",", " ").split() if part.startswith("BLAS_INFO=")), "?")
    return {"numpy_blas": f"{blas.get('internal_api', '?')} {blas.get('version') or ''}".strip(),
            "numpy_blas_kernel": blas.get("architecture") or "?",
            "torch_blas": torch_blas, "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
            **{k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "MKL_CBWR", "MKL_ENABLE_INSTRUCTIONS") if k in os.environ}}


KEPT_PARTS = ("bench", "sweep")


def run_and_write(ids, options: RunOptions, out: Path, progress=None, jobs: int = 1) -> RunResult:
    """Run and write the report into ``out``, replacing it only once the new report is complete,
    and only when ``out`` is new, empty or an earlier output of this project (see
    :mod:`comparisons.outdir`; an :class:`~comparisons.outdir.OutputFolderError` otherwise, raised
    before anything runs)."""
    from .report import write_report

    check_device(options.device)
    with outdir.replacing(out, "python -m comparisons run") as folder:
        for part in KEPT_PARTS:  # written by `bench` and `sweep` into the report: kept with it
            old = Path(out).resolve() / part
            if old.is_dir() and outdir.read_marker(old) is not None:
                shutil.copytree(old, folder / part)
        result = run_concepts(ids, options, folder, progress, jobs)
        write_report(result, folder)
    return result


def print_progress(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)
