"""Turn a release's free-form tags into hashtags Mastodon will link.

Press teams tag with phrases ("cross-border cooperation", "EU funding"); a hashtag is one run of
letters, digits and underscores with at least one letter. Multi-word tags become CamelCase, which
screen readers can pronounce, and capitals already inside a word are kept ("EU" stays "EU").
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

import regex

# Mastodon's hashtag characters: Unicode word characters (letters, marks, decimal digits, "_").
_WORD = regex.compile(r"[\p{L}\p{M}\p{Nd}_]+")
_APOSTROPHES = regex.compile(r"(?<=\p{L})['’ʼ](?=\p{L})")
_LETTER = regex.compile(r"\p{L}")


def hashtag(tag: str) -> str | None:
    """`#Tag` for `tag`, or None when no letter survives (e.g. "2024", "!!!").

    >>> hashtag("cross-border cooperation")
    '#CrossBorderCooperation'
    """
    text = unicodedata.normalize("NFC", tag)
    text = _APOSTROPHES.sub("", text)  # "women's rights" → WomensRights, not WomenSRights
    words = _WORD.findall(text)
    if not words:
        return None
    # One word keeps its case ("#climate"); several become CamelCase, inner capitals kept.
    name = words[0] if len(words) == 1 else "".join(w[:1].upper() + w[1:] for w in words)
    if not _LETTER.search(name):
        return None
    return "#" + name


def hashtags(tags: Iterable[str], limit: int | None = None) -> list[str]:
    """Valid hashtags for `tags`, in order, without case-insensitive duplicates, at most `limit`."""
    seen: set[str] = set()
    result: list[str] = []
    for tag in tags:
        if limit is not None and len(result) >= limit:
            break
        made = hashtag(tag)
        if made is None or made.casefold() in seen:
            continue
        seen.add(made.casefold())
        result.append(made)
    return result
