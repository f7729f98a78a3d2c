"""The operator's commands: `db status|upgrade|downgrade` and `backup`.

Schema changes are explicit: only `pressbot run` and `pressbot db upgrade` move an older
database forward (see bot.store.db), so these show where it stands and take the step.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from bot.cli import App, cli, pass_app, plural

if TYPE_CHECKING:
    from bot.store import Store


def _shown(url: str) -> str:
    import sqlalchemy as sa

    return sa.engine.make_url(url).render_as_string(hide_password=True)


def _plain_store(app: App) -> Store:
    """The database as it is: no schema created or upgraded by opening it."""
    from bot.store import Store

    return Store(app.config.bot.database_url, migrate=False)


@cli.group()
def db() -> None:
    """The database schema: status, upgrade, downgrade."""


@db.command()
@pass_app
def status(app: App) -> None:
    """Show the schema revision and the migrations waiting (exit 1 when some wait)."""
    from bot.store.db import HEAD, pending

    store = _plain_store(app)
    click.echo(f"database: {_shown(store.url)}")
    current = store.current_revision()
    if current is None and not _has_tables(store):
        click.echo(f"schema: none (an empty database); any command creates it at {HEAD}")
        return
    steps = pending(current)
    if not steps:
        click.echo(f"schema: {current} (up to date)")
        return
    click.echo(f"schema: {current or 'unversioned'}; this pressbot needs {HEAD}. "
               f"{plural(len(steps), 'migration')} to apply with `pressbot db upgrade` "
               "(back up first: `pressbot backup FILE`):")
    for revision, what in steps:
        click.echo(f"  {revision}  {what}")
    sys.exit(1)


def _has_tables(store: Store) -> bool:
    import sqlalchemy as sa

    with store.engine.connect() as conn:
        return bool(sa.inspect(conn).get_table_names())


@db.command()
@pass_app
def upgrade(app: App) -> None:
    """Apply the waiting migrations (an empty database is created at the newest schema)."""
    from bot.store.db import HEAD, pending

    store = _plain_store(app)
    current = store.current_revision()
    steps = pending(current) if current or _has_tables(store) else []
    if current == HEAD:
        click.echo(f"schema: {HEAD} already (nothing to do)")
        return
    store.migrate(upgrade=True)
    done = ", ".join(r for r, _ in steps) or "the whole schema created"
    click.echo(f"schema: {current or 'none'} → {HEAD} ({done})")


@db.command()
@click.argument("revision")
@pass_app
def downgrade(app: App, revision: str) -> None:
    """Roll the schema back to REVISION with this version's migrations (loses the data of
    what they added; a backup restored is the other way back)."""
    from bot.store.db import pending

    store = _plain_store(app)
    current = store.current_revision()
    if revision != "base" and revision not in {r for r, _ in pending(None)}:
        raise click.BadParameter(f"no schema revision {revision!r}", param_hint="REVISION")
    store.downgrade(revision)
    click.echo(f"schema: {current} → {revision}; run the pressbot release that needs "
               f"{revision} now")


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@pass_app
def backup(app: App, file: Path) -> None:
    """Write FILE (.tar.gz): the SQLite database (a consistent copy, while `run` goes on),
    the outbox and the pictures taken from documents, with a MANIFEST.json.

    A PostgreSQL database is not copied: the command prints the `pg_dump` line to use.
    """
    from bot.backup import write_backup

    if file.exists():
        raise click.UsageError(f"{file} exists; not overwriting it")
    report = write_backup(app.config, file)
    for member, what in report.members:
        click.echo(f"  {member}  ({what})")
    click.echo(f"wrote {file}: {plural(len(report.members), 'part')}, "
               f"{plural(report.files, 'file')}, {report.size / 1e6:.1f} MB")
    if report.pg_dump:
        click.echo("the database is PostgreSQL and is not in the archive; back it up with:\n"
                   f"  {report.pg_dump}\nand restore it with pg_restore (see the README)")
