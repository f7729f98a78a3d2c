"""Subscribers and the suppression list: the SQL behind the newsletter audience.

The suppression list holds only a hash of each address, so an erased person's address is
gone from the database while a later import or form can still be refused. Normalising an
address (validation, case) is `bot.subscribers`' job; this module stores what it is given.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot import clock
from bot.store.schema import subscribers, suppressions

PENDING, ACTIVE, UNSUBSCRIBED, BOUNCED = "pending", "active", "unsubscribed", "bounced"
STATUSES = (PENDING, ACTIVE, UNSUBSCRIBED, BOUNCED)


@dataclass(frozen=True)
class Subscriber:
    id: int
    email: str
    name: str | None
    language: str | None
    status: str
    consent_at: datetime | None
    consent_source: str | None
    confirmed_at: datetime | None
    bounces: int
    created_at: datetime
    updated_at: datetime
    soft_bounces: int = 0
    confirm_sent_at: datetime | None = None
    confirm_due_at: datetime | None = None
    requested_at: datetime | None = None
    """When the subscribe form was (last) sent for this address."""
    confirm_mailed_at: datetime | None = None
    """When the confirmation mail went out (`confirm_sent_at`: when it was queued)."""
    consent_wording: str | None = None
    """The version of the form's wording the person saw (`newsletter.consent_wording_version`)."""
    consent_ip: str | None = None
    consent_user_agent: str | None = None
    consent_client_at: datetime | None = None
    """When the client's address and user agent were recorded (`newsletter.record_client`)."""


def email_hash(email: str) -> str:
    """The suppression key of a normalised address (a prefix keeps it apart from other uses)."""
    return hashlib.sha256(f"pressbot-suppression:{email}".encode()).hexdigest()


def _model(row: Any) -> Subscriber:
    return Subscriber(**dict(row._mapping))


def get(conn: Connection, subscriber_id: int) -> Subscriber | None:
    row = conn.execute(sa.select(subscribers).where(subscribers.c.id == subscriber_id)).first()
    return _model(row) if row else None


def by_email(conn: Connection, email: str) -> Subscriber | None:
    row = conn.execute(sa.select(subscribers).where(subscribers.c.email == email)).first()
    return _model(row) if row else None


def by_emails(conn: Connection, emails: list[str]) -> dict[str, Subscriber]:
    """The stored subscribers among `emails` (one query: an import asks per batch)."""
    if not emails:
        return {}
    rows = conn.execute(sa.select(subscribers).where(subscribers.c.email.in_(emails)))
    return {r.email: _model(r) for r in rows}


