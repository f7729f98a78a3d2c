"""Browser-side defences every response carries, and the brake on password guessing.

The headers are set by one ASGI middleware so no route can forget them; a route that
needs other ones (the email preview, which must be framed by our own page) sets its own
and the middleware leaves those alone.

Failed sign-ins are counted in process memory per account name and per client address:
the page is used by a handful of people, and a restart forgetting the counts is harmless
(what must survive one, the addresses each account signed in from, is in the store).
"""

from __future__ import annotations

import contextlib
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
    """Counts failed sign-ins per key and refuses a key that reached `limit` within
    `window` seconds.

    `attempt` checks and counts in one step, before the password is hashed: twenty
    simultaneous guesses get `limit` tries, not twenty. A success takes its attempt back.
    """

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

    def attempt(self, limits: dict[str, int]) -> tuple[float | None, float]:
        """Count an attempt against every key (each with its own limit) unless one is
        already at its limit; returns (seconds to wait or None, the attempt's stamp)."""
        now = self.clock()
        with self._lock:
            waits = [stamps[0] + self.window - now for key, limit in limits.items()
                     if len(stamps := self._recent(key, now)) >= limit]
            if waits:
                return max(waits), now
            for key in limits:
                self._recent(key, now).append(now)
        return None, now

    def retry_after(self, *keys: str) -> float | None:
        """Seconds until the most limited of `keys` may try again; None when none is limited."""
        now = self.clock()
        with self._lock:
            waits = [stamps[0] + self.window - now for key in keys
                     if len(stamps := self._recent(key, now)) >= self.limit]
        return max(waits) if waits else None

    def failed(self, *keys: str) -> None:
        now = self.clock()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)

    def succeeded(self, stamp: float, *keys: str) -> None:
        """Take back an attempt that turned out right (and clear the keys given)."""
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)
            for stamps in self._failures.values():
                with contextlib.suppress(ValueError):
                    stamps.remove(stamp)

    def forget(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)


class BodyLimit:
    """Refuses request bodies over a size before anything reads them (413).

    Forms are parsed whole into memory; without a cap, a few hundred 1 MB posts to a public
    page cost hundreds of megabytes before any token was checked. Staff pages (long post
    texts) get `staff` bytes, every other path `public`.
    """

    STAFF_PREFIXES = ("/posts/", "/users", "/channels/")

    UPLOAD_SUFFIX = "/pictures/upload"
    """Picture uploads: `bot.pictures.UPLOAD_MAX` and the form around it."""

    def __init__(self, app: ASGIApp, *, staff: int = 1_000_000, public: int = 64_000,
                 upload: int = 8 * 1024 * 1024 + 64_000) -> None:
        self.app = app
        self.staff = staff
        self.public = public
        self.upload = upload

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = self.staff if scope["path"].startswith(self.STAFF_PREFIXES) else self.public
        if limit == self.staff and scope["path"].endswith(self.UPLOAD_SUFFIX):
            limit = self.upload
        declared = dict(scope.get("headers", [])).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await _too_large(send, limit)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await _too_large(send, limit)


class _TooLarge(Exception):
    pass


async def _too_large(send: Send, limit: int) -> None:
    body = f"Request body over {limit:,} bytes.".encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()),
                            *[(k.encode(), v.encode()) for k, v in HEADERS.items()]]})
    await send({"type": "http.response.body", "body": body})
