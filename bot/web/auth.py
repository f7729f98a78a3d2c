"""Signing in and out of the review page.

Failed sign-ins are limited per account *and* address (5 in 15 minutes), per address (20,
against one password tried on many accounts) and per account (50, against guessing spread
over many addresses). An address the account signed in from before (kept in the store, so
every replica knows it, after a restart too) is held back only by the first limit:
strangers elsewhere cannot lock a person out, nor can failures of others behind the same
address (an office's NAT) lock out her colleagues who signed in from there. Each attempt
is counted before its password is hashed, in one step with the check, so a burst of
simultaneous guesses gets no more tries than a sequence; and at most two passwords are
hashed at a time (Argon2 takes 64 MiB each), so a flood cannot exhaust the memory.

The client address is the connection's unless `web.trusted_proxies` names the proxy in
front: an `X-Forwarded-For` from anyone else is ignored.
"""

from __future__ import annotations

import math
import threading

from starlette.responses import Response

from bot.store import users as user_store
from bot.web.context import Ctx, safe_next

ADDRESS_FACTOR, ACCOUNT_FACTOR = 4, 10
"""The per-address and per-account limits, as multiples of the limiter's own (5)."""
HASHING = threading.BoundedSemaphore(2)
"""Passwords checked at once; the others wait their turn (or get 503 after 10 s)."""


def _client(ctx: Ctx) -> str:
    return ctx.request.client.host if ctx.request.client else "unknown"


def signin_page(ctx: Ctx) -> Response:
    if ctx.user is not None:
        return ctx.redirect(safe_next(ctx.request.query_params.get("next")))
    return ctx.render("signin.html", next=safe_next(ctx.request.query_params.get("next")),
                      name="", error=None)


def signin(ctx: Ctx) -> Response:
    name = ctx.form.get("name", "")
    password = ctx.form.get("password", "")
    next_url = safe_next(ctx.form.get("next"))
    account, client = name.strip().lower(), _client(ctx)
    limiter = ctx.web.limiter
    pair = f"pair:{account}|{client}"
    limits = {pair: limiter.limit}
    with ctx.web.store.begin() as conn:
        known = bool(name.strip()) and user_store.knows_address(conn, name.strip(), client)
    if not known:
        limits[f"ip:{client}"] = limiter.limit * ADDRESS_FACTOR
        limits[f"name:{account}"] = limiter.limit * ACCOUNT_FACTOR
    wait, stamp = limiter.attempt(limits)
    if wait is not None:
        minutes = max(1, math.ceil(wait / 60))
        response = ctx.render(
            "signin.html", status=429, next=next_url, name=name,
            error=f"Too many failed sign-ins. Wait {minutes} minute{'s' * (minutes != 1)} "
                  "and try again, or ask an admin to check your account.")
        response.headers["Retry-After"] = str(math.ceil(wait))
        return response
    if not HASHING.acquire(timeout=10):
        return ctx.render("signin.html", status=503, next=next_url, name=name,
                          error="The server is busy. Try again in a moment.")
    try:
        with ctx.web.store.begin() as conn:
            user = user_store.authenticate(conn, name, password) if name and password \
                else None
            if user is not None:
                user_store.remember_address(conn, user, client)
    finally:
        HASHING.release()
    if user is None:
        return ctx.render("signin.html", status=401, next=next_url, name=name,
                          error="Wrong name or password (or the account is disabled).")
    limiter.succeeded(stamp, pair)
    ctx.sign_in(user)
    return ctx.redirect(next_url)


def signout(ctx: Ctx) -> Response:
    """"This device" (the default) ends this session only, on the server too (a copied
    cookie is worthless); "everywhere" ends every session of the account, on every
    device, and says so."""
    everywhere = ctx.form.get("everywhere") == "1"
    signed_in = ctx.user is not None                  # the guard loaded the user
    ctx.sign_out(everywhere=signed_in and everywhere, here=signed_in)
    ctx.flash("info", "You are signed out on every device." if everywhere and signed_in
              else "You are signed out on this device. Your other devices stay signed in.")
    return ctx.redirect("/signin")
