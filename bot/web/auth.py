"""Signing in and out of the review page.

Failed attempts are limited per account name and per client address (5 in 15 minutes by
default), so neither guessing one account's password nor trying one password on many
accounts gets far; a limited attempt is refused before the password is even checked.
"""

from __future__ import annotations

import math

from starlette.responses import Response

from bot.store import users as user_store
from bot.web.context import Ctx, safe_next


def _keys(ctx: Ctx, name: str) -> tuple[str, str]:
    client = ctx.request.client.host if ctx.request.client else "unknown"
    return f"name:{name.strip().lower()}", f"ip:{client}"


def signin_page(ctx: Ctx) -> Response:
    if ctx.user is not None:
        return ctx.redirect(safe_next(ctx.request.query_params.get("next")))
    return ctx.render("signin.html", next=safe_next(ctx.request.query_params.get("next")),
                      name="", error=None)


def signin(ctx: Ctx) -> Response:
    name = ctx.form.get("name", "")
    password = ctx.form.get("password", "")
    next_url = safe_next(ctx.form.get("next"))
    by_name, by_client = _keys(ctx, name)
    limiter = ctx.web.limiter
    wait = limiter.retry_after(by_name, by_client)
    if wait is not None:
        minutes = max(1, math.ceil(wait / 60))
        response = ctx.render(
            "signin.html", status=429, next=next_url, name=name,
            error=f"Too many failed sign-ins. Wait {minutes} minute{'s' * (minutes != 1)} "
                  "and try again, or ask an admin to check your account.")
        response.headers["Retry-After"] = str(math.ceil(wait))
        return response
    with ctx.begin() as conn:
        user = user_store.authenticate(conn, name, password) if name and password else None
    if user is None:
        limiter.failed(by_name, by_client)
        return ctx.render("signin.html", status=401, next=next_url, name=name,
                          error="Wrong name or password (or the account is disabled).")
    limiter.forget(by_name)
    ctx.sign_in(user)
    return ctx.redirect(next_url)


def signout(ctx: Ctx) -> Response:
    ctx.sign_out(everywhere=ctx.user is not None)   # the guard loaded the user
    ctx.flash("info", "You are signed out.")
    return ctx.redirect("/signin")
