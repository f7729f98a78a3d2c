"""Subscribers: a count of soft bounces reported by DSNs, and when a confirmation was last
mailed (the subscribe form sends at most one per address in a while).

Soft bounces are counted apart from `bounces` because a delivery the SMTP server accepts
resets `bounces`, and a DSN always arrives after that acceptance.

Revision ID: 0004
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.store.schema import UTCDateTime

revision = "0004"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("subscribers") as batch:
        batch.add_column(sa.Column("soft_bounces", sa.Integer, nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("confirm_sent_at", UTCDateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("subscribers") as batch:
        batch.drop_column("confirm_sent_at")
        batch.drop_column("soft_bounces")
