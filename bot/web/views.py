"""The queue, one post with its history, the email preview, and the workflow's buttons.

Every button calls `bot.workflow` — the one implementation of the rules, shared with the
CLI — inside one transaction; its `WorkflowError` (four-eyes, a post that moved on, a text
too long) is shown to the person as it is. A successful change redirects (POST, redirect,
GET), so reloading the page never repeats it; a refused one shows the post again with the
error and the text as typed. The workflow (with rendering and the fitter) is imported by
the handlers that use it, so an idle service does not hold it.
"""

from __future__ import annotations

from starlette.responses import HTMLResponse, Response

from bot import clock
from bot.errors import WorkflowError
from bot.models import Post, PostStatus
from bot.store import posts as post_store
from bot.store import releases as release_store
from bot.textdiff import Diff, diff
from bot.web import params
from bot.web.channels import banners, switches
from bot.web.comments import start_thread, threads, with_notices
from bot.web.context import Ctx, safe_next
from bot.web.previews import Viewer, queue_sections
from bot.web.security import EMAIL_CSP
from bot.when import parse_when

S = PostStatus


def queue_page(ctx: Ctx) -> Response:
    """The queue, in full or compact (one line a post, opened on demand): the choice is
    kept in the session, so the page after an approval looks the same."""
    now = clock.now()
    chosen = params.choice("view", ctx.request.query_params.get("view"), ["full", "compact"])
    if chosen and ctx.session.get("view") != chosen:
        ctx.session["view"] = chosen
        ctx.dirty = True
    with ctx.begin() as conn:
        sections = queue_sections(conn, ctx.config, now)
    return ctx.render("queue.html", sections=sections, now=now, banners=banners(ctx),
                      switches=switches(ctx), compact=ctx.session.get("view") == "compact")


def _post_or_404(ctx: Ctx) -> Post | None:
    with ctx.begin() as conn:
        return post_store.get(conn, int(ctx.request.path_params["post_id"]))


def post_page(ctx: Ctx, *, status: int = 200, error: str | None = None,
              draft: dict[str, str] | None = None) -> Response:
    post_id = int(ctx.request.path_params["post_id"])
    with ctx.begin() as conn:
        post = post_store.get(conn, post_id)
        if post is None:
            return ctx.refuse(404, f"There is no post {post_id}. It may have been removed.")
        release = release_store.get(conn, post.release_id) if post.release_id else None
        view = Viewer(conn, ctx.config, clock.now()).view(post, release)
        events = list(reversed(post_store.list_events(conn, post_id=post_id)))
        comments = threads(conn, post)
    return ctx.render("post.html", status=status, view=view, release=release, events=events,
                      error=error, draft=draft or {}, comments=comments,
                      changes=_changes(post))


def _changes(post: Post) -> Diff | None:
    """The saved text against the text the post was generated with; None when pressbot
    did not keep that (a post edited before it did)."""
    from bot.workflow import editable_text, original_text

    original = original_text(post)
    return None if original is None else diff(original, editable_text(post))


def email_preview(ctx: Ctx) -> Response:
    post = _post_or_404(ctx)
    if post is None or not post.html:
        return ctx.refuse(404, "This post has no email version.")
    from channels.email.message import fill_html  # the mail builder: only for this page

    # what one subscriber would see; the real values are filled in per recipient at send time
    # as the channel fills it when sending, for a subscriber with no name or language
    html = fill_html(post.html, None, "#unsubscribe", fallback=post.language)
    return HTMLResponse(html, headers=_FRAMED)


