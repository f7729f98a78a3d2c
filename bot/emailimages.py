"""Pictures in an email's text, sized to the cell they sit in.

Outlook for Windows draws a picture at its `width` attribute, or at its natural size
without one, and ignores CSS `max-width`: a 1200 px photo in a release would push the
600 px card past the window. So every `<img>` of a body gets a `width` no larger than the
content cell (`CONTENT_WIDTH`), its `height` scaled with it; the layout's CSS adds
`max-width:100%; height:auto` for the clients that read it (phones narrower than 600 px).
A picture without a width is given the cell's: a press photo is rarely smaller.
"""

from __future__ import annotations

import re

CONTENT_WIDTH = 552
"""The content cell (`td.inner`) of `templates/email/_layout.html.j2`: 600 px less 2 × 24."""

_IMG = re.compile(r"""<img\b(?:[^>"']|"[^"]*"|'[^']*')*>""", re.I)
_SIZE = re.compile(r"""\s(width|height)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+))""", re.I)
_PIXELS = re.compile(r"\s*(\d{1,5})\s*(?:px)?\s*")


def _pixels(value: str | None) -> int | None:
    found = _PIXELS.fullmatch(value or "")
    return int(found.group(1)) if found and int(found.group(1)) > 0 else None


def _fit(tag: str, most: int) -> str:
    sizes = {m.group(1).lower(): _pixels(m.group(2) or m.group(3) or m.group(4))
             for m in _SIZE.finditer(tag)}
    width, height = sizes.get("width"), sizes.get("height")
    new_width = min(width, most) if width else most
    new_height = round(height * new_width / width) if width and height else None
    bare = _SIZE.sub("", tag)
    end = "/>" if bare.endswith("/>") else ">"
    size = f' width="{new_width}"' + (f' height="{new_height}"' if new_height else "")
    return bare[: -len(end)].rstrip() + size + end


def fit_images(html: str, most: int = CONTENT_WIDTH) -> str:
    """`html` with every `<img>` at most `most` px wide (by its `width` attribute)."""
    return _IMG.sub(lambda m: _fit(m.group(0), most), html)
