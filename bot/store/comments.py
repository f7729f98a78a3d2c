"""Reviewers' comment threads (one per post, one per release) and their pending notices.

A comment is also an event (`comment`) so the audit trail and the activity page show who
said what and when. Mentions (`@name` of a review account) are resolved when the comment is
written; the notices they call for are sent later, by whichever process claims them
(`bot.mentions`), so a mail server that is down loses none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot import clock
from bot.store import posts as post_store
from bot.store.schema import comments, users

BODY_MAX = 5000
"""Characters a comment may have: a note between colleagues, not a document."""
_MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9][A-Za-z0-9._@-]*)")
CLAIM_STALE = timedelta(minutes=5)
"""A claim older than this belongs to a process that stopped: another may send."""


class CommentError(ValueError):
    """A comment that cannot be stored as given (empty, too long)."""


@dataclass(frozen=True)
class Comment:
    id: int
    post_id: int | None
    release_id: int | None
    author: str
    body: str
    mentions: list[str]
    created_at: datetime


def _comment(row: Any) -> Comment:
    return Comment(id=row.id, post_id=row.post_id, release_id=row.release_id,
                   author=row.author, body=row.body, mentions=list(row.mentions or []),
                   created_at=row.created_at)


def mentioned(conn: Connection, body: str) -> list[str]:
    """The review accounts `body` names as `@name` (case as the account spells it; a
    trailing full stop or comma belongs to the sentence, not the name)."""
    asked = {m.rstrip(".,-").lower() for m in _MENTION.findall(body)}
    if not asked:
        return []
    names = conn.execute(sa.select(users.c.name).where(
        sa.func.lower(users.c.name).in_(sorted(asked)), users.c.disabled.is_(False)))
    return sorted(n for (n,) in names)


def add(conn: Connection, *, author: str, body: str, post_id: int | None = None,
        release_id: int | None = None) -> Comment:
    """Store a comment on a post or a release, with its event in the audit trail."""
    if (post_id is None) == (release_id is None):
        raise ValueError("a comment belongs to exactly one post or one release")
    body = body.replace("\r\n", "\n").strip()
    if not body:
        raise CommentError("the comment is empty: write something first")
    if len(body) > BODY_MAX:
        raise CommentError(f"the comment has {len(body):,} characters: at most {BODY_MAX:,}")
    names = [n for n in mentioned(conn, body) if n != author]
    now = clock.now()
    new_id = conn.execute(comments.insert().values(
        post_id=post_id, release_id=release_id, author=author, body=body, mentions=names,
        created_at=now, notify_due=bool(names)).returning(comments.c.id)).scalar_one()
    post_store.add_event(conn, actor=f"web:{author}", action="comment", post_id=post_id,
                         release_id=release_id,
                         detail={"comment": body[:500], "mentions": names})
    return Comment(new_id, post_id, release_id, author, body, names, now)


def thread(conn: Connection, *, post_id: int | None = None,
           release_id: int | None = None) -> list[Comment]:
    """Oldest first, as a conversation reads."""
    column = comments.c.post_id if post_id is not None else comments.c.release_id
    query = sa.select(comments).where(column == (post_id if post_id is not None
                                                 else release_id))
    return [_comment(r) for r in conn.execute(query.order_by(comments.c.id))]


def counts(conn: Connection) -> dict[int, int]:
    """Comments per post (posts without any are left out)."""
    query = (sa.select(comments.c.post_id, sa.func.count()).where(comments.c.post_id.is_not(None))
             .group_by(comments.c.post_id))
    return {int(post_id): int(n) for post_id, n in conn.execute(query)}


def claim_due(conn: Connection, now: datetime, limit: int = 50) -> list[Comment]:
    """Comments whose notices are still to send and that no live process is sending; they
    are marked as taken by this one (released by `sent` or `failed`)."""
    free = sa.or_(comments.c.notify_claimed_at.is_(None),
                  comments.c.notify_claimed_at < now - CLAIM_STALE)
    query = (sa.select(comments).where(comments.c.notify_due.is_(True), free)
             .order_by(comments.c.id).limit(limit).with_for_update(skip_locked=True))
    found = [_comment(r) for r in conn.execute(query)]
    if found:
        conn.execute(comments.update().where(comments.c.id.in_([c.id for c in found]))
                     .values(notify_claimed_at=now))
    return found


def sent(conn: Connection, comment_id: int) -> None:
    conn.execute(comments.update().where(comments.c.id == comment_id)
                 .values(notify_due=False, notify_claimed_at=None))


def failed(conn: Connection, comment_id: int) -> None:
    """Leave it due for the next pass."""
    conn.execute(comments.update().where(comments.c.id == comment_id)
                 .values(notify_claimed_at=None))