def email_draft(ctx: Ctx) -> Response:
    """The email as the edit box's text would make it, rendered and not saved: the frame
    beside the editor, which the form's "Preview" button submits to (no script needed)."""
    from bot import workflow
    from channels.email.message import fill_html

    post_id = int(ctx.request.path_params["post_id"])
    text = ctx.form.get("text", "").replace("\r\n", "\n").strip()
    subject = " ".join(ctx.form.get("subject", "").split())
    with ctx.web.store.begin() as conn:   # reads only: no write lock for a preview
        post = post_store.get(conn, post_id)
    if post is None or post.html is None:
        return ctx.refuse(404, "This post has no email version.")
    try:
        if not text:
            raise WorkflowError("the text is empty: there is nothing to show")
        if len(text) > workflow.EDIT_MAX:
            raise WorkflowError(f"the text has {len(text):,} characters: an edit may have "
                                f"at most {workflow.EDIT_MAX:,}")
        html, _ = workflow.render_email_edit(ctx.config, post.model_copy(
            update={"subject": subject or post.subject}), text)
    except WorkflowError as exc:
        html = ctx.web.env.get_template("draft_error.html").render(message=str(exc))
        return HTMLResponse(html, status_code=422, headers=_FRAMED)
    return HTMLResponse(fill_html(html, None, "#unsubscribe", fallback=post.language),
                        headers=_FRAMED)


_FRAMED = {"Content-Security-Policy": EMAIL_CSP, "X-Frame-Options": "SAMEORIGIN"}


def _done(ctx: Ctx, post: Post, message: str) -> Response:
    ctx.flash("ok", message)
    return ctx.redirect(safe_next(ctx.form.get("next"), f"/#post-{post.id}"))


def _refused(ctx: Ctx, exc: WorkflowError | ValueError) -> Response:
    status = 409 if isinstance(exc, WorkflowError) else 422
    message = str(exc)
    if "does not exist" in message:
        return ctx.refuse(404, message)
    return post_page(ctx, status=status, error=message, draft=ctx.form)


def _when(ctx: Ctx, post: Post) -> str:
    local = post.publish_at.astimezone(ctx.config.tz).strftime("%a %-d %b %Y, %H:%M") \
        if post.publish_at else "as soon as possible"
    return f"{local} ({ctx.config.bot.timezone})" if post.publish_at else local


def approve(ctx: Ctx) -> Response:
    from bot import workflow
    post_id = int(ctx.request.path_params["post_id"])
    try:
        with ctx.begin() as conn:
            post = workflow.approve(conn, ctx.config, post_id, ctx.actor)
    except WorkflowError as exc:
        return _refused(ctx, exc)
    return _done(ctx, post, f"Post {post_id} ({post.channel}) approved: it goes out "
                            f"{_when(ctx, post)}.")


def reject(ctx: Ctx) -> Response:
    from bot import workflow
    post_id = int(ctx.request.path_params["post_id"])
    note = " ".join(ctx.form.get("reason", "").split())[:1000]
    try:
        with ctx.begin() as conn:
            # the reason starts the post's thread (its event just before the rejection's)
            mentions = bool(note) and start_thread(ctx, conn, f"Rejected: {note}",
                                                   post_id=post_id)
            post = workflow.reject(conn, post_id, ctx.actor, note or None)
    except WorkflowError as exc:
        return _refused(ctx, exc)
    done = _done(ctx, post, f"Post {post_id} ({post.channel}) rejected: it will not go out.")
    return with_notices(ctx, done) if mentions else done


def edit(ctx: Ctx) -> Response:
    from bot import workflow
    post_id = int(ctx.request.path_params["post_id"])
    text = ctx.form.get("text", "").replace("\r\n", "\n")
    subject = ctx.form.get("subject")
    try:
        with ctx.begin() as conn:
            current = post_store.require(conn, post_id)
            post = workflow.edit(conn, ctx.config, post_id, ctx.actor, text,
                                 subject if current.subject is not None else None)
            view = Viewer(conn, ctx.config, clock.now()).view(post, None)
    except WorkflowError as exc:
        return _refused(ctx, exc)
    measured = f"{view.length}/{view.limit}" if view.limit else str(view.length)
    again = " It waits for approval again." if post.status == S.PENDING else ""
    return _done(ctx, post, f"Post {post_id} ({post.channel}) saved: {measured} characters "
                            f"as {view.platform} counts them.{again}")


