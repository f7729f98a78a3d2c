"""Mastodon uploads survive a crash between upload and status: reused, or deleted later.

Media uploads have no idempotency key. A process killed after its upload and before its
status used to leave the upload unattached for good on servers that never expire them
(Takahē). Against the fake Mastodon over real HTTP with a real SQLite store; a new channel
object on the same store is the restarted process, the first one simply dropped (its memory
gone, as after SIGKILL).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from bot.config import MastodonConfig
from bot.models import Image
from bot.store import Store
from channels.base import Transient
from channels.mastodon import MastodonChannel
from tests.channels.test_mastodon import TOKEN, Images, make_post
from tests.fakes.mastodon import FakeMastodon, running
from tests.fakes.server import LiveServer

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


@pytest.fixture
def images() -> Iterator[str]:
    static = Images()
    with LiveServer(Starlette(routes=[Route("/img/{name}", static.serve)])) as live:
        yield live.url


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store(f"sqlite:///{tmp_path}/pressbot.db")
    yield opened
    opened.dispose()


def process(server: LiveServer, client: httpx.AsyncClient, store: Store) -> MastodonChannel:
    """A channel as a freshly started process builds it."""
    config = MastodonConfig(type="mastodon", base_url=server.url, access_token=TOKEN,
                            timeout="3s", allow_private_images=True)
    return MastodonChannel("mastodon", config, client, store=store, poll_interval=0.01)


def unattached(fake: FakeMastodon) -> list[str]:
    return [m.id for m in fake.media.values() if m.status_id is None]


async def test_an_upload_made_before_a_crash_is_attached_by_the_retry(
        fake: FakeMastodon, server: LiveServer, client: httpx.AsyncClient, store: Store,
        images: str) -> None:
    post = make_post(1, images=[Image(url=f"{images}/img/hall.png", alt="The town hall")])
    fake.fail("statuses", 429, headers={"Retry-After": "1"})   # the status is not made
    with pytest.raises(Transient):
        await process(server, client, store).publish(post)   # then the process dies
    [uploaded] = unattached(fake)
    receipt = await process(server, client, store).publish(post)   # the restarted one
    assert fake.statuses[receipt.remote_id].media_ids == [uploaded]
    assert len(fake.requests_to("media")) == 1
    assert unattached(fake) == []


async def test_an_upload_no_retry_uses_is_deleted_by_a_later_process(
        fake: FakeMastodon, server: LiveServer, client: httpx.AsyncClient, store: Store,
        images: str, monkeypatch: pytest.MonkeyPatch) -> None:
    rejected = make_post(1, images=[Image(url=f"{images}/img/hall.png", alt="The hall")])
    fake.fail("statuses", 429, headers={"Retry-After": "1"})
    with pytest.raises(Transient):
        await process(server, client, store).publish(rejected)   # then rejected by a person
    assert len(unattached(fake)) == 1
    monkeypatch.setenv("PRESSBOT_CLOCK", (datetime.now(UTC) + timedelta(hours=1)).isoformat())
    await process(server, client, store).publish(make_post(2))   # the next start sweeps
    assert unattached(fake) == []
    assert len(fake.requests_to("media_delete")) == 1
