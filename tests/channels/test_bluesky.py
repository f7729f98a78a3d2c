"""BlueskyChannel against the fake PDS over real HTTP on 127.0.0.1.

Every assertion about what was posted reads the fake's stored record — its text's UTF-8 bytes
sliced with the facets' own offsets, its blobs — never the channel's receipt alone.
"""

from __future__ import annotations

import io
import logging
import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image as PILImage
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.config import BlueskyConfig
from bot.fit import count
from bot.models import Image, Post, PostStatus, new_post_uid
from channels.base import Ambiguous, AuthFailed, Permanent, Transient
from channels.bluesky import BlueskyChannel, build, record_key, short_url
from channels.bluesky.channel import refused_limit
from channels.bluesky.rkey import TID, decode_tid
from channels.registry import DEFAULT_LIMITS
from tests.fakes.bluesky import FakePDS, running
from tests.fakes.server import LiveServer

PASSWORD = "abcd-efgh-ijkl-mnop"
HANDLE = "newsroom.example.org"
pytestmark = pytest.mark.anyio


def picture(width: int, height: int, fmt: str = "PNG", *, noise: bool = False,
            orientation: int | None = None) -> bytes:
    """An image made here; `noise` makes it incompressible (a big press photo)."""
    if noise:
        rng = random.Random(7)
        image = PILImage.frombytes("RGB", (width, height), rng.randbytes(width * height * 3))
    else:
        image = PILImage.new("RGB", (width, height), (30, 120, 200))
    out = io.BytesIO()
    if orientation:
        exif = PILImage.Exif()
        exif[0x0112] = orientation
        image.save(out, fmt, exif=exif.tobytes())
    else:
        image.save(out, fmt)
    return out.getvalue()


