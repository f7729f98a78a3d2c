"""Engine, connection settings and schema upgrades.

SQLite runs in WAL mode with a busy timeout so read-only commands and workflow commands
work while `run` holds the file. PostgreSQL is used as is. An empty database gets the
newest schema straight from `bot.store.schema` and is stamped at head (Alembic's own
advice for new databases): a first run does not replay every migration.
An older schema is upgraded by Alembic only when asked (`migrate=True`: the service and
`pressbot db upgrade`); other commands refuse it with `SchemaMismatch`, so that an upgrade
is a step an operator takes (after a backup), not a side effect of `pressbot queue`. When
the schema is at head the check costs one query and Alembic is not even imported.
`tests/test_store.py` proves the two schemas the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from bot.errors import ConfigError

log = logging.getLogger(__name__)
HEAD = "0017"
_SCHEMA_LOCK = 0x70726574  # pg advisory lock id: one process creates a new schema


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite paths get their folder created."""
    parsed = sa.engine.make_url(url)
    if parsed.drivername.startswith("postgresql") and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername.startswith("sqlite"):
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(parsed, connect_args={"timeout": 10, "check_same_thread": False})
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own BEGIN handling defers locks; we issue BEGIN ourselves, and
        # BEGIN IMMEDIATE (take the write lock now) when `begin_immediate` asked for it.
        sa.event.listen(engine, "begin", lambda conn: conn.exec_driver_sql(
            "BEGIN IMMEDIATE" if conn.info.get("immediate") else "BEGIN"))

        @sa.event.listens_for(engine, "connect")
        def _autocommit_off(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None

        return engine
    return sa.create_engine(parsed, pool_pre_ping=True, pool_size=5, max_overflow=5)


class SchemaMismatch(ConfigError):
    """The database's schema is not the one this pressbot was built for (exit 2)."""


def _scripts() -> Any:
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(Path(__file__).parent.parent / "migrations"))


def pending(current: str | None) -> list[tuple[str, str]]:
    """The migrations (revision, what it does) from `current` to HEAD, oldest first;
    raises SchemaMismatch for a revision this pressbot does not know (a newer one)."""
    scripts = _scripts()
    known = {s.revision: s for s in scripts.walk_revisions()}
    if current is not None and current not in known:
        raise SchemaMismatch(
            f"the database is at schema {current}, which this pressbot (schema {HEAD}) does "
            "not know: a newer pressbot upgraded it. Run that version, or roll the schema "
            f"back with it first (`pressbot db downgrade {HEAD}`), or restore a backup")
    steps = []
    revision: str | None = HEAD
    while revision and revision != current:
        script = known[revision]
        steps.append((revision, (script.doc or "").strip().splitlines()[0]
                      if script.doc else ""))
        revision = script.down_revision
    return steps[::-1]


class Store:
    """One database. Use `with store.begin() as conn:` and the functions of the store modules."""

    def __init__(self, url: str, *, migrate: bool | Literal["new"] = True) -> None:
        """`migrate`: True creates or upgrades the schema; "new" creates it in an empty
        database and refuses an older one (SchemaMismatch); False touches nothing."""
        self.url = url
        try:
            self.engine = make_engine(url)
        except (sa.exc.ArgumentError, ImportError) as exc:
            raise ConfigError(f"bot.database_url: cannot use this database: {exc}") from None
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        if migrate:
            self.migrate(upgrade=migrate is True)

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A transaction: committed on success, rolled back on error."""
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def begin_immediate(self) -> Iterator[Connection]:
        """A write transaction that takes the write lock up front (SQLite `BEGIN IMMEDIATE`).

        Claims use it so two processes never both read a post as free on SQLite; on
        PostgreSQL it is an ordinary transaction (claims use `FOR UPDATE SKIP LOCKED`).
        """
        if not self.is_sqlite:
            with self.engine.begin() as conn:
                yield conn
            return
        with self.engine.connect() as conn:
            conn.info["immediate"] = True
            try:
                with conn.begin():
                    yield conn
            finally:
                conn.info.pop("immediate", None)

    def current_revision(self) -> str | None:
        with self.engine.connect() as conn:
            if not sa.inspect(conn).has_table("alembic_version"):
                return None
            row = conn.exec_driver_sql("SELECT version_num FROM alembic_version").first()
            return row[0] if row else None

    def migrate(self, *, upgrade: bool = True) -> None:
        """Bring the schema to the newest revision (a no-op when it is already there).

        An empty database is created at head either way; an older schema is upgraded only
        with `upgrade`, else refused with what to run."""
        try:
            if self.current_revision() == HEAD or self._create_if_empty():
                return
            current = self.current_revision()
        except sa.exc.OperationalError as exc:
            raise ConfigError(
                f"bot.database_url: cannot open the database: {exc.orig}"
            ) from None
        steps = pending(current)   # raises for a schema newer than this pressbot
        if not upgrade:
            raise SchemaMismatch(
                f"the database is at schema {current or 'none (tables without a version)'}; "
                f"this pressbot needs {HEAD} ({len(steps)} migration(s) to apply). Back it "
                "up (`pressbot backup FILE`), then run `pressbot db upgrade`")
        log.warning("upgrading the database schema from %s to %s", current, HEAD)
        self.upgrade()

    def _create_if_empty(self) -> bool:
        """Create the head schema in a database without tables; False when it has some.

        Under the write lock (SQLite) or an advisory lock (PostgreSQL), so two processes
        starting on one new database create it once."""
        from bot.store import search
        from bot.store.schema import metadata

        with self.begin_immediate() as conn:
            if not self.is_sqlite:
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_SCHEMA_LOCK})")
            names = sa.inspect(conn).get_table_names()
            if names:
                return "alembic_version" in names and conn.exec_driver_sql(
                    "SELECT version_num FROM alembic_version").scalar() == HEAD
            log.info("creating the database schema at %s", HEAD)
            metadata.create_all(conn)
            search.create(conn)
            conn.exec_driver_sql("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT "
                                 "NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY "
                                 "(version_num))")
            conn.execute(sa.text("INSERT INTO alembic_version (version_num) VALUES (:v)"),
                         {"v": HEAD})
        return True

    def _alembic(self) -> Any:
        from alembic.config import Config as AlembicConfig

        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(Path(__file__).parent.parent / "migrations"))
        cfg.attributes["engine"] = self.engine
        return cfg

    def upgrade(self) -> None:
        """Run Alembic's migrations from the stamped revision to head."""
        from alembic import command

        command.upgrade(self._alembic(), "head")

    def downgrade(self, revision: str) -> None:
        """Run the migrations' downgrades back to `revision` (a rollback after upgrading
        with this version; the data in dropped columns and tables is lost)."""
        from alembic import command

        command.downgrade(self._alembic(), revision)

    def dispose(self) -> None:
        self.engine.dispose()
