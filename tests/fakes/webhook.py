"""An incoming-webhook endpoint as Slack, Teams and Matrix hookshot offer: a real HTTP server
on 127.0.0.1 that keeps each JSON body posted to its secret path.

    with FakeWebhook() as hook:
        hook.url                   # the address to configure (with its secret path)
        hook.fail_next = 500       # answer the next POST so, then accept again
        hook.received              # the JSON bodies accepted, oldest first
        hook.wait(1)               # block until that many arrived (an Event, not a sleep)
"""

from __future__ import annotations

import secrets
import threading
from types import TracebackType
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from tests.fakes.server import LiveServer
from tests.helpers import SAFETY


class FakeWebhook:
    def __init__(self) -> None:
        self.path = f"/services/{secrets.token_hex(8)}"
        self.received: list[dict[str, Any]] = []
        self.fail_next: int | None = None
        self._arrived = threading.Condition()
        self._server = LiveServer(Starlette(routes=[Route(self.path, self._hook,
                                                          methods=["POST"])]))

    async def _hook(self, request: Request) -> Response:
        if request.headers.get("content-type") != "application/json":
            return PlainTextResponse("invalid_payload", 400)
        body = await request.json()
        if not isinstance(body, dict) or not isinstance(body.get("text"), str):
            return PlainTextResponse("missing_text", 400)  # as Slack answers
        if self.fail_next is not None:
            status, self.fail_next = self.fail_next, None
            return PlainTextResponse("try later", status)
        with self._arrived:
            self.received.append(body)
            self._arrived.notify_all()
        return PlainTextResponse("ok")

    @property
    def url(self) -> str:
        return self._server.url + self.path

    def wait(self, count: int) -> list[dict[str, Any]]:
        with self._arrived:
            assert self._arrived.wait_for(lambda: len(self.received) >= count, SAFETY), \
                f"the webhook got {len(self.received)} posts, expected {count}"
        return self.received

    def __enter__(self) -> FakeWebhook:
        self._server.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._server.stop()
