"""The "posts are waiting" message for reviewers.

It only summarises and links to the review page: approving happens there, after signing
in, never from a link in a mail (mail scanners open links, and a mail can be forwarded).
Sending it is the email side's job; this module only writes the text.
"""

from __future__ import annotations

from bot import clock
from bot.config import Config
from bot.models import PostStatus
from bot.store import Store, activity

SHOWN = 20


def pending_digest_text(config: Config, store: Store) -> str | None:
    """Plain text listing posts waiting for a person, or None when nothing waits."""
    with store.begin() as conn:
        waiting = activity.posts_by_status(conn, [PostStatus.PENDING])
        held = activity.posts_by_status(conn, [PostStatus.HELD])
    if not waiting and not held:
        return None
    now = clock.now()
    url = str(config.bot.public_url).rstrip("/") + "/"
    lines: list[str] = []
    if waiting:
        lines.append(f"{len(waiting)} post{'s' * (len(waiting) != 1)} waiting for approval:")
        lines.append("")
        for post in waiting[:SHOWN]:
            hours = int((now - (post.created_at or now)).total_seconds() // 3600)
            since = f"waiting {hours} h" if hours else "new"
            lines.append(f"- {post.title or 'Digest'} ({post.channel}, {since})")
        if len(waiting) > SHOWN:
            lines.append(f"- … and {len(waiting) - SHOWN} more")
        lines.append("")
    if held:
        lines.append(f"{len(held)} post{'s' * (len(held) != 1)} held, needing a person:")
        lines.append("")
        for post in held[:SHOWN]:
            reason = (post.last_error or "see the page")[:140]
            lines.append(f"- {post.title or 'Digest'} ({post.channel}): {reason}")
        if len(held) > SHOWN:
            lines.append(f"- … and {len(held) - SHOWN} more")
        lines.append("")
    lines.append(f"Review them here (sign-in needed): {url}")
    lines.append("")
    lines.append("This link only opens the review page; nothing is approved from this mail.")
    return "\n".join(lines)
