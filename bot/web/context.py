"""What every review-page route shares: the session, the signed-in account, and the guard.

`endpoint` wraps a plain (synchronous) handler: it reads the session cookie and loads the
account (in a worker thread: the store and argon2 block) before it reads a form, so a
staff POST from a session that ended is refused before its body is read; then it
refuses before the handler runs: a POST without this session's CSRF token is 403, a
signed-out GET page redirects to sign-in, a role too low is 403. Nothing a handler does
can happen before those checks. A parameter a handler cannot use (`bot.web.params`) is a
400 naming it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import jinja2
from sqlalchemy.engine import Connection
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from bot.config import Config
from bot.store import Store
from bot.store import users as user_store
from bot.store.users import User
from bot.web.params import BadParameter, no_nul
from bot.web.security import FailureLimiter
from bot.web.sessions import COOKIE, CSRF_FIELD, SessionCodec, fingerprint

Handler = Callable[["Ctx"], Response]


@dataclass
class Web:
    """Built once per app: what handlers need besides the request."""

    config: Config
    store: Store
    codec: SessionCodec
    env: jinja2.Environment
    limiter: FailureLimiter


class Ctx:
    """One request as a handler sees it."""

    def __init__(self, web: Web, request: Request, session: dict[str, Any],
                 form: dict[str, str], *, dirty: bool) -> None:
        self.web = web
        self.config = web.config
        self.request = request
        self.session = session
        self.form = form
        self.dirty = dirty
        self.user: User | None = None
        self.files: dict[str, tuple[str, bytes]] = {}
        """Uploaded files by field: (file name as sent, bytes); only on routes taking them."""

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A POST writes: it takes SQLite's write lock up front, so a read-then-write
        transaction never meets the publisher's commit halfway ("database is locked")."""
        store = self.web.store
        with (store.begin_immediate() if self.request.method == "POST"
              else store.begin()) as conn:
            yield conn

    @property
    def actor(self) -> str:
        assert self.user is not None
        return f"web:{self.user.name}"

    @property
    def csrf(self) -> str:
        return self.web.codec.csrf_token(self.session)

    def flash(self, kind: str, text: str) -> None:
        self.session.setdefault("f", []).append([kind, text])
        self.dirty = True

    def sign_in(self, user: User) -> None:
        import time

        self.session.clear()
        self.session.update(self.web.codec.new())  # a new nonce: no session fixation
        self.session.update({"u": user.name, "h": fingerprint(user.password_hash),
                             "t": time.time()})
        self.user = user
        self.dirty = True

    def sign_out(self, *, everywhere: bool = False, here: bool = False) -> None:
        """End this session in this browser; `here`: also on the server, so a copy of the
        cookie stops working; `everywhere`: end every session of the account."""
        if (everywhere or here) and self.session.get("u"):
            with self.begin() as conn:
                if everywhere:
                    user_store.end_sessions(conn, str(self.session["u"]))
                else:
                    signed_in = float(self.session.get("t") or 0)
                    user_store.end_session(conn, str(self.session["n"]),
                                           until=signed_in + self.web.codec.max_age)
        self.session.clear()
        self.session.update(self.web.codec.new())
        self.user = None
        self.dirty = True

    def load_user(self) -> None:
        name = self.session.get("u")
        if not name:
            return
        with self.begin() as conn:
            user = user_store.get(conn, str(name))
            ended = user_store.sessions_ended_at(conn, str(name)) if user else 0.0
            gone = user is not None and user_store.session_ended(conn, str(self.session["n"]))
        if user is None or user.disabled or gone or \
                fingerprint(user.password_hash) != self.session.get("h") or \
                float(self.session.get("t") or 0) <= ended:
            self.sign_out()
            return
        self.user = user

    def render(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        flashes = self.session.pop("f", [])
        if flashes:
            self.dirty = True
        html = self.web.env.get_template(template).render(
            user=self.user, csrf=self.csrf, csrf_field=CSRF_FIELD, flashes=flashes,
            path=self.request.url.path, config=self.config, waiting=self._waiting(),
            **context)
        return HTMLResponse(html, status_code=status)

    def _waiting(self) -> int | None:
        """Posts waiting for approval, for the title and the navigation of every page a
        signed-in person sees (one count; nobody else is told)."""
        if self.user is None:
            return None
        from bot.store.activity import count_by_status
        from bot.web.previews import WAITING

        with self.web.store.begin() as conn:
            return count_by_status(conn, [s.value for s in WAITING])

    def redirect(self, url: str) -> RedirectResponse:
        return RedirectResponse(safe_next(url), status_code=303)

    def refuse(self, status: int, message: str) -> HTMLResponse:
        return self.render("error.html", status=status, message=message, code=status)


def safe_next(url: str | None, default: str = "/") -> str:
    """Only paths on this site: never `//evil.example` or `https://…`."""
    if not url or not url.startswith("/") or url.startswith("//") or "\\" in url:
        return default
    return url


def _guarded(ctx: Ctx, handler: Handler, role: str | None, post: bool) -> Response:
    if post and not ctx.web.codec.csrf_ok(ctx.session, ctx.form.get(CSRF_FIELD)):
        return ctx.refuse(403, "This form has expired or did not come from this page. "
                               "Reload the page and try again.")
    if role is not None:
        if ctx.user is None:
            if post:
                return ctx.refuse(403, "You are signed out. Sign in and try again.")
            target = ctx.request.url.path
            if ctx.request.url.query:
                target += "?" + ctx.request.url.query
            return RedirectResponse(f"/signin?next={quote(target, safe='/')}", status_code=303)
        if not ctx.user.may(role):
            return ctx.refuse(403, f"Your account ({ctx.user.role}) may not do this: it needs "
                                   f"the {role} role. Ask an admin.")
    try:
        no_nul([*ctx.request.query_params.multi_items(), *ctx.form.items()])
        return handler(ctx)
    except BadParameter as exc:
        return ctx.refuse(400, f"This link or form has a value that cannot be used: {exc}.")


def endpoint(web: Web, handler: Handler, *, role: str | None, files: int = 0,
             ) -> Callable[[Request], Awaitable[Response]]:
    """A Starlette endpoint running `handler` behind the session, CSRF and role checks;
    `files`: how many uploaded files its form may carry (none but on upload routes)."""

    async def run(request: Request) -> Response:
        post = request.method == "POST"
        session = web.codec.load(request.cookies.get(COOKIE))
        ctx = Ctx(web, request, session or web.codec.new(), {}, dirty=session is None)
        if ctx.session.get("u"):
            await run_in_threadpool(ctx.load_user)
        if post and role is not None and ctx.user is None:
            # signed out, or a session ended on the server (signed out elsewhere, account
            # disabled, password changed): refuse before reading (let alone parsing) the body
            response: Response = HTMLResponse("You are signed out. Sign in and try again.", 403)
        else:
            if post:
                async with request.form(max_files=files, max_fields=50) as data:
                    ctx.form = {k: v for k, v in data.multi_items() if isinstance(v, str)}
                    for k, v in data.multi_items():
                        if not isinstance(v, str):
                            ctx.files[k] = (v.filename or "", await v.read())
            response = await run_in_threadpool(_guarded, ctx, handler, role, post)
        if ctx.dirty:
            response.set_cookie(value=web.codec.dump(ctx.session), **web.codec.cookie_args())
        return response

    return run
