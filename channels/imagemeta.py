"""Pictures without their metadata: no EXIF, XMP or IPTC leaves pressbot on an upload.

Press photos come from phones and cameras with GPS coordinates, the camera's serial number
and the photographer's software in them, and the platforms serve an upload to anyone. So
every picture is cleaned before it goes out, and cleaned without touching its pixels where
that is possible:

- JPEG: the metadata segments (APP1 Exif/XMP, APP13 Photoshop/IPTC, the other APPn, COM)
  are cut out and so is anything after the image's end (phones append a second picture
  there, with its own Exif). JFIF (APP0), the ICC colour profile (APP2 `ICC_PROFILE`) and
  Adobe's colour-transform marker (APP14) stay: they change how the pixels look.
- PNG: the text chunks (tEXt, iTXt, zTXt) and eXIf are dropped; every other chunk is copied.
- WebP: the EXIF and XMP chunks are dropped and the VP8X flags say so.

A picture whose EXIF orientation is not "upright" is the one exception: the tag is what
turns it the right way up, so its pixels are rotated (re-encoded with the original's JPEG
quantisation tables, losslessly for PNG) and the tag goes with the rest. A picture with no
metadata comes back as the very same bytes. GIF carries none of these and goes as it is;
a picture whose container cannot be read (AVIF, HEIC: Pillow has no codec) is refused
rather than published with whatever it carries.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Callable

ORIENTATION = 0x0112
_JPEG_KEEP_APP = {0xE0, 0xEE}  # APP0 (JFIF), APP14 (Adobe colour transform)
_PNG_DROP = {b"tEXt", b"iTXt", b"zTXt", b"eXIf"}
_WEBP_DROP = {b"EXIF", b"XMP "}


class UncleanableImage(ValueError):
    """The picture's metadata cannot be read, so it cannot be shown to be gone."""


def strip_metadata(data: bytes, content_type: str) -> bytes:
    """`data` without EXIF, XMP and IPTC, turned upright; the same object when already clean."""
    kind = content_type.split(";")[0].strip().lower()
    if kind == "image/gif":
        return data
    strip = _STRIP.get(kind)
    if strip is None:
        raise UncleanableImage(f"{kind or 'an unknown type'}: its metadata cannot be removed "
                               "(only JPEG, PNG, WebP and GIF are cleaned)")
    cleaned, had_exif = strip(data)
    if had_exif and _orientation(data) not in (None, 1):
        cleaned, _ = strip(_upright(data, kind))
    return cleaned


def _orientation(data: bytes) -> int | None:
    """The EXIF orientation tag, read only when there is EXIF (Pillow need not read the rest)."""
    from PIL import Image as PILImage  # loaded on the first picture, not at start-up
    from PIL import UnidentifiedImageError

    try:
        with PILImage.open(io.BytesIO(data)) as opened:
            value = opened.getexif().get(ORIENTATION)
    except (UnidentifiedImageError, OSError, PILImage.DecompressionBombError, ValueError,
            SyntaxError) as exc:
        raise UncleanableImage(f"its EXIF cannot be read ({exc})") from None
    return value if isinstance(value, int) else None


def _upright(data: bytes, kind: str) -> bytes:
    """The picture re-encoded with its pixels turned as the orientation tag said."""
    from PIL import Image as PILImage
    from PIL import ImageOps, JpegImagePlugin

    try:
        with PILImage.open(io.BytesIO(data)) as opened:
            turned = ImageOps.exif_transpose(opened)
            out = io.BytesIO()
            icc = opened.info.get("icc_profile")
            extra = {"icc_profile": icc} if icc else {}
            if kind == "image/jpeg":
                assert isinstance(opened, JpegImagePlugin.JpegImageFile)
                turned.save(out, "JPEG", qtables=opened.quantization, optimize=True,
                            subsampling=JpegImagePlugin.get_sampling(opened), **extra)
            elif kind == "image/png":
                turned.save(out, "PNG", optimize=True, **extra)
            else:
                turned.save(out, "WEBP", quality=90, **extra)
    except (OSError, ValueError, PILImage.DecompressionBombError) as exc:
        raise UncleanableImage(f"the picture could not be turned upright ({exc})") from None
    return out.getvalue()


