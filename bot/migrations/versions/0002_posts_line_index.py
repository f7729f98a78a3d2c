"""Index each channel's line of posts by status and slot.

The publisher finds a channel's next post with a single-row lookup ordered by
`publish_at, id`; this index serves it (and replaces the shorter (channel, status) one).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_posts_channel_status_publish_at_id", "posts",
                    ["channel", "status", "publish_at", "id"])
    op.drop_index("ix_posts_channel_status", table_name="posts")


def downgrade() -> None:
    op.create_index("ix_posts_channel_status", "posts", ["channel", "status"])
    op.drop_index("ix_posts_channel_status_publish_at_id", table_name="posts")
