"""Finding a post again: its record key first, then the account's recent records.

The record key is a function of the post (`rkey.record_key`), so `getRecord` answers "did it
go out?" exactly, in one call. Only if nothing is at that key are the account's latest
records listed (`listRecords`, `LOOKUP_PAGES` pages): that finds a post written under another
key, e.g. by a pressbot whose idempotency key was derived differently when the attempt was
made. There a record is taken only if it is not older than the post (less `LOOKUP_MARGIN`)
and carries exactly the approved text (as the record shows it: short links) and, when the
post has a link, that link in a facet or card: a colleague's post that merely shares the
release's link is never taken for ours.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from bot.models import Post, Receipt
from channels.bluesky.api import BlueskyApi, _json
from channels.bluesky.errors import error_of, raise_for
from channels.bluesky.richtext import build
from channels.bluesky.rkey import record_key

COLLECTION = "app.bsky.feed.post"
LOOKUP_PAGES = 3
LOOKUP_MARGIN = timedelta(minutes=10)


class BlueskyLookup(BlueskyApi):
    """`lookup` of `BlueskyChannel`, and the receipt a record makes."""

    async def lookup(self, post: Post) -> Receipt | None:
        found = await self._record_at(record_key(post.idempotency_key, post.created_at))
        if found is not None:
            return self._receipt(str(found["uri"]))
        return await self._scan(post)

    async def _record_at(self, rkey: str, collection: str = COLLECTION) -> dict[str, Any] | None:
        session = await self._signed_in()
        response = await self._xrpc("GET", "com.atproto.repo.getRecord", where="the post", params={
            "repo": session.did, "collection": collection, "rkey": rkey})
        if response.status_code in (400, 404) and (
                error_of(response)[0] == "RecordNotFound"
                or "could not locate record" in response.text.lower()):
            return None
        raise_for(response, where="the post")
        data = _json(response)
        return data if isinstance(data, dict) and data.get("uri") else None

    async def _scan(self, post: Post) -> Receipt | None:
        session = await self._signed_in()
        cutoff = _cutoff(post)
        want_link = _norm_url(post.link) if post.link else None
        want_text = " ".join(build(post.text).text.split())
        cursor: str | None = None
        for _ in range(LOOKUP_PAGES):
            params = {"repo": session.did, "collection": COLLECTION, "limit": "100"}
            if cursor:
                params["cursor"] = cursor
            response = await self._xrpc("GET", "com.atproto.repo.listRecords",
                                        where="the account's posts", params=params)
            raise_for(response, where="the account's posts")
            data = _json(response)
            records = data.get("records") if isinstance(data, dict) else None
            if not isinstance(records, list) or not records:
                return None
            for item in records:
                value = item.get("value") if isinstance(item, dict) else None
                if isinstance(value, dict) and _recent(value, cutoff) and \
                        _matches(value, want_link, want_text):
                    return self._receipt(str(item["uri"]))
            cursor = data.get("cursor") if isinstance(data, dict) else None
            if not isinstance(cursor, str) or not cursor:
                return None
        return None

    def _receipt(self, uri: str) -> Receipt:
        # at://did:plc:…/app.bsky.feed.post/rkey → the post's page on the app.
        did, _, rkey = uri.removeprefix("at://").partition(f"/{COLLECTION}/")
        app = str(self.config.app_url).rstrip("/")
        return Receipt(remote_id=uri, remote_url=f"{app}/profile/{did}/post/{rkey}")


def _cutoff(post: Post) -> datetime | None:
    times = [t if t.tzinfo else t.replace(tzinfo=UTC)
             for t in (post.created_at, post.claimed_at) if t is not None]
    return min(times) - LOOKUP_MARGIN if times else None


def _recent(value: dict[str, Any], cutoff: datetime | None) -> bool:
    if cutoff is None:
        return True
    try:
        created = datetime.fromisoformat(str(value.get("createdAt", "")).replace("Z", "+00:00"))
    except ValueError:
        return True  # an unreadable date does not rule a record out
    return (created if created.tzinfo else created.replace(tzinfo=UTC)) >= cutoff


def _norm_url(url: str) -> str:
    parts = urlsplit(url.strip())
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                       if not k.lower().startswith("utm_")])
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/"),
                       query, ""))


def _matches(value: dict[str, Any], want_link: str | None, want_text: str) -> bool:
    if not want_text or " ".join(str(value.get("text", "")).split()) != want_text:
        return False
    if want_link is None:
        return True
    uris = [f.get("uri") for facet in value.get("facets") or [] if isinstance(facet, dict)
            for f in facet.get("features") or [] if isinstance(f, dict)]
    external = ((value.get("embed") or {}).get("external") or {}).get("uri")
    return any(isinstance(u, str) and _norm_url(u) == want_link for u in [*uris, external])
