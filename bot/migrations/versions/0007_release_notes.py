"""Releases: their notes (about-us blocks, funder notices, contacts) kept apart from the
story, for templates and the review page; and whether the release's link was derived from
a file name rather than found, so such a link never goes out without a warning.

Revision ID: 0007
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("releases") as batch:
        batch.add_column(sa.Column("notes", sa.Text, nullable=False, server_default=""))
        batch.add_column(sa.Column("url_derived", sa.Boolean, nullable=False,
                                   server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("releases") as batch:
        batch.drop_column("url_derived")
        batch.drop_column("notes")
