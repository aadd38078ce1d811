"""The seed sweep: the whole suite once per seed, and every check's pass rate over the seeds.

    python -m comparisons sweep --seeds 0-19 --dtype float64 float32 --jobs 2 --out reports/sweep

Every check must pass at every seed: a check that fails at some seed is a defect in the check or
in the code, never noise. The sweep is the proof. Each seed runs in a worker process (``--jobs``
of them); a progress bar goes to stderr. The output folder gets

The sweep runs the quick set-ups (8×8 digits, shortened runs) unless ``--full`` asks for the
report's full-length set-ups on MNIST; ``sweep.json`` records which (``"setup"``).

* ``sweep.json`` — ``{"seeds", "dtypes", "setup", "concepts", "wall_s", "checks": [{"concept", "check",
  "dtype", "runs", "passed", "pass_rate", "worst_max_rel_err", "worst_max_abs_err",
  "worst_seed", "failed_seeds"}]}``, one row per check;
* ``sweep.csv`` and ``sweep.md`` — the same rows as a table, failing checks first.

A check is identified by (concept, check name, dtype); a check that exists only at some seeds (a
concept that raised) counts as failed at the seeds where it is missing.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import sys
import time
from pathlib import Path

import pandas as pd

from . import outdir
from .report import _markdown_table as markdown_table

SWEEP_COLUMNS = ["concept", "check", "dtype", "runs", "passed", "pass_rate", "worst_max_rel_err",
                 "worst_max_abs_err", "worst_seed", "failed_seeds"]


def parse_seeds(spec: str) -> list[int]:
    """``"0-19"``, ``"3"`` or ``"0,5,7-9"`` → the seeds, in order, each once. Raises ValueError
    naming ``--seeds``."""
    seeds: list[int] = []
    for part in str(spec).split(","):
        part = part.strip()
        try:
            if "-" in part[1:]:
                lo, hi = part.split("-", 1) if not part.startswith("-") else (None, None)
                lo, hi = int(lo), int(hi)
                if hi < lo:
                    raise ValueError
                seeds.extend(range(lo, hi + 1))
            else:
                seeds.append(int(part))
        except (TypeError, ValueError):
            raise ValueError(f"--seeds takes seeds and ranges like 0-19 or 0,5,7-9; got {spec!r}") from None
    bad = [s for s in seeds if not 0 <= s < 2**63]
    if bad:
        raise ValueError(f"--seeds: seeds must be integers in [0, 2**63), got {bad[0]}")
    return list(dict.fromkeys(seeds))


def _run_seed(task) -> tuple[int, list[dict], float]:
    """Worker: the concepts at one seed, in every dtype; returns the check records as dicts."""
    from .context import RunOptions
    from .runner import run_concepts

    ids, seed, dtypes, device, full = task
    started = time.perf_counter()
    result = run_concepts(ids, RunOptions(seed=seed, dtypes=tuple(dtypes), device=device, quick=not full), None)
    return seed, [r.to_dict() for r in result.records], time.perf_counter() - started


def run_sweep(ids, seeds, dtypes, jobs: int = 2, device: str = "cpu", progress=None, full: bool = False) -> dict:
    """Run the concepts ``ids`` at every seed, ``jobs`` seeds at a time; return the sweep dict. The
    quick set-ups by default (the 8×8 digits, shortened runs); ``full``: the report's full-length
    set-ups on MNIST."""
    started = time.perf_counter()
    tasks = [(list(ids), seed, list(dtypes), device, full) for seed in seeds]
    by_seed: dict[int, list[dict]] = {}
    bar = progress or (lambda done, total, seconds: None)
    if jobs <= 1:
        for task in tasks:
            seed, records, seconds = _run_seed(task)
            by_seed[seed] = records
            bar(len(by_seed), len(tasks), seconds)
    else:
        with multiprocessing.get_context("spawn").Pool(jobs) as pool:
            for seed, records, seconds in pool.imap_unordered(_run_seed, tasks):
                by_seed[seed] = records
                bar(len(by_seed), len(tasks), seconds)
    return {"seeds": list(seeds), "dtypes": list(dtypes), "setup": "full" if full else "quick", "concepts": list(ids),
            "wall_s": time.perf_counter() - started, "checks": aggregate(by_seed)}


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
    return (f"Seeds {span} ({n_seeds}) × {' and '.join(sweep['dtypes'])}{', ' + setup if setup else ''}: "
            f"{len(checks)} checks, "
            f"{ok}/{total} check-runs passed; {len(failing)} check(s) failed at some seed. "
            f"Wall time {sweep['wall_s']:.0f} s.")


def progress_bar(done: int, total: int, seconds: float) -> None:
    width = 30
    filled = int(width * done / total)
    print(f"\rsweep [{'#' * filled}{'.' * (width - filled)}] {done}/{total} seeds (last {seconds:.0f} s)",
          end="" if done < total else "\n", file=sys.stderr, flush=True)
