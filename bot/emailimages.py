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

_IMG = re.compile(r"""<img\b((?:[^>"']|"[^"]*"|'[^']*')*)>""", re.I)
_ATTR = re.compile(r"""\s*([^\s=>/"']+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s>"']+))?|\s*/""")
_PIXELS = re.compile(r"\s*(\d{1,5})\s*(?:px)?\s*")


def _pixels(value: str | None) -> int | None:
    found = _PIXELS.fullmatch((value or "").strip("\"'"))
    return int(found.group(1)) if found and int(found.group(1)) > 0 else None


def _fit(attributes: str, most: int) -> str:
    """One tag's attributes, read in order (a quoted value is never searched inside), its
    `width` and `height` replaced."""
    kept: list[str] = []
    sizes: dict[str, int | None] = {}
    for found in _ATTR.finditer(attributes):
        name, value = found.group(1), found.group(2)
        if name is None:
            continue  # the "/" of "<img … />"
        if name.lower() in ("width", "height"):
            sizes[name.lower()] = _pixels(value)
        else:
            kept.append(f" {name}" if value is None else f" {name}={value}")
    width, height = sizes.get("width"), sizes.get("height")
    new_width = min(width, most) if width else most
    kept.append(f' width="{new_width}"')
    if width and height:
        kept.append(f' height="{round(height * new_width / width)}"')
    return f"<img{''.join(kept)}>"


def fit_images(html: str, most: int = CONTENT_WIDTH) -> str:
    """`html` with every `<img>` at most `most` px wide (by its `width` attribute)."""
    return _IMG.sub(lambda m: _fit(m.group(1), most), html)
