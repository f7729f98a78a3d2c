"""Telling "the database cannot write" apart from other errors.

A full file system (or a database made read-only) lets every read succeed and fails every
write: polls and publish passes fail one by one while a read-only health check still says
"ok". The service asks `cannot_write` about each failed pass, reports the condition once
(`/healthz` unhealthy, one log line) and probes with a small write until one succeeds.

An unreachable database (PostgreSQL restarting, a network cut, a SQLite file that cannot
be opened) is the other condition of the store, not of the pass that met it: `unreachable`
names it, so the service logs one line when it begins and one when it ends instead of a
traceback per failed pass.
"""

from __future__ import annotations

import sqlite3

import sqlalchemy as sa

_SQLITE = {sqlite3.SQLITE_FULL: "disk full", sqlite3.SQLITE_READONLY: "read-only",
           sqlite3.SQLITE_IOERR: "I/O error"}
_POSTGRES = {"53100": "disk full", "53200": "out of memory", "25006": "read-only"}


def cannot_write(exc: BaseException) -> str | None:
    """Why the database refused a write ("disk full", "read-only", …), or None when `exc`
    is anything else (unreachable, locked, a bug)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:  # SQLAlchemy wraps the driver's
        seen.add(id(current))
        if isinstance(current, sa.exc.DBAPIError) and current.orig is not None:
            current = current.orig
            continue
        code = getattr(current, "sqlite_errorcode", None)
        if isinstance(code, int) and (why := _SQLITE.get(code & 0xFF)):
            return why
        if isinstance(state := getattr(current, "sqlstate", None), str) and \
                (why := _POSTGRES.get(state)):
            return why
        if isinstance(current, OSError) and current.errno == 28:  # ENOSPC
            return "disk full"
        current = current.__cause__ or current.__context__
    return None


def unreachable(exc: BaseException) -> str | None:
    """The first line of the driver's message when `exc` says the database could not be
    reached or the connection was lost (SQLAlchemy's OperationalError, or a DBAPI error
    that invalidated its connection); None for anything else (a bug, a constraint)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sa.exc.OperationalError) or (
                isinstance(current, sa.exc.DBAPIError) and current.connection_invalidated):
            text = str(current.orig if current.orig is not None else current).strip()
            return (text.splitlines() or [type(current).__name__])[0][:200]
        current = current.__cause__ or current.__context__
    return None