class Images:
    """A static image host: `add(name, bytes)` then `url(name)`."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.headers: list[dict[str, str]] = []
        self.base = ""

    async def serve(self, request: Request) -> Response:
        self.headers.append({k.lower(): v for k, v in request.headers.items()})
        data = self.files.get(request.path_params["name"])
        if data is None:
            return Response("not found", 404)
        kind = "image/jpeg" if data.startswith(b"\xff\xd8") else "image/png"
        return Response(data, media_type=kind)

    def add(self, name: str, data: bytes) -> str:
        self.files[name] = data
        return f"{self.base}/img/{name}"


@pytest.fixture
def images() -> Iterator[Images]:
    host = Images()
    with LiveServer(Starlette(routes=[Route("/img/{name}", host.serve)])) as live:
        host.base = live.url
        yield host


@pytest.fixture
def fake() -> FakePDS:
    state = FakePDS()
    state.add_account(HANDLE, PASSWORD)
    return state


@pytest.fixture
def server(fake: FakePDS) -> Iterator[LiveServer]:
    with running(fake) as live:
        yield live


def channel_for(server: LiveServer, client: httpx.AsyncClient, *, password: str = PASSWORD,
                **options: Any) -> BlueskyChannel:
    config = BlueskyConfig.model_validate({
        "type": "bluesky", "pds_url": server.url, "handle": HANDLE, "app_password": password,
        "allow_private_images": True, "timeout": "3s", **options})
    return BlueskyChannel("bluesky", config, client)


def make_post(n: int = 1, **fields: Any) -> Post:
    link = f"https://www.example.org/news/2026/03/solar-panels-on-forty-school-roofs-{n}" \
           "?utm_source=bluesky&utm_medium=social"
    now = datetime.now(UTC)
    values: dict[str, Any] = {
        "id": n, "channel": "bluesky", "status": PostStatus.PUBLISHING,
        "title": f"Solar roofs {n}", "text": f"Solar roofs {n}\n\nForty schools.\n\n{link}",
        "link": link, "language": "en", "created_at": now, "claimed_at": now} | fields
    return Post.model_validate(values)


def under_another_key(post: Post) -> Post:
    """The same post as another id and uid would write it."""
    other = post.model_copy(update={"id": 999, "uid": new_post_uid()})
    assert other.idempotency_key != post.idempotency_key
    return other


def only_record(fake: FakePDS) -> Any:
    [stored] = fake.records.values()
    return stored


def sliced(stored: Any) -> list[tuple[str, dict[str, Any]]]:
    """Each facet's range cut out of the stored text's UTF-8 bytes, with its feature."""
    out = []
    for facet in stored.value.get("facets", []):
        index = facet["index"]
        piece = stored.text_bytes[index["byteStart"]:index["byteEnd"]].decode("utf-8")
        out.append((piece, facet["features"][0]))
    return out


# ------------------------------------------------------------------ facets and text

async def test_link_and_tag_facets_are_byte_correct_in_emoji_and_non_latin_text(
        fake: FakePDS, server: LiveServer, client: httpx.AsyncClient) -> None:
    link = "https://www.example.org/ελλάδα/ενέργεια-για-σχολεία?utm_source=bluesky"
    text = ("👩‍👩‍👧 Ηλιακά πάνελ σε σαράντα σχολεία — 太陽光パネル 🌞 في المدارس\n\n"
            f"Περισσότερα: {link} 🇪🇺\n\n#Ενέργεια #太陽光 #EUFunding")
    post = make_post(text=text, link=link, language="el")
    receipt = await channel_for(server, client).publish(post)
    stored = only_record(fake)
    assert receipt.remote_id == stored.uri
    assert stored.value["langs"] == ["el"]
    pieces = sliced(stored)
    assert pieces == [
        (short_url(link), {"$type": "app.bsky.richtext.facet#link", "uri": link}),
        ("#Ενέργεια", {"$type": "app.bsky.richtext.facet#tag", "tag": "Ενέργεια"}),
        ("#太陽光", {"$type": "app.bsky.richtext.facet#tag", "tag": "太陽光"}),
        ("#EUFunding", {"$type": "app.bsky.richtext.facet#tag", "tag": "EUFunding"}),
    ]
    # The text around the link is kept byte for byte; only the link is shown short.
    assert stored.value["text"] == text.replace(link, short_url(link))
    assert "🇪🇺" in stored.value["text"]


async def test_a_long_link_is_shown_short_and_counted_as_the_renderer_counted_it(
        fake: FakePDS, server: LiveServer, client: httpx.AsyncClient) -> None:
    post = make_post()
    assert post.link is not None and len(post.link) > 100
    await channel_for(server, client).publish(post)
    stored = only_record(fake)
    [(shown, feature)] = sliced(stored)
    assert feature["uri"] == post.link
    assert shown == "www.example.org/news/2026/03/…"
    # The renderer's count (URL as 30) is never below what Bluesky counts.
    assert len(stored.value["text"]) <= count(post.text, DEFAULT_LIMITS["bluesky"])


async def test_mentions_resolve_to_dids_and_unknown_handles_stay_text(
        fake: FakePDS, server: LiveServer, client: httpx.AsyncClient) -> None:
    other = fake.add_account("minister.gov.example", "zzzz-zzzz-zzzz-zzzz")
    post = make_post(text="Thanks @minister.gov.example and @nobody.example.net 🙏 (@x)")
    await channel_for(server, client).publish(post)
    assert sliced(only_record(fake)) == [
        ("@minister.gov.example", {"$type": "app.bsky.richtext.facet#mention", "did": other.did})]


def test_short_links_read_like_bluesky_s_own() -> None:
    assert short_url("https://eu.example/") == "eu.example"
    assert short_url("https://www.example.org/a?b=c") == "www.example.org/a?b=c"
    assert short_url("https://user:pw@example.org/x#frag") == "example.org/x"
    shown = short_url("https://www.example.org/ελλάδα/ενέργεια-για-σχολεία-και-δήμους")
    assert shown == "www.example.org/ελλάδα/ενέργε…"
    assert len(shown) == 30


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12),
    st.sampled_from(["https://example.org/a", "https://ex.org/ü?q=ß", " #tag", "#Καλή",
                     " @someone.bsky.social", "👨‍👩‍👧‍👦", "\u0301", "\n\n", "é"])),
    max_size=12))
def test_every_facet_range_decodes_to_its_own_text(parts: list[str]) -> None:
    text = "".join(parts)
    rich = build(text, {"someone.bsky.social": "did:plc:someone"})
    data = rich.text.encode("utf-8")
    for facet in rich.facets:
        start, end = facet["index"]["byteStart"], facet["index"]["byteEnd"]
        assert 0 <= start < end <= len(data)
        piece = data[start:end].decode("utf-8")  # on character boundaries, or this raises
        feature = facet["features"][0]
        if feature["$type"].endswith("#tag"):
            assert piece[1:] == feature["tag"]
        elif feature["$type"].endswith("#link"):
            assert piece == short_url(feature["uri"])


async def test_text_over_300_graphemes_is_refused_before_any_call(
        fake: FakePDS, server: LiveServer, client: httpx.AsyncClient, images: Images) -> None:
    url = images.add("a.png", picture(40, 30))
    post = make_post(text="🌞" * 301, images=[Image(url=url, alt="sun")])
    with pytest.raises(Permanent, match="301/300"):
        await channel_for(server, client).publish(post)
    assert fake.requests == []


# ------------------------------------------------------------------ embeds

async def test_images_carry_alt_text_and_aspect_ratio(
        fake: FakePDS, server: LiveServer, client: httpx.AsyncClient, images: Images) -> None:
    wide = images.add("wide.png", picture(640, 360))
    portrait = images.add("portrait.jpg", picture(400, 300, "JPEG", orientation=6))
    post = make_post(images=[Image(url=wide, alt="Pupils on a roof 👩‍🔧"),
                             Image(url=portrait, alt="Το δημαρχείο")])
    await channel_for(server, client).publish(post)
    embed = only_record(fake).value["embed"]
    assert embed["$type"] == "app.bsky.embed.images"
    assert [(i["alt"], i["aspectRatio"]) for i in embed["images"]] == [
        ("Pupils on a roof 👩‍🔧", {"width": 640, "height": 360}),
        ("Το δημαρχείο", {"width": 300, "height": 400}),   # EXIF-rotated: shown upright
    ]
    sent = [fake.blobs[item["image"]["ref"]["$link"]].data for item in embed["images"]]
    assert sent[0] == images.files["wide.png"]   # sent unchanged: under the cap, no metadata
    with PILImage.open(io.BytesIO(sent[1])) as turned:  # the tag applied to the pixels
        assert turned.size == (300, 400) and not turned.getexif()
    assert all("authorization" not in h for h in images.headers)   # no token to image hosts


async def test_a_blob_made_ahead_is_used_once_and_redone_when_it_failed_or_aged(
        fake: FakePDS, server: LiveServer, client: httpx.AsyncClient, images: Images,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The head start's blob serves its post's record; one that failed ahead, or was made
    longer ago than `BLOB_REUSE`, is made again at the post's own turn."""
    from channels.bluesky import media

    channel = channel_for(server, client)
    uploads = lambda: len(fake.requests_to("com.atproto.repo.uploadBlob"))  # noqa: E731
    first = make_post(1, images=[Image(url=images.add("a.png", picture(320, 200)), alt="A")])
    await channel.prepare(first)
    assert uploads() == 1
    await channel.publish(first)
    assert uploads() == 1                                     # taken, not made twice
    [item] = only_record(fake).value["embed"]["images"]
    assert fake.blobs[item["image"]["ref"]["$link"]].data == images.files["a.png"]

    fake.fail("com.atproto.repo.uploadBlob", 503)
    second = make_post(2, images=[Image(url=images.add("b.png", picture(321, 200)), alt="B")])
    with pytest.raises(Transient):
        await channel.prepare(second)
    await channel.publish(second)                             # made again, and used
    assert uploads() == 3

    third = make_post(3, images=[Image(url=images.add("c.png", picture(322, 200)), alt="C")])
    await channel.prepare(third)
    monkeypatch.setattr(media, "BLOB_REUSE", 0.0)             # as if made long ago
    await channel.publish(third)                              # too old to trust: made again
    assert uploads() == 5
    sizes = {r.value["text"].split()[2]: r.value["embed"]["images"][0]["aspectRatio"]["width"]
             for r in fake.records.values()}
    assert sizes == {"1": 320, "2": 321, "3": 322}            # each post its own picture
    assert channel._ahead == {}                               # nothing left behind


