"""Reviewers' comment threads and the engagement read back from the platforms.

- `comments`: a thread per post and per release; mentions are mailed and posted to a
  webhook (`bot.mentions`), `notify_due` marks those still to send.
- `engagement`: per published post, its counts (boosts, likes, replies …) and when read.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.store.schema import UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "comments",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("post_id", sa.Integer),
        sa.Column("release_id", sa.Integer),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("mentions", sa.JSON, nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("notify_due", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("notify_claimed_at", UTCDateTime(timezone=True)),
        sa.ForeignKeyConstraint(["post_id"], ["posts.id"], ondelete="CASCADE",
                                name="fk_comments_post_id_posts"),
        sa.ForeignKeyConstraint(["release_id"], ["releases.id"], ondelete="CASCADE",
                                name="fk_comments_release_id_releases"),
        sa.PrimaryKeyConstraint("id", name="pk_comments"),
    )
    op.create_index("ix_comments_post_id", "comments", ["post_id"])
    op.create_index("ix_comments_release_id", "comments", ["release_id"])
    op.create_index("ix_comments_notify_due", "comments", ["notify_due"])
    op.create_table(
        "engagement",
        sa.Column("post_id", sa.Integer, nullable=False),
        sa.Column("counts", sa.JSON, nullable=False),
        sa.Column("fetched_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["post_id"], ["posts.id"], ondelete="CASCADE",
                                name="fk_engagement_post_id_posts"),
        sa.PrimaryKeyConstraint("post_id", name="pk_engagement"),
    )


def downgrade() -> None:
    op.drop_table("engagement")
    op.drop_index("ix_comments_notify_due", "comments")
    op.drop_index("ix_comments_release_id", "comments")
    op.drop_index("ix_comments_post_id", "comments")
    op.drop_table("comments")
