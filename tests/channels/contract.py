"""One behaviour suite that every channel passes, the way Django tests each mail backend.

The interface promises little (`publish`, `lookup`, `check`, declared `limits`), but the
publisher's exactly-once guarantee rests on all of it: `publish` is safe to call twice,
`lookup` finds an earlier publication from a fresh process, and no error carries a secret.
A test module proves a channel by subclassing `ChannelContract` once and giving it a
`platform` fixture that returns a `Platform`: how to build the channel, which posts to send,
and what the platform itself holds. Every assertion about publishing reads the platform's
side (fake server state, outbox files, the memory list), never only the receipts, so a
channel that hands out the same receipt while posting twice fails.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod

import pytest

from bot.models import Post, Receipt
from channels.base import Channel, ChannelError, Check, Limits


class Platform(ABC):
    """What the contract needs to know about one channel and the platform behind it."""

    secret: str | None = None
    """A credential the working channel holds (token, password); None when it has none."""

    @abstractmethod
    def channel(self) -> Channel:
        """A new channel object with valid credentials, as a fresh process would build it.

        Objects from successive calls share the platform (the same fake, folder or list) but
        nothing else, so `lookup` from a second object proves the platform is read.
        """

    @abstractmethod
    def post(self, n: int) -> Post:
        """A publishable post, different in id, text and link for each `n`."""

    @abstractmethod
    def held(self, post: Post) -> list[str]:
        """The platform's publications of `post`, one text per publication."""

    def marker(self, post: Post) -> str:
        """A piece of the post's text each publication must show (its first line)."""
        return post.text.strip().splitlines()[0]

    def refused(self) -> tuple[Channel, str] | None:
        """A channel whose credentials the platform refuses, and that credential.

        None when the channel has no credentials (outbox, memory): the secret tests skip.
        """
        return None


class ChannelContract:
    """Mixin of the contract's tests; subclasses provide the `platform` fixture.

    The name does not start with `Test`, so importing it collects nothing by itself.
    """

    pytestmark = pytest.mark.anyio

    @pytest.fixture
    def platform(self) -> Platform:
        pytest.fail("a ChannelContract subclass must define a `platform` fixture")

    # ── the interface ──────────────────────────────────────────────────────────────────────

    async def test_declares_the_interface(self, platform: Platform) -> None:
        channel = platform.channel()
        assert isinstance(channel, Channel)
        assert isinstance(channel.name, str)
        assert channel.name
        assert isinstance(channel.limits, Limits)
        assert channel.limits.max_chars is None or channel.limits.max_chars > 0
        assert channel.limits.max_images >= 0

    async def test_check_with_valid_credentials_is_ok(self, platform: Platform) -> None:
        result = await platform.channel().check()
        assert isinstance(result, Check)
        assert result.ok, result.summary
        assert isinstance(result.summary, str)
        assert result.summary.strip()

    # ── publish ────────────────────────────────────────────────────────────────────────────

    async def test_publish_returns_a_receipt_and_the_platform_holds_the_post(
            self, platform: Platform) -> None:
        post = platform.post(1)
        assert platform.held(post) == []
        receipt = await platform.channel().publish(post)
        assert isinstance(receipt, Receipt)
        assert isinstance(receipt.remote_id, str)
        assert receipt.remote_id.strip()
        [text] = platform.held(post)
        assert platform.marker(post) in text

    async def test_publishing_twice_holds_one_publication(self, platform: Platform) -> None:
        post = platform.post(1)
        channel = platform.channel()
        first = await channel.publish(post)
        second = await channel.publish(post)
        # A restarted process knows nothing of the first call: the platform must tell it.
        third = await platform.channel().publish(post)
        assert len(platform.held(post)) == 1
        assert first.remote_id == second.remote_id == third.remote_id

    async def test_different_posts_are_different_publications(self, platform: Platform) -> None:
        one, two = platform.post(1), platform.post(2)
        channel = platform.channel()
        first = await channel.publish(one)
        second = await channel.publish(two)
        assert first.remote_id != second.remote_id
        assert len(platform.held(one)) == 1
        assert len(platform.held(two)) == 1

    # ── lookup ─────────────────────────────────────────────────────────────────────────────

    async def test_lookup_finds_the_publication_from_a_fresh_channel(
            self, platform: Platform) -> None:
        post = platform.post(1)
        receipt = await platform.channel().publish(post)
        found = await platform.channel().lookup(post)
        assert isinstance(found, Receipt)
        assert found.remote_id == receipt.remote_id

    async def test_lookup_of_a_post_never_published_is_none(self, platform: Platform) -> None:
        channel = platform.channel()
        never = platform.post(2)
        assert await channel.lookup(never) is None      # an empty platform
        await channel.publish(platform.post(1))
        assert await platform.channel().lookup(never) is None   # another post is not this one
        assert platform.held(never) == []                # and looking up published nothing

    # ── secrets ────────────────────────────────────────────────────────────────────────────

    async def test_refused_credentials_fail_without_the_secret(
            self, platform: Platform, caplog: pytest.LogCaptureFixture) -> None:
        bad = platform.refused()
        if bad is None:
            pytest.skip("this channel has no credentials to refuse")
        channel, secret = bad
        caplog.set_level(logging.DEBUG)
        caplog.set_level(logging.DEBUG, logger="httpx")
        result = await channel.check()
        assert not result.ok
        post = platform.post(1)
        with pytest.raises(ChannelError) as caught:
            await channel.publish(post)
        assert platform.held(post) == []
        shown = [result.summary, repr(result.details), repr(result.warnings), repr(channel),
                 str(caught.value), repr(caught.value), str(getattr(caught.value, "hint", "")),
                 str(caught.value.__cause__ or ""), caplog.text,
                 *(r.getMessage() for r in caplog.records)]
        for text in shown:
            assert secret not in text

    async def test_the_working_secret_is_never_shown(
            self, platform: Platform, caplog: pytest.LogCaptureFixture) -> None:
        if platform.secret is None:
            pytest.skip("this channel has no credentials")
        caplog.set_level(logging.DEBUG)
        caplog.set_level(logging.DEBUG, logger="httpx")
        channel = platform.channel()
        result = await channel.check()
        receipt = await channel.publish(platform.post(1))
        for text in (repr(channel), result.summary, repr(result.details),
                     repr(result.warnings), repr(receipt), caplog.text):
            assert platform.secret not in text
