"""What published posts earned on their platforms, as the engagement loop last read it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.models import PostStatus
from bot.store.schema import engagement, posts


def put(conn: Connection, post_id: int, counts: dict[str, int], at: datetime) -> None:
    changed = conn.execute(engagement.update().where(engagement.c.post_id == post_id)
                           .values(counts=counts, fetched_at=at)).rowcount
    if not changed:
        conn.execute(engagement.insert().values(post_id=post_id, counts=counts, fetched_at=at))


def for_posts(conn: Connection, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """{post id: {"counts": {...}, "fetched_at": datetime}} for those that have any."""
    wanted = sorted(set(ids))
    found: dict[int, dict[str, Any]] = {}
    for start in range(0, len(wanted), 500):
        rows = conn.execute(sa.select(engagement).where(
            engagement.c.post_id.in_(wanted[start:start + 500])))
        found.update({r.post_id: {"counts": dict(r.counts), "fetched_at": r.fetched_at}
                      for r in rows})
    return found


def due(conn: Connection, *, since: datetime, before: datetime, channels: Iterable[str],
        limit: int) -> list[tuple[int, str, str]]:
    """(post id, channel, remote id) of posts published since `since` on `channels` whose
    counts were never read or last read before `before`; least recently read first."""
    query = (sa.select(posts.c.id, posts.c.channel, posts.c.remote_id)
             .join(engagement, engagement.c.post_id == posts.c.id, isouter=True)
             .where(posts.c.status == PostStatus.PUBLISHED, posts.c.updated_at >= since,
                    posts.c.remote_id.is_not(None), posts.c.channel.in_(list(channels)),
                    sa.or_(engagement.c.fetched_at.is_(None), engagement.c.fetched_at < before))
             .order_by(engagement.c.fetched_at.is_not(None), engagement.c.fetched_at,
                       posts.c.id)
             .limit(limit))
    return [(r.id, r.channel, r.remote_id) for r in conn.execute(query)]
