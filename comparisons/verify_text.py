"""What ``verify`` prints: one object's table, a whole file's rows (hints wrapped to the terminal's
width), the list of references, and the HTML a notebook shows (a summary line, the first
mismatch, hints written as Python: ``hparams={"eps": 1e-07}``)."""

from __future__ import annotations

import html
import re
import shutil
import sys
import textwrap

import numpy as np

FLAG = re.compile(r"--hparam (?:(\w+)\.)?(\w+)=([^\s,;]+)")
FLAGS = re.compile(r"--hparam [^\s,;]+(?:\s+--hparam [^\s,;]+)*")


def num(x) -> str:
    return f"{x:.1e}" if isinstance(x, float) else "-"


def width() -> int:
    """The terminal's width; no limit when the output is not a terminal (a pipe, a file, a log: a hint
    stays one line that grep finds)."""
    if not sys.stdout.isatty():
        return 10_000
    return max(60, shutil.get_terminal_size((100, 24)).columns)


def wrap(text: str, indent: int, first: int | None = None) -> list[str]:
    """``text`` wrapped to the terminal's width, as lines to print: the first goes after what the
    caller already wrote up to column ``first`` (default ``indent``), the others start at ``indent``."""
    w = width()
    start = indent if first is None else first
    if w - start < 30:  # no room beside the columns: the text goes below them, indented
        return [""] + textwrap.wrap(text, w, initial_indent="    ", subsequent_indent="    ")
    lines = textwrap.wrap(text, w, initial_indent=" " * start, subsequent_indent=" " * indent) or [" " * start]
    return [lines[0][start:]] + lines[1:]


def block(text: str, first: int, indent: int) -> list[str]:
    """``text`` as whole lines wrapped to the terminal's width: the first indented by ``first``, the
    others by ``indent``."""
    return textwrap.wrap(text, width(), initial_indent=" " * first, subsequent_indent=" " * indent) or [""]


def _value(text: str):
    try:
        return int(text) if text.lstrip("-").isdigit() else float(text)
    except ValueError:
        return text


def as_python(hint: str) -> str:
    """A hint's ``--hparam k=v`` flags written as a notebook passes them: ``hparams={"k": v}``."""
    def one(m):
        pairs = FLAG.findall(m.group(0))
        items = ", ".join(f"{k!r}: {_value(v)!r}".replace("'", '"') for _, k, v in pairs)
        return f"hparams={{{items}}}"
    return FLAGS.sub(one, hint)


def format_result(result) -> str:
    lines = block(f"verify {result.kind} {result.target} against {result.against} (PyTorch)"
                  + (f", judged in {result.dtype}" if getattr(result, "dtype", "float64") != "float64" else ""), 0, 4) + [""]
    lines.append(f"{'check':58s} {'passed':>6s} {'max_abs_err':>12s} {'max_rel_err':>12s}")
    for r in result.records:
        lines.append(f"{r.check[:58]:58s} {'yes' if r.passed else 'NO':>6s} {num(r.max_abs_err):>12s} "
                     f"{num(r.max_rel_err):>12s}")
    for note in result.notes:
        lines += block(f"note: {note}", 0, 6)
    if result.error:
        lines.append("")
        lines += block(f"ERROR: {result.error}", 0, 7)
        return "\n".join(lines)
    first = result.first_failure
    if first is None:
        lines.append(f"\nAGREES with PyTorch: {len(result.records)} checks passed.")
        return "\n".join(lines)
    lines += [""] + block(f"DIFFERS from PyTorch: first failing check '{first.check}'.", 0, 4)
    if first.note:
        lines += block(first.note, 2, 2)
    if first.first_mismatch:
        m = first.first_mismatch
        where = (f"step {m['step']}, " if "step" in m else "") + f"index {m['index']}"
        lines += block(f"first mismatch at {where}: yours {m['actual']!r}, PyTorch {m['expected']!r}", 2, 4)
    if result.hint:
        lines += block(f"hint: {result.hint}", 2, 8)
    return "\n".join(lines)


def _columns() -> tuple[int, int]:
    """The widths of the object and reference columns: as wide as the terminal allows, at most 34 and 22."""
    room = min(width(), 200) - 44
    ow = min(34, max(14, int(room * 0.6)))
    return ow, min(22, max(10, room - ow))


def _head(ow, ag) -> str:
    return f"{'object':{ow}s} {'kind':9s} {'against':{ag}s} {'verdict':8s} {'dtype':7s} {'worst err':>9s}  "


def row_hint(r) -> str:
    if r.error:
        return r.error
    if r.hint:
        return r.hint
    if r.passed:
        return "; ".join(r.notes)
    return f"first failing check: {r.first_failure.check}" if r.first_failure else ""


