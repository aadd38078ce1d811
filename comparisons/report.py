"""Write a run's report: results.json, tables (CSV + Markdown), and the study guide's pages.

The figures are already in the folder (each concept saved its own). ``results.json`` carries
everything the pages need besides the concepts' text: the checks, the run's metadata and timings,
and per concept the figures and tables it made, in order. The pages are then built from the folder
by :func:`comparisons.site.build_site`, the same function that ``python -m comparisons.site``
calls to rebuild them without a run.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from .site import build_site
from .site.numbers import error, sig

ERROR_COLUMNS = ("max_abs_err", "max_rel_err", "atol", "rtol")


# --- tables ----------------------------------------------------------------------------------------


def checks_frame(records) -> pd.DataFrame:
    rows = [r.to_dict() for r in records]
    cols = ["concept", "check", "kind", "dtype", "passed", "max_abs_err", "max_rel_err", "atol", "rtol", "note"]
    frame = pd.DataFrame(rows, columns=cols + ["device", "seed", "first_mismatch"])
    return frame[cols + ["device", "seed"]]


def summary_frame(result) -> pd.DataFrame:
    """One row per concept: passed/total per dtype and the largest errors of its exact checks."""
    rows = []
    for c in result.concepts:
        row = {"concept": c.concept.id, "title": c.concept.title}
        for ctx in c.contexts:
            n_ok = sum(r.passed for r in ctx.records)
            row[ctx.dtype] = f"{n_ok}/{len(ctx.records)}" + ("" if n_ok == len(ctx.records) else " FAIL")
            exact = [r for r in ctx.records if r.kind in ("exact", "trained") and isinstance(r.max_rel_err, float)]
            worst = max(exact, key=lambda r: r.max_rel_err, default=None)
            row[f"max_rel_err {ctx.dtype}"] = "–" if worst is None else f"{error(worst.max_rel_err)} ({worst.check})"
        rows.append(row)
    return pd.DataFrame(rows)


def _markdown_table(frame: pd.DataFrame) -> str:
    """A GitHub-style Markdown table (no extra dependency on ``tabulate``): numbers to significant
    digits, errors and tolerances scientific."""
    def cell(column, v):
        text = (error(v) if column in ERROR_COLUMNS else sig(v)) if isinstance(v, float) else str(v)
        return text.replace("|", "\\|").replace("\n", " ")

    header = "| " + " | ".join(str(c).replace("|", "\\|") for c in frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join(cell(c, v) for c, v in zip(frame.columns, row)) + " |"
            for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *body])


def write_table(frame: pd.DataFrame, folder: Path, name: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_csv(folder / f"{name}.csv", index=False)
    (folder / f"{name}.md").write_text(_markdown_table(frame) + "\n", encoding="utf-8")


# --- the report --------------------------------------------------------------------------------------


def results_dict(result) -> dict:
    """What results.json holds: the run's metadata, timings, the concepts with the figures and
    tables they made and the values they kept for the guide's text (per dtype), and every check
    record."""
    concepts = []
    for c in result.concepts:
        first = c.contexts[0] if c.contexts else None
        concepts.append({"id": c.concept.id, "title": c.concept.title,
                         "figures": list(first.figures) if first else [],
                         "tables": list(first.tables) if first else [],
                         "values": {ctx.dtype: dict(ctx.values) for ctx in c.contexts}})
    return {
        "meta": result.meta,
        "timings": {c.concept.id: {ctx.dtype: ctx.timings for ctx in c.contexts} for c in result.concepts},
        "concepts": concepts,
        "checks": [r.to_dict() for r in result.records],
    }


def write_report(result, folder: Path) -> None:
    """Write every file of the report into ``folder`` (figures are already there)."""
    folder = Path(folder)
    tables = folder / "tables"
    result.meta["bench"] = (folder / "bench" / "bench.json").exists()
    (folder / "results.json").write_text(json.dumps(results_dict(result), indent=1, ensure_ascii=False) + "\n",
                                         encoding="utf-8")
    write_table(summary_frame(result), tables, "summary")
    for c in result.concepts:
        write_table(checks_frame(c.records), tables, f"{c.concept.id}-checks")
        if c.contexts:
            for name, frame in c.contexts[0].tables.items():
                write_table(frame, tables, f"{c.concept.id}-{name}")
    build_site(folder)
