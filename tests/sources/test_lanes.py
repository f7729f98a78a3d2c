"""Many feeds on one host: each fetch slot has its lane, one kept-alive connection, so a
cycle of a hundred conditional GETs opens one TCP connection per lane, and the next cycle
opens none (`bot.sources.lanes`, `bot.ingest.Limiter`).

The feed site is a real HTTP server on 127.0.0.1 that notes each request's client port: one
port is one TCP connection."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from bot.config import Config, load_config
from bot.ingest import Limiter, SourceReport, fetch_all, poll_source
from bot.sources.lanes import Lanes
from bot.store import Store
from bot.store.sources import SourceState
from tests.fakes.feeds import FeedSite, Page, make_app, rss
from tests.fakes.server import LiveServer
from tests.helpers import make_workspace

FEEDS = 120
LANES = 6


def one_host(tmp_path: Path, url: str) -> Config:
    sources = "".join(f'\n[sources.f{i}]\ntype = "feed"\nurl = "{url}/feed/{i}"\n'
                      'allow_private = true\nbacklog = "skip"\n' for i in range(FEEDS))
    config = load_config(make_workspace(tmp_path, extra=sources).config)
    config.bot.poll_per_host = LANES
    return config


def feed_site() -> FeedSite:
    return FeedSite(pages={f"/feed/{i}": Page(rss([{
        "title": f"Release {i}", "link": f"https://www.example.org/news/{i}",
        "guid": f"release-{i}", "pubDate": "Tue, 10 Mar 2026 08:00:00 GMT",
        "description": "The council agreed."}])) for i in range(FEEDS)})


def test_two_cycles_of_many_feeds_on_one_host_use_one_connection_per_lane(
        tmp_path: Path) -> None:
    """As `pressbot run` polls: one Limiter and one set of lanes for the service's life."""
    site = feed_site()
    refused: list[str] = []

    def shared(request: httpx.Request) -> httpx.Response:   # feeds must not come here
        refused.append(str(request.url))
        return httpx.Response(599)

    async def two_cycles(config: Config, store: Store) -> list[list[SourceReport]]:
        names = [n for n in config.sources if n.startswith("f")]
        cycles: list[list[SourceReport]] = []
        async with Lanes(user_agent="pressbot-test", keep=2 * LANES, expiry=120) as lanes, \
                httpx.AsyncClient(transport=httpx.MockTransport(shared)) as client:
            limiter = Limiter(config.bot.poll_concurrency, LANES, lanes)
            states: dict[str, SourceState | None] = {}
            for _ in range(2):
                reports = await asyncio.gather(*(
                    poll_source(n, config.sources[n], config, store, client, limiter,
                                states.get(n)) for n in names))
                states = {r.name: r.state for r in reports}
                cycles.append(reports)
            assert lanes.opened == LANES
        return cycles

    with LiveServer(make_app(site)) as server:
        config = one_host(tmp_path, server.url)
        store = Store(config.bot.database_url)
        try:
            first, second = asyncio.run(two_cycles(config, store))
        finally:
            store.dispose()
    assert [r.errors for r in first + second if r.errors] == []
    assert sum(r.new for r in first) == FEEDS
    assert all(r.not_modified for r in second)
    assert all(h.get("if-none-match") for h in site.hits("/feed/7")[1:])
    assert len(site.requests) == 2 * FEEDS and refused == []
    assert site.connections() <= LANES   # 240 requests; one pool used to open ~230


def test_a_fetch_cycle_opens_at_most_one_connection_per_lane(tmp_path: Path) -> None:
    """`pressbot fetch` (`fetch_all`): its own lanes, closed when the cycle ends."""
    site = feed_site()
    with LiveServer(make_app(site)) as server:
        config = one_host(tmp_path, server.url)
        store = Store(config.bot.database_url)
        try:
            reports = asyncio.run(fetch_all(config, store))
        finally:
            store.dispose()
    assert [r.errors for r in reports if r.errors] == []
    assert len(site.requests) == FEEDS
    assert site.connections() <= LANES


@pytest.mark.anyio
async def test_past_keep_the_least_lately_used_idle_lane_is_closed_never_a_busy_one() -> None:
    """A thousand hosts polled in turn must not leave a thousand idle sockets open."""
    async with Lanes(user_agent="pressbot-test", keep=2) as lanes:
        busy = await lanes.take(("https", "a.example", 0))
        old = await lanes.take(("https", "b.example", 0))
        lanes.give(("https", "b.example", 0))
        await lanes.take(("https", "c.example", 0))
        assert lanes.open == 2 and old.is_closed and not busy.is_closed
        lanes.give(("https", "c.example", 0))
        again = await lanes.take(("https", "a.example", 0))   # still open: the same client
        assert again is busy and lanes.opened == 3
    assert busy.is_closed and lanes.open == 0
