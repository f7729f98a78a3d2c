"""The channel contract (`tests/channels/contract.py`) run for every channel.

Each `Test…Contract` class says how to build one channel against its platform: a folder
for the outbox, a list for the memory channel, the fake Mastodon, fake PDS (Bluesky) and fake
Graph over real HTTP, and a real SMTP server for the newsletter. Adding a channel = one more
subclass here.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from bot.config import (
    BlueskyConfig,
    Config,
    EmailConfig,
    FacebookConfig,
    LinkedInConfig,
    MastodonConfig,
)
from bot.models import Image, Post, PostStatus
from channels.base import Channel, Limits
from channels.bluesky import BlueskyChannel
from channels.facebook import FacebookChannel
from channels.linkedin.channel import LinkedInChannel
from channels.mastodon import MastodonChannel
from channels.outbox import OutboxChannel
from tests.channels.contract import ChannelContract, Platform
from tests.channels.memory import MemoryChannel
from tests.fakes import bluesky as fake_pds
from tests.fakes import linkedin as fake_linkedin
from tests.fakes.facebook import FakeGraph, create_app
from tests.fakes.mastodon import FakeMastodon, make_app
from tests.fakes.server import LiveServer

if TYPE_CHECKING:
    from bot.store import Store
    from tests.fakes.smtp import FakeSMTP


def social_post(channel: str, n: int, **fields: object) -> Post:
    """A post with its own text and link per `n`, queued a moment ago."""
    link = f"https://www.example.org/news/contract-{n}"
    now = datetime.now(UTC)
    values: dict[str, object] = {
        "id": n, "channel": channel, "status": PostStatus.PUBLISHING,
        "text": f"Contract post {n}: solar panels on {n * 7} school roofs.\n\n{link}",
        "link": link, "language": "en", "created_at": now, "claimed_at": now} | fields
    return Post.model_validate(values)


# ── outbox (the dry-run channel) ──────────────────────────────────────────────────────────

class OutboxPlatform(Platform):
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def channel(self) -> Channel:
        return OutboxChannel("outbox", Limits(max_chars=500), self.folder)

    def post(self, n: int) -> Post:
        return social_post("outbox", n)

    def held(self, post: Post) -> list[str]:
        # Read every file the outbox wrote, not just the name the channel would pick.
        texts = [p.read_text(encoding="utf-8") for p in sorted(self.folder.rglob("*.txt"))]
        return [t for t in texts if f"\npost: {post.id}\n" in t]


class TestOutboxContract(ChannelContract):
    @pytest.fixture
    def platform(self, tmp_path: Path) -> Platform:
        return OutboxPlatform(tmp_path / "outbox")


# ── memory (the core tests' channel) ──────────────────────────────────────────────────────

class MemoryPlatform(Platform):
    def __init__(self) -> None:
        self.sent: list[Post] = []

    def channel(self) -> Channel:
        return MemoryChannel(sent=self.sent)

    def post(self, n: int) -> Post:
        return social_post("memory", n)

    def held(self, post: Post) -> list[str]:
        return [p.text for p in self.sent if p.id == post.id]


class TestMemoryContract(ChannelContract):
    @pytest.fixture
    def platform(self) -> Platform:
        return MemoryPlatform()


# ── Mastodon, against the fake over real HTTP ─────────────────────────────────────────────

MASTODON_TOKEN = "contract-mastodon-token-5150"


class MastodonPlatform(Platform):
    secret = MASTODON_TOKEN

    def __init__(self, fake: FakeMastodon, url: str, client: httpx.AsyncClient) -> None:
        self.fake, self.url, self.client = fake, url, client

    def _build(self, token: str) -> MastodonChannel:
        config = MastodonConfig(type="mastodon", base_url=self.url, access_token=token,
                                timeout="3s")
        return MastodonChannel("mastodon", config, self.client, poll_interval=0.01)

    def channel(self) -> Channel:
        return self._build(MASTODON_TOKEN)

    def post(self, n: int) -> Post:
        return social_post("mastodon", n)

    def held(self, post: Post) -> list[str]:
        with self.fake.lock:
            return [s.text for s in self.fake.statuses.values() if post.link in s.text]

    def refused(self) -> tuple[Channel, str]:
        revoked = "revoked-mastodon-token-8080"
        return self._build(revoked), revoked


class Swap:
    """An ASGI app that forwards to whichever fake the current test installed, so one
    server (started once per module) serves a fresh fake to every test."""

    def __init__(self) -> None:
        self.app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


@pytest.fixture(scope="module")
def mastodon_server() -> Iterator[tuple[LiveServer, Swap]]:
    swap = Swap()
    with LiveServer(swap) as live:
        yield live, swap


def mastodon_platform(served: tuple[LiveServer, Swap], client: httpx.AsyncClient,
                      **options: Any) -> MastodonPlatform:
    server, swap = served
    fake = FakeMastodon(**options)
    fake.add_token(MASTODON_TOKEN, fake.add_account("newsroom"), "read write")
    swap.app = make_app(fake)
    return MastodonPlatform(fake, server.url, client)


class TestMastodonContract(ChannelContract):
    @pytest.fixture
    def platform(self, mastodon_server: tuple[LiveServer, Swap],
                 client: httpx.AsyncClient) -> Platform:
        return mastodon_platform(mastodon_server, client)


class TestMastodonIgnoringKeysContract(TestMastodonContract):
    """Servers that ignore Idempotency-Key (Takahē, some forks): lookup must carry it."""

    @pytest.fixture
    def platform(self, mastodon_server: tuple[LiveServer, Swap],
                 client: httpx.AsyncClient) -> Platform:
        return mastodon_platform(mastodon_server, client, ignore_idempotency=True)

    async def test_publishing_twice_holds_one_publication(self, platform: Platform) -> None:
        # Without a key, a second `publish` posts again: the publisher's reconcile (lookup
        # before any retry) is what keeps it single. The contract's weaker form holds.
        post = platform.post(1)
        receipt = await platform.channel().publish(post)
        found = await platform.channel().lookup(post)
        assert found is not None
        assert found.remote_id == receipt.remote_id
        assert len(platform.held(post)) == 1


# ── Bluesky, against the fake PDS over real HTTP ──────────────────────────────────────────

BLUESKY_PASSWORD = "cntr-bsky-pass-5150"


class BlueskyPlatform(Platform):
    secret = BLUESKY_PASSWORD

    def __init__(self, fake: fake_pds.FakePDS, url: str, client: httpx.AsyncClient) -> None:
        self.fake, self.url, self.client = fake, url, client

    def _build(self, password: str) -> BlueskyChannel:
        config = BlueskyConfig(type="bluesky", pds_url=self.url, handle="newsroom.example.org",
                               app_password=password, timeout="3s")
        return BlueskyChannel("bluesky", config, self.client)

    def channel(self) -> Channel:
        return self._build(BLUESKY_PASSWORD)

    def post(self, n: int) -> Post:
        return social_post("bluesky", n)

    def held(self, post: Post) -> list[str]:
        # The link is in a facet (the text shows it short): read the records' facets.
        with self.fake.lock:
            return [r.value["text"] for r in self.fake.records.values()
                    if any(f.get("uri") == post.link for facet in r.value.get("facets", [])
                           for f in facet["features"])]

    def refused(self) -> tuple[Channel, str]:
        revoked = "revk-bsky-pass-8080"
        return self._build(revoked), revoked


@pytest.fixture(scope="module")
def pds_server() -> Iterator[tuple[LiveServer, Swap]]:
    swap = Swap()
    with LiveServer(swap) as live:
        yield live, swap


class TestBlueskyContract(ChannelContract):
    @pytest.fixture
    def platform(self, pds_server: tuple[LiveServer, Swap],
                 client: httpx.AsyncClient) -> Platform:
        server, swap = pds_server
        fake = fake_pds.FakePDS()
        fake.add_account("newsroom.example.org", BLUESKY_PASSWORD)
        swap.app = fake_pds.make_app(fake)
        return BlueskyPlatform(fake, server.url, client)


# ── Facebook, against the fake Graph over real HTTP ───────────────────────────────────────

class FacebookPlatform(Platform):
    def __init__(self, graph: FakeGraph, url: str, client: httpx.AsyncClient,
                 post_as: str = "link") -> None:
        self.graph, self.url, self.client, self.post_as = graph, url, client, post_as
        self.secret = graph.page_token

    def _build(self, token: str) -> FacebookChannel:
        config = FacebookConfig(type="facebook", page_id=self.graph.page_id,
                                page_access_token=token, graph_url=self.url, timeout="3s",
                                post_as=self.post_as)
        return FacebookChannel("facebook", config, self.client)

    def channel(self) -> Channel:
        return self._build(self.graph.page_token)

    def post(self, n: int) -> Post:
        if self.post_as == "photo":
            image = Image(url=self.graph.add_image(f"roof-{n}.png"), alt=f"Roof {n}")
            return social_post("facebook", n, images=[image])
        return social_post("facebook", n)

    def held(self, post: Post) -> list[str]:
        return [p.message for p in self.graph.live_posts()
                if p.link == post.link or (post.link or "") in p.message]

    def refused(self) -> tuple[Channel, str]:
        unknown = "EAAGnot-a-token-the-page-knows-31337"
        return self._build(unknown), unknown


@pytest.fixture(scope="module")
def graph_server() -> Iterator[LiveServer]:
    with LiveServer(create_app(FakeGraph())) as live:
        yield live


def fresh_graph(server: LiveServer) -> FakeGraph:
    """A new fake Page behind the module's one server."""
    graph = FakeGraph()
    graph.base_url = server.url
    server.app.state.fake = graph
    return graph


