"""The Bluesky channel object: its limits, `check`, and the publish flow.

A post becomes one `app.bsky.feed.post` record written with `com.atproto.repo.putRecord` at
the post's own record key (`rkey.record_key`) with `swapRecord: null` — "create, and refuse
if something is already there". A retry after a lost answer therefore cannot make a second
post: the PDS answers `InvalidSwap` and `getRecord` returns the first one. (`createRecord`
with an existing rkey fails inside the PDS's tree with a 500, which says less.)

The record carries the text with short links and its facets (`richtext`), `langs` from the
release language, `createdAt`, and one embed: up to 4 images with alt text and aspect ratio,
or a link card (`app.bsky.embed.external`) with the title, a description and, with
`embed = "card"`, the first image as thumbnail — Bluesky does not fetch cards itself.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
import regex

from bot import fence, redact
from bot.config import BlueskyConfig
from bot.fit import find_urls
from bot.models import Image, Post, Receipt
from channels.base import Ambiguous, Check, Limits, Permanent, Transient, counts, profile
from channels.bluesky.api import Session, _json
from channels.bluesky.errors import CONTENT_HINT, PLATFORM, error_of, raise_for
from channels.bluesky.lookup import COLLECTION, BlueskyLookup
from channels.bluesky.media import IMAGE_MAX, THUMB_MAX, Blob, BlueskyMedia
from channels.bluesky.richtext import SHORT_URL, build, mentioned_handles
from channels.bluesky.rkey import record_key

if TYPE_CHECKING:
    from bot.store import Store

log = logging.getLogger("channels.bluesky")

MAX_GRAPHEMES = 300
MAX_IMAGES = 4
ALT_MAX = 2000
DESCRIPTION_MAX = 300
_GRAPHEME = regex.compile(r"\X")
_APP_PASSWORD = regex.compile(r"^[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}$")
_LANG = regex.compile(r"^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{1,8})*$")
_HASHTAGS_ONLY = regex.compile(r"^(?:\s*[#＃]\S+)+\s*$")
_MAX_SIZE = regex.compile(r"maximum size is ([0-9]+(?:\.[0-9]+)?)\s*([KMG]?B)\b", regex.I)
RESHRINKS = 2
"""Times the post's blobs are made again, smaller, after a `BlobTooLarge` refusal."""


