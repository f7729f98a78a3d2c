"""Paragraph prints of releases (`bot.sources.boilerplate`): read a source's newest, write."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.store.schema import release_prints, releases

Prints = list[list[int]]
"""One list per paragraph, as `bot.sources.boilerplate.Print.as_json` writes it."""

_KEPT = (
    sa.select(release_prints.c.release_id, release_prints.c.prints)
    .where(release_prints.c.source == sa.bindparam("source"))
    .order_by(release_prints.c.release_id.desc())
    .limit(sa.bindparam("limit"))
)
_RECENT = (
    sa.select(releases.c.id, release_prints.c.prints)
    .select_from(releases.outerjoin(release_prints, release_prints.c.release_id == releases.c.id))
    .where(releases.c.source == sa.bindparam("source"))
    .order_by(releases.c.id.desc())
    .limit(sa.bindparam("limit"))
)


def recent(conn: Connection, source: str, limit: int,
           compute: Callable[[str, str], Prints]) -> dict[int, Prints]:
    """The prints of the source's `limit` newest releases, by release id.

    A release stored before prints were kept has none: `compute(body, notes)` makes them
    from its stored text, once, and they are saved. Every release stored since has its
    prints, so once the source has `limit` of them they are the newest releases' and the
    prints' own index answers (the releases table has no index by source and id).
    """
    kept = conn.execute(_KEPT, {"source": source, "limit": limit}).all()
    if len(kept) == limit:
        return {row.release_id: row.prints for row in kept}
    found: dict[int, Prints] = {}
    missing: list[int] = []
    for row in conn.execute(_RECENT, {"source": source, "limit": limit}):
        if row.prints is None:
            missing.append(row.id)
        else:
            found[row.id] = row.prints
    if missing:
        made = {row.id: compute(row.body, row.notes) for row in conn.execute(
            sa.select(releases.c.id, releases.c.body, releases.c.notes)
            .where(releases.c.id.in_(missing)))}
        put(conn, source, list(made.items()))
        found |= made
    return found


def put(conn: Connection, source: str, items: Sequence[tuple[int, Prints]]) -> None:
    """Store (or replace) the prints of these releases of `source`."""
    if not items:
        return
    conn.execute(release_prints.delete().where(
        release_prints.c.release_id.in_([i for i, _ in items])))
    rows: list[dict[str, Any]] = [{"release_id": i, "source": source, "prints": p}
                                  for i, p in items]
    conn.execute(release_prints.insert(), rows)
