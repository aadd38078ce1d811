"""The guide's text as HTML: Markdown, with LaTeX math turned into MathML and figures and tables
placed where the text names them.

A concept's lesson (``concepts/<name>.md``) is Markdown with three additions:

* ``$…$`` inline math and ``$$…$$`` display math, in LaTeX. ``latex2mathml`` turns them into
  MathML when the site is built, so the pages need no JavaScript and no network. ``\\$`` is a
  literal dollar sign; dollars inside `code` are left alone.
* ``{{figure:NAME|CAPTION}}`` on a line of its own: the concept's figure ``NAME`` (the name its
  ``run`` gave ``ctx.figure``), with a numbered caption, right after the paragraph that explains it.
* ``{{table:NAME|CAPTION}}``: one of the concept's run tables (``ctx.table``), likewise.

Two inline markers make a sentence about an outcome quote the run instead of claiming it:

* ``{{value:NAME}}`` or ``{{value:NAME|SPEC}}``: a number the run kept with ``ctx.value(NAME, x)``,
  to four significant digits or by the Python format spec ``SPEC`` (``.0%``, ``.2f``, ``.0e``).
* ``{{finding:CHECK|TEXT}}``: ``TEXT`` (which may hold value markers and math) when the run's
  finding ``CHECK`` held in every dtype that recorded it (or the outcome ``CHECK`` kept with
  ``ctx.observed`` showed), and "not shown in this run: TEXT" otherwise, so the page never states
  an outcome the run did not show.

A name the run never recorded is a :class:`GuideError` when the pages are built, so a guide cannot
quote a check or value that does not exist (only where the run could not have made it, a concept
that stopped with an error or a run without float64, is it shown as not computed).
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
_TOKEN = "zqx{kind}{n}xqz"  # survives Markdown untouched: letters and digits only
_BLOCK_TOKEN = re.compile(r"<p>(zqx(?:display|figure|table)\d+xqz)</p>")
_ANY_TOKEN = re.compile(r"zqx(?:inline|display|figure|table|dollar|span)\d+xqz")
_VALUE = re.compile(r"\{\{value:(?P<name>[^|}]+)(?:\|(?P<spec>[^}]*))?\}\}")
_FINDING = re.compile(r"\{\{finding:(?P<name>[^|}]+)(?:\|(?P<text>(?:[^{}]|\{\{value:[^}]*\}\})*))?\}\}")
NOT_SHOWN = "not shown in this run: "


class MathError(ValueError):
    """LaTeX that latex2mathml cannot read: the message quotes it."""


class GuideError(ValueError):
    """A guide that quotes a finding or value the run never recorded: the message names it."""


MISSING = object()  # what a Facts lookup returns for a name the run could not have recorded


@dataclass
class Facts:
    """What a guide's text may quote from one concept's run.

    ``findings``: check name → whether it passed (False if it failed in any dtype); ``values``:
    name → the number (from the first dtype that kept it); ``complete``: whether the run could have
    recorded every name (the concept ran to the end, in float64), so that an unknown name is a
    mistake in the guide and not a gap in the run."""

    concept: str = ""
    findings: dict = field(default_factory=dict)
    values: dict = field(default_factory=dict)
    complete: bool = True

    def finding(self, name: str):
        """A check's verdict, or an outcome kept with ``ctx.observed`` (a bool value)."""
        if name in self.findings:
            return self.findings[name]
        if isinstance(self.values.get(name), bool):
            return self.values[name]
        return self._missing("finding", name, self.findings)

    def value(self, name: str):
        if name in self.values:
            return self.values[name]
        return self._missing("value", name, self.values)

    def _missing(self, kind, name, known):
        if not self.complete:
            return MISSING
        import difflib

        alike = ", ".join(repr(k) for k in difflib.get_close_matches(name, list(known), n=3, cutoff=0.5)) or "none"
        raise GuideError(f"the guide of {self.concept!r} quotes {kind} {name!r}, which its run never recorded "
                         f"(the nearest recorded: {alike})")


