"""Per-source state: HTTP validators, first-sight flag, last poll outcome."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.store.schema import source_state


@dataclass
class SourceState:
    source: str
    etag: str | None = None
    last_modified: str | None = None
    initialised: bool = False
    last_polled_at: datetime | None = None
    last_ok_at: datetime | None = None
    last_error: str | None = None
    failures: int = 0
    data: dict[str, Any] = field(default_factory=dict)
    saved_at: datetime | None = field(default=None, compare=False)
    """Not stored: `last_polled_at` as this process last wrote it (see `bot.ingest`)."""

    def row(self) -> dict[str, Any]:
        """The stored columns."""
        values = dict(self.__dict__)
        del values["saved_at"]
        return values


# Built once: every poll reads and writes its source's row, and building a statement costs
# more than running it (half of the store's CPU in an all-304 poll cycle of 1,000 feeds).
_GET = sa.select(source_state).where(source_state.c.source == sa.bindparam("source"))
_UPDATE = source_state.update().where(source_state.c.source == sa.bindparam("the_source"))


def get(conn: Connection, source: str) -> SourceState:
    row = conn.execute(_GET, {"source": source}).first()
    return SourceState(**row._mapping) if row else SourceState(source=source)


def all_states(conn: Connection) -> dict[str, SourceState]:
    return {r.source: SourceState(**r._mapping) for r in conn.execute(sa.select(source_state))}


def put(conn: Connection, state: SourceState) -> None:
    values = state.row()
    updated = conn.execute(_UPDATE, {"the_source": state.source, **values})
    if updated.rowcount == 0:
        conn.execute(source_state.insert().values(**values))


_SAVE = source_state.update().where(source_state.c.source == sa.bindparam("the_source")).values(
    initialised=sa.or_(source_state.c.initialised, sa.bindparam("succeeded", type_=sa.Boolean)))


def save(conn: Connection, state: SourceState, *, succeeded: bool) -> None:
    """Record a poll's outcome in one statement.

    The first-sight flag is only ever raised, in SQL: a poll that failed must not lower it,
    and a poll must not need to read the row first (1,000 feeds answering 304 cost one
    statement each).
    """
    values = {k: v for k, v in state.row().items() if k not in ("source", "initialised")}
    updated = conn.execute(_SAVE, {"the_source": state.source, "succeeded": succeeded,
                                   **values})
    if updated.rowcount == 0:
        conn.execute(source_state.insert().values(
            source=state.source, initialised=succeeded or state.initialised, **values))
