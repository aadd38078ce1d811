"""The guide's text as HTML: Markdown, with LaTeX math turned into MathML and figures and tables
placed where the text names them.

A concept's ``GUIDE`` is Markdown with three additions:

* ``$…$`` inline math and ``$$…$$`` display math, in LaTeX. ``latex2mathml`` turns them into
  MathML when the site is built, so the pages need no JavaScript and no network. ``\\$`` is a
  literal dollar sign; dollars inside `code` are left alone.
* ``{{figure:NAME|CAPTION}}`` on a line of its own: the concept's figure ``NAME`` (the name its
  ``run`` gave ``ctx.figure``), with a numbered caption, right after the paragraph that explains it.
* ``{{table:NAME|CAPTION}}``: one of the concept's run tables (``ctx.table``), likewise.
* ``{{value:NAME}}`` inline: a number the run computed, from the concept's ``values`` table (columns
  ``name`` and ``value``), so that every sentence stating an outcome quotes the run.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Callable

import markdown
from latex2mathml.converter import convert as latex_to_mathml

# code spans are matched first so that a dollar inside `code` is never taken for math
_INLINE = re.compile(
    r"(?P<code>`+)(?P<code_body>.+?)(?P=code)"  # `code` (left as it is)
    r"|(?P<escaped>\\\$)"  # \$ (a literal dollar)
    r"|\$\$(?P<display>.+?)\$\$"  # $$ display $$
    r"|\$(?P<inline>[^\s$](?:[^$\n]*?[^\s$])?)\$",  # $inline$ (no space just inside the dollars)
    re.DOTALL,
)
_MARKER = re.compile(r"^[ \t]*\{\{(?P<kind>figure|table):(?P<name>[^|}]+)(?:\|(?P<caption>.*))?\}\}[ \t]*$", re.M)
_VALUE = re.compile(r"\{\{value:(?P<name>[^|}]+)\}\}")
_TOKEN = "zqx{kind}{n}xqz"  # survives Markdown untouched: letters and digits only
_BLOCK_TOKEN = re.compile(r"<p>(zqx(?:display|figure|table)\d+xqz)</p>")
_ANY_TOKEN = re.compile(r"zqx(?:inline|display|figure|table|dollar)\d+xqz")


class MathError(ValueError):
    """LaTeX that latex2mathml cannot read: the message quotes it."""


# \log 0.6 is <mi>log</mi><mn>0.6</mn>: browsers put no space between them, TeX puts a thin one
_FUNCTION_NAME = re.compile(r"(<mi>(?:log|ln|exp|tanh|sin|cos)</mi>)(?!<mo stretchy=\"false\">&#x00028;)(?=<m[ion])")
_THIN_SPACE = '<mspace width="0.1667em"></mspace>'


def mathml(latex: str, display: bool = False) -> str:
    """LaTeX → one ``<math>`` element (``display="block"`` for display math)."""
    latex = latex.strip()
    depth = 0
    for ch in re.sub(r"\\[{}]", "", latex):  # \{ and \} are literal braces
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            break
    if depth != 0:
        raise MathError(f"cannot turn this LaTeX into MathML: {latex!r} (unbalanced braces)")
    try:
        out = latex_to_mathml(latex, display="block" if display else "inline")
    except Exception as exc:  # latex2mathml raises several exception types
        raise MathError(f"cannot turn this LaTeX into MathML: {latex!r} ({type(exc).__name__} {exc})") from exc
    unknown = re.search(r">(\\[A-Za-z]+)<", out)  # latex2mathml prints commands it does not know as text
    if unknown:
        raise MathError(f"cannot turn this LaTeX into MathML: {latex!r} (unknown command {unknown[1]})")
    return _FUNCTION_NAME.sub(lambda m: m[1] + _THIN_SPACE, out)


@dataclass
class Placed:
    """What a rendered guide placed: the figures and tables its markers named, in order."""

    figures: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)


@dataclass
class Renderer:
    """Renders guide text for one page. ``figure(name, number, caption)`` and
    ``table(name, number, caption)`` return the HTML of a placed figure or table, or None when the
    run made no such thing (the marker is then dropped); numbering runs on across calls."""

    figure: Callable[[str, int, str], str | None] = lambda name, number, caption: None
    table: Callable[[str, int, str], str | None] = lambda name, number, caption: None
    value: Callable[[str], str | None] = lambda name: None
    figure_count: int = 0
    table_count: int = 0
    placed: Placed = field(default_factory=Placed)

    def block(self, text: str) -> str:
        """A Markdown document (paragraphs, lists, tables, math, markers) as HTML."""
        pieces: dict[str, str] = {}

        def keep(kind: str, html_text: str) -> str:
            token = _TOKEN.format(kind=kind, n=len(pieces))
            pieces[token] = html_text
            return token

        def marker(m: re.Match) -> str:
            kind, name = m["kind"], m["name"].strip()
            caption = (m["caption"] or "").strip()
            if kind == "figure":
                made = self.figure(name, self.figure_count + 1, self._inline_html(caption))
                if made is None:
                    return ""
                self.figure_count += 1
                self.placed.figures.append(name)
            else:
                made = self.table(name, self.table_count + 1, self._inline_html(caption))
                if made is None:
                    return ""
                self.table_count += 1
                self.placed.tables.append(name)
            return "\n\n" + keep(kind, made) + "\n\n"

        text = _VALUE.sub(lambda m: self._value(m["name"].strip()), text)
        text = _MARKER.sub(marker, text)
        text = self._math(text, keep)
        out = markdown.markdown(text, extensions=["tables", "fenced_code", "sane_lists"])
        out = out.replace("<table>", '<div class="scroll"><table>').replace("</table>", "</table></div>")
        out = _BLOCK_TOKEN.sub(lambda m: pieces[m[1]], out)
        return _ANY_TOKEN.sub(lambda m: pieces[m[0]], out)

    def _value(self, name: str) -> str:
        """A value the run computed, as text (escaped); a marked gap where the run made none."""
        found = self.value(name)
        return html.escape(str(found)) if found is not None else f"(no value “{html.escape(name)}” in this run)"

    def inline(self, text: str) -> str:
        """One line of Markdown with math (a table cell, a caption) as inline HTML, no <p>."""
        return self._inline_html(text)

    def _inline_html(self, text: str) -> str:
        if not text:
            return ""
        pieces: dict[str, str] = {}

        def keep(kind, html_text):
            token = _TOKEN.format(kind=kind, n=len(pieces))
            pieces[token] = html_text
            return token

        out = markdown.markdown(self._math(text, keep))
        out = re.sub(r"^<p>|</p>$", "", out.strip())
        return _ANY_TOKEN.sub(lambda m: pieces[m[0]], out)

    @staticmethod
    def _math(text: str, keep) -> str:
        def one(m: re.Match) -> str:
            if m["code"]:
                return m[0]
            if m["escaped"]:
                return keep("dollar", "$")
            if m["display"] is not None:
                return "\n\n" + keep("display", f'<div class="math-display">{mathml(m["display"], True)}</div>') + "\n\n"
            return keep("inline", mathml(m["inline"]))

        return _INLINE.sub(one, text)


def escape(text: str) -> str:
    return html.escape(str(text), quote=True)
