"""Releases: the day a release gave without a time (`date: 2026-03-12`, a dateline, a feed's
date-only stamp), kept as written. Its instant alone (midnight in the source's zone) showed
the day before west of the source's zone.

Releases stored before keep no day: they are shown at their instant, in the bot's zone.

Revision ID: 0009
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("releases") as batch:
        batch.add_column(sa.Column("published_day", sa.Date))


def downgrade() -> None:
    with op.batch_alter_table("releases") as batch:
        batch.drop_column("published_day")
