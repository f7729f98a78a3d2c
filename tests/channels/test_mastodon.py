"""MastodonChannel against the fake Mastodon over real HTTP on 127.0.0.1."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.config import MastodonConfig
from bot.fit import count
from bot.models import Image, Post, PostStatus, Receipt
from channels.base import Ambiguous, Channel, ChannelError, Limits, Permanent, Transient
from channels.mastodon import MastodonChannel
from tests.fakes.mastodon import FakeMastodon, iso, running
from tests.fakes.server import LiveServer

TOKEN = "mastodon-secret-token-4242"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
pytestmark = pytest.mark.anyio


@pytest.fixture
def fake() -> FakeMastodon:
    state = FakeMastodon()
    state.add_token(TOKEN, state.add_account("newsroom"), "read write")
    return state


@pytest.fixture
def server(fake: FakeMastodon) -> Iterator[LiveServer]:
    with running(fake) as live:
        yield live


class Images:
    """A tiny static server for release images; records the headers it was sent."""

    def __init__(self) -> None:
        self.headers: list[dict[str, str]] = []

    async def serve(self, request: Request) -> Response:
        self.headers.append({k.lower(): v for k, v in request.headers.items()})
        size = int(request.query_params.get("size", len(PNG)))
        if request.path_params["name"] == "missing.png":
            return Response("gone", 404)
        return Response(PNG[:8] + b"\x00" * (size - 8), media_type="image/png")


@pytest.fixture
def images() -> Iterator[tuple[Images, str]]:
    static = Images()
    with LiveServer(Starlette(routes=[Route("/img/{name}", static.serve)])) as live:
        yield static, live.url


def channel_for(server: LiveServer, client: httpx.AsyncClient, token: str = TOKEN,
                **options: Any) -> MastodonChannel:
    options.setdefault("allow_private_images", True)  # test images are served on 127.0.0.1
    config = MastodonConfig(type="mastodon", base_url=server.url, access_token=token,
                            timeout=options.pop("timeout", "3s"), **options)
    return MastodonChannel("mastodon", config, client, poll_interval=0.01)


def make_post(post_id: int = 1, text: str = "New park opens https://example.org/news/park",
              **fields: Any) -> Post:
    fields.setdefault("link", "https://example.org/news/park")
    return Post(id=post_id, channel="mastodon", status=PostStatus.PUBLISHING, text=text,
                language="en", **fields)


def found_id(receipt: Receipt | None) -> str | None:
    """The status a lookup found (its `matched` reason is checked where it matters)."""
    return receipt.remote_id if receipt else None


def assert_no_secret(exc: BaseException) -> None:
    for shown in (str(exc), repr(exc), str(getattr(exc, "hint", "")),
                  str(getattr(exc, "reason", ""))):
        assert TOKEN not in shown
        assert "Bearer" not in shown


# ------------------------------------------------------------------ publishing

async def test_text_post_is_published_with_key_and_settings(
        fake: FakeMastodon, server: LiveServer, client: httpx.AsyncClient) -> None:
    channel = channel_for(server, client, visibility="unlisted", spoiler_text="Press release")
    assert isinstance(channel, Channel)
    post = make_post()
    receipt = await channel.publish(post)
    [status] = fake.statuses.values()
    assert receipt.remote_id == status.id
    assert receipt.remote_url == status.url
    assert (status.visibility, status.language, status.spoiler_text) == \
        ("unlisted", "en", "Press release")
    [sent] = fake.requests_to("statuses")
    assert sent.headers["idempotency-key"] == f"pressbot-{post.uid}"
    assert len(post.uid) == 32 and post.uid != make_post().uid
    assert sent.headers["user-agent"].startswith("pressbot/")


async def test_images_are_uploaded_with_alt_text(
        fake: FakeMastodon, server: LiveServer, client: httpx.AsyncClient,
        images: tuple[Images, str], tmp_path: Path) -> None:
    static, base = images
    local = tmp_path / "photo.png"
    local.write_bytes(PNG)
    post = make_post(images=[Image(url=f"{base}/img/chart.png", alt="A bar chart"),
                             Image(url=str(local), alt="The new park")])
    await channel_for(server, client).publish(post)
    [status] = fake.statuses.values()
    described = [fake.media[m].description for m in status.media_ids]
    assert described == ["A bar chart", "The new park"]
    assert all(fake.media[m].content_type == "image/png" for m in status.media_ids)
    assert "authorization" not in static.headers[0]   # the token never leaves for other hosts


async def test_uploads_are_reused_on_retry_and_deleted_when_the_post_fails_for_good(
        fake: FakeMastodon, server: LiveServer, client: httpx.AsyncClient,
        images: tuple[Images, str]) -> None:
    _, base = images
    channel = channel_for(server, client)
    post = make_post(images=[Image(url=f"{base}/img/a.png", alt="a")])
    fake.fail("statuses", 503)                         # nothing made: worth a retry
    with pytest.raises(Transient):
        await channel.publish(post)
    await channel.publish(post)
    assert len(fake.requests_to("media")) == 1         # the retry reused the upload
    [status] = fake.statuses.values()
    assert list(fake.media) == status.media_ids

    refused = make_post(2, images=[Image(url=f"{base}/img/b.png", alt="b")])
    fake.fail("statuses", 422)                         # refused as written: held
    with pytest.raises(Permanent):
        await channel.publish(refused)
    assert list(fake.media) == status.media_ids        # its upload was deleted on the server
    assert len(fake.requests_to("media_delete")) == 1


async def test_an_upload_made_ahead_is_redone_when_the_post_was_edited_or_it_aged(
        fake: FakeMastodon, server: LiveServer, client: httpx.AsyncClient,
        images: tuple[Images, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """`prepare` uploads a post's picture before its turn. A reviewer who then fixes the alt
    text must see the fix on Mastodon, and an upload kept too long (the server expires
    unattached media) is not trusted: both are uploaded again, the stale one deleted."""
    _, base = images
    channel = channel_for(server, client)
    post = make_post(images=[Image(url=f"{base}/img/a.png", alt="A chart")])
    await channel.prepare(post)
    [early] = fake.media
    edited = post.model_copy(update={"images": [Image(url=f"{base}/img/a.png",
                                                      alt="A bar chart of visitors")]})
    await channel.publish(edited)
    [status] = fake.statuses.values()
    [used] = status.media_ids
    assert fake.media[used].description == "A bar chart of visitors"
    assert early not in fake.media                      # the stale upload was deleted

    later = make_post(2, images=[Image(url=f"{base}/img/b.png", alt="b")])
    await channel.prepare(later)
    [aged] = [m for m in fake.media if m != used]
    monkeypatch.setattr("channels.mastodon.channel.UPLOAD_REUSE", -1.0)
    await channel.publish(later)
    newest = max(fake.statuses.values(), key=lambda s: int(s.id))
    [fresh] = newest.media_ids
    assert fresh != aged and aged not in fake.media
    assert len(fake.requests_to("media")) == 4


async def test_takahe_refusing_with_400_gets_the_length_hint_naming_takahe(
        fake: FakeMastodon, server: LiveServer, client: httpx.AsyncClient) -> None:
    fake.raw_counting = True    # Takahē: advertises 23, counts len(), answers 400
    fake.max_characters = 100
    link = "https://www.example.org/news/2026/03/a-rather-long-address-for-one-press-release"
    text = f"Solar roofs on forty schools: the plan is out. {link}"
    channel = channel_for(server, client, counting="mastodon")  # set against the server
    await channel.load_limits()
    assert count(text, channel.limits) <= 100 < len(text)   # fits as Mastodon counts
    with pytest.raises(Permanent) as caught:
        await channel.publish(make_post(text=text, link=link))
    message, hint = str(caught.value), caught.value.hint
    assert message.startswith("Mastodon refused the length: Status is too long")
    assert f"pressbot counted {count(text, channel.limits)}/100" in message
    assert f"it is {len(text)}" in message
    assert f"cut about {len(text) - 100} characters" in hint
    assert 'counting = "takahe"' in hint

    fake.version = "takahe/0.11.0"
    named = channel_for(server, client, counting="mastodon")
    await named.load_limits()
    with pytest.raises(Permanent, match=r"^Takahē refused the length"):
        await named.publish(make_post(text=text, link=link))

    for mode in ("raw", "takahe", None):   # "raw" is the old name; unset: as the server counts
        counted = channel_for(server, client, **({"counting": mode} if mode else {}))
        await counted.load_limits()
        assert count(text, counted.limits) == len(text) > 100  # the renderer shortens it first


async def test_takahe_counting_is_code_points_as_takahe_counts(
        fake: FakeMastodon, server: LiveServer, client: httpx.AsyncClient) -> None:
    fake.raw_counting = True
    fake.max_characters = 60
    fake.version = "takahe/0.11.0"
    flags = "🇪🇺🇳🇱👩‍🔧"           # 3 grapheme clusters, 7 code points
    text = "Solar roofs on forty schools " + flags * 4   # 29 + 12 clusters, 29 + 28 points
    channel = channel_for(server, client, counting="raw")
    await channel.load_limits()
    assert count(text, channel.limits) == len(text) == 57
    fake.max_characters = 50
    await channel.load_limits()
    assert count(text, channel.limits) > channel.limits.max_chars  # the preview says too long
    fake.max_characters = 60
    await channel.publish(make_post(text=text, link=None))
    assert len(fake.statuses) == 1


@pytest.mark.parametrize(("version", "shown", "expected"), [
    ("takahe/0.11.0", "Takahē", None),
    ("2.7.2 (compatible; Akkoma 3.13.2)", "Akkoma", None),
    ("3.0.0 (compatible; Sharkey 2024.8.1)", "Sharkey", 'set counting = "takahe"'),
    ("0.17.3 git-6b1a4bc (GoToSocial)", "GoToSocial", 'set counting = "takahe"'),
])
async def test_check_names_the_server_and_its_counting(
        fake: FakeMastodon, server: LiveServer, client: httpx.AsyncClient, version: str,
        shown: str, expected: str | None) -> None:
    fake.version = version
    checked = await channel_for(server, client).check()
    assert f"({shown})" in checked.summary
    if expected is None:
        assert checked.warnings == []
        assert ("takahe" if "takahe" in version else "pleroma") in checked.summary
    else:
        [warning] = checked.warnings
        assert warning.startswith(f"{shown} answered") and expected in warning
    wrong = await channel_for(server, client, counting="mastodon").check()
    if expected is None:
        [warning] = wrong.warnings
        assert f"{shown} answered: it counts" in warning


async def test_slow_media_is_polled_until_processed(
        fake: FakeMastodon, server: LiveServer, client: httpx.AsyncClient,
        images: tuple[Images, str]) -> None:
    fake.slow_media = True
    _, base = images
    await channel_for(server, client).publish(make_post(images=[Image(url=f"{base}/img/a.png")]))
    [status] = fake.statuses.values()
    assert len(status.media_ids) == 1
    assert [r.route for r in fake.requests if r.route != "instance"].count("media_get") == 3


async def test_image_over_the_instance_limit_is_left_out(
        fake: FakeMastodon, server: LiveServer, client: httpx.AsyncClient,
        images: tuple[Images, str], caplog: pytest.LogCaptureFixture) -> None:
    fake.image_size_limit = 1000
    _, base = images
    channel = channel_for(server, client)
    await channel.load_limits()
    post = make_post(images=[Image(url=f"{base}/img/big.png?size=5000", alt="big"),
                             Image(url=f"{base}/img/small.png?size=500", alt="small")])
    with caplog.at_level(logging.WARNING, logger="channels.mastodon"):
        await channel.publish(post)
    [status] = fake.statuses.values()
    assert [fake.media[m].description for m in status.media_ids] == ["small"]
    assert "big.png" in caplog.text


async def test_missing_image_is_permanent_before_anything_is_posted(
        fake: FakeMastodon, server: LiveServer, client: httpx.AsyncClient,
        images: tuple[Images, str]) -> None:
    _, base = images
    with pytest.raises(Permanent, match="404"):
        await channel_for(server, client).publish(
            make_post(images=[Image(url=f"{base}/img/missing.png")]))
    assert not fake.statuses


async def test_publishing_twice_makes_one_status(
        fake: FakeMastodon, server: LiveServer, client: httpx.AsyncClient) -> None:
    channel = channel_for(server, client)
    post = make_post()
    first = await channel.publish(post)
    second = await channel.publish(post)
    assert first == second
    assert len(fake.statuses) == 1


async def test_server_ignoring_the_key_is_covered_by_lookup(
        fake: FakeMastodon, server: LiveServer, client: httpx.AsyncClient) -> None:
    fake.ignore_idempotency = fake.compat_mode = True
    channel = channel_for(server, client)
    assert await channel.lookup(make_post()) is None
    first = await channel.publish(make_post())
    # What the publisher does after an ambiguous failure: look up before publishing again.
    assert found_id(await channel.lookup(make_post())) == first.remote_id
    await channel.publish(make_post())       # without the lookup, this server doubles the post
    assert len(fake.statuses) == 2
    # the oldest match is the publication
    assert found_id(await channel.lookup(make_post())) == first.remote_id


# ------------------------------------------------------------------ errors

async def test_bad_token_is_permanent_with_a_hint_and_no_secret(
        fake: FakeMastodon, server: LiveServer, client: httpx.AsyncClient) -> None:
    channel = channel_for(server, client, token="wrong-token-" + TOKEN)
    with pytest.raises(Permanent) as caught:
        await channel.publish(make_post())
    assert "MASTODON_TOKEN" in caught.value.hint
    assert "The access token is invalid" in caught.value.reason
    assert_no_secret(caught.value)
    assert TOKEN not in repr(channel)
    fake.compat_mode = True          # 400 text/plain, as some compatible servers answer
    with pytest.raises(Permanent) as plain:
        await channel.publish(make_post())
    assert "MASTODON_TOKEN" in plain.value.hint
    assert_no_secret(plain.value)


async def test_missing_scope_names_the_scope(
        fake: FakeMastodon, server: LiveServer, client: httpx.AsyncClient) -> None:
    fake.add_token("read-only-token-1", next(iter(fake.accounts.values())), "read")
    with pytest.raises(Permanent) as caught:
        await channel_for(server, client, token="read-only-token-1").publish(make_post())
    assert "write:statuses" in caught.value.hint
    assert not fake.statuses


async def test_too_long_is_permanent_with_the_servers_message(
        fake: FakeMastodon, server: LiveServer, client: httpx.AsyncClient) -> None:
    with pytest.raises(Permanent) as caught:
        await channel_for(server, client).publish(make_post(text="word " * 120))
    assert "Text character limit of 500 exceeded" in str(caught.value)
    assert_no_secret(caught.value)


async def test_429_waits_until_the_iso_reset(
        fake: FakeMastodon, server: LiveServer, client: httpx.AsyncClient) -> None:
    reset = datetime.now(UTC) + timedelta(seconds=120)
    fake.fail("statuses", 429, headers={"X-RateLimit-Limit": "300",
                                        "X-RateLimit-Remaining": "0",
                                        "X-RateLimit-Reset": iso(reset.timestamp(), 6)})
    channel = channel_for(server, client)
    with pytest.raises(Transient) as caught:
        await channel.publish(make_post())
    assert caught.value.retry_after is not None
    assert 110 < caught.value.retry_after <= 120
    assert caught.value.throttled  # waiting out a limit is not a failed attempt
    # The budget is known to be spent: the next attempt waits without asking the server.
    with pytest.raises(Transient) as again:
        await channel.publish(make_post(2))
    assert again.value.retry_after is not None
    assert again.value.retry_after > 100
    assert len(fake.requests_to("statuses")) == 1


async def test_low_budget_stops_before_the_server_says_429(
        fake: FakeMastodon, server: LiveServer, client: httpx.AsyncClient) -> None:
    fake.statuses_limit = 3
    channel = channel_for(server, client)
    await channel.publish(make_post(1))
    with pytest.raises(Transient) as caught:
        await channel.publish(make_post(2, text="Another one", link=None))
    assert caught.value.retry_after is not None
    assert caught.value.retry_after > 0
    assert caught.value.throttled
    assert len(fake.requests_to("statuses")) == 1
    # A process without that knowledge hits the real 429 and gets the same wait.
    fake.statuses_limit = 1
    with pytest.raises(Transient) as real:
        await channel_for(server, client).publish(make_post(3, text="Third", link=None))
    assert real.value.retry_after is not None
    assert real.value.retry_after > 0


async def test_html_gateway_pages_are_classified_and_summarised(
        fake: FakeMastodon, server: LiveServer, client: httpx.AsyncClient,
        images: tuple[Images, str]) -> None:
    _, base = images
    channel = channel_for(server, client)
    fake.fail("media", 502, kind="html")
    with pytest.raises(Transient) as media:   # nothing posted yet: a plain retry is safe
        await channel.publish(make_post(images=[Image(url=f"{base}/img/a.png")]))
    assert not isinstance(media.value, Ambiguous)
    assert "502" in str(media.value)
    assert "<" not in str(media.value)
    fake.fail("statuses", 503, kind="text", body="Service Unavailable")
    with pytest.raises(Transient) as unavailable:
        await channel.publish(make_post())
    assert not isinstance(unavailable.value, Ambiguous)
    fake.fail("statuses", 502, kind="html")   # the gateway may have passed the POST on
    with pytest.raises(Ambiguous):
        await channel.publish(make_post())
    assert not fake.statuses


@pytest.mark.parametrize("mode", ["stall", "drop"])
async def test_lost_answer_is_ambiguous_and_lookup_finds_the_status(
        fake: FakeMastodon, server: LiveServer, client: httpx.AsyncClient, mode: str) -> None:
    fake.slow_after_processing("statuses", mode=mode, seconds=5)  # type: ignore[arg-type]
    channel = channel_for(server, client, timeout="0.5s")
    post = make_post(created_at=datetime.now(UTC))
    with pytest.raises(Ambiguous) as caught:
        await channel.publish(post)
    assert_no_secret(caught.value)
    [status] = fake.statuses.values()
    found = await channel.lookup(post)
    assert found is not None
    assert found.remote_id == status.id
    # And had it not been found, the retry with the same key would not double it.
    assert (await channel.publish(post)).remote_id == status.id
    assert len(fake.statuses) == 1


async def test_unreachable_server_is_transient(client: httpx.AsyncClient) -> None:
    dead = LiveServer(Starlette()).start()
    dead.stop()
    with pytest.raises(Transient) as caught:
        await channel_for(dead, client).publish(make_post())
    assert not isinstance(caught.value, Ambiguous)


# ------------------------------------------------------------------ check and limits

async def test_check_reads_the_account_and_instance_limits(
        fake: FakeMastodon, server: LiveServer, client: httpx.AsyncClient) -> None:
    fake.max_characters, fake.description_limit = 1000, 900
    channel = channel_for(server, client)
    assert channel.limits.max_chars == 500           # nothing read yet
    result = await channel.check()
    assert result.ok, result.summary
    assert result.details["account"] == "@newsroom"
    assert result.details["limits"]["max_chars"] == 1000
    assert (channel.limits.max_chars, channel.limits.alt_max) == (1000, 900)
    assert "@newsroom" in result.summary


async def test_check_falls_back_to_v1_and_honours_config(
        fake: FakeMastodon, server: LiveServer, client: httpx.AsyncClient) -> None:
    fake.instance_v2, fake.max_characters = False, 700
    channel = channel_for(server, client, max_characters=800, spoiler_text="CW")
    result = await channel.check()
    assert result.ok
    assert any(r.route == "instance_v1" for r in fake.requests)
    assert channel.limits.max_chars == 800 - 2       # the config wins; the spoiler counts
    assert any("800" in w and "700" in w for w in result.warnings)


async def test_check_reports_token_and_scope_problems(
        fake: FakeMastodon, server: LiveServer, client: httpx.AsyncClient) -> None:
    fake.add_token("poster-only-token", next(iter(fake.accounts.values())),
                   "write:statuses write:media")
    scoped = await channel_for(server, client, token="poster-only-token").check()
    assert not scoped.ok
    assert "read:accounts" in scoped.summary
    bad = await channel_for(server, client, token="bad-" + TOKEN).check()
    assert not bad.ok
    assert "Preferences → Development" in bad.summary
    assert TOKEN not in bad.summary


# ------------------------------------------------------------------ lookup

async def test_lookup_needs_the_approved_text_not_just_the_link(
        fake: FakeMastodon, server: LiveServer, client: httpx.AsyncClient) -> None:
    channel = channel_for(server, client)
    link = "https://example.org/news?id=7&lang=en"
    ours = make_post(1, text=f"Story {link}&utm_source=mastodon", link=link)
    await channel.publish(ours)
    await channel.publish(make_post(2, text="Other https://example.org/news?id=8&lang=en",
                                    link="https://example.org/news?id=8&lang=en"))
    found = await channel.lookup(ours)
    assert found is not None and fake.statuses[found.remote_id].text.startswith("Story")
    assert found.matched and "approved text" in found.matched
    # the same text with the tracking parameters dropped still matches, said as such
    untagged = await channel.lookup(make_post(1, text=f"Story {link}", link=link))
    assert untagged is not None and untagged.remote_id == found.remote_id
    assert untagged.matched and "tracking" in untagged.matched
    # a colleague's post sharing the link is not ours
    assert await channel.lookup(make_post(3, text=f"Worth a read: {link}", link=link)) is None


async def test_lookup_reads_links_by_href_where_the_server_shortens_their_text(
        fake: FakeMastodon, server: LiveServer, client: httpx.AsyncClient) -> None:
    """GoToSocial writes a link's text without its scheme and cuts it short: the receipt is
    still found, by the link's href, and a different link with the same visible text is not."""
    fake.link_style = "gotosocial"
    channel = channel_for(server, client)
    link = "https://www.example.org/news/2026/03/third-call-for-projects-opens"
    ours = make_post(1, text=f"Our third call is open!\n\n{link} #GreenMobility", link=link)
    receipt = await channel.publish(ours)
    content = fake.statuses[receipt.remote_id].content
    assert f'href="{link}"' in content and f">{link}<" not in content
    found = await channel.lookup(ours)
    assert found_id(found) == receipt.remote_id
    assert found is not None and found.matched and "approved text" in found.matched
    other = link.replace("opens", "closes")
    assert await channel.lookup(make_post(2, text=f"Our third call is open!\n\n{other} "
                                          "#GreenMobility", link=other)) is None


