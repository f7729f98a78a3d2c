"""The review page's channel switches: a paused channel says why and how to fix it, a
reviewer can stop everything, an editor lets it flow again — and the publisher obeys."""

from __future__ import annotations

import asyncio

from starlette.testclient import TestClient

from bot import workflow
from bot.config import Config
from bot.publisher import Publisher
from bot.store import Store
from bot.store import channels as channel_store
from tests.channels.memory import MemoryChannel
from tests.web.conftest import csrf_of, sign_in


def test_a_paused_channel_is_shown_with_its_fix_and_an_editor_resumes_it(
        client: TestClient, store: Store, posts: dict[str, int]) -> None:
    with store.begin() as conn:
        channel_store.pause(conn, "mastodon", by="system", reason="Mastodon answered 401",
                            hint="set MASTODON_TOKEN")
    sign_in(client, "rita")
    page = client.get("/").text
    assert "Channel mastodon is paused" in page and "set MASTODON_TOKEN" in page
    assert "Resume mastodon" not in page                 # a reviewer cannot resume
    refused = client.post("/channels/mastodon/resume", data={"csrf": csrf_of(page)})
    assert refused.status_code == 403

    client.post("/signout", data={"csrf": csrf_of(page)})
    sign_in(client, "ed")
    page = client.get("/").text
    assert "Resume mastodon" in page
    done = client.post("/channels/mastodon/resume", data={"csrf": csrf_of(page)})
    assert done.status_code == 303
    with store.begin() as conn:
        assert not channel_store.states(conn)["mastodon"].paused
    assert "is paused" not in client.get("/").text


def test_pause_every_channel_stops_the_publisher_until_resumed(
        client: TestClient, store: Store, config: Config, posts: dict[str, int]) -> None:
    sign_in(client, "rita")
    page = client.get("/").text
    without_token = client.post("/channels/pause-all", data={})
    assert without_token.status_code == 403             # CSRF first
    assert client.post("/channels/pause-all",
                       data={"csrf": csrf_of(page)}).status_code == 303
    assert "Every channel is paused" in client.get("/").text

    with store.begin() as conn:
        for post_id in posts.values():
            workflow.approve(conn, config, post_id, "rita")
    channels = {name: MemoryChannel(name) for name in config.channels}
    publisher = Publisher(config, store, channels)      # type: ignore[arg-type]
    report = asyncio.run(publisher.run_once())
    assert report.published == [] and all(not c.sent for c in channels.values())

    with store.begin() as conn:
        assert channel_store.resume(conn, channel_store.ALL, by="ed")
    report = asyncio.run(publisher.run_once())
    assert sorted(report.published) == sorted(posts.values())
