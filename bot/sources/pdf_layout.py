"""A PDF's pages → text as a person reads it: the title, paragraphs, no page furniture.

pypdf's plain extraction gives each page's lines in drawing order and nothing more: a
footer Word draws first reads as the page's first line, a title wrapped over four lines
reads like four short lines, and a paragraph break looks like any hard wrap. While it
extracts, pypdf also hands each text run to a visitor with its matrices and font size,
which say where a line stands on the page and how large it is set. From those:

- running headers and footers are dropped: a line repeated on most pages in the page's
  outer band (digits aside, so `Page 2 of 3` repeats), small type at the very top or
  bottom edge, and page numbers;
- the title is the largest type near the top of page one, its wrapped lines (up to five)
  joined whole — not a letterhead above the "PRESS RELEASE" banner, nor a line the
  document repeats elsewhere (the organisation's name), when another candidate exists;
- a vertical gap larger than the line spacing is a paragraph break: a blank line. Lines
  within a paragraph stay lines, for `bot.sources.extract` to rejoin as for any PDF text.

Nothing here replaces the plain extraction: when the runs cannot be placed (no sizes,
rotated pages, text the runs miss), `LayoutReader.result` is None and the caller keeps
the plain text, so an odd PDF still gives its release.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from bot.sources.extract import line_kind, normalise, rejoin_hyphenation

__all__ = ["LaidOut", "LayoutReader"]

log = logging.getLogger("pressbot.documents")

_EDGE = 0.07  # share of the page height at the top and bottom where small type is furniture
_BAND = 0.15  # the outer band where a line repeated on most pages is a running head
_SMALL = 0.92  # small type: at most this share of the body text's size
_TITLE_MIN = 1.15  # a title is set at least this much larger than the body text
_TITLE_ZONE = 0.6  # …and starts within this top share of page one
_MAX_TITLE_LINES = 5
_PARA_GAP = 1.3  # a gap this many times the line spacing ends a paragraph
_MIN_KEPT = 0.9  # the placed runs must hold this share of the plain text's letters
_NOT_TITLE = frozenset({"banner", "date", "page", "end", "stray", "breadcrumb", "related",
                        "blank"})
_HEAD_JUNK = frozenset({"banner", "date", "stray", "breadcrumb"})
_DIGITS = re.compile(r"\d+")
_LETTER = re.compile(r"[^\W\d_]")
# what a broken PDF makes the arithmetic raise: the layout is given up, not the release
_UNPLACEABLE = (ArithmeticError, AttributeError, IndexError, KeyError, TypeError, ValueError)


@dataclass(frozen=True)
class LaidOut:
    """The document's text for the cleaning, its title when the type sizes show it, and
    its deck: the sentence or two set under the title in type between the title's and the
    story's (a standfirst), which tells the release again and is no lede."""

    text: str
    title: str | None
    deck: str | None = None


@dataclass(frozen=True)
class _Run:
    text: str
    x: float
    y: float
    size: float  # the size the text is seen at: font size × text matrix × CTM
    upright: bool


@dataclass(frozen=True)
class _Line:
    page: int
    y: float  # baseline, in PDF units from the page's bottom
    size: float  # the size most of its characters are set in
    from_top: float  # baseline's distance from the top edge, as a share of the page height
    from_bottom: float
    text: str
    words: str  # the text with single spaces
    letters: int


class _Kinds:
    """`line_kind` of each line, worked out only for the lines a rule asks about: it is
    the costliest step, and most lines are never asked."""

    def __init__(self, lines: list[_Line]) -> None:
        self._lines = lines
        self._known: dict[int, str] = {}

    def __getitem__(self, n: int) -> str:
        if n not in self._known:
            self._known[n] = line_kind(self._lines[n].words)
        return self._known[n]


def _times(m: Sequence[float], n: Sequence[float]) -> tuple[float, ...]:
    """The affine matrix product m × n, matrices as PDF writes them: [a b c d e f]."""
    return (m[0] * n[0] + m[1] * n[2], m[0] * n[1] + m[1] * n[3],
            m[2] * n[0] + m[3] * n[2], m[2] * n[1] + m[3] * n[3],
            m[4] * n[0] + m[5] * n[2] + n[4], m[4] * n[1] + m[5] * n[3] + n[5])


def _letters(text: str) -> int:
    return len(_LETTER.findall(text))