async def test_lookup_by_text_pages_and_stops_at_the_cutoff(
        fake: FakeMastodon, server: LiveServer, client: httpx.AsyncClient) -> None:
    channel = channel_for(server, client)
    target = make_post(1, text="No link here, just words @alice@elsewhere.example", link=None)
    receipt = await channel.publish(target)
    for i in range(45):
        await channel.publish(make_post(100 + i, text=f"filler {i}", link=None))
    assert found_id(await channel.lookup(target)) == receipt.remote_id   # found on the second page
    fake.advance(3600)   # the server's clock runs ahead: the status predates the post
    later = target.model_copy(update={"created_at": datetime.fromtimestamp(fake.now(), UTC)})
    assert await channel.lookup(later) is None


async def test_lookup_without_read_scope_uses_the_public_timeline(
        fake: FakeMastodon, server: LiveServer, client: httpx.AsyncClient) -> None:
    fake.add_token("no-read-statuses", next(iter(fake.accounts.values())),
                   "write read:accounts")
    channel = channel_for(server, client, token="no-read-statuses")
    receipt = await channel.publish(make_post())
    assert found_id(await channel.lookup(make_post())) == receipt.remote_id
    assert any("authorization" not in r.headers for r in fake.requests_to("account_statuses"))


async def test_errors_are_channel_errors(
        fake: FakeMastodon, server: LiveServer, client: httpx.AsyncClient) -> None:
    fake.fail("statuses", 500)
    with pytest.raises(ChannelError):
        await channel_for(server, client).publish(make_post())


