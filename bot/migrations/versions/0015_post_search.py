"""Full-text search of posts' title, subject and text (FTS5 on SQLite, GIN on PostgreSQL).

The index is `bot.store.search`'s; a new database gets it when created. Filling it reads
every post once.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

from alembic import op

from bot.store import search

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    search.create(op.get_bind())


def downgrade() -> None:
    search.drop(op.get_bind())
