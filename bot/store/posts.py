"""Posts and their audit trail: every status change is one guarded UPDATE plus one event row.

A change names the statuses it may start from; if the post is no longer in one of them
(another worker, another reviewer got there first) nothing is written and
`WorkflowError` says what the post's status is now.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot import clock
from bot.errors import WorkflowError
from bot.models import Image, Post, PostStatus
from bot.store.schema import events, posts, releases

S = PostStatus
OPEN = (S.PENDING, S.APPROVED, S.FAILED, S.HELD)
"""Statuses whose text may still change (nothing went out)."""


# Built once: queueing a 700-item feed inserts 1,400 posts and as many events, and building
# the statement each time cost more than running it.
_INSERT_POST = posts.insert()
_INSERT_EVENT = events.insert()


def to_model(mapping: Mapping[str, Any], release_uid: str | None = None) -> Post:
    m = dict(mapping)
    m["images"] = [Image(**i) for i in m.get("images") or []]
    m["digest_release_ids"] = m.pop("digest", None) or []
    m["status"] = S(m["status"])
    m.pop("claimed_by", None)
    m.pop("uncertain", None)
    return Post(**m, release_uid=release_uid)


def insert(conn: Connection, *, channel: str, status: PostStatus, actor: str,
           release_id: int | None, detail: dict[str, Any] | None = None,
           **fields: Any) -> int:
    now = clock.now()
    if "images" in fields:
        fields["images"] = [i.model_dump() if isinstance(i, Image) else i
                            for i in fields["images"]]
    result = conn.execute(_INSERT_POST, {
        "channel": channel, "status": status.value, "release_id": release_id,
        "created_at": now, "updated_at": now, **fields})
    post_id = int(result.inserted_primary_key[0])  # type: ignore[index]
    add_event(conn, actor=actor, action="queued", post_id=post_id, release_id=release_id,
              to_status=status, detail=detail or {})
    return post_id


def add_event(conn: Connection, *, actor: str, action: str, post_id: int | None = None,
              release_id: int | None = None, from_status: str | None = None,
              to_status: str | None = None, detail: dict[str, Any] | None = None) -> None:
    conn.execute(_INSERT_EVENT, {
        "at": clock.now(), "actor": actor, "action": action, "post_id": post_id,
        "release_id": release_id, "from_status": from_status, "to_status": to_status,
        "detail": detail or {}})


_GET = (sa.select(posts, releases.c.source, releases.c.key)
        .join(releases, releases.c.id == posts.c.release_id, isouter=True)
        .where(posts.c.id == sa.bindparam("the_post")))
_GET_LOCKED = _GET.with_for_update(of=posts)
# values given at execution time decide the SET clause; the names avoid the columns'
_CHANGE = posts.update().where(posts.c.id == sa.bindparam("the_post"),
                               posts.c.status.in_(sa.bindparam("allowed", expanding=True)))


def get(conn: Connection, post_id: int, *, lock: bool = False) -> Post | None:
    query = _GET_LOCKED if lock and conn.dialect.name == "postgresql" else _GET
    row = conn.execute(query, {"the_post": post_id}).first()
    if row is None:
        return None
    return _with_uid(row)


def _with_uid(row: sa.Row[Any]) -> Post:
    m = dict(row._mapping)
    source, key = m.pop("source", None), m.pop("key", None)
    uid = f"{source}:{key}" if source is not None else None
    return to_model(m, uid)


def require(conn: Connection, post_id: int, *, lock: bool = False) -> Post:
    post = get(conn, post_id, lock=lock)
    if post is None:
        raise WorkflowError(f"post {post_id} does not exist (see `pressbot queue`)")
    return post


def listing(conn: Connection, *, status: Sequence[str] | None = None,
            channel: str | None = None, release_id: int | None = None,
            limit: int | None = None) -> list[Post]:
    query = (sa.select(posts, releases.c.source, releases.c.key)
             .join(releases, releases.c.id == posts.c.release_id, isouter=True)
             .order_by(posts.c.id))
    if status:
        query = query.where(posts.c.status.in_(list(status)))
    if channel:
        query = query.where(posts.c.channel == channel)
    if release_id is not None:
        query = query.where(posts.c.release_id == release_id)
    if limit:
        query = query.limit(limit)
    return [_with_uid(r) for r in conn.execute(query)]


def for_release(conn: Connection, release_id: int) -> list[Post]:
    return listing(conn, release_id=release_id)


def change(conn: Connection, post_id: int, *, allowed_from: Iterable[PostStatus],
           to: PostStatus | None, actor: str, action: str,
           detail: dict[str, Any] | None = None, **fields: Any) -> Post:
    """Apply one guarded change and record it; raise WorkflowError if the status moved on."""
    allowed = [s.value for s in allowed_from]
    values: dict[str, Any] = {"updated_at": clock.now(), **fields}
    if "images" in values:
        values["images"] = [i.model_dump() if isinstance(i, Image) else i
                            for i in values["images"]]
    if to is not None:
        values["status"] = to.value
    before = require(conn, post_id, lock=True)
    result = conn.execute(_CHANGE, {"the_post": post_id, "allowed": allowed, **values})
    if result.rowcount != 1:
        raise WorkflowError(
            f"post {post_id} is {before.status}: cannot {action} it "
            f"(only a post that is {' or '.join(allowed)} can be)")
    add_event(conn, actor=actor, action=action, post_id=post_id, release_id=before.release_id,
              from_status=before.status.value, to_status=(to or before.status).value,
              detail=detail)
    return require(conn, post_id)


def due_heads(conn: Connection, now: datetime,
              channel: str | None = None) -> list[tuple[Post, bool]]:
    """The first post in line per channel, if it may be claimed now.

    Returns (post, uncertain) pairs. A channel whose head is publishing under a live lease
    yields nothing: one request in flight per account keeps the timeline in order. An
    expired lease is returned as uncertain, so the publisher looks it up before any retry.
    """
    live = [S.APPROVED.value, S.FAILED.value, S.PUBLISHING.value]
    order = sa.func.coalesce(posts.c.publish_at, posts.c.created_at)
    query = (sa.select(posts.c.id, posts.c.channel, posts.c.status, posts.c.publish_at,
                       posts.c.next_attempt_at, posts.c.lease_until, posts.c.uncertain)
             .where(posts.c.status.in_(live)).order_by(posts.c.channel, order, posts.c.id))
    if channel is not None:
        query = query.where(posts.c.channel == channel)
    rows = conn.execute(query).all()
    heads: dict[str, Any] = {}
    for row in rows:
        if row.status == S.PUBLISHING.value:
            heads.setdefault(f"busy:{row.channel}", row)
            continue
        heads.setdefault(row.channel, row)
    picked: list[tuple[Post, bool]] = []
    for row in rows:
        if row.status != S.PUBLISHING.value:
            continue
        if heads.get(f"busy:{row.channel}") is row and row.lease_until <= now:
            picked.append((require(conn, row.id), True))
    busy = {k.removeprefix("busy:") for k in heads if k.startswith("busy:")}
    for channel, row in heads.items():
        if channel.startswith("busy:") or channel in busy:
            continue
        due_at = max(filter(None, [row.publish_at, row.next_attempt_at]), default=None)
        if due_at is None or due_at <= now:
            picked.append((require(conn, row.id), bool(row.uncertain)))
    return _lockable(conn, picked)


def _lockable(conn: Connection, picked: list[tuple[Post, bool]]) -> list[tuple[Post, bool]]:
    """On PostgreSQL, lock the heads with `FOR UPDATE SKIP LOCKED`; a head someone else holds
    (a reviewer's edit in flight) is skipped, and so is its channel, to keep the order."""
    if conn.dialect.name != "postgresql" or not picked:
        return picked
    ids = [post.id for post, _ in picked]
    locked = set(conn.execute(sa.select(posts.c.id).where(posts.c.id.in_(ids))
                              .with_for_update(skip_locked=True)).scalars())
    return [(post, uncertain) for post, uncertain in picked if post.id in locked]


def claim(conn: Connection, post: Post, *, worker: str, lease: timedelta,
          uncertain: bool) -> Post:
    now = clock.now()
    return change(
        conn, post.id, allowed_from=[S.APPROVED, S.FAILED, S.PUBLISHING], to=S.PUBLISHING,
        actor="system", action="reclaim" if post.status == S.PUBLISHING else "claim",
        detail={"worker": worker}, claimed_by=worker, claimed_at=now,
        lease_until=now + lease, uncertain=uncertain,
    )


def renew(conn: Connection, post_id: int, worker: str, lease: timedelta) -> bool:
    result = conn.execute(posts.update().where(
        posts.c.id == post_id, posts.c.status == S.PUBLISHING.value,
        posts.c.claimed_by == worker).values(lease_until=clock.now() + lease))
    return result.rowcount == 1


def counts(conn: Connection) -> dict[tuple[str, str], int]:
    rows = conn.execute(sa.select(posts.c.channel, posts.c.status, sa.func.count())
                        .group_by(posts.c.channel, posts.c.status))
    return {(r[0], r[1]): int(r[2]) for r in rows}


def list_events(conn: Connection, *, post_id: int | None = None,
                limit: int | None = None) -> list[dict[str, Any]]:
    query = sa.select(events).order_by(events.c.id.desc())
    if post_id is not None:
        query = query.where(events.c.post_id == post_id)
    if limit:
        query = query.limit(limit)
    return [dict(r._mapping) for r in conn.execute(query)]
