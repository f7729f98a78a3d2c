"""A post's images: downloaded (or read from disk), uploaded, and waited on until processed.

Media uploads have no idempotency; a failure there is never ambiguous (retrying leaves at most
an orphan upload, which the server cleans up). Image addresses come from feeds, so the
download never carries the token, checks every hop with `bot.netguard` (unless
`allow_private_images`) and is bounded in time and size: an image over the instance's limit
is left out with a warning rather than failing the post.
"""

from __future__ import annotations

import asyncio
import logging
import mimetypes
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urljoin, urlsplit

import anyio
import httpx

from bot import netguard
from bot.models import Image
from channels.base import Permanent, Transient, map_transport_error, user_agent
from channels.mastodon.api import MastodonApi, _json
from channels.mastodon.errors import PLATFORM

if TYPE_CHECKING:
    from channels.base import Limits

# The package's logger name, which log filters and tests select on.
log = logging.getLogger("channels.mastodon")

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
        cap = self.limits.image_max_bytes or DEFAULT_IMAGE_MAX
        url = image.url
        declared: str | None = None
        if url.startswith(("http://", "https://")):
            fetched = await self._fetch_image(url, cap)
            if fetched is None:
                return None
            data, declared = fetched
            name = Path(unquote(urlsplit(url).path)).name
        else:
            path = anyio.Path(unquote(urlsplit(url).path) if url.startswith("file:") else url)
            if not await path.is_file():
                raise Permanent(f"image not found: {path}",
                                "fix the image path in the release or remove it, and approve again")
            if (await path.stat()).st_size > cap:
                log.warning("image %s is over the instance's %d bytes: left out", url, cap)
                return None
            data = await path.read_bytes()
            name = path.name
        content_type = (_sniff(data) or (declared or "").split(";")[0].strip()
                        or mimetypes.guess_type(name)[0] or "application/octet-stream")
        return data, content_type, name or "image"

    async def _fetch_image(self, url: str, cap: int) -> tuple[bytes, str | None] | None:
        # No Authorization header here: the token never goes to the image's host. Image
        # addresses come from feeds, so every hop is checked to be a public http(s) host
        # (unless `allow_private_images`), and the whole download is bounded in time.
        try:
            async with asyncio.timeout(self._timeout * 2):
                return await self._download(url, cap)
        except TimeoutError:
            raise Transient(f"image {url}: not downloaded within {self._timeout * 2:g} s") \
                from None

    async def _download(self, url: str, cap: int) -> tuple[bytes, str | None] | None:
        current = url
        for _ in range(6):
            try:
                await netguard.check_public(current, self.config.allow_private_images)
            except netguard.UnresolvedHost as exc:
                raise Transient(f"image {current}: {exc}") from None
            except netguard.NotPublicURL as exc:
                raise Permanent(f"image {current} refused: {exc}",
                                "use an image on a public website, or set "
                                "allow_private_images = true for this channel") from None
            with map_transport_error(f"image {url}", sent_is_ambiguous=False):
                async with self._client.stream("GET", current,
                                               headers={"User-Agent": user_agent()},
                                               timeout=self._timeout,
                                               follow_redirects=False) as resp:
                    if resp.has_redirect_location:
                        current = urljoin(current, resp.headers["location"])
                        continue
                    return await self._read_image(url, resp, cap)
        raise Permanent(f"image {url}: too many redirects",
                        "fix the image address in the release or remove it, and approve again")

    async def _read_image(self, url: str, resp: httpx.Response,
                          cap: int) -> tuple[bytes, str | None] | None:
        if resp.status_code >= 400:
            message = f"image {url} could not be fetched: HTTP {resp.status_code}"
            if resp.status_code == 429 or resp.status_code >= 500:
                raise Transient(message)
            raise Permanent(message, "fix the image address in the release or remove "
                                     "it, and approve again")
        length = resp.headers.get("content-length", "")
        if length.isdigit() and int(length) > cap:
            log.warning("image %s is over the instance's %d bytes: left out", url, cap)
            return None
        chunks: list[bytes] = []
        total = 0
        async for chunk in resp.aiter_bytes():
            total += len(chunk)
            if total > cap:
                log.warning("image %s is over the instance's %d bytes: left out", url, cap)
                return None
            chunks.append(chunk)
        return b"".join(chunks), resp.headers.get("content-type")


def _sniff(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None
