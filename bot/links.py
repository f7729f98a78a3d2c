"""Small URL helpers: campaign tags on outgoing links, and one spelling of a URL for dedup.

`add_utm` edits a link people will click, so it is conservative: it appends only what was asked,
leaves the rest of the URL byte for byte as it was, and never overrides a campaign tag the press
team already put in the link. `normalise_url` is the opposite: a lossy key for "is this the same
page?", never a link to hand out.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import quote_plus, urlsplit, urlunsplit

_HTTP = ("http", "https")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_SPACE = re.compile(r"\s")


def is_http_url(value: str) -> bool:
    """True for an absolute http(s) URL with a host and no whitespace."""
    if not value or _SPACE.search(value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme.lower() in _HTTP and bool(parts.hostname)


def _keys(query: str) -> set[str]:
    return {piece.split("=", 1)[0].lower() for piece in query.split("&") if piece}


def add_utm(url: str, source: str | None, medium: str | None, campaign: str | None) -> str:
    """`url` with `utm_source`, `utm_medium`, `utm_campaign` added where given and not present.

    Existing query parameters and the fragment are kept as they were; non-http(s) URLs (mailto:,
    relative paths) come back unchanged.
    """
    if not is_http_url(url):
        return url
    parts = urlsplit(url)
    present = _keys(parts.query)
    wanted = (("utm_source", source), ("utm_medium", medium), ("utm_campaign", campaign))
    added = [f"{key}={quote_plus(value)}" for key, value in wanted
             if value and key not in present]
    if not added:
        return url
    query = "&".join([parts.query.rstrip("&"), *added] if parts.query.rstrip("&") else added)
    path = parts.path or "/"  # "https://a.org?x" reads oddly; "/" is the same resource
    return urlunsplit((parts.scheme, parts.netloc, path, query, parts.fragment))


@lru_cache(maxsize=4096)  # a pure function, asked about the same links again and again
def normalise_url(url: str) -> str:
    """A key for deduplication: the same page gives the same string.

    Lowercases scheme and host, drops the default port, the fragment and `utm_*` parameters, and
    a trailing slash (the root path stays "/"). Non-http(s) input comes back stripped only.
    """
    url = url.strip()
    if not is_http_url(url):
        return url
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    if parts.username is not None:
        userinfo = parts.netloc.rpartition("@")[0]
        netloc = f"{userinfo}@{netloc}"
    path = parts.path.rstrip("/") or "/"
    query = "&".join(piece for piece in parts.query.split("&")
                     if piece and not piece.lower().startswith("utm_"))
    return urlunsplit((scheme, netloc, path, query, ""))
