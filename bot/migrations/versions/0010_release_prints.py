"""Paragraph prints per release, to learn each source's boilerplate from its own history.

A release's prints are made when it is stored; releases stored before this revision get
theirs the first time a new release of their source is compared with them.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "release_prints",
        sa.Column("release_id", sa.Integer, nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("prints", sa.JSON, nullable=False),
        sa.ForeignKeyConstraint(["release_id"], ["releases.id"], ondelete="CASCADE",
                                name="fk_release_prints_release_id_releases"),
        sa.PrimaryKeyConstraint("release_id", name="pk_release_prints"),
    )
    op.create_index("ix_release_prints_source_release_id", "release_prints",
                    ["source", "release_id"])


def downgrade() -> None:
    op.drop_index("ix_release_prints_source_release_id", table_name="release_prints")
    op.drop_table("release_prints")
