"""The approval workflow: the one implementation of the rules, used by the CLI and the web.

    pending ──approve──► approved ──claim──► publishing ──► published
       │                  ▲   │                  │
       │ reject           │   └─ reject          ├─► failed (retry later) ──claim──┘
       ▼                  │                      └─► held (a human must act)
    rejected            approve ◄── held / failed (after a fix or an edit)

Every change goes through `bot.store.posts.change`, which refuses to move a post that
is no longer where the caller thought and writes the audit event in the same
transaction.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, get_args

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot import clock
from bot.config import Config, SelfLabel
from bot.errors import TemplateError, WorkflowError
from bot.fit import count
from bot.models import Image, Post, PostStatus, Release, Rendered
from bot.render import HOLD_PREFIX, Target, render, render_edited_email, targets, wants
from bot.schedule import inside, next_slot
from bot.store import posts as post_store
from bot.store.schema import posts as posts_table
from channels.registry import kind

log = logging.getLogger("pressbot.workflow")

S = PostStatus
EDITABLE = (S.PENDING, S.APPROVED, S.FAILED, S.HELD)
APPROVABLE = (S.PENDING, S.HELD, S.FAILED)


def _rendered_fields(rendered: Rendered) -> dict[str, Any]:
    """A rendering's columns, with the text it generated, which edits are shown against."""
    return {"text": rendered.text, "subject": rendered.subject, "html": rendered.html,
            "link": rendered.link, "images": rendered.images, "language": rendered.language,
            "warnings": rendered.warnings,
            "original_text": generated_text(rendered.text, rendered.html, rendered.language)}


def _labels(release: Release, target: Target) -> tuple[list[str], list[str]]:
    """The self-labels a release asks of a Bluesky channel (`labels` in the front matter's
    table for it), and a warning naming any Bluesky's apps do not honour (left out)."""
    asked = (release.overrides.get(target.name) or {}).get("labels")
    if not asked or kind(target.cfg) != "bluesky":
        return [], []
    known = get_args(SelfLabel)
    wanted = [label.strip() for label in asked.split(",") if label.strip()]
    unknown = [label for label in wanted if label not in known]
    warnings = [f"labels: {', '.join(unknown)} left out — Bluesky's apps honour only "
                f"{', '.join(known)}"] if unknown else []
    return [label for label in wanted if label in known], warnings


def slot_for(conn: Connection, config: Config, channel: str, *, not_before: datetime | None,
             exclude: int | None = None) -> datetime:
    """Next free slot of a channel: windows, min_gap after its latest post, embargo."""
    cfg = config.channels[channel]
    earliest = max(filter(None, [clock.now(), not_before]))
    if cfg.min_gap > timedelta(0):
        latest = conn.execute(
            sa.select(sa.func.max(sa.func.coalesce(posts_table.c.publish_at,
                                                   posts_table.c.updated_at)))
            .where(posts_table.c.channel == channel,
                   posts_table.c.status.in_([S.APPROVED, S.PUBLISHING, S.PUBLISHED, S.FAILED]),
                   posts_table.c.id != (exclude or -1))
        ).scalar()
        if latest is not None:
            latest = latest if latest.tzinfo else latest.replace(tzinfo=earliest.tzinfo)
            earliest = max(earliest, latest + cfg.min_gap)
    return next_slot(earliest, cfg.windows, config.tz)


def queue_release(conn: Connection, config: Config, release_id: int, release: Release,
                  source_channels: list[str] | None, *, learned: dict[str, Any] | None = None,
                  actor: str = "system") -> list[int]:
    """Render a stored release for every channel that wants it and queue the posts."""
    items = plan_posts(conn, config, release_id, release, source_channels, learned=learned)
    return post_store.insert_many(conn, items, actor=actor)


