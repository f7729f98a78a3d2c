"""The Facebook channel object: the publish flow, and finding earlier publications.

Why publishing twice is safe (look-up first, two-phase link posts, best-effort drafts) is
told once, in the package docstring (`channels/facebook/__init__.py`).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, quote_plus

import httpx

from bot import fence, redact
from bot.config import FacebookConfig
from bot.models import Post, Receipt
from channels.base import Ambiguous, ChannelError, Limits, Permanent, Transient
from channels.facebook.check import PageCheck
from channels.facebook.errors import _NoAnswer
from channels.facebook.graph import _guard_http_logs, proof
from channels.images import clean, read_local, sniff

# The package's logger name, which log filters and tests select on.
log = logging.getLogger("channels.facebook")

LOOKUP_MARGIN = timedelta(minutes=2)
"""Clock slack between us and Facebook when comparing creation times."""
LOOKUP_PAGES = 4
PHOTO_MAX = 4 * 1024 * 1024
SKIPPABLE_DRAFT_ERRORS = frozenset({3, 10, 12, 100, 200})


def _normal(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").strip().split("\n"))


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


ENGAGEMENT_FIELDS = ("reactions.summary(total_count).limit(0),"
                     "comments.summary(total_count).limit(0),shares")


def _total(data: dict[str, Any], edge: str) -> int:
    value = ((data.get(edge) or {}).get("summary") or {}).get("total_count")
    return value if isinstance(value, int) and value >= 0 else 0


class FacebookChannel(PageCheck):
    """One Facebook Page. `publish` is safe to call twice: it finds an earlier publication."""

    limits = Limits(max_chars=63206, url_weight=None, graphemes=False, soft_chars=500,
                    max_images=1)
    """63,206 is the widely cited post maximum; past ~500 characters the text hides behind
    "See more" on desktop (≈125 on mobile), so longer posts get a readability warning."""

    def __init__(self, name: str, config: FacebookConfig, client: httpx.AsyncClient) -> None:
        self.name = name
        self.config = config
        self.client = client
        self._token = config.page_access_token.get_secret_value()
        self._secret = config.app_secret.get_secret_value() if config.app_secret else None
        self._app_token = config.app_token.get_secret_value() if config.app_token else None
        self._base = f"{str(config.graph_url).rstrip('/')}/{config.api_version}"
        self._timeout = config.timeout.total_seconds()
        self._slow_until = 0.0
        self._slow_reason = ""
        secrets = [self._token, self._secret, self._app_token]
        if self._secret:
            secrets += [proof(self._secret, t) for t in (self._token, self._app_token) if t]
        # httpx percent-encodes query values ("|" in app tokens), so mask those forms too.
        redact.register(*secrets, *(quote(s, safe="") for s in secrets if s),
                        *(quote_plus(s) for s in secrets if s))
        _guard_http_logs()

    # ── publish ───────────────────────────────────────────────────────────────────────
    async def publish(self, post: Post) -> Receipt:
        found = await self.lookup(post)
        if found is not None:
            log.info("post %s is already on Facebook as %s", post.id, found.remote_id)
            return found
        self._before_write()
        if self.config.post_as == "photo" and post.images:
            return await self._publish_photo(post)
        return await self._publish_link(post)

    async def _publish_link(self, post: Post) -> Receipt:
        page_id = self.config.page_id
        draft = await self._find_draft(post)
        if draft is not None:
            post_id, permalink = draft
            log.info("post %s: reusing unpublished draft %s", post.id, post_id)
        else:
            if self.config.warm_up and post.link:
                await self._warm_up(post.link)
            params = {"message": post.text, "published": "false", "fields": "id,permalink_url"}
            if post.link:
                params["link"] = post.link
            await fence.hold()
            try:
                created = await self._call("POST", f"{page_id}/feed", params, write=True)
            except _NoAnswer as exc:
                raise Transient(f"{exc}: at most an unpublished draft exists; the retry reuses "
                                "it when it can be found") from None
            post_id, permalink = str(created["id"]), created.get("permalink_url")
        await self._go_live(post_id)
        return Receipt(remote_id=post_id, remote_url=permalink or await self._permalink(post_id))

    async def _go_live(self, post_id: str) -> None:
        for attempt in (1, 2):
            try:
                await self._call("POST", post_id, {"is_published": "true"}, write=True)
                return
            except _NoAnswer as exc:
                if attempt == 2:
                    raise Ambiguous(f"{exc}: draft {post_id} may or may not be live; look it "
                                    "up before any retry") from None
                log.info("no answer to making %s live; asking again (it is idempotent)", post_id)

    async def _publish_photo(self, post: Post) -> Receipt:
        image = post.images[0]
        caption = self._caption(post)
        params = {"caption": caption, "published": "true"}
        if image.alt:
            params["alt_text_custom"] = image.alt
        files = None
        if image.url.startswith(("http://", "https://")):
            params["url"] = image.url
        else:
            local = await read_local(image.url, PHOTO_MAX)
            if local is None:
                raise Permanent(f"the image {image.url!r} is over Facebook's 4 MB photo limit",
                                "use a smaller image, or switch post_as to \"link\"")
            data, name = local
            kind = sniff(data) or "application/octet-stream"
            files = {"source": (name, await clean(image.url, data, kind), kind)}
        await fence.hold()
        created = await self._call("POST", f"{self.config.page_id}/photos", params, write=True,
                                   files=files)
        post_id = str(created.get("post_id") or created["id"])
        return Receipt(remote_id=post_id, remote_url=await self._permalink(post_id))

    async def _warm_up(self, link: str) -> None:
        """Ask Facebook to scrape the link first, so the preview card is fresh; optional."""
        try:
            scraped = await self._call("POST", "", {"id": link, "scrape": "true"})
        except ChannelError as exc:
            log.info("Facebook could not pre-scrape the link (posting anyway): %s", exc)
            return
        missing = [tag for tag, key in (("og:title", "title"), ("og:image", "image"))
                   if not scraped.get(key)]
        if missing:
            log.warning("the page %s lacks %s: Facebook's link card will be bare; add the "
                        "tags to the website's page", link, " and ".join(missing))

    async def _permalink(self, post_id: str) -> str:
        try:
            data = await self._call("GET", post_id, {"fields": "permalink_url"})
            if data.get("permalink_url"):
                return str(data["permalink_url"])
        except ChannelError as exc:
            log.info("post %s is live but its permalink could not be read: %s", post_id, exc)
        return f"https://www.facebook.com/{post_id}"

    @staticmethod
    def _caption(post: Post) -> str:
        """Photo posts show no link card, so the link goes into the caption when missing."""
        if post.link and post.link not in post.text:
            return f"{post.text.rstrip()}\n\n{post.link}"
        return post.text

    # ── finding earlier publications ──────────────────────────────────────────────────
    async def engagement(self, remote_id: str) -> dict[str, int]:
        """Reactions, comments and shares of a published Page post (summaries only: no
        names of the people who reacted are asked for)."""
        data = await self._call("GET", remote_id, {"fields": ENGAGEMENT_FIELDS})
        return {"reactions": _total(data, "reactions"), "comments": _total(data, "comments"),
                "shares": int((data.get("shares") or {}).get("count") or 0)}

    async def lookup(self, post: Post) -> Receipt | None:
        """The live Page post carrying this post's exact text (and link card), created after
        the post was first claimed: nothing older can be ours."""
        fields = "id,message,permalink_url,created_time,attachments{unshimmed_url,url}"
        async for item in self._scan("posts", {"fields": fields}, post):
            return Receipt(remote_id=str(item["id"]), remote_url=item.get("permalink_url"),
                           matched=f"the approved text; created {item.get('created_time')}")
        return None

    async def _find_draft(self, post: Post) -> tuple[str, str | None] | None:
        fields = "id,message,permalink_url,created_time,is_published,attachments{unshimmed_url,url}"
        try:
            async for item in self._scan("promotable_posts",
                                         {"fields": fields, "is_published": "false"}, post):
                if item.get("is_published") is not True:
                    return str(item["id"]), item.get("permalink_url")
        except Permanent as exc:
            if getattr(exc, "graph_code", None) not in SKIPPABLE_DRAFT_ERRORS:
                raise
            log.info("cannot list unpublished drafts (creating a new one): %s", exc)
        return None

    async def _scan(self, edge: str, params: dict[str, str], post: Post,
                    ) -> AsyncIterator[dict[str, Any]]:
        since = self._since(post)
        query = params | {"since": str(int(since.timestamp())), "limit": "25"}
        texts = {_normal(post.text), _normal(self._caption(post))}
        for _ in range(LOOKUP_PAGES):
            data = await self._call("GET", f"{self.config.page_id}/{edge}", query)
            items = [i for i in data.get("data") or [] if isinstance(i, dict)]
            for item in items:
                created = _parse_time(item.get("created_time"))
                if created is not None and created < since:
                    continue
                if self._matches(item, post, texts):
                    yield item
            cursor = ((data.get("paging") or {}).get("cursors") or {}).get("after")
            if not items or not cursor or not (data.get("paging") or {}).get("next"):
                return
            query = query | {"after": str(cursor)}

    @staticmethod
    def _since(post: Post) -> datetime:
        """The post's first claim (nothing was sent before it), less clock slack."""
        first = post.receipt_cutoff or post.created_at or datetime.now(UTC) - timedelta(days=1)
        if first.tzinfo is None:
            first = first.replace(tzinfo=UTC)
        return first - LOOKUP_MARGIN

    @staticmethod
    def _matches(item: dict[str, Any], post: Post, texts: set[str]) -> bool:
        if _normal(str(item.get("message") or "")) not in texts:
            return False
        attachments = (item.get("attachments") or {}).get("data") or []
        urls = {str(a.get(k)) for a in attachments if isinstance(a, dict)
                for k in ("unshimmed_url", "url") if a.get(k)}
        shares = [a for a in attachments if isinstance(a, dict) and a.get("type") == "share"]
        # Only a link card can contradict the link; photo posts carry it in the caption.
        return not (post.link and shares and post.link not in urls)
