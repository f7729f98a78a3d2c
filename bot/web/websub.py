"""The WebSub callback, `/websub/{source}/{nonce}`: hubs verify intents (GET) and push (POST).

No session, no CSRF: a hub is not a browser. A verification counts only with the nonce of
a request we sent (`bot.websub.verify`); a push only with the HMAC signature over the body
(`bot.websub.signature_ok`): one that fails it is acknowledged and dropped. The bare
`/websub/{source}` takes the pushes of subscriptions made before callbacks had a nonce.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot import websub
from bot.config import Config, FeedSourceConfig
from bot.errors import SourceError
from bot.features import takes_pushes
from bot.ingest import SourceReport
from bot.store import Store

log = logging.getLogger("pressbot.websub")


def routes(config: Config, store: Store) -> list[BaseRoute]:
    async def callback(request: Request) -> Response:
        name = request.path_params["source"]
        nonce = request.path_params.get("nonce", "")
        cfg = config.sources.get(name)
        if request.method == "GET":
            mode = request.query_params.get("hub.mode")
            # an unsubscribe also for a source that is gone: its hub must hear we meant it
            if mode != "unsubscribe" and (not isinstance(cfg, FeedSourceConfig)
                                          or not takes_pushes(config, cfg)):
                return PlainTextResponse("no such subscription request", status_code=404)
            status, text = await asyncio.to_thread(websub.verify, store, name, nonce,
                                                   dict(request.query_params))
            return PlainTextResponse(text, status_code=status)
        if not isinstance(cfg, FeedSourceConfig) or not takes_pushes(config, cfg):
            return PlainTextResponse("no such subscription", status_code=404)
        body = await _body(request, cfg.max_bytes)
        if body is None:
            return PlainTextResponse("too large", status_code=413)
        signature = request.headers.get("x-hub-signature")
        if not await asyncio.to_thread(websub.signature_ok, config, store, name, body,
                                       signature):
            log.warning("websub source=%s push with a missing or wrong signature: dropped",
                        name)
            return Response(status_code=202)  # the spec: acknowledge, then ignore
        await asyncio.to_thread(websub.pushed, store, name)
        try:
            report = await asyncio.to_thread(
                _ingest, config, store, name, cfg, body,
                request.headers.get("content-type", "application/xml"))
        except SourceError as exc:
            log.warning("websub source=%s pushed content unreadable: %s", name, exc)
            return Response(status_code=202)
        log.info("websub source=%s push new=%d updated=%d queued=%d", name, report.new,
                 report.updated, report.queued)
        if not await asyncio.to_thread(websub.current_callback, store, name, nonce):
            # signed, so stored; but a callback a renewal replaced: the spec's 410 lets the
            # hub drop that subscription instead of delivering everything twice till it ends
            return Response(status_code=410)
        return Response(status_code=204)

    return [Route("/websub/{source}", callback, methods=["GET", "POST"]),
            Route("/websub/{source}/{nonce}", callback, methods=["GET", "POST"])]


async def _body(request: Request, cap: int) -> bytes | None:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > cap:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > cap:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _ingest(config: Config, store: Store, name: str, cfg: FeedSourceConfig, body: bytes,
            content_type: str) -> SourceReport:
    """Pushed content is a feed document: stored as a poll's would be, at once."""
    from bot.ingest import store_releases
    from bot.sources import feed

    topic = websub.load(store, name).get("subscribed_topic") or str(cfg.url)
    report = SourceReport(name)
    found = feed.parse(name, body, url=topic, content_type=content_type,
                       language=cfg.language, allow_private_images=cfg.allow_private_images,
                       tz=cfg.zone(config.tz), errors=report.errors)
    report.failed += len(report.errors)
    if found:
        store_releases(store, config, name, found, report)
    return report
