"""Admins' page: review accounts (add, disable, enable) and the size of the audience.

An admin cannot disable their own account, so the last admin cannot lock everyone out
by a slip of the mouse.
"""

from __future__ import annotations

from starlette.responses import Response

from bot.store import subscribers
from bot.store import users as user_store
from bot.store.users import ROLES, UserError
from bot.web.context import Ctx


def users_page(ctx: Ctx, *, status: int = 200, error: str | None = None,
               draft: dict[str, str] | None = None) -> Response:
    with ctx.begin() as conn:
        accounts = user_store.listing(conn)
        audience = subscribers.counts(conn)
    return ctx.render("users.html", status=status, accounts=accounts, roles=ROLES,
                      audience=audience, error=error, draft=draft or {},
                      password_min=user_store.PASSWORD_MIN)


def add_user(ctx: Ctx) -> Response:
    name = ctx.form.get("name", "")
    try:
        with ctx.begin() as conn:
            user = user_store.add(conn, name, ctx.form.get("password", ""),
                                  ctx.form.get("role", ""),
                                  email=ctx.form.get("email", "").strip() or None,
                                  actor=ctx.actor)
    except UserError as exc:
        draft = {k: v for k, v in ctx.form.items() if k != "password"}
        return users_page(ctx, status=422, error=str(exc), draft=draft)
    ctx.flash("ok", f"Account {user.name} ({user.role}) added. Give them the password "
                    "by another channel than this one.")
    return ctx.redirect("/users")


def set_disabled(ctx: Ctx) -> Response:
    name = ctx.request.path_params["name"]
    disabled = ctx.form.get("disabled") == "1"
    assert ctx.user is not None
    if disabled and name == ctx.user.name:
        return users_page(ctx, status=409, error="You cannot disable your own account.")
    try:
        with ctx.begin() as conn:
            user_store.set_disabled(conn, name, disabled, actor=ctx.actor)
    except UserError as exc:
        return users_page(ctx, status=404, error=str(exc))
    state = "disabled: its sessions end now" if disabled else "enabled"
    ctx.flash("ok", f"Account {name} {state}.")
    return ctx.redirect("/users")
