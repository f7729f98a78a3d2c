"""A post's pictures on the review page: alt text written and fixed, a picture removed,
moved earlier or later, replaced or added by an upload.

Each form carries the post's pictures as the page showed them (`version`, a hash of their
addresses in order), so a change made on a page that is out of date (a colleague removed
a picture meanwhile) is refused rather than applied to the wrong picture. Changes go
through `workflow.set_pictures`: one transaction, an audit event, and the post waits for
approval again where its channel wants that. Uploads are checked and cleaned by
`bot.pictures` before anything is stored.
"""

from __future__ import annotations

import hashlib
import mimetypes

from starlette.responses import FileResponse, Response

from bot import pictures
from bot.config import Config
from bot.errors import WorkflowError
from bot.models import Image, Post
from bot.store import posts as post_store
from bot.web import params
from bot.web.context import Ctx, safe_next
from bot.web.views import post_page

_MOVES = {"up": -1, "down": 1}


def version(post: Post) -> str:
    """The pictures as a page shows them: their addresses, in order."""
    return hashlib.sha256("\n".join(i.url for i in post.images).encode()).hexdigest()[:16]


def _alt(raw: str) -> str:
    return raw.replace("\r\n", "\n").strip()


def _index(raw: str, images: list[Image]) -> int:
    n = params.row_id(raw)
    if n is None or n >= len(images):
        raise params.BadParameter(f"action: no picture {raw[:20]!r} on this post")
    return n


def _current(ctx: Ctx) -> Post | Response:
    """The post, if the page's pictures are still its pictures; else the refusal."""
    post_id = int(ctx.request.path_params["post_id"])
    with ctx.begin() as conn:
        post = post_store.get(conn, post_id)
    if post is None:
        return ctx.refuse(404, f"There is no post {post_id}. It may have been removed.")
    if ctx.form.get("version") != version(post):
        return post_page(ctx, status=409, error=f"The pictures of post {post_id} changed since "
                                                 "this page was loaded: see them below and "
                                                 "try again.")
    return post


def _save(ctx: Ctx, post: Post, images: list[Image], change: str) -> Response:
    from bot import workflow

    try:
        with ctx.begin() as conn:
            saved = workflow.set_pictures(conn, ctx.config, post.id, ctx.actor, images, change)
    except WorkflowError as exc:
        return post_page(ctx, status=409, error=str(exc))
    again = " It waits for approval again." if saved.status == "pending" and \
        post.status != "pending" else ""
    ctx.flash("ok", f"Post {post.id} ({post.channel}): {change}.{again}")
    return ctx.redirect(safe_next(ctx.form.get("next"), f"/posts/{post.id}#pictures-{post.id}"))


def change(ctx: Ctx) -> Response:
    """Save the alt texts as typed, and remove or move a picture when that was asked."""
    post = _current(ctx)
    if isinstance(post, Response):
        return post
    images = [Image(url=i.url, alt=_alt(ctx.form.get(f"alt-{n}", i.alt)))
              for n, i in enumerate(post.images)]
    done = ["alt text saved"] if images != post.images else []
    action, _, which = ctx.form.get("action", "alt").partition(":")
    if action == "remove":
        n = _index(which, images)
        del images[n]
        done.insert(0, f"picture {n + 1} removed")
    elif action in _MOVES:
        n = _index(which, images)
        to = n + _MOVES[action]
        if not 0 <= to < len(images):
            raise params.BadParameter(f"action: picture {n + 1} cannot move {action}")
        images[n], images[to] = images[to], images[n]
        done.insert(0, f"picture {n + 1} moved {'earlier' if to < n else 'later'}")
    elif action != "alt":
        raise params.BadParameter(f"action: {action[:20]!r} is not a picture action")
    if not done:
        ctx.flash("ok", f"Post {post.id}: nothing to change in its pictures.")
        return ctx.redirect(f"/posts/{post.id}#pictures-{post.id}")
    return _save(ctx, post, images, ", ".join(done))


def upload(ctx: Ctx) -> Response:
    """A picture from the person's computer, in place of one or as a new one."""
    post = _current(ctx)
    if isinstance(post, Response):
        return post
    name, data = ctx.files.get("file", ("", b""))
    slot = ctx.form.get("slot", "add")
    at = None if slot == "add" else _index(slot, post.images)
    try:
        cleaned, kind = pictures.check(data, name)
    except pictures.BadPicture as exc:
        return post_page(ctx, status=422, error=str(exc))
    path = pictures.keep(ctx.config, cleaned, kind)
    images = list(post.images)
    new = Image(url=str(path), alt=_alt(ctx.form.get("alt", "")))
    shown = name[-60:] or "an upload"
    if at is None:
        images.append(new)
        said = f"picture {len(images)} added ({shown})"
    else:
        images[at] = new if new.alt else new.model_copy(update={"alt": images[at].alt})
        said = f"picture {at + 1} replaced by {shown}"
    return _save(ctx, post, images, said)


def picture_file(ctx: Ctx) -> Response:
    """An uploaded picture, for the page to show it (only files of the uploads folder)."""
    name = ctx.request.path_params["name"]
    path = pictures.folder(ctx.config) / name
    if not pictures.STORED.fullmatch(name) or not path.is_file():
        return ctx.refuse(404, "There is no such picture.")
    return FileResponse(path, media_type=mimetypes.guess_type(name)[0] or "image/png",
                        headers={"cache-control": "private, max-age=86400"})


def src(config: Config, url: str) -> str | None:
    """Where the page can show the picture at `url`: the web for web addresses, this site
    for an upload, nothing for other files on this machine."""
    if url.startswith(("https://", "http://")):
        return url
    name = pictures.stored_name(config, url)
    return f"/pictures/{name}" if name else None