# ------------------------------------------------------------------ counting agrees

@pytest.mark.parametrize("text", [
    "👨‍👩‍👧‍👦 family", "e\u0301te\u0301", "see https://example.org/a/long/path?x=1",
    "see https://example.org.", "see example.org", "hi @alice@social.example.net",
    "https://example.org/@bob@x.example", "(see https://en.wikipedia.org/wiki/Foo_(bar))",
    "Visit https://example.org/news?id=7&lang=en&utm_source=x!", "#News @bob_1 mail@example.org",
])
def test_core_counting_matches_the_fakes_mastodon_rule(text: str) -> None:
    """The core renders against `limits`; the fake refuses like Mastodon. They must agree."""
    from bot.fit import count
    from tests.fakes.mastodon_text import status_length

    limits = Limits(max_chars=500, url_weight=23, graphemes=True, mentions_local=True)
    assert count(text, limits, "CW") == status_length(text, "CW")


# ------------------------------------------------------------------ thread mode

def test_split_thread_cuts_on_whitespace_within_the_budget() -> None:
    from bot.fit import count
    from channels.mastodon import split_thread

    limits = Limits(max_chars=60, url_weight=23, graphemes=True, mentions_local=True)
    text = ("First paragraph is short.\n\nSecond one has https://example.org/a/very/long/path"
            "/that/counts/as/23 inside it. And then a second sentence that goes on and on.")
    parts = split_thread(text, limits)
    assert len(parts) > 1
    assert all(count(p, limits) <= 60 for p in parts)
    assert " ".join(" ".join(parts).split()) == " ".join(text.split())
    assert any("https://example.org/a/very/long/path/that/counts/as/23" in p for p in parts)
    with pytest.raises(Permanent):
        split_thread("x" * 61, limits)