async def test_a_photo_over_2_mb_is_shrunk_not_dropped(
        fake: FakePDS, server: LiveServer, client: httpx.AsyncClient, images: Images) -> None:
    big = picture(1800, 1200, "PNG", noise=True)
    assert len(big) > 2_000_000
    url = images.add("big.png", big)
    await channel_for(server, client).publish(make_post(images=[Image(url=url, alt="Roof")]))
    [item] = only_record(fake).value["embed"]["images"]
    blob = fake.blobs[item["image"]["ref"]["$link"]]
    assert len(blob.data) <= 1_000_000
    assert blob.mime == "image/jpeg"
    shrunk = PILImage.open(io.BytesIO(blob.data))
    assert item["aspectRatio"] == {"width": shrunk.width, "height": shrunk.height}
    assert abs(shrunk.width / shrunk.height - 1.5) < 0.01


async def test_a_photo_between_1_and_2_mb_is_shrunk_to_the_lexicons_limit(
        fake: FakePDS, server: LiveServer, client: httpx.AsyncClient, images: Images) -> None:
    photo = picture(700, 600, "PNG", noise=True)  # the fake refuses blobs over 1,000,000
    assert 1_000_000 < len(photo) < 2_000_000
    url = images.add("photo.png", photo)
    await channel_for(server, client).publish(make_post(images=[Image(url=url, alt="Roof")]))
    [item] = only_record(fake).value["embed"]["images"]
    assert len(fake.blobs[item["image"]["ref"]["$link"]].data) <= 1_000_000


