"""Scrub secrets from any text before it is logged, shown or stored as an error.

Secrets are registered once, when the config is loaded; every log record and every
error message that leaves a channel passes through `redact`. Short values are not
registered (they would blank out ordinary words).
"""

from __future__ import annotations

import logging
import re

_secrets: set[str] = set()
_pattern: re.Pattern[str] | None = None
MASK = "[redacted]"


def register(*values: str | None) -> None:
    """Remember secret values so that `redact` can hide them."""
    global _pattern
    added = {v for v in values if v and len(v) >= 6}
    if not added - _secrets:
        return
    _secrets.update(added)
    ordered = sorted(_secrets, key=len, reverse=True)
    _pattern = re.compile("|".join(re.escape(s) for s in ordered))


_USERINFO = re.compile(r"(?i)\b(https?://)[^/\s@]+@")


def safe_url(url: str) -> str:
    """A URL as errors and logs may show it: no user:password part, no query string."""
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
    except ValueError:
        return _USERINFO.sub(r"\1", url.split("?", 1)[0])
    shown = urlunsplit((parts.scheme, host, parts.path, "", ""))
    return shown + ("?…" if parts.query else "")


def redact(text: str) -> str:
    """Return `text` with every registered secret replaced by a mask."""
    if not text:
        return text
    if "@" in text:  # credentials written into a URL never leave, registered or not
        text = _USERINFO.sub(r"\1" + MASK + "@", text)
    if _pattern is None:
        return text
    return _pattern.sub(MASK, text)


class RedactingFilter(logging.Filter):
    """Logging filter that renders the message early and scrubs secrets from it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True