def plan_posts(conn: Connection, config: Config, release_id: int, release: Release,
               source_channels: list[str] | None, *, learned: dict[str, Any] | None = None,
               planned: dict[str, datetime] | None = None) -> list[dict[str, Any]]:
    """The posts a release makes, rendered, ready for `posts.insert_many`.

    `planned` carries the slots given so far in a batch (per channel), so auto-approved
    posts queued together still respect `min_gap` between each other.
    """
    items: list[dict[str, Any]] = []
    for target in targets(config, learned):
        if not wants(release, source_channels, target):
            continue
        rendered = render(release, target, config)
        labels, unknown = _labels(release, target)
        rendered.warnings += unknown
        auto = target.cfg.approval == "auto"
        if rendered.blocking:
            status, publish_at = S.HELD, release.embargo_at
        elif auto:
            status = S.APPROVED
            not_before = release.embargo_at
            if planned is not None and target.name in planned:
                after = planned[target.name] + target.cfg.min_gap
                not_before = max(filter(None, [not_before, after]))
            publish_at = slot_for(conn, config, target.name, not_before=not_before)
            if planned is not None:
                planned[target.name] = publish_at
        else:
            status, publish_at = S.PENDING, release.embargo_at
        items.append({
            "channel": target.name, "status": status, "release_id": release_id,
            "title": release.title, "publish_at": publish_at,
            "last_error": "; ".join(w for w in rendered.warnings if "too long" in w
                                    or "template error" in w or w.startswith(HOLD_PREFIX))
                          or None,
            "detail": {"approval": target.cfg.approval, "warnings": rendered.warnings},
            "extra": {"labels": labels} if labels else {},
            **_rendered_fields(rendered),
        })
    return items


def rerender_release(conn: Connection, config: Config, release_id: int, release: Release,
                     *, learned: dict[str, Any] | None = None) -> dict[str, int]:
    """A release changed: refresh posts that have not gone out; record it on those that have."""
    outcome = {"rerendered": 0, "recorded": 0}
    by_name = {t.name: t for t in targets(config, learned)}
    for post in post_store.for_release(conn, release_id):
        target = by_name.get(post.channel)
        if post.status in (S.PUBLISHED, S.PUBLISHING, S.REJECTED) or target is None:
            post_store.add_event(conn, actor="system", action="release-changed",
                                 post_id=post.id, release_id=release_id,
                                 detail={"note": f"release changed while post was {post.status};"
                                                 " not re-posted"})
            outcome["recorded"] += 1
            continue
        rendered = render(release, target, config)
        labels, unknown = _labels(release, target)
        rendered.warnings += unknown
        manual = target.cfg.approval == "manual"
        to = S.HELD if rendered.blocking else (S.PENDING if manual else post.status)
        if to == S.HELD and post.status == S.HELD:
            to = S.HELD
        post_store.change(
            conn, post.id, allowed_from=EDITABLE, to=to, actor="system", action="rerender",
            detail={"note": "release changed before publication; post re-rendered",
                    "previous_text": post.text},
            title=release.title,
            last_error="; ".join(rendered.warnings) if rendered.blocking else None,
            extra={k: v for k, v in post.extra.items() if k not in ("markdown", "labels")}
            | ({"labels": labels} if labels else {}),
            **_rendered_fields(rendered),
        )
        outcome["rerendered"] += 1
    return outcome