class TestFacebookContract(ChannelContract):
    @pytest.fixture
    def platform(self, graph_server: LiveServer, client: httpx.AsyncClient) -> Platform:
        return FacebookPlatform(fresh_graph(graph_server), graph_server.url, client)


class TestFacebookPhotoContract(ChannelContract):
    """`post_as = "photo"` publishes in one phase, so it keeps its own promise of once."""

    @pytest.fixture
    def platform(self, graph_server: LiveServer, client: httpx.AsyncClient) -> Platform:
        return FacebookPlatform(fresh_graph(graph_server), graph_server.url, client,
                                post_as="photo")


# ── LinkedIn, against the fake LinkedIn over real HTTP ────────────────────────────────────

LINKEDIN_TOKEN = "AQVcontract-linkedin-token-4242"


def unescaped(commentary: str) -> str:
    """A commentary as a reader sees it: little text's escapes and hashtag templates undone
    (written here, not taken from the channel, so the contract reads the platform)."""
    import re

    text = re.sub(r"\{hashtag\|\\#\|([^}]*)\}", r"#\1", commentary)
    return re.sub(r"\\(.)", r"\1", text)


class LinkedInPlatform(Platform):
    secret = LINKEDIN_TOKEN

    def __init__(self, fake: fake_linkedin.FakeLinkedIn, url: str,
                 client: httpx.AsyncClient) -> None:
        self.fake, self.url, self.client = fake, url, client

    def _build(self, token: str) -> LinkedInChannel:
        config = LinkedInConfig(type="linkedin", organization_id=self.fake.organization_id,
                                access_token=token, api_url=self.url, oauth_url=self.url,
                                api_version="202608", timeout="3s")
        return LinkedInChannel("linkedin", config, self.client, poll_interval=0.01)

    def channel(self) -> Channel:
        return self._build(LINKEDIN_TOKEN)

    def post(self, n: int) -> Post:
        return social_post("linkedin", n, title=f"Contract release {n}")

    def held(self, post: Post) -> list[str]:
        return [unescaped(p.commentary) for p in self.fake.posts_of()
                if ((p.content or {}).get("article") or {}).get("source") == post.link
                or (post.link or "") in unescaped(p.commentary)]

    def refused(self) -> tuple[Channel, str]:
        revoked = "AQVnot-a-token-linkedin-knows-8080"
        return self._build(revoked), revoked


