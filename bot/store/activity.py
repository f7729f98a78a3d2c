"""Read-only queries the review page needs beyond the workflow's: the queue as reviewers
see it and the audit trail page by page.

Kept apart from `posts` because nothing here changes state: these are reports.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.models import Post, Release
from bot.store import releases as release_store
from bot.store.posts import to_model
from bot.store.schema import events, posts, releases


def posts_by_status(conn: Connection, statuses: Sequence[str], *, since: datetime | None = None,
                    limit: int | None = None, newest_first: bool = False) -> list[Post]:
    """Posts in `statuses`; `since` and `limit` keep the "recently done" list short."""
    query = (sa.select(posts, releases.c.source, releases.c.key)
             .join(releases, releases.c.id == posts.c.release_id, isouter=True)
             .where(posts.c.status.in_(list(statuses))))
    if since is not None:
        query = query.where(posts.c.updated_at >= since)
    if newest_first:
        query = query.order_by(posts.c.updated_at.desc(), posts.c.id.desc())
    else:
        order = sa.func.coalesce(posts.c.publish_at, posts.c.created_at)
        query = query.order_by(order, posts.c.id)
    if limit:
        query = query.limit(limit)
    found = []
    for row in conn.execute(query):
        m = dict(row._mapping)
        source, key = m.pop("source", None), m.pop("key", None)
        found.append(to_model(m, f"{source}:{key}" if source is not None else None))
    return found


def releases_by_id(conn: Connection, ids: Iterable[int]) -> dict[int, Release]:
    wanted = sorted(set(ids))
    found: dict[int, Release] = {}
    for start in range(0, len(wanted), 500):  # stay under SQLite's bound-parameter limit
        chunk = wanted[start:start + 500]
        for row in conn.execute(sa.select(releases).where(releases.c.id.in_(chunk))):
            found[row.id] = release_store.to_model(row)
    return found


def count_by_status(conn: Connection, statuses: Sequence[str]) -> int:
    """How many posts are in `statuses` (the waiting count in every page's title)."""
    return int(conn.execute(sa.select(sa.func.count()).select_from(posts)
                            .where(posts.c.status.in_(list(statuses)))).scalar_one())


def events_count(conn: Connection) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(events)).scalar_one())


def _about(query: sa.Select[Any]) -> sa.Select[Any]:
    """`query` on events with each event's post channel and release title joined."""
    return (query.add_columns(posts.c.channel, releases.c.title)
            .join(posts, posts.c.id == events.c.post_id, isouter=True)
            .join(releases, releases.c.id == sa.func.coalesce(events.c.release_id,
                                                              posts.c.release_id),
                  isouter=True))


def events_page(conn: Connection, *, offset: int, limit: int) -> list[dict[str, Any]]:
    """Newest first, as people read an activity log, each with its post's channel and its
    release's title (so a row says what it is about without a click)."""
    query = _about(sa.select(events)).order_by(events.c.id.desc()).offset(offset).limit(limit)
    return [dict(r._mapping) for r in conn.execute(query)]


def events_after(conn: Connection, after_id: int, limit: int) -> list[dict[str, Any]]:
    """Oldest first from `after_id`: a keyset walk for exports of any size, with the same
    channel and title as the page."""
    query = (_about(sa.select(events)).where(events.c.id > after_id).order_by(events.c.id)
             .limit(limit))
    return [dict(r._mapping) for r in conn.execute(query)]