def approve(conn: Connection, config: Config, post_id: int, actor: str) -> Post:
    post = post_store.require(conn, post_id, lock=True)
    if post.status not in APPROVABLE:
        raise WorkflowError(f"post {post_id} is {post.status}: only a pending, held or failed "
                            "post can be approved")
    if config.web.four_eyes and actor in editors_of_current_text(conn, post_id):
        raise WorkflowError(f"post {post_id} was edited by {actor}: another person must approve "
                            "it (web.four_eyes)")
    if post.channel not in config.channels:
        raise WorkflowError(f"post {post_id} is for channel {post.channel!r}, which is no longer "
                            "configured")
    _check_length(conn, config, post, post.text)
    embargo = _embargo(conn, post)
    publish_at = post.publish_at if post.publish_at and post.extra.get("scheduled_by") else None
    slot = slot_for(conn, config, post.channel, not_before=max(filter(None, [embargo,
                                                                             publish_at]),
                                                                default=None), exclude=post.id)
    approved = post_store.change(conn, post_id, allowed_from=APPROVABLE, to=S.APPROVED,
                                 actor=actor, action="approve",
                                 detail={"publish_at": slot.isoformat()}, publish_at=slot,
                                 attempts=0, next_attempt_at=None, last_error=None)
    # the audit trail is in the database; the log lets an operator follow the day without it
    log.info("post=%d channel=%s by=%s publish_at=%s approved", post_id, post.channel, actor,
             slot.isoformat())
    return approved


def editors_of_current_text(conn: Connection, post_id: int) -> set[str]:
    """Everyone who edited the text since it was last rendered: a colleague's later touch
    does not make the first editor's words someone else's."""
    editors: set[str] = set()
    for event in post_store.list_events(conn, post_id=post_id):   # newest first
        if event["action"] in ("queued", "rerender"):
            break
        if event["action"] in ("edit", "pictures"):
            editors.add(str(event["actor"]))
    return editors


def reject(conn: Connection, post_id: int, actor: str, reason: str | None) -> Post:
    rejected = post_store.change(conn, post_id, allowed_from=(S.PENDING, S.APPROVED, S.HELD,
                                                              S.FAILED),
                                 to=S.REJECTED, actor=actor, action="reject",
                                 detail={"reason": reason or ""}, last_error=reason or None)
    log.info("post=%d channel=%s by=%s reason=%s rejected", post_id, rejected.channel, actor,
             reason or "")
    return rejected


EDIT_MAX = 100_000
"""Characters an edited text may have: every edit is measured, rendered and linked, and the
request body alone would allow a megabyte."""


def edit(conn: Connection, config: Config, post_id: int, actor: str, text: str,
         subject: str | None = None) -> Post:
    post = post_store.require(conn, post_id, lock=True)
    if post.status not in EDITABLE:
        raise WorkflowError(f"post {post_id} is {post.status}: only a pending, approved, failed "
                            "or held post can be edited")
    text = text.strip()
    if not text:
        raise WorkflowError("the new text is empty")
    if len(text) > EDIT_MAX:
        raise WorkflowError(f"the new text has {len(text):,} characters: an edit may have at "
                            f"most {EDIT_MAX:,} (far more than any post or newsletter needs)")
    _check_length(conn, config, post, text)
    to = S.PENDING if config.channels[post.channel].approval == "manual" else post.status
    fields: dict[str, Any] = {"text": text, "edited_by": actor, "warnings": []}
    if subject is not None:
        fields["subject"] = " ".join(subject.split())
    if post.html is not None:  # an email, edited as Markdown: both parts rendered from it
        fields["html"], fields["text"] = render_email_edit(
            config, post.model_copy(update={"subject": fields.get("subject", post.subject)}), text)
        fields["extra"] = {**post.extra, "markdown": text}
    edited = post_store.change(conn, post_id, allowed_from=EDITABLE, to=to, actor=actor,
                             action="edit", returning=True, detail={"previous_text": post.text,
                                                    "previous_subject": post.subject},
                             **fields)
    log.info("post=%d channel=%s by=%s chars=%d status=%s edited", post_id, post.channel, actor,
             len(text), edited.status)
    return edited