def format_value(value, spec: str | None = None, missing: str = "(not computed in this run)") -> str:
    """A value for the text: to four significant digits, or by the format spec ``spec``; a list
    element by element, comma-separated. ``missing``: what stands for a value the run could not make."""
    from .numbers import sig

    if value is MISSING:
        return missing
    if isinstance(value, list):
        return ", ".join(format_value(v, spec, missing) for v in value)
    if spec:
        try:
            return format(value, spec)
        except (ValueError, TypeError) as exc:
            raise GuideError(f"format spec {spec!r} does not fit the value {value!r} ({exc})") from None
    return sig(value)


# \log 0.6 is <mi>log</mi><mn>0.6</mn>: browsers put no space between them, TeX puts a thin one.
# The space goes after the function's whole unit: after </msup> in tanh²x, never inside the <msup>.
_FUNCTION_NAME = re.compile(
    r"(?P<unit><(?P<script>msup|msub|msubsup)><mi>(?:log|ln|exp|tanh|sin|cos)</mi>(?:(?!</?(?P=script)>).)*</(?P=script)>"
    r"|(?<!<msup>)(?<!<msub>)(?<!<msubsup>)<mi>(?:log|ln|exp|tanh|sin|cos)</mi>)"
    r"(?!<mo stretchy=\"false\">&#x00028;)(?=<m[ion])")
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
    return _FUNCTION_NAME.sub(lambda m: m["unit"] + _THIN_SPACE, out)


def display_math(latex: str) -> str:
    """Display math as a block. Equations that the LaTeX separates by ``\\qquad`` at the top level
    become pieces of their own, which sit side by side on a wide screen and one below the other on a
    narrow one; a piece still wider than the screen scrolls in its box, with a shadow as the cue."""
    pieces = [p for p in _top_level_split(latex.strip()) if p.strip()]
    if len(pieces) == 1:
        return f'<div class="math-display">{mathml(pieces[0], True)}</div>'
    inner = "".join(f'<div class="math-piece">{mathml(p, True)}</div>' for p in pieces)
    return f'<div class="math-display split">{inner}</div>'


def _top_level_split(latex: str) -> list[str]:
    """``latex`` cut at every ``\\qquad`` outside braces."""
    pieces, start, depth, i = [], 0, 0, 0
    while i < len(latex):
        if latex[i] == "\\":
            word = re.match(r"\\([A-Za-z]+|.)", latex[i:])[0]
            if word == "\\qquad" and depth == 0:
                pieces.append(latex[start:i])
                start = i + len(word)
            i += len(word)
            continue
        depth += {"{": 1, "}": -1}.get(latex[i], 0)
        i += 1
    pieces.append(latex[start:])
    return [p.strip() for p in pieces]


# --- the build-time check of a page's markup -------------------------------------------------------

_MATH_ELEMENT = re.compile(r"<math\b.*?</math>", re.S)
_TWO_CHILDREN = {"msup": 2, "msub": 2, "mfrac": 2, "mroot": 2, "munder": 2, "mover": 2, "msubsup": 3,
                 "munderover": 3}
_DOUBLE_ESCAPED = re.compile(r"&amp;(?:#x?[0-9A-Fa-f]+|lt|gt|amp|quot|nbsp);")


class PageError(ValueError):
    """A built page with markup a browser would show wrongly: invalid MathML or an entity escaped twice."""


