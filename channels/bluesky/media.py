"""Images as blobs: fetched, shrunk to Bluesky's size limit when needed, measured, uploaded.

The lexicon caps an image at 1,000,000 bytes (`maxSize` of `app.bsky.embed.images#image`,
the same as a link card's thumbnail in `app.bsky.embed.external`, which pressbot keeps under
`THUMB_MAX`, 300 KB, at most `THUMB_SIDE` px: a card shows it small); the PDS takes a bigger
blob at upload (its own limit is 5 MB) and refuses the record that uses it (`BlobTooLarge`).
Press photos are often larger, so instead of leaving them out (as for Mastodon's 16 MB) an
image over the cap is re-encoded as JPEG, at most 2000 px on its longer side, lowering
quality and then size until it fits — what Bluesky's own app does before upload. Pillow
reads the size for `aspectRatio` and refuses decompression bombs. (The picture has no
metadata by now, its orientation already applied: `channels.imagemeta`.)

Blob uploads have no idempotency and need none: an unreferenced blob is dropped by the PDS,
so a failure here is never ambiguous. That is also what makes the publisher's head start
cheap here: the blobs of the post that comes next are made while the record before it is
being written (`prepare`), and one that no record ends up using costs nothing to leave.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import time
from dataclasses import dataclass
from typing import Any

from bot.models import Image
from channels.base import Transient
from channels.bluesky.api import BlueskyApi, _json
from channels.bluesky.errors import PLATFORM, raise_for
from channels.images import load_image

log = logging.getLogger("channels.bluesky")

IMAGE_MAX = 1_000_000
THUMB_MAX = 300_000
"""A card's thumbnail: the lexicon allows 1,000,000 bytes, but a card shows it small (about
600 px wide, twice that on a dense screen), and every reader's app downloads it."""
DOWNLOAD_MAX = 40 * 1024 * 1024
LONG_SIDE = 2000
THUMB_SIDE = 1200
"""Pixels on the longer side of a thumbnail that had to be made again (a card's 1.91:1
image as sites publish it for sharing: 1200 × 630)."""
BLOB_REUSE = 30 * 60.0
"""Seconds a blob made ahead is used for its post: well inside the time a PDS keeps a blob
no record references yet, and short enough that a picture changed at its address since
is fetched again."""
_ROTATED = (5, 6, 7, 8)  # EXIF orientations that swap width and height


@dataclass(frozen=True)
class Blob:
    """An uploaded blob as records reference it, and the image's shown size."""

    ref: dict[str, Any]
    size: tuple[int, int] | None


class BlueskyMedia(BlueskyApi):
    """Blob uploads of `BlueskyChannel`, and the ones made ahead for the next post."""

    _ahead: dict[tuple[str, int], tuple[float, asyncio.Future[Blob | None]]]

    async def _make_ahead(self, wanted: list[tuple[Image, int]]) -> None:
        """Fetch, shrink and upload these blobs now, for `_blob` to take later; what fails
        here is redone (and reported) when the post's own turn comes."""
        self._guard_writes()  # no blob when a write would be refused anyway
        now = time.monotonic()
        for key in [k for k, (at, _) in self._ahead.items() if now - at > BLOB_REUSE]:
            del self._ahead[key]
        for image, cap in wanted:
            key = (image.url, cap)
            if key not in self._ahead:
                self._ahead[key] = (now, asyncio.ensure_future(self._upload_blob(image, cap)))
            await asyncio.shield(self._ahead[key][1])

    async def _blob(self, image: Image, cap: int) -> Blob | None:
        """The blob made ahead for this picture (waiting for it if it is still on its way),
        else a new one."""
        made = self._ahead.pop((image.url, cap), None)
        if made is not None and time.monotonic() - made[0] <= BLOB_REUSE:
            with contextlib.suppress(Exception):  # what failed ahead is done again below
                if (blob := await asyncio.shield(made[1])) is not None:
                    return blob
        return await self._upload_blob(image, cap)

    async def _upload_blob(self, image: Image, cap: int) -> Blob | None:
        """Upload one image within `cap` bytes; None (logged) when it cannot be made to fit."""
        loaded = await load_image(self._client, image, DOWNLOAD_MAX, timeout=self._timeout,
                                  allow_private=self.config.allow_private_images)
        if loaded is None:
            return None
        data, content_type, _ = loaded
        # a picture asked for within a thumbnail's budget is made no larger than a card shows it
        side = THUMB_SIDE if cap <= THUMB_MAX else LONG_SIDE
        fitted = await asyncio.to_thread(fit_image, data, content_type, cap, side)
        if fitted is None:
            log.warning("image %s could not be brought under %d bytes: left out", image.url, cap)
            return None
        data, content_type, size = fitted
        response = await self._xrpc("POST", "com.atproto.repo.uploadBlob", content=data,
                                    headers={"Content-Type": content_type},
                                    where=f"the image {image.url}")
        raise_for(response, where=f"the image {image.url}")
        body = _json(response)
        ref = body.get("blob") if isinstance(body, dict) else None
        if not isinstance(ref, dict) or "ref" not in ref:
            raise Transient(f"{PLATFORM}: the blob upload answered without a blob")
        return Blob(ref=ref, size=size)


def fit_image(data: bytes, content_type: str, cap: int, long_side: int = LONG_SIDE
              ) -> tuple[bytes, str, tuple[int, int] | None] | None:
    """`(bytes, type, (width, height))` within `cap` bytes (made again: within `long_side`
    pixels); None when it cannot be made to fit."""
    from PIL import Image as PILImage  # loaded on the first picture, not at start-up
    from PIL import ImageOps, UnidentifiedImageError

    try:
        opened = PILImage.open(io.BytesIO(data))
        width, height = opened.size
        if opened.getexif().get(0x0112) in _ROTATED:
            width, height = height, width
    except (UnidentifiedImageError, OSError, PILImage.DecompressionBombError, ValueError):
        # Not an image Pillow reads: AVIF or HEIC (an ISO-BMFF `ftyp` box; Pillow lacks the
        # codec) goes as it is when small enough; anything else, e.g. an error page served
        # with an image type, is no image.
        fits = len(data) <= cap and data[4:8] == b"ftyp" and content_type.startswith("image/")
        return (data, content_type, None) if fits else None
    if len(data) <= cap and content_type.startswith("image/"):
        return data, content_type, (width, height)
    try:
        picture: PILImage.Image = ImageOps.exif_transpose(opened)
        if picture.mode not in ("RGB", "L"):
            background = PILImage.new("RGB", picture.size, "white")
            background.paste(picture.convert("RGBA"), mask=picture.convert("RGBA"))
            picture = background
        picture.thumbnail((long_side, long_side))
        for _ in range(8):
            for quality in (85, 75, 65):
                out = io.BytesIO()
                picture.save(out, "JPEG", quality=quality, optimize=True)
                if out.tell() <= cap:
                    return out.getvalue(), "image/jpeg", picture.size
            picture = picture.resize((max(1, picture.width * 3 // 4),
                                      max(1, picture.height * 3 // 4)))
    except (OSError, ValueError):
        return None
    return None