class LayoutReader:
    """Reads a PDF page by page, as `page.extract_text()` does, and keeps where each text
    run stands; `result()` then lays the whole document out."""

    def __init__(self) -> None:
        self._pages: list[list[_Line]] = []
        self._plain_letters = 0
        self._failed = False

    def read_page(self, page: Any) -> str:
        """The page's plain text (what the caller keeps if the layout fails)."""
        runs = _Runs()
        plain = page.extract_text(visitor_text=runs.text, visitor_operand_before=runs.before,
                                  visitor_operand_after=runs.after) or ""
        self._plain_letters += _letters(plain)
        self._failed = self._failed or runs.failed
        if not self._failed:
            try:
                self._pages.append(_page_lines(runs.runs, page, len(self._pages)))
            except _UNPLACEABLE as exc:
                log.info("PDF page %d has no usable layout (%s); reading its plain text",
                         len(self._pages) + 1, exc)
                self._failed = True
        return plain

    def result(self) -> LaidOut | None:
        """The laid-out text and title, or None when the plain text is the better read."""
        if self._failed or not self._pages:
            return None
        lines = [line for page in self._pages for line in page]
        if not lines or sum(s.letters for s in lines) < _MIN_KEPT * self._plain_letters:
            log.info("the PDF's text runs miss part of its text; reading its plain text")
            return None
        try:
            return _lay_out(lines, len(self._pages))
        except _UNPLACEABLE as exc:
            log.info("the PDF has no usable layout (%s); reading its plain text", exc)
            return None


class _Runs:
    """pypdf's visitors for one page: every text run, placed on the page. pypdf reports
    the text of a form XObject in the form's own space, so the CTM in force at each `Do`
    that draws one is kept and applied to it (the form's /Matrix is not: pypdf ignores it
    too). A run that cannot be placed marks the page `failed`, never stops the extraction."""

    def __init__(self) -> None:
        self.runs: list[_Run] = []
        self.failed = False
        self._outer: list[list[float]] = []  # the CTM at each `Do` whose form is drawing
        self._pending: list[float] | None = None  # the last `Do`'s, until its form starts

    def before(self, operator: Any, _operands: Any, cm: Any, _tm: Any) -> None:
        if self._pending is not None:  # the `Do` drew a form: this is its first operator
            self._outer.append(self._pending)
            self._pending = None
        if operator == b"Do":
            try:
                self._pending = [float(v) for v in cm]
            except _UNPLACEABLE:
                self.failed = True

    def after(self, operator: Any, _operands: Any, _cm: Any, _tm: Any) -> None:
        if operator != b"Do":
            return
        if self._pending is not None:  # an image, or an empty form
            self._pending = None
        elif self._outer:
            self._outer.pop()

    def text(self, text: Any, cm: Any, tm: Any, _font: Any, size: Any) -> None:
        if self.failed or not isinstance(text, str) or not text:
            return
        try:
            m = _times([float(v) for v in tm], [float(v) for v in cm])
            for outer in reversed(self._outer):
                m = _times(m, outer)
            a, b, c, d, e, f = m
            self.runs.append(_Run(text, e, f, float(size) * math.hypot(c, d),
                                  a > 0 and d > 0 and abs(b) <= 0.01 * a and abs(c) <= 0.01 * d))
        except _UNPLACEABLE:
            self.failed = True


def _page_lines(runs: list[_Run], page: Any, number: int) -> list[_Line]:
    """Runs on one baseline → one line; lines in the order the page draws them."""
    if int(page.rotation or 0) % 360:
        raise ValueError("the page is rotated")
    box = page.cropbox
    bottom, top = float(box.bottom), float(box.top)
    height = top - bottom
    if height <= 0:
        raise ValueError("the page has no height")
    lines: list[_Line] = []
    parts: list[str] = []
    sizes: Counter[float] = Counter()
    base: _Run | None = None

    def close() -> None:
        text = "".join(parts).strip()
        if base is not None and text and bottom <= base.y <= top:
            size = sizes.most_common(1)[0][0] if sizes else base.size
            lines.append(_Line(number, base.y, size, (top - base.y) / height,
                               (base.y - bottom) / height, text, " ".join(text.split()),
                               _letters(text)))
        parts.clear()
        sizes.clear()

    for run in runs:
        text = run.text.replace("\n", " ")  # pypdf broke the line here: at least a word gap
        if not text.strip():
            if base is not None and text:
                parts.append(text)  # a word space pypdf sent on its own: no position
            continue
        if not run.upright or run.size <= 0:
            continue  # turned text (a margin note) is not read; too much of it and
            # the letter count sends the document back to its plain text
        if base is None or abs(run.y - base.y) > 0.5 * max(min(run.size, base.size), 1.0):
            close()
            base = run
        parts.append(text)
        sizes[round(run.size * 2) / 2] += len(text) - text.count(" ")
    close()
    return lines


