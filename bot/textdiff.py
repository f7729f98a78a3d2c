"""What an edit changed: the words a person deleted from and inserted into a text.

Two passes of the standard library's `difflib`: lines first (cheap, and a paragraph left
alone stays one piece), then words inside the lines that changed, so one changed word
in a long paragraph is marked as that word and not as the whole paragraph. A block too big
for the word pass (its cost grows with the product of the two sides) is shown as deleted
and inserted whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Literal

Kind = Literal["same", "ins", "del"]
WORD_PASS_MAX = 1_500 * 1_500
"""Largest product of the two sides' word counts a changed block is compared word by word
(tens of milliseconds for prose, 0.1 s at worst); bigger blocks are marked whole."""
_WORD = re.compile(r"\w+(?:[^\w\s]\w+)*|[^\w\s]")
"""A word with what joins its parts ("40,000", "e-mail", "example.org"), or one punctuation
mark: "books," against "books" is one word kept and a comma deleted."""
_SPACE = re.compile(r"\s*")


@dataclass(frozen=True)
class Piece:
    kind: Kind
    text: str


@dataclass(frozen=True)
class Diff:
    pieces: list[Piece]

    @property
    def changed(self) -> bool:
        return any(p.kind != "same" for p in self.pieces)

    @property
    def inserted(self) -> int:
        """Words inserted (a mark such as "##" or "-" is not a word)."""
        return self._words("ins")

    @property
    def deleted(self) -> int:
        return self._words("del")

    def _words(self, kind: Kind) -> int:
        return sum(1 for p in self.pieces if p.kind == kind
                   for word in _WORD.findall(p.text) if word[0].isalnum() or word[-1].isalnum())

    def plain(self) -> str:
        """The text with `[-deleted-]{+inserted+}` marks (git's --word-diff=plain), for a
        terminal."""
        marks = {"same": ("", ""), "del": ("[-", "-]"), "ins": ("{+", "+}")}
        return "".join(marks[p.kind][0] + p.text + marks[p.kind][1] for p in self.pieces)


def diff(before: str, after: str) -> Diff:
    """The pieces of `after` and of what `before` had instead, in reading order."""
    pieces: list[Piece] = []
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    for op, i1, i2, j1, j2 in SequenceMatcher(None, old, new).get_opcodes():
        if op == "equal":
            _add(pieces, "same", "".join(new[j1:j2]))
        else:
            _words(pieces, "".join(old[i1:i2]), "".join(new[j1:j2]))
    return Diff(pieces)


def _words(pieces: list[Piece], before: str, after: str) -> None:
    """Words compared as words (the spaces between them are not tokens: a space is the
    commonest "word" of all, and made the comparison quadratic); the new text's own
    spacing is kept between them."""
    old, new = list(_WORD.finditer(before)), list(_WORD.finditer(after))
    if len(old) * len(new) > WORD_PASS_MAX:
        _add(pieces, "del", before)
        _add(pieces, "ins", after)
        return
    matcher = SequenceMatcher(None, [m[0] for m in old], [m[0] for m in new], autojunk=False)
    written = 0   # how far `after` has been written out
    spaced = ""   # the old text's spacing after the last deleted word
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if i1 < i2 and op != "equal":
            if j1 < len(new):   # the spacing before the next word of the new text first
                _add(pieces, "same", after[written:new[j1].start()])
                written = new[j1].start()
            start, end = old[i1].start(), old[i2 - 1].end()
            _apart(pieces, before[start:end], spaced=before[start - 1:start].isspace())
            _add(pieces, "del", before[start:end])
            spaced = _SPACE.match(before, end)[0]  # type: ignore[index]
        if j1 < j2:
            end = new[j2 - 1].end()
            if pieces and pieces[-1].kind == "del":
                _apart(pieces, after[written:end], spaced=bool(spaced))
            _add(pieces, "same" if op == "equal" else "ins", after[written:end])
            written = end
    rest = after[written:]
    _add(pieces, "same", spaced if not rest and pieces and pieces[-1].kind == "del" else rest)


def _apart(pieces: list[Piece], coming: str, *, spaced: bool) -> None:
    """A space between a deleted word and the other text's next to it, where the old
    text had one or they would read as one word."""
    if not pieces or not coming or pieces[-1].text[-1:].isspace() or coming[:1].isspace():
        return
    if spaced or (pieces[-1].text[-1:].isalnum() and coming[:1].isalnum()):
        _add(pieces, "same", " ")


def _add(pieces: list[Piece], kind: Kind, text: str) -> None:
    """Append, joining a piece to the one before it of the same kind; a mark's spaces at
    its ends go outside it, so a mark starts and ends on a word."""
    if not text:
        return
    if kind != "same":
        core = text.strip()
        if not core:   # spacing alone, deleted: nothing to show; inserted: show it
            if kind == "ins":
                _add(pieces, "same", text)
            return
        start = text.index(core)
        _add(pieces, "same", text[:start])
        _join(pieces, kind, core)
        _add(pieces, "same", text[start + len(core):])
        return
    _join(pieces, kind, text)


def _join(pieces: list[Piece], kind: Kind, text: str) -> None:
    if pieces and pieces[-1].kind == kind:
        pieces[-1] = Piece(kind, pieces[-1].text + text)
    else:
        pieces.append(Piece(kind, text))
