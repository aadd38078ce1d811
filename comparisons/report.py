"""Write a run's report: results.json, tables (CSV + Markdown), figures, index.md and index.html.

The study guide is built once as a list of blocks (Markdown text, or a pair of code listings) and
rendered twice: as Markdown (listings one after the other) and as one self-contained HTML page
(listings side by side, figures embedded), so the two never disagree.
"""

from __future__ import annotations

import base64
import html
import inspect
import json
import textwrap
from dataclasses import dataclass
from pathlib import Path

import markdown
import pandas as pd

from .checks import TOLERANCES


@dataclass
class CodePair:
    title: str
    numpy_src: str
    torch_src: str


def fmt(x) -> str:
    if x is None:
        return "–"
    if isinstance(x, str):
        return x
    return f"{x:.1e}" if x != 0 else "0"


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
        row = {"concept": c.module.ID, "title": c.module.TITLE}
        for ctx in c.contexts:
            n_ok = sum(r.passed for r in ctx.records)
            row[ctx.dtype] = f"{n_ok}/{len(ctx.records)}" + ("" if n_ok == len(ctx.records) else " FAIL")
            exact = [r for r in ctx.records if r.kind in ("exact", "trained") and isinstance(r.max_rel_err, float)]
            worst = max(exact, key=lambda r: r.max_rel_err, default=None)
            row[f"max_rel_err {ctx.dtype}"] = "–" if worst is None else f"{fmt(worst.max_rel_err)} ({worst.check})"
        rows.append(row)
    return pd.DataFrame(rows)


def _markdown_table(frame: pd.DataFrame) -> str:
    """A GitHub-style Markdown table (no extra dependency on ``tabulate``)."""
    def cell(v):
        text = fmt(v) if isinstance(v, float) else str(v)
        return text.replace("|", "\\|").replace("\n", " ")

    header = "| " + " | ".join(cell(c) for c in frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *body])


