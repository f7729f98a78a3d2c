"""The per-recipient delivery ledger of newsletter posts.

One row per (post, subscriber), written before the message goes out (`pending`) and
committed as `sent` right after the server accepted it. A crash therefore re-sends at most
the message that was in flight on each connection, and a resumed send skips every `sent`
row. The rows of a post are inserted once, on its first attempt: that snapshot is the
audience, so a person who subscribes halfway does not get an old newsletter.

    pending ──► sent
       │  └───► bounced   (5xx on RCPT: the address is refused)
       │  └───► failed    (5xx on DATA, a message that could not be built, too many 4xx)
       └──────► skipped   (unsubscribed, bounced or erased after the snapshot)
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot import clock
from bot.store.schema import UTCDateTime, deliveries, posts, subscribers

PENDING, SENT, BOUNCED, FAILED, SKIPPED = "pending", "sent", "bounced", "failed", "skipped"
DONE = (SENT, BOUNCED, FAILED, SKIPPED)


@dataclass(frozen=True)
class Delivery:
    """A pending row joined with what is needed to mail its subscriber."""

    post_id: int
    subscriber_id: int
    email: str
    name: str | None
    subscriber_status: str
    bounces: int
    attempts: int
    message_id: str
    language: str | None = None


def exists(conn: Connection, post_id: int) -> bool:
    row = conn.execute(sa.select(deliveries.c.post_id)
                       .where(deliveries.c.post_id == post_id).limit(1)).first()
    return row is not None


def snapshot(conn: Connection, post_id: int, recipients: Iterable[tuple[int, str]]) -> int:
    """Insert one pending row per (subscriber id, message id); a no-op once a post has rows."""
    if exists(conn, post_id):
        return 0
    return add(conn, post_id, recipients)


def add(conn: Connection, post_id: int, recipients: Iterable[tuple[int, str]]) -> int:
    """Insert pending rows for these recipients (one page of a snapshot)."""
    now = clock.now()
    rows = [{"post_id": post_id, "subscriber_id": sid, "status": PENDING, "attempts": 0,
             "message_id": message_id, "updated_at": now} for sid, message_id in recipients]
    if rows:
        conn.execute(deliveries.insert(), rows)
    return len(rows)


def due(conn: Connection, post_id: int, now: datetime, *, after: int = 0,
        limit: int | None = None) -> list[Delivery]:
    """Pending rows whose retry time has come, oldest subscriber first; a page of them with
    `after` (the last subscriber id seen) and `limit`."""
    query = (
        sa.select(deliveries.c.post_id, deliveries.c.subscriber_id, subscribers.c.email,
                  subscribers.c.name, subscribers.c.status.label("subscriber_status"),
                  subscribers.c.bounces, deliveries.c.attempts, deliveries.c.message_id,
                  subscribers.c.language)
        .join(subscribers, subscribers.c.id == deliveries.c.subscriber_id)
        .where(deliveries.c.post_id == post_id, deliveries.c.status == PENDING,
               deliveries.c.subscriber_id > after,
               sa.or_(deliveries.c.next_attempt_at.is_(None),
                      deliveries.c.next_attempt_at <= now))
        .order_by(deliveries.c.subscriber_id))
    if limit is not None:
        query = query.limit(limit)
    return [Delivery(**dict(r._mapping)) for r in conn.execute(query)]


def _where(post_id: int, subscriber_id: int) -> Any:
    return sa.and_(deliveries.c.post_id == post_id, deliveries.c.subscriber_id == subscriber_id)


_MARK_SENT = (
    deliveries.update()
    .where(deliveries.c.post_id == sa.bindparam("p_post"),
           deliveries.c.subscriber_id == sa.bindparam("p_subscriber"))
    .values(status=SENT, attempts=deliveries.c.attempts + 1, last_error=None,
            next_attempt_at=None, updated_at=sa.bindparam("p_at", type_=UTCDateTime)))
"""Built once: it runs once per message sent, and building a statement costs more than
running it on SQLite."""


def mark_sent(conn: Connection, post_id: int, subscriber_id: int, *,
              reset_bounces: bool = False) -> None:
    """Accepted by the server; `reset_bounces` clears earlier refusals of the address."""
    conn.execute(_MARK_SENT, {"p_post": post_id, "p_subscriber": subscriber_id,
                              "p_at": clock.now()})
    if reset_bounces:
        conn.execute(subscribers.update().where(subscribers.c.id == subscriber_id)
                     .values(bounces=0))


def mark_retry(conn: Connection, post_id: int, subscriber_id: int, error: str,
               next_attempt_at: datetime) -> None:
    conn.execute(deliveries.update().where(_where(post_id, subscriber_id)).values(
        attempts=deliveries.c.attempts + 1, last_error=error[:1000],
        next_attempt_at=next_attempt_at, updated_at=clock.now()))


def mark_done(conn: Connection, post_id: int, subscriber_id: int, status: str,
              error: str | None, *, attempted: bool = True) -> None:
    """Close a row for good (bounced, failed or skipped)."""
    assert status in DONE
    values: dict[str, Any] = {"status": status, "last_error": error and error[:1000],
                              "next_attempt_at": None, "updated_at": clock.now()}
    if attempted:
        values["attempts"] = deliveries.c.attempts + 1
    conn.execute(deliveries.update().where(_where(post_id, subscriber_id)).values(**values))


def counts(conn: Connection, post_id: int) -> dict[str, int]:
    rows = conn.execute(sa.select(deliveries.c.status, sa.func.count())
                        .where(deliveries.c.post_id == post_id)
                        .group_by(deliveries.c.status))
    return {r[0]: int(r[1]) for r in rows}


def progress(conn: Connection, post_id: int) -> dict[str, int]:
    """`{"sent", "failed", "remaining", "skipped"}`; failed counts bounced and failed rows."""
    c = counts(conn, post_id)
    return {"sent": c.get(SENT, 0), "failed": c.get(BOUNCED, 0) + c.get(FAILED, 0),
            "remaining": c.get(PENDING, 0), "skipped": c.get(SKIPPED, 0)}


def write_progress(conn: Connection, post_id: int) -> dict[str, int]:
    """Store the post's progress in `posts.extra["progress"]`, where `queue`/`show` read it."""
    now = progress(conn, post_id)
    row = conn.execute(sa.select(posts.c.extra).where(posts.c.id == post_id)).first()
    if row is not None:
        extra = dict(row[0] or {})
        extra["progress"] = now
        conn.execute(posts.update().where(posts.c.id == post_id).values(extra=extra))
    return now


