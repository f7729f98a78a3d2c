"""A release's story without its notes, for the HTML a newsletter shows.

The text path (`bot.sources.extract`) decides which paragraphs are story and which are
notes (about-us blocks, funder notices, addresses, contacts); an HTML body — a feed entry's
content, a Markdown file's rendering — is cut the same way, block by block, so the email
does not carry the footers the plain text left out.
"""

from __future__ import annotations

import re

from bot.htmltext import html_to_text
from bot.sources.extract import line_kind, partition

__all__ = ["html_blocks", "story_html"]

# sanitised HTML (`bot.htmltext.sanitize_html`) has no other block elements
_BLOCK_TAG = re.compile(r"<(/?)(p|ul|ol|h[1-6]|blockquote|div|address)\b[^>]*>", re.I)


def html_blocks(html: str) -> list[str]:
    """The top-level blocks of an HTML fragment, in order; loose text is a block of its own."""
    blocks: list[str] = []
    depth = start = 0
    for m in _BLOCK_TAG.finditer(html):
        if m.group(1):
            depth = max(0, depth - 1)
            if depth == 0:
                blocks.append(html[start:m.end()])
                start = m.end()
        else:
            if depth == 0:
                if html[start:m.start()].strip():
                    blocks.append(html[start:m.start()])
                start = m.start()
            depth += 1
    if html[start:].strip():
        blocks.append(html[start:])
    return blocks


def _kind(text: str) -> str:
    """The kind of a block, from its text (`html_to_text` of the block)."""
    if not text.strip():
        return "text"  # a picture alone: part of wherever it stands
    first = " ".join(text.split("\n", 1)[0].split())
    kind = line_kind(first)
    return line_kind(" ".join(text.split())) if kind in ("text", "bullet") else kind


def story_html(html: str) -> str:
    """The HTML without the blocks `bot.sources.extract` would put in the notes."""
    if not html:
        return html
    blocks = html_blocks(html)
    texts = [html_to_text(b) for b in blocks]   # each block parsed once
    story, _ = partition([" ".join(t.split()) for t in texts], [_kind(t) for t in texts],
                         keep_other=True)
    return "".join(blocks[n] for n in story).strip()