class BlueskyChannel(BlueskyMedia, BlueskyLookup):
    """One Bluesky account; `client` is the service's shared `httpx.AsyncClient`."""

    def __init__(self, name: str, config: BlueskyConfig, client: httpx.AsyncClient, *,
                 store: Store | None = None) -> None:
        self.name = name
        self.config = config
        self._store = store
        self._client = client
        self._base = str(config.pds_url).rstrip("/")
        self._password = config.app_password.get_secret_value()
        redact.register(self._password)
        self._timeout = config.timeout.total_seconds()
        self._session: Session | None = None
        self._renewing = asyncio.Lock()
        self._writes_left: tuple[int, float] | None = None
        self._ahead = {}

    def __repr__(self) -> str:
        return f"BlueskyChannel(name={self.name!r}, pds_url={self._base!r}, " \
               f"handle={self.config.handle!r})"

    @property
    def limits(self) -> Limits:
        """300 graphemes, every URL counted as its short form's longest (`SHORT_URL`)."""
        return Limits(max_chars=self.config.max_characters or MAX_GRAPHEMES,
                      url_weight=SHORT_URL, graphemes=True, max_images=MAX_IMAGES,
                      alt_max=ALT_MAX, image_max_bytes=IMAGE_MAX)

    # ------------------------------------------------------------------ check

    async def check(self) -> Check:
        details: dict[str, Any] = {"pds_url": self._base}
        warnings: list[str] = []
        if not _APP_PASSWORD.match(self._password):
            warnings.append("app_password does not look like an app password (xxxx-xxxx-xxxx-"
                            "xxxx): use one made for pressbot, never the account password")
        try:
            # a stored session's access token outlives a revoked app password
            await self._renew_stored()
            session = await self._signed_in()
            response = await self._xrpc("GET", "com.atproto.server.getSession",
                                        where="the session")
            raise_for(response, where="the session")
        except Permanent as exc:
            return Check(ok=False, summary=str(exc), details=details, warnings=warnings)
        except (Transient, Ambiguous) as exc:
            return Check(ok=False, summary=f"cannot reach {self._base}: {exc}", details=details,
                         warnings=warnings)
        data = _json(response)
        data = data if isinstance(data, dict) else {}
        handle = str(data.get("handle") or session.handle)
        active = data.get("active") is not False
        details.update(handle=f"@{handle}", did=data.get("did") or session.did,
                       limits=asdict(self.limits),
                       profile=await self._profile(str(data.get("did") or session.did)))
        if not active:
            return Check(ok=False, details=details, warnings=warnings,
                         summary=f"@{handle}: the account is {data.get('status') or 'inactive'}"
                                 " and cannot post")
        summary = (f"@{handle} on {urlsplit(self._base).netloc}: {self.limits.max_chars} "
                   f"graphemes, up to {MAX_IMAGES} images")
        return Check(ok=True, summary=summary, details=details, warnings=warnings)

    async def _profile(self, did: str) -> dict[str, str] | None:
        """The account's display name and avatar (app.bsky.actor.getProfile), for the
        review page's previews; None when the AppView does not answer (not a failed check)."""
        try:
            response = await self._xrpc("GET", "app.bsky.actor.getProfile",
                                        where="the profile", params={"actor": did})
        except (Transient, Ambiguous, Permanent):
            return None
        data = _json(response) if response.is_success else None
        data = data if isinstance(data, dict) else {}
        return profile(data.get("displayName"), data.get("avatar"))

    async def engagement(self, remote_id: str) -> dict[str, int]:
        """Likes, reposts, replies and quotes of a published post (app.bsky.feed.getPosts)."""
        response = await self._xrpc("GET", "app.bsky.feed.getPosts", where="the post",
                                    params={"uris": [remote_id]})
        raise_for(response, where="the post")
        data = _json(response)
        found = (data or {}).get("posts") if isinstance(data, dict) else None
        post = next((p for p in found or [] if isinstance(p, dict) and p.get("uri") ==
                     remote_id), {})
        return counts(post, likes="likeCount", reposts="repostCount", replies="replyCount",
                      quotes="quoteCount")

    # ------------------------------------------------------------------ publish

    async def publish(self, post: Post) -> Receipt:
        rkey = record_key(post.idempotency_key, post.created_at)
        graphemes = len(_GRAPHEME.findall(build(post.text).text))
        if graphemes > MAX_GRAPHEMES:  # before any call: it cannot go out as is
            raise Permanent(f"too long for Bluesky: {graphemes}/{MAX_GRAPHEMES} "
                            "graphemes with links shortened", CONTENT_HINT)
        self._guard_writes()  # before any upload: no orphan blobs when we stop anyway
        session = await self._signed_in()
        handles = mentioned_handles(post.text)
        rich = build(post.text, await self._resolve(handles) if handles else None)
        record: dict[str, Any] = {"$type": COLLECTION, "text": rich.text,
                                  "createdAt": _now()}
        if rich.facets:
            record["facets"] = rich.facets
        language = post.language or self.config.language
        if language and _LANG.match(language):
            record["langs"] = [language]
        cap = IMAGE_MAX
        for _ in range(RESHRINKS + 1):
            embed = await self._embed(post, cap)
            record.pop("embed", None)
            if embed:
                record["embed"] = embed
            response = await self._put(session.did, rkey, record)
            name, message = error_of(response)
            if response.status_code != 400 or name != "BlobTooLarge" or not embed:
                break
            # The PDS holds a smaller maxSize than the lexicon we know (or one of ours
            # grew): make the post's blobs again, under the limit it names.
            cap = min(refused_limit(message) or cap, cap) * 9 // 10
            log.warning("post %s: %s refused a picture as too big (%s); shrinking to %d "
                        "bytes and writing the post again", post.id, PLATFORM, message, cap)
        if response.status_code == 400 and error_of(response)[0] == "InvalidSwap":
            # Something is already at this post's key: an earlier attempt made it.
            existing = await self._record_at(rkey)
            if existing is None:
                raise Transient(f"{PLATFORM}: a record is at this post's key ({rkey}) but the "
                                "PDS does not return it (deleted or taken down?); retrying")
            return self._receipt(str(existing["uri"]))
        raise_for(response, where="the post")
        body = _json(response)
        if not isinstance(body, dict) or not isinstance(body.get("uri"), str):
            raise Ambiguous(f"{PLATFORM} answered {response.status_code} without the post's uri")
        return self._receipt(body["uri"])

    async def _put(self, did: str, rkey: str, record: dict[str, Any]) -> httpx.Response:
        self._guard_writes()
        await fence.hold()
        response = await self._xrpc("POST", "com.atproto.repo.putRecord", ambiguous=True,
                                    where="the post", json={
                                        "repo": did, "collection": COLLECTION,
                                        "rkey": rkey, "record": record, "swapRecord": None})
        self._note_writes(response)
        return response

    async def _resolve(self, handles: list[str]) -> dict[str, str]:
        """Handles → DIDs; one that does not resolve stays plain text (logged)."""
        dids: dict[str, str] = {}
        for handle in handles:
            response = await self._xrpc("GET", "com.atproto.identity.resolveHandle",
                                        where=f"@{handle}", params={"handle": handle})
            data = _json(response) if response.status_code < 300 else None
            did = data.get("did") if isinstance(data, dict) else None
            if isinstance(did, str) and did.startswith("did:"):
                dids[handle] = did
            elif response.status_code >= 500 or response.status_code == 429:
                raise_for(response, where=f"@{handle}")
            else:
                log.warning("@%s is not a Bluesky handle: left as plain text", handle)
        return dids

    async def prepare(self, post: Post) -> None:
        """Make the blobs of the post that comes next while the record before it is being
        written (the publisher's head start); `publish` takes them and redoes what failed."""
        await self._make_ahead(self._wanted(post))

    def _wanted(self, post: Post, cap: int = IMAGE_MAX) -> list[tuple[Image, int]]:
        """The pictures the post's embed uploads first, each with its size cap (`cap`
        lower than the lexicon's after the PDS refused one as too big)."""
        kind = embed_kind(self.config.embed, images=bool(post.images), link=bool(post.link))
        if kind == "images":
            return [(image, min(cap, IMAGE_MAX)) for image in post.images[:MAX_IMAGES]]
        if kind == "card" and self.config.embed == "card" and post.images:
            return [(post.images[0], min(cap, THUMB_MAX))]
        return []

    async def _embed(self, post: Post, cap: int = IMAGE_MAX) -> dict[str, Any] | None:
        kind = embed_kind(self.config.embed, images=bool(post.images), link=bool(post.link))
        if kind == "images":
            if len(post.images) > MAX_IMAGES:
                log.warning("post %s: %d images, Bluesky takes %d; the rest are left out",
                            post.id, len(post.images), MAX_IMAGES)
            items = []
            for image, each in self._wanted(post, cap):
                blob = await self._blob(image, each)
                if blob is not None:
                    items.append(_image(blob, image.alt))
            if items:
                return {"$type": "app.bsky.embed.images", "images": items}
            kind = "card" if post.link and self.config.embed == "auto" else None
        if kind != "card" or not post.link:
            return None
        card: dict[str, Any] = {"uri": post.link, "title": post.title or "",
                                "description": card_description(post)}
        if self.config.embed == "card" and post.images:
            thumb = await self._blob(post.images[0], min(cap, THUMB_MAX))
            if thumb:
                card["thumb"] = thumb.ref
        return {"$type": "app.bsky.embed.external", "external": card}


