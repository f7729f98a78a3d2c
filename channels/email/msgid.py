"""The Message-IDs of newsletter copies: `<pressbot.<post>.<subscriber>.<mac>@<domain>>`.

A bounce or a complaint that returns one says whose message it was, so the id must not be
something a stranger can work out: the mac is an HMAC (SHA-256, 128 bits kept) of the
post id, its creation time and the subscriber id under the bot's signing key. The ids
themselves are no secret (the unsubscribe link carries the subscriber id too); the mac is
what makes the whole id unguessable. The ledger keeps the id each recipient was sent, and
only an id found there for that very post and subscriber names them.

Before the mac was keyed it was an unkeyed 12-hex-digit hash of the same three values
(`LEGACY`): anyone who knows a post's id and creation time can make those for every
subscriber, so `bot.bounces` believes one only together with proof the returned message
really was that subscriber's (their signed unsubscribe link in its headers).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.models import Post

_ID = re.compile(r"<pressbot\.(\d{1,18})\.(\d{1,18})\.([0-9a-f]{32}|[0-9a-f]{12})@[^<>\s]+>")


@dataclass(frozen=True)
class Cited:
    """What a pressbot Message-ID says about itself; `legacy` for the unkeyed format."""

    post_id: int
    subscriber_id: int
    legacy: bool


def message_id_for(key: str, post: Post, subscriber_id: int, domain: str) -> str:
    """Unique per (post, recipient), the same on every retry of that recipient.

    The post's creation time is mixed in so that a fresh database reusing post ids (with a
    configured `secret_key`, so the same key) does not reuse Message-IDs: Gmail throttles a
    sender who repeats one.
    """
    stamp = post.created_at.isoformat() if post.created_at else ""
    message = f"message-id:{post.id}:{stamp}:{subscriber_id}".encode()
    mac = hmac.new(key.encode(), message, hashlib.sha256).hexdigest()[:32]
    return f"<pressbot.{post.id}.{subscriber_id}.{mac}@{domain}>"


def cited(message_id: str) -> Cited | None:
    """The post and subscriber a pressbot-shaped Message-ID names (not yet checked against
    the ledger), or None for any other id."""
    match = _ID.fullmatch(message_id)
    if match is None:
        return None
    return Cited(int(match.group(1)), int(match.group(2)), legacy=len(match.group(3)) == 12)
