"""The seed sweep's page of the study guide, ``sweep/index.html`` (and ``ko/sweep/index.html``), from
``sweep/sweep.json`` (``python -m comparisons sweep``): a summary, the failing checks, each concept
over all seeds, and every check folded by concept."""

from __future__ import annotations

import json

import pandas as pd

from . import navigation, numbers
from .tables import frame_html
from .text import escape


SWEEP_COLUMNS = ["concept", "check", "dtype", "pass_rate", "runs", "passed", "worst_max_abs_err",
                 "worst_max_rel_err", "worst_seed", "failed_seeds"]  # the verdict (pass rate) before the details
SWEEP_HEADINGS = {
    "en": {"concept": "concept", "check": "check", "dtype": "dtype", "runs": "runs", "passed": "passed",
           "pass_rate": "pass rate", "worst_max_rel_err": "worst max rel err", "worst_max_abs_err": "worst max abs err",
           "worst_seed": "seed of the worst", "failed_seeds": "failed at seeds", "checks": "checks",
           "failing": "checks that failed at some seed"},
    "ko": {"concept": "개념", "check": "검사", "dtype": "dtype", "runs": "실행 수", "passed": "통과",
           "pass_rate": "통과율", "worst_max_rel_err": "가장 큰 상대 오차", "worst_max_abs_err": "가장 큰 절대 오차",
           "worst_seed": "가장 나쁜 시드", "failed_seeds": "실패한 시드", "checks": "검사 수",
           "failing": "어떤 시드에서든 실패한 검사"},
}


def _sweep_frame(rows) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=[c for c in SWEEP_COLUMNS if any(c in r for r in rows)] or SWEEP_COLUMNS)
    if "failed_seeds" in frame:
        frame["failed_seeds"] = frame["failed_seeds"].map(lambda s: ", ".join(map(str, s)) if isinstance(s, list) else s)
    if "pass_rate" not in frame and {"runs", "passed"} <= set(frame):
        frame["pass_rate"] = [p / r if isinstance(p, (int, float)) and r else None for p, r in zip(frame["passed"], frame["runs"])]
    return frame[[c for c in SWEEP_COLUMNS if c in frame] + [c for c in frame if c not in SWEEP_COLUMNS]]


def _failed_somewhere(row) -> bool:  # ``passed`` counts the runs that passed (or is a bool)
    passed = row["passed"]
    return not passed if isinstance(passed, bool) else passed < row["runs"]


