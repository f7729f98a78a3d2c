"""Fencing tokens: a worker paused past its lease must not send for a post it lost.

- `posts.claim_token`: raised by every claim. A worker's writes and sends name the token
  of its claim, so once another worker took the post over they match nothing.
- `deliveries.claim_token`: the claim under which a recipient was marked `sending`; a row
  still `sending` under an older claim is a message whose outcome nobody recorded.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("posts") as batch:
        batch.add_column(sa.Column("claim_token", sa.Integer, nullable=False,
                                   server_default="0"))
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("claim_token", sa.Integer))


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("claim_token")
    with op.batch_alter_table("posts") as batch:
        batch.drop_column("claim_token")
