"""Finding one's way: the contents list ordered by the book's chapters, the "on this page" list, and
the previous/next links, all plain HTML (no JavaScript).

A lesson's front matter says where the book treats its concept (``chapter = '6.3'``; ``'II-5–6'``
for the second volume; ``'notes'`` for a topic only the study notes have) and whether the book
has it at all (``beyond_book``). The contents list groups the pages by chapter, in the book's
order, each with its section number; ties keep the run's order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .text import escape

# the chapters of 『밑바닥부터 시작하는 딥러닝』 (and of its second volume) that the guide draws on
CHAPTERS = {
    "2": ("Perceptrons", "퍼셉트론"),
    "3": ("Neural networks", "신경망"),
    "4": ("Training neural networks", "신경망 학습"),
    "5": ("Backpropagation", "오차역전파법"),
    "6": ("Training techniques", "학습 관련 기술들"),
    "7": ("Convolutional neural networks", "합성곱 신경망(CNN)"),
    "8": ("Deep learning", "딥러닝"),
    "II": ("Recurrent networks and attention", "순환 신경망과 어텐션"),
    "notes": ("Beyond the book: the study notes", "책 밖의 주제: 스터디 노트"),
}
VOLUME_2 = "II-"


def chapter_key(chapter: str) -> str:
    """'6.4.3' → '6'; 'II-5–6' → 'II'; '' or 'notes' → 'notes'."""
    if chapter.startswith(VOLUME_2):
        return "II"
    head = chapter.split(".")[0]
    return head if head in CHAPTERS else "notes"


def sort_key(chapter: str) -> tuple:
    """The book's order: volume 1 by section number, then volume 2, then the rest."""
    if chapter.startswith(VOLUME_2):
        return (2, *(int(n) for n in re.findall(r"\d+", chapter)[:1]))
    numbers = [int(n) for n in chapter.split(".") if n.isdigit()]
    return (1, *numbers) if numbers else (3,)


def chapter_label(key: str, words) -> str:
    """'Chapter 6' / '6장'; 'Vol. 2' / '2권'; '' for the study notes' group."""
    if key == "II":
        return words["volume_2"]
    if key == "notes":
        return ""
    return words["chapter"].format(n=key)


def section_label(chapter: str, beyond_book: bool, words) -> str:
    """The number a page carries in the contents: '6.3', 'vol. 2, ch. 5–6' ('2권 5–6장'), or '' for
    a topic the book does not have."""
    if beyond_book or not chapter or chapter == "notes":
        return ""
    if chapter.startswith(VOLUME_2):
        return words["volume_2_chapter"].format(n=chapter[len(VOLUME_2):])
    return chapter


@dataclass
class Entry:
    id: str
    title: str
    number: str  # '6.3', or '' beyond the book
    beyond_book: bool
    beyond_notes: bool = False  # in neither the book nor the study notes: tagged 'added', not 'notes'


@dataclass
class Chapter:
    key: str
    label: str  # 'Chapter 6'
    title: str  # 'Training techniques'
    entries: list[Entry] = field(default_factory=list)


def chapters(lessons: list, words, language: str) -> list[Chapter]:
    """The contents: ``lessons`` (in run order) grouped by the book's chapters, in the book's order."""
    ordered = sorted(enumerate(lessons), key=lambda il: (sort_key(il[1].chapter), il[0]))
    out: dict[str, Chapter] = {}
    for _, lesson in ordered:
        key = chapter_key(lesson.chapter)
        if key not in out:
            english, korean = CHAPTERS[key]
            out[key] = Chapter(key, chapter_label(key, words), korean if language == "ko" else english)
        out[key].entries.append(Entry(lesson.id, lesson.title, section_label(lesson.chapter, lesson.beyond_book, words),
                                      lesson.beyond_book, lesson.beyond_notes))
    return sorted(out.values(), key=lambda c: list(CHAPTERS).index(c.key))


def reading_order(contents: list[Chapter]) -> list[str]:
    """The concept ids in the order of the contents list: what previous/next follow."""
    return [e.id for c in contents for e in c.entries]


def contents_html(contents: list[Chapter], current: str | None, href, words, onpage: list | None = None) -> str:
    """The contents list as nested lists; ``href(id)`` gives a page's link from the page being built,
    ``current`` marks that page and, with ``onpage``, holds its "on this page" list."""
    out = ['<nav class="contents" aria-label="' + escape(words["contents"]) + '">']
    if onpage and current is None:  # a page outside the contents (the front page, the glossary): its list first
        out.append(f'<span class="onpage-title">{escape(words["on_this_page"])}</span>' + onpage_html(onpage, words, nav=False))
    out.append('<ol class="chapters">')
    for chapter in contents:
        label = f'<span class="num">{escape(chapter.label)}</span> ' if chapter.label else ""
        out.append(f'<li><span class="chapter-title">{label}{escape(chapter.title)}</span><ol>')
        for e in chapter.entries:
            number = (f'<span class="num">{escape(e.number)}</span> ' if e.number
                      else f'<span class="num tag">{escape(words["added_tag" if e.beyond_notes else "notes_tag"])}</span> ')
            here = ' aria-current="page"' if e.id == current else ""
            item = f'<li><a href="{escape(href(e.id))}"{here}>{number}{escape(e.title)}</a>'
            if e.id == current and onpage:
                item += onpage_html(onpage, words, nav=False)
            out.append(item + "</li>")
        out.append("</ol></li>")
    out.append("</ol></nav>")
    return "".join(out)


@dataclass
class Heading:
    id: str
    text: str  # HTML (may hold inline math)
    children: list = field(default_factory=list)


def onpage_html(headings: list[Heading], words, nav: bool = True) -> str:
    """The "on this page" list: the page's sections and, under them, their lead-ins."""
    def items(hs):
        return "".join(f'<li><a href="#{escape(h.id)}">{h.text}</a>'
                       + (f"<ol>{items(h.children)}</ol>" if h.children else "") + "</li>" for h in hs)

    body = f'<ol class="onpage">{items(headings)}</ol>'
    if not nav:
        return body
    return f'<nav class="onpage" aria-label="{escape(words["on_this_page"])}">{body}</nav>'


def worth_a_list(headings: list[Heading]) -> bool:
    """Whether a page is long enough for an "on this page" list (about more than two screens): it
    has at least three sections, or two sections and four lead-ins below them."""
    return len(headings) >= 3 or sum(1 + len(h.children) for h in headings) >= 6


def pager_html(previous, following, href, words, where: str) -> str:
    """Previous/next links (``previous``/``following``: (id, title) or None)."""
    links = []
    if previous:
        links.append(f'<a href="{escape(href(previous[0]))}" rel="prev">← {escape(previous[1])}</a>')
    if following:
        links.append(f'<a href="{escape(href(following[0]))}" rel="next">{escape(following[1])} →</a>')
    label = words["pager"]
    return f'<nav class="pager {where}" aria-label="{escape(label)}">{"".join(links)}</nav>'
