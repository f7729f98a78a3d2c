"""A WebSub hub for the tests: a real HTTP server on 127.0.0.1 that does what the W3C
recommendation asks of a hub — takes form-encoded (un)subscription requests (202), then
verifies the subscriber's intent with a GET carrying a random challenge that must come
back exactly, and pushes content with an `X-Hub-Signature: sha256=…` HMAC of the body.
It keeps its own records so tests read what the hub saw, not what the bot thinks.

`hold = True` keeps accepted requests unverified until `release()` (a slow hub: the bot's
request stays pending for as long as a test needs); `deny = True` answers them with a
`hub.mode=denied` GET instead; a subscriber answering a push with 410 is dropped, as the
recommendation allows.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route


@dataclass
class Subscription:
    callback: str
    topic: str
    secret: str
    lease: int
    verified: bool = False


@dataclass
class Hub:
    lease: int = 3600
    refuse: bool = False
    hold: bool = False
    deny: bool = False
    held: list[tuple[Subscription, str]] = field(default_factory=list)
    requests: list[dict[str, str]] = field(default_factory=list)
    verifications: list[dict[str, Any]] = field(default_factory=list)
    subscriptions: dict[tuple[str, str], Subscription] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def push(self, topic: str, body: bytes, *, content_type: str = "application/rss+xml",
             secret: str | None = None) -> list[int]:
        """Deliver `body` to every verified subscriber of `topic`; their HTTP statuses.
        `secret` signs with another key (a forged push)."""
        with self.lock:
            targets = [s for s in self.subscriptions.values() if s.topic == topic
                       and s.verified]
        statuses = []
        for sub in targets:
            key = (secret or sub.secret).encode()
            signature = "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()
            response = httpx.post(sub.callback, content=body, timeout=10, headers={
                "Content-Type": content_type, "X-Hub-Signature": signature,
                "Link": f'<{topic}>; rel="self"'})
            statuses.append(response.status_code)
            if response.status_code == 410:  # "the hub MAY terminate the subscription"
                with self.lock:
                    self.subscriptions.pop((sub.callback, sub.topic), None)
        return statuses

    def release(self) -> None:
        """Verify the requests kept back by `hold`, now."""
        with self.lock:
            held, self.held = self.held, []
        for sub, mode in held:
            verify(self, sub, mode)


def verify(hub: Hub, sub: Subscription, mode: str) -> None:
    """Check the subscriber's intent (or tell it of a denial) with a GET to its callback."""
    challenge = secrets.token_urlsafe(16)
    if hub.deny and mode == "subscribe":
        params = {"hub.mode": "denied", "hub.topic": sub.topic,
                  "hub.reason": "not on the list"}
    else:
        params = {"hub.mode": mode, "hub.topic": sub.topic, "hub.challenge": challenge,
                  "hub.lease_seconds": str(sub.lease)}
    try:
        response = httpx.get(sub.callback, params=params, timeout=10)
        ok = 200 <= response.status_code < 300 and (
            params["hub.mode"] == "denied" or response.text == challenge)
        status: int | str = response.status_code
    except httpx.HTTPError as exc:
        ok, status = False, type(exc).__name__
    with hub.lock:
        hub.verifications.append({"callback": sub.callback, "topic": sub.topic,
                                  "mode": params["hub.mode"], "status": status, "ok": ok})
        if ok and params["hub.mode"] == "subscribe":
            sub.verified = True
            hub.subscriptions[(sub.callback, sub.topic)] = sub
        if ok and mode == "unsubscribe":
            hub.subscriptions.pop((sub.callback, sub.topic), None)


def make_app(hub: Hub) -> Starlette:
    async def subscribe(request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        with hub.lock:
            hub.requests.append(form)
        mode, callback, topic = (form.get("hub.mode"), form.get("hub.callback", ""),
                                 form.get("hub.topic", ""))
        if mode not in ("subscribe", "unsubscribe") or not callback.startswith(
                ("http://", "https://")) or not topic:
            return PlainTextResponse("bad request", status_code=400)
        if hub.refuse:
            return PlainTextResponse("not accepting subscriptions", status_code=403)
        secret = form.get("hub.secret", "")
        if len(secret.encode()) >= 200:  # the recommendation's limit
            return PlainTextResponse("secret too long", status_code=400)
        sub = Subscription(callback, topic, secret, hub.lease)
        if hub.hold:
            with hub.lock:
                hub.held.append((sub, mode))
            return Response(status_code=202)
        # a sync task: starlette runs it in a worker thread, after the 202 has gone out
        return Response(status_code=202, background=BackgroundTask(verify, hub, sub, mode))

    return Starlette(routes=[Route("/hub", subscribe, methods=["POST"])])