def next_attempt_at(conn: Connection, post_id: int) -> datetime | None:
    """The earliest retry time among the post's pending rows (None: some are due now)."""
    pending = sa.and_(deliveries.c.post_id == post_id, deliveries.c.status == PENDING)
    if conn.execute(sa.select(deliveries.c.post_id).where(
            pending, deliveries.c.next_attempt_at.is_(None)).limit(1)).first():
        return None
    value: datetime | None = conn.execute(
        sa.select(sa.func.min(deliveries.c.next_attempt_at)).where(pending)).scalar()
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def sent_since(conn: Connection, channel: str, since: datetime) -> int:
    """Messages this channel had accepted since `since` (for `rate_per_hour` across runs)."""
    return int(conn.execute(
        sa.select(sa.func.count()).select_from(deliveries)
        .join(posts, posts.c.id == deliveries.c.post_id)
        .where(posts.c.channel == channel, deliveries.c.status == SENT,
               deliveries.c.updated_at >= since)).scalar() or 0)


def oldest_sent_since(conn: Connection, channel: str, since: datetime) -> datetime | None:
    value: datetime | None = conn.execute(
        sa.select(sa.func.min(deliveries.c.updated_at))
        .join(posts, posts.c.id == deliveries.c.post_id)
        .where(posts.c.channel == channel, deliveries.c.status == SENT,
               deliveries.c.updated_at >= since)).scalar()
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def subscriber_for_message_id(conn: Connection, message_id: str) -> int | None:
    """The recipient of a message pressbot sent with this Message-ID (ids are in it; the
    ledger's copy must match, so a made-up one names nobody)."""
    match = re.fullmatch(r"<pressbot\.(\d+)\.(\d+)\.[0-9a-f]+@[^<>\s]+>", message_id)
    if match is None:
        return None
    post_id, subscriber_id = int(match.group(1)), int(match.group(2))
    row = conn.execute(sa.select(deliveries.c.message_id)
                       .where(_where(post_id, subscriber_id))).first()
    return subscriber_id if row is not None and row[0] == message_id else None
