"""The Bluesky session kept in the store, refreshed on a bounded interval and on resume.

Against the fake PDS over real HTTP, with a real SQLite store. A new channel object on the
same store stands for the next `pressbot publish` run from cron. The PDS here behaves as the
reference one does: a revoked app password kills its refresh tokens, not the access tokens
already out (`access_survives`).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from bot.config import BlueskyConfig
from bot.store import Store
from channels.base import AuthFailed
from channels.bluesky import BlueskyChannel
from tests.channels.test_bluesky import HANDLE, PASSWORD, make_post
from tests.fakes.bluesky import FakePDS, running
from tests.fakes.server import LiveServer

pytestmark = pytest.mark.anyio
CREATE, REFRESH = "com.atproto.server.createSession", "com.atproto.server.refreshSession"


@pytest.fixture
def fake() -> FakePDS:
    state = FakePDS()
    state.add_account(HANDLE, PASSWORD)
    return state


@pytest.fixture
def server(fake: FakePDS) -> Iterator[LiveServer]:
    with running(fake) as live:
        yield live


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store(f"sqlite:///{tmp_path}/pressbot.db")
    yield opened
    opened.dispose()


def channel(server: LiveServer, client: httpx.AsyncClient, store: Store,
            password: str = PASSWORD) -> BlueskyChannel:
    config = BlueskyConfig.model_validate({
        "type": "bluesky", "pds_url": server.url, "handle": HANDLE, "app_password": password,
        "timeout": "3s"})
    return BlueskyChannel("bluesky", config, client, store=store)


async def test_one_sign_in_serves_many_publish_runs(
        fake: FakePDS, server: LiveServer, client: httpx.AsyncClient, store: Store) -> None:
    for n in range(1, 4):   # three cron runs: three processes, one store
        await channel(server, client, store).publish(make_post(n))
    assert len(fake.records) == 3
    assert len(fake.requests_to(CREATE)) == 1
    raw = store.engine.raw_connection()
    try:
        stored = raw.execute("SELECT value FROM meta WHERE key = 'bluesky-session:bluesky'"
                             ).fetchone()[0]
    finally:
        raw.close()
    assert PASSWORD not in stored   # the session's tokens, never the app password
    assert repr(channel(server, client, store)).count("fake-") == 0


async def test_a_session_past_its_age_is_refreshed_and_a_revoked_password_stops_posting(
        fake: FakePDS, server: LiveServer, client: httpx.AsyncClient, store: Store,
        monkeypatch: pytest.MonkeyPatch) -> None:
    running_channel = channel(server, client, store)   # the service's, kept across posts
    await running_channel.publish(make_post(1))
    monkeypatch.setenv("PRESSBOT_CLOCK", (datetime.now(UTC) + timedelta(minutes=5))
                       .isoformat())
    await running_channel.publish(make_post(2))   # young enough: no refresh
    assert not fake.requests_to(REFRESH)
    fake.revoke(PASSWORD, access_survives=True)
    monkeypatch.setenv("PRESSBOT_CLOCK", (datetime.now(UTC) + timedelta(minutes=20))
                       .isoformat())
    with pytest.raises(AuthFailed):
        await running_channel.publish(make_post(3))
    assert len(fake.records) == 2
    assert len(fake.requests_to(REFRESH)) == 1


async def test_resuming_renews_the_session_and_check_does_not_trust_a_stored_one(
        fake: FakePDS, server: LiveServer, client: httpx.AsyncClient, store: Store) -> None:
    await channel(server, client, store).publish(make_post(1))
    fake.revoke(PASSWORD, access_survives=True)
    checked = await channel(server, client, store).check()
    assert not checked.ok
    resumed = channel(server, client, store)
    await resumed.renew_session()   # what the service does to a resumed channel
    with pytest.raises(AuthFailed):
        await resumed.publish(make_post(2))
    assert len(fake.records) == 1
    # a new app password, put in the config, is the one that signs in
    fake.accounts[next(iter(fake.accounts))].app_passwords.add("wxyz-wxyz-wxyz-wxyz")
    fixed = channel(server, client, store, password="wxyz-wxyz-wxyz-wxyz")
    await fixed.renew_session()
    await fixed.publish(make_post(3))
    assert len(fake.records) == 2
