"""Header values pressbot writes itself, byte for byte as they go on the wire.

Why not let the `email` package fold them: with `policy.SMTP` it refolds any raw header
line over 78 characters into RFC 2047 encoded-words (a `List-Unsubscribe` URL then reads
`=?utf-8?q?=3Chttps=3A//…?=` and Gmail finds no one-click address), it folds subjects
with an empty first line and doubled spaces, and before the CVE-2024-6923 fix (3.11.10,
3.12.5) it writes a display name whose encoded-words decode to CR/LF back out as real
line breaks. So subjects and display names are encoded here, every line ends only where
this module ends it, and messages are serialised with `WIRE` (no refolding).
"""

from __future__ import annotations

import re
import unicodedata
from email import policy
from email.header import decode_header, make_header

WIRE = policy.SMTP.clone(refold_source="none")
WIRE_UTF8 = policy.SMTPUTF8.clone(refold_source="none")
"""Serialising policies: headers set as text go out exactly as set."""

LINE = 78
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")
_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~ -]+")
"""A display name that needs no quoting: atext and spaces (RFC 5322 §3.2.3)."""
_Q_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!*+-/")
_PREFIX, _SUFFIX = "=?utf-8?q?", "?="


def clean_header(value: str) -> str:
    """One line of text: every run of whitespace (incl. U+2028/U+2029, \\x85) is one space."""
    return _CONTROL.sub("", " ".join(str(value).split()))


def breaks_lines(value: str) -> bool:
    """True when `value`, or what its RFC 2047 encoded-words decode to, holds a control
    character or a line separator (a header injection waiting for an unpatched Python)."""
    if _has_control(value):
        return True
    if not _ENCODED_WORD.search(value):
        return False
    try:
        decoded = str(make_header(decode_header(value)))
    except (ValueError, LookupError, UnicodeError):
        return True  # undecodable encoded-words in a name: refuse rather than guess
    return _has_control(decoded)


_ASCII_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
"""Category Cc within ASCII (Zl and Zp have no ASCII member)."""


def _has_control(text: str) -> bool:
    if text.isascii():  # nearly every address and name: one regex search, not a loop
        return _ASCII_CONTROL.search(text) is not None
    return any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in text)


def _q_char(char: str) -> str:
    if char == " ":
        return "_"
    return "".join(chr(b) if b in _Q_SAFE else f"={b:02X}" for b in char.encode("utf-8"))


def _encoded_words(text: str, size: int) -> list[str]:
    """`text` as Q encoded-words of whole characters, each at most `size` long (≤ 75,
    RFC 2047 §2)."""
    size = min(max(size, len(_PREFIX) + len(_SUFFIX) + 12), 75)
    words: list[str] = []
    current = ""
    for char in text:
        piece = _q_char(char)
        if current and len(_PREFIX) + len(current) + len(piece) + len(_SUFFIX) > size:
            words.append(f"{_PREFIX}{current}{_SUFFIX}")
            current = ""
        current += piece
    if current or not words:
        words.append(f"{_PREFIX}{current}{_SUFFIX}")
    return words


def _tokens(text: str, size: int) -> list[str]:
    """Words, with each run of words needing encoding made into encoded-words.

    Whitespace between two encoded-words disappears when decoded, so a run of non-ASCII
    words is encoded together, its inner spaces inside the encoded text.
    """
    out: list[str] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            out.extend(_encoded_words(" ".join(run), size))
            run.clear()

    for word in text.split(" "):
        if word.isascii() and not _ENCODED_WORD.search(word) and len(word) <= size:
            flush()
            out.append(word)
        else:
            run.append(word)
    flush()
    return out


def _room(name: str) -> int:
    """The longest word that still fits on a header's first line."""
    return LINE - len(name) - 2


def fold_text(name: str, value: str) -> str:
    """An unstructured header value (Subject), folded at spaces to lines of at most 78.

    Only words that need it are encoded, a literal `=?…?=` in a title included, so the
    subject decodes to exactly `clean_header(value)`; folding only puts CRLF before a
    space that was there, so unfolding gives the same single spaces back.
    """
    return _fold(len(name) + 2, _tokens(clean_header(value), _room(name)))


def _fold(used: int, tokens: list[str]) -> str:
    lines: list[str] = []
    line = ""
    for token in tokens:
        if line and used + len(line) + 1 + len(token) > LINE:
            lines.append(line)
            line, used = "", 1
        line = f"{line} {token}" if line else token
    lines.append(line)
    return "\r\n ".join(lines)


def phrase(name: str, size: int = 75) -> str:
    """A display name as the wire must carry it: as is, quoted, or as encoded-words.

    A name that holds `=?` is always encoded, so what a reader decodes is the name's own
    text, never what an encoded-word inside it would decode to.
    """
    name = clean_header(name)
    if not name:
        return ""
    if "=?" not in name and name.isascii():
        if _ATOM.fullmatch(name) and not name.startswith(" "):
            return name
        return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return " ".join(_encoded_words(name, size))


def mailbox(name: str | None, addr_spec: str, header: str = "To") -> str:
    """`Name <addr>` folded between encoded-words; `addr_spec` must already be valid."""
    if breaks_lines(addr_spec) or any(c in addr_spec for c in "<>, \"()"):
        raise ValueError(f"not a usable address: {addr_spec!r}")
    shown = phrase(name or "", _room(header))
    if not shown:
        return addr_spec
    return _fold(len(header) + 2, [*shown.split(" "), f"<{addr_spec}>"]) \
        if "=?" in shown else f"{shown} <{addr_spec}>"
