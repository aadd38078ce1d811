"""Links a page makes inside its own text, after the Markdown is HTML:

* every mention of another concept's id in code (``lr-schedules``) links to that concept's page;
* the first mention of each glossary term links to the term on the glossary page;
* a paragraph that opens with a bold lead-in (``**Overflow.** …``) gets an anchor, and the lead-in
  becomes an entry of the page's "on this page" list.

They work on the text between tags only, never inside links, code, math or headings.
"""

from __future__ import annotations

import re
from typing import Callable

from .navigation import Heading

_TAG = re.compile(r"(<[^>]+>)")
_SKIP = {"a", "code", "pre", "math", "h1", "h2", "h3", "h4", "h5", "h6", "summary", "script", "style", "th"}
_CODE_ID = re.compile(r"<code>([a-z0-9]+(?:-[a-z0-9]+)*)</code>")
_LEAD_IN = re.compile(r"<p><strong>(?P<text>.+?)</strong>")


def link_concept_ids(html: str, ids, href: Callable[[str], str], here: str | None = None) -> str:
    """``<code>ID</code>`` → a link to concept ``ID``'s page, for every known id but ``here``, where
    the code is not already inside a link."""
    known = set(ids) - {here}
    return _outside_links(html, lambda text: _CODE_ID.sub(
        lambda m: f'<a class="xref" href="{href(m[1])}">{m[0]}</a>' if m[1] in known else m[0], text))


def _outside_links(html: str, change: Callable[[str], str]) -> str:
    """Apply ``change`` to the stretches of ``html`` that lie outside ``<a>…</a>``."""
    parts = re.split(r"(<a\b[^>]*>.*?</a>)", html, flags=re.S)
    return "".join(p if i % 2 else change(p) for i, p in enumerate(parts))


def lead_ins(html: str, prefix: str) -> tuple[str, list[Heading]]:
    """Give every paragraph that opens with a bold lead-in an id (``prefix-1``, …) and return the
    lead-ins as headings for the "on this page" list (their closing full stop dropped)."""
    found: list[Heading] = []

    def anchor(m: re.Match) -> str:
        ident = f"{prefix}-{len(found) + 1}"
        text = re.sub(r"[.:。]\s*$", "", re.sub(r"</?a\b[^>]*>", "", m["text"]).strip())  # no link inside the list's link
        found.append(Heading(ident, text))
        return f'<p id="{ident}"><strong>{m["text"]}</strong>'

    return _LEAD_IN.sub(anchor, html), found


class TermLinker:
    """Links the first mention of each term on a page to its entry in the glossary.

    ``forms``: (text as written, the term's anchor) pairs. Longer forms win where two overlap (배치
    정규화 before 정규화); a form must start a word, and an English one end one (a plural 's' allowed);
    a Korean form may be followed by its particle (기울기가)."""

    def __init__(self, forms: list[tuple[str, str]], href: Callable[[str], str]):
        self.href = href
        self.anchor_of: dict[str, str] = {}
        patterns = []
        for text, anchor in sorted(forms, key=lambda f: -len(f[0])):
            key = text.lower()
            if key in self.anchor_of:
                continue
            self.anchor_of[key] = anchor
            body = re.escape(text)
            latin_end = bool(re.search(r"[A-Za-z0-9]$", text))
            tail = r"(?:s|es)?(?![A-Za-z0-9])" if latin_end else ""
            patterns.append(f"(?<![\\w]){body}{tail}")
        self.pattern = re.compile("|".join(patterns), re.IGNORECASE) if patterns else None

    def _anchor(self, matched: str) -> str | None:
        key = matched.lower()
        for candidate in (key, key[:-1], key[:-2]):
            if candidate in self.anchor_of:
                return self.anchor_of[candidate]
        return None

    def link(self, html: str, done: set | None = None) -> str:
        """``html`` with each term's first mention linked; ``done`` (the anchors linked so far on
        this page) carries over between calls, and is updated."""
        if self.pattern is None:
            return html
        done = set() if done is None else done
        out, skipping = [], []
        for piece in _TAG.split(html):
            if piece.startswith("<"):
                name = re.match(r"</?([a-zA-Z0-9]+)", piece)
                tag = name[1].lower() if name else ""
                if tag in _SKIP and not piece.endswith("/>"):
                    if piece.startswith("</"):
                        if tag in skipping:
                            skipping.remove(tag)
                    else:
                        skipping.append(tag)
                out.append(piece)
                continue
            if skipping or not piece.strip():
                out.append(piece)
                continue
            out.append(self._link_text(piece, done))
        return "".join(out)

    def _link_text(self, text: str, done: set) -> str:
        def one(m: re.Match) -> str:
            anchor = self._anchor(m[0])
            if anchor is None or anchor in done:
                return m[0]
            done.add(anchor)
            return f'<a class="term" href="{self.href(anchor)}">{m[0]}</a>'

        return self.pattern.sub(one, text)
