"""Connection lanes: one small HTTP client per fetch slot of a host, each keeping one
connection alive.

Why not one pooled client: httpcore's pool examines every connection it holds (a socket
readability test each) whenever it assigns a request, so one pool keeping 32 connections
to a site with a thousand feeds paid 32 checks per conditional GET, more CPU than the
connects keep-alive saved. A lane has one connection, so a request checks one; and a lane
belongs to one fetch slot at a time (`bot.ingest.Limiter` hands out the lane with the
slot), so no two requests ever wait for the same connection.

Lanes are created on first use and at most `keep` stay open: past that, the least lately
used idle lane is closed (a thousand hosts must not mean a thousand idle sockets). All
lanes share one TLS context (`tls_context`): building one loads the CA bundle (~25 ms
of CPU), which a client per lane, or per `pressbot fetch` cycle, would otherwise pay.
"""

from __future__ import annotations

import functools
import ssl
from collections import OrderedDict

import httpx

Key = tuple[str, str, int]
"""(scheme, host[:port], lane number)."""


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The process's one TLS context for fetching: httpx's default (certifi's CAs, or
    SSL_CERT_FILE / SSL_CERT_DIR when set), built once."""
    return httpx.create_ssl_context()


class Lanes:
    """The lane clients of every host, made alike; `take` one for a slot, `give` it back."""

    def __init__(self, *, user_agent: str, keep: int, timeout: float = 20.0,
                 expiry: float = 5.0) -> None:
        """`expiry`: seconds an idle connection is kept (httpx's default; servers often
        close theirs sooner)."""
        self._headers = {"User-Agent": user_agent}
        self._timeout, self._expiry = timeout, expiry
        self._keep = keep
        self._clients: OrderedDict[Key, httpx.AsyncClient] = OrderedDict()
        self._busy: set[Key] = set()
        self.opened = 0
        """Lane clients created so far (a client opens its connection when first used)."""

    async def take(self, key: Key) -> httpx.AsyncClient:
        """The lane's client, marked busy until `give`; may close an idle lane first."""
        client = self._clients.get(key)
        if client is None:
            await self._trim(self._keep - 1)
            client = self._clients[key] = httpx.AsyncClient(
                headers=self._headers, verify=tls_context(),
                timeout=httpx.Timeout(self._timeout),
                limits=httpx.Limits(max_connections=1, max_keepalive_connections=1,
                                    keepalive_expiry=self._expiry))
            self.opened += 1
        else:
            self._clients.move_to_end(key)
        self._busy.add(key)
        return client

    @property
    def open(self) -> int:
        """Lane clients open now (each holds at most one connection)."""
        return len(self._clients)

    def give(self, key: Key) -> None:
        self._busy.discard(key)

    async def _trim(self, size: int) -> None:
        """Close the least lately used idle lanes until at most `size` are open; each is
        taken out before its close is awaited, so two trims never close the same one."""
        while len(self._clients) > size:
            idle = next((k for k in self._clients if k not in self._busy), None)
            if idle is None:
                return
            await self._clients.pop(idle).aclose()

    async def aclose(self) -> None:
        self._busy.clear()
        await self._trim(0)

    async def __aenter__(self) -> Lanes:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()