def _lay_out(lines: list[_Line], pages: int) -> LaidOut:
    letters_by_size: Counter[float] = Counter()
    for line in lines:
        letters_by_size[line.size] += line.letters or 1
    body = letters_by_size.most_common(1)[0][0]
    kinds = _Kinds(lines)
    furniture = _furniture(lines, kinds, pages, body)
    kept = [n for n in range(len(lines)) if n not in furniture]
    leading = _leading(lines, kept)
    title = _title_block(lines, kinds, kept, body, furniture)
    if title is None:
        return LaidOut("\n".join(_paragraphs(lines, kept, leading)), None)

    first = lines[title[0]]
    above = [n for n in kept if lines[n].page == 0 and n not in title
             and lines[n].y > first.y + 0.25 * first.size]
    after = [n for n in kept if n not in title and n not in above]
    banner_y = _banner_y(lines, kinds, kept)
    head = [lines[n].text for n in above if kinds[n] in _HEAD_JUNK]
    kicker = [n for n in above if kinds[n] not in _NOT_TITLE
              and not _is_letterhead(lines, kinds, n, banner_y, furniture)]
    # a date under the title (maybe below a subtitle) goes right after it, where the
    # cleaning reads a release's date
    date_at = next((n for n in after[:8] if lines[n].page == 0 and kinds[n] == "date"), None)
    title_text = _title_text(lines, title)
    out = [*head, "", title_text]
    if date_at is not None:
        out.append(lines[date_at].text)
        after.remove(date_at)
    if kicker:
        out.extend(["", *_paragraphs(lines, kicker, leading)])
    out.extend(["", *_paragraphs(lines, after, leading)])
    deck = after[:_MAX_TITLE_LINES + 1]
    deck = deck[:next((k for k, n in enumerate(deck) if not (
        lines[n].page == 0 and kinds[n] == "text"
        and _TITLE_MIN * body <= lines[n].size < 0.95 * first.size)), len(deck))]
    standfirst = "\n".join(lines[n].text for n in deck) if 0 < len(deck) < len(after) else None
    return LaidOut("\n".join(out).strip("\n"), title_text, standfirst)


def _key(text: str) -> str:
    """A line as it repeats from page to page: page numbers and case aside."""
    return " ".join(_DIGITS.sub("#", text.casefold()).split())


def _furniture(lines: list[_Line], kinds: _Kinds, pages: int, body: float) -> set[int]:
    """Running headers and footers, page numbers: the lines no reader reads as the release."""
    drop: set[int] = set()
    outer: dict[str, set[int]] = {}
    candidates: list[int] = []
    for n, line in enumerate(lines):
        edge = min(line.from_top, line.from_bottom)
        if ((edge < _EDGE and line.size <= _SMALL * body)
                or (len(line.words) <= 30 and kinds[n] == "page")):
            drop.add(n)
        elif edge < _BAND and line.size <= 1.1 * body:
            outer.setdefault(_key(line.text), set()).add(line.page)
            candidates.append(n)
    if pages >= 2:
        need = max(2, math.ceil(pages / 2))
        drop.update(n for n in candidates if len(outer[_key(lines[n].text)]) >= need)
    return drop


def _leading(lines: list[_Line], kept: list[int]) -> dict[float, float]:
    """The line spacing of each type size: the smallest gap between neighbouring lines
    set in it that is seen twice (a short release has more paragraph gaps than wraps)."""
    gaps: dict[float, list[float]] = {}
    for a, b in pairwise(kept):
        one, two = lines[a], lines[b]
        gap = one.y - two.y
        if (one.page == two.page and one.size == two.size
                and 0.8 * one.size <= gap <= 2.5 * one.size):
            gaps.setdefault(one.size, []).append(gap)
    leading: dict[float, float] = {}
    for size, found in gaps.items():
        found.sort()
        near = 0.1 * size
        leading[size] = next((g for g, h in pairwise(found) if h - g <= near),
                             found[0])
    return leading