def set_pictures(conn: Connection, config: Config, post_id: int, actor: str,
                 images: list[Image], change: str) -> Post:
    """Give a post new pictures (alt text fixed, one removed, replaced or moved): a
    change of what goes out, so, like an edit, it waits for approval again where the
    channel wants a person's approval; an email's HTML is rendered again around them."""
    from bot.pictures import ALT_MAX

    post = post_store.require(conn, post_id, lock=True)
    if post.status not in EDITABLE:
        raise WorkflowError(f"post {post_id} is {post.status}: only a pending, approved, failed "
                            "or held post can have its pictures changed")
    for n, image in enumerate(images, 1):
        if len(image.alt) > ALT_MAX:
            raise WorkflowError(f"picture {n}: the alt text has {len(image.alt):,} characters; "
                                f"it may have at most {ALT_MAX:,}")
    if post.channel not in config.channels:
        raise WorkflowError(f"post {post_id} is for channel {post.channel!r}, which is no longer "
                            "configured")
    to = S.PENDING if config.channels[post.channel].approval == "manual" else post.status
    fields: dict[str, Any] = {"images": images}
    if post.html is not None:
        fields["html"], fields["text"] = render_email_edit(
            config, post.model_copy(update={"images": images}), editable_text(post))
    changed = post_store.change(
        conn, post_id, allowed_from=EDITABLE, to=to, actor=actor, action="pictures",
        returning=True,
        detail={"change": change, "previous": [f"{i.url} (alt: {i.alt or 'none'})"
                                               for i in post.images]}, **fields)
    log.info("post=%d channel=%s by=%s change=%r status=%s pictures", post_id, post.channel,
             actor, change, changed.status)
    return changed


def editable_text(post: Post) -> str:
    """What a person edits: a social post's text; an email's Markdown (its last edit, or
    written from its HTML's content), never its layout (greeting, footer, unsubscribe)."""
    if post.html is None:
        return post.text
    if isinstance(source := post.extra.get("markdown"), str):
        return source
    return generated_text(post.text, post.html, post.language)


def generated_text(text: str, html: str | None, language: str | None) -> str:
    """What a person would edit of a post as rendered: a social post's text; an email's
    content written as Markdown from its HTML."""
    if html is None:
        return text
    from bot import i18n
    from bot.emailbody import content_html, html_to_markdown

    # the fixed words and dates are per-reader markers until sent: an edit is written in
    # the post's language, and then stays as the person wrote it
    return html_to_markdown(i18n.fill(content_html(html), language, escape=True))


def original_text(post: Post) -> str | None:
    """The text the post was generated with, as `editable_text` would give it; None when
    it was edited before pressbot kept the original (migration 0016)."""
    if post.original_text is not None:
        return post.original_text
    return None if post.edited_by else editable_text(post)


def render_email_edit(config: Config, post: Post, text: str) -> tuple[str, str]:
    """(HTML, plain text) an email post would have with `text` as its Markdown: what an
    edit saves, and what the review page previews before it is saved."""
    if post.channel not in config.channels:
        raise WorkflowError(f"channel {post.channel!r} is no longer configured")
    image = next((i.model_dump() for i in post.images), None)
    try:
        return render_edited_email(text, post.subject or post.title or "", target_for(
            config, post.channel), image)
    except TemplateError as exc:
        raise WorkflowError(f"the edited email cannot be rendered: {exc}") from None


def schedule(conn: Connection, config: Config, post_id: int, actor: str,
             when: datetime, *, in_windows: bool = False) -> Post:
    """Give a post its time. `in_windows` (the review page): a time outside the channel's
    publishing windows is refused; else (the CLI) it is a "not before", and approval
    finds the first slot in a window from there."""
    post = post_store.require(conn, post_id, lock=True)
    embargo = _embargo(conn, post)
    if embargo and when < embargo:
        raise WorkflowError(f"post {post_id} is embargoed until {embargo.isoformat()}: "
                            "it cannot be scheduled before that")
    cfg = config.channels.get(post.channel)
    if in_windows and cfg is not None and not inside(when, cfg.windows, config.tz):
        local = when.astimezone(config.tz).strftime("%a %-d %b %Y, %H:%M")
        raise WorkflowError(f"{local} is outside {post.channel}'s publishing windows "
                            f"({', '.join(cfg.windows)}, {config.bot.timezone}): pick a time "
                            "inside one")
    extra = {**post.extra, "scheduled_by": actor}
    detail = {"publish_at": when.isoformat()}
    if post.publish_at is not None:   # the audit trail says where it was moved from
        detail["moved_from"] = post.publish_at.isoformat()
    scheduled = post_store.change(conn, post_id, allowed_from=EDITABLE, to=None, actor=actor,
                                  action="schedule", detail=detail,
                                  publish_at=when, extra=extra)
    log.info("post=%d channel=%s by=%s publish_at=%s scheduled", post_id, post.channel, actor,
             when.isoformat())
    return scheduled


