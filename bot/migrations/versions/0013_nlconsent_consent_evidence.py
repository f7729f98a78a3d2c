"""Consent evidence per subscriber (issue 27, item 2).

- `requested_at`: when the subscribe form was last sent for the address;
- `confirm_mailed_at`: when its confirmation mail actually went out (`confirm_sent_at`
  is when it was queued);
- `consent_wording`: the version of the form's wording the person saw
  (`newsletter.consent_wording_version`);
- `consent_ip`, `consent_user_agent`, `consent_client_at`: the client that sent the form
  or clicked the confirmation, only with `newsletter.record_client`, erased
  `newsletter.client_retention_days` after `consent_client_at`.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.store.schema import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_COLUMNS = ("requested_at", "confirm_mailed_at", "consent_wording", "consent_ip",
            "consent_user_agent", "consent_client_at")


def upgrade() -> None:
    with op.batch_alter_table("subscribers") as batch:
        batch.add_column(sa.Column("requested_at", UTCDateTime(timezone=True)))
        batch.add_column(sa.Column("confirm_mailed_at", UTCDateTime(timezone=True)))
        batch.add_column(sa.Column("consent_wording", sa.String(50)))
        batch.add_column(sa.Column("consent_ip", sa.String(45)))
        batch.add_column(sa.Column("consent_user_agent", sa.String(300)))
        batch.add_column(sa.Column("consent_client_at", UTCDateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("subscribers") as batch:
        for name in reversed(_COLUMNS):
            batch.drop_column(name)
