"""Sign-in addresses and the queue of confirmation mails, both kept in the store.

- `signin_addresses`: per account, the addresses it signed in from. The sign-in limit
  spares them; kept in process memory before, they were forgotten on restart and
  differed per replica.
- `subscribers.confirm_due_at`: a confirmation mail waiting to be sent. The subscribe form
  answers before the mail goes out, the same for every address.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.store.schema import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signin_addresses",
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("address", sa.String(100), nullable=False),
        sa.Column("last_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name="fk_signin_addresses_user_id_users"),
        sa.PrimaryKeyConstraint("user_id", "address", name="pk_signin_addresses"),
    )
    with op.batch_alter_table("subscribers") as batch:
        batch.add_column(sa.Column("confirm_due_at", UTCDateTime(timezone=True)))
        batch.create_index("ix_subscribers_confirm_due_at", ["confirm_due_at"])


def downgrade() -> None:
    with op.batch_alter_table("subscribers") as batch:
        batch.drop_index("ix_subscribers_confirm_due_at")
        batch.drop_column("confirm_due_at")
    op.drop_table("signin_addresses")
