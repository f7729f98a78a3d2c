"""A post's images: downloaded (or read from disk), uploaded, and waited on until processed.

Media uploads have no idempotency, so `MastodonChannel.publish` records each upload's id in
the store before any status could attach it, reuses a post's uploads when it retries (in
this process or the next one, after a crash), and deletes them when the post fails for good
or they sit unused past `UPLOAD_REUSE` (servers such as Takahē never expire them). Only a
kill between the server's answer to the upload and that record leaves an orphan. The
download itself is `channels.images`: no token to the image's host, netguard on every hop,
bounded in time and size (an image over the instance's limit is left out with a warning
rather than failing the post).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import anyio

from bot.models import Image
from channels.base import Transient
from channels.images import load_image
from channels.mastodon.api import MastodonApi, _json
from channels.mastodon.errors import PLATFORM

if TYPE_CHECKING:
    from channels.base import Limits

DEFAULT_IMAGE_MAX = 16 * 1024 * 1024


class MastodonMedia(MastodonApi):
    """Image uploads of `MastodonChannel`, whose constructor sets the polling attributes."""

    _poll_interval: float
    _max_polls: int

    if TYPE_CHECKING:
        @property
        def limits(self) -> Limits: ...

    async def _upload(self, image: Image) -> str | None:
        loaded = await self._load_image(image)
        if loaded is None:
            return None
        data, content_type, filename = loaded
        form = {"description": image.alt} if image.alt else {}
        response = await self._request("POST", "/api/v2/media", data=form,
                                       files={"file": (filename, data, content_type)})
        self._raise(response, scope="write:media", where=f"the image {image.url}")
        body = _json(response)
        if not isinstance(body, dict) or not body.get("id"):
            raise Transient(f"{PLATFORM}: the media upload answered without an id")
        media_id = str(body["id"])
        if response.status_code == 202 or not body.get("url"):
            await self._wait_processed(media_id)
        return media_id

    async def _wait_processed(self, media_id: str) -> None:
        """Poll while the server answers 206; a status naming unprocessed media gets 422."""
        for _ in range(self._max_polls):
            await anyio.sleep(self._poll_interval)
            response = await self._request("GET", f"/api/v1/media/{media_id}")
            if response.status_code == 206:
                continue
            self._raise(response, scope="write:media", where="the uploaded image")
            return
        waited = self._max_polls * self._poll_interval
        raise Transient(f"{PLATFORM}: image {media_id} still processing after {waited:.0f} s")

    async def _load_image(self, image: Image) -> tuple[bytes, str, str] | None:
        """The image's bytes, type and file name; None (with a warning) when it is too big."""
        return await load_image(self._client, image, self.limits.image_max_bytes
                                or DEFAULT_IMAGE_MAX, timeout=self._timeout,
                                allow_private=self.config.allow_private_images)
