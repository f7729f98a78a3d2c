"""The web application: the review page for comms staff, health and metrics.

Routes and who may use them:

    GET  /healthz, /metrics, /static/…            anyone (probes, assets); /healthz's
                                                  details: staff or `web.health_token`
    GET  /signin · POST /signin, /signout         anyone (with the form's CSRF token)
    GET  /, /posts/{id}, /posts/{id}/email.html   reviewer and up
    GET  /activity, /activity.csv                 reviewer and up
    GET  /history (find posts), /outbox/…         reviewer and up
    POST /posts/{id}/approve, /reject             reviewer and up
    POST /releases/{id}/approve, /reject          reviewer and up (every channel at once)
    POST /posts/{id}/comments, /releases/{id}/comments   reviewer and up ("@name" mentions)
    POST /posts/{id}/edit, /schedule              editor and up
    POST /posts/{id}/email-draft.html             editor and up (renders an edit unsaved)
    POST /channels/pause-all, /channels/{name}/pause  reviewer and up (emergency stops)
    POST /channels/{name}/resume                  editor and up
    GET  /users · POST /users, /users/{name}/…    admin
    GET/POST /websub/{source}/{nonce}             WebSub hubs (HMAC-signed pushes)
    …    public newsletter pages                  anyone: `bot.web.public`, when present
    POST /calendar/move                           editor and up (a post onto a day)
    POST /posts/{id}/pictures, …/pictures/upload  editor and up (alt text, order, uploads)
    GET  /pictures/{name}                         reviewer and up (an uploaded picture)

Every response carries the security headers of `bot.web.security`.
"""

from __future__ import annotations

import hmac
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from bot.config import Config
from bot.signing import signing_key
from bot.store import Store
from bot.web import (
    activity,
    admin,
    auth,
    calendar,
    channels,
    comments,
    convertors,  # noqa: F401  (registers {post_id:id})
    history,
    pictures,
    views,
)
from bot.web.context import Ctx, Handler, Web, endpoint
from bot.web.security import HEADERS, BodyLimit, FailureLimiter, SecurityHeaders
from bot.web.sessions import COOKIE, SessionCodec
from bot.web.templating import environment

STATIC = Path(__file__).parent / "static"


