"""Which charset a feed is really in, when the server's `Content-Type` says otherwise.

A web server misconfigured once (`charset=utf-16` on every response, say) must not cost a
feed whose bytes are plainly something else. As browsers do, the header is tried first;
when the body does not decode under it as an XML document, the document's own XML
declaration is tried, then the charset the bytes look like (charset-normalizer). What was
chosen comes back with a warning for the log, so the site's owner can fix the header.
"""

from __future__ import annotations

import re

_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]{0,200}?encoding\s*=\s*["']([A-Za-z0-9._:-]{1,40})""")
_CHARSET = re.compile(r""";\s*charset\s*=\s*["']?([^"';\s]+)["']?""", re.IGNORECASE)
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")


def declared_charset(content_type: str) -> str | None:
    """The `charset` parameter of a `Content-Type` header, if any."""
    found = _CHARSET.search(content_type or "")
    return found.group(1) if found else None


def reads_as(body: bytes, charset: str) -> bool:
    """Whether `body` decodes under `charset` without error into text that opens as markup."""
    try:
        text = body.decode(charset)
    except (LookupError, UnicodeError, ValueError):
        return False
    return text.lstrip("\ufeff \t\r\n").startswith("<")


def settle(body: bytes, content_type: str) -> tuple[str, str | None]:
    """The `Content-Type` to parse `body` with, and a warning when the header's charset was
    wrong (None when it was right, absent, or no better charset was found)."""
    header = declared_charset(content_type)
    if header is None or body.startswith(_BOMS) or reads_as(body, header):
        return content_type, None  # a byte-order mark is read by the parser before any header
    candidates: list[tuple[str, str]] = []
    declaration = _XML_ENCODING.match(body.replace(b"\x00", b""))
    if declaration:
        candidates.append((declaration.group(1).decode("ascii"), "its XML declaration"))
    from charset_normalizer import from_bytes

    best = from_bytes(body[:200_000]).best()
    if best is not None:
        candidates.append((best.encoding, "the bytes (sniffed)"))
    for charset, where in candidates:
        if charset.lower() != header.lower() and reads_as(body, charset):
            fixed = _CHARSET.sub("", content_type) + f"; charset={charset}"
            return fixed, (f"the server declared charset={header} but the body is not "
                           f"{header}; read as {charset}, from {where} — the site's "
                           "Content-Type header should be fixed")
    return content_type, None
