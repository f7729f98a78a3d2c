"""The service's web port: bound at start, the review page built when someone first needs it.

The review page (Starlette, Jinja2, its views, the picture and upload handling) is about
3 MB of the service's resident memory and ~600 ms of imports, and most hours nobody opens
it: a container's HEALTHCHECK asks `/healthz` every 30 s and a Prometheus server scrapes
`/metrics`, neither signed in. So uvicorn serves this ASGI callable from the start (the
port is bound, and taken, at start as before); it answers those two itself, anonymously,
with the bytes the full app would send, and builds the app (`bot.web.app.create_app`) on
the first request for anything else, or for `/healthz` with a token or a session. Building
it touches nothing that could be wrong in the config (pydantic checked that at load), so
nothing that used to fail at start now fails later; a build that fails (a database down at
that moment) answers 500 and is tried again on the next request.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from bot.config import Config
from bot.store import Store

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

log = logging.getLogger("pressbot.web")
COOKIE = b"pressbot_session"
"""`bot.web.sessions.COOKIE`, as bytes (that module loads itsdangerous)."""


class Front:
    """An ASGI app that stands in for the review page until a request needs it."""

    def __init__(self, config: Config, store: Store, *, health: Any) -> None:
        self.config = config
        self.store = store
        self.health = health
        self.app: ASGIApp | None = None
        self._building = asyncio.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.app is None and _anonymous_get(scope):
            if scope["path"] == "/healthz":
                await self._healthz(send)
                return
            if scope["path"] == "/metrics":
                await self._metrics(send)
                return
        app = self.app or await self._build()
        if app is None:
            await _answer(send, 500, b"text/plain; charset=utf-8",
                          b"The review page could not start; the error was logged.")
            return
        await app(scope, receive, send)

    async def _build(self) -> ASGIApp | None:
        async with self._building:
            if self.app is None:
                try:  # in a thread: the imports take the event loop's polls hostage otherwise
                    self.app = await asyncio.to_thread(self._create)
                except Exception:
                    log.exception("the review page could not be built")
                    return None
                log.debug("review page built")
        return self.app

    def _create(self) -> ASGIApp:
        from bot.web.app import create_app

        return create_app(self.config, self.store, health=self.health)

    async def _healthz(self, send: Send) -> None:
        """The stranger's `/healthz` of `bot.web.app`: whether all is well, not why."""
        ok, data = await asyncio.to_thread(self.health.report)
        body = json.dumps({"ok": ok, "status": data.get("status")}, ensure_ascii=False,
                          allow_nan=False, separators=(",", ":")).encode()
        await _answer(send, 200 if ok else 503, b"application/json", body)

    async def _metrics(self, send: Send) -> None:
        from bot import metrics

        body = await asyncio.to_thread(metrics.render)  # the queue gauges read the store
        await _answer(send, 200, b"text/plain; version=0.0.4; charset=utf-8", body)


def _anonymous_get(scope: Scope) -> bool:
    """A GET without a session cookie or an Authorization header: what a probe sends."""
    if scope["type"] != "http" or scope["method"] != "GET":
        return False
    for name, value in scope["headers"]:
        if name == b"authorization" or (name == b"cookie" and COOKIE in value):
            return False
    return True


async def _answer(send: Send, status: int, content_type: bytes, body: bytes) -> None:
    """A whole response with the headers `bot.web.security.SecurityHeaders` adds to every
    answer of the full app."""
    from bot.web.security import HEADERS

    headers = [(b"content-length", str(len(body)).encode()), (b"content-type", content_type),
               *((name.encode(), value.encode()) for name, value in HEADERS.items()),
               (b"cache-control", b"no-store")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
