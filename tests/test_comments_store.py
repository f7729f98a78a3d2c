"""The store side of comments and engagement, on SQLite and PostgreSQL: mentions resolved
to accounts, notices claimed once and left due after a failure, and which published posts
are due for a count."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Connection

from bot import clock
from bot.models import PostStatus
from bot.store import Store
from bot.store import comments as comment_store
from bot.store import engagement as engagement_store
from bot.store import posts as post_store
from bot.store import users as user_store


def _published(conn: Connection, channel: str, remote_id: str | None = "r1") -> int:
    return post_store.insert(conn, channel=channel, status=PostStatus.PUBLISHED,
                             actor="test", release_id=None, text="x", remote_id=remote_id)


def test_mentions_are_accounts_and_notices_are_claimed_once(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRESSBOT_CLOCK", "2026-12-07T09:00:00+00:00")
    with store.begin() as conn:
        for name in ("rita", "Ann.Lee", "ed", "gone"):
            user_store.add(conn, name, "a-long-enough-password", "reviewer")
        user_store.set_disabled(conn, "gone", True, actor="test")
        post_id = _published(conn, "mastodon")
        said = comment_store.add(conn, author="ed", post_id=post_id,
                                 body="@RITA. and @ann.lee, not @ghost, @gone, @ed or a@rita")
    assert said.mentions == ["Ann.Lee", "rita"]
    with store.begin_immediate() as conn:
        (claimed,) = comment_store.claim_due(conn, clock.now())
    with store.begin_immediate() as conn:
        assert comment_store.claim_due(conn, clock.now()) == []       # taken by the first
        comment_store.failed(conn, claimed.id)
    with store.begin_immediate() as conn:
        assert [c.id for c in comment_store.claim_due(conn, clock.now())] == [said.id]
    later = clock.now() + comment_store.CLAIM_STALE + timedelta(seconds=1)
    with store.begin_immediate() as conn:                              # its claimer died
        assert [c.id for c in comment_store.claim_due(conn, later)] == [said.id]
        comment_store.sent(conn, said.id)
    with store.begin_immediate() as conn:
        assert comment_store.claim_due(conn, later + timedelta(hours=1)) == []
        with pytest.raises(comment_store.CommentError, match="empty"):
            comment_store.add(conn, author="ed", body=" \n ", post_id=post_id)
        assert comment_store.add(conn, author="ed", body="no one", post_id=post_id).mentions == []
        assert [c.body for c in comment_store.thread(conn, post_id=post_id)][-1] == "no one"


def test_engagement_due_is_recent_unread_or_stale_first(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRESSBOT_CLOCK", "2026-12-07T09:00:00+00:00")
    now = clock.now()
    with store.begin() as conn:
        fresh, stale, unread = (_published(conn, "mastodon") for _ in range(3))
        _published(conn, "mastodon", remote_id=None)                 # no receipt: skipped
        _published(conn, "outbox")                                   # cannot be read
        engagement_store.put(conn, fresh, {"boosts": 1}, now)
        engagement_store.put(conn, stale, {"boosts": 2}, now - timedelta(hours=3))
        engagement_store.put(conn, stale, {"boosts": 3}, now - timedelta(hours=2))
    with store.begin() as conn:
        due = engagement_store.due(conn, since=now - timedelta(days=7),
                                   before=now - timedelta(hours=1), channels=["mastodon"],
                                   limit=10)
        assert [d[0] for d in due] == [unread, stale]
        assert engagement_store.for_posts(conn, [stale])[stale]["counts"] == {"boosts": 3}
        assert engagement_store.due(conn, since=now + timedelta(seconds=1), before=now,
                                    channels=["mastodon"], limit=10) == []
