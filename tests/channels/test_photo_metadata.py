"""No picture leaves pressbot with its metadata: a phone photo with GPS coordinates, XMP,
IPTC and a comment is published, and each channel's fake (a real HTTP server on 127.0.0.1)
is asked what bytes it received. The unit tests of `channels.imagemeta` show that a clean
picture goes byte for byte and that a turned one is turned in its pixels."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from PIL import Image as PILImage
from PIL import TiffImagePlugin
from PIL.PngImagePlugin import PngInfo

from bot.config import BlueskyConfig, FacebookConfig, LinkedInConfig, MastodonConfig
from bot.models import Image, Post, PostStatus
from channels.base import Permanent
from channels.bluesky import BlueskyChannel
from channels.facebook import FacebookChannel
from channels.imagemeta import UncleanableImage, strip_metadata
from channels.linkedin.channel import LinkedInChannel
from channels.mastodon import MastodonChannel
from tests.fakes import bluesky, facebook, linkedin, mastodon
from tests.fakes.server import LiveServer

pytestmark = pytest.mark.anyio
GPS_IFD = 0x8825
LATITUDE = (52.0, 22.0, 5.5)


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + (len(payload) + 2).to_bytes(2, "big") + payload


def gps_jpeg(width: int = 64, height: int = 32, *, orientation: int | None = None) -> bytes:
    """A phone photo: EXIF with GPS (and the orientation), XMP, IPTC, a comment, and a
    second picture after the end of the first, as phones append one."""
    picture = PILImage.new("RGB", (width, height), (200, 30, 30))
    picture.paste((30, 30, 200), (0, 0, width // 2, height // 2))  # the top-left is blue
    exif = PILImage.Exif()
    exif[0x010F] = "PhoneMaker"
    if orientation:
        exif[0x0112] = orientation
    exif[GPS_IFD] = {1: "N", 2: tuple(TiffImagePlugin.IFDRational(v) for v in LATITUDE),
                     3: "E", 4: (TiffImagePlugin.IFDRational(4), TiffImagePlugin.IFDRational(53),
                                 TiffImagePlugin.IFDRational(7))}
    out = io.BytesIO()
    picture.save(out, "JPEG", exif=exif.tobytes(), quality=90)
    data = out.getvalue()
    extra = (_segment(0xE1, b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>GPSLatitude 52,22"
                            b"</x:xmpmeta>")
             + _segment(0xED, b"Photoshop 3.0\0" + b"8BIM\x04\x04 IPTC by-line Jane")
             + _segment(0xFE, b"shot at home"))
    return data[:2] + extra + data[2:] + b"\xff\xd8 trailing second picture Exif\0\0"


def plain_jpeg() -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", (40, 30), (1, 2, 3)).save(out, "JPEG")
    return out.getvalue()


def assert_clean(data: bytes) -> None:
    for marker in (b"Exif", b"xmpmeta", b"Photoshop", b"8BIM", b"shot at home", b"PhoneMaker"):
        assert marker not in data, marker
    with PILImage.open(io.BytesIO(data)) as opened:
        assert not opened.getexif()
        opened.load()  # still a whole, readable picture


# ── the cleaning itself ──────────────────────────────────────────────────────────────────

def test_a_jpeg_loses_every_metadata_segment_and_keeps_its_pixels() -> None:
    original = gps_jpeg()
    cleaned = strip_metadata(original, "image/jpeg")
    assert_clean(cleaned)
    with PILImage.open(io.BytesIO(original)) as a, PILImage.open(io.BytesIO(cleaned)) as b:
        assert a.tobytes() == b.tobytes()  # segments cut out, not re-encoded


def test_a_picture_without_metadata_goes_byte_for_byte() -> None:
    data = plain_jpeg()
    assert strip_metadata(data, "image/jpeg") is data
    png = io.BytesIO()
    PILImage.new("RGB", (8, 8)).save(png, "PNG")
    assert strip_metadata(png.getvalue(), "image/png") == png.getvalue()


def test_a_turned_photo_is_turned_in_its_pixels_and_loses_the_tag() -> None:
    cleaned = strip_metadata(gps_jpeg(64, 32, orientation=6), "image/jpeg")  # 90° clockwise
    assert_clean(cleaned)
    with PILImage.open(io.BytesIO(cleaned)) as shown:
        assert shown.size == (32, 64)
        rgb = shown.convert("RGB")
        r, g, b = rgb.getpixel((24, 8))  # top-left blue quarter now at the top right
        assert b > 150 and r < 100, (r, g, b)


def test_a_png_loses_its_text_and_exif_chunks() -> None:
    info = PngInfo()
    info.add_text("GPS", "52.36 N, 4.88 E")
    info.add_itxt("Comment", "shot at home")
    out = io.BytesIO()
    exif = PILImage.Exif()
    exif[0x010F] = "PhoneMaker"
    PILImage.new("RGB", (8, 8)).save(out, "PNG", pnginfo=info, exif=exif.tobytes())
    cleaned = strip_metadata(out.getvalue(), "image/png")
    for marker in (b"tEXt", b"iTXt", b"eXIf", b"52.36", b"PhoneMaker"):
        assert marker not in cleaned
    with PILImage.open(io.BytesIO(cleaned)) as opened:
        opened.load()


def test_a_picture_that_cannot_be_cleaned_is_refused() -> None:
    with pytest.raises(UncleanableImage, match="cannot be removed"):
        strip_metadata(b"\0\0\0\x1cftypheic" + b"\0" * 40, "image/heic")


# ── what each platform's fake received ──────────────────────────────────────────────────


@pytest.fixture
def photo(tmp_path: Path) -> Image:
    path = tmp_path / "roof.jpg"
    path.write_bytes(gps_jpeg(orientation=6))
    return Image(url=str(path), alt="Panels on a school roof")


def post(channel: str, images: list[Image]) -> Post:
    now = datetime.now(UTC)
    link = "https://example.org/news/solar-roofs"
    return Post.model_validate({
        "id": 1, "channel": channel, "status": PostStatus.PUBLISHING, "title": "Solar roofs",
        "text": f"Solar roofs on forty schools.\n\n{link}", "link": link, "language": "en",
        "created_at": now, "claimed_at": now, "images": images})


async def test_mastodon_receives_the_photo_without_metadata(
        client: httpx.AsyncClient, photo: Image) -> None:
    fake = mastodon.FakeMastodon()
    fake.add_token("tok-meta", fake.add_account("newsroom"), "read write")
    with mastodon.running(fake) as server:
        config = MastodonConfig(type="mastodon", base_url=server.url, access_token="tok-meta")
        await MastodonChannel("m", config, client, poll_interval=0.01).publish(
            post("m", [photo]))
    [media] = fake.media.values()
    assert_clean(media.data)


async def test_bluesky_receives_the_photo_without_metadata(
        client: httpx.AsyncClient, photo: Image) -> None:
    fake = bluesky.FakePDS()
    fake.add_account("newsroom.example.org", "abcd-efgh-ijkl-mnop")
    with bluesky.running(fake) as server:
        config = BlueskyConfig.model_validate({
            "type": "bluesky", "pds_url": server.url, "handle": "newsroom.example.org",
            "app_password": "abcd-efgh-ijkl-mnop"})
        await BlueskyChannel("b", config, client).publish(post("b", [photo]))
    [blob] = fake.blobs.values()
    assert_clean(blob.data)


async def test_linkedin_receives_the_photo_without_metadata(
        client: httpx.AsyncClient, photo: Image) -> None:
    fake = linkedin.FakeLinkedIn(detect_duplicates=False)
    fake.add_token(value="AQVmeta-token")
    with linkedin.running(fake) as server:
        config = LinkedInConfig.model_validate({
            "type": "linkedin", "organization_id": "2414183", "access_token": "AQVmeta-token",
            "api_url": server.url, "oauth_url": server.url, "api_version": "202608"})
        await LinkedInChannel("l", config, client, poll_interval=0.01).publish(
            post("l", [photo]))
    [image] = fake.images.values()
    assert_clean(image.data)


async def test_facebook_receives_the_photo_without_metadata(
        client: httpx.AsyncClient, photo: Image) -> None:
    with LiveServer(facebook.create_app(facebook.FakeGraph())) as server:
        graph = facebook.fresh_graph(server)
        config = FacebookConfig(type="facebook", page_id=graph.page_id,
                                page_access_token=graph.page_token, graph_url=server.url,
                                api_version="v21.0", post_as="photo")
        await FacebookChannel("f", config, client).publish(post("f", [photo]))
    [sent] = graph.photos.values()
    assert_clean(sent["data"])


async def test_an_uncleanable_picture_stops_the_post_before_anything_is_sent(
        client: httpx.AsyncClient, tmp_path: Path) -> None:
    path = tmp_path / "roof.jpg"
    path.write_bytes(gps_jpeg()[:-60].split(b"\xff\xd9")[0])  # cut off mid-scan
    fake = mastodon.FakeMastodon()
    fake.add_token("tok-meta", fake.add_account("newsroom"), "read write")
    with mastodon.running(fake) as server:
        config = MastodonConfig(type="mastodon", base_url=server.url, access_token="tok-meta")
        with pytest.raises(Permanent, match="metadata"):
            await MastodonChannel("m", config, client, poll_interval=0.01).publish(
                post("m", [Image(url=str(path))]))
    assert fake.media == {} and fake.statuses == {}

