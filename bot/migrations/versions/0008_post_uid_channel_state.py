"""Receipts that are ours, and channels that pause.

- `posts.uid`: a random id per post, the base of its idempotency key. Row ids repeat across
  databases (a reinstall, a restore, staging beside production on one account), and a
  platform that remembers a key for an hour would answer a new post with an old status.
- `posts.first_claimed_at`: nothing created before it can be this post's receipt.
- `channel_state`: a channel paused by a person or an auth failure, or waiting out an outage.

Revision ID: 0008
Revises: 0004
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

from bot.store.schema import UTCDateTime

revision = "0008"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("posts") as batch:
        batch.add_column(sa.Column("uid", sa.String(32)))
        batch.add_column(sa.Column("first_claimed_at", UTCDateTime(timezone=True)))
    conn = op.get_bind()
    posts = sa.table("posts", sa.column("id", sa.Integer), sa.column("uid", sa.String))
    ids = list(conn.execute(sa.select(posts.c.id)).scalars())
    if ids:
        conn.execute(posts.update().where(posts.c.id == sa.bindparam("the_id"))
                     .values(uid=sa.bindparam("the_uid")),
                     [{"the_id": i, "the_uid": uuid.uuid4().hex} for i in ids])
    with op.batch_alter_table("posts") as batch:
        batch.alter_column("uid", existing_type=sa.String(32), nullable=False)
        batch.create_unique_constraint("uq_posts_uid", ["uid"])
    op.create_table(
        "channel_state",
        sa.Column("channel", sa.String(200), nullable=False),
        sa.Column("paused_at", UTCDateTime(timezone=True)),
        sa.Column("paused_by", sa.String(200)),
        sa.Column("reason", sa.Text),
        sa.Column("hint", sa.Text),
        sa.Column("outage_until", UTCDateTime(timezone=True)),
        sa.Column("outages", sa.Integer, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("channel", name="pk_channel_state"),
    )


def downgrade() -> None:
    op.drop_table("channel_state")
    with op.batch_alter_table("posts") as batch:
        batch.drop_constraint("uq_posts_uid", type_="unique")
        batch.drop_column("first_claimed_at")
        batch.drop_column("uid")
