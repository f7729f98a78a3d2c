"""The Mastodon channel object: the instance's limits, `check`, and the publish flow.

Every status POST carries `Idempotency-Key: post.idempotency_key`, so a retry within the
server's hour returns the first status instead of a second one. Limits are the instance's
(`/api/v2/instance`, falling back to v1), never a hard-coded 500. With `thread = true` a long
text goes out as a reply chain, each part with its own key (`pressbot-post-N-partI`). Nothing
makes a thread atomic: a permanent failure mid-thread leaves the first parts up, and a lookup
that finds the first part reports the post published.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import asdict, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

import httpx
import regex

from bot import fence, redact
from bot.config import MastodonConfig
from bot.fit import count
from bot.models import Image, Post, Receipt
from channels.base import Ambiguous, Check, Limits, Permanent, Transient, counts, profile
from channels.mastodon.api import _json, _receipt
from channels.mastodon.errors import CONTENT_HINT, PLATFORM, _error_text
from channels.mastodon.lookup import MastodonLookup
from channels.mastodon.media import DEFAULT_IMAGE_MAX, MastodonMedia
from channels.mastodon.servers import COUNTING, HOW, display_name, server_of
from channels.threads import split_thread, thread_limits

if TYPE_CHECKING:
    from bot.store import Store

# The package's logger name, which log filters and tests select on.
log = logging.getLogger("channels.mastodon")

DEFAULT_MAX_CHARS = 500
DEFAULT_URL_WEIGHT = 23
DEFAULT_ALT_MAX = 1500
UPLOAD_REUSE = 30 * 60.0
"""Seconds an upload no status used yet may still be attached; Mastodon removes unattached
media after a day, and an upload that old is more likely stale than useful."""


def _upload_key(image: Image) -> str:
    """What an upload stands for: the picture and its description (an edit of either needs
    a new upload)."""
    return f"{image.url}\n{image.alt}"


class MastodonChannel(MastodonMedia, MastodonLookup):
    """One Mastodon account; `client` is the service's shared `httpx.AsyncClient`."""

    def __init__(self, name: str, config: MastodonConfig, client: httpx.AsyncClient, *,
                 store: Store | None = None, poll_interval: float = 0.5,
                 max_polls: int = 40) -> None:
        self.name = name
        self.config = config
        self._store = store
        self._client = client
        self._base = str(config.base_url).rstrip("/")
        self._token = config.access_token.get_secret_value()
        redact.register(self._token)
        self._timeout = config.timeout.total_seconds()
        self._poll_interval = poll_interval
        self._max_polls = max_polls
        self._instance: dict[str, Any] | None = None
        self._account: dict[str, Any] | None = None
        self._budgets = {}
        self._uploads: dict[str, dict[str, str | None]] = {}
        """Per post uid, (image URL, alt) → media id uploaded by a try that made no status
        (or by `prepare`)."""
        self._uploaded_at: dict[str, float] = {}
        """Per post uid, when its first upload was made (monotonic)."""
        self._preparing: dict[str, asyncio.Future[dict[str, str | None]]] = {}
        """Per post uid, the uploads `prepare` started ahead of the post's turn."""

    def __repr__(self) -> str:
        return f"MastodonChannel(name={self.name!r}, base_url={self._base!r})"

    # ------------------------------------------------------------------ limits

    @property
    def limits(self) -> Limits:
        """What the core renders against: one status, or a thread of up to `THREAD_PARTS`."""
        single = self.status_limits
        # Longer texts are fine: they go out as a reply chain; past one status, warn.
        return thread_limits(single) if self.config.thread else single

    @property
    def server(self) -> str | None:
        """The Mastodon-API server the instance's version names (None: Mastodon)."""
        return server_of((self._instance or {}).get("version"))

    @property
    def counting(self) -> str:
        """The channel's `counting`, else the rule of the server that answers."""
        return self.config.counting or COUNTING.get(self.server or "", "mastodon")

    @property
    def status_limits(self) -> Limits:
        """One status: the instance's limits once read, less the spoiler text's length."""
        conf = self._instance or {}
        statuses = conf.get("statuses") or {}
        media = conf.get("media_attachments") or {}
        max_chars = (self.config.max_characters or _positive(statuses.get("max_characters"))
                     or DEFAULT_MAX_CHARS)
        if self.config.spoiler_text:
            max_chars -= len(regex.findall(r"\X", self.config.spoiler_text))
        full = self.counting != "mastodon"  # links and mentions counted in full
        return Limits(
            max_chars=max_chars,
            url_weight=None if full else (
                _positive(statuses.get("characters_reserved_per_url")) or DEFAULT_URL_WEIGHT),
            graphemes=self.counting != "takahe",  # Takahē: code points
            mentions_local=not full,
            max_images=_positive(statuses.get("max_media_attachments")) or 4,
            alt_max=_positive(media.get("description_limit")) or DEFAULT_ALT_MAX,
            image_max_bytes=_positive(media.get("image_size_limit")) or DEFAULT_IMAGE_MAX,
        )

    async def load_limits(self) -> Limits:
        """Read the instance's configuration (public, no token) and keep it for `limits`."""
        response = await self._request("GET", "/api/v2/instance", auth=False)
        if response.status_code in (404, 410):  # before 4.0, or a compatible server
            response = await self._request("GET", "/api/v1/instance", auth=False)
        self._raise(response, scope="", where="the instance information")
        data = _json(response)
        conf = data.get("configuration") if isinstance(data, dict) else None
        if not isinstance(conf, dict):
            conf = {}
        if not conf.get("statuses") and isinstance(data, dict) and data.get("max_toot_chars"):
            conf["statuses"] = {"max_characters": data["max_toot_chars"]}  # Pleroma/Akkoma
        conf["version"] = data.get("version") if isinstance(data, dict) else None
        self._instance = conf
        return self.limits

    # ------------------------------------------------------------------ check

    async def check(self) -> Check:
        details: dict[str, Any] = {"base_url": self._base}
        warnings: list[str] = []
        try:
            account = await self._verify()
        except Permanent as exc:
            return Check(ok=False, summary=str(exc), details=details)
        except (Transient, Ambiguous) as exc:
            return Check(ok=False, summary=f"cannot reach {self._base}: {exc}", details=details)
        try:
            limits = await self.load_limits()
        except (Permanent, Transient, Ambiguous) as exc:
            limits = self.limits
            warnings.append(f"could not read the instance limits ({exc}); using defaults")
        instance_max = _positive(((self._instance or {}).get("statuses") or {})
                                 .get("max_characters"))
        if self.config.max_characters and instance_max and self.config.max_characters > \
                instance_max:
            warnings.append(f"max_characters = {self.config.max_characters} is above the "
                            f"instance's limit of {instance_max}: posts would be refused")
        warnings += self._counting_warnings()
        acct = f"@{account.get('acct') or account.get('username')}"
        details.update(profile=profile(account.get("display_name"),
                                       account.get("avatar_static") or account.get("avatar")))
        details.update(account=acct, account_url=account.get("url"),
                       version=(self._instance or {}).get("version"), limits=asdict(limits))
        summary = (f"{acct} on {urlsplit(self._base).netloc} ({display_name(self.server)}): "
                   f"{limits.max_chars} characters counted as {self.counting}, "
                   f"up to {limits.max_images} images")
        return Check(ok=True, summary=summary, details=details, warnings=warnings)

    async def engagement(self, remote_id: str) -> dict[str, int]:
        """Boosts, favourites and replies of a published status (GET /api/v1/statuses/:id)."""
        self._guard()
        response = await self._request("GET", f"/api/v1/statuses/{quote(remote_id, safe='')}")
        self._raise(response, scope="read:statuses", where="the status")
        data = _json(response)
        data = data if isinstance(data, dict) else {}
        return counts(data, boosts="reblogs_count", favourites="favourites_count",
                      replies="replies_count")

    def _counting_warnings(self) -> list[str]:
        """What `check` says when the server counts otherwise than the channel does."""
        server, name = self.server, display_name(self.server)
        if server is None:
            return []
        known = COUNTING.get(server)
        if known is None:
            return [f"{name} answered: pressbot does not know how {name} counts a status; "
                    f"if a post is refused as too long, set counting = \"takahe\" (it "
                    f"counts highest: {HOW['takahe']})"]
        if self.config.counting and self.config.counting != known:
            return [f"{name} answered: it counts {HOW[known]}, but counting = "
                    f"\"{self.config.counting}\" — set counting = \"{known}\" (or remove "
                    "it) or posts that fit the preview may be refused"]
        return []

    # ------------------------------------------------------------------ publish

    async def prepare(self, post: Post) -> None:
        """Upload the images of the post that comes next while the one before it is being
        posted (the publisher's head start); `publish` reuses them and redoes what failed."""
        task = asyncio.ensure_future(self._upload_all(post, self._images(post, warn=False)))
        self._preparing[post.uid] = task
        try:
            await task
        finally:
            if self._preparing.get(post.uid) is task:
                del self._preparing[post.uid]

    def _images(self, post: Post, *, warn: bool = True) -> list[Image]:
        images = post.images
        if len(images) > self.limits.max_images:
            if warn:
                log.warning("post %s: %d images, the instance takes %d; the rest are left out",
                            post.id, len(images), self.limits.max_images)
            images = images[: self.limits.max_images]
        return images

    async def _upload_all(self, post: Post, images: list[Image]) -> dict[str, str | None]:
        """Uploads of an earlier try (or of `prepare`, or of a process that crashed before
        the status was made) are reused, not redone, while they are fresh and show the same
        picture with the same alt text: an edit made since, or an upload the server may
        have expired, means a new one. Each upload's id is recorded in the store before
        anything could attach it."""
        self._guard()  # before any upload: no orphan media when we are about to stop anyway
        await self._sweep()
        if post.uid not in self._uploads and (kept := await asyncio.to_thread(
                self._recorded, post.uid)) is not None:
            self._uploads[post.uid], age = kept
            self._uploaded_at[post.uid] = time.monotonic() - age
        uploaded = self._uploads.setdefault(post.uid, {})
        self._uploaded_at.setdefault(post.uid, time.monotonic())
        for image in images:
            if _upload_key(image) not in uploaded:
                uploaded[_upload_key(image)] = await self._upload(image)
                await asyncio.to_thread(self._record, post.uid, dict(uploaded))
        return uploaded

    async def _sweep(self) -> None:
        """Forget (and delete) uploads kept longer than `UPLOAD_REUSE`: a post peeked at
        that was then edited, rejected or published elsewhere — also those an earlier
        process recorded and never used (it was killed between upload and status)."""
        now = time.monotonic()
        for uid in [u for u, at in self._uploaded_at.items() if now - at > UPLOAD_REUSE]:
            del self._uploaded_at[uid]
            if uid not in self._preparing:
                await self._forget(uid, self._uploads.pop(uid, {}))
        for uid, media in await asyncio.to_thread(self._stale_records):
            if uid not in self._uploads:
                await self._forget(uid, media)

    async def _forget(self, uid: str, uploaded: dict[str, str | None]) -> None:
        await self._discard(uploaded)
        await asyncio.to_thread(self._record, uid, None)

    # -- uploads recorded in the store, so a crash between upload and status orphans none

    def _record_key(self, uid: str = "") -> str:
        return f"mastodon-upload:{self.name}:{uid}"

    def _record(self, uid: str, uploaded: dict[str, str | None] | None) -> None:
        """Write (or, with None, drop) the uploads of a post not yet attached to a status."""
        if self._store is None:
            return
        from bot import clock
        from bot.store import meta

        # read then write: on SQLite the write lock is taken first (BEGIN IMMEDIATE), or two
        # writers upgrading at once fail at once with "database is locked"
        with self._store.begin_immediate() as conn:
            if uploaded is None:
                meta.delete(conn, self._record_key(uid))
                return
            since = (meta.get(conn, self._record_key(uid)) or {}).get("at") \
                or clock.now().isoformat()
            meta.put(conn, self._record_key(uid), {"at": since, "media": uploaded})

    def _recorded(self, uid: str) -> tuple[dict[str, str | None], float] | None:
        """A post's recorded uploads and their age in seconds, while young enough to use."""
        if self._store is None:
            return None
        from bot import clock
        from bot.store import meta

        with self._store.begin() as conn:
            data = meta.get(conn, self._record_key(uid))
        age = _age(data, clock.now())
        if age is None or age > UPLOAD_REUSE:
            return None
        return dict(data["media"]), age

    def _stale_records(self) -> list[tuple[str, dict[str, str | None]]]:
        if self._store is None:
            return []
        from bot import clock
        from bot.store import meta

        with self._store.begin() as conn:
            found = meta.with_prefix(conn, self._record_key())
        now = clock.now()
        return [(uid, dict(data.get("media") or {})) for uid, data in found.items()
                if (age := _age(data, now)) is None or age > UPLOAD_REUSE]

    async def publish(self, post: Post) -> Receipt:
        self._guard()
        parts = self._parts(post)
        images = self._images(post)
        if (early := self._preparing.get(post.uid)) is not None:
            with contextlib.suppress(Exception):  # what it could not do is done below
                await asyncio.shield(early)
        try:
            uploaded = await self._upload_all(post, images)
            media_ids = [m for image in images if (m := uploaded.get(_upload_key(image)))]
            language = post.language or self.config.language
            made: list[dict[str, Any]] = []
            for index, text in enumerate(parts):
                # Each part has its own key, so a retry after a crash mid-thread replays the
                # parts already made (within the server's hour) and continues with the rest.
                key = post.idempotency_key if index == 0 else \
                    f"{post.idempotency_key}-part{index}"
                made.append(await self._post_status(
                    text, media_ids if index == 0 else [], key, language=language,
                    reply_to=str(made[-1]["id"]) if made else None))
        except Permanent:
            # The post will not go out as it is: its uploads would only pile up unattached.
            self._uploaded_at.pop(post.uid, None)
            await self._forget(post.uid, self._uploads.pop(post.uid, {}))
            raise
        except Ambiguous:
            self._uploaded_at.pop(post.uid, None)
            self._uploads.pop(post.uid, None)   # they may be attached now
            await asyncio.to_thread(self._record, post.uid, None)
            raise
        self._uploaded_at.pop(post.uid, None)
        kept = self._uploads.pop(post.uid, {})
        used = set(media_ids)   # an edit changed a picture or its alt text since the upload
        await self._forget(post.uid, {k: m for k, m in kept.items() if m not in used})
        return _receipt(made[0])

    async def _discard(self, uploaded: dict[str, str | None]) -> None:
        """Delete uploads no status will use; best effort (the server also expires them)."""
        for media_id in filter(None, uploaded.values()):
            try:
                response = await self._request("DELETE", f"/api/v1/media/{media_id}")
            except (Transient, Ambiguous) as exc:
                log.info("could not delete unused upload %s: %s", media_id, exc)
                continue
            if response.status_code >= 300:
                log.info("could not delete unused upload %s: HTTP %s", media_id,
                         response.status_code)

    def _parts(self, post: Post) -> list[str]:
        if not self.config.thread:
            return [post.text]
        return split_thread(post.text, self.status_limits, CONTENT_HINT) or [post.text]

    async def _post_status(self, text: str, media_ids: list[str], key: str, *,
                           language: str | None, reply_to: str | None = None) -> dict[str, Any]:
        self._guard()
        await fence.hold()  # a worker paused past its lease must not post a second copy
        data: dict[str, Any] = {"status": text, "visibility": self.config.visibility}
        if language:
            data["language"] = language
        if self.config.spoiler_text:
            data["spoiler_text"] = self.config.spoiler_text
        if media_ids:
            data["media_ids[]"] = media_ids
        if reply_to:
            data["in_reply_to_id"] = reply_to
        response = await self._request("POST", "/api/v1/statuses", data=data,
                                       headers={"Idempotency-Key": key},
                                       budget="statuses", ambiguous=True)
        answer = response.text.lower()
        if (response.status_code == 422 and "character" in answer) or \
                (response.status_code == 400 and "too long" in answer):  # 400: Takahē
            raise self._too_long(text, response)
        self._raise(response, scope="write:statuses", where="the post", ambiguous=True)
        status = _json(response)
        if not isinstance(status, dict) or not status.get("id"):
            # A 2xx means the status was probably made; only a lookup can tell.
            raise Ambiguous(f"{PLATFORM} answered {response.status_code} without a status id")
        return status

    def _too_long(self, text: str, response: httpx.Response) -> Permanent:
        """The server counted longer than we did: say both counts, and the counting mode
        of the server that answered."""
        limits = self.status_limits
        ours = count(text, limits, self.config.spoiler_text or "")
        strict = replace(limits, url_weight=None, mentions_local=False, graphemes=False)
        raw = count(text, strict, self.config.spoiler_text or "")
        over = max(1, raw - (limits.max_chars or raw))
        name = display_name(self.server)
        mode = COUNTING.get(self.server or "", "takahe")
        advice = (f"cut about {over} characters and approve again"
                  if self.counting == mode else
                  f"cut about {over} characters and approve again; {name} counts "
                  f"{HOW[mode]}: set counting = \"{mode}\" on the channel so the preview "
                  "counts as it does")
        return Permanent(
            f"{name} refused the length: {_error_text(response)} — pressbot counted "
            f"{ours}/{limits.max_chars} ({HOW[self.counting]}); counting every code point, "
            f"links and mentions in full, it is {raw}", advice)


# ---------------------------------------------------------------------- helpers

def _age(record: Any, now: datetime) -> float | None:
    """Seconds since a recorded upload was made (None: the record is unreadable)."""
    try:
        return (now - datetime.fromisoformat(record["at"])).total_seconds()
    except (KeyError, TypeError, ValueError):
        return None


def _positive(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None