def _sweep_by_concept(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per concept: its checks, check-runs, how many passed, the pass rate and the checks
    that failed at some seed."""
    rows = []
    for concept, part in frame.groupby("concept", sort=False):
        runs = int(part["runs"].sum()) if "runs" in part else len(part)
        passed = int(sum(int(p) if not isinstance(p, bool) else int(p) * r for p, r in zip(part["passed"], part["runs"])))
        rows.append({"concept": concept, "pass_rate": passed / runs if runs else None, "checks": len(part),
                     "runs": runs, "passed": passed, "failing": int(part.apply(_failed_somewhere, axis=1).sum())})
    return pd.DataFrame(rows)


def _sweep_against_report(site, rows) -> dict | None:
    """Why the sweep's count of checks and the report's differ: the checks whose names carry their
    set-up (a weight scale, the data's width) exist in one of the two only."""
    if not rows:
        return None
    report = {(c["concept"], c["check"], c["dtype"]) for c in site.results["checks"]}
    sweep = {(r["concept"], r["check"], r["dtype"]) for r in rows}
    if not report:
        return None

    def by_concept(keys):
        counts: dict[str, int] = {}
        for concept, _, _ in sorted(keys):
            counts[concept] = counts.get(concept, 0) + 1
        return sorted(counts.items(), key=lambda kv: -kv[1])

    return {"report": len(report), "sweep": len(sweep), "both": len(report & sweep),
            "only_report": by_concept(report - sweep), "only_sweep": by_concept(sweep - report),
            "report_setup": site.meta.get("setup", "")}


EVERY_CHECK_VALUES = ["pass_rate", "worst_max_abs_err", "worst_max_rel_err"]  # per dtype, side by side


def _sweep_every_check(frame: pd.DataFrame, errors, headings) -> str:
    """Every check, one folded table per concept, a row per check with each dtype's pass rate and
    worst errors side by side (the runs, the seeds and the failed seeds are in the failing checks'
    table and in sweep.csv), so that the page stays small with thousands of checks."""
    if not len(frame):
        return ""
    present = list(dict.fromkeys(frame["dtype"]))
    dtypes = [d for d in ("float64", "float32") if d in present] + [d for d in present if d not in ("float64", "float32")]
    values = [c for c in EVERY_CHECK_VALUES if c in frame]
    named = {f"{c} {d}": f"{headings.get(c, c)}, {d}" for d in dtypes for c in values}
    out = []
    for concept, part in frame.groupby("concept", sort=False):
        wide = part.pivot_table(index="check", columns="dtype", values=values, aggfunc="first", sort=False)
        wide.columns = [f"{c} {d}" for c, d in wide.columns]
        wide = wide.reindex(columns=[f"{c} {d}" for d in dtypes for c in values if f"{c} {d}" in wide.columns])
        wide = wide.reindex(list(dict.fromkeys(part["check"]))).reset_index()
        table = frame_html(wide, error_columns=[k for k in named if not k.startswith("pass_rate")],
                           headings={**headings, **named}, percent_columns=[k for k in named if k.startswith("pass_rate")],
                           first="check", verdict=f"pass_rate {dtypes[0]}")
        out.append(f"<details><summary>{escape(str(concept))} ({len(wide):,})</summary>{table}</details>")
    return "".join(out)


def sweep_page(site, edition) -> None:
    """``sweep/index.html`` from ``sweep/sweep.json`` (``python -m comparisons sweep``): a summary
    per concept, then one row per check with its runs, how many passed, the worst errors over the
    seeds and the seed of the worst."""
    data = json.loads((site.folder / "sweep" / "sweep.json").read_text(encoding="utf-8"))
    rows = data.get("checks", [])
    words, headings = edition.words, SWEEP_HEADINGS[edition.language]
    frame = _sweep_frame(rows)
    failing = frame[frame.apply(_failed_somewhere, axis=1)] if len(frame) else frame
    errors = ("worst_max_rel_err", "worst_max_abs_err")
    known = {c.id for c in site.concepts}

    def link(column, value):
        return f"../concepts/{value}.html" if column == "concept" and value in known else None

    per_concept = _sweep_by_concept(frame) if len(frame) else frame
    seeds = data.get("seeds") or [0]
    runs = int(frame["runs"].sum()) if "runs" in frame and len(frame) else 0
    provenance = words["footer_sweep"].format(
        n=len(seeds), first=seeds[0], last=seeds[-1], dtypes=escape(" · ".join(data.get("dtypes", []))),
        checks=f"{len(frame):,}", runs=f"{runs:,}", wall=numbers.sig(round(float(data.get("wall_s", 0)), 0)))
    files = [name for name in ("sweep.csv", "sweep.json", "sweep.md") if (site.folder / "sweep" / name).is_file()]
    against = _sweep_against_report(site, rows)
    site.write(edition, "sweep/index.html", f"{edition.language}/sweep.html", title=words["sweep"], sweep=data,
               per_concept=frame_html(per_concept, headings=headings, percent_columns=("pass_rate",), first="concept",
                                      link=link, verdict="pass_rate") if len(per_concept) else "",
               table=_sweep_every_check(frame, errors, headings),
               failing=frame_html(failing, error_columns=errors, headings=headings, percent_columns=("pass_rate",),
                                  first="check", link=link, verdict="pass_rate") if len(failing) else "",
               n_checks=len(frame), n_failing=len(failing), runs=runs, files=files,
               against=against, provenance=provenance,
               onpage=[navigation.Heading(key, words[f"sweep_{key}"]) for key in ("per-concept", "counts", "all")
                       if key != "counts" or against])
