"""The per-recipient delivery ledger of newsletter posts.

One row per (post, subscriber), inserted `pending` on the post's first attempt: that
snapshot is the audience, so a person who subscribes halfway does not get an old
newsletter. A connection reserves a batch of rows at once (`claim`: `claimed`, one
committed transaction that checks the sender's claim on the post is still the current
one), so a send needs one durable commit per batch, not per message. Before a message goes
out its row is marked `sending` (`start`, checking the claim again): one worker per
address, and none whose claim another worker took over. The server's answer is committed
right after it, together with the next row's `start` (`SendPass` commits them as a group).

    pending ──► claimed ──► pending    (the pass ended before its turn: nothing went out)
                   │
                   ▼
    pending ──► sending ──► sent
       │           ├──────► bounced    (5xx on RCPT: the address is refused)
       │           ├──────► failed     (5xx on DATA, too many 4xx)
       │           ├──────► pending    (4xx, 421, connection lost before DATA: not sent)
       │           └──────► uncertain  (no answer after the body went out, or the answer
       │                                was never recorded: a crash, a database outage)
       ├──────────────────► failed     (the message could not be built)
       └──────────────────► skipped    (unsubscribed, bounced or erased after the snapshot)

`uncertain` is at most once: the server may well have the message, so it is not sent
again (the email channel's `uncertain = "resend"` chooses at least once instead). A row
left `sending` by an earlier attempt is settled so when the next attempt starts; a row left
`claimed` never went out and is pending again.

Durability: a batch claim waits for the disk; `start` and the answers do not on PostgreSQL
(the ledger writer's session has `synchronous_commit = off`): they survive a crash of
pressbot, and only a crash of the database server itself can lose the last few. A lost
answer leaves `sending` → `uncertain`, never a second message. A lost `start` would leave
a row `claimed` whose message may have gone, so `settle` trusts `claimed` rows only while
the server that recorded the claim is still the one running (`incarnation`); after a
restart they are `uncertain` too.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot import clock
from bot.errors import LostClaim
from bot.store import meta
from bot.store.schema import UTCDateTime, deliveries, posts, subscribers

PENDING, CLAIMED, SENDING, SENT = "pending", "claimed", "sending", "sent"
BOUNCED, FAILED, SKIPPED, UNCERTAIN = "bounced", "failed", "skipped", "uncertain"
DONE = (SENT, BOUNCED, FAILED, SKIPPED, UNCERTAIN)


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


def analyze(conn: Connection) -> None:
    """PostgreSQL: bring the table's statistics up to date after a snapshot added a post's
    rows. The ledger writer keeps one generic plan per statement, planned from the
    statistics at hand; planned on those of an emptier table (the first newsletter, before
    autovacuum came by), a plan can read the whole table for each row (a send at 157
    instead of 750 messages a second). ANALYZE also drops the plans made before it."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("ANALYZE deliveries")


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


def _mine(post_id: int, subscriber_id: int, token: int) -> Any:
    """The row this claim marked `sending` (a row another claim took is left alone)."""
    return sa.and_(_where(post_id, subscriber_id), deliveries.c.status == SENDING,
                   deliveries.c.claim_token == token)


_START = (
    deliveries.update()
    .where(deliveries.c.post_id == sa.bindparam("p_post"),
           deliveries.c.subscriber_id == sa.bindparam("p_subscriber"),
           sa.or_(deliveries.c.status == PENDING,
                  sa.and_(deliveries.c.status == CLAIMED,
                          deliveries.c.claim_token == sa.bindparam("p_token"))),
           sa.exists().where(posts.c.id == sa.bindparam("p_post"),
                             posts.c.claim_token == sa.bindparam("p_token")))
    .values(status=SENDING, claim_token=sa.bindparam("p_token"),
            updated_at=sa.bindparam("p_at", type_=UTCDateTime)))


def start(conn: Connection, post_id: int, subscriber_id: int, token: int) -> bool:
    """Mark a recipient `sending` under claim `token`, before anything goes to the server
    (a pending row, or one this claim reserved with `claim`).

    False when the row is no longer pending nor reserved by this claim (so nobody mails
    the address twice);
    `LostClaim` when `token` is no longer the post's claim: its worker was paused past
    its lease and another took the post over, so it must stop sending altogether.
    """
    params = {"p_post": post_id, "p_subscriber": subscriber_id, "p_token": token,
              "p_at": clock.now()}
    if conn.execute(_START, params).rowcount == 1:
        return True
    _fence(conn, post_id, token)
    return False


