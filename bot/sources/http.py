"""Fetch a URL the careful way: conditional GET, redirect limit, size cap, http(s) only.

Feeds come from servers we don't control. Every fetch is bounded in time and bytes,
follows at most N redirects (never to a non-http scheme), and reports a 304 as
"unchanged" so the caller keeps its validators. Every hop — the configured URL and each
redirect — must be a public address (`bot.netguard`), except the one host a source
declares private (`allow_private`): a feed host must not be able to point pressbot at
its own network. Errors show URLs without credentials or query strings, and say no more
about a failed connection than that it failed.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from bot.errors import SourceError
from bot.netguard import NotPublicURL, check_public
from bot.redact import safe_url


@dataclass
class Fetched:
    """The outcome of one conditional GET."""

    url: str
    status: int
    body: bytes = b""
    content_type: str = ""
    etag: str | None = None
    last_modified: str | None = None
    content_location: str | None = None
    link: str | None = None  # the Link header: WebSub hubs may be named there

    @property
    def unchanged(self) -> bool:
        return self.status == 304


@dataclass
class Progress:
    """How far a fetch has got, for `bot.ingest._Slot.shared`: a server that sent its
    answer's head and then trickles has shown what it is; one that sent nothing yet may
    be slow to make the feed, or this process slow to read it."""

    head_at: float | None = None
    """When the answer's head came (the event loop's time)."""
    received: int = 0
    """Bytes of the body so far."""


async def fetch(client: httpx.AsyncClient, url: str, *, etag: str | None = None,
                last_modified: str | None = None, max_bytes: int = 10_000_000,
                max_redirects: int = 5, timeout: float = 20.0,
                private_host: str | None = None, progress: Progress | None = None) -> Fetched:
    """GET `url`; raise SourceError with a reason a person understands on any failure.

    `private_host`: the one host that may be on a private network (the source said so).
    """
    headers = {"Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, "
                         "text/xml;q=0.8, */*;q=0.5"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    current = url   # shown in errors as `safe_url(current)`, worked out only for an error
    for _ in range(max_redirects + 1):
        if progress is not None:   # each hop is judged on its own
            progress.head_at, progress.received = None, 0
        if not current.lower().startswith(("http://", "https://")):
            raise SourceError(f"{safe_url(url)}: refusing to fetch a non-http(s) URL: "
                              f"{safe_url(current)!r}")
        if private_host is None or urlsplit(current).hostname != private_host:
            try:
                await check_public(current, allow_private=False)
            except NotPublicURL:
                raise SourceError(f"{safe_url(url)}: refusing to fetch {safe_url(current)}: "
                                  "not a public address (set allow_private = true on the "
                                  "source if the feed itself is on your network)") from None
        try:
            async with client.stream("GET", current, headers=headers, timeout=timeout,
                                     follow_redirects=False) as response:
                if progress is not None:
                    progress.head_at = asyncio.get_running_loop().time()
                if response.has_redirect_location or response.status_code == 304:
                    # read the (empty or tiny) body to its end: a response left unread
                    # closes its connection, and the next poll pays a new one
                    await _drain(response)
                if response.has_redirect_location:
                    location = response.headers.get("location", "")
                    current = urljoin(current, location)
                    continue
                if response.status_code == 304:
                    return Fetched(current, 304, etag=response.headers.get("etag") or etag,
                                   last_modified=last_modified)
                if response.status_code >= 400:
                    raise SourceError(f"{safe_url(current)}: server answered HTTP "
                                      f"{response.status_code}")
                declared = response.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > max_bytes:
                    raise SourceError(f"{safe_url(current)}: response of {int(declared):,} "
                                      f"bytes is over the limit of {max_bytes:,} "
                                      "(sources.*.max_bytes)")
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if progress is not None:
                        progress.received = size
                    if size > max_bytes:
                        raise SourceError(f"{safe_url(current)}: response is over the limit of "
                                          f"{max_bytes:,} bytes (sources.*.max_bytes)")
                    chunks.append(chunk)
                return Fetched(
                    current, response.status_code, b"".join(chunks),
                    response.headers.get("content-type", ""),
                    response.headers.get("etag"), response.headers.get("last-modified"),
                    response.headers.get("content-location"),
                    ", ".join(response.headers.get_list("link")) or None,
                )
        except httpx.TimeoutException:
            raise SourceError(f"{safe_url(current)}: no answer within {timeout:g} s") from None
        except httpx.DecodingError:
            raise SourceError(f"{safe_url(current)}: response could not be decoded") from None
        except httpx.HTTPError:
            raise SourceError(f"{safe_url(current)}: could not fetch (connection "
                              "failed)") from None
    raise SourceError(f"{safe_url(url)}: more than {max_redirects} redirects "
                      "(sources.*.max_redirects)")


_DRAIN_LIMIT = 64 * 1024


async def _drain(response: httpx.Response) -> None:
    """Read a body that should be empty or small, up to a bound, so the connection can be
    kept alive; a bigger one is left, and its connection closed."""
    size = 0
    async for chunk in response.aiter_raw():
        size += len(chunk)
        if size > _DRAIN_LIMIT:
            return
