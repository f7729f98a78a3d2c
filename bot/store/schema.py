"""Table definitions (SQLAlchemy Core). Changes here need an Alembic migration."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; times must be timezone-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSON = sa.JSON()

releases = sa.Table(
    "releases", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("source", sa.String(200), nullable=False),
    sa.Column("key", sa.String(1000), nullable=False),
    sa.Column("url", sa.Text),
    sa.Column("url_norm", sa.String(1000)),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("published_at", UTCDateTime),
    sa.Column("published_day", sa.Date),
    sa.Column("summary", sa.Text, nullable=False, default=""),
    sa.Column("body", sa.Text, nullable=False, default=""),
    sa.Column("body_html", sa.Text, nullable=False, default=""),
    sa.Column("images", JSON, nullable=False, default=list),
    sa.Column("tags", JSON, nullable=False, default=list),
    sa.Column("language", sa.String(35)),
    sa.Column("embargo_at", UTCDateTime),
    sa.Column("channels", JSON),
    sa.Column("overrides", JSON, nullable=False, default=dict),
    sa.Column("links", JSON, nullable=False, default=list),
    sa.Column("notes", sa.Text, nullable=False, default="", server_default=""),
    sa.Column("url_derived", sa.Boolean, nullable=False, default=False,
              server_default=sa.false()),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("first_seen_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("source", "key"),
    sa.Index(None, "source", "url_norm"),
    sa.Index(None, "source", "content_hash"),
)

release_prints = sa.Table(
    "release_prints", metadata,
    sa.Column("release_id", sa.Integer, sa.ForeignKey("releases.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("source", sa.String(200), nullable=False),
    sa.Column("prints", JSON, nullable=False),
    sa.Index(None, "source", "release_id"),
)
"""Per release, a print of each paragraph as the source gave it (`bot.sources.boilerplate`):
what a new release of the source repeats from these is boilerplate, not story."""

posts = sa.Table(
    "posts", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("uid", sa.String(32), nullable=False, unique=True),
    sa.Column("release_id", sa.Integer, sa.ForeignKey("releases.id", ondelete="CASCADE")),
    sa.Column("channel", sa.String(200), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("title", sa.Text, nullable=False, default=""),
    sa.Column("text", sa.Text, nullable=False, default=""),
    sa.Column("subject", sa.Text),
    sa.Column("html", sa.Text),
    sa.Column("link", sa.Text),
    sa.Column("images", JSON, nullable=False, default=list),
    sa.Column("language", sa.String(35)),
    sa.Column("warnings", JSON, nullable=False, default=list),
    sa.Column("publish_at", UTCDateTime),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("next_attempt_at", UTCDateTime),
    sa.Column("claimed_by", sa.String(200)),
    sa.Column("claimed_at", UTCDateTime),
    sa.Column("first_claimed_at", UTCDateTime),
    sa.Column("lease_until", UTCDateTime),
    sa.Column("claim_token", sa.Integer, nullable=False, default=0, server_default="0"),
    sa.Column("uncertain", sa.Boolean, nullable=False, default=False),
    sa.Column("remote_id", sa.Text),
    sa.Column("remote_url", sa.Text),
    sa.Column("last_error", sa.Text),
    sa.Column("edited_by", sa.String(200)),
    sa.Column("digest", JSON, nullable=False, default=list),
    sa.Column("extra", JSON, nullable=False, default=dict),
    sa.Column("original_text", sa.Text),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("release_id", "channel"),
    sa.Index(None, "status", "next_attempt_at"),
    sa.Index(None, "channel", "status", "publish_at", "id"),
)
"""`original_text` (migration 0016): the editable text as pressbot generated it (a social
post's text, an email's Markdown), written when the post is queued or rendered again from
a changed release and never by an edit: the review page shows an edit against it."""

channel_state = sa.Table(
    "channel_state", metadata,
    sa.Column("channel", sa.String(200), primary_key=True),
    sa.Column("paused_at", UTCDateTime),
    sa.Column("paused_by", sa.String(200)),
    sa.Column("reason", sa.Text),
    sa.Column("hint", sa.Text),
    sa.Column("outage_until", UTCDateTime),
    sa.Column("outages", sa.Integer, nullable=False, default=0, server_default="0"),
)
"""Per channel (and `*` for every channel): a pause a person must lift, or an outage the
channel is waiting out. The channel's posts stay approved meanwhile."""

events = sa.Table(
    "events", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("action", sa.String(50), nullable=False),
    sa.Column("post_id", sa.Integer, sa.ForeignKey("posts.id", ondelete="SET NULL")),
    sa.Column("release_id", sa.Integer, sa.ForeignKey("releases.id", ondelete="SET NULL")),
    sa.Column("from_status", sa.String(20)),
    sa.Column("to_status", sa.String(20)),
    sa.Column("detail", JSON, nullable=False, default=dict),
    sa.Index(None, "post_id"),
    sa.Index(None, "at"),
)

