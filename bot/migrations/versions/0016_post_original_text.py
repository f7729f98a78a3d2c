"""The text each post was generated with, so the review page can show an edit against it.

- `posts.original_text`: the editable text as pressbot generated it (a social post's text,
  an email's Markdown). Written when a post is queued or rendered again from a changed
  release, never by an edit.

Filled here for the posts still open (pending, approved, failed, held): an unedited one's
text is its original; an edited social post's is the text its first edit replaced (the
audit trail keeps it). An email edited before this kept only its plain-text part, not the
Markdown it was edited as: it stays empty, and the page says the original was not kept.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

OPEN = ("pending", "approved", "failed", "held")


def upgrade() -> None:
    with op.batch_alter_table("posts") as batch:
        batch.add_column(sa.Column("original_text", sa.Text))
    _fill(op.get_bind())


def _fill(conn: sa.Connection) -> None:
    from bot.workflow import generated_text

    posts = sa.table("posts", sa.column("id"), sa.column("status"), sa.column("text"),
                     sa.column("html"), sa.column("language"), sa.column("original_text"))
    events = sa.table("events", sa.column("id"), sa.column("post_id"), sa.column("action"),
                      sa.column("detail", sa.JSON))
    rows = conn.execute(sa.select(posts.c.id, posts.c.text, posts.c.html, posts.c.language)
                        .where(posts.c.status.in_(OPEN))).all()
    history: dict[int, list[Any]] = {}
    for event in conn.execute(
            sa.select(events.c.post_id, events.c.action, events.c.detail)
            .join(posts, posts.c.id == events.c.post_id)
            .where(posts.c.status.in_(OPEN),
                   events.c.action.in_(("queued", "rerender", "edit")))
            .order_by(events.c.id)):
        if event.action in ("queued", "rerender"):   # generated (again): edits start over
            history[event.post_id] = []
        else:
            history.setdefault(event.post_id, []).append(event.detail or {})
    update = posts.update().where(posts.c.id == sa.bindparam("the_post"))
    for row in rows:
        edits = history.get(row.id) or []
        if not edits:
            original = generated_text(row.text, row.html, row.language)
        elif row.html is None and isinstance(edits[0].get("previous_text"), str):
            original = edits[0]["previous_text"]
        else:
            continue
        conn.execute(update, {"the_post": row.id, "original_text": original})


def downgrade() -> None:
    with op.batch_alter_table("posts") as batch:
        batch.drop_column("original_text")