def check_markup(page: str, where: str) -> None:
    """Raise :class:`PageError` when ``page`` holds a MathML script or fraction without its number of
    children (an ``<msup>`` with three shows 'tanh₂x' for tanh²x) or a double-escaped entity
    ('h&amp;#x00028;x' shows as 'h&#x00028;x')."""
    import xml.etree.ElementTree as ET

    twice = _DOUBLE_ESCAPED.search(page)
    if twice:
        context = page[max(0, twice.start() - 60):twice.end() + 20].replace("\n", " ")
        raise PageError(f"{where}: an entity escaped twice, {twice[0]!r}, in: …{context}…")
    for m in _MATH_ELEMENT.finditer(page):
        try:
            root = ET.fromstring(m[0])
        except ET.ParseError as exc:
            raise PageError(f"{where}: MathML that is not well formed ({exc}): {m[0][:200]}") from None
        for element in root.iter():
            tag = element.tag.rsplit("}", 1)[-1]
            wanted = _TWO_CHILDREN.get(tag)
            if wanted is not None and len(element) != wanted:
                raise PageError(f"{where}: <{tag}> with {len(element)} children (it needs {wanted}) in "
                                f"{m[0][:300]}")


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
    facts: Facts | None = None
    language: str = "en"  # the words for "not shown in this run" come from this edition
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

        text = _MARKER.sub(marker, text)
        text = self._quote(text, keep)
        text = self._math(text, keep)
        out = markdown.markdown(text, extensions=["tables", "fenced_code", "sane_lists"])
        out = _BLOCK_TOKEN.sub(lambda m: pieces[m[1]], out)
        return _cards(_ANY_TOKEN.sub(lambda m: pieces[m[0]], out))

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

        out = markdown.markdown(self._math(self._quote(text, keep), keep))
        out = re.sub(r"^<p>|</p>$", "", out.strip())
        return _ANY_TOKEN.sub(lambda m: pieces[m[0]], out)

    def _quote(self, text: str, keep) -> str:
        """Fill in ``{{finding:…}}`` and ``{{value:…}}`` markers from the run (see the module's doc)."""
        if "{{" not in text:
            return text
        from .strings import WORDS

        facts = self.facts or Facts()
        words = WORDS[self.language]

        def value(m: re.Match) -> str:
            return format_value(facts.value(" ".join(m["name"].split())), m["spec"], words["not_computed"])

        def finding(m: re.Match) -> str:
            name = " ".join(m["name"].split())  # a name may wrap onto the next line of the guide
            said = m["text"] if m["text"] is not None else name
            if facts.finding(name) is True:
                return said
            return (keep("span", '<span class="not-shown">') + words["not_shown_prefix"] + said + keep("span", "</span>"))

        text = _FINDING.sub(finding, text)
        text = _VALUE.sub(value, text)
        left = re.search(r"\{\{(?!figure:|table:)[^}]*\}\}|\{\{(?:finding|value):.{0,60}", text, re.S)
        if left:
            raise GuideError(f"the guide of {facts.concept!r} holds a marker this site does not know: {left[0]!r} "
                             "(known: {{figure:…}}, {{table:…}}, {{finding:CHECK|TEXT}}, {{value:NAME|SPEC}}; "
                             "a finding's TEXT may hold value markers but no other braces, so write math in it without {…})")
        return text

    @staticmethod
    def _math(text: str, keep) -> str:
        def one(m: re.Match) -> str:
            if m["code"]:
                return m[0]
            if m["escaped"]:
                return keep("dollar", "$")
            if m["display"] is not None:
                return "\n\n" + keep("display", display_math(m["display"])) + "\n\n"
            return keep("inline", mathml(m["inline"]))

        return _INLINE.sub(one, text)


def _cards(out: str) -> str:
    """The Markdown's tables, each in a box that scrolls sideways if it must, with every cell
    labelled by its column's heading so that a phone can stack a row as a card."""
    def one(m: re.Match) -> str:
        table = m[0]
        heads = [plain_text(h) for h in re.findall(r"<th[^>]*>(.*?)</th>", table.split("</thead>")[0], re.S)]

        def row(r: re.Match) -> str:
            cells = iter(enumerate(heads))

            def cell(c: re.Match) -> str:
                i, head = next(cells, (1, ""))
                lead = ' class="lead"' if i == 0 else ""
                return f'<td{c["attrs"]}{lead} data-label="{escape(head)}">'
            return re.sub(r"<td(?P<attrs>[^>]*)>", cell, r[0])
        body = re.sub(r"<tr>.*?</tr>", row, table.split("</thead>", 1)[-1], flags=re.S)
        table = (table.split("</thead>", 1)[0] + "</thead>" + body) if "</thead>" in table else table
        return '<div class="scroll"><table class="cards">' + table[len("<table>"):] + "</div>"

    return re.sub(r"<table>.*?</table>", one, out, flags=re.S)


def plain_text(fragment: str) -> str:
    """The text of an HTML fragment (tags dropped, entities read), for an attribute or an alt text."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", fragment)).split())


def escape(text: str) -> str:
    return html.escape(str(text), quote=True)
