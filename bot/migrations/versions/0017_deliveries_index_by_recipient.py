"""The deliveries' status index ends with the recipient: (post, status, subscriber).

A send's hot statements (`ledger.advance`, `ledger.claim`) pick rows by post, status and
recipient. With (post, status) only, PostgreSQL's plan for them depends on the table's
statistics: stale ones (a snapshot of 10,000 rows just inserted) make it scan every pending
row of the post and filter by recipient, and a cached generic plan keeps doing so; fresh
ones make it plan every statement again (custom plans), which cost more than running it.
With the recipient in the index every plan reaches the row directly, so the ledger writer
can keep one generic plan per statement (`channels.email.ledgerwriter`). The queries by
post and status alone (`due`, `counts`) use the same index's first two columns.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_index("ix_deliveries_post_id_status")
        batch.create_index("ix_deliveries_post_id_status_subscriber_id",
                           ["post_id", "status", "subscriber_id"])


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_index("ix_deliveries_post_id_status_subscriber_id")
        batch.create_index("ix_deliveries_post_id_status", ["post_id", "status"])