def _paragraphs(lines: list[_Line], picked: list[int], leading: dict[float, float]
                ) -> list[str]:
    """The lines' text, a blank line wherever the gap above a line says a paragraph starts.
    A page break is no paragraph break: the story runs on over it."""
    out: list[str] = []
    for prev, n in zip([None, *picked], picked, strict=False):
        line = lines[n]
        if prev is not None:
            before = lines[prev]
            gap = before.y - line.y
            step = leading.get(line.size, 1.2 * line.size)
            resized = abs(line.size - before.size) > 0.1 * max(line.size, before.size)
            moved = line.page == before.page and (gap < -0.5 * line.size
                                                  or gap > _PARA_GAP * step)
            if resized or moved:
                out.append("")
        out.append(line.text)
    return out


def _banner_y(lines: list[_Line], kinds: _Kinds, kept: list[int]) -> float | None:
    """The baseline of the top-most "PRESS RELEASE" banner in the top part of page one."""
    ys = [lines[n].y for n in kept if lines[n].page == 0 and lines[n].from_top <= _TITLE_ZONE
          and kinds[n] == "banner"]
    return max(ys) if ys else None


def _recurs(lines: list[_Line], kinds: _Kinds, n: int, furniture: set[int]) -> bool:
    """Whether the line's text comes back as the sender's name does: in a running header or
    footer, as a line of its own (a signature), or in a footer heading ("About …"). Not
    in a sentence: a project's name is its story's subject as often as its title."""
    text = lines[n].words.casefold()
    return len(text) >= 3 and any(
        m != n and (text == other.words.casefold() or (
            text in other.words.casefold() and (m in furniture or kinds[m] == "footer")))
        for m, other in enumerate(lines))


def _is_letterhead(lines: list[_Line], kinds: _Kinds, n: int, banner_y: float | None,
                   furniture: set[int]) -> bool:
    line = lines[n]
    return ((banner_y is not None and line.y > banner_y) or n in furniture
            or (len(line.words.split()) <= 8 and _recurs(lines, kinds, n, furniture)))


def _title_block(lines: list[_Line], kinds: _Kinds, kept: list[int], body: float,
                 furniture: set[int]) -> list[int] | None:
    """The lines of the title: the largest type near the top of page one, or None."""
    blocks: list[list[int]] = []
    prev: int | None = None
    for n in (n for n in kept if lines[n].page == 0):
        line = lines[n]
        if line.size >= _TITLE_MIN * body and kinds[n] not in _NOT_TITLE:
            last = lines[blocks[-1][-1]] if blocks and blocks[-1][-1] == prev else None
            if (last is not None and abs(line.size - last.size) <= 0.08 * last.size
                    and 0 < last.y - line.y <= 2 * last.size):
                blocks[-1].append(n)
            elif line.from_top <= _TITLE_ZONE:
                blocks.append([n])
        prev = n
    blocks = [b for b in blocks if _is_title(_title_text(lines, b))]
    banner_y = _banner_y(lines, kinds, kept)

    def letterhead(block: list[int]) -> bool:
        return (banner_y is not None and lines[block[-1]].y > banner_y) or (
            len(block) == 1 and _is_letterhead(lines, kinds, block[0], banner_y, furniture))

    blocks = [b for b in blocks if not letterhead(b)] or blocks
    if not blocks:
        return None
    largest = max(lines[b[0]].size for b in blocks)
    block = next(b for b in blocks if lines[b[0]].size >= 0.95 * largest)
    return block if len(block) <= _MAX_TITLE_LINES else None


def _title_text(lines: list[_Line], block: list[int]) -> str:
    """A title's lines as one line: `coope-` + `ration` rejoined, `Cross-` + `Border` kept."""
    joined = rejoin_hyphenation(normalise("\n".join(lines[n].text for n in block)))
    return " ".join(joined.split())


def _is_title(text: str) -> bool:
    """Two words or more with eight letters at least: not a "NEWS" label or a logo's
    initials."""
    return (len([w for w in text.split() if _letters(w) >= 2]) >= 2 and _letters(text) >= 8
            and len(text) <= 300)
