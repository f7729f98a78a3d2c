"""Hostile feeds on the host of many healthy ones: one that trickles, one far over the size
limit, one malformed, one dropped mid-answer, one answering 500. Each fails alone, with its
own reason, kept in its state and logged once; the healthy feeds go on, and a trickling feed
gives its slot up while others wait (`bot.poll_share`).

The feed site is a real HTTP server on 127.0.0.1 (`tests.fakes.feeds`). Order is proven by
what the server is doing when each poll ends, and time by a clock the test moves, never by
a stopwatch."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import Config, load_config
from bot.errors import SourceError
from bot.ingest import SourceReport, fetch_all
from bot.sources.http import fetch
from bot.store import Store
from bot.store import sources as source_store
from tests.fakes.feeds import FeedSite, Page, make_app, rss
from tests.fakes.server import LiveServer
from tests.helpers import make_workspace

HEALTHY = 8


def item(i: int) -> dict[str, str]:
    return {"title": f"Release {i}", "link": f"https://www.example.org/news/{i}",
            "guid": f"release-{i}", "pubDate": "Tue, 10 Mar 2026 08:00:00 GMT",
            "description": "The council agreed."}


def site_with(**hostile: Page) -> FeedSite:
    pages = {f"/feed/{i}": Page(rss([item(i)])) for i in range(HEALTHY)}
    return FeedSite(pages={**pages, **{f"/{name}": page for name, page in hostile.items()}})


def config_for(tmp_path: Path, url: str, hostile: dict[str, str], *, slots: int = 2) -> Config:
    """The hostile sources first in line (they take the slots before the others), then
    HEALTHY feeds f0…, all on one host with `slots` slots."""
    tables = [f'[sources.{name}]\ntype = "feed"\nurl = "{url}/{name}"\nallow_private = true\n'
              f"{more}\n" for name, more in hostile.items()]
    tables += [f'[sources.f{i}]\ntype = "feed"\nurl = "{url}/feed/{i}"\nallow_private = true\n'
               for i in range(HEALTHY)]
    config = load_config(make_workspace(tmp_path, extra="\n" + "\n".join(tables)).config)
    config.bot.poll_concurrency = config.bot.poll_per_host = slots
    return config


def poll_all(config: Config, on_done: Callable[[SourceReport], None] | None = None,
             clock: list[float] | None = None) -> dict[str, SourceReport]:
    """One `fetch_all`; with `clock`, the event loop's time runs `clock[0]` seconds ahead of
    the real one, for `on_done` to move on."""
    store = Store(config.bot.database_url)

    async def run() -> list[SourceReport]:
        if clock is not None:
            loop = asyncio.get_running_loop()
            real = loop.time
            loop.time = lambda: real() + clock[0]  # type: ignore[method-assign]
        return await fetch_all(config, store, on_done=on_done)

    try:
        return {r.name: r for r in asyncio.run(run()) if r.name != "press"}
    finally:
        store.dispose()


def test_with_two_slots_the_healthy_feeds_are_all_polled_while_one_trickles_and_it_times_out_alone(
        tmp_path: Path) -> None:
    """The trickle takes a slot first and keeps it (nobody waits long enough for a share to
    matter): every healthy feed is polled through the other slot while the trickle is
    still being written. Then the clock moves past the trickle's `timeout`, and it ends as
    a timeout of that source alone."""
    site = site_with(trickle=Page(rss([item(99)] * 50), trickle=0.05))
    clock = [0.0]
    open_when_done: dict[str, bool] = {}

    def done(report: SourceReport) -> None:
        with site.lock:
            open_when_done[report.name] = "/trickle" in site.streaming
        if all(f"f{i}" in open_when_done for i in range(HEALTHY)):
            clock[0] = 3600.0   # past any timeout: only the trickle is still in flight

    with LiveServer(make_app(site)) as server:
        config = config_for(tmp_path, server.url, {"trickle": 'timeout = "10m"'})
        config.bot.poll_share = timedelta(minutes=1)
        reports = poll_all(config, done, clock)
    healthy = [reports[f"f{i}"] for i in range(HEALTHY)]
    assert all(r.ok and r.new == 1 for r in healthy), [r.errors for r in healthy]
    assert all(open_when_done[f"f{i}"] for i in range(HEALTHY)), open_when_done
    trickle = reports["trickle"]
    assert trickle.fatal and len(trickle.errors) == 1
    assert "within 600 s" in trickle.errors[0], trickle.errors
    assert site.sent["/trickle"] < len(site.pages["/trickle"].body)


def test_trickling_feeds_holding_every_slot_give_them_up_to_the_feeds_waiting(
        tmp_path: Path) -> None:
    """Two slots, both taken by feeds that send their head and then a byte now and then,
    with a timeout of ten minutes: the healthy feeds can only be polled once the trickles
    give their slots up (`bot.poll_share`), which they do, each failing alone."""
    slow = Page(rss([item(99)] * 50), trickle=0.05)
    site = site_with(t1=slow, t2=slow)
    order: list[str] = []

    with LiveServer(make_app(site)) as server:
        config = config_for(tmp_path, server.url, {"t1": 'timeout = "10m"',
                                                   "t2": 'timeout = "10m"'})
        config.bot.poll_share = timedelta(seconds=1)
        reports = poll_all(config, lambda report: order.append(report.name))
    assert all(reports[f"f{i}"].ok for i in range(HEALTHY))
    first = min(order.index("t1"), order.index("t2"))
    assert all(order.index(f"f{i}") > first for i in range(HEALTHY)), order
    for name in ("t1", "t2"):
        assert reports[name].fatal and len(reports[name].errors) == 1
        assert "gave up its fetch slot" in reports[name].errors[0]
        assert "bytes of its answer" in reports[name].errors[0]
        assert "bot.poll_share" in reports[name].errors[0]


def test_a_huge_answer_is_cut_off_at_the_limit_not_read_to_its_end(tmp_path: Path) -> None:
    """An endless body without a declared length: the fetch stops counting at `max_bytes`
    and hangs up; the server wrote a small multiple of the limit (socket buffers), never
    the rest."""
    import httpx

    chunk = b"<item><title>x</title></item>" * 2000   # 58 kB
    site = FeedSite(pages={"/huge": Page(chunk, endless=True)})
    limit = 1_000_000

    async def get(url: str) -> None:
        async with httpx.AsyncClient() as client:
            await fetch(client, f"{url}/huge", max_bytes=limit, private_host="127.0.0.1")

    with LiveServer(make_app(site)) as server:
        with pytest.raises(SourceError, match="over the limit of 1,000,000 bytes"):
            asyncio.run(get(server.url))
        for _ in range(500):   # the server notices the hang-up on its next write
            with site.lock:
                if "/huge" in site.ended:
                    break
            time.sleep(0.01)
    assert "/huge" in site.ended
    assert limit < site.sent["/huge"] < 64 * limit


def test_hostile_feeds_each_fail_alone_reported_once_while_the_others_go_on(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Trickling, huge, malformed, dropped and 500 on one host with the healthy feeds and
    two slots: each hostile feed fails with its own reason, kept in its stored state and
    logged in one warning line; every healthy feed is read, and logs no warning. (The
    trickle, if still open when all the others are done, is let run to its timeout by the
    clock.)"""
    caplog.set_level(logging.WARNING, logger="pressbot")
    site = site_with(
        trickle=Page(rss([item(99)] * 50), trickle=0.05),
        huge=Page(b"<item><title>x</title></item>" * 2000, endless=True),
        malformed=Page(b'<?xml version="1.0"?><rss version="2.0"><channel><title>Broken & <'),
        dropped=Page(rss([item(98)] * 20), drop=True),
        error=Page(b"<h1>Internal Server Error</h1>", status=500))
    reasons = {"trickle": "", "huge": "over the limit of 100,000 bytes",
               "malformed": "not a well-formed feed", "dropped": "connection failed",
               "error": "server answered HTTP 500"}
    clock = [0.0]
    done: set[str] = set()

    others = {*reasons, *(f"f{i}" for i in range(HEALTHY))} - {"trickle"}

    def polled(report: SourceReport) -> None:   # the trickle alone left: its timeout comes
        done.add(report.name)
        if others <= done:
            clock[0] = 3600.0

    with LiveServer(make_app(site)) as server:
        config = config_for(tmp_path, server.url, {
            "trickle": 'timeout = "10m"', "huge": "max_bytes = 100000", "malformed": "",
            "dropped": "", "error": ""})
        config.bot.poll_share = timedelta(seconds=1)
        reports = poll_all(config, polled, clock)
    assert all(reports[f"f{i}"].ok and reports[f"f{i}"].new == 1 for i in range(HEALTHY))
    for name, reason in reasons.items():
        assert reports[name].fatal and len(reports[name].errors) == 1, reports[name]
        assert reason in reports[name].errors[0], (name, reports[name].errors)
    # cut while others waited (a loaded machine), else at its own timeout
    assert re.search(r"gave up its fetch slot|within 600 s", reports["trickle"].errors[0])
    store = Store(config.bot.database_url)
    try:
        with store.begin() as conn:
            states = source_store.all_states(conn)
    finally:
        store.dispose()
    for name, reason in reasons.items():
        assert reason in (states[name].last_error or "") and states[name].failures == 1
    assert all(states[f"f{i}"].last_error is None for i in range(HEALTHY))
    warned = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    for name in reasons:
        assert sum(f"source={name} " in line for line in warned) == 1, warned
    assert not [line for line in warned if "source=f" in line], warned