async def test_a_blob_too_large_refusal_makes_the_pictures_again_smaller(
        fake: FakePDS, server: LiveServer, client: httpx.AsyncClient, images: Images,
        caplog: pytest.LogCaptureFixture) -> None:
    fake.lexicon_blob_max = {1_000_000: 400_000}  # a PDS stricter than the lexicon
    photo = picture(1400, 1000, "PNG", noise=True)  # shrunk to ~0.8 MB first
    url = images.add("photo.png", photo)
    with caplog.at_level(logging.WARNING):
        await channel_for(server, client).publish(
            make_post(images=[Image(url=url, alt="Roof")]))
    [item] = only_record(fake).value["embed"]["images"]   # one post, written once
    assert len(fake.blobs[item["image"]["ref"]["$link"]].data) <= 400_000
    assert len(fake.requests_to("com.atproto.repo.putRecord")) == 2   # refused, then written
    assert "maximum size is 390.6" in caplog.text   # the limit the PDS named


def test_the_limit_a_refusal_names_is_read_in_the_pds_units() -> None:
    assert refused_limit("This file is too large. It is 1.18MB but the maximum size is "
                         "976.56KB.") == 999_997
    assert refused_limit("too large") is None


async def test_a_page_that_is_no_image_is_left_out_and_the_card_goes_instead(
        fake: FakePDS, server: LiveServer, client: httpx.AsyncClient, images: Images,
        caplog: pytest.LogCaptureFixture) -> None:
    url = images.add("moved.png", b"<!doctype html><title>Moved</title>")
    with caplog.at_level(logging.WARNING):
        await channel_for(server, client).publish(make_post(images=[Image(url=url, alt="x")]))
    embed = only_record(fake).value["embed"]
    assert embed["$type"] == "app.bsky.embed.external"
    assert fake.blobs == {}
    assert "moved.png" in caplog.text


async def test_a_link_card_carries_title_description_and_thumbnail(
        fake: FakePDS, server: LiveServer, client: httpx.AsyncClient, images: Images) -> None:
    photo = picture(1600, 1000, "PNG", noise=True)   # over the card thumbnail's 300 KB
    url = images.add("photo.png", photo)
    post = make_post(text="Solar roofs 1\n\nForty schools get panels.\n\n"
                          "https://www.example.org/news/1\n\n#Energy",
                     link="https://www.example.org/news/1",
                     images=[Image(url=url, alt="Roof")])
    await channel_for(server, client, embed="card").publish(post)
    embed = only_record(fake).value["embed"]
    assert embed["$type"] == "app.bsky.embed.external"
    card = embed["external"]
    assert card["uri"] == "https://www.example.org/news/1"
    assert card["title"] == "Solar roofs 1"
    assert card["description"] == "Forty schools get panels."
    thumb = fake.blobs[card["thumb"]["ref"]["$link"]]
    assert len(thumb.data) <= 300_000


