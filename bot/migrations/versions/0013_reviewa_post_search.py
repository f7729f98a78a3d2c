"""Full-text search of posts' title, subject and text (FTS5 on SQLite, GIN on PostgreSQL).

The index is `bot.store.search`'s; a new database gets it when created. Filling it reads
every post once.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

from alembic import op

from bot.store import search

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    search.create(op.get_bind())


def downgrade() -> None:
    search.drop(op.get_bind())