def insert_many(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert whole subscriber rows in one statement (executemany)."""
    if rows:
        conn.execute(subscribers.insert(), rows)


def insert(conn: Connection, *, email: str, name: str | None, language: str | None,
           status: str, consent_source: str | None, consent_at: datetime | None = None,
           confirmed_at: datetime | None = None) -> Subscriber:
    now = clock.now()
    result = conn.execute(subscribers.insert().values(
        email=email, name=name, language=language, status=status, consent_at=consent_at,
        consent_source=consent_source, confirmed_at=confirmed_at, bounces=0,
        created_at=now, updated_at=now))
    created = get(conn, int(result.inserted_primary_key[0]))  # type: ignore[index]
    assert created is not None
    return created


def update(conn: Connection, subscriber_id: int, **fields: Any) -> None:
    conn.execute(subscribers.update().where(subscribers.c.id == subscriber_id)
                 .values(updated_at=clock.now(), **fields))


def delete(conn: Connection, subscriber_id: int) -> None:
    conn.execute(subscribers.delete().where(subscribers.c.id == subscriber_id))


def listing(conn: Connection, *, status: Iterable[str] | None = None, after: int = 0,
            limit: int | None = None) -> list[Subscriber]:
    """Subscribers by id; a page of them with `after` (the last id seen) and `limit`."""
    query = sa.select(subscribers).where(subscribers.c.id > after).order_by(subscribers.c.id)
    wanted = list(status or [])
    if wanted:
        query = query.where(subscribers.c.status.in_(wanted))
    if limit is not None:
        query = query.limit(limit)
    return [_model(r) for r in conn.execute(query)]


def addresses(conn: Connection, *, status: str, after: int = 0, limit: int
              ) -> list[tuple[int, str]]:
    """(id, address) of a page of subscribers by id: all a newsletter's audience snapshot
    reads, without making each one's whole record (a third of a 10,000-reader snapshot's
    time went to that)."""
    query = (sa.select(subscribers.c.id, subscribers.c.email)
             .where(subscribers.c.id > after, subscribers.c.status == status)
             .order_by(subscribers.c.id).limit(limit))
    return [(int(r[0]), r[1]) for r in conn.execute(query)]


def counts(conn: Connection) -> dict[str, int]:
    rows = conn.execute(sa.select(subscribers.c.status, sa.func.count())
                        .group_by(subscribers.c.status))
    return {r[0]: int(r[1]) for r in rows}


def mailable(conn: Connection) -> list[Subscriber]:
    """Active subscribers whose address is not on the suppression list."""
    blocked = suppressed_hashes(conn)
    return [s for s in listing(conn, status=[ACTIVE]) if email_hash(s.email) not in blocked]


def record_bounce(conn: Connection, subscriber_id: int, bounce_after: int) -> bool:
    """Count one permanent refusal; True when the subscriber is now `bounced`."""
    return _count_bounce(conn, subscriber_id, subscribers.c.bounces, bounce_after)


def record_soft_bounce(conn: Connection, subscriber_id: int, after: int) -> bool:
    """Count one temporary failure a DSN reported; True when the subscriber is now
    `bounced`. Not reset by a later accepted delivery: DSNs arrive after acceptance."""
    return _count_bounce(conn, subscriber_id, subscribers.c.soft_bounces, after)


def _count_bounce(conn: Connection, subscriber_id: int, counter: sa.Column[int],
                  limit: int) -> bool:
    """Add one to `counter`; an active subscriber who reached `limit` becomes bounced."""
    conn.execute(subscribers.update().where(subscribers.c.id == subscriber_id)
                 .values({counter: counter + 1, subscribers.c.updated_at: clock.now()}))
    result = conn.execute(
        subscribers.update()
        .where(subscribers.c.id == subscriber_id, counter >= limit,
               subscribers.c.status == ACTIVE)
        .values(status=BOUNCED))
    return result.rowcount == 1


def mark_bounced(conn: Connection, subscriber_id: int) -> bool:
    """A hard bounce: never mailed again (until they confirm a new subscription)."""
    result = conn.execute(subscribers.update().where(
        subscribers.c.id == subscriber_id, subscribers.c.status == ACTIVE)
        .values(status=BOUNCED, bounces=subscribers.c.bounces + 1, updated_at=clock.now()))
    return result.rowcount == 1


def queue_confirmation(conn: Connection, subscriber_id: int, now: datetime, *,
                       not_since: datetime) -> bool:
    """Queue a confirmation mail, due at `now`, unless one was queued after `not_since`."""
    result = conn.execute(subscribers.update().where(
        subscribers.c.id == subscriber_id,
        sa.or_(subscribers.c.confirm_sent_at.is_(None),
               subscribers.c.confirm_sent_at < not_since))
        .values(confirm_sent_at=now, confirm_due_at=now))
    return result.rowcount == 1


def claim_due_confirmation(conn: Connection, now: datetime, *,
                           until: datetime) -> Subscriber | None:
    """The subscriber with the oldest confirmation mail due by `now`, now claimed: due again
    at `until` (if the claimer dies, another process sends it then). None when none is due,
    or another process claimed it first (ask again)."""
    row = conn.execute(sa.select(subscribers.c.id, subscribers.c.confirm_due_at)
                       .where(subscribers.c.confirm_due_at <= now)
                       .order_by(subscribers.c.confirm_due_at, subscribers.c.id)
                       .limit(1)).first()
    if row is None:
        return None
    result = conn.execute(subscribers.update().where(
        subscribers.c.id == row.id, subscribers.c.confirm_due_at == row.confirm_due_at)
        .values(confirm_due_at=until))
    return get(conn, row.id) if result.rowcount == 1 else None


def confirmation_due(conn: Connection, now: datetime) -> bool:
    """Is any confirmation mail due by `now`?"""
    return conn.execute(sa.select(subscribers.c.id)
                        .where(subscribers.c.confirm_due_at <= now).limit(1)
                        ).first() is not None


def reschedule_confirmation(conn: Connection, subscriber_id: int, claimed_until: datetime,
                            due: datetime | None) -> None:
    """After a send under the claim that ends `claimed_until`: due again at `due`, or done
    (None). A claim that was taken over in the meantime changes nothing."""
    conn.execute(subscribers.update().where(
        subscribers.c.id == subscriber_id, subscribers.c.confirm_due_at == claimed_until)
        .values(confirm_due_at=due))


def forget_clients(conn: Connection, before: datetime) -> int:
    """Erase the client address and user agent recorded before `before` (retention)."""
    result = conn.execute(subscribers.update()
                          .where(subscribers.c.consent_client_at < before)
                          .values(consent_ip=None, consent_user_agent=None,
                                  consent_client_at=None))
    return int(result.rowcount or 0)


def suppressed_at(conn: Connection, hashed: str) -> datetime | None:
    row = conn.execute(sa.select(suppressions.c.at)
                       .where(suppressions.c.email_hash == hashed)).first()
    return row[0] if row else None


def suppression_reason(conn: Connection, hashed: str) -> str | None:
    row = conn.execute(sa.select(suppressions.c.reason)
                       .where(suppressions.c.email_hash == hashed)).first()
    return str(row[0]) if row else None


def is_suppressed(conn: Connection, hashed: str) -> bool:
    row = conn.execute(sa.select(suppressions.c.email_hash)
                       .where(suppressions.c.email_hash == hashed)).first()
    return row is not None


def suppressed_hashes(conn: Connection) -> set[str]:
    return {r[0] for r in conn.execute(sa.select(suppressions.c.email_hash))}


def suppress(conn: Connection, hashed: str, reason: str) -> None:
    """Add (or re-date) a suppression; the strongest reason wins: erased > unsubscribed."""
    row = conn.execute(sa.select(suppressions.c.reason)
                       .where(suppressions.c.email_hash == hashed)).first()
    if row is None:
        conn.execute(suppressions.insert().values(email_hash=hashed, reason=reason,
                                                  at=clock.now()))
    elif row[0] != "erased":
        conn.execute(suppressions.update().where(suppressions.c.email_hash == hashed)
                     .values(reason=reason, at=clock.now()))


def suppress_many(conn: Connection, entries: Iterable[tuple[str, str, datetime]]) -> int:
    """Add (hash, reason, at) entries not yet on the list; returns how many were new. An
    entry already there keeps its reason and time (an import never weakens "erased")."""
    wanted = {hashed: (reason, at) for hashed, reason, at in entries}
    if not wanted:
        return 0
    have = {r[0] for r in conn.execute(sa.select(suppressions.c.email_hash)
                                       .where(suppressions.c.email_hash.in_(list(wanted))))}
    rows = [{"email_hash": h, "reason": reason, "at": at}
            for h, (reason, at) in wanted.items() if h not in have]
    if rows:
        conn.execute(suppressions.insert(), rows)
    return len(rows)


def suppression_list(conn: Connection) -> list[tuple[str, str, datetime]]:
    return [(r[0], r[1], r[2]) for r in conn.execute(
        sa.select(suppressions.c.email_hash, suppressions.c.reason, suppressions.c.at)
        .order_by(suppressions.c.at, suppressions.c.email_hash))]


def unsuppress(conn: Connection, hashed: str) -> None:
    conn.execute(suppressions.delete().where(suppressions.c.email_hash == hashed))