async def test_without_images_the_card_has_no_thumbnail(
        fake: FakePDS, server: LiveServer, client: httpx.AsyncClient) -> None:
    await channel_for(server, client).publish(make_post())
    card = only_record(fake).value["embed"]["external"]
    assert "thumb" not in card
    assert card["title"] == "Solar roofs 1"


# ------------------------------------------------------------------ exactly once

async def test_rkey_is_a_tid_derived_from_the_idempotency_key() -> None:
    post = make_post(created_at=datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC))
    key = record_key(post.idempotency_key, post.created_at)
    assert TID.match(key)
    # the same in any process (naive and aware times from the store agree), distinct per post
    assert key == record_key(post.idempotency_key, datetime(2026, 3, 1, 9, 30, 15))
    assert key != record_key(make_post(2).idempotency_key, post.created_at)
    when = decode_tid(key) >> 10
    anchor = int(datetime(2026, 3, 1, 9, 30, 15, tzinfo=UTC).timestamp() * 1_000_000)
    assert anchor - 2**36 <= when <= anchor   # near the post's own time, never after it
    keys = {record_key(f"pressbot-post-{n}", post.created_at) for n in range(5000)}
    assert len(keys) == 5000


async def test_a_lost_answer_then_a_retry_holds_one_record(
        fake: FakePDS, server: LiveServer, client: httpx.AsyncClient) -> None:
    post = make_post()
    fake.drop_after_processing("com.atproto.repo.putRecord")
    with pytest.raises(Ambiguous):
        await channel_for(server, client).publish(post)
    assert len(fake.records) == 1   # the PDS made it; the client could not know
    first = only_record(fake).cid
    fresh = channel_for(server, client)   # a restarted process
    found = await fresh.lookup(post)
    assert found is not None
    assert found.remote_id == only_record(fake).uri
    # Even without the lookup, publishing again cannot make a second record.
    again = await channel_for(server, client).publish(post)
    assert again.remote_id == found.remote_id
    assert len(fake.records) == 1
    assert only_record(fake).cid == first   # refused (InvalidSwap), not overwritten
    swaps = [r for r in fake.requests_to("com.atproto.repo.putRecord")]
    assert len(swaps) == 2
    assert found.remote_url == f"https://bsky.app/profile/{only_record(fake).did}/post/" \
                               f"{only_record(fake).rkey}"


async def test_lookup_scans_recent_records_for_a_post_under_another_key(
        fake: FakePDS, server: LiveServer, client: httpx.AsyncClient) -> None:
    post = make_post()
    channel = channel_for(server, client)
    receipt = await channel.publish(under_another_key(post))
    found = await channel.lookup(post)                   # the same approved text and link
    assert found is not None and found.remote_id == receipt.remote_id
    assert await channel.lookup(make_post(2)) is None
    # A colleague's post sharing the release's link (other text) is not ours.
    colleague = post.model_copy(update={"id": 7, "uid": new_post_uid(),
                                        "text": f"Worth reading: {post.link}"})
    assert await channel.lookup(colleague) is None


async def test_lookup_ignores_records_older_than_the_post(
        fake: FakePDS, server: LiveServer, client: httpx.AsyncClient) -> None:
    channel = channel_for(server, client)
    post = make_post()
    await channel.publish(under_another_key(post))
    later = datetime.now(UTC) + timedelta(hours=1)
    assert await channel.lookup(post.model_copy(update={"created_at": later,
                                                        "claimed_at": later})) is None
    assert await channel.lookup(post) is not None   # only the time kept it out


# ------------------------------------------------------------------ sessions

async def test_an_expired_session_is_refreshed_once(
        fake: FakePDS, server: LiveServer, client: httpx.AsyncClient) -> None:
    channel = channel_for(server, client)
    await channel.publish(make_post(1))
    fake.expire_access_tokens()
    await channel.publish(make_post(2))
    assert len(fake.records) == 2
    assert len(fake.requests_to("com.atproto.server.createSession")) == 1
    assert len(fake.requests_to("com.atproto.server.refreshSession")) == 1
    put = fake.requests_to("com.atproto.repo.putRecord")
    # post 2 went with the old token, was refused, and was repeated with the new one
    assert [r.headers["authorization"] == put[0].headers["authorization"] for r in put] == \
        [True, True, False]