def format_file_result(result) -> str:
    if getattr(result, "error", None):
        return "\n".join([f"verify {result.path}: not judged", ""] + block(f"ERROR: {result.error}", 0, 7))
    ow, ag = _columns()
    head = _head(ow, ag)
    lines = [f"verify {result.path}: {len(result.results)} objects judged against PyTorch, "
             f"{len(result.skipped)} skipped", "", head + "hint"]
    for r in result.results:
        worst_abs, _ = r.worst()
        cells = (f"{r.target[:ow]:{ow}s} {r.kind:9s} {r.against[:ag]:{ag}s} {r.verdict.upper():8s} "
                 f"{getattr(r, 'dtype', 'float64')[:7]:7s} {num(worst_abs):>9s}  ")
        hint = row_hint(r)
        if not hint:
            lines.append(cells.rstrip())
            continue
        wrapped = wrap(hint, len(head), len(head))
        lines.append(cells + wrapped[0] if wrapped[0] else cells.rstrip())
        lines += wrapped[1:]
    if result.skipped:
        lines.append("\nskipped:")
        for name, why in result.skipped:
            wrapped = wrap(why, 35, 35)
            lines.append(f"  {name[:32]:32s} {wrapped[0]}".rstrip())
            lines += wrapped[1:]
    agree = sum(r.passed for r in result.results)
    lines.append(f"\n{agree}/{len(result.results)} agree with PyTorch.")
    return "\n".join(lines)


def list_references(pairs_by_kind) -> str:
    lines = []
    for kind, pairs_ in pairs_by_kind:
        lines.append(f"{kind}:")
        for pair in pairs_:
            h = ", ".join(f"{p.name}={p.default}" for p in pair.hparams)
            lines.append(f"  {pair.id:24s} {pair.interface}" + (f" [hparams: {h}]" if h else ""))
    return "\n".join(lines)


# --- notebooks ------------------------------------------------------------------------------------


def _mismatch_html(result) -> str:
    first = result.first_failure
    if first is None or not first.first_mismatch:
        return ""
    m = first.first_mismatch
    where = (f"step {m['step']}, " if "step" in m else "") + f"index {m['index']}"
    return (f"<p>first mismatch in <code>{html.escape(first.check)}</code> at {html.escape(where)}: "
            f"yours <b>{m['actual']!r}</b>, PyTorch's <b>{m['expected']!r}</b></p>")


def result_html(result) -> str:
    rows = "".join(f"<tr><td>{html.escape(r.check)}</td><td>{'yes' if r.passed else '<b>NO</b>'}</td>"
                   f"<td>{num(r.max_abs_err)}</td><td>{num(r.max_rel_err)}</td></tr>" for r in result.records)
    extra = "".join(f"<p>{html.escape(as_python(line))}</p>"
                    for line in filter(None, [result.error, result.hint and f"hint: {result.hint}", *result.notes]))
    dtype = getattr(result, "dtype", "float64")
    return (f"<p><b>{result.verdict.upper()}</b>: {html.escape(result.kind)} {html.escape(result.target)} against "
            f"{html.escape(result.against)} (PyTorch){', judged in ' + dtype if dtype != 'float64' else ''}</p>"
            f"{_mismatch_html(result)}<table><tr><th>check</th><th>passed</th><th>max_abs_err</th><th>max_rel_err</th>"
            f"</tr>{rows}</table>{extra}")


def file_html(result) -> str:
    """A whole file in a notebook: "5/8 agree", one row per object, the first mismatch."""
    if getattr(result, "error", None):
        return f"<p><b>ERROR</b>: {html.escape(str(result.path))} was not judged: {html.escape(result.error)}</p>"
    agree = sum(r.passed for r in result.results)
    rows = "".join(f"<tr><td>{html.escape(r.target)}</td><td>{html.escape(r.kind)}</td><td>{html.escape(r.against)}</td>"
                   f"<td>{'<b>' + r.verdict.upper() + '</b>' if not r.passed else r.verdict.upper()}</td>"
                   f"<td>{html.escape(getattr(r, 'dtype', 'float64'))}</td>"
                   f"<td>{html.escape(as_python(row_hint(r)))}</td></tr>" for r in result.results)
    rows += "".join(f"<tr><td>{html.escape(n)}</td><td></td><td></td><td>SKIPPED</td><td></td><td>{html.escape(why)}</td></tr>"
                    for n, why in result.skipped)
    first = next((r for r in result.results if not r.passed and not r.error), None)
    mismatch = (f"<p>first mismatch: <b>{html.escape(first.target)}</b></p>{_mismatch_html(first)}" if first else "")
    return (f"<p><b>{agree}/{len(result.results)} agree</b> with PyTorch ({html.escape(str(result.path))}, "
            f"{len(result.skipped)} skipped)</p>{mismatch}<table><tr><th>object</th><th>kind</th><th>against</th>"
            f"<th>verdict</th><th>dtype</th><th>hint</th></tr>{rows}</table>")


def json_number(x):
    return None if x is None else (x if np.isfinite(x) else str(x))


def nonfinite_notes(result) -> list:
    """What the checks on NaN and ±inf inputs found, where they part from PyTorch: shown, not counted."""
    parted = [r for r in result.records if r.check in result.shown_only and not r.passed]
    if not parted:
        return []
    first = parted[0]
    where = ""
    if first.first_mismatch:
        m = first.first_mismatch
        where = f": first at index {m['index']}, yours {m['actual']!r}, PyTorch's {m['expected']!r}"
    elif first.note:
        where = f": {first.note}"
    return [f"at NaN and ±inf inputs your results part from PyTorch's in {len(parted)} check(s) ('{first.check}'"
            f"{where}); shown, not counted: at NaN PyTorch's masks and maxima follow rules of their own, which "
            "correct code need not share"]
