"""Connection lanes: one small HTTP client per fetch slot, each keeping one connection alive,
and a slot's lane chosen by the host it last talked to.

Why not one pooled client: httpcore's pool examines every connection it holds (a socket
readability test each) whenever it assigns a request, so one pool keeping 32 connections
to a site with a thousand feeds paid 32 checks per conditional GET, more CPU than the
connects keep-alive saved. A lane has one connection, so a request checks one; and a lane
belongs to one fetch slot at a time (`bot.ingest.Limiter` hands it out with the slot), so no
two requests ever wait for the same connection.

There are as many lanes as fetch slots (`bot.poll_concurrency`), made once, not one per
host: a thousand hosts polled in turn reuse the same clients (a client per host cost more
to make and close than its connection saved) and never hold more idle sockets than there
are slots. A slot takes the free lane that last talked to its host, so a site with many
feeds keeps its connections warm; else the lane free the longest, whose connection is then
replaced. All lanes share the process's one TLS context (`bot.tls`): building one loads the
CA bundle (~25 ms of CPU, ~1.2 MB).
"""

from __future__ import annotations

from collections import OrderedDict

import httpx

from bot import tls

KEEP_IDLE = 60.0
"""Seconds a lane's idle connection is reused. httpx's default (5 s) is the interval of a
feed polled every 5 s (plus jitter), so each of its polls opened a new connection (a
connect and a socket, ≈ 1 ms of CPU; with TLS, a handshake). A server that closed the
connection meanwhile is noticed before the request (the socket reads as closed) and a new
one is opened; 60 s stays under the idle timeouts of NAT gateways (4–20 min), which drop a
connection without telling either end."""


class Lanes:
    """`size` lane clients made alike; `take` a free one for an origin, `give` it back."""

    def __init__(self, size: int, *, user_agent: str, timeout: float = 20.0,
                 expiry: float = KEEP_IDLE) -> None:
        """`expiry`: seconds an idle connection is kept for reuse (`KEEP_IDLE`)."""
        self.size = size
        self._headers = {"User-Agent": user_agent}
        self._timeout, self._expiry = timeout, expiry
        self._clients: list[httpx.AsyncClient | None] = [None] * size
        self._origin: list[str | None] = [None] * size
        self._free: OrderedDict[int, None] = OrderedDict.fromkeys(range(size))
        """Free lanes, the one given back longest ago first."""
        self.opened = 0
        """Lane clients made so far (a client opens its connection when first used)."""

    def take(self, origin: str) -> tuple[int, httpx.AsyncClient]:
        """A free lane for `origin` ("scheme://host:port"): the one given back last that
        talked to it, else the one free the longest. The caller holds a slot of at most
        `size`, so one is always free."""
        lane = next((n for n in reversed(self._free) if self._origin[n] == origin), None)
        if lane is None:
            lane = next(iter(self._free))
        del self._free[lane]
        self._origin[lane] = origin
        client = self._clients[lane]
        if client is None:
            client = self._clients[lane] = httpx.AsyncClient(
                headers=self._headers, verify=tls.context(),
                timeout=httpx.Timeout(self._timeout),
                limits=httpx.Limits(max_connections=1, max_keepalive_connections=1,
                                    keepalive_expiry=self._expiry))
            self.opened += 1
        return lane, client

    def give(self, lane: int) -> None:
        self._free[lane] = None

    async def aclose(self) -> None:
        for n, client in enumerate(self._clients):
            self._clients[n] = None
            if client is not None:
                await client.aclose()

    async def __aenter__(self) -> Lanes:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()