async def test_a_busy_pds_during_refresh_is_a_wait_not_a_new_sign_in(
        fake: FakePDS, server: LiveServer, client: httpx.AsyncClient) -> None:
    channel = channel_for(server, client)
    await channel.publish(make_post(1))
    fake.expire_access_tokens()
    fake.fail("com.atproto.server.refreshSession", 502)
    with pytest.raises(Transient):
        await channel.publish(make_post(2))
    await channel.publish(make_post(2))
    assert len(fake.records) == 2
    assert len(fake.requests_to("com.atproto.server.refreshSession")) == 2
    assert len(fake.requests_to("com.atproto.server.createSession")) == 1


async def test_a_refused_refresh_token_signs_in_again(
        fake: FakePDS, server: LiveServer, client: httpx.AsyncClient) -> None:
    channel = channel_for(server, client)
    await channel.publish(make_post(1))
    with fake.lock:
        fake.tokens.clear()   # e.g. the PDS was restored and forgot every session
    await channel.publish(make_post(2))
    assert len(fake.records) == 2
    assert len(fake.requests_to("com.atproto.server.createSession")) == 2


async def test_a_revoked_app_password_is_auth_failed_without_the_secret(
        fake: FakePDS, server: LiveServer, client: httpx.AsyncClient,
        caplog: pytest.LogCaptureFixture) -> None:
    channel = channel_for(server, client)
    await channel.publish(make_post(1))
    fake.revoke(PASSWORD)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AuthFailed) as caught:
        await channel.publish(make_post(2))
    assert len(fake.records) == 1
    assert "App passwords" in caught.value.hint
    [first] = fake.requests_to("com.atproto.server.createSession")[:1]
    token = first.headers.get("authorization", "")
    for text in (str(caught.value), repr(caught.value), repr(channel), caplog.text):
        assert PASSWORD not in text
        assert "fake-access-" not in text and "fake-refresh-" not in text
    assert token == ""   # the password travels in the body only


async def test_check_reports_the_handle_and_refuses_a_wrong_password(
        fake: FakePDS, server: LiveServer, client: httpx.AsyncClient) -> None:
    result = await channel_for(server, client).check()
    assert result.ok, result.summary
    assert result.summary.startswith(f"@{HANDLE} on 127.0.0.1:")
    assert result.details["did"] == next(iter(fake.accounts))
    assert result.warnings == []
    bad = await channel_for(server, client, password="the-account-password").check()
    assert not bad.ok
    assert "Invalid identifier or password" in bad.summary
    assert any("app password" in w for w in bad.warnings)
    assert "the-account-password" not in bad.summary + repr(bad.details)


async def test_check_says_when_the_account_cannot_post(
        fake: FakePDS, server: LiveServer, client: httpx.AsyncClient) -> None:
    next(iter(fake.accounts.values())).status = "deactivated"
    result = await channel_for(server, client).check()
    assert not result.ok
    assert "deactivated" in result.summary


# ------------------------------------------------------------------ errors

async def test_rate_limit_waits_until_ratelimit_reset(
        fake: FakePDS, server: LiveServer, client: httpx.AsyncClient) -> None:
    reset = int(time.time()) + 120
    fake.fail("com.atproto.repo.putRecord", 429, headers={
        "RateLimit-Limit": "5000", "RateLimit-Remaining": "0", "RateLimit-Reset": str(reset)})
    with pytest.raises(Transient) as caught:
        await channel_for(server, client).publish(make_post())
    assert caught.value.throttled
    assert caught.value.retry_after is not None
    assert 100 < caught.value.retry_after <= 120
    assert fake.records == {}