def create_app(config: Config, store: Store, *, health: Any = None,
               limiter: FailureLimiter | None = None) -> Starlette:
    """The ASGI app served by `pressbot run` and `pressbot web`."""
    if health is None:
        from bot.health import Health

        health = Health(config, store)

    token = config.web.health_token.get_secret_value() if config.web.health_token else None

    def entitled(request: Request) -> bool:
        """A monitor with the token, or signed-in staff; never a stranger (the details name
        sources, their errors and the channels' state)."""
        given = request.headers.get("authorization", "")
        if token and hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return True
        session = web.codec.load(request.cookies.get(COOKIE))
        if not session or not session.get("u"):
            return False
        ctx = Ctx(web, request, session, {}, dirty=False)
        ctx.load_user()
        return ctx.user is not None

    async def healthz(request: Request) -> Response:
        ok, data = await run_in_threadpool(health.report)
        status = 200 if ok else 503
        if not await run_in_threadpool(entitled, request):
            return JSONResponse({"ok": ok, "status": data.get("status")}, status_code=status)
        return JSONResponse({"ok": ok, **data}, status_code=status)

    async def metrics_endpoint(_: Request) -> Response:
        from bot import metrics

        return Response(metrics.render(), media_type="text/plain; version=0.0.4")

    web = Web(
        config=config, store=store,
        codec=SessionCodec(signing_key(config, store), hours=config.web.session_hours,
                           secure=config.bot.public_url.scheme == "https"),
        env=environment(config.tz),
        limiter=limiter or FailureLimiter(),
    )
    outbox = config.resolve(Path(config.bot.outbox)).resolve()
    web.env.globals["live"] = lambda url: history.live_link(url, outbox)
    web.env.globals["picture_src"] = lambda url: pictures.src(config, url)
    web.env.filters["picture_version"] = pictures.version

    def page(path: str, handler: Handler, role: str | None = "reviewer",
             methods: tuple[str, ...] = ("GET",), files: int = 0) -> Route:
        return Route(path, endpoint(web, handler, role=role, files=files),
                     methods=list(methods))

    routes: list[BaseRoute] = [
        Route("/healthz", healthz),
        Route("/metrics", metrics_endpoint),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
        page("/signin", auth.signin_page, role=None),
        page("/signin", auth.signin, role=None, methods=("POST",)),
        page("/signout", auth.signout, role=None, methods=("POST",)),
        page("/", views.queue_page),
        page("/posts/{post_id:id}", views.post_page),
        page("/posts/{post_id:id}/email.html", views.email_preview),
        page("/posts/{post_id:id}/approve", views.approve, methods=("POST",)),
        page("/posts/{post_id:id}/reject", views.reject, methods=("POST",)),
        page("/posts/{post_id:id}/edit", views.edit, "editor", methods=("POST",)),
        page("/posts/{post_id:id}/email-draft.html", views.email_draft, "editor",
             methods=("POST",)),
        page("/posts/{post_id:id}/schedule", views.schedule, "editor", methods=("POST",)),
        page("/posts/bulk", views.bulk, methods=("POST",)),
        page("/posts/{post_id:id}/comments", comments.comment_on_post, methods=("POST",)),
        page("/releases/{release_id:id}/comments", comments.comment_on_release,
             methods=("POST",)),
        page("/releases/{release_id:id}/approve", views.approve_release, methods=("POST",)),
        page("/releases/{release_id:id}/reject", views.reject_release, methods=("POST",)),
        page("/channels/pause-all", channels.pause_all, methods=("POST",)),
        page("/channels/{channel}/resume", channels.resume, "editor", methods=("POST",)),
        page("/channels/{channel}/pause", channels.pause, methods=("POST",)),
        page("/history", history.history_page),
        page("/calendar", calendar.calendar_page),
        page("/outbox/{path:path}", history.outbox_file),
        page("/activity", activity.activity_page),
        page("/activity.csv", activity.activity_csv),
        page("/users", admin.users_page, "admin"),
        page("/users", admin.add_user, "admin", methods=("POST",)),
        page("/users/{name}/disabled", admin.set_disabled, "admin", methods=("POST",)),
        page("/calendar/move", calendar.move, "editor", methods=("POST",)),
        page("/posts/{post_id:id}/pictures", pictures.change, "editor", methods=("POST",)),
        page("/posts/{post_id:id}/pictures/upload", pictures.upload, "editor",
             methods=("POST",), files=1),
        page("/pictures/{name}", pictures.picture_file),
    ]
    from bot.web import websub

    routes.extend(websub.routes(config, store))
    routes.extend(_public_routes(config, store))

    async def not_found(request: Request, exc: Exception) -> Response:
        """An address that leads nowhere gets the site's own page (title, language, the
        navigation for someone signed in), not Starlette's bare text."""
        return await _not_found(web, request)

    return Starlette(routes=routes, middleware=[Middleware(SecurityHeaders),
                                                Middleware(BodyLimit)],
                     exception_handlers={404: not_found, 500: _server_error})


async def _not_found(web: Web, request: Request) -> Response:
    session = web.codec.load(request.cookies.get(COOKIE))
    ctx = Ctx(web, request, session or web.codec.new(), {}, dirty=session is None)
    if ctx.session.get("u"):
        await run_in_threadpool(ctx.load_user)
    response = ctx.refuse(404, "There is no page at this address. The link may be old or "
                               "mistyped.")
    if ctx.dirty:
        response.set_cookie(value=web.codec.dump(ctx.session), **web.codec.cookie_args())
    return response


async def _server_error(request: Request, exc: Exception) -> Response:
    """A failure shows a plain page with the same security headers as every other page
    (Starlette answers it outside the middleware that adds them)."""
    return HTMLResponse("<!doctype html><html lang=\"en\"><title>Error · pressbot</title>"
                        "<h1>Something went wrong</h1>"
                        "<p>The error was logged. Try again, or tell the bot's operator.</p>",
                        status_code=500, headers={**HEADERS, "cache-control": "no-store"})




def _public_routes(config: Config, store: Store) -> list[BaseRoute]:
    """The newsletter's subscribe/confirm/unsubscribe pages: no sign-in, no session CSRF
    (RFC 8058 one-click unsubscribe POSTs carry no cookies)."""
    from importlib.util import find_spec

    if find_spec("bot.web.public") is None:  # not there: only a missing module is skipped,
        return []                            # a broken one fails loudly
    from bot.web.public import public_routes

    return list(public_routes(config, store))
