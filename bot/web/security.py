"""Browser-side defences every response carries, and the brake on password guessing.

The headers are set by one ASGI middleware so no route can forget them; a route that
needs other ones (the email preview, which must be framed by our own page) sets its own
and the middleware leaves those alone.

Failed sign-ins are counted in process memory per account name and per client address:
the page is used by a handful of people, and a restart forgetting the counts is harmless.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import MutableMapping
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:;"
            " frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none';"
            " object-src 'none'")
EMAIL_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src https: http: data:;"
             " frame-ancestors 'self'; form-action 'none'; base-uri 'none'")
"""The email preview: its own inline styles and remote images, never a script."""

HEADERS = {
    "content-security-policy": PAGE_CSP,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
}


class SecurityHeaders:
    """Adds `HEADERS` to every HTTP response that does not set them itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                raw: list[tuple[bytes, bytes]] = list(message.get("headers", []))
                present = {name.lower() for name, _ in raw}
                for name, value in HEADERS.items():
                    if name.encode() not in present:
                        raw.append((name.encode(), value.encode()))
                if b"cache-control" not in present and not scope["path"].startswith("/static/"):
                    raw.append((b"cache-control", b"no-store"))
                message["headers"] = raw
            await send(message)

        await self.app(scope, receive, send_with_headers)


class FailureLimiter:
    """At most `limit` failures per key within `window` seconds; then the key waits."""

    def __init__(self, limit: int = 5, window: float = 15 * 60,
                 clock: Any = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._failures: MutableMapping[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        stamps = self._failures.setdefault(key, deque())
        while stamps and stamps[0] <= now - self.window:
            stamps.popleft()
        return stamps

    def retry_after(self, *keys: str) -> float | None:
        """Seconds until the most limited of `keys` may try again; None when none is limited."""
        now = self.clock()
        waits = []
        with self._lock:
            for key in keys:
                stamps = self._recent(key, now)
                if len(stamps) >= self.limit:
                    waits.append(stamps[0] + self.window - now)
                if not stamps:
                    self._failures.pop(key, None)
        return max(waits) if waits else None

    def failed(self, *keys: str) -> None:
        now = self.clock()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)

    def forget(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)
