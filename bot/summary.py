"""The team's weekly mail: what went out in the last seven days and what it earned.

Sent once a week, on Monday from 09:00 in the bot's zone (`notify.weekly`), to the same
people as the "posts are waiting" mail, through the same SMTP settings. Plain text only:
no HTML, so no tracking pixel and no tracked link can ride along. The week it was sent for
is recorded before it is sent, so two replicas or a restart never send it twice (a mail
that fails is forgotten and tried again at the next pass).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, time, timedelta

from bot import clock
from bot.config import Config
from bot.engagement import describe
from bot.models import PostStatus
from bot.store import Store, activity, meta
from bot.store import engagement as engagement_store

log = logging.getLogger("pressbot.summary")
SEND_FROM = time(9, 0)
KEY = "summary:week"
SHOWN = 50


def week_due(config: Config, now: datetime) -> str | None:
    """This ISO week's name ("2026-W50") once Monday 09:00 local has passed, else None."""
    local = now.astimezone(config.tz)
    monday = (local - timedelta(days=local.weekday())).date()
    if local < datetime.combine(monday, SEND_FROM, config.tz):
        return None
    year, week, _ = local.isocalendar()
    return f"{year}-W{week:02d}"


def summary_text(config: Config, store: Store, now: datetime) -> str:
    """The mail's body: each post published in the 7 days before `now`, with its counts."""
    since = now - timedelta(days=7)
    with store.begin() as conn:
        published = activity.posts_by_status(conn, [PostStatus.PUBLISHED], since=since)
        waiting = activity.posts_by_status(conn, [PostStatus.PENDING, PostStatus.HELD])
        counts = engagement_store.for_posts(conn, [p.id for p in published])
    tz = config.tz
    span = (f"{since.astimezone(tz):%a %-d %b} – {now.astimezone(tz):%a %-d %b %Y}")
    lines = [f"The week on the channels ({span}):", ""]
    if not published:
        lines.append("Nothing was published.")
    for post in published[:SHOWN]:
        found = counts.get(post.id, {}).get("counts")
        said = describe(found) if found else "no counts read yet"
        lines.append(f"- {post.title or 'Digest'} ({post.channel}): {said}")
        if post.remote_url and post.remote_url.startswith(("https://", "http://")):
            lines.append(f"  {post.remote_url}")
    if len(published) > SHOWN:
        lines.append(f"- … and {len(published) - SHOWN} more")
    lines += ["", f"{len(published)} published; {len(waiting)} waiting for a person.",
              f"Review page (sign-in needed): {str(config.bot.public_url).rstrip('/')}/", "",
              "Counts are as the platforms showed them when pressbot last asked."]
    return "\n".join(lines) + "\n"


async def send_weekly(config: Config, store: Store, *, connector: object = None) -> bool:
    """Send this week's summary if it is due and not sent; True when a mail went out."""
    from bot.notify import _envelope, _send, recipients, smtp_settings

    if config.notify is None or not config.notify.weekly:
        return False
    now = clock.now()
    week = week_due(config, now)
    cfg = smtp_settings(config)
    if week is None or cfg is None:
        return False

    def claim() -> bool:
        with store.begin_immediate() as conn:
            if meta.get(conn, KEY, locked=True) == week:
                return False
            meta.put(conn, KEY, week)
            return True

    to = await asyncio.to_thread(recipients, config, store)
    if not to or not await asyncio.to_thread(claim):
        return False
    try:
        text = await asyncio.to_thread(summary_text, config, store, now)
        await _send(cfg, to, f"pressbot: the week on the channels ({week})", text, connector,
                    await asyncio.to_thread(_envelope, config, store, cfg))
    except Exception:
        await asyncio.to_thread(_forget, store, week)  # tried again at the next pass
        raise
    log.info("weekly summary week=%s recipients=%d", week, len(to))
    return True


def _forget(store: Store, week: str) -> None:
    with store.begin() as conn:
        if meta.get(conn, KEY) == week:
            meta.delete(conn, KEY)
