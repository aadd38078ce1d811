"""The seed sweep: the whole suite once per seed, and every check's pass rate over the seeds.

    python -m comparisons sweep --seeds 0-19 --dtype float64 float32 --jobs 2 --out reports/sweep

Every check must pass at every seed: a check that fails at some seed is a defect in the check or
in the code, never noise. The sweep is the proof. Its tasks, one concept in one dtype at one seed,
run in ``--jobs`` worker processes; a progress bar goes to stderr.

The sweep runs the quick set-ups (8×8 digits, shortened runs) unless ``--full`` asks for the
report's full-length set-ups on MNIST; ``sweep.json`` records which (``"setup"``).

Finished work is never thrown away. Before the first task the output folder is checked (as every
output folder, :mod:`comparisons.outdir`), and the seeds too (at most :data:`MAX_SEEDS`). Each task's
records are appended, as it finishes, to a file beside the folder, ``.<out>.partial.jsonl`` (one
line of JSON naming the options, then one line per finished task). A sweep that is interrupted
(Ctrl-C: exit 130) or cannot write its folder (exit 2) keeps that file; the same command with
``--resume`` skips the tasks it holds and runs the rest, and refuses options other than the ones it
was started with. When the folder is written, the file is removed. The output folder gets

* ``sweep.json`` — ``{"seeds", "dtypes", "setup", "concepts", "wall_s", "resumed_tasks", "checks":
  [{"concept", "check", "dtype", "runs", "passed", "pass_rate", "worst_max_rel_err",
  "worst_max_abs_err", "worst_seed", "failed_seeds"}]}``, one row per check;
* ``sweep.csv`` and ``sweep.md`` — the same rows as a table, failing checks first.

A check is identified by (concept, check name, dtype); a check that exists only at some seeds (a
concept that raised) counts as failed at the seeds where it is missing.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import outdir
from .report import _markdown_table as markdown_table
from .seeding import SEED_MAX

SWEEP_COLUMNS = ["concept", "check", "dtype", "runs", "passed", "pass_rate", "worst_max_rel_err",
                 "worst_max_abs_err", "worst_seed", "failed_seeds"]
MAX_SEEDS = 10_000  # a quick seed takes about 2 minutes of one core in both dtypes: 10,000 of them, about 2 weeks of 1 core
PARTIAL_HEADER = "a partial seed sweep of python -m comparisons sweep"


class SweepError(ValueError):
    """The sweep cannot start or go on; the message is one line (a usage error: exit 2)."""


def parse_seeds(spec: str) -> list[int]:
    """``"0-19"``, ``"3"`` or ``"0,5,7-9"`` → the seeds, in order, each once: integers from 0 to
    2**63 − 1, at most :data:`MAX_SEEDS` of them (counted on the ranges before any list is made,
    so a range of 10¹⁴ seeds is refused at once). Raises ValueError naming ``--seeds``."""
    form = f"--seeds takes seeds and ranges like 0-19 or 0,5,7-9; got {spec!r}"
    ranges = []
    for part in str(spec).split(","):
        if part.strip().startswith("-"):
            raise ValueError(f"--seeds: seeds are integers from 0 to 2**63 - 1, never negative; got {spec!r}")
        lo, sep, hi = part.strip().partition("-")
        try:
            lo, hi = int(lo), int(hi) if sep else int(lo)
        except ValueError:
            raise ValueError(form) from None
        for seed in (lo, hi):
            if not 0 <= seed <= SEED_MAX:
                raise ValueError(f"--seeds: seeds must be integers from 0 to 2**63 - 1, got {seed}")
        if hi < lo:
            raise ValueError(f"--seeds: the range {lo}-{hi} runs backwards; write {hi}-{lo}")
        ranges.append((lo, hi))
    count = _count(ranges)
    if count > MAX_SEEDS:
        raise ValueError(f"--seeds names {count:,} seeds; one sweep takes at most {MAX_SEEDS:,} "
                         "(about 2 minutes of one core each, in both dtypes): split it into several sweeps")
    return list(dict.fromkeys(seed for lo, hi in ranges for seed in range(lo, hi + 1)))


def _count(ranges) -> int:
    """How many distinct integers the ranges (lo, hi), both ends included, cover."""
    count, reach = 0, -1
    for lo, hi in sorted(ranges):
        if hi > reach:
            count += hi - max(lo, reach + 1) + 1
            reach = hi
    return count


def _seed_text(seeds: list[int]) -> str:
    """The seeds as --seeds would name them: ranges of consecutive seeds, e.g. 0-19,25."""
    parts, i = [], 0
    while i < len(seeds):
        j = i
        while j + 1 < len(seeds) and seeds[j + 1] == seeds[j] + 1:
            j += 1
        parts.append(str(seeds[i]) if i == j else f"{seeds[i]}-{seeds[j]}")
        i = j + 1
    return ",".join(parts)


@dataclass(frozen=True)
class Plan:
    """What a sweep runs: the concepts, at every seed, in every dtype, on one device and set-up."""

    ids: tuple
    seeds: tuple
    dtypes: tuple
    device: str = "cpu"
    full: bool = False

    def options(self) -> dict:
        """The options as the command line names them, for the partial file and its messages."""
        return {"ID": " ".join(self.ids), "--seeds": _seed_text(list(self.seeds)), "--dtype": " ".join(self.dtypes),
                "--device": self.device, "--full": self.full}

    def tasks(self) -> list[tuple]:
        """Every task (seed, concept, dtype), seed by seed."""
        return [(seed, cid, dtype) for seed in self.seeds for cid in self.ids for dtype in self.dtypes]


def _run_task(task) -> dict:
    """Worker: one concept in one dtype at one seed; its check records as dicts."""
    from . import registry
    from .context import RunOptions
    from .runner import run_one

    (seed, cid, dtype), device, full = task
    started = time.perf_counter()
    ctx = run_one(registry.get(cid), RunOptions(seed=seed, dtypes=(dtype,), device=device, quick=not full), dtype, None)
    return {"seed": seed, "concept": cid, "dtype": dtype, "seconds": time.perf_counter() - started,
            "records": [r.to_dict() for r in ctx.records]}


# --- the partial file: finished tasks, kept as they finish --------------------------------------------------

class Partial:
    """``.<out>.partial.jsonl`` beside the output folder: a header line with the options, then one
    line of JSON per finished task, each written and flushed to disk as the task finishes."""

    def __init__(self, path: Path, plan: Plan):
        self.path, self.plan, self.done = Path(path), plan, {}

    @classmethod
    def open(cls, target: Path, plan: Plan, resume: bool) -> "Partial":
        """The partial file of the sweep into ``target`` (an output folder already checked): a new
        one, or with ``resume`` the one an earlier run of the same options left. Raises
        :class:`SweepError` (nothing changed) when one is there without ``resume``, or holds other
        options, or is not a partial sweep of this project."""
        partial = cls(target.with_name(f".{target.name}.partial.jsonl"), plan)
        try:
            exists = os.path.lexists(partial.path)
            if exists and not resume:
                raise SweepError(f"an unfinished sweep into {target} is kept in {partial.path}: add --resume to "
                                 "continue it, or delete that file to start over")
            if exists:
                partial._read()
            else:
                partial._create()
        except OSError as exc:
            raise SweepError(f"--out {target}: the sweep cannot keep its progress in {partial.path}: "
                             f"{exc.strerror or exc}") from None
        return partial

    def _create(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._write("x", [{"sweep": PARTIAL_HEADER, "options": self.plan.options()}])

    def _write(self, mode: str, lines: list) -> None:
        """Lines of JSON into the file (``mode`` "x": a new file, "a": appended), on disk before this returns."""
        with open(self.path, mode, encoding="utf-8") as f:
            f.write("".join(json.dumps(line) + "\n" for line in lines))
            f.flush()
            os.fsync(f.fileno())

    def _read(self) -> None:
        if self.path.is_symlink() or not self.path.is_file():
            raise SweepError(f"{self.path} is not a file this project wrote; move it away to run the sweep")
        raw = self.path.read_bytes()
        lines = raw.split(b"\n")
        complete, cut = lines[:-1], lines[-1]  # a last line without its newline: a write cut short, redone
        try:
            header = json.loads(complete[0]) if complete else None
        except ValueError:
            header = None
        if not isinstance(header, dict) or header.get("sweep") != PARTIAL_HEADER:
            raise SweepError(f"{self.path} is not a partial sweep of this project; move it away to run the sweep")
        self._same_options(header.get("options"))
        for number, line in enumerate(complete[1:], start=2):
            try:
                entry = json.loads(line)
                key = (entry["seed"], entry["concept"], entry["dtype"])
                if not isinstance(entry["records"], list):
                    raise TypeError
            except (ValueError, KeyError, TypeError):
                raise SweepError(f"{self.path}: line {number} is not a finished task of this project; "
                                 "delete the file to start the sweep over") from None
            self.done[key] = entry
        if cut:
            with open(self.path, "r+b") as f:
                f.truncate(len(raw) - len(cut))

    def _same_options(self, kept) -> None:
        wanted = self.plan.options()
        if not isinstance(kept, dict):
            kept = {}
        differ = [f"{name} {_shown_option(kept.get(name))} there, {_shown_option(value)} here"
                  for name, value in wanted.items() if kept.get(name) != value]
        if differ:
            raise SweepError(f"--resume: the unfinished sweep in {self.path} was started with other options ("
                             + "; ".join(differ) + "): give the same options to continue it, or delete the file "
                             "to start over")

    def add(self, entry: dict) -> None:
        """Append one finished task, on disk before this returns (the file written anew, with every
        task finished so far, if it was removed meanwhile)."""
        if not os.path.lexists(self.path):
            self._create()
            self._write("a", list(self.done.values()))
        self._write("a", [entry])
        self.done[(entry["seed"], entry["concept"], entry["dtype"])] = entry

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


def _shown_option(value) -> str:
    if value is True:
        return "given"
    if value is False:
        return "not given"
    return "(none)" if value in (None, "") else str(value)


# --- running -----------------------------------------------------------------------------------------------------

def run_sweep(plan: Plan, partial: Partial, jobs: int = 2, progress=None) -> dict:
    """Run every task of ``plan`` that ``partial`` does not hold yet, ``jobs`` at a time, adding
    each to ``partial`` as it finishes; return the sweep dict over all of them. The quick set-ups by
    default (the 8×8 digits, shortened runs); ``plan.full``: the report's full-length set-ups on MNIST.
    An OSError while keeping a task propagates (the tasks before it are kept)."""
    from .runner import configure_torch, in_workers, worker_pool

    started = time.perf_counter()
    resumed = sum(task in partial.done for task in plan.tasks())
    todo = [(task, plan.device, plan.full) for task in plan.tasks() if task not in partial.done]
    bar = progress or (lambda done, total, seconds: None)
    total = len(plan.tasks())
    if jobs <= 1 or len(todo) <= 1:
        configure_torch(plan.device)
        results = map(_run_task, todo)
        for entry in results:
            partial.add(entry)
            bar(len(partial.done), total, entry["seconds"])
    else:
        with worker_pool(jobs, plan.device) as pool:
            for entry in in_workers(pool, _run_task, todo):
                partial.add(entry)
                bar(len(partial.done), total, entry["seconds"])
    by_seed: dict[int, list[dict]] = {seed: [] for seed in plan.seeds}
    for task in plan.tasks():
        by_seed[task[0]].extend(partial.done[task]["records"])
    return {"seeds": list(plan.seeds), "dtypes": list(plan.dtypes), "setup": "full" if plan.full else "quick",
            "concepts": list(plan.ids), "wall_s": time.perf_counter() - started, "resumed_tasks": resumed,
            "checks": aggregate(by_seed)}


def aggregate(by_seed: dict) -> list[dict]:
    """One row per (concept, check, dtype) over the seeds of ``by_seed`` (seed → record dicts)."""
    rows: dict[tuple, dict] = {}
    for seed in sorted(by_seed):
        for rec in by_seed[seed]:
            key = (rec["concept"], rec["check"], rec["dtype"])
            row = rows.setdefault(key, {"concept": key[0], "check": key[1], "dtype": key[2], "seen": {},
                                        "worst_max_rel_err": None, "worst_max_abs_err": None, "worst_seed": None})
            row["seen"][seed] = row["seen"].get(seed, True) and bool(rec["passed"])
            rel = _number(rec.get("max_rel_err"))
            if rec.get("kind") in ("exact", "trained", "gradcheck") and rel is not None:
                if row["worst_max_rel_err"] is None or rel > row["worst_max_rel_err"]:
                    row["worst_max_rel_err"], row["worst_seed"] = rel, seed
                    row["worst_max_abs_err"] = _number(rec.get("max_abs_err"))
    out = []
    for row in rows.values():
        seen = row.pop("seen")
        failed = [s for s in by_seed if not seen.get(s, False)]  # missing at a seed counts as failed
        runs = len(by_seed)
        out.append({**row, "runs": runs, "passed": runs - len(failed), "pass_rate": (runs - len(failed)) / runs,
                    "failed_seeds": sorted(failed)})
    out.sort(key=lambda r: (r["pass_rate"], r["concept"], r["dtype"], r["check"]))
    return [{k: r[k] for k in SWEEP_COLUMNS} for r in out]


def _number(value):
    if value is None:
        return None
    value = float(value)  # results.json writes inf/nan as strings
    return value if not math.isnan(value) else math.inf


def table(sweep: dict) -> pd.DataFrame:
    frame = pd.DataFrame(sweep["checks"], columns=SWEEP_COLUMNS)
    frame["failed_seeds"] = frame["failed_seeds"].map(lambda s: ", ".join(map(str, s)))
    return frame


def write_sweep(sweep: dict, out, progress=None) -> Path:
    """Write sweep.json, sweep.csv and sweep.md into ``out`` (see :mod:`comparisons.outdir`)."""
    with outdir.replacing(out, "python -m comparisons sweep") as folder:
        (folder / "sweep.json").write_text(json.dumps(sweep, indent=1), encoding="utf-8")
        frame = table(sweep)
        frame.to_csv(folder / "sweep.csv", index=False)
        (folder / "sweep.md").write_text(summary_line(sweep) + "\n\n" + markdown_table(frame) + "\n",
                                         encoding="utf-8")
    return Path(out)


def summary_line(sweep: dict) -> str:
    checks = sweep["checks"]
    failing = [c for c in checks if c["passed"] < c["runs"]]
    n_seeds = len(sweep["seeds"])
    total = sum(c["runs"] for c in checks)
    ok = sum(c["passed"] for c in checks)
    seeds = sweep["seeds"]
    span = f"{seeds[0]}–{seeds[-1]}" if seeds == list(range(seeds[0], seeds[-1] + 1)) else ", ".join(map(str, seeds))
    setup = {"full": "full-length set-ups", "quick": "quick set-ups"}.get(sweep.get("setup"), "")
    resumed = sweep.get("resumed_tasks") or 0
    return (f"Seeds {span} ({n_seeds}) × {' and '.join(sweep['dtypes'])}{', ' + setup if setup else ''}: "
            f"{len(checks)} checks, "
            f"{ok}/{total} check-runs passed; {len(failing)} check(s) failed at some seed. "
            f"Wall time {sweep['wall_s']:.0f} s" + (f" (and {resumed} tasks finished by an earlier, interrupted run)."
                                                     if resumed else "."))


def progress_bar(done: int, total: int, seconds: float) -> None:
    width = 30
    filled = int(width * done / total)
    print(f"\rsweep [{'#' * filled}{'.' * (width - filled)}] {done}/{total} tasks (last {seconds:.1f} s)",
          end="" if done < total else "\n", file=sys.stderr, flush=True)
