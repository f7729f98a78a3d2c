"""A post's image, fetched from its feed's host (or read from disk) the same way for every channel.

Image addresses come from feeds, so the download never carries a platform token, checks every
hop with `bot.netguard` (unless the channel sets `allow_private_images`) and is bounded in time
and size: an image over `cap` is left out with a warning rather than failing the post. Every
picture leaves here without its EXIF, XMP and IPTC metadata (`channels.imagemeta`). A
missing local file or a refused address is the post's fault (`Permanent`); a host that is down
is `Transient`.
"""

from __future__ import annotations

import asyncio
import logging
import mimetypes
import os
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import anyio
import httpx

from bot import netguard
from bot.models import Image
from channels.base import Permanent, Transient, map_transport_error, user_agent
from channels.imagemeta import UncleanableImage, strip_metadata

log = logging.getLogger("channels.images")


async def load_image(client: httpx.AsyncClient, image: Image, cap: int, *, timeout: float,
                     allow_private: bool) -> tuple[bytes, str, str] | None:
    """The image's bytes, type and file name; None (with a warning) when it is over `cap`."""
    url = image.url
    declared: str | None = None
    if url.startswith(("http://", "https://")):
        fetched = await _fetch(client, url, cap, timeout, allow_private)
        if fetched is None:
            return None
        data, declared = fetched
        name = Path(unquote(urlsplit(url).path)).name
        if sniff(data) is None and data[4:8] != b"ftyp":  # ftyp: AVIF, HEIC
            # e.g. an error page served with an image type: no picture to show
            log.warning("image %s is not an image by its content: left out", url)
            return None
    else:
        local = await read_local(url, cap)
        if local is None:
            return None
        data, name = local
    content_type = (sniff(data) or (declared or "").split(";")[0].strip()
                    or mimetypes.guess_type(name)[0] or "application/octet-stream")
    return await clean(url, data, content_type), content_type, name or "image"


async def clean(url: str, data: bytes, content_type: str) -> bytes:
    """The picture without its metadata (GPS and all), or `Permanent` when that cannot be
    shown: see `channels.imagemeta`. Pictures are cleaned here, where every channel loads
    them, so no upload path can forget it."""
    try:
        return await anyio.to_thread.run_sync(strip_metadata, data, content_type)
    except UncleanableImage as exc:
        raise Permanent(f"image {url}: {exc}; it is not uploaded with its metadata (GPS "
                        "position, camera) still in it",
                        "use the picture as JPEG, PNG or WebP, and approve again") from None


def _moved(path: str) -> bool:
    """Whether a link on the way (or in the file's place) leads somewhere else."""
    return os.path.realpath(path) != os.path.abspath(path)


async def read_local(url: str, cap: int) -> tuple[bytes, str] | None:
    """A folder source's image from disk: its bytes and name; None when over `cap`.

    Only plain paths (the folder source confined them to its own folder at ingest) and
    only real images by their bytes: never a `file:` URL from a page, never a config file
    that a release names as its "image".
    """
    if ":" in url.split("/", 1)[0] and not url.startswith("/"):
        raise Permanent(f"image {url!r}: only http(s) URLs and files of the content folder "
                        "are read", "fix the image in the release, and approve again")
    path = anyio.Path(url)
    # the folder source stored the file's real path: a link put there since then (to a
    # picture elsewhere on this machine) is not followed
    if await anyio.to_thread.run_sync(_moved, url):
        raise Permanent(f"image {url}: the path now leads elsewhere (a link was put in its "
                        "place since the release was read)",
                        "put the picture itself back in the content folder, and approve again")
    if not await path.is_file():
        raise Permanent(f"image not found: {path}",
                        "fix the image path in the release or remove it, and approve again")
    if (await path.stat()).st_size > cap:
        log.warning("image %s is over the %d-byte limit: left out", url, cap)
        return None
    data = await path.read_bytes()
    if sniff(data) is None:
        raise Permanent(f"{path} is not an image (PNG, JPEG, GIF or WebP by its content)",
                        "fix the image in the release, and approve again")
    return data, path.name


async def _fetch(client: httpx.AsyncClient, url: str, cap: int, timeout: float,
                 allow_private: bool) -> tuple[bytes, str | None] | None:
    # No Authorization header here: a token never goes to the image's host. The whole
    # download, redirects included, is bounded in time.
    try:
        async with asyncio.timeout(timeout * 2):
            return await _download(client, url, cap, timeout, allow_private)
    except TimeoutError:
        raise Transient(f"image {url}: not downloaded within {timeout * 2:g} s") from None


async def _download(client: httpx.AsyncClient, url: str, cap: int, timeout: float,
                    allow_private: bool) -> tuple[bytes, str | None] | None:
    current = url
    for _ in range(6):
        try:
            await netguard.check_public(current, allow_private)
        except netguard.UnresolvedHost as exc:
            raise Transient(f"image {current}: {exc}") from None
        except netguard.NotPublicURL as exc:
            raise Permanent(f"image {current} refused: {exc}",
                            "use an image on a public website, or set "
                            "allow_private_images = true for this channel") from None
        with map_transport_error(f"image {url}", sent_is_ambiguous=False):
            async with client.stream("GET", current, headers={"User-Agent": user_agent()},
                                     timeout=timeout, follow_redirects=False) as resp:
                if resp.has_redirect_location:
                    current = urljoin(current, resp.headers["location"])
                    continue
                return await _read(url, resp, cap)
    raise Permanent(f"image {url}: too many redirects",
                    "fix the image address in the release or remove it, and approve again")


async def _read(url: str, resp: httpx.Response, cap: int) -> tuple[bytes, str | None] | None:
    if resp.status_code >= 400:
        message = f"image {url} could not be fetched: HTTP {resp.status_code}"
        if resp.status_code == 429 or resp.status_code >= 500:
            raise Transient(message)
        raise Permanent(message, "fix the image address in the release or remove "
                                 "it, and approve again")
    length = resp.headers.get("content-length", "")
    if length.isdigit() and int(length) > cap:
        log.warning("image %s is over the %d-byte limit: left out", url, cap)
        return None
    chunks: list[bytes] = []
    total = 0
    async for chunk in resp.aiter_bytes():
        total += len(chunk)
        if total > cap:
            log.warning("image %s is over the %d-byte limit: left out", url, cap)
            return None
        chunks.append(chunk)
    return b"".join(chunks), resp.headers.get("content-type")


def sniff(data: bytes) -> str | None:
    """The image type its first bytes declare; None for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None
