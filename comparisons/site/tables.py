"""Tables of numbers as HTML: each number to significant digits (errors and tolerances scientific),
every cell labelled with its column's heading so that a phone (under about 600 px) stacks a row as
a card, heading beside value, with nothing to scroll sideways."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import numbers
from .text import Renderer, escape, plain_text


def cell_html(value, column: str, error_columns=(), percent_columns=(), link=None) -> tuple[str, str]:
    """(class, inner HTML) of one cell."""
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(value, float) and pd.isna(value):
        return "num", "–"
    if column in percent_columns and is_number:
        return "num", escape(f"{value:.0%}" if value in (0, 1) else f"{value:.1%}")
    text = numbers.error(value) if column in error_columns else numbers.sig(value)
    if is_number:
        return "num", escape(text)
    if isinstance(value, str) and "$" in value:
        return "", Renderer().inline(value)
    if link is not None:
        target = link(column, value)
        if target:
            return "", f'<a href="{escape(target)}">{escape(text)}</a>'
    return "", escape(text)


def frame_html(frame: pd.DataFrame, error_columns=(), headings: dict | None = None, percent_columns=(),
               first: str | None = None, link=None, verdict: str | None = None) -> str:
    """A table of numbers in a box that scrolls sideways on a narrow screen if it must; on a phone
    its rows become cards. ``headings`` renames columns for the reader; ``first`` names the column
    that leads each card (what the row is about), ``verdict`` the one that follows it (how it went);
    ``link(column, value)`` may make a cell a link."""
    headings = headings or {}
    columns = list(frame.columns)
    head = "".join(f"<th>{escape(headings.get(c, c))}</th>" for c in columns)
    rows = []
    for values in frame.itertuples(index=False):
        cells = []
        for column, v in zip(columns, values):
            kind, inner = cell_html(v, column, error_columns, percent_columns, link)
            role = "lead" if column == first else "verdict" if column == verdict else ""
            classes = " ".join(c for c in (kind, role) if c)
            label = escape(plain_text(str(headings.get(column, column))))
            cells.append(f'<td{f" class={chr(34)}{classes}{chr(34)}" if classes else ""} data-label="{label}">{inner}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<div class="scroll"><table class="cards"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div>')


def read_table(folder: Path, concept: str, name: str) -> pd.DataFrame | None:
    path = folder / "tables" / f"{concept}-{name}.csv"
    if not path.is_file():
        return None
    return pd.read_csv(path, keep_default_na=False, na_values=["nan", "NaN"])