def _jpeg(data: bytes) -> tuple[bytes, bool]:
    """Metadata segments cut out, the entropy-coded data copied untouched; and whether
    there was EXIF."""
    out, had_exif = [data[:2]], False
    i, end, size = 2, -1, len(data)
    while i + 1 < size:
        if data[i] != 0xFF:
            raise UncleanableImage(f"a broken JPEG (no marker at byte {i})")
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte before a marker
            i += 1
            continue
        if marker == 0xD9:  # end of image: whatever follows is not part of it
            out.append(data[i:i + 2])
            end = i + 2
            break
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # markers without a length
            out.append(data[i:i + 2])
            i += 2
            continue
        if i + 4 > size:
            raise UncleanableImage("a truncated JPEG")
        length = struct.unpack(">H", data[i + 2:i + 4])[0]
        segment = data[i:i + 2 + length]
        had_exif = had_exif or (marker == 0xE1 and segment[4:10] == b"Exif\0\0")
        if _keep(marker, segment):
            out.append(segment)
        i += 2 + length
        if marker == 0xDA:  # start of scan: entropy-coded data up to the next real marker
            j = i
            while True:
                j = data.find(b"\xff", j)
                if j < 0 or j + 1 >= size:
                    raise UncleanableImage("a truncated JPEG (a scan without an end)")
                following = data[j + 1]
                if following == 0x00 or 0xD0 <= following <= 0xD7:
                    j += 2
                elif following == 0xFF:
                    j += 1
                else:
                    break
            out.append(data[i:j])
            i = j
    if end < 0:
        raise UncleanableImage("a truncated JPEG (no end-of-image marker)")
    cleaned = b"".join(out)
    return (data if cleaned == data else cleaned), had_exif


def _keep(marker: int, segment: bytes) -> bool:
    if marker == 0xFE:  # COM
        return False
    if 0xE0 <= marker <= 0xEF:
        return marker in _JPEG_KEEP_APP or (marker == 0xE2 and segment[4:16] == b"ICC_PROFILE\0")
    return True


def _png(data: bytes) -> tuple[bytes, bool]:
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise UncleanableImage("not a PNG by its signature")
    out, i, dropped, had_exif = [data[:8]], 8, False, False
    while i + 8 <= len(data):
        length = struct.unpack(">I", data[i:i + 4])[0]
        kind = data[i + 4:i + 8]
        chunk = data[i:i + 12 + length]
        if kind in _PNG_DROP:
            dropped, had_exif = True, had_exif or kind == b"eXIf"
        else:
            out.append(chunk)
        i += 12 + length
        if kind == b"IEND":
            break
    return (b"".join(out) if dropped or i < len(data) else data), had_exif


def _webp(data: bytes) -> tuple[bytes, bool]:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise UncleanableImage("not a WebP by its header")
    chunks, i, dropped, had_exif = [], 12, False, False
    while i + 8 <= len(data):
        kind = data[i:i + 4]
        length = struct.unpack("<I", data[i + 4:i + 8])[0]
        chunk = data[i:i + 8 + length + (length & 1)]
        if kind in _WEBP_DROP:
            dropped, had_exif = True, had_exif or kind == b"EXIF"
        else:
            chunks.append(chunk)
        i += 8 + length + (length & 1)
    if not dropped:
        return data, False
    if chunks and chunks[0][:4] == b"VP8X":  # flags: bit 3 EXIF, bit 2 XMP
        first = bytearray(chunks[0])
        first[8] &= ~0x0C & 0xFF
        chunks[0] = bytes(first)
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body, had_exif


_STRIP: dict[str, Callable[[bytes], tuple[bytes, bool]]] = {
    "image/jpeg": _jpeg, "image/png": _png, "image/webp": _webp}