async def test_thread_mode_posts_a_reply_chain_once(
        fake: FakeMastodon, server: LiveServer, client: httpx.AsyncClient) -> None:
    fake.max_characters = 100
    channel = channel_for(server, client, thread=True)
    await channel.load_limits()
    assert channel.limits.max_chars == 400
    assert channel.limits.soft_chars == 100
    text = " ".join(f"Sentence number {i} of the release." for i in range(8)) + \
        " More at https://example.org/news/thread"
    post = make_post(text=text, link="https://example.org/news/thread")
    receipt = await channel.publish(post)
    chain = list(fake.statuses.values())
    assert len(chain) > 1
    assert chain[0].id == receipt.remote_id
    assert [s.in_reply_to_id for s in chain] == [None, *[s.id for s in chain[:-1]]]
    keys = [r.headers["idempotency-key"] for r in fake.requests_to("statuses")]
    key = post.idempotency_key
    assert keys == [key, *[f"{key}-part{i}" for i in range(1, len(chain))]]
    assert await channel.publish(post) == receipt     # replayed part by part
    assert len(fake.statuses) == len(chain)
    # the link is in the last part
    assert found_id(await channel.lookup(post)) == receipt.remote_id


@pytest.mark.anyio
async def test_images_on_private_hosts_are_refused_by_default(images: Any) -> None:
    """Image addresses come from feeds: loopback and private hosts are never fetched."""
    _, base = images
    state = FakeMastodon()
    account = state.add_account()
    state.add_token(TOKEN, account, "read write")
    with running(state) as server:
        async with httpx.AsyncClient() as client:
            channel = channel_for(server, client, allow_private_images=False)
            post = make_post(images=[Image(url=f"{base}/img/chart.png", alt="A chart")])
            with pytest.raises(Permanent, match="allow_private_images"):
                await channel.publish(post)
    assert state.statuses == {}


async def test_engagement_reads_the_status_counts(
        fake: FakeMastodon, server: LiveServer, client: httpx.AsyncClient) -> None:
    channel = channel_for(server, client)
    receipt = await channel.publish(make_post())
    status = fake.statuses[receipt.remote_id]
    status.reblogs_count, status.favourites_count, status.replies_count = 4, 9, 1
    assert await channel.engagement(receipt.remote_id) == {"boosts": 4, "favourites": 9,
                                                           "replies": 1}
    with pytest.raises(Permanent):  # a status deleted on the server
        await channel.engagement("999999")


async def test_check_reads_the_account_name_and_avatar(
        server: LiveServer, client: httpx.AsyncClient) -> None:
    check = await channel_for(server, client).check()
    assert check.details["profile"] == {"name": "Newsroom",
                                        "avatar": "https://files.example/avatars/newsroom.png"}
