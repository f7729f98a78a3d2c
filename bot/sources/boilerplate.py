"""Boilerplate learned from a source's own history: what recurs is not the story.

The rules in `bot.sources.extract` know footers by their shape and by words in a few
languages. A site in any other language still prints the same "about us" paragraph,
contacts and funder notice under every release; those recur (near-)verbatim from release
to release, while a story's own text does not. So a paragraph of a new release that is
found again in the source's other releases moves to the release's notes.

Each paragraph is kept as a print (`Print`): a hash of its normalised words (case, digits
and punctuation ignored, so a new year or phone number is the same paragraph) and, for a
paragraph of `LONG` words or more, a bottom-k sketch of its word pairs, whose overlap
estimates the Jaccard similarity of two paragraphs (a changed name or an added clause
still matches). Prints are stored per release (`bot.store.prints`), so a poll compares
with the last `WINDOW` releases without reading their text again.

What moves, and why it is safe (`learn`): only the end of a release, its footer.
- A story's text is new; a follow-up repeats a quote, and a templated release repeats its
  lede ("Today the group announces PostgreSQL 16…") and its stock lines ("Please update
  the gem to version 3.3.9") with other numbers. So the release must keep at least one
  paragraph found nowhere else, and the last such paragraph (or the last short sentence)
  is the story's end, its anchor. Nothing before the anchor moves, however often it
  recurs: in the extraction corpus the paragraphs that recur before it are such ledes
  and stock lines, never a footer.
- After the anchor, what recurs in one other release is the footer: it moves, from the
  first recurring paragraph to the end. Short lines (a heading, a phone number) go with
  it when the footer holds a long recurring paragraph or they recur in two other releases.
- A short sentence ("The event is free.") never moves: it is too short to be told apart
  from a story's own words.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import NamedTuple

from bot.htmltext import html_to_text
from bot.models import Release
from bot.sources.extract import join_notes
from bot.sources.notes import html_blocks

__all__ = ["LONG", "WINDOW", "History", "Paragraphs", "Print", "learn", "prints_of_text"]

WINDOW = 20
"""How many of a source's stored releases (the newest) a new one is compared with."""
LONG = 8
"""Words from which a paragraph is compared by similarity; shorter ones only exactly."""
SIMILAR = 0.7
"""Jaccard similarity of two paragraphs' word pairs from which they are the same one."""
SKETCH = 24
"""Word-pair hashes kept per long paragraph (the smallest ones: a bottom-k sketch)."""
_COMMON = 200
"""A word pair in more distinct paragraphs than this ("of the") suggests no candidates."""

_WORD = re.compile(r"\w+")
_DIGITS = re.compile(r"\d+")
_TERMINAL = (".", "!", "?", "…", '"', "”", "’", "»")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
_CONTAINER = re.compile(r"\s*<(div|blockquote|address)\b[^>]*>(.*)</\1\s*>\s*", re.I | re.S)


class Print(NamedTuple):
    """A paragraph's fingerprint: its normalised words' hash, and a sketch when long."""

    exact: int
    sketch: tuple[int, ...] = ()

    def as_json(self) -> list[int]:
        return [self.exact, *self.sketch]

    @classmethod
    def from_json(cls, value: Sequence[int]) -> Print:
        return cls(int(value[0]), tuple(int(x) for x in value[1:]))


def _hash(text: str, size: int) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=size).digest(), "big")


def _words(text: str) -> list[str]:
    return _WORD.findall(_DIGITS.sub("0", unicodedata.normalize("NFKC", text).casefold()))


def paragraph_print(text: str) -> Print | None:
    """The print of one paragraph, or None when it has no words.

    A word pair's hash is the CRC-32 of "first second", the first word's part computed once
    per word: a long paragraph has hundreds of pairs, and blake2b of each costs 3-4 times
    more. CRC's linearity does not matter here: the texts are not chosen to collide, and
    a source that wanted its own paragraphs dropped could simply not publish them.
    """
    words = _words(text)
    if not words:
        return None
    exact = _hash(" ".join(words), 7)  # 56 bits: any JSON reader keeps it exact
    if len(words) < LONG:
        return Print(exact)
    encoded = [w.encode() for w in words]
    firsts = [zlib.crc32(b" ", zlib.crc32(w)) for w in encoded[:-1]]
    pairs = {zlib.crc32(second, first) for first, second in zip(firsts, encoded[1:],
                                                               strict=True)}
    return Print(exact, tuple(sorted(pairs)[:SKETCH]))


def similar(a: Print, b: Print) -> bool:
    """Whether two long paragraphs' word pairs overlap by `SIMILAR` or more (bottom-k estimate:
    of the k smallest hashes of both, the share that is in both)."""
    if not a.sketch or not b.sketch:
        return a.exact == b.exact
    in_a, in_b = set(a.sketch), set(b.sketch)
    union = sorted(in_a | in_b)[:SKETCH]
    both = sum(1 for x in union if x in in_a and x in in_b)
    return both >= SIMILAR * len(union)


def _units(text: str) -> list[list[str]]:
    """A body's paragraphs (apart by a blank line), each as its lines (list items)."""
    return [[line for line in para.split("\n") if line.strip()]
            for para in _PARAGRAPH_BREAK.split(text) if para.strip()]


def _lines_prints(text: str) -> list[Print]:
    found = (paragraph_print(line) for para in _units(text) for line in para)
    return [p for p in found if p is not None]


def prints_of_text(body: str, notes: str) -> list[Print]:
    """The prints of every line of a release's body and notes, as the source gave them."""
    return _lines_prints(body) + _lines_prints(notes)


