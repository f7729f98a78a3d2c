"""Post text as Bluesky shows it: short link text, and facets at the right UTF-8 byte offsets.

Bluesky does not find links, hashtags or mentions in a post by itself: the client sends
*facets*, each a `byteStart`/`byteEnd` range over the UTF-8 bytes of the text (not characters,
not UTF-16 units) with a feature (`#link` with the full URI, `#tag` without the `#`, `#mention`
with the account's DID). An offset that is off by one byte makes a broken link, so every range
is computed by encoding the text before it, never by counting characters.

URLs are written the way Bluesky's own app writes them: the text shows a short form (host and
path, at most `SHORT_URL` graphemes ending in "…") and the facet carries the full address, so a
long press-release URL with UTM parameters does not spend a third of the 300 graphemes. The
renderer counts every URL as `SHORT_URL` (`Limits.url_weight`), so what it lets through always
fits once shortened. URLs are found with `bot.fit.find_urls`, the same spans the count used.
Hashtags and mentions follow the rules of Bluesky's app (`#` not after a word, not all digits,
trailing punctuation dropped, at most 64 graphemes; `@` + a domain-like handle).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import regex

from bot.fit import find_urls

SHORT_URL = 30
TAG_MAX = 64
_GRAPHEME = regex.compile(r"\X")
_INVISIBLE = "\u00ad\u2060\u200a\u200b\u200c\u200d\u20e2"
_TAG = regex.compile(
    rf"(?:^|(?<=\s))[#＃]((?!\ufe0f)[^\s{_INVISIBLE}]*[^\d\s\p{{P}}{_INVISIBLE}]+"
    rf"[^\s{_INVISIBLE}]*)")
_TRAILING_PUNCT = regex.compile(r"\p{P}+$")
_MENTION = regex.compile(r"(?:^|(?<=[\s(]))@([a-zA-Z0-9.-]+)\b")
HANDLE = regex.compile(
    r"^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$")


@dataclass(frozen=True)
class RichText:
    """The record's `text` and `facets`, ready to send."""

    text: str
    facets: list[dict[str, Any]]


def short_url(url: str) -> str:
    """`https://www.example.org/news/2026/solar?utm_source=x` → `www.example.org/news/2026/s…`."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]  # never show a user:password@ part
    shown = (host + (parts.path if parts.path != "/" else "")
             + (f"?{parts.query}" if parts.query else "")) or url
    clusters = _GRAPHEME.findall(shown)
    if len(clusters) <= SHORT_URL:
        return shown
    return "".join(clusters[:SHORT_URL - 1]) + "…"


def mentioned_handles(text: str) -> list[str]:
    """Handles written as `@name.domain` outside URLs: the ones to resolve to DIDs."""
    urls = find_urls(text)
    return sorted({m.group(1).rstrip(".").lower() for m in _MENTION.finditer(text)
                   if HANDLE.match(m.group(1).rstrip("."))
                   and not _inside(m.start(), m.end(), urls)})


def build(text: str, dids: dict[str, str] | None = None) -> RichText:
    """The text with short links, and its facets; `dids` maps resolved handles to DIDs."""
    dids = dids or {}
    pieces: list[str] = []
    links: list[tuple[int, int, str]] = []  # character spans in the new text
    position = 0
    length = 0
    for start, end in find_urls(text):
        before = text[position:start]
        shown = short_url(text[start:end])
        pieces += [before, shown]
        length += len(before)
        links.append((length, length + len(shown), text[start:end]))
        length += len(shown)
        position = end
    pieces.append(text[position:])
    out = "".join(pieces)
    spans: list[tuple[int, int, dict[str, Any]]] = [
        (s, e, {"$type": "app.bsky.richtext.facet#link", "uri": uri}) for s, e, uri in links]
    taken = [(s, e) for s, e, _ in links]
    for match in _TAG.finditer(out):
        tag = _TRAILING_PUNCT.sub("", match.group(1).strip())
        if not tag or len(_GRAPHEME.findall(tag)) > TAG_MAX:
            continue
        start, end = match.start(), match.start(1) + len(tag)
        if not _inside(start, end, taken):
            spans.append((start, end, {"$type": "app.bsky.richtext.facet#tag", "tag": tag}))
    for match in _MENTION.finditer(out):
        handle = match.group(1).rstrip(".")
        did = dids.get(handle.lower())
        start, end = match.start(), match.start(1) + len(handle)
        if did and not _inside(start, end, taken):
            spans.append((start, end, {"$type": "app.bsky.richtext.facet#mention", "did": did}))
    spans.sort(key=lambda span: span[0])
    return RichText(out, [_facet(out, s, e, feature) for s, e, feature in spans])


def _facet(text: str, start: int, end: int, feature: dict[str, Any]) -> dict[str, Any]:
    # Byte offsets from the encoded prefix: never from character counts.
    byte_start = len(text[:start].encode("utf-8"))
    byte_end = byte_start + len(text[start:end].encode("utf-8"))
    return {"index": {"byteStart": byte_start, "byteEnd": byte_end}, "features": [feature]}


def _inside(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    return any(s < end and start < e for s, e in spans)
