"""Small named values the bot keeps between runs (learnt limits, digest cursors, keys)."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.store.schema import meta


def get(conn: Connection, key: str, default: Any = None, *, locked: bool = False) -> Any:
    """The value under `key`. `locked` holds its row until the transaction ends (PostgreSQL
    `FOR UPDATE`; SQLite's `begin_immediate` already locks the whole file), so that a
    read-change-write of one value cannot lose a concurrent one's change."""
    query = sa.select(meta.c.value).where(meta.c.key == key)
    row = conn.execute(query.with_for_update() if locked else query).first()
    return json.loads(row[0]) if row else default


def put(conn: Connection, key: str, value: Any) -> None:
    data = json.dumps(value)
    if conn.execute(meta.update().where(meta.c.key == key).values(value=data)).rowcount == 0:
        conn.execute(meta.insert().values(key=key, value=data))


def delete(conn: Connection, key: str) -> None:
    conn.execute(meta.delete().where(meta.c.key == key))


def with_prefix(conn: Connection, prefix: str) -> dict[str, Any]:
    """Every value whose key starts with `prefix`, by the rest of the key."""
    rows = conn.execute(sa.select(meta).where(meta.c.key.startswith(prefix, autoescape=True)))
    return {r.key.removeprefix(prefix): json.loads(r.value) for r in rows}


def learned_limits(conn: Connection) -> dict[str, dict[str, Any]]:
    """Per channel, the limits its platform reported at the last `check`."""
    rows = conn.execute(sa.select(meta).where(meta.c.key.like("limits:%")))
    return {r.key.removeprefix("limits:"): json.loads(r.value) for r in rows}

