"""Finding posts: by status, channel, source, date and words of their title or text
(`bot.store.search`), a page at a time."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.models import Post
from bot.store.posts import to_model
from bot.store.schema import posts, releases
from bot.store.search import matching


@dataclass(frozen=True)
class Filters:
    status: str | None = None
    channel: str | None = None
    source: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    words: str = ""


def search(conn: Connection, filters: Filters, *, offset: int, limit: int
           ) -> tuple[list[Post], int]:
    """Posts matching `filters`, newest change first, and how many match in all."""
    when = posts.c.updated_at
    conditions: list[Any] = []
    if filters.status:
        conditions.append(posts.c.status == filters.status)
    if filters.channel:
        conditions.append(posts.c.channel == filters.channel)
    if filters.source:
        conditions.append(releases.c.source == filters.source)
    if filters.since:
        conditions.append(when >= filters.since)
    if filters.until:
        conditions.append(when < filters.until)
    if (found := matching(conn, filters.words)) is not None:
        conditions.append(found)
    joined = posts.join(releases, releases.c.id == posts.c.release_id, isouter=True)
    total = conn.execute(sa.select(sa.func.count()).select_from(joined)
                         .where(*conditions)).scalar_one()
    rows = conn.execute(sa.select(posts, releases.c.source, releases.c.key,
                                  releases.c.url.label("release_url"))
                        .select_from(joined).where(*conditions)
                        .order_by(when.desc(), posts.c.id.desc()).offset(offset).limit(limit))
    return _models(rows), int(total)


def slotted(conn: Connection, since: datetime, until: datetime) -> list[Post]:
    """Posts with a slot in [since, until): what goes (or went) out when, for the calendar."""
    rows = conn.execute(sa.select(posts, releases.c.source, releases.c.key)
                        .join(releases, releases.c.id == posts.c.release_id, isouter=True)
                        .where(posts.c.publish_at >= since, posts.c.publish_at < until,
                               posts.c.status.in_(("pending", "approved", "failed",
                                                   "publishing", "published")))
                        .order_by(posts.c.publish_at, posts.c.id))
    return _models(rows)


def unslotted(conn: Connection, limit: int = 100) -> list[Post]:
    """Posts a person still has to place or decide on: waiting ones (pending, held) and
    any still to go out without a slot; the calendar's sidebar, oldest first."""
    waiting = posts.c.status.in_(("pending", "held"))
    loose = sa.and_(posts.c.publish_at.is_(None), posts.c.status.in_(("approved", "failed")))
    rows = conn.execute(sa.select(posts, releases.c.source, releases.c.key)
                        .join(releases, releases.c.id == posts.c.release_id, isouter=True)
                        .where(sa.or_(waiting, loose))
                        .order_by(posts.c.id).limit(limit))
    return _models(rows)


def _models(rows: Iterable[sa.Row[Any]]) -> list[Post]:
    found = []
    for row in rows:
        m = dict(row._mapping)
        source, key = m.pop("source", None), m.pop("key", None)
        found.append(to_model(m, f"{source}:{key}" if source is not None else None))
    return found