def write_table(frame: pd.DataFrame, folder: Path, name: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_csv(folder / f"{name}.csv", index=False)
    (folder / f"{name}.md").write_text(_markdown_table(frame) + "\n", encoding="utf-8")


# --- the guide -------------------------------------------------------------------------------------


def _source(obj) -> str:
    try:
        return textwrap.dedent(inspect.getsource(obj)).rstrip()
    except (OSError, TypeError):
        return f"# source of {obj!r} is not available"


def _qualname(obj) -> str:
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', repr(obj))}"


def _differences_frame(module, records) -> pd.DataFrame | None:
    rows = getattr(module, "DIFFERENCES", [])
    if not rows:
        return None
    by_check = {}
    for r in records:
        by_check.setdefault(r.check, r)  # the first dtype's record
    out = []
    for topic, textbook, pytorch, check in rows:
        r = by_check.get(check)
        verdict = "–" if r is None else ("passed" if r.passed else "FAILED")
        out.append({"topic": topic, "textbook": textbook, "PyTorch": pytorch, "proved by check": check,
                    "verdict": verdict, "max_abs_err": fmt(r.max_abs_err) if r else "–"})
    return pd.DataFrame(out)


def concept_blocks(concept_result) -> list:
    module = concept_result.module
    records = concept_result.records
    blocks = [f'<a id="{module.ID}"></a>\n', f"## {module.TITLE} (`{module.ID}`)\n",
              textwrap.dedent(module.GUIDE).strip() + "\n"]
    pairs = getattr(module, "CODE", [])
    if pairs:
        blocks.append("### The two codes side by side\n")
        for np_obj, torch_obj in pairs:
            title = f"`{_qualname(np_obj)}` ↔ `{_qualname(torch_obj)}`"
            blocks.append(CodePair(title, _source(np_obj), _source(torch_obj)))
    diff = _differences_frame(module, records)
    if diff is not None:
        blocks.append("### Where the textbook and PyTorch differ\n")
        blocks.append(_markdown_table(diff) + "\n")
    blocks.append("### Checks\n")
    frame = checks_frame(records)[["check", "kind", "dtype", "passed", "max_abs_err", "max_rel_err", "atol", "rtol", "note"]]
    blocks.append(_markdown_table(frame) + "\n")
    failed = [r for r in records if not r.passed]
    for r in failed:
        where = f" First mismatch: {r.first_mismatch}." if r.first_mismatch else ""
        blocks.append(f"**FAILED** `{r.check}` ({r.dtype}): {r.note}{where}\n")
    first = concept_result.contexts[0] if concept_result.contexts else None
    if first is not None:
        for name, table in first.tables.items():
            blocks.append(f"### Table: {name}\n")
            blocks.append(_markdown_table(table) + "\n")
        if first.figures:
            blocks.append("### Figures\n")
            for fig in first.figures:
                blocks.append(f"![{fig}](figures/{fig})\n")
    return blocks


def header_blocks(result) -> list:
    meta = result.meta
    total = len(result.records)
    ok = sum(r.passed for r in result.records)
    tol_rows = [{"dtype": d, **{f"{k} (atol, rtol)": f"{a:.0e}, {r:.0e}" for k, (a, r) in v.items()}}
                for d, v in TOLERANCES.items()]
    toc = "\n".join(f"- [{c.module.TITLE}](#{c.module.ID})" for c in result.concepts)
    return [
        "# Deep-learning fundamentals, by hand and by PyTorch: the study guide and the verdict\n",
        textwrap.dedent(f"""
        Every concept below is implemented twice, once by hand in NumPy (`scratch/`) and once the way
        a PyTorch user writes it (`torch_ref/`), run from the same seed, the same initial weights and
        the same batches, and compared number by number. **{ok} of {total} checks passed.**

        Run: seed {meta['seed']}, device `{meta['device']}` ({meta['device_name']}), dtypes
        {', '.join(meta['dtypes'])}, implementation under test `{meta['implementation']}`,
        numpy {meta['numpy']}, torch {meta['torch']}, Python {meta['python']},
        {'full-length setups' if meta['full'] else 'default (shortened where noted) setups'},
        wall time {meta['wall_s']:.1f} s.
        """).strip() + "\n",
        "## Pass/fail by concept and dtype\n",
        _markdown_table(summary_frame(result)) + "\n",
        textwrap.dedent("""
        How to read the errors: `max_abs_err` is max |a − e|; `max_rel_err` is CS231n's relative
        error max |a − e| / max(|a|, |e|) (0 where both are 0). A check passes when every element
        satisfies |a − e| ≤ atol + rtol·|e| (the rule of `numpy.testing.assert_allclose`).
        *exact* checks compare the same math a few operations apart, *trained* ones after many
        training steps, *statistical* ones compare a sample statistic with its expectation, and a
        *finding* records a fact the concept demonstrates. In float64 a relative error near 1e-16
        means bit-for-bit or one rounding apart; 1e-10 already means something was computed in a
        different order; anything above 1e-6 in an exact check means different math.
        """).strip() + "\n",
        "Tolerances:\n",
        _markdown_table(pd.DataFrame(tol_rows)) + "\n",
        "## Contents\n",
        toc + "\n" + ("- [Benchmark: NumPy vs PyTorch training step](#benchmark)\n" if result.meta.get("bench") else "")
        + ("- [Seed sweep](#seed-sweep)\n" if result.meta.get("sweep") else "")
        + "- [Glossary (용어집)](#glossary)\n",
    ]


def glossary_blocks() -> list:
    from .glossary import GLOSSARY

    frame = pd.DataFrame(GLOSSARY, columns=["한국어", "English", "concepts"])
    return ['<a id="glossary"></a>\n', "## Glossary (용어집)\n",
            "The Korean terms of the study notes this project grew from, with the English ones used here.\n",
            _markdown_table(frame) + "\n"]


def bench_blocks(folder: Path) -> list:
    """The benchmark section, when ``bench/`` (written by ``python -m comparisons bench``) is there."""
    md = folder / "bench" / "bench.md"
    if not md.exists():
        return []
    body = md.read_text(encoding="utf-8").split("\n", 1)[1].strip()
    blocks = ['<a id="benchmark"></a>\n', "## Benchmark: NumPy vs PyTorch training step\n", body + "\n"]
    if (folder / "bench" / "bench.png").exists():
        blocks.append("![bench.png](bench/bench.png)\n")
    return blocks


def sweep_blocks(folder: Path) -> list:
    """The seed sweep, when ``sweep/`` (written by ``python -m comparisons sweep``) is there: its
    summary line and the checks that failed at some seed (all of them, or none)."""
    path = folder / "sweep" / "sweep.json"
    if not path.exists():
        return []
    from .sweep import summary_line, table

    sweep = json.loads(path.read_text(encoding="utf-8"))
    frame = table(sweep)
    failing = frame[frame["passed"] < frame["runs"]]
    blocks = ['<a id="seed-sweep"></a>\n', "## Seed sweep: every check at every seed\n", summary_line(sweep) + "\n",
              "The whole table (one row per check: pass rate, worst error over the seeds and where) is "
              "[sweep/sweep.md](sweep/sweep.md) ([CSV](sweep/sweep.csv)).\n"]
    if len(failing):
        blocks.append("Checks that failed at some seed:\n")
        blocks.append(_markdown_table(failing) + "\n")
    return blocks


def render_markdown(blocks) -> str:
    out = []
    for b in blocks:
        if isinstance(b, CodePair):
            out.append(f"#### {b.title}\n\nNumPy (`scratch`):\n\n```python\n{b.numpy_src}\n```\n\n"
                       f"PyTorch (`torch_ref`):\n\n```python\n{b.torch_src}\n```\n")
        else:
            out.append(b)
    return "\n".join(out)


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans CJK KR","Apple SD Gothic Neo","Malgun Gothic",sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;line-height:1.5;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:0.9em}th,td{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f0f0f0}code{background:#f5f5f5;padding:1px 3px;border-radius:3px}
pre{background:#f7f7f7;padding:8px;overflow-x:auto;font-size:0.82em;border:1px solid #e3e3e3}
pre code{background:none;padding:0}.pair{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:10px}
.pair h5{margin:0.2em 0}img{max-width:100%;border:1px solid #eee;margin:0.5em 0}
h2{border-top:2px solid #444;padding-top:0.6em;margin-top:2.5em}
"""


def render_html(blocks, folder: Path) -> str:
    md = markdown.Markdown(extensions=["tables", "fenced_code"])
    parts = []
    for b in blocks:
        if isinstance(b, CodePair):
            parts.append(
                f"<h4>{md.convert(b.title)[3:-4]}</h4><div class='pair'>"
                f"<div><h5>NumPy (scratch)</h5><pre><code>{html.escape(b.numpy_src)}</code></pre></div>"
                f"<div><h5>PyTorch (torch_ref)</h5><pre><code>{html.escape(b.torch_src)}</code></pre></div></div>"
            )
            continue
        text = b
        if text.startswith("![") and text.rstrip().endswith(".png)"):
            name = text.split("](")[1].split(")")[0]
            data = base64.b64encode((folder / name).read_bytes()).decode()
            parts.append(f"<p><img alt='{html.escape(name)}' src='data:image/png;base64,{data}'></p>")
            continue
        md.reset()
        parts.append(md.convert(text))
    body = "\n".join(parts)
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>Deep-learning fundamentals: NumPy vs PyTorch</title><style>{_CSS}</style></head>"
            f"<body>{body}</body></html>\n")


def write_report(result, folder: Path) -> None:
    """Write every file of the report into ``folder`` (figures are already there)."""
    folder = Path(folder)
    tables = folder / "tables"
    results = {
        "meta": result.meta,
        "timings": {c.module.ID: {ctx.dtype: ctx.timings for ctx in c.contexts} for c in result.concepts},
        "checks": [r.to_dict() for r in result.records],
    }
    (folder / "results.json").write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    write_table(summary_frame(result), tables, "summary")
    for c in result.concepts:
        write_table(checks_frame(c.records), tables, f"{c.module.ID}-checks")
        if c.contexts:
            for name, frame in c.contexts[0].tables.items():
                write_table(frame, tables, f"{c.module.ID}-{name}")
    result.meta["bench"] = (folder / "bench" / "bench.md").exists()
    result.meta["sweep"] = (folder / "sweep" / "sweep.json").exists()
    blocks = header_blocks(result)
    blocks.extend(bench_blocks(folder))
    blocks.extend(sweep_blocks(folder))
    for c in result.concepts:
        blocks.extend(concept_blocks(c))
    blocks.extend(glossary_blocks())
    (folder / "index.md").write_text(render_markdown(blocks), encoding="utf-8")
    (folder / "index.html").write_text(render_html(blocks, folder), encoding="utf-8")