def schedule(ctx: Ctx) -> Response:
    from bot import workflow
    post_id = int(ctx.request.path_params["post_id"])
    phrase = ctx.form.get("at", "").strip() or ctx.form.get("at_local", "").strip()
    try:
        if not phrase:
            raise ValueError("say when: pick a date and time, or type a phrase like "
                             "'tomorrow 09:00'")
        when = parse_when(phrase, ctx.config.tz, clock.now())
        if when < clock.now():
            raise ValueError(f"{phrase!r} is in the past: pick a time still to come")
        if when.astimezone(ctx.config.tz).date() > params.LAST_DAY:
            raise ValueError(f"{phrase!r} is after {params.LAST_DAY.year}: pick a time the "
                             "calendar can show")
        with ctx.begin() as conn:
            post = workflow.schedule(conn, ctx.config, post_id, ctx.actor, when,
                                     in_windows=True)
    except (WorkflowError, ValueError) as exc:
        return _refused(ctx, exc)
    still = " It still needs approval." if post.status == S.PENDING else ""
    return _done(ctx, post, f"Post {post_id} ({post.channel}) scheduled for "
                            f"{_when(ctx, post)}.{still}")


def approve_release(ctx: Ctx) -> Response:
    """Approve every waiting post of one release at once; each is still checked on its own
    (four-eyes, length), and one refusal does not stop the others."""
    return _each_of_release(ctx, "approve")


def reject_release(ctx: Ctx) -> Response:
    return _each_of_release(ctx, "reject")


def bulk(ctx: Ctx) -> Response:
    """Approve or reject the posts ticked anywhere on the queue page, across releases."""
    from bot import workflow
    action = ctx.form.get("action")
    ticked = [k.removeprefix("post-") for k, v in ctx.form.items()
              if k.startswith("post-") and v]
    if wrong := [k for k in ticked if params.row_id(k) is None]:
        raise params.BadParameter(f"post-{wrong[0][:40]}: not a post")
    ids = sorted(int(k) for k in ticked)
    if action not in ("approve", "reject") or not ids:
        ctx.flash("error", "Tick the posts to decide on, then approve or reject them.")
        return ctx.redirect("/")
    with ctx.begin() as conn:
        waiting = [p for i in ids if (p := post_store.get(conn, i)) is not None
                   and p.status in workflow.APPROVABLE]
    return _decide(ctx, waiting, action, None)


def _each_of_release(ctx: Ctx, action: str) -> Response:
    from bot import workflow
    release_id = int(ctx.request.path_params["release_id"])
    note = " ".join(ctx.form.get("reason", "").split())[:1000] or None
    with ctx.begin() as conn:
        waiting = [p for p in post_store.for_release(conn, release_id)
                   if p.status in workflow.APPROVABLE]
    if not waiting:
        return ctx.refuse(404, "This release has no post waiting for a decision.")
    response = _decide(ctx, waiting, action, note)
    if action == "reject" and note:  # the reason starts the release's thread
        with ctx.begin() as conn:
            if start_thread(ctx, conn, f"Rejected: {note}", release_id=release_id):
                return with_notices(ctx, response)
    return response


def _decide(ctx: Ctx, waiting: list[Post], action: str, note: str | None) -> Response:
    """Each post in its own transaction: one refusal (four-eyes, length) stops no other."""
    from bot import workflow
    done, refused = [], []
    for post in waiting:
        try:
            with ctx.begin() as conn:
                if action == "approve":
                    workflow.approve(conn, ctx.config, post.id, ctx.actor)
                else:
                    workflow.reject(conn, post.id, ctx.actor, note)
            done.append(f"{post.channel} (post {post.id})")
        except WorkflowError as exc:
            refused.append(f"{post.channel} (post {post.id}): {exc}")
    verb = "approved" if action == "approve" else "rejected"
    message = f"{verb.capitalize()} on {', '.join(done)}." if done else f"Nothing {verb}."
    if refused:
        message += " Not " + verb + ": " + " · ".join(refused)
    ctx.flash("ok" if not refused else "error", message)
    return ctx.redirect(safe_next(ctx.form.get("next"), "/"))
