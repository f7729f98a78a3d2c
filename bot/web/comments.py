"""Reviewers' comment threads on the review page: write one, and read them with the post.

A comment is stored (with its audit event) in the request's transaction; the mentions'
notices go out right after the answer, in the background (`bot.mentions`), and any the
web process could not send are sent by `pressbot run`. Comment text is people's text: the
templates show it escaped, line breaks kept by CSS, never as HTML.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.engine import Connection
from starlette.background import BackgroundTask
from starlette.responses import Response

from bot.models import Post
from bot.store import comments as comment_store
from bot.store import posts as post_store
from bot.store import users as user_store
from bot.store.comments import Comment, CommentError
from bot.web.context import Ctx, safe_next


@dataclass
class Threads:
    """What the post page shows: the post's thread and its release's."""

    post: list[Comment] = field(default_factory=list)
    release: list[Comment] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    """The accounts one can mention."""


def threads(conn: Connection, post: Post) -> Threads:
    return Threads(post=comment_store.thread(conn, post_id=post.id),
                   release=comment_store.thread(conn, release_id=post.release_id)
                   if post.release_id is not None else [],
                   names=[f"@{u.name}" for u in user_store.listing(conn) if not u.disabled])


def start_thread(ctx: Ctx, conn: Connection, body: str, *, post_id: int | None = None,
                 release_id: int | None = None) -> bool:
    """Add a comment in the caller's transaction (a rejection's reason starts a thread);
    True when it mentions someone, so the caller sends the notices afterwards."""
    assert ctx.user is not None
    comment = comment_store.add(conn, author=ctx.user.name, body=body, post_id=post_id,
                                release_id=release_id)
    return bool(comment.mentions)


def with_notices(ctx: Ctx, response: Response) -> Response:
    """Send the mentions' notices once the answer has gone out."""
    from bot.mentions import send_due

    response.background = BackgroundTask(send_due, ctx.config, ctx.web.store)
    return response


def comment_on_post(ctx: Ctx) -> Response:
    post_id = int(ctx.request.path_params["post_id"])
    with ctx.begin() as conn:
        if post_store.get(conn, post_id) is None:
            return ctx.refuse(404, f"There is no post {post_id}. It may have been removed.")
    return _comment(ctx, f"/posts/{post_id}#comments", post_id=post_id)


def comment_on_release(ctx: Ctx) -> Response:
    release_id = int(ctx.request.path_params["release_id"])
    with ctx.begin() as conn:
        first = post_store.for_release(conn, release_id)
    if not first:
        return ctx.refuse(404, f"There is no release {release_id} with posts.")
    return _comment(ctx, f"/posts/{first[0].id}#release-comments", release_id=release_id)


def _comment(ctx: Ctx, back: str, **about: int) -> Response:
    try:
        with ctx.begin() as conn:
            mentions = start_thread(ctx, conn, ctx.form.get("body", ""), **about)
    except CommentError as exc:
        ctx.flash("error", f"Comment not saved: {exc}.")
        return ctx.redirect(safe_next(ctx.form.get("next"), back))
    ctx.flash("ok", "Comment added." + (" The people mentioned are told." if mentions else ""))
    response = ctx.redirect(safe_next(ctx.form.get("next"), back))
    return with_notices(ctx, response) if mentions else response
