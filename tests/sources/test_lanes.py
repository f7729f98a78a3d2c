"""Many feeds on one host: each fetch slot has its lane, one kept-alive connection, so a
cycle of a hundred conditional GETs opens one TCP connection per lane, and the next cycle
opens none (`bot.sources.lanes`, `bot.ingest.Limiter`).

The feed site is a real HTTP server on 127.0.0.1 that notes each request's client port: one
port is one TCP connection."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

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


def one_host(tmp_path: Path, url: str, other: str | None = None) -> Config:
    """FEEDS feeds f0… on `url`; with `other`, as many g0… there."""
    hosts = [("f", url)] + ([("g", other)] if other else [])
    sources = "".join(f'\n[sources.{p}{i}]\ntype = "feed"\nurl = "{at}/feed/{i}"\n'
                      'allow_private = true\nbacklog = "skip"\n'
                      for p, at in hosts for i in range(FEEDS))
    config = load_config(make_workspace(tmp_path, extra=sources).config)
    config.bot.poll_concurrency = config.bot.poll_per_host = LANES
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
        async with Lanes(LANES, user_agent="pressbot-test", expiry=120) as lanes, \
                httpx.AsyncClient(transport=httpx.MockTransport(shared)) as client:
            limiter = Limiter(LANES, LANES, lanes)
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


def test_a_slot_takes_the_lane_that_last_talked_to_its_host(tmp_path: Path) -> None:
    """Two hosts polled in turn, one at a time, with two lanes: each host keeps its own
    warm connection (the lane last given back would have swapped them every poll)."""
    sites = [feed_site(), feed_site()]
    with LiveServer(make_app(sites[0])) as one, LiveServer(make_app(sites[1])) as two:
        config = one_host(tmp_path, one.url, two.url)
        turns = [f"{host}{i}" for i in range(20) for host in "fg"]

        async def in_turn(store: Store) -> list[SourceReport]:
            reports = []
            async with Lanes(2, user_agent="pressbot-test", expiry=120) as lanes, \
                    httpx.AsyncClient() as client:
                limiter = Limiter(2, 2, lanes)
                for name in turns:
                    reports.append(await poll_source(name, config.sources[name], config,
                                                     store, client, limiter))
            return reports

        store = Store(config.bot.database_url)
        try:
            reports = asyncio.run(in_turn(store))
        finally:
            store.dispose()
    assert [r.errors for r in reports if r.errors] == []
    assert [len(site.requests) for site in sites] == [20, 20]
    assert [site.connections() for site in sites] == [1, 1]
