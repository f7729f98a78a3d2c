"""The web application: health and metrics now; the review page mounts here."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.config import Config
from bot.store import Store


def create_app(config: Config, store: Store, *, health: Any = None) -> Starlette:
    """The ASGI app served by `pressbot run` and `pressbot web`."""
    if health is None:
        from bot.health import Health

        health = Health(config, store)

    async def healthz(_: Request) -> Response:
        ok, data = health.report()
        return JSONResponse({"ok": ok, **data}, status_code=200 if ok else 503)

    async def metrics_endpoint(_: Request) -> Response:
        from bot import metrics

        return Response(metrics.render(), media_type="text/plain; version=0.0.4")

    return Starlette(routes=[Route("/healthz", healthz), Route("/metrics", metrics_endpoint)])