comments = sa.Table(
    "comments", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("post_id", sa.Integer, sa.ForeignKey("posts.id", ondelete="CASCADE")),
    sa.Column("release_id", sa.Integer, sa.ForeignKey("releases.id", ondelete="CASCADE")),
    sa.Column("author", sa.String(200), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("mentions", JSON, nullable=False, default=list),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("notify_due", sa.Boolean, nullable=False, default=False,
              server_default=sa.false()),
    sa.Column("notify_claimed_at", UTCDateTime),
    sa.Index(None, "post_id"),
    sa.Index(None, "release_id"),
    sa.Index(None, "notify_due"),
)
"""Reviewers' threads: one per post and one per release (exactly one of the two ids is
set). `notify_due`: the mentions' mail and webhook are still to be sent; cleared once sent,
so a web process that stopped before sending leaves them to the service (`bot.mentions`);
`notify_claimed_at`: when a process took them to send (another waits until it is stale)."""

engagement = sa.Table(
    "engagement", metadata,
    sa.Column("post_id", sa.Integer, sa.ForeignKey("posts.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("counts", JSON, nullable=False, default=dict),
    sa.Column("fetched_at", UTCDateTime, nullable=False),
)
"""What a published post earned on its platform (boosts, likes, replies …), as last read by
the service's engagement loop (`bot.engagement`)."""

source_state = sa.Table(
    "source_state", metadata,
    sa.Column("source", sa.String(200), primary_key=True),
    sa.Column("etag", sa.Text),
    sa.Column("last_modified", sa.Text),
    sa.Column("initialised", sa.Boolean, nullable=False, default=False),
    sa.Column("last_polled_at", UTCDateTime),
    sa.Column("last_ok_at", UTCDateTime),
    sa.Column("last_error", sa.Text),
    sa.Column("failures", sa.Integer, nullable=False, default=0),
    sa.Column("data", JSON, nullable=False, default=dict),
)

subscribers = sa.Table(
    "subscribers", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email", sa.String(320), nullable=False, unique=True),
    sa.Column("name", sa.Text),
    sa.Column("language", sa.String(35)),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("consent_at", UTCDateTime),
    sa.Column("consent_source", sa.String(50)),
    sa.Column("confirmed_at", UTCDateTime),
    sa.Column("bounces", sa.Integer, nullable=False, default=0),
    sa.Column("soft_bounces", sa.Integer, nullable=False, default=0, server_default="0"),
    sa.Column("confirm_sent_at", UTCDateTime),
    sa.Column("confirm_due_at", UTCDateTime),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("requested_at", UTCDateTime),
    sa.Column("confirm_mailed_at", UTCDateTime),
    sa.Column("consent_wording", sa.String(50)),
    sa.Column("consent_ip", sa.String(45)),
    sa.Column("consent_user_agent", sa.String(300)),
    sa.Column("consent_client_at", UTCDateTime),
    sa.Index(None, "status"),
    sa.Index(None, "confirm_due_at"),
)
"""`confirm_sent_at`: when the form last queued a confirmation mail (at most one per 15
minutes); `confirm_due_at`: when the queued mail is (next) to be sent, NULL when none is
waiting. The form answers before any mail is sent: `bot.confirmations` sends them.
Consent evidence (migration 0013): `requested_at` (the form sent), `confirm_mailed_at`
(its mail gone out), `consent_wording` (the form's wording version), and only with
`newsletter.record_client` the client's `consent_ip`/`consent_user_agent`, erased
`client_retention_days` after `consent_client_at`."""

suppressions = sa.Table(
    "suppressions", metadata,
    sa.Column("email_hash", sa.String(64), primary_key=True),
    sa.Column("reason", sa.String(50), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
)

deliveries = sa.Table(
    "deliveries", metadata,
    sa.Column("post_id", sa.Integer, sa.ForeignKey("posts.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("subscriber_id", sa.Integer, sa.ForeignKey("subscribers.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("message_id", sa.String(300)),
    sa.Column("last_error", sa.Text),
    sa.Column("next_attempt_at", UTCDateTime),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("claim_token", sa.Integer),
    # the recipient last, so a send's statements (by post, status and recipient) reach
    # their row with any plan (migration 0017)
    sa.Index(None, "post_id", "status", "subscriber_id"),
)

users = sa.Table(
    "users", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("email", sa.String(320)),
    sa.Column("disabled", sa.Boolean, nullable=False, default=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

signin_addresses = sa.Table(
    "signin_addresses", metadata,
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("address", sa.String(100), primary_key=True),
    sa.Column("last_at", UTCDateTime, nullable=False),
)
"""Per account, the client addresses it signed in from: guesses from strangers' addresses
cannot lock a person out of her usual one (`bot.web.auth`), whichever replica she reaches
and after a restart."""

meta = sa.Table(
    "meta", metadata,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