def refused_limit(message: str) -> int | None:
    """The byte limit a `BlobTooLarge` answer names ("… the maximum size is 976.56KB.", the
    `bytes` package's 1024-based units); None when it names none."""
    found = _MAX_SIZE.search(message)
    if not found:
        return None
    scale = {"b": 1, "kb": 1024, "mb": 1024 ** 2, "gb": 1024 ** 3}[found[2].lower()]
    return int(float(found[1]) * scale)


def embed_kind(mode: str, *, images: bool, link: bool) -> str | None:
    """What a post carries: "images", a link "card", or nothing (the review page shows it too).

    `auto`: the release's images, else a card; `card`: a card (first image as thumbnail),
    images only when there is no link; `images`: images only, never a card.
    """
    if images and (mode != "card" or not link):
        return "images"
    return "card" if link and mode != "images" else None


def _image(blob: Blob, alt: str) -> dict[str, Any]:
    item: dict[str, Any] = {"image": blob.ref,
                            "alt": "".join(_GRAPHEME.findall(alt)[:ALT_MAX])}
    if blob.size and min(blob.size) >= 1:
        item["aspectRatio"] = {"width": blob.size[0], "height": blob.size[1]}
    return item


def card_description(post: Post) -> str:
    """The card's description: the post's text less its title, links and hashtag lines."""
    parts = []
    for paragraph in post.text.split("\n\n"):
        text = paragraph.strip()
        for start, end in reversed(find_urls(text)):
            text = text[:start] + text[end:]
        text = " ".join(text.split())
        if text and text != " ".join((post.title or "").split()) and \
                not _HASHTAGS_ONLY.match(text):
            parts.append(text)
    description = " ".join(parts)
    clusters = _GRAPHEME.findall(description)
    return description if len(clusters) <= DESCRIPTION_MAX else \
        "".join(clusters[:DESCRIPTION_MAX - 1]).rstrip() + "…"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
