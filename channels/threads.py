"""Long text as a thread: where a text is cut into posts that each fit, for every platform.

Mastodon (`thread = true`) and Bluesky (the same option) cut alike, so a team sees the same
parts on both: at a paragraph, else a sentence, else a word — never inside a URL, mention
or hashtag, which hold no whitespace — counted as the platform counts (`bot.fit.count`,
each URL at its weight). The renderer lets a threaded text grow to `THREAD_PARTS` posts.
"""

from __future__ import annotations

from dataclasses import replace

import regex

from bot.fit import count
from channels.base import Limits, Permanent

THREAD_PARTS = 4
"""Posts a thread may take: the renderer's budget is this many times one post's."""

HINT = "shorten the text and approve again"

_CUTS = (regex.compile(r"\n\s*\n"), regex.compile(r"(?<=[.!?…])\s+"), regex.compile(r"\s+"))


def thread_limits(single: Limits) -> Limits:
    """What the core renders against when long text goes out as a thread: up to
    `THREAD_PARTS` posts, with a warning past the first."""
    if single.max_chars is None:
        return single
    return replace(single, max_chars=single.max_chars * THREAD_PARTS,
                   soft_chars=single.max_chars, thread=True)


def split_thread(text: str, limits: Limits, hint: str = HINT) -> list[str]:
    """Cut `text` into posts of at most `limits.max_chars`: at paragraphs, else sentences,
    else words. A single word longer than a post is refused with `hint` (the core should
    have shortened it)."""
    budget = limits.max_chars or 500
    parts: list[str] = []
    rest = text.strip()
    while rest and count(rest, limits) > budget:
        cut = None
        for pattern in _CUTS:
            fitting = [m for m in pattern.finditer(rest)
                       if m.start() > 0 and count(rest[:m.start()], limits) <= budget]
            # A paragraph or sentence cut that leaves a stub of a post is worse than a word cut.
            if fitting and (pattern is _CUTS[-1]
                            or count(rest[:fitting[-1].start()], limits) >= budget // 2):
                cut = fitting[-1]
                break
        if cut is None:
            raise Permanent(f"a word of the post is longer than one post ({budget} characters)",
                            hint)
        parts.append(rest[:cut.start()].rstrip())
        rest = rest[cut.end():].strip()
    if rest:
        parts.append(rest)
    return parts
