"""Pictures people upload on the review page: checked, cleaned and kept beside the others.

An upload is a picture only when Pillow decodes it whole (a file named `.jpg` holding a
script, a truncated JPEG or a decompression bomb is refused, saying which), it is at most
UPLOAD_MAX bytes and MAX_PIXELS pixels, and it leaves here without its EXIF, XMP and IPTC
(`channels.imagemeta`, the same cleaning every channel applies again on the way out).

Kept pictures are files, as the pictures taken from PDF and Word files are: in a
`.pressbot-images` folder (beside the outbox, in the bot's data folder), named by their
content's hash and written through a `.part` file, so a channel never reads half a picture
and the same upload twice is one file. Posts name them by path, which `channels.images`
reads as it reads a folder source's pictures; `pressbot backup` takes the folder along.
In the multi-replica mode the folder must be shared by the replicas (a volume).
"""

from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path

from bot.config import Config
from bot.sources.documents import IMAGE_DIR
from channels.imagemeta import UncleanableImage, strip_metadata
from channels.images import sniff

UPLOAD_MAX = 8 * 1024 * 1024
"""Bytes an upload may have: a press photo fits; each channel scales or refuses beyond its own."""
MAX_PIXELS = 40_000_000
ALT_MAX = 1500
"""Characters of alt text: Mastodon's limit, the lowest of the platforms."""
_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif",
               "image/webp": "webp"}
STORED = re.compile(r"[0-9a-f]{64}\.(png|jpg|gif|webp)")


class BadPicture(ValueError):
    """An upload that is not a picture pressbot may publish; the message says why."""


def folder(config: Config) -> Path:
    """Where uploaded pictures are kept: `.pressbot-images` in the bot's data folder."""
    return config.resolve(Path(config.bot.outbox)).parent.resolve() / IMAGE_DIR


def check(data: bytes, name: str) -> tuple[bytes, str]:
    """The picture cleaned of its metadata and its type, or BadPicture naming the file."""
    from PIL import Image as PILImage  # Pillow loads when a picture comes, not at start-up
    from PIL import UnidentifiedImageError

    shown = name[-80:] or "the file"
    if not data:
        raise BadPicture(f"{shown}: the file is empty; choose a picture to upload")
    if len(data) > UPLOAD_MAX:
        raise BadPicture(f"{shown}: {len(data) / 1_048_576:.1f} MB; a picture may have at most "
                         f"{UPLOAD_MAX // 1_048_576} MB")
    kind = sniff(data)
    if kind is None:
        raise BadPicture(f"{shown}: not a PNG, JPEG, GIF or WebP picture by its content")
    try:
        with PILImage.open(io.BytesIO(data)) as opened:
            if opened.width * opened.height > MAX_PIXELS:
                raise BadPicture(f"{shown}: {opened.width}×{opened.height} pixels; a picture "
                                 f"may have at most {MAX_PIXELS // 1_000_000} million")
            opened.load()   # the whole picture decodes, not just its header
    except BadPicture:
        raise
    except (UnidentifiedImageError, OSError, PILImage.DecompressionBombError, ValueError,
            SyntaxError) as exc:
        raise BadPicture(f"{shown}: the picture cannot be read ({exc})") from None
    try:
        cleaned = strip_metadata(data, kind)
    except UncleanableImage as exc:
        raise BadPicture(f"{shown}: {exc}") from None
    return cleaned, kind


def keep(config: Config, data: bytes, kind: str) -> Path:
    """Store a checked picture; its path (the same one for the same bytes)."""
    target = folder(config) / f"{hashlib.sha256(data).hexdigest()}.{_EXTENSIONS[kind]}"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        partial.write_bytes(data)
        partial.replace(target)
    return target


def stored_name(config: Config, url: str) -> str | None:
    """The file name of a kept upload that `url` names (for showing it), else None."""
    path = Path(url)
    if path.parent == folder(config) and STORED.fullmatch(path.name):
        return path.name
    return None
