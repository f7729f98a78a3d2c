"""Posts and their audit trail: every status change is one guarded UPDATE plus one event row.

A change names the statuses it may start from; if the post is no longer in one of them
(another worker, another reviewer got there first) nothing is written and
`WorkflowError` says what the post's status is now.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Literal, NoReturn, overload

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot import clock
from bot.errors import LostClaim, WorkflowError
from bot.models import Image, Post, PostStatus, new_post_uid
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
        "uid": new_post_uid(), "created_at": now, "updated_at": now, **fields})
    post_id = int(result.inserted_primary_key[0])  # type: ignore[index]
    add_event(conn, actor=actor, action="queued", post_id=post_id, release_id=release_id,
              to_status=status, detail=detail or {})
    return post_id


_INSERT_POSTS = posts.insert().returning(posts.c.id, sort_by_parameter_order=True)


def insert_many(conn: Connection, items: list[dict[str, Any]], *, actor: str) -> list[int]:
    """Queue several posts (each a dict of `insert`'s arguments) in two statements."""
    if not items:
        return []
    now = clock.now()
    rows = []
    for item in items:
        fields = {k: v for k, v in item.items() if k not in ("detail",)}
        if "images" in fields:
            fields["images"] = [i.model_dump() if isinstance(i, Image) else i
                                for i in fields["images"]]
        fields["status"] = PostStatus(fields["status"]).value
        rows.append({"uid": new_post_uid(), **fields, "created_at": now, "updated_at": now})
    ids = [int(i) for i in conn.execute(_INSERT_POSTS, rows).scalars()]
    conn.execute(_INSERT_EVENT, [
        {"at": now, "actor": actor, "action": "queued", "post_id": post_id,
         "release_id": item.get("release_id"), "from_status": None,
         "to_status": PostStatus(item["status"]).value, "detail": item.get("detail") or {}}
        for post_id, item in zip(ids, items, strict=True)])
    return ids


def add_event(conn: Connection, *, actor: str, action: str, post_id: int | None = None,
              release_id: int | None = None, from_status: str | None = None,
              to_status: str | None = None, detail: dict[str, Any] | None = None) -> None:
    conn.execute(_INSERT_EVENT, {
        "at": clock.now(), "actor": actor, "action": action, "post_id": post_id,
        "release_id": release_id, "from_status": from_status, "to_status": to_status,
        "detail": detail or {}})


_ROW = (sa.select(posts, releases.c.source, releases.c.key,
                  releases.c.url.label("release_url"))
        .join(releases, releases.c.id == posts.c.release_id, isouter=True))
_GET = _ROW.where(posts.c.id == sa.bindparam("the_post"))
_GET_LOCKED = _GET.with_for_update(of=posts)
_GET_SKIP_LOCKED = _GET.with_for_update(of=posts, skip_locked=True)
# values given at execution time decide the SET clause; the names avoid the columns'
_CHANGE = posts.update().where(posts.c.id == sa.bindparam("the_post"),
                               posts.c.status.in_(sa.bindparam("allowed", expanding=True)))
_CHANGE_ONE = _CHANGE.returning(posts.c.release_id)
_CHANGE_FENCED = _CHANGE_ONE.where(posts.c.claim_token == sa.bindparam("the_claim"))
"""A publisher's outcome: written only while its claim is still the post's current one."""


def get(conn: Connection, post_id: int, *, lock: bool = False) -> Post | None:
    query = _GET_LOCKED if lock and conn.dialect.name == "postgresql" else _GET
    row = conn.execute(query, {"the_post": post_id}).first()
    if row is None:
        return None
    return _with_uid(row)


def _with_uid(row: sa.Row[Any], changes: Mapping[str, Any] | None = None) -> Post:
    m = dict(row._mapping)
    if changes:
        m.update(changes)
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
    query = (sa.select(posts, releases.c.source, releases.c.key,
                       releases.c.url.label("release_url"))
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


def channel_names(conn: Connection) -> frozenset[str]:
    """Every channel that has posts, configured or not."""
    return frozenset(conn.execute(sa.select(posts.c.channel).distinct()).scalars())


def for_release(conn: Connection, release_id: int) -> list[Post]:
    return listing(conn, release_id=release_id)


_STATUS = sa.select(posts.c.status).where(posts.c.id == sa.bindparam("the_post"))


@overload
def change(conn: Connection, post_id: int, *, allowed_from: Iterable[PostStatus],
           to: PostStatus | None, actor: str, action: str,
           detail: dict[str, Any] | None = None, returning: Literal[True] = True,
           **fields: Any) -> Post: ...


@overload
def change(conn: Connection, post_id: int, *, allowed_from: Iterable[PostStatus],
           to: PostStatus | None, actor: str, action: str,
           detail: dict[str, Any] | None = None, returning: Literal[False],
           **fields: Any) -> None: ...


def change(conn: Connection, post_id: int, *, allowed_from: Iterable[PostStatus],
           to: PostStatus | None, actor: str, action: str,
           detail: dict[str, Any] | None = None, returning: bool = True,
           fence: int | None = None, **fields: Any) -> Post | None:
    """Apply one guarded change and record it; raise WorkflowError if the status moved on.

    Returns the post as it is now, unless `returning=False` (the publisher's hot path).
    With `fence` (a claim's token) the change is written only while that claim is the
    post's current one, else `LostClaim`.
    """
    allowed = [s.value for s in allowed_from]
    if fence is not None and (returning or len(allowed) != 1):
        raise ValueError("a fenced change is the publisher's: returning=False, one status")
    if not returning and len(allowed) == 1:
        # One status to start from is the event's "from", and the UPDATE hands back the
        # release: no read before it (the publisher records every outcome this way).
        values = _values(to, fields)
        params = {"the_post": post_id, "allowed": allowed, **values}
        if fence is None:
            row = conn.execute(_CHANGE_ONE, params).first()
        else:
            row = conn.execute(_CHANGE_FENCED, {**params, "the_claim": fence}).first()
            if row is None and not holds(conn, post_id, fence):
                raise LostClaim(f"post {post_id}: this worker's claim {fence} was taken over "
                                f"by another worker; not recording {action!r}")
        if row is None:
            _refuse(conn, post_id, action, allowed)
        add_event(conn, actor=actor, action=action, post_id=post_id, release_id=row.release_id,
                  from_status=allowed[0], to_status=values.get("status", allowed[0]),
                  detail=detail)
        return None
    before = _before(conn, post_id)
    post = _apply(conn, before, allowed=allowed, to=to, actor=actor, action=action,
                  detail=detail, fields=fields)
    return post if returning else None


def _values(to: PostStatus | None, fields: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {"updated_at": clock.now(), **fields}
    if "images" in values:
        values["images"] = [i.model_dump() if isinstance(i, Image) else i
                            for i in values["images"]]
    if to is not None:
        values["status"] = to.value
    return values


def _before(conn: Connection, post_id: int) -> sa.Row[Any]:
    """The post's row as it is before a change (locked on PostgreSQL until commit)."""
    locked = conn.dialect.name == "postgresql"
    before = conn.execute(_GET_LOCKED if locked else _GET, {"the_post": post_id}).first()
    if before is None:
        raise WorkflowError(f"post {post_id} does not exist (see `pressbot queue`)")
    return before


def _apply(conn: Connection, before: sa.Row[Any], *, allowed: list[str],
           to: PostStatus | None, actor: str, action: str, detail: dict[str, Any] | None,
           fields: dict[str, Any]) -> Post:
    """The guarded UPDATE and its event; the post returned is the row read before with the
    written values laid over it (what the UPDATE stored, without reading it back)."""
    values = _values(to, fields)
    result = conn.execute(_CHANGE, {"the_post": before.id, "allowed": allowed, **values})
    if result.rowcount != 1:
        raise WorkflowError(
            f"post {before.id} is {before.status}: cannot {action} it "
            f"(only a post that is {' or '.join(allowed)} can be)")
    add_event(conn, actor=actor, action=action, post_id=before.id,
              release_id=before.release_id, from_status=before.status,
              to_status=values.get("status", before.status), detail=detail)
    return _with_uid(before, values)


def _refuse(conn: Connection, post_id: int, action: str, allowed: list[str]) -> NoReturn:
    now = conn.execute(_STATUS, {"the_post": post_id}).scalar()
    if now is None:
        raise WorkflowError(f"post {post_id} does not exist (see `pressbot queue`)")
    raise WorkflowError(f"post {post_id} is {now}: cannot {action} it "
                        f"(only a post that is {' or '.join(allowed)} can be)")


def _first_in_line(status: PostStatus) -> sa.Subquery:
    return (sa.select(posts.c.id, posts.c.status, posts.c.publish_at, posts.c.next_attempt_at,
                      posts.c.uncertain, posts.c.lease_until, posts.c.claimed_by)
            .where(posts.c.channel == sa.bindparam("channel"), posts.c.status == status.value)
            .order_by(posts.c.publish_at, posts.c.id).limit(1).subquery())


# A channel's line in one round trip: the first post publishing, approved and retrying,
# each an indexed single-row lookup (channel, status, publish_at, id).
_LINE = sa.union_all(*(sa.select(_first_in_line(status))
                       for status in (S.PUBLISHING, S.APPROVED, S.FAILED)))
_LIVE_CHANNELS = (sa.select(posts.c.channel).distinct()
                  .where(posts.c.status.in_([S.APPROVED.value, S.FAILED.value,
                                             S.PUBLISHING.value])))


def due_heads(conn: Connection, now: datetime, channel: str | None = None, *,
              waiting: Collection[str] = (),
              gone: Callable[[str], bool] = lambda worker: False,
              later: list[datetime] | None = None) -> list[tuple[int, bool]]:
    """Per channel, the first post in line — as (post id, uncertain) — if it may go now.

    Order is `publish_at` then id (every approved post has a slot). A channel with a post
    publishing under a live lease yields nothing: one request in flight per account keeps
    its timeline in order. An expired lease, or one held by a worker that is `gone` (its
    process provably ended), is returned as uncertain, so the publisher looks it up before
    any retry. Channels in `waiting` (paused, or waiting out an outage) are skipped. Each
    channel costs one statement of three indexed single-row lookups, whatever the size of
    the queue.

    `later` receives, per channel that yields nothing, when it may next: its head's slot or
    retry time, or `now` while another worker's claim is live (it may end at any moment:
    a commit, or that worker's death, which no commit tells).
    """
    channels = [channel] if channel is not None else list(conn.execute(_LIVE_CHANNELS).scalars())
    picked: list[tuple[int, bool]] = []
    for name in channels:
        if name in waiting:
            continue
        line = conn.execute(_LINE, {"channel": name}).all()
        busy = next((row for row in line if row.status == S.PUBLISHING.value), None)
        if busy is not None:
            if (busy.lease_until is not None and busy.lease_until <= now) or (
                    busy.claimed_by and gone(busy.claimed_by)):
                picked.append((busy.id, True))
            elif later is not None:
                later.append(now)
            continue
        if not line:
            continue
        head = min(line, key=lambda r: (r.publish_at or now, r.id))
        due_at = max(filter(None, [head.publish_at, head.next_attempt_at]), default=None)
        if due_at is None or due_at <= now:
            picked.append((head.id, bool(head.uncertain)))
        elif later is not None:
            later.append(due_at)
    return picked


_PEEK = (_ROW.where(posts.c.channel == sa.bindparam("channel"),
                   posts.c.status == S.APPROVED.value, posts.c.publish_at <= sa.bindparam("now"))
         .order_by(posts.c.publish_at, posts.c.id).limit(1))


def peek(conn: Connection, channel: str, now: datetime) -> Post | None:
    """The approved post that will most likely follow the one just claimed, when it is due
    now: only a hint (for uploading its images early), never a claim. One indexed query."""
    row = conn.execute(_PEEK, {"channel": channel, "now": now}).first()
    return _with_uid(row) if row is not None else None


_STALE = (sa.select(posts.c.id, posts.c.channel, posts.c.publish_at)
          .where(posts.c.channel == sa.bindparam("channel"),
                 posts.c.status == S.APPROVED.value,
                 posts.c.publish_at < sa.bindparam("before"),
                 posts.c.attempts == 0, posts.c.uncertain.is_(False))
          .order_by(posts.c.publish_at, posts.c.id))


def stale(conn: Connection, before: datetime, *,
          exclude: Collection[str] = ()) -> list[tuple[int, str, datetime]]:
    """Approved, never tried posts whose slot is before `before`, per live channel (served
    by the channel/status/slot index)."""
    found: list[tuple[int, str, datetime]] = []
    for name in conn.execute(_LIVE_CHANNELS).scalars():
        if name not in exclude:
            found += [(r.id, r.channel, r.publish_at)
                      for r in conn.execute(_STALE, {"channel": name, "before": before})]
    return found


_CLAIMABLE = [S.APPROVED.value, S.FAILED.value, S.PUBLISHING.value]


def claim(conn: Connection, post_id: int, *, worker: str, lease: timedelta,
          uncertain: bool) -> Post | None:
    """Take a post for publishing under a lease (a reclaim when its old lease expired).

    None when it cannot be taken now: on PostgreSQL another transaction holds its row (a
    reviewer's edit in flight: `FOR UPDATE SKIP LOCKED` passes over it instead of waiting)
    or changed it after the line was read. The caller then leaves the channel for this
    pass, so the post behind it does not jump the line. Three statements: the row (with
    the release's uid and the first claim's time), the guarded UPDATE, the event.
    """
    now = clock.now()
    query = _GET_SKIP_LOCKED if conn.dialect.name == "postgresql" else _GET
    before = conn.execute(query, {"the_post": post_id}).first()
    if before is None or before.status not in _CLAIMABLE:
        return None
    token = before.claim_token + 1
    return _apply(conn, before, allowed=_CLAIMABLE, to=S.PUBLISHING, actor="system",
                  action="reclaim" if uncertain else "claim",
                  detail={"worker": worker, "claim": token},
                  fields={"claimed_by": worker, "claimed_at": now, "lease_until": now + lease,
                          "uncertain": uncertain, "claim_token": token,
                          "first_claimed_at": before.first_claimed_at or now})


def renew(conn: Connection, post_id: int, worker: str, lease: timedelta,
          token: int) -> bool:
    """Extend a claim's lease; False when the claim is no longer this worker's."""
    result = conn.execute(posts.update().where(
        posts.c.id == post_id, posts.c.status == S.PUBLISHING.value,
        posts.c.claimed_by == worker, posts.c.claim_token == token)
        .values(lease_until=clock.now() + lease))
    return result.rowcount == 1


_TOKEN = sa.select(posts.c.claim_token).where(posts.c.id == sa.bindparam("the_post"))


def holds(conn: Connection, post_id: int, token: int) -> bool:
    """Whether the claim with this token is still the post's current one (the fence)."""
    return conn.execute(_TOKEN, {"the_post": post_id}).scalar() == token


def counts(conn: Connection) -> dict[tuple[str, str], int]:
    rows = conn.execute(sa.select(posts.c.channel, posts.c.status, sa.func.count())
                        .group_by(posts.c.channel, posts.c.status))
    return {(r[0], r[1]): int(r[2]) for r in rows}


def overdue_counts(conn: Connection, before: datetime) -> dict[str, int]:
    """Per channel, approved or retrying posts whose time came before `before`."""
    due = sa.func.coalesce(posts.c.next_attempt_at, posts.c.publish_at)
    rows = conn.execute(sa.select(posts.c.channel, sa.func.count())
                        .where(posts.c.status.in_((S.APPROVED.value, S.FAILED.value)),
                               due < before)
                        .group_by(posts.c.channel))
    return {r[0]: int(r[1]) for r in rows}


def list_events(conn: Connection, *, post_id: int | None = None,
                limit: int | None = None) -> list[dict[str, Any]]:
    query = sa.select(events).order_by(events.c.id.desc())
    if post_id is not None:
        query = query.where(events.c.post_id == post_id)
    if limit:
        query = query.limit(limit)
    return [dict(r._mapping) for r in conn.execute(query)]
