"""The Bluesky channel object: its limits, `check`, and the publish flow.

A post becomes one `app.bsky.feed.post` record written with `com.atproto.repo.putRecord` at
the post's own record key (`rkey.record_key`) with `swapRecord: null` — "create, and refuse
if something is already there". A retry after a lost answer therefore cannot make a second
post: the PDS answers `InvalidSwap` and `getRecord` returns the first one. (`createRecord`
with an existing rkey fails inside the PDS's tree with a 500, which says less.)

The record carries the text with short links and its facets (`richtext`), `langs` from the
release language, `createdAt`, the self-labels of the channel and the release, and one
embed: up to 4 images with alt text and aspect ratio, or a link card
(`app.bsky.embed.external`) with the title, a description and, with `embed = "card"`, the
first image as thumbnail — Bluesky does not fetch cards itself.

With `thread = true` a long text becomes several such records, each a reply to the one
before; `replies` and `quotes` add a threadgate and postgates. Those writes go out in a
fixed order, each at a key derived from the post and kept once the same way
(`thread`), so `lookup` asks only whether the last one is there.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict, replace
from typing import TYPE_CHECKING, Any, get_args
from urllib.parse import urlsplit

import httpx
import regex

from bot import fence, redact
from bot.config import BlueskyConfig, SelfLabel
from bot.fit import find_urls
from bot.models import Image, Post, Receipt
from channels.base import Ambiguous, Check, Limits, Permanent, Transient, counts, profile
from channels.bluesky.api import Session, _json
from channels.bluesky.errors import CONTENT_HINT, PLATFORM, error_of, raise_for
from channels.bluesky.lookup import COLLECTION, BlueskyLookup
from channels.bluesky.media import IMAGE_MAX, THUMB_MAX, Blob, BlueskyMedia
from channels.bluesky.richtext import SHORT_URL, build, mentioned_handles
from channels.bluesky.rkey import part_key, record_key
from channels.bluesky.thread import (
    THREADGATE,
    Ledger,
    Step,
    postgate_record,
    steps,
    threadgate_record,
)
from channels.threads import THREAD_PARTS, split_thread, thread_limits

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
SELF_LABELS = frozenset(get_args(SelfLabel))
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
        """300 graphemes, every URL counted as its short form's longest (`SHORT_URL`);
        with `thread`, up to `THREAD_PARTS` records of it."""
        single = Limits(max_chars=self._single, url_weight=SHORT_URL, graphemes=True,
                        max_images=MAX_IMAGES, alt_max=ALT_MAX, image_max_bytes=IMAGE_MAX)
        return thread_limits(single) if self.config.thread else single

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
        thread = f" (threads of up to {THREAD_PARTS})" if self.config.thread else ""
        summary = (f"@{handle} on {urlsplit(self._base).netloc}: {self._single} "
                   f"graphemes{thread}, up to {MAX_IMAGES} images")
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
        if not self.config.thread:  # before any call: it cannot go out as is
            graphemes = len(_GRAPHEME.findall(build(post.text).text))
            if graphemes > self._single:
                raise Permanent(f"too long for Bluesky: {graphemes}/{self._single} "
                                "graphemes with links shortened", CONTENT_HINT)
        self._guard_writes()  # before any upload: no orphan blobs when we stop anyway
        session = await self._signed_in()
        ledger, plan = await self._plan(post)
        parts = ledger.parts
        handles = mentioned_handles(post.text)
        dids = await self._resolve(handles) if handles else None
        rkey = record_key(post.idempotency_key, post.created_at)
        refs: dict[int, dict[str, str]] = {}
        for step in plan:
            ref = ledger.written(step)
            if ref is None:
                created = await ledger.sending(step)  # durable before the write …
                key = part_key(rkey, step.part)
                if step.collection == COLLECTION:
                    record = self._record(post, parts[step.part], dids, created,
                                          reply=_reply(refs, step.part))
                    ref = await self._write_post(post, session.did, key, record,
                                                 embed=step.part == 0)
                elif step.collection == THREADGATE:
                    ref = await self._write(session.did, step.collection, key, threadgate_record(
                        refs[0]["uri"], self.config.replies, created))
                else:
                    ref = await self._write(session.did, step.collection, key,
                                            postgate_record(refs[step.part]["uri"], created))
                await ledger.wrote(step, ref)  # … and after it
            if step.collection == COLLECTION:
                refs[step.part] = ref
        if len(plan) > 1:
            await ledger.drop()
        return self._receipt(refs[0]["uri"])

    async def lookup(self, post: Post) -> Receipt | None:
        """A post of several writes is out when its last write is (they go in order)."""
        _, plan = await self._plan(post, keep=False)
        if len(plan) == 1:
            return await super().lookup(post)
        session = await self._signed_in()
        rkey = record_key(post.idempotency_key, post.created_at)
        last = plan[-1]
        if await self._record_at(part_key(rkey, last.part), last.collection) is None:
            return None  # not all out: `publish` goes on from where it stopped
        return self._receipt(f"at://{session.did}/{COLLECTION}/{rkey}")

    @property
    def _single(self) -> int:
        """Graphemes one record's text may have."""
        return self.config.max_characters or MAX_GRAPHEMES

    async def _plan(self, post: Post, *, keep: bool = True) -> tuple[Ledger, list[Step]]:
        """The post's parts (as first cut, when a ledger kept them) and its writes; with
        `keep`, a new plan is written to the store before anything is sent."""
        cut = [post.text]
        if self.config.thread:
            single = replace(self.limits, max_chars=self._single, soft_chars=None)
            cut = split_thread(post.text, single, CONTENT_HINT) or [post.text]
        gates = {"threadgate": self.config.replies != "everybody",
                 "postgate": not self.config.quotes}
        if len(steps(len(cut), **gates)) == 1:  # one record: its key alone keeps it once
            return Ledger(None, "", {"parts": cut, "steps": {}}), steps(1, **gates)
        ledger = await Ledger.open(self._store, self.name, post.uid, post.text, cut)
        plan = steps(len(ledger.parts), **gates)
        if keep:
            await ledger.schedule(plan)
        return ledger, plan

    def _record(self, post: Post, text: str, dids: dict[str, str] | None, created: str, *,
                reply: dict[str, Any] | None) -> dict[str, Any]:
        """One part's `app.bsky.feed.post` record: facets at this part's own byte offsets."""
        rich = build(text, dids)
        record: dict[str, Any] = {"$type": COLLECTION, "text": rich.text, "createdAt": created}
        if rich.facets:
            record["facets"] = rich.facets
        language = post.language or self.config.language
        if language and _LANG.match(language):
            record["langs"] = [language]
        if reply:
            record["reply"] = reply
        if labels := labels_of(self.config, post):
            record["labels"] = {"$type": "com.atproto.label.defs#selfLabels",
                                "values": [{"val": label} for label in labels]}
        return record


    async def _write_post(self, post: Post, did: str, rkey: str, record: dict[str, Any], *,
                          embed: bool) -> dict[str, str]:
        """Write a part; the first carries the embed, made again smaller when the PDS
        refuses a blob as too big."""
        if not embed:
            return await self._write(did, COLLECTION, rkey, record)
        cap = IMAGE_MAX
        for _ in range(RESHRINKS + 1):
            made = await self._embed(post, cap)
            record.pop("embed", None)
            if made:
                record["embed"] = made
            response = await self._put(did, COLLECTION, rkey, record)
            name, message = error_of(response)
            if response.status_code != 400 or name != "BlobTooLarge" or not made:
                break
            # The PDS holds a smaller maxSize than the lexicon we know (or one of ours
            # grew): make the post's blobs again, under the limit it names.
            cap = min(refused_limit(message) or cap, cap) * 9 // 10
            log.warning("post %s: %s refused a picture as too big (%s); shrinking to %d "
                        "bytes and writing the post again", post.id, PLATFORM, message, cap)
        return await self._written(response, COLLECTION, rkey)

    async def _write(self, did: str, collection: str, rkey: str,
                     record: dict[str, Any]) -> dict[str, str]:
        return await self._written(await self._put(did, collection, rkey, record),
                                   collection, rkey)

    async def _written(self, response: httpx.Response, collection: str,
                       rkey: str) -> dict[str, str]:
        """The `{uri, cid}` a write made, or the one an earlier attempt made at its key."""
        if response.status_code == 400 and error_of(response)[0] == "InvalidSwap":
            existing = await self._record_at(rkey, collection)
            if existing is None:
                raise Transient(f"{PLATFORM}: a record is at this post's key ({rkey}) but the "
                                "PDS does not return it (deleted or taken down?); retrying")
            body = existing
        else:
            raise_for(response, where="the post")
            body = _json(response)
        if not isinstance(body, dict) or not isinstance(body.get("uri"), str) or \
                not isinstance(body.get("cid"), str):
            raise Ambiguous(f"{PLATFORM} answered {response.status_code} without the "
                            "record's uri and cid")
        return {"uri": body["uri"], "cid": body["cid"]}

    async def _put(self, did: str, collection: str, rkey: str,
                   record: dict[str, Any]) -> httpx.Response:
        self._guard_writes()
        await fence.hold()
        response = await self._xrpc("POST", "com.atproto.repo.putRecord", ambiguous=True,
                                    where="the post", json={
                                        "repo": did, "collection": collection,
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


def labels_of(config: BlueskyConfig, post: Post) -> list[str]:
    """The channel's self-labels, and those the release asked for (`labels` in its front
    matter's table for this channel)."""
    asked = post.extra.get("labels")
    extra = [str(x) for x in asked if x in SELF_LABELS] if isinstance(asked, list) else []
    return list(dict.fromkeys([*config.labels, *extra]))[:10]


def gates_of(config: BlueskyConfig, post: Post) -> list[str]:
    """What a person should know the post carries besides its text (the review page):
    its self-labels, who may reply, no quoting."""
    said = []
    if labels := labels_of(config, post):
        said.append(f"labels: {', '.join(labels)}")
    if config.replies != "everybody":
        who = config.replies if isinstance(config.replies, str) else \
            " or ".join(config.replies) or "nobody"
        said.append(f"replies: {who}")
    if not config.quotes:
        said.append("quotes: off")
    return said


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


def _reply(refs: dict[int, dict[str, str]], part: int) -> dict[str, Any] | None:
    """Part `part`'s reply refs: the thread's first part as root, the one before as parent."""
    if part == 0:
        return None
    return {"root": refs[0], "parent": refs[part - 1]}
