"""uvicorn's server as the service runs it: without a clock of its own.

uvicorn's `Server.main_loop` wakes ten times a second to look for an exit flag and, once a
second, to stamp the `Date` header every response carries. An idle service paid for those
wake-ups whether or not anyone opened the review page: 0.25 ms of CPU a second, a third of
what an idle service spends (the service with its web page against without, 120 s each).
Here the loop waits until the service cancels it (the service owns SIGTERM and SIGINT), and
the `Date` is stamped when a response reads the default headers, at most once a second.
"""

from __future__ import annotations

import asyncio
import socket
import time
from email.utils import formatdate

import uvicorn
from uvicorn.server import ServerState

Headers = list[tuple[bytes, bytes]]


class _StampedState(ServerState):
    """uvicorn's shared server state whose default headers carry a `Date` of the second the
    response is made (uvicorn's protocols read them once per response)."""

    def __init__(self) -> None:
        self._others: Headers = []
        self._second = -1
        self._stamped: Headers = []
        super().__init__()

    @property
    def default_headers(self) -> Headers:
        second = int(time.time())
        if second != self._second:
            self._second = second
            self._stamped = [(b"date", formatdate(second, usegmt=True).encode()),
                             *self._others]
        return self._stamped

    @default_headers.setter
    def default_headers(self, value: Headers) -> None:
        self._others = [(name, text) for name, text in value if name.lower() != b"date"]
        self._second = -1


class Server(uvicorn.Server):
    """A uvicorn server the service stops by cancelling `serve()`; no periodic wake-up."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.server_state = _StampedState()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        # the headers uvicorn's own loop would have set beside its Date (`server: uvicorn`)
        self.server_state.default_headers = list(self.config.encoded_headers)

    async def main_loop(self) -> None:
        await asyncio.Event().wait()   # until the service cancels `serve()`