def _fence(conn: Connection, post_id: int, token: int) -> None:
    current = conn.execute(sa.select(posts.c.claim_token).where(posts.c.id == post_id)).scalar()
    if current != token:
        raise LostClaim(f"newsletter {post_id}: another worker took it over after this "
                        f"worker's lease ran out (claim {token} is stale, now {current}); "
                        "stopping before the next message")


def claim(conn: Connection, post_id: int, subscriber_ids: list[int], token: int) -> set[int]:
    """Reserve these recipients (those still pending) for claim `token`, in one statement:
    the subscriber ids now `claimed`. `LostClaim` when `token` is no longer the post's.

    Commit it durably (the ledger writer's `durable`): it records which rows a `start`
    may have touched (see the module's docstring), and `incarnation` goes with it."""
    _fence(conn, post_id, token)
    if not subscriber_ids:
        return set()
    rows = conn.execute(
        deliveries.update()
        .where(deliveries.c.post_id == post_id, deliveries.c.status == PENDING,
               deliveries.c.subscriber_id.in_(subscriber_ids))
        .values(status=CLAIMED, claim_token=token, updated_at=clock.now())
        .returning(deliveries.c.subscriber_id))
    taken = {int(r[0]) for r in rows}
    if conn.dialect.name == "postgresql":
        key = f"ledger-incarnation:{post_id}"
        now = incarnation(conn)
        if meta.get(conn, key) != now:
            meta.put(conn, key, now)
    return taken


fence = _fence
"""Raise `LostClaim` when `token` is no longer the post's claim (the writer's check after a
`advance` that started fewer rows than asked)."""

_ADVANCE_PG = (
    "WITH sent AS (UPDATE deliveries SET status = 'sent', attempts = attempts + 1,"
    " last_error = NULL, next_attempt_at = NULL, updated_at = %(at)s"
    " WHERE post_id = %(post)s AND claim_token = %(token)s"
    " AND status IN ('sending', 'uncertain') AND subscriber_id = ANY(%(sent)s::integer[])"
    " RETURNING 1),"
    " reset AS (UPDATE subscribers SET bounces = 0 WHERE id = ANY(%(reset)s::integer[])"
    " RETURNING 1)"
    " UPDATE deliveries SET status = 'sending', claim_token = %(token)s, updated_at = %(at)s"
    " WHERE post_id = %(post)s AND subscriber_id = ANY(%(start)s::integer[])"
    " AND (status = 'pending' OR (status = 'claimed' AND claim_token = %(token)s))"
    " AND EXISTS (SELECT 1 FROM posts WHERE id = %(post)s AND claim_token = %(token)s)"
    " RETURNING subscriber_id")
"""One statement, so one round trip, and atomic without BEGIN/COMMIT (data-modifying CTEs
always run to completion, read or not)."""

_SENT_SQLITE = (
    "UPDATE deliveries SET status = 'sent', attempts = attempts + 1, last_error = NULL,"
    " next_attempt_at = NULL, updated_at = ? WHERE post_id = ? AND claim_token = ?"
    " AND status IN ('sending', 'uncertain') AND subscriber_id IN ({})")
_START_SQLITE = (
    "UPDATE deliveries SET status = 'sending', claim_token = ?, updated_at = ?"
    " WHERE post_id = ? AND subscriber_id IN ({})"
    " AND (status = 'pending' OR (status = 'claimed' AND claim_token = ?))"
    " AND EXISTS (SELECT 1 FROM posts WHERE id = ? AND claim_token = ?)"
    " RETURNING subscriber_id")
_WHEN: dict[str, Callable[[Any], Any]] = {}