async def test_the_write_budget_is_read_from_the_headers_and_a_429_waits(
        server: LiveServer, client: httpx.AsyncClient, fake: FakePDS) -> None:
    fake.write_points = 5   # two putRecords (2 points each) an hour, then 1 point left
    channel = channel_for(server, client)
    await channel.publish(make_post(1))
    await channel.publish(make_post(2))
    with pytest.raises(Transient) as caught:
        await channel.publish(make_post(3))
    assert caught.value.throttled
    assert caught.value.retry_after is not None and caught.value.retry_after <= 3600
    assert len(fake.records) == 2
    # The channel read RateLimit-Remaining and did not walk into the 429.
    assert len(fake.requests_to("com.atproto.repo.putRecord")) == 2
    # A fresh process knows no budget: it tries, the PDS refuses with 429, same wait.
    with pytest.raises(Transient) as refused:
        await channel_for(server, client).publish(make_post(3))
    assert refused.value.throttled
    assert refused.value.retry_after is not None and refused.value.retry_after <= 3600
    assert len(fake.requests_to("com.atproto.repo.putRecord")) == 3
    assert len(fake.records) == 2


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_errors_are_transient(fake: FakePDS, server: LiveServer,
                                           client: httpx.AsyncClient, status: int) -> None:
    fake.fail("com.atproto.repo.putRecord", status)
    with pytest.raises(Transient):
        await channel_for(server, client).publish(make_post())
    await channel_for(server, client).publish(make_post())
    assert len(fake.records) == 1


async def test_invalid_request_is_permanent_with_the_pds_reason(
        fake: FakePDS, server: LiveServer, client: httpx.AsyncClient) -> None:
    fake.fail("com.atproto.repo.putRecord", 400, error="InvalidRequest",
              message="Invalid app.bsky.feed.post record: Record/langs/0 must be a valid language")
    with pytest.raises(Permanent) as caught:
        await channel_for(server, client).publish(make_post())
    assert not isinstance(caught.value, AuthFailed)
    assert "Record/langs/0 must be a valid language" in str(caught.value)
    assert fake.records == {}


async def test_the_fake_refuses_facets_off_character_boundaries(
        fake: FakePDS, server: LiveServer, client: httpx.AsyncClient) -> None:
    """The fake is strict where a wrong client would be wrong: a range cutting an emoji."""
    did = next(iter(fake.accounts))
    session = (await client.post(f"{server.url}/xrpc/com.atproto.server.createSession",
                                 json={"identifier": HANDLE, "password": PASSWORD})).json()
    record = {"$type": "app.bsky.feed.post", "text": "🌞 https://e.org",
              "createdAt": "2026-03-01T09:00:00.000Z",
              "facets": [{"index": {"byteStart": 2, "byteEnd": 17},   # by characters: wrong
                          "features": [{"$type": "app.bsky.richtext.facet#link",
                                        "uri": "https://e.org"}]}]}
    answer = await client.post(
        f"{server.url}/xrpc/com.atproto.repo.putRecord",
        headers={"Authorization": f"Bearer {session['accessJwt']}"},
        json={"repo": did, "collection": "app.bsky.feed.post", "rkey": "3kabcdefghij2",
              "record": record})
    assert answer.status_code == 400
    assert "inside a UTF-8 character" in answer.json()["message"]


async def test_engagement_reads_likes_and_reposts(fake: FakePDS, server: LiveServer,
                                                  client: httpx.AsyncClient) -> None:
    channel = channel_for(server, client)
    receipt = await channel.publish(make_post())
    stored = only_record(fake)
    stored.like_count, stored.repost_count, stored.reply_count = 7, 2, 1
    assert await channel.engagement(receipt.remote_id) == {"likes": 7, "reposts": 2,
                                                           "replies": 1, "quotes": 0}
    [asked] = [r for r in fake.requests if r.nsid == "app.bsky.feed.getPosts"]
    assert asked.query == {"uris": receipt.remote_id}


async def test_check_reads_the_profile(fake: FakePDS, server: LiveServer,
                                       client: httpx.AsyncClient) -> None:
    account = next(iter(fake.accounts.values()))
    account.display_name, account.avatar = "City Newsroom", "https://cdn.example/a.jpg"
    check = await channel_for(server, client).check()
    assert check.details["profile"] == {"name": "City Newsroom",
                                        "avatar": "https://cdn.example/a.jpg"}
