"""The LinkedIn channel object: its limits, `check`, and the publish flow.

Why publishing twice is safe, and how tokens are kept, is told once, in the package
docstring (`channels/linkedin/__init__.py`).
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import httpx

from bot import fence, redact
from bot.config import LinkedInConfig
from bot.models import Image, Post, Receipt
from channels.base import Ambiguous, ChannelError, Check, Limits, Permanent
from channels.bluesky import card_description
from channels.linkedin.api import TokenFacts
from channels.linkedin.errors import PLATFORM, REAUTH
from channels.linkedin.little import to_little
from channels.linkedin.lookup import LinkedInLookup, post_url
from channels.linkedin.media import LinkedInMedia
from channels.registry import DEFAULT_LIMITS

# The package's logger name, which log filters and tests select on.
log = logging.getLogger("channels.linkedin")

MULTI_IMAGE_MAX = 20
"""A multi-image post takes 2 to 20 pictures (MultiImage API)."""


def content_kind(mode: str, *, images: int, link: bool) -> str | None:
    """What a post carries: an "article" (link card), "images", or nothing (text only).

    `auto`: two or more pictures go out as images, else a link is an article with the
    first picture as its thumbnail; `article`: always the card when there is a link;
    `images`: never a card.
    """
    if link and (mode == "article" or (mode == "auto" and images < 2)):
        return "article"
    return "images" if images else None


class LinkedInChannel(LinkedInMedia, LinkedInLookup):
    """One organisation's Page; `client` is the service's shared `httpx.AsyncClient`."""

    limits: Limits = DEFAULT_LIMITS["linkedin"]

    def __init__(self, name: str, config: LinkedInConfig, client: httpx.AsyncClient, *,
                 poll_interval: float = 0.5, max_polls: int = 20) -> None:
        self.name = name
        self.config = config
        self._client = client
        self._base = str(config.api_url).rstrip("/")
        self._oauth = str(config.oauth_url).rstrip("/")
        self._token = config.access_token.get_secret_value()
        secrets = [self._token, config.client_secret, config.refresh_token]
        redact.register(*(s if isinstance(s, str) else s.get_secret_value()
                          for s in secrets if s))
        self._timeout = config.timeout.total_seconds()
        self._poll_interval = poll_interval
        self._max_polls = max_polls
        self._uploads = {}
        self._facts = TokenFacts(
            expires_at=_end_of(config.token_expires),
            refresh_expires_at=_end_of(config.refresh_token_expires))

    def __repr__(self) -> str:
        return f"LinkedInChannel(name={self.name!r}, author={self.author!r})"

    # ── check ─────────────────────────────────────────────────────────────────────────
    async def check(self) -> Check:
        """Can the token post on the Page, and until when? `details["act_by"]` is the day a
        person must authorise the app again (the review page warns before it)."""
        details: dict[str, Any] = {"author": self.author, "api_version": self.config.api_version}
        warnings: list[str] = []
        try:
            if self.config.client_id and self.config.client_secret:
                await self._check_introspection(details)
            await self.recent_posts(count=1)
        except ChannelError as exc:
            return Check(ok=False, summary=f"{PLATFORM} Page {self.author}: {exc}",
                         details=details)
        act_by = self.act_by()
        if act_by is not None:
            details["act_by"] = act_by.isoformat()
            left = act_by - datetime.now(UTC)
            if left <= timedelta(0):
                return Check(ok=False, summary=f"{PLATFORM}: the {self._what_expires()} expired "
                                               f"on {act_by:%Y-%m-%d}: {REAUTH}", details=details)
            if left <= timedelta(days=self.config.expiry_warning_days):
                warnings.append(f"the {self._what_expires()} expires on {act_by:%Y-%m-%d %H:%M} "
                                f"UTC: {REAUTH}")
        else:
            warnings.append("pressbot cannot tell when the token expires: set client_id and "
                            "client_secret (it then asks LinkedIn), or token_expires (and "
                            "refresh_token_expires with a refresh token)")
        until = f"; the {self._what_expires()} is good until {act_by:%Y-%m-%d}" if act_by else ""
        refreshed = " (refreshed just now)" if self._facts.refreshed else ""
        return Check(ok=True, summary=f"{PLATFORM} Page {self.author} (LinkedIn-Version "
                                      f"{self.config.api_version}): the token may post{refreshed}"
                                      f"{until}", details=details, warnings=warnings)

    async def _check_introspection(self, details: dict[str, Any]) -> None:
        data = await self.introspect()
        details["token_status"] = data.get("status")
        details["scope"] = data.get("scope")
        stamp = data.get("expires_at")
        if isinstance(stamp, int | float) and stamp > 0:
            self._facts.expires_at = datetime.fromtimestamp(stamp, UTC)
        if (data.get("active") is not True or data.get("status") not in (None, "active")) \
                and self.can_refresh:
            await self.refresh()

    def act_by(self) -> datetime | None:
        """When a person must authorise again: the refresh token's end when pressbot can
        refresh, else the access token's."""
        if self.can_refresh:
            return self._facts.refresh_expires_at
        return self._facts.expires_at

    def _what_expires(self) -> str:
        return "refresh token" if self.can_refresh else "access token"

    # ── publish ───────────────────────────────────────────────────────────────────────
    async def publish(self, post: Post) -> Receipt:
        found = await self.lookup(post)
        if found is not None:
            log.info("post %s is already on LinkedIn as %s", post.id, found.remote_id)
            return found
        commentary = to_little(post.text.strip())
        images = self._images(post)
        kind = content_kind(self.config.post_as, images=len(images), link=bool(post.link))
        uploaded = await self._upload_all(post.uid, images if kind == "images" else images[:1])
        body: dict[str, Any] = {
            "author": self.author, "commentary": commentary, "visibility": "PUBLIC",
            "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [],
                             "thirdPartyDistributionChannels": []},
            "lifecycleState": "PUBLISHED", "isReshareDisabledByAuthor": False}
        content = self._content(post, kind, uploaded)
        if content:
            body["content"] = content
        await fence.hold()  # a worker paused past its lease must not post a second copy
        response = await self._request("POST", "/rest/posts", where="the post", creating=True,
                                       json=body)
        self._uploads.pop(post.uid, None)
        urn = response.headers.get("x-restli-id", "").strip()
        if not urn.startswith("urn:li:"):
            # A 2xx means the post was probably made; only a lookup can tell.
            raise Ambiguous(f"{PLATFORM} answered {response.status_code} without the post's "
                            "URN (x-restli-id)")
        return Receipt(remote_id=urn, remote_url=post_url(urn))

    def _images(self, post: Post) -> list[Image]:
        if len(post.images) > MULTI_IMAGE_MAX:
            log.warning("post %s: %d images, LinkedIn takes %d; the rest are left out",
                        post.id, len(post.images), MULTI_IMAGE_MAX)
        return post.images[:MULTI_IMAGE_MAX]

    @staticmethod
    def _content(post: Post, kind: str | None,
                 uploaded: list[tuple[str, str]]) -> dict[str, Any] | None:
        if kind == "article":
            article: dict[str, Any] = {"source": post.link, "title": post.title or post.link}
            description = card_description(post)
            if description:
                article["description"] = description
            if uploaded:
                article["thumbnail"], alt = uploaded[0]
                if alt:
                    article["thumbnailAltText"] = alt
            return {"article": article}
        if kind == "images" and len(uploaded) == 1:
            return {"media": {"id": uploaded[0][0], "altText": uploaded[0][1]}}
        if kind == "images" and uploaded:
            return {"multiImage": {"images": [{"id": urn, "altText": alt}
                                              for urn, alt in uploaded]}}
        if kind == "images":
            raise Permanent(f"{PLATFORM}: none of the post's pictures could be used (each was "
                            "over the size limit)", "use smaller pictures, and approve again")
        return None


def _end_of(day: date | None) -> datetime | None:
    return datetime.combine(day, time.max, UTC) if day else None

