"""A post's pictures: downloaded (or read from disk), then uploaded through the Images API.

`POST /rest/images?action=initializeUpload` names the owner (the organisation) and answers
with an upload URL and the image's URN; the bytes go there with a `PUT`, and the image is
usable once `GET /rest/images/{urn}` says `AVAILABLE`. Alt text is not part of the upload:
it travels in the post, beside each image's URN. Uploads have no idempotency, but an
unused one is harmless (nothing shows it), so a failure here is never ambiguous; uploads a
try made are reused by the next try of the same post in this process.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

import anyio

from bot.models import Image
from channels.base import Permanent, Transient
from channels.images import load_image
from channels.linkedin.api import LinkedInApi, _json
from channels.linkedin.errors import PLATFORM

if TYPE_CHECKING:
    from channels.base import Limits

DEFAULT_IMAGE_MAX = 10 * 1024 * 1024


class LinkedInMedia(LinkedInApi):
    """Image uploads of `LinkedInChannel`, whose constructor sets the polling attributes."""

    _poll_interval: float
    _max_polls: int
    _uploads: dict[str, dict[str, str]]

    if TYPE_CHECKING:
        @property
        def limits(self) -> Limits: ...

    async def _upload_all(self, uid: str, images: list[Image]) -> list[tuple[str, str]]:
        """(URN, alt text) of each picture that could be loaded, in order; earlier uploads
        of the same picture and alt text for this post are reused."""
        done = self._uploads.setdefault(uid, {})
        out: list[tuple[str, str]] = []
        for image in images:
            key = f"{image.url}\n{image.alt}"
            if key not in done:
                urn = await self._upload(image)
                if urn is None:
                    continue
                done[key] = urn
            out.append((done[key], image.alt))
        return out

    async def _upload(self, image: Image) -> str | None:
        loaded = await load_image(self._client, image,
                                  self.limits.image_max_bytes or DEFAULT_IMAGE_MAX,
                                  timeout=self._timeout,
                                  allow_private=self.config.allow_private_images)
        if loaded is None:
            return None
        data, content_type, _ = loaded
        response = await self._request(
            "POST", "/rest/images?action=initializeUpload", where=f"the image {image.url}",
            json={"initializeUploadRequest": {"owner": self.author}})
        value = (_json(response) or {}).get("value") or {}
        upload_url, urn = value.get("uploadUrl"), value.get("image")
        if not isinstance(upload_url, str) or not isinstance(urn, str):
            raise Transient(f"{PLATFORM}: initializeUpload answered without uploadUrl and image")
        if not self.may_carry_token(upload_url):
            raise Permanent(f"{PLATFORM} gave an upload address outside linkedin.com "
                            f"({upload_url.split('?')[0]}); the token is not sent there",
                            "check api_url; if it is LinkedIn's, report this")
        await self._request("PUT", upload_url, where=f"the upload of {image.url}",
                            content=data, headers={"Content-Type": content_type})
        await self._wait_available(urn)
        return urn

    async def _wait_available(self, urn: str) -> None:
        for _ in range(self._max_polls):
            response = await self._request("GET", f"/rest/images/{quote(urn, safe='')}",
                                           where="the uploaded image")
            status = (_json(response) or {}).get("status")
            if status == "AVAILABLE":
                return
            if status == "PROCESSING_FAILED":
                raise Permanent(f"{PLATFORM} could not process the image {urn}",
                                "use another picture (JPEG, PNG or GIF), and approve again")
            await anyio.sleep(self._poll_interval)
        raise Transient(f"{PLATFORM}: image {urn} still processing after "
                        f"{self._max_polls * self._poll_interval:.0f} s")
