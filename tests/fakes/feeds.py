"""A website that serves feeds: ETag/Last-Modified, 304s, redirects, slow and huge answers,
and hostile ones (trickling, endless, dropped mid-answer).

Records every request's headers so tests can prove the client sent `If-None-Match`, and
the client's port, so they can count the TCP connections the requests came over.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import Route


@dataclass
class Page:
    body: bytes
    content_type: str = "application/rss+xml; charset=utf-8"
    etag: bool = True
    last_modified: str | None = "Tue, 10 Mar 2026 08:00:00 GMT"
    status: int = 200
    delay: float = 0.0
    redirect_to: str | None = None
    headers: dict[str, str] = field(default_factory=dict)  # more response headers
    trickle: float = 0.0
    """Seconds between bytes: the head at once, then the body a byte at a time."""
    endless: bool = False
    """Stream `body` again and again (chunked, no length), counted in `FeedSite.sent`."""
    drop: bool = False
    """Send the head and part of the body, then drop the connection."""


@dataclass
class FeedSite:
    pages: dict[str, Page] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    ports: list[int] = field(default_factory=list)
    """The client's port of each request: one port, one TCP connection."""
    lock: threading.Lock = field(default_factory=threading.Lock)
    streaming: set[str] = field(default_factory=set)
    """Paths whose streamed answer (trickle, endless) is being written now."""
    ended: list[str] = field(default_factory=list)
    """Paths whose streamed answer ended, written out or cut by the client hanging up."""
    sent: dict[str, int] = field(default_factory=dict)
    """Body bytes written of each streamed answer (the last one)."""

    def connections(self) -> int:
        """TCP connections the requests so far came over."""
        with self.lock:
            return len(set(self.ports))

    def hits(self, path: str) -> list[dict[str, str]]:
        with self.lock:
            return [h for p, h in self.requests if p == path]


def make_app(site: FeedSite) -> Starlette:
    async def serve(request: Request) -> Response:
        path = "/" + request.path_params["path"]
        with site.lock:
            site.requests.append((path, dict(request.headers)))
            site.ports.append(request.client.port if request.client else 0)
            page = site.pages.get(path)
        if page is None:
            return Response("not found", status_code=404)
        if page.delay:
            await asyncio.sleep(page.delay)
        if page.redirect_to:
            return RedirectResponse(page.redirect_to, status_code=301)
        headers = dict(page.headers)
        if page.etag:
            tag = '"' + hashlib.sha256(page.body).hexdigest()[:16] + '"'
            headers["ETag"] = tag
            if request.headers.get("if-none-match") == tag:
                return Response(status_code=304, headers=headers)
        if page.last_modified:
            headers["Last-Modified"] = page.last_modified
            if not page.etag and request.headers.get("if-modified-since") == page.last_modified:
                return Response(status_code=304, headers=headers)
        if page.trickle or page.endless or page.drop:
            return StreamingResponse(_stream(site, path, page, request),
                                     media_type=page.content_type, headers=headers)
        if page.status == 299:  # a body longer than its Content-Length would admit: stream it
            async def chunks():  # type: ignore[no-untyped-def]
                for _ in range(200):
                    yield page.body
            return StreamingResponse(chunks(), media_type=page.content_type)
        return Response(page.body, status_code=page.status, media_type=page.content_type,
                        headers=headers)

    return Starlette(routes=[Route("/{path:path}", serve)])


async def _stream(site: FeedSite, path: str, page: Page, request: Request
                  ) -> AsyncIterator[bytes]:
    """A streamed answer that ends when the client hangs up (uvicorn would otherwise let it
    write into the closed socket for ever)."""
    with site.lock:
        site.streaming.add(path)
        site.sent[path] = 0
    try:
        if page.drop:
            yield page.body[: len(page.body) // 2]
            raise ConnectionResetError("the feed's server dropped the connection")
        pieces = ([page.body[i:i + 1] for i in range(len(page.body))] if page.trickle
                  else itertools.repeat(page.body))
        for piece in pieces:
            if page.trickle:
                await asyncio.sleep(page.trickle)
            if await request.is_disconnected():
                break
            yield piece
            with site.lock:
                site.sent[path] += len(piece)
    finally:
        with site.lock:
            site.streaming.discard(path)
            site.ended.append(path)


def rss(items: list[dict[str, str]], *, encoding: str = "utf-8", extra: str = "",
        declared: str | None = None) -> bytes:
    """A small RSS 2.0 document; each item dict may hold title, link, guid, pubDate, description."""
    parts = []
    for item in items:
        fields = "".join(f"<{k}>{v}</{k}>" for k, v in item.items() if not k.startswith("_"))
        parts.append(f"<item>{fields}{item.get('_raw', '')}</item>")
    text = (f'<?xml version="1.0" encoding="{declared or encoding}"?>\n'
            '<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/">'
            f"<channel><title>Example news</title><link>https://www.example.org/</link>{extra}"
            + "".join(parts) + "</channel></rss>")
    return text.encode(encoding)
