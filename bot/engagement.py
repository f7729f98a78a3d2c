"""Read back what recent posts earned — boosts, favourites, replies (Mastodon), likes and
reposts (Bluesky), reactions (Facebook) — for the review page and the team's mail.

A modest reader: only posts published in the last `RECENT`, each at most once per
`EVERY`, at most `PER_PASS` calls a pass, one after the other, so the platforms' rate
limits stay with publishing. Counts are summaries: nobody's name is fetched or stored.
A post the platform no longer has keeps its last counts and is not asked again until
`EVERY` has passed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from bot import clock
from bot.features import engagement_readers
from bot.store import Store
from bot.store import engagement as engagement_store
from channels.base import ChannelError, Permanent

log = logging.getLogger("pressbot.engagement")
RECENT = timedelta(days=7)
EVERY = timedelta(hours=1)
PER_PASS = 30
PASS_EVERY = timedelta(minutes=10)
"""How often the service runs a pass."""
LABELS = {"boosts": ("boost", "boosts"), "favourites": ("favourite", "favourites"),
          "replies": ("reply", "replies"), "likes": ("like", "likes"),
          "reposts": ("repost", "reposts"), "quotes": ("quote", "quotes"),
          "reactions": ("reaction", "reactions"), "comments": ("comment", "comments"),
          "shares": ("share", "shares")}


def describe(counts: Mapping[str, int]) -> str:
    """'3 boosts · 1 favourite · 0 replies', in the platform's words."""
    parts = []
    for key, value in counts.items():
        one, many = LABELS.get(key, (key, key))
        parts.append(f"{value} {one if value == 1 else many}")
    return " · ".join(parts)


async def refresh(store: Store, channels: Mapping[str, Any], *, limit: int = PER_PASS) -> int:
    """One pass: read the counts of the posts most in need; returns how many were read."""
    usable = engagement_readers(channels)
    if not usable:
        return 0
    now = clock.now()

    def due() -> list[tuple[int, str, str]]:
        with store.begin() as conn:
            return engagement_store.due(conn, since=now - RECENT, before=now - EVERY,
                                        channels=usable, limit=limit)

    read = 0
    for post_id, channel, remote_id in await asyncio.to_thread(due):
        try:
            counts = await usable[channel].engagement(remote_id)
        except Permanent as exc:  # gone or not ours to read: ask again only after EVERY
            log.info("post=%d channel=%s engagement unavailable: %s", post_id, channel, exc)
            counts = None
        except ChannelError as exc:  # a transient trouble: the rest wait for the next pass
            log.warning("post=%d channel=%s engagement not read: %s", post_id, channel, exc)
            break
        await asyncio.to_thread(_keep, store, post_id, counts)
        read += counts is not None
    return read


def _keep(store: Store, post_id: int, counts: dict[str, int] | None) -> None:
    with store.begin() as conn:
        if counts is None:
            counts = engagement_store.for_posts(conn, [post_id]).get(post_id, {}).get(
                "counts", {})
        engagement_store.put(conn, post_id, counts or {}, clock.now())
