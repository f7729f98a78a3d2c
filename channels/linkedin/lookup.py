"""Finding a post again after a lost answer: the Page's recent posts, matched to it.

`GET /rest/posts?q=author&author={urn}` lists the organisation's posts, most recently
changed first. A post is ours only when it was created after the post's first claim (less
clock slack) AND its commentary, read back from little text, is the approved text: the link
alone proves nothing (a colleague may have shared it). Listing stops at the first post
last changed before that time: nothing older can be ours.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from bot.models import Post, Receipt
from channels.linkedin.api import LinkedInApi, _json
from channels.linkedin.little import to_plain

LOOKUP_PAGES = 4
PAGE_SIZE = 50
LOOKUP_MARGIN = timedelta(minutes=2)
"""Clock slack between us and LinkedIn when comparing creation times."""


def post_url(urn: str) -> str:
    return f"https://www.linkedin.com/feed/update/{urn}/"


class LinkedInLookup(LinkedInApi):
    """`lookup` of `LinkedInChannel`."""

    async def recent_posts(self, count: int = PAGE_SIZE, start: int = 0) -> list[Any]:
        """One page of the organisation's posts (URNs in the query are encoded: Rest.li 2)."""
        query = f"author={quote(self.author, safe='')}&q=author&count={count}&start={start}"
        response = await self._request("GET", f"/rest/posts?{query}",
                                       where="the Page's posts")
        elements = (_json(response) or {}).get("elements")
        return elements if isinstance(elements, list) else []

    async def lookup(self, post: Post) -> Receipt | None:
        """The Page's post carrying this post's approved text, made after its first claim;
        the oldest among equals."""
        cutoff = _cutoff(post)
        wanted = _normal(post.text)
        found: dict[str, Any] | None = None
        for page in range(LOOKUP_PAGES):
            elements = await self.recent_posts(start=page * PAGE_SIZE)
            for element in elements:
                if not isinstance(element, dict):
                    continue
                if _when(element.get("createdAt")) < cutoff:
                    continue
                if element.get("lifecycleState", "PUBLISHED") != "PUBLISHED":
                    continue
                if _normal(to_plain(str(element.get("commentary") or ""))) == wanted:
                    found = element   # newest first: the last match is the oldest
            if len(elements) < PAGE_SIZE or any(
                    isinstance(e, dict) and _when(e.get("lastModifiedAt") or e.get("createdAt"))
                    < cutoff for e in elements):
                break
        if found is None:
            return None
        urn = str(found["id"])
        created = _when(found.get("createdAt")).isoformat()
        return Receipt(remote_id=urn, remote_url=post_url(urn),
                       matched=f"the approved text, as LinkedIn stores it; created {created}")


def _cutoff(post: Post) -> datetime:
    first = post.receipt_cutoff or post.created_at or datetime.now(UTC) - timedelta(days=1)
    if first.tzinfo is None:
        first = first.replace(tzinfo=UTC)
    return first - LOOKUP_MARGIN


def _when(millis: Any) -> datetime:
    if isinstance(millis, int | float) and not isinstance(millis, bool):
        return datetime.fromtimestamp(millis / 1000, UTC)
    return datetime.min.replace(tzinfo=UTC)


def _normal(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())
