"""Migration 0016 on SQLite and PostgreSQL: the posts still open get the text they were
generated with, from the post itself or from what the audit trail kept of it."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from bot.models import PostStatus, Release
from bot.store import Store
from bot.store import posts as post_store
from bot.store import releases as release_store
from bot.store.schema import posts

S = PostStatus


def test_the_open_posts_get_their_generated_text(database_url: str) -> None:
    from alembic import command

    store = Store(database_url, migrate=False)
    command.upgrade(store._alembic(), "0015")
    release = Release(source="press", key="r1.md", url="https://www.example.org/r1",
                      title="Library", published_at=datetime(2026, 3, 2, 9, tzinfo=UTC))
    with store.begin() as conn:
        release_id = release_store.insert(conn, release)

        def add(channel: str, status: PostStatus, **fields: object) -> int:
            return post_store.insert(conn, channel=channel, status=status, actor="system",
                                     release_id=release_id, **fields)

        fresh = add("mastodon", S.PENDING, text="The library has 40,000 books.")
        edited = add("facebook", S.HELD, text="The library has 40,000 books.")
        for n, text in enumerate(["52,000 books.", "60,000 books."]):
            post_store.change(conn, edited, allowed_from=[S.HELD], to=S.PENDING if n else None,
                              actor="web:ed", action="edit", returning=False,
                              edited_by="web:ed", text=text,
                              detail={"previous_text": "The library has 40,000 books."
                                      if n == 0 else "52,000 books."})
        email = add("newsletter", S.APPROVED, text="Opening\n\nThe library opens.",
                    html="<h2>Opening</h2><p>The library opens.</p>", subject="Library")
        email_edited = add("letters", S.PENDING, text="old plain text", html="<p>Edited</p>",
                           edited_by="web:ed")
        post_store.add_event(conn, actor="web:ed", action="edit", post_id=email_edited,
                             detail={"previous_text": "old plain text"})
        done = add("bluesky", S.PUBLISHED, text="Gone out.")
    store.upgrade()
    with store.begin() as conn:
        found = {row.id: row.original_text
                 for row in conn.execute(sa.select(posts.c.id, posts.c.original_text))}
    store.dispose()
    assert found == {
        fresh: "The library has 40,000 books.",
        edited: "The library has 40,000 books.",   # the first edit's, not the second's
        email: "## Opening\n\nThe library opens.",  # as Markdown, what the editor opens
        email_edited: None,   # only its plain-text part was kept: not called its original
        done: None,           # gone out: nothing more to edit
    }