@pytest.fixture(scope="module")
def linkedin_server() -> Iterator[tuple[LiveServer, Swap]]:
    swap = Swap()
    with LiveServer(swap) as live:
        yield live, swap


class TestLinkedInContract(ChannelContract):
    @pytest.fixture
    def platform(self, linkedin_server: tuple[LiveServer, Swap],
                 client: httpx.AsyncClient) -> Platform:
        server, swap = linkedin_server
        fake = fake_linkedin.FakeLinkedIn(detect_duplicates=False)
        fake.add_token(value=LINKEDIN_TOKEN)
        swap.app = fake_linkedin.make_app(fake)
        return LinkedInPlatform(fake, server.url, client)


# ── the email newsletter, against a real SMTP server ──────────────────────────────────────

SMTP_PASSWORD = "contract-smtp-password-2718"


class EmailPlatform(Platform):
    """One subscriber, so each publication of a post is exactly one message."""

    secret = SMTP_PASSWORD

    def __init__(self, store: Store, fake: FakeSMTP) -> None:
        from bot import subscribers

        self.store, self.fake = store, fake
        self._posts: dict[int, Post] = {}
        subscribers.add(store, "reader@example.net", name="Reader")

    def _build(self, password: str) -> Channel:
        from channels.email import EmailChannel, SmtpConnector

        cfg = EmailConfig.model_validate({
            "type": "email", "smtp_host": "127.0.0.1", "smtp_port": self.fake.port,
            "security": "none", "username": "news", "password": password,
            "from": "Example News <news@example.org>", "timeout": "5s"})
        config = Config(bot={"database_url": self.store.url,
                             "public_url": "https://news.example.org",
                             "secret_key": "contract-signing-key-0123456789"},
                        channels={"newsletter": cfg})
        return EmailChannel("newsletter", cfg, config=config, store=self.store,
                            smtp=SmtpConnector(cfg, local_hostname="client.test"),
                            retry_base=0.02, retry_max=0.05)

    def channel(self) -> Channel:
        return self._build(SMTP_PASSWORD)

    def post(self, n: int) -> Post:
        from bot.store import posts as post_store

        if n not in self._posts:
            with self.store.begin() as conn:
                post_id = post_store.insert(
                    conn, channel="newsletter", status=PostStatus.APPROVED, actor="test",
                    release_id=None, title=f"Contract {n}", subject=f"Contract newsletter {n}",
                    text=f"Contract newsletter {n}: the spring report.\n\n"
                         "Unsubscribe: %%UNSUBSCRIBE_URL%%")
                self._posts[n] = post_store.require(conn, post_id)
        return self._posts[n]

    def held(self, post: Post) -> list[str]:
        found = []
        for received in list(self.fake.messages):
            message = BytesParser(policy=policy.default).parsebytes(received.data)
            if str(message["Message-ID"]).startswith(f"<pressbot.{post.id}."):
                body = message.get_body(("plain",))
                found.append(body.get_content() if body is not None else "")
        return found

    def refused(self) -> tuple[Channel, str]:
        wrong = "not-the-smtp-password-1618"
        return self._build(wrong), wrong


def email_available() -> bool:
    try:
        import channels.email  # noqa: F401
        import tests.fakes.smtp  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.skipif(not email_available(), reason="channels.email or tests.fakes.smtp absent")
class TestEmailContract(ChannelContract):
    @pytest.fixture
    def platform(self, tmp_path: Path) -> Iterator[Platform]:
        from bot.store import Store
        from tests.fakes.smtp import FakeSMTP

        store = Store(f"sqlite:///{tmp_path}/pressbot.db")
        server = FakeSMTP(users={"news": SMTP_PASSWORD}, plain_auth=True)
        try:
            with server.running() as fake:
                yield EmailPlatform(store, fake)
        finally:
            store.dispose()
