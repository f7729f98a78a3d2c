"""Alembic environment: runs migrations on the engine the Store hands over."""

from __future__ import annotations

from alembic import context

from bot.store.schema import metadata

engine = context.config.attributes.get("engine")
if engine is None:  # the alembic CLI, for operators: read the URL from the ini option
    import sqlalchemy as sa

    engine = sa.create_engine(context.config.get_main_option("sqlalchemy.url") or "")

with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
