"""The publisher: durable claims, retries, holds, reconcile, order, replicas."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.config import load_config
from bot.models import PostStatus, Release
from bot.publisher import Publisher, backoff
from bot.store import Store, posts, releases
from bot.workflow import queue_release
from channels.base import Ambiguous, Permanent, Transient
from tests.channels.memory import MemoryChannel
from tests.helpers import make_workspace

S = PostStatus
CHANNEL = """
[channels.memory]
type = "outbox"
like = "mastodon"
approval = "auto"
"""


_opened: list[Store] = []


@pytest.fixture(autouse=True)
def _dispose_stores() -> Iterator[None]:
    yield
    while _opened:
        _opened.pop().dispose()


def setup(tmp_path: Path, database_url: str, n: int = 3) -> tuple[Store, object]:
    ws = make_workspace(tmp_path, database_url=database_url, channels=CHANNEL)
    config = load_config(ws.config)
    store = Store(config.bot.database_url)
    _opened.append(store)
    with store.begin() as conn:
        for i in range(n):
            r = Release(source="press", key=f"r{i}", title=f"Release {i}",
                        url=f"https://www.example.org/{i}", summary="Short.")
            queue_release(conn, config, releases.insert(conn, r), r, None)
    return store, config


def statuses(store: Store) -> list[str]:
    with store.begin() as conn:
        return [p.status for p in posts.listing(conn)]


async def drain(publisher: Publisher, passes: int = 50) -> None:
    for _ in range(passes):
        await publisher.run_once()
        await asyncio.sleep(0.06)


@pytest.mark.anyio
async def test_posts_go_out_once_in_queue_order(tmp_path: Path, database_url: str) -> None:
    store, config = setup(tmp_path, database_url, n=5)
    channel = MemoryChannel()
    publisher = Publisher(config, store, {"memory": channel})  # type: ignore[arg-type]
    await drain(publisher, 8)
    assert [p.title for p in channel.sent] == [f"Release {i}" for i in range(5)]
    assert statuses(store) == ["published"] * 5
    with store.begin() as conn:
        first = posts.require(conn, 1)
        events = [e["action"] for e in posts.list_events(conn, post_id=1)]
    assert first.remote_id == "m-1" and first.remote_url == "memory://1"
    assert events == ["published", "claim", "queued"]


@pytest.mark.anyio
async def test_transient_errors_retry_then_publish(tmp_path: Path, database_url: str) -> None:
    store, config = setup(tmp_path, database_url, n=1)
    channel = MemoryChannel(script=lambda post, n: Transient("503", retry_after=0.05)
                            if n < 3 else None)
    publisher = Publisher(config, store, {"memory": channel})  # type: ignore[arg-type]
    await drain(publisher, 20)
    assert statuses(store) == ["published"] and channel.calls == 3 and len(channel.sent) == 1


@pytest.mark.anyio
async def test_too_many_transient_errors_hold_the_post(tmp_path: Path,
                                                      database_url: str) -> None:
    store, config = setup(tmp_path, database_url, n=1)
    config.bot.max_attempts = 3  # type: ignore[attr-defined]
    channel = MemoryChannel(script=lambda post, n: Transient("down", retry_after=0.01))
    publisher = Publisher(config, store, {"memory": channel})  # type: ignore[arg-type]
    await drain(publisher, 20)
    with store.begin() as conn:
        post = posts.require(conn, 1)
    assert post.status == "held" and "gave up after 3 attempts" in (post.last_error or "")


@pytest.mark.anyio
async def test_permanent_error_holds_with_the_hint(tmp_path: Path, database_url: str) -> None:
    store, config = setup(tmp_path, database_url, n=2)
    channel = MemoryChannel(script=lambda post, n: Permanent(
        "token expired", "create a new token and set MASTODON_TOKEN") if post.id == 1 else None)
    publisher = Publisher(config, store, {"memory": channel})  # type: ignore[arg-type]
    await drain(publisher, 4)
    with store.begin() as conn:
        held = posts.require(conn, 1)
    assert held.status == "held" and "set MASTODON_TOKEN" in (held.last_error or "")
    assert statuses(store) == ["held", "published"]  # a held post does not block the channel


@pytest.mark.anyio
async def test_ambiguous_outcome_is_looked_up_not_reposted(tmp_path: Path,
                                                          database_url: str) -> None:
    store, config = setup(tmp_path, database_url, n=1)
    channel = MemoryChannel(fail_after_send=True,
                            script=lambda post, n: Ambiguous("read timeout") if n == 1 else None)
    publisher = Publisher(config, store, {"memory": channel})  # type: ignore[arg-type]
    await drain(publisher, 10)
    assert statuses(store) == ["published"]
    assert channel.calls == 1 and channel.lookups == 1 and len(channel.sent) == 1
    with store.begin() as conn:
        actions = [e["action"] for e in posts.list_events(conn, post_id=1)]
    assert "reconciled" in actions


@pytest.mark.anyio
async def test_a_dead_workers_claim_is_reconciled_after_the_lease(
        tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    start = datetime.now(UTC)   # the clock stands still until the test moves it
    monkeypatch.setenv("PRESSBOT_CLOCK", start.isoformat())
    store, config = setup(tmp_path, database_url, n=1)
    config.bot.lease = timedelta(seconds=0.3)  # type: ignore[attr-defined]
    channel = MemoryChannel()
    dead = Publisher(config, store, {"memory": channel}, worker="dead")  # type: ignore[arg-type]
    claimed = dead.claim()  # the worker claims, sends, and dies before recording
    await channel.publish(claimed[0][0])
    alive = Publisher(config, store, {"memory": channel}, worker="alive")  # type: ignore[arg-type]
    await alive.run_once()
    assert statuses(store) == ["publishing"]  # lease still live: nobody touches it
    monkeypatch.setenv("PRESSBOT_CLOCK", (start + timedelta(seconds=0.4)).isoformat())
    await alive.run_once()
    assert statuses(store) == ["published"]
    assert channel.calls == 1 and channel.lookups == 1


@pytest.mark.anyio
async def test_unexpected_adapter_errors_never_lose_the_post(tmp_path: Path,
                                                            database_url: str) -> None:
    store, config = setup(tmp_path, database_url, n=1)
    channel = MemoryChannel(script=lambda post, n: KeyError("bug") if n == 1 else None)
    publisher = Publisher(config, store, {"memory": channel})  # type: ignore[arg-type]
    await drain(publisher, 10)
    assert statuses(store) == ["published"] and channel.lookups == 1


@pytest.mark.anyio
async def test_a_post_for_a_removed_channel_is_held(tmp_path: Path, database_url: str) -> None:
    store, config = setup(tmp_path, database_url, n=1)
    publisher = Publisher(config, store, {})
    await publisher.run_once()
    with store.begin() as conn:
        post = posts.require(conn, 1)
    assert post.status == "held" and "not configured" in (post.last_error or "")


def test_backoff_grows_with_jitter_and_honours_retry_after() -> None:
    base, cap = timedelta(seconds=1), timedelta(seconds=60)
    for attempt, ceiling in [(1, 1), (2, 2), (3, 4), (10, 60)]:
        delays = {backoff(attempt, base, cap).total_seconds() for _ in range(50)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays) and len(delays) > 1
    assert 30 <= backoff(1, base, cap, retry_after=30).total_seconds() <= 33.1


def test_replicas_on_postgresql_publish_each_post_exactly_once(tmp_path: Path,
                                                              pg_url: str) -> None:
    store, config = setup(tmp_path, pg_url, n=0)
    with store.begin() as conn:
        for i in range(200):
            r = Release(source="press", key=f"r{i}", title=f"R{i}", summary="s",
                        url=f"https://www.example.org/{i}")
            queue_release(conn, config, releases.insert(conn, r), r, None)
    channels = {name: MemoryChannel(name=name) for name in ("a", "b", "c")}
    sent: list[int] = []
    lock = threading.Lock()

    class Shared(MemoryChannel):
        async def publish(self, post):  # type: ignore[no-untyped-def]
            with lock:
                sent.append(post.id)
            await asyncio.sleep(0.001)
            return await super().publish(post)

    def replica(worker: str) -> None:
        own_store = Store(pg_url)
        publisher = Publisher(config, own_store, {"memory": Shared()},  # type: ignore[arg-type]
                              worker=worker)

        async def go() -> None:
            for _ in range(400):
                report = await publisher.run_once()
                if not report.published and not statuses(own_store).count("approved"):
                    break

        asyncio.run(go())
        own_store.dispose()

    threads = [threading.Thread(target=replica, args=(f"w{i}",)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sorted(sent) == list(range(1, 201))  # every post once, none twice
    assert statuses(store) == ["published"] * 200
    assert channels  # the unused per-name channels only name the replicas' accounts


@pytest.mark.anyio
async def test_a_transient_error_that_made_progress_does_not_count(tmp_path: Path,
                                                                  database_url: str) -> None:
    """A newsletter throttled per hour makes progress on every pass: it must never be held."""
    store, config = setup(tmp_path, database_url, n=1)
    config.bot.max_attempts = 2  # type: ignore[attr-defined]
    channel = MemoryChannel(script=lambda post, n: Transient(
        f"{10 - n} remaining", retry_after=0.01, progressed=True) if n < 6 else None)
    publisher = Publisher(config, store, {"memory": channel})  # type: ignore[arg-type]
    await drain(publisher, 30)
    assert statuses(store) == ["published"] and channel.calls == 6


@pytest.mark.anyio
async def test_waiting_out_a_rate_limit_does_not_count_as_a_failure(tmp_path: Path,
                                                                   database_url: str) -> None:
    """Mastodon's 300 statuses per 3 hours: the post waits its turn, it is never held."""
    store, config = setup(tmp_path, database_url, n=1)
    config.bot.max_attempts = 2  # type: ignore[attr-defined]
    channel = MemoryChannel(script=lambda post, n: Transient(
        "rate limit nearly used", retry_after=0.01, throttled=True) if n < 5 else None)
    publisher = Publisher(config, store, {"memory": channel})  # type: ignore[arg-type]
    await drain(publisher, 30)
    assert statuses(store) == ["published"] and channel.calls == 5