def advance(conn: Connection, post_id: int, token: int, *, sent: list[int],
            reset: list[int], start: list[int]) -> set[int]:
    """A send's hot path in as few statements as the database allows: the recipients in
    `sent` accepted (`mark_sent`, `reset` clearing their earlier bounces), those in
    `start` marked `sending` (`start`). Returns the ids now `sending` for this claim; one
    missing is no longer ours, or the claim was lost (`fence` tells which).

    The same guarded UPDATEs as `mark_sent` and `start`, written as SQL on the driver's
    own cursor, inside whatever transaction `conn` is in: building and binding
    SQLAlchemy statements, and even `exec_driver_sql`'s result handling, cost more than
    running them (0.46 against 0.11 ms of CPU a message on SQLite, measured on this
    writer's statements), and PostgreSQL takes both in one statement, one round trip. A
    driver error comes out as SQLAlchemy's (`driver_errors`)."""
    dialect = conn.dialect
    when = _WHEN.get(dialect.name)
    if when is None:  # UTCDateTime's own conversion (on SQLite, the text SQLAlchemy stores)
        when = _WHEN[dialect.name] = UTCDateTime().bind_processor(dialect) or (lambda v: v)
    at = when(clock.now())
    with driver_errors(conn):
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            if dialect.name == "postgresql":
                cursor.execute(_ADVANCE_PG, {
                    "at": at, "post": post_id, "token": token, "sent": sent, "reset": reset,
                    "start": start})
                return {int(r[0]) for r in cursor.fetchall()}
            if sent:
                cursor.execute(_SENT_SQLITE.format(",".join("?" * len(sent))),
                               (at, post_id, token, *sent))
            if reset:
                cursor.execute("UPDATE subscribers SET bounces = 0 WHERE id IN ({})".format(
                    ",".join("?" * len(reset))), tuple(reset))
            if not start:
                return set()
            cursor.execute(_START_SQLITE.format(",".join("?" * len(start))),
                           (token, at, post_id, *start, token, post_id, token))
            return {int(r[0]) for r in cursor.fetchall()}
        finally:
            cursor.close()


@contextlib.contextmanager
def driver_errors(conn: Connection) -> Iterator[None]:
    """The driver's errors raised as SQLAlchemy raises them (`OperationalError`, …), for
    SQL run on the driver's cursor: callers tell a database failure by those."""
    base = conn.dialect.loaded_dbapi.Error
    try:
        yield
    except base as exc:
        raise sa.exc.DBAPIError.instance(None, None, exc, base, dialect=conn.dialect) \
            from exc


def unclaim(conn: Connection, post_id: int, subscriber_ids: list[int], token: int) -> None:
    """Rows this claim reserved and never started: pending again (nothing went out)."""
    if subscriber_ids:
        conn.execute(deliveries.update().where(
            deliveries.c.post_id == post_id, deliveries.c.status == CLAIMED,
            deliveries.c.claim_token == token, deliveries.c.subscriber_id.in_(subscriber_ids))
            .values(status=PENDING, updated_at=clock.now()))


def incarnation(conn: Connection) -> str | None:
    """When the database server started (PostgreSQL): a restart may have lost the
    transactions committed without waiting for the disk last. None on SQLite."""
    if conn.dialect.name != "postgresql":
        return None
    return str(conn.exec_driver_sql("SELECT pg_postmaster_start_time()").scalar())


_MARK_SENT = (
    deliveries.update()
    .where(deliveries.c.post_id == sa.bindparam("p_post"),
           deliveries.c.subscriber_id == sa.bindparam("p_subscriber"),
           deliveries.c.status.in_([SENDING, UNCERTAIN]),
           deliveries.c.claim_token == sa.bindparam("p_token"))
    .values(status=SENT, attempts=deliveries.c.attempts + 1, last_error=None,
            next_attempt_at=None, updated_at=sa.bindparam("p_at", type_=UTCDateTime)))
"""Built once: it runs once per message sent, and building a statement costs more than
running it on SQLite. From `uncertain` too: the answer of a worker that was paused past
its lease came late, but it is the truth about that message."""


def mark_sent(conn: Connection, post_id: int, subscriber_id: int, token: int, *,
              reset_bounces: bool = False) -> None:
    """Accepted by the server; `reset_bounces` clears earlier refusals of the address."""
    conn.execute(_MARK_SENT, {"p_post": post_id, "p_subscriber": subscriber_id,
                              "p_token": token, "p_at": clock.now()})
    if reset_bounces:
        conn.execute(subscribers.update().where(subscribers.c.id == subscriber_id)
                     .values(bounces=0))


def release(conn: Connection, post_id: int, subscriber_id: int, token: int,
            error: str) -> None:
    """Nothing went out (the connection failed before DATA): pending again, no attempt
    spent — a server that is down is the channel's outage, not the recipient's failure."""
    conn.execute(deliveries.update().where(_mine(post_id, subscriber_id, token)).values(
        status=PENDING, last_error=error[:1000], updated_at=clock.now()))