class Paragraphs:
    """A release's body cut into lines, each with its print: made once per release, for
    `learn` and for what is stored."""

    def __init__(self, release: Release) -> None:
        self.paras = _units(release.body)
        self.lines = [line for para in self.paras for line in para]
        self.prints = [paragraph_print(line) for line in self.lines]
        self.stored = [p for p in self.prints if p] + _lines_prints(release.notes)
        """The prints to keep for later releases: body and notes, as the source gave them."""


class History:
    """The paragraphs of a source's releases, and which releases (by owner id) hold each.

    Distinct paragraphs are kept once, and long ones are found by the sketch hashes they
    share with a paragraph (an inverted index), so a batch of 700 releases is not compared
    pair by pair.
    """

    def __init__(self) -> None:
        self._owners: dict[int, set[int]] = {}
        self._prints: dict[int, Print] = {}
        self._index: dict[int, list[int]] = {}

    def add(self, owner: int, prints: Iterable[Print]) -> None:
        for p in prints:
            owners = self._owners.get(p.exact)
            if owners is not None:
                owners.add(owner)
                continue
            self._owners[p.exact] = {owner}
            self._prints[p.exact] = p
            for x in p.sketch:
                self._index.setdefault(x, []).append(p.exact)

    def owners(self, p: Print) -> set[int]:
        """The releases holding this paragraph or one similar to it."""
        found = set(self._owners.get(p.exact, ()))
        if not p.sketch:
            return found
        shared: Counter[int] = Counter()
        for x in p.sketch:
            posting = self._index.get(x)
            if posting and len(posting) <= _COMMON:
                shared.update(posting)
        least = max(1, len(p.sketch) // 3)  # far fewer shared hashes cannot reach SIMILAR
        for exact, n in shared.items():
            if exact != p.exact and n >= least and similar(p, self._prints[exact]):
                found |= self._owners[exact]
        return found


def _sentence(text: str) -> bool:
    return text.rstrip().endswith(_TERMINAL)


def _moving(lines: list[str], counts: list[int], longs: list[bool]) -> set[int]:
    """Which lines of a body are boilerplate, by how many other releases hold each."""
    new_story = {n for n, (c, long) in enumerate(zip(counts, longs, strict=True))
                 if c == 0 and (long or _sentence(lines[n]))}
    if not new_story:
        return set()  # nothing of it is new: a repeat of a release, not a footer
    anchor = max(n for n in range(len(lines))
                 if n in new_story or (not longs[n] and _sentence(lines[n])))
    tail = range(anchor + 1, len(lines))
    if any(longs[n] and counts[n] >= 1 for n in tail):
        start = next(n for n in tail if counts[n] >= 1)
    else:  # short lines alone: a contact block seen in two other releases
        start = next((n for n in tail if counts[n] >= 2), len(lines))
    return set(range(start, len(lines)))


def learn(release: Release, history: History, own: int,
          read: Paragraphs | None = None) -> Release:
    """The release with its learned boilerplate in the notes, out of body, body_html and
    summary; the very release when nothing recurs. `own` is its owner id in `history`;
    `read`, its `Paragraphs` when they were made already."""
    read = read or Paragraphs(release)
    paras, lines, prints = read.paras, read.lines, read.prints
    counts = [len(history.owners(p) - {own}) if p else 0 for p in prints]
    longs = [bool(p and p.sketch) for p in prints]
    moving = _moving(lines, counts, longs)
    if not moving:
        return release
    kept: list[list[str]] = []
    n = 0
    for para in paras:
        kept.append([line for k, line in enumerate(para, n) if k not in moving])
        n += len(para)
    body = "\n\n".join("\n".join(para) for para in kept if para)
    hit = _matcher(read, moving)
    notes = "\n\n".join(x for x in (join_notes([lines[n] for n in sorted(moving)]),
                                    release.notes) if x)
    summary = release.summary
    if summary and hit(summary):
        summary = body.split("\n\n", 1)[0]
    return release.model_copy(update={
        "body": body, "notes": notes, "summary": summary,
        "body_html": _without(release.body_html, hit) if release.body_html else "",
    })


def _matcher(read: Paragraphs, moving: set[int]) -> Callable[[str], bool]:
    """Is this text (a block of the HTML, the summary) one of the moved lines? A body
    line's own text is answered at once; other text by its print."""
    moved = [p for n in sorted(moving) if (p := read.prints[n])]
    known = {" ".join(line.split()): n in moving for n, line in enumerate(read.lines)}

    def hit(text: str) -> bool:
        found = known.get(" ".join(text.split()))
        if found is not None:
            return found
        p = paragraph_print(text)
        return p is not None and any(p.exact == m.exact or similar(p, m) for m in moved)

    return hit


def _without(html: str, hit: Callable[[str], bool], depth: int = 0) -> str:
    """The HTML without the blocks whose every line was moved; a wrapper block holding
    some of them (a `<div>` around the whole entry) is opened and cut inside."""
    out: list[str] = []
    for block in html_blocks(html):
        units = [line for para in _units(html_to_text(block)) for line in para]
        hits = [hit(u) for u in units]
        if units and all(hits):
            continue
        wrapper = _CONTAINER.fullmatch(block) if any(hits) and depth < 3 else None
        if wrapper:
            start, end = wrapper.span(2)
            block = block[:start] + _without(block[start:end], hit, depth + 1) + block[end:]
        out.append(block)
    return "".join(out).strip()