def _embargo(conn: Connection, post: Post) -> datetime | None:
    if post.release_id is None:
        return None
    from bot.store import releases

    release = releases.get(conn, post.release_id)
    return release.embargo_at if release else None


def measure(conn: Connection, config: Config, channel: str,
            text: str) -> tuple[int, int | None]:
    """`text`'s length as the channel's platform counts it, and the channel's limit."""
    from bot.store.meta import learned_limits
    from channels.registry import limits_for

    cfg = config.channels.get(channel)
    if cfg is None:
        return len(text), None
    limits = limits_for(cfg, learned_limits(conn).get(channel))
    return count(text, limits, getattr(cfg, "spoiler_text", None) or ""), limits.max_chars


def _check_length(conn: Connection, config: Config, post: Post, text: str) -> None:
    length, limit = measure(conn, config, post.channel, text)
    if limit is not None and length > limit:
        raise WorkflowError(f"post {post.id} is too long for {post.channel}: {length}/"
                            f"{limit} characters as the platform counts them")


def target_for(config: Config, channel: str) -> Target:
    return next(t for t in targets(config, only=channel))


def queue_digest(conn: Connection, config: Config, channel: str,
                 actor: str = "system") -> int | None:
    """Queue one digest of the releases first seen since the last digest; None if none."""
    from bot.render import render_digest
    from bot.store import meta, releases
    from bot.store.schema import releases as releases_table

    # The cursor is the set of releases already sent, not a time: a release still under
    # embargo at one digest goes out in the first digest after its embargo ends.
    sent_key = f"digest:{channel}:sent"
    sent = set(meta.get(conn, sent_key, []))
    floor = meta.get(conn, f"digest:{channel}:floor", 0)
    now = clock.now()
    query = sa.select(releases_table.c.id).where(
        releases_table.c.id > floor,
        sa.or_(releases_table.c.embargo_at.is_(None), releases_table.c.embargo_at <= now))
    ids = [row.id for row in conn.execute(query.order_by(releases_table.c.id))
           if row.id not in sent]
    found = [(i, r) for i in ids if (r := releases.get(conn, i)) is not None]
    found = [(i, r) for i, r in found if r.channels is None or channel in r.channels]
    sent |= set(ids)
    # keep the list short: everything up to the oldest unsent (embargoed) id is a floor
    waiting = conn.execute(sa.select(sa.func.min(releases_table.c.id)).where(
        releases_table.c.id > floor, releases_table.c.embargo_at > now)).scalar()
    new_floor = max([floor, *[i for i in sent if waiting is None or i < waiting]])
    meta.put(conn, f"digest:{channel}:floor", new_floor)
    meta.put(conn, sent_key, sorted(i for i in sent if i > new_floor))
    if not found:
        return None
    target = target_for(config, channel)
    rendered = render_digest([r for _, r in found], target, config)
    auto = target.cfg.approval == "auto"
    status = S.HELD if rendered.blocking else (S.APPROVED if auto else S.PENDING)
    return post_store.insert(
        conn, channel=channel, status=status, actor=actor, release_id=None,
        title=rendered.subject or "Digest", digest=[i for i, _ in found],
        publish_at=slot_for(conn, config, channel, not_before=None) if auto else None,
        detail={"digest_of": [i for i, _ in found]},
        extra={"subjects": rendered.subjects} if rendered.subjects else {},
        **_rendered_fields(rendered))