def mark_retry(conn: Connection, post_id: int, subscriber_id: int, token: int, error: str,
               next_attempt_at: datetime) -> None:
    conn.execute(deliveries.update().where(_mine(post_id, subscriber_id, token)).values(
        status=PENDING, attempts=deliveries.c.attempts + 1, last_error=error[:1000],
        next_attempt_at=next_attempt_at, updated_at=clock.now()))


def mark_done(conn: Connection, post_id: int, subscriber_id: int, status: str,
              error: str | None, *, token: int | None = None,
              claimed: int | None = None) -> None:
    """Close a row for good: one this claim was `sending` (an answer: bounced, failed,
    uncertain), or, without `token`, one nothing was sent to (skipped, a message that
    could not be built): pending, or reserved by claim `claimed`."""
    assert status in DONE
    values: dict[str, Any] = {"status": status, "last_error": error and error[:1000],
                              "next_attempt_at": None, "updated_at": clock.now()}
    if token is not None:
        where = _mine(post_id, subscriber_id, token)
        values["attempts"] = deliveries.c.attempts + 1
    elif claimed is not None:
        where = sa.and_(_where(post_id, subscriber_id), sa.or_(
            deliveries.c.status == PENDING,
            sa.and_(deliveries.c.status == CLAIMED, deliveries.c.claim_token == claimed)))
    else:
        where = sa.and_(_where(post_id, subscriber_id), deliveries.c.status == PENDING)
    conn.execute(deliveries.update().where(where).values(**values))


def settle(conn: Connection, post_id: int, *, resend: bool = False) -> int:
    """Before an attempt sends anything: rows an earlier one left `sending` (a crash, a
    database outage after the server's answer, a worker paused past its lease) become
    `uncertain`, or with `resend` pending again. Returns how many. Rows it left `claimed`
    never went out: pending again — unless the database server restarted since they were
    claimed (a `start` of theirs may be lost), then they count as `sending`."""
    here = deliveries.c.post_id == post_id
    left = [SENDING]
    if conn.dialect.name == "postgresql" and \
            meta.get(conn, f"ledger-incarnation:{post_id}") not in (None, incarnation(conn)):
        left.append(CLAIMED)
    else:
        conn.execute(deliveries.update().where(here, deliveries.c.status == CLAIMED)
                     .values(status=PENDING, updated_at=clock.now()))
    values: dict[str, Any] = {"updated_at": clock.now(), "last_error": _LEFT}
    values["status"] = PENDING if resend else UNCERTAIN
    return int(conn.execute(deliveries.update().where(
        here, deliveries.c.status.in_(left)).values(**values)).rowcount)


_LEFT = ("the message was handed to the SMTP server, but its answer was never recorded "
         "(a crash, a database outage or a worker paused past its lease)")


def counts(conn: Connection, post_id: int) -> dict[str, int]:
    rows = conn.execute(sa.select(deliveries.c.status, sa.func.count())
                        .where(deliveries.c.post_id == post_id)
                        .group_by(deliveries.c.status))
    return {r[0]: int(r[1]) for r in rows}


def progress(conn: Connection, post_id: int) -> dict[str, int]:
    """`{"sent", "failed", "remaining", "skipped", "uncertain"}`; failed counts bounced and
    failed rows, remaining the pending ones and those reserved or in flight."""
    c = counts(conn, post_id)
    return {"sent": c.get(SENT, 0), "failed": c.get(BOUNCED, 0) + c.get(FAILED, 0),
            "remaining": c.get(PENDING, 0) + c.get(CLAIMED, 0) + c.get(SENDING, 0),
            "skipped": c.get(SKIPPED, 0),
            "uncertain": c.get(UNCERTAIN, 0)}


def uncertain_by_channel(conn: Connection) -> dict[str, int]:
    """Recipients whose message's outcome is unknown, per channel (for `/healthz`)."""
    rows = conn.execute(sa.select(posts.c.channel, sa.func.count())
                        .select_from(deliveries)
                        .join(posts, posts.c.id == deliveries.c.post_id)
                        .where(deliveries.c.status == UNCERTAIN)
                        .group_by(posts.c.channel))
    return {str(r[0]): int(r[1]) for r in rows}


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


def issued(conn: Connection, post_id: int, subscriber_id: int, message_id: str) -> bool:
    """True when the ledger holds exactly `message_id` as what post `post_id` was sent to
    subscriber `subscriber_id` with: a made-up or borrowed id names nobody."""
    row = conn.execute(sa.select(deliveries.c.message_id)
                       .where(_where(post_id, subscriber_id))).first()
    return row is not None and row[0] == message_id
